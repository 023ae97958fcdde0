"""Job lifecycle events: read back from the capped streams, and watched with resume tokens.

The queue scripts write each event twice (lua/common.lua `emit`): as proto3
JSON of `jobmesh.events.v1.Event` on the seed channel, and as an entry of the
queue's capped event stream. Watchers read the streams: a resume token holds
the last entry id seen per queue, so a reconnect misses nothing the streams
still hold, and says so (FailedPreconditionError) when they no longer do.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Final, cast

import redis.asyncio as aioredis
from google.protobuf import json_format
from google.protobuf.any_pb2 import Any as AnyMsg

from jobmesh.events.v1 import event_pb2, job_events_pb2
from queue_system.errors import FailedPreconditionError, FieldViolation, InvalidArgumentError
from queue_system.failure import timestamp_ms
from queue_system.keys import EntryField
from queue_system.queue import RedisQueue
from queue_system.tokens import decode_token, encode_token

log = logging.getLogger(__name__)

READ_COUNT = 500
BLOCK_MS = 5000


# The type of each event's data, by event name (the stream entries leave it out).
DATA_TYPE: Final = {
    "job_dead_lettered": job_events_pb2.JobDeadLettered,
    **{
        name: job_events_pb2.QueueControl
        for name in ("queue_paused", "queue_resumed", "queue_drained", "queue_cleaned")
    },
}


_SERVICE: Final = EntryField.EVENT_SERVICE.encode()
_NAME: Final = EntryField.EVENT_NAME.encode()
_DATA: Final = EntryField.EVENT_DATA.encode()


def event_from_entry(entry_id: bytes, fields: Mapping[bytes, bytes]) -> event_pb2.Event:
    """An Event from one event-stream entry (fields in EntryField); its time from the entry id.

    Fields the contract does not know (written by a newer version) are skipped,
    so an older reader never fails on them.
    """
    name = fields[_NAME].decode()
    message = DATA_TYPE.get(name, job_events_pb2.JobLifecycle)()
    json_format.Parse(fields[_DATA].decode(), message, ignore_unknown_fields=True)
    data = AnyMsg()
    data.Pack(message)
    ts = timestamp_ms(int(entry_id.split(b"-", 1)[0]))
    return event_pb2.Event(service=fields[_SERVICE].decode(), event=name, data=data, timestamp=ts)


def resume_positions(token: str, queues: Sequence[str]) -> dict[str, str]:
    """Per-queue stream positions held by a resume token (only the watched queues)."""
    raw = decode_token(token, "resume_token")
    if not all(isinstance(v, str) for v in raw.values()):
        raise InvalidArgumentError([FieldViolation("resume_token", "is not a token this service issued")])
    return {q: str(raw[q]) for q in queues if q in raw}


async def _last_id(client: aioredis.Redis, stream: str) -> str:
    last = cast(list[tuple[bytes, Any]], await client.xrevrange(stream, count=1))
    return last[0][0].decode() if last else "0-0"


async def _check_retained(client: aioredis.Redis, queue: str, stream: str, after: str) -> None:
    """Fail when entries after `after` may have been trimmed away (the token is too old)."""
    if after == "0-0" or await client.xrange(stream, after, after):
        return
    first = cast(list[tuple[bytes, Any]], await client.xrange(stream, count=1))
    if first and first[0][0].decode() > after:
        raise FailedPreconditionError(
            f"resume token for {queue} is older than the events still kept; watch again without it",
            "RESUME_TOKEN_EXPIRED",
            queue,
        )


async def starting_positions(
    client: aioredis.Redis, queues: Sequence[RedisQueue], resume_token: str
) -> dict[str, str]:
    """Where each queue's stream is read from: the token's ids, else the current ends."""
    names = [q.name for q in queues]
    given = resume_positions(resume_token, names)
    positions = {}
    for q in queues:
        if q.name in given:
            await _check_retained(client, q.name, q.keys.events, given[q.name])
            positions[q.name] = given[q.name]
        else:
            positions[q.name] = await _last_id(client, q.keys.events)
    return positions


async def follow(
    client: aioredis.Redis,
    queues: Sequence[RedisQueue],
    positions: dict[str, str],
    names: frozenset[str] = frozenset(),
) -> AsyncIterator[tuple[str, event_pb2.Event]]:
    """Every event after `positions`, forever: (resume token after it, event)."""
    by_stream = {q.keys.events: q.name for q in queues}
    while True:
        streams = {stream: positions[queue] for stream, queue in by_stream.items()}
        got = cast(
            list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]],
            await client.xread(streams, count=READ_COUNT, block=BLOCK_MS),  # type: ignore[arg-type]
        )
        for stream, entries in got or []:
            queue = by_stream[stream.decode()]
            for entry_id, fields in entries:
                positions[queue] = entry_id.decode()
                if names and fields[_NAME].decode() not in names:
                    continue
                try:
                    event = event_from_entry(entry_id, fields)
                except (KeyError, ValueError, json_format.ParseError) as exc:
                    # one bad entry must never end a watch (nor every resume after it)
                    log.warning("skipping event %s of %s that does not parse: %s", entry_id, queue, exc)
                    continue
                yield encode_token(positions), event
