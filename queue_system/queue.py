"""One queue's operations on Redis: thin, typed calls of the Lua scripts.

`RedisQueue` knows a queue's keys and the identity of its caller (consumer
name, service) and nothing about handlers or gRPC. Producers, consumers and
the QueueManager all go through it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

import redis.asyncio as aioredis

from queue_system.catalog import domain_channel
from queue_system.keys import CONSUMER_GROUP, QueueKeys
from queue_system.options import RetentionArgs
from queue_system.scripts import QueueScripts

FETCHED, EMPTY, PAUSED, LIMITED = 1, 0, 2, 3
# Record headers of the batch blobs enqueue.lua and complete.lua unpack (see there).
_ENQUEUE_RECORD: Final = struct.Struct(">HBII")
_COMPLETE_RECORD: Final = struct.Struct(">BBHBIIII")
JOB_FIELDS: Final = 6  # lane, sid, id, envelope, attempts made, deliveries


@dataclass(slots=True)
class Delivery:
    """A job handed to this consumer: where its entry is and what it carries."""

    lane: int
    sid: bytes
    job_id: str
    envelope: bytes
    attempts_made: int
    deliveries: int


@dataclass(slots=True)
class Fetch:
    """What a fetch found: jobs, or why there were none."""

    status: int
    deliveries: list[Delivery]
    wait_ms: int = 0
    last_ids: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job ready to add: its id, encoded envelope, lane and delay."""

    job_id: str
    envelope: bytes
    lane: int
    delay_ms: int


@dataclass(frozen=True, slots=True)
class Finished:
    """A job whose handler succeeded, to acknowledge."""

    lane: int
    sid: bytes
    job_id: str
    retention: RetentionArgs
    run_ms: int
    result: bytes = b""


@dataclass(slots=True)
class Counts:
    """Jobs by state plus liveness, as counts.lua reports them."""

    waiting_by_lane: list[int]
    active_by_lane: list[int]
    delayed: int
    completed: int
    failed: int
    paused: bool
    workers: int
    dead_lettered: int

    @property
    def waiting(self) -> int:
        return sum(self.waiting_by_lane)

    @property
    def active(self) -> int:
        return sum(self.active_by_lane)


def _deliveries(flat: Sequence[Any], start: int) -> list[Delivery]:
    out = []
    for i in range(start, len(flat), JOB_FIELDS):
        out.append(
            Delivery(
                int(flat[i]),
                flat[i + 1],
                flat[i + 2].decode(),
                flat[i + 3],
                int(flat[i + 4]),
                int(flat[i + 5]),
            )
        )
    return out


class RedisQueue:
    """The operations of one named queue, as one caller (service + consumer) sees them."""

    def __init__(
        self,
        client: aioredis.Redis,
        scripts: QueueScripts,
        prefix: str,
        queue: str,
        *,
        service: str,
        consumer: str = "",
        emit_events: bool = True,
    ) -> None:
        self.client = client
        self.scripts = scripts
        self.name = queue
        self.keys = QueueKeys(prefix, queue)
        self.consumer = consumer
        k = self.keys
        self._keys = [
            *k.lanes,
            k.delayed,
            k.completed,
            k.failed,
            k.paused,
            k.limiter,
            k.events,
            k.dead_letters,
            k.workers,
            k.stats,
            k.ready,
        ]
        self._head: list[str] = [
            k.job_prefix,
            CONSUMER_GROUP,
            consumer,
            service,
            domain_channel(queue),
            queue,
            "1" if emit_events else "0",
        ]

    async def _run(self, script: str, *args: Any, client: Any = None) -> Any:
        return await self.scripts[script](
            keys=self._keys, args=[*self._head, *args], client=client or self.client
        )

    # -- producing ---------------------------------------------------------
    async def enqueue(self, jobs: Sequence[NewJob], client: Any = None) -> list[bool]:
        """Add jobs; per job True when added, False when its id already existed."""
        blob = b"".join(
            _ENQUEUE_RECORD.pack(len(ids := j.job_id.encode()), j.lane, j.delay_ms, len(j.envelope))
            + ids
            + j.envelope
            for j in jobs
        )
        res = await self._run("enqueue", blob, client=client)
        return [bool(x) for x in res] if isinstance(res, list) else []

    # -- consuming ---------------------------------------------------------
    async def fetch(self, want: int, limit_max: int = 0, limit_ms: int = 0) -> Fetch:
        res = await self._run("fetch", want, limit_max, limit_ms)
        status = int(res[0])
        if status == FETCHED:
            return Fetch(FETCHED, _deliveries(res, 1))
        if status == LIMITED:
            return Fetch(LIMITED, [], wait_ms=int(res[1]))
        if status == PAUSED:
            return Fetch(PAUSED, [])
        return Fetch(EMPTY, [], last_ids=tuple(res[1:5]))

    async def reclaim(self, min_idle_ms: int, want: int, max_deliveries: int, idle: bool) -> list[Delivery]:
        """Take over jobs of dead workers; a last-chance job comes alone, and only when `idle`."""
        return _deliveries(
            await self._run("reclaim", min_idle_ms, want, max_deliveries, "1" if idle else "0"), 0
        )

    async def renew(self, held: Iterable[tuple[int, bytes]]) -> set[bytes]:
        """Renew leases; returns the entry ids this consumer no longer holds."""
        args: list[Any] = []
        for lane, sid in held:
            args += (lane, sid)
        lost = await self._run("renew", len(args) // 2, *args)
        return set(lost)

    async def release(self, held: Iterable[tuple[int, bytes, str]]) -> int:
        args: list[Any] = []
        for lane, sid, job_id in held:
            args += (lane, sid, job_id)
        return int(await self._run("release", len(args) // 3, *args))

    async def complete(self, done: Sequence[Finished]) -> list[bool]:
        parts = []
        for f in done:
            r, job_id = f.retention, f.job_id.encode()
            parts.append(
                _COMPLETE_RECORD.pack(
                    f.lane, len(f.sid), len(job_id), r.mode, r.count, r.age_ms, f.run_ms, len(f.result)
                )
            )
            parts += (f.sid, job_id, f.result)
        return [bool(x) for x in await self._run("complete", b"".join(parts))]

    async def retry(
        self, d: Delivery, *, attempts_made: int, error: bytes, backoff_ms: int, reason: str, run_ms: int
    ) -> bool:
        return bool(
            await self._run(
                "retry", d.lane, d.sid, d.job_id, attempts_made, error, backoff_ms, reason, run_ms
            )
        )

    async def dead_letter(
        self,
        d: Delivery,
        *,
        attempts_made: int,
        error: bytes,
        failed_job: bytes,
        reason: str,
        detail: str,
        retention: RetentionArgs,
    ) -> bool:
        return bool(
            await self._run(
                "deadletter",
                d.lane,
                d.sid,
                d.job_id,
                attempts_made,
                error,
                failed_job,
                reason,
                detail,
                d.deliveries,
                retention.mode,
                retention.count,
                retention.age_ms,
            )
        )

    async def promote(self, limit: int = 1000) -> tuple[int, int]:
        """Move due delayed jobs to their lanes: (moved, ms until the next is due or -1)."""
        moved, wait = await self._run("promote", limit)
        return int(moved), int(wait)

    async def progress(self, d: Delivery, percent: float) -> bool:
        return bool(await self._run("progress", d.job_id, d.lane, d.sid, repr(float(percent))))

    async def janitor(self, silent_ms: int) -> int:
        return int(await self._run("janitor", silent_ms))

    # -- operating ---------------------------------------------------------
    async def counts(self, alive_ms: int) -> Counts:
        r = [int(x) for x in await self._run("counts", alive_ms)]
        return Counts(r[0:8:2], r[1:8:2], r[8], r[9], r[10], bool(r[11]), r[12], r[13])

    async def set_paused(self, paused: bool, request_id: str = "") -> None:
        await self._run("control", "pause" if paused else "resume", request_id)

    async def cancel(self, job_id: str) -> tuple[int, dict[bytes, bytes]]:
        """(1, fields) removed; (0, {}) unknown; (-1, {}) finished; (-2, {}) running."""
        res = await self._run("cancel", job_id)
        flat = res[1:]
        return int(res[0]), dict(zip(flat[0::2], flat[1::2], strict=True))

    async def sweep(
        self, lane: int, cursor: str, chunk: int, before_ms: int, cap: int
    ) -> tuple[list[str], str]:
        """Remove waiting jobs of one lane from `cursor`: (removed ids, next cursor or '')."""
        res = await self._run("sweep", lane, cursor, chunk, before_ms, cap)
        return [x.decode() for x in res[2:]], res[1].decode() if res[1] else ""

    async def prune(
        self, which: Literal["delayed", "completed", "failed"], before_ms: int, cap: int
    ) -> list[str]:
        return [x.decode() for x in await self._run("prune", which, before_ms, cap)]

    async def requeue(
        self, which: Literal["failed", "completed"], limit: int, job_ids: Sequence[str]
    ) -> list[str]:
        return [x.decode() for x in await self._run("requeue", which, limit, *job_ids)]

    async def job_fields(self, job_id: str) -> dict[bytes, bytes]:
        return cast(dict[bytes, bytes], await self.client.hgetall(self.keys.job(job_id)))
