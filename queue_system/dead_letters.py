"""Dead-letter intake: dlq-svc reads each queue's dead-letter stream, and says when it is done.

A queue writes a `FailedJob` to its durable stream (`QueueKeys.dead_letters`)
in the same script that takes the job off its lane, so no dead letter is lost
between the two. `DeadLetterReader` reads those streams through one consumer
group (keys.DEAD_LETTER_GROUP) shared by every dlq-svc process: each record
goes to one reader, and stays pending until the reader acknowledges it, so a
reader that dies mid-record leaves it to another (taken over once idle past
`reclaim_ms`, as the queues do with jobs). Records stay in the stream after
acknowledgement: it is the history dlq-svc can always read again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import redis.asyncio as aioredis
from google.protobuf.message import DecodeError
from redis.exceptions import ResponseError

from jobmesh.jobs.v1 import failure_pb2
from queue_system.keys import DEAD_LETTER_GROUP, EntryField, QueueKeys

log = logging.getLogger(__name__)

_JOB_ID: Final = EntryField.DEAD_JOB_ID.encode()
_RECORD: Final = EntryField.DEAD_RECORD.encode()
Entries = list[tuple[bytes, dict[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """One dead letter as read from a queue's stream (acknowledge it with DeadLetterReader.ack)."""

    queue: str
    entry_id: str  # its id in the queue's dead-letter stream
    job_id: str
    failed: failure_pb2.FailedJob | None  # None when the record does not decode (`problem` says why)
    problem: str = ""


class DeadLetterReader:
    """Reads the dead-letter streams of `queues` as consumer `consumer` of the dlq-svc group."""

    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str,
        queues: Sequence[str],
        consumer: str,
        *,
        reclaim_ms: int = 60_000,
    ) -> None:
        self.client = client
        self.consumer = consumer
        self.reclaim_ms = reclaim_ms
        self.streams = {QueueKeys(prefix, q).dead_letters: q for q in queues}

    async def ensure_group(self) -> None:
        """Create the group on every stream (from the first record), unless it exists."""
        await ensure_groups(self.client, self.streams, DEAD_LETTER_GROUP, start="0")

    async def read(self, count: int = 100, block_ms: int = 1000) -> list[DeadLetterRecord]:
        """Records not yet acknowledged: first those a silent reader held too long, then new ones.

        Blocks up to `block_ms` when there is nothing; each record comes to one
        reader of the group, and comes again (to whoever reads) if it is not
        acknowledged within `reclaim_ms`.
        """
        out: list[DeadLetterRecord] = []
        for stream, queue in self.streams.items():
            if len(out) >= count:
                break
            reply = await self.client.xautoclaim(
                stream, DEAD_LETTER_GROUP, self.consumer, self.reclaim_ms, "0-0", count=count - len(out)
            )
            out += [_record(queue, e) for e in cast(Entries, reply[1]) if e[1]]
        if out:
            return out
        got = await self.client.xreadgroup(
            DEAD_LETTER_GROUP,
            self.consumer,
            cast(Any, dict.fromkeys(self.streams, ">")),
            count=count,
            block=block_ms,
        )
        for name, entries in cast(list[tuple[bytes, Entries]], got or []):
            queue = self.streams[name.decode()]
            out += [_record(queue, e) for e in entries]
        return out

    async def ack(self, records: Sequence[DeadLetterRecord]) -> int:
        """Acknowledge records the reader is done with; how many were still pending."""
        done = 0
        for stream, queue in self.streams.items():
            ids = [r.entry_id for r in records if r.queue == queue]
            if ids:
                done += int(await self.client.xack(stream, DEAD_LETTER_GROUP, *ids))
        return done


async def ensure_groups(client: aioredis.Redis, streams: Iterable[str], group: str, *, start: str) -> None:
    """Create `group` on every stream (reading from `start`: "0" all, "$" from now on),
    creating empty streams too; a group that exists already is left as it is."""
    for stream in streams:
        try:
            await client.xgroup_create(stream, group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


def _record(queue: str, entry: tuple[bytes, dict[bytes, bytes]]) -> DeadLetterRecord:
    entry_id, fields = entry
    job_id = fields.get(_JOB_ID, b"").decode()
    try:
        failed = failure_pb2.FailedJob.FromString(fields[_RECORD])
    except (KeyError, DecodeError) as exc:
        log.warning("dead letter %s of %s does not decode: %r", entry_id, queue, exc)
        problem = f"the record does not decode: {exc!r}"
        return DeadLetterRecord(queue, entry_id.decode(), job_id, None, problem)
    return DeadLetterRecord(queue, entry_id.decode(), job_id, failed)
