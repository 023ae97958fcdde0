"""Where dead letters live: Redis hashes with indexes and counters, changed only by scripts.

A dead letter is one hash (its `DeadLetter` record plus the values it is
indexed by) in sorted sets by queue, category, risk, status and strategy
(scored by the time it was received: lists are newest first), counted in one
hash of counters (GetDeadLetterStats reads it in one call). Every change runs
in one Lua script: a capture stores a record once however often it is read
(its id is the stream entry it came from), and a decision applies only if the
dead letter still has the status the decider read (two operators, or an
operator and the scheduler, never both move it). Retention trims oldest first.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Final, cast

import redis.asyncio as aioredis

from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.dlq.v1 import dead_letter_pb2 as dpb
from queue_system.index_page import IndexPages
from queue_system.keys import DeadLetterField, DeadLetterKeys

F = DeadLetterField
_RECORD: Final = F.RECORD.encode()


def _script(name: str) -> str:
    return (files("dlq_svc") / "lua" / f"{name}.lua").read_text()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def status_name(status: int) -> str:
    return dpb.DeadLetterStatus.Name(status)


def category_name(category: int) -> str:
    return cpb.ErrorCategory.Name(category)


def risk_name(risk: int) -> str:
    return cpb.RiskLevel.Name(risk)


def dead_letter_id(queue: str, entry_id: str) -> str:
    """A dead letter's id: its source queue and its entry in that queue's dead-letter stream."""
    return f"{queue}/{entry_id}"


def job_ref(d: dpb.DeadLetter) -> str:
    """ "<queue>/<job id>": the job a dead letter is of (its retries are counted under it)."""
    return f"{d.failed_job.queue}/{d.failed_job.job_id}"


@dataclass(frozen=True, slots=True)
class Filters:
    """ListDeadLetters' and RedriveDeadLetters' filters; empty means any."""

    queue: str = ""
    category: int = 0
    risks: tuple[int, ...] = ()  # any of these RiskLevels
    status: int = 0
    strategy_id: str = ""
    dimensions: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        named = {
            "queue": self.queue,
            "category": category_name(self.category) if self.category else "",
            "status": status_name(self.status) if self.status else "",
            "strategy": self.strategy_id,
        }
        object.__setattr__(self, "dimensions", {k: v for k, v in named.items() if v})


class DeadLetterStore:
    """The dead letters of one QUEUE_PREFIX."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.keys = DeadLetterKeys(prefix)
        self._capture = client.register_script(_script("capture"))
        self._decide = client.register_script(_script("decide"))
        self._trim = client.register_script(_script("trim"))
        self._pages = IndexPages(client, self.keys.all)

    def _capture_call(self, d: dpb.DeadLetter) -> tuple[list[str], list[Any]]:
        k, fj = self.keys, d.failed_job
        category, risk, status = category_name(d.category), risk_name(d.risk), status_name(d.status)
        keys = [
            k.record(d.dead_letter_id),
            k.all,
            k.by("queue", fj.queue),
            k.by("category", category),
            k.by("risk", risk),
            k.by("status", status),
            k.by("strategy", d.strategy_id) if d.strategy_id else k.record(d.dead_letter_id),
            k.counts,
            k.due,
            k.of_job(fj.job_id),
        ]
        retry_at = d.retry_at.ToMilliseconds() if d.HasField("retry_at") else 0
        args: list[Any] = [
            d.dead_letter_id, d.SerializeToString(), fj.queue, category, risk, status, d.strategy_id,
            d.received_at.ToMilliseconds(), retry_at, job_ref(d),
            F.RECORD, F.QUEUE, F.CATEGORY, F.RISK, F.STATUS, F.STRATEGY, F.RECEIVED_AT, F.JOB,
        ]  # fmt: skip
        return keys, args

    async def capture(self, d: dpb.DeadLetter) -> bool:
        """Store a new dead letter (its status and retry_at as decided); False when it was stored before."""
        keys, args = self._capture_call(d)
        return bool(await self._capture(keys=keys, args=args))

    async def capture_many(self, letters: Sequence[dpb.DeadLetter]) -> list[bool]:
        """`capture` for each, in one round trip (each still stored once, whatever the others do)."""
        if not letters:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for d in letters:
                keys, args = self._capture_call(d)
                await self._capture(keys=keys, args=args, client=pipe)
            return [bool(r) for r in await pipe.execute()]

    async def retries_of_many(self, jobs: Sequence[tuple[str, str]]) -> list[int]:
        """Times dlq-svc put each (queue, job id) back on its queue so far, in one call."""
        if not jobs:
            return []
        got = cast(
            list[bytes | None], await self.client.hmget(self.keys.retries, [f"{q}/{j}" for q, j in jobs])
        )
        return [int(g or 0) for g in got]

    async def of_jobs(self, job_ids: Sequence[str], limit: int) -> list[str]:
        """Ids of the dead letters stored for `job_ids`, newest first, at most `limit`, in one round
        trip. A job still being retried has none yet: it is simply not named."""
        if not job_ids or limit <= 0:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for job in dict.fromkeys(job_ids):
                pipe.zrevrange(self.keys.of_job(job), 0, limit - 1, withscores=True)
            found = cast(list[list[tuple[bytes, float]]], await pipe.execute())
        newest = sorted((pair for pairs in found for pair in pairs), key=lambda p: p[1], reverse=True)
        return [i.decode() for i, _ in newest[:limit]]

    async def get(self, dead_letter_id: str) -> dpb.DeadLetter | None:
        raw = cast(bytes | None, await self.client.hget(self.keys.record(dead_letter_id), F.RECORD))
        return dpb.DeadLetter.FromString(raw) if raw is not None else None

    async def get_many(self, ids: Sequence[str]) -> list[dpb.DeadLetter]:
        """The dead letters of `ids` still kept, in order."""
        if not ids:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.hget(self.keys.record(i), F.RECORD)
            raws = cast(list[bytes | None], await pipe.execute())
        return [dpb.DeadLetter.FromString(r) for r in raws if r is not None]

    async def decide(self, before: dpb.DeadLetter, after: dpb.DeadLetter, *, put_back: bool = False) -> int:
        """Write `after` if the dead letter still has `before`'s status: 1 done, 0 it changed meanwhile
        (read again, decide again), -1 it is gone (trimmed)."""
        k = self.keys
        old, new = status_name(before.status), status_name(after.status)
        retry_at = after.retry_at.ToMilliseconds() if after.HasField("retry_at") else 0
        keys = [
            k.record(after.dead_letter_id),
            k.by("status", old),
            k.by("status", new),
            k.counts,
            k.due,
            k.retries,
        ]
        args: list[Any] = [
            old,
            after.SerializeToString(),
            new,
            retry_at,
            1 if put_back else 0,
            F.RECORD,
            F.STATUS,
            F.RECEIVED_AT,
            F.JOB,
            after.dead_letter_id,
        ]
        return int(await self._decide(keys=keys, args=args))

    async def due(self, at_ms: int, count: int) -> list[str]:
        """Ids of scheduled retries due at `at_ms`, the earliest first."""
        got = cast(
            list[bytes], await self.client.zrangebyscore(self.keys.due, "-inf", at_ms, start=0, num=count)
        )
        return [g.decode() for g in got]

    async def forget_due(self, dead_letter_id: str) -> None:
        """Take a dead letter off the scheduler's list (it is gone, or was decided otherwise)."""
        await self.client.zrem(self.keys.due, dead_letter_id)

    async def page(self, filters: Filters, page_size: int, page_token: str = "") -> tuple[list[str], str]:
        """Ids of one page of dead letters passing `filters`, newest first; the next page's token."""
        groups: list[list[str]] = [[self.keys.by(d, v)] for d, v in filters.dimensions.items()]
        if filters.risks:
            groups.append([self.keys.by("risk", risk_name(r)) for r in filters.risks])
        return await self._pages.page(groups, page_size, page_token)

    async def stats(self) -> dpb.DeadLetterStats:
        """Counts by queue, category, risk, status and strategy (zeros left out)."""
        raw = cast(dict[bytes, bytes], await self.client.hgetall(self.keys.counts))
        out = dpb.DeadLetterStats()
        maps = {
            "queue": out.by_queue,
            "category": out.by_category,
            "risk": out.by_risk,
            "status": out.by_status,
            "strategy": out.by_strategy,
        }
        for name, value in raw.items():
            n = int(value)
            dimension, _, key = name.decode().partition(":")
            if dimension == "total":
                out.total = max(0, n)
            elif n > 0 and dimension in maps:
                maps[dimension][key] = n
        return out

    async def trim(self, cutoff_ms: int, cap: int, batch: int = 500) -> tuple[int, int]:
        """Remove up to `batch` dead letters received before `cutoff_ms`, then up to `batch` beyond
        `cap`: (removed as too old, removed beyond the cap)."""
        k = self.keys
        args: list[Any] = [
            k.record(""),
            k.by("", "")[:-1],
            cutoff_ms,
            cap,
            batch,
            F.QUEUE,
            F.CATEGORY,
            F.RISK,
            F.STATUS,
            F.STRATEGY,
            F.JOB,
            k.of_job(""),
        ]
        old, capped = cast(list[int], await self._trim(keys=[k.all, k.counts, k.due, k.retries], args=args))
        return int(old), int(capped)

    async def count(self) -> int:
        return int(await self.client.zcard(self.keys.all))

    async def reserve_redrive(self, n: int, interval_ms: int) -> int:
        """The ms epoch from which `n` redriven dead letters may leave one every `interval_ms`,
        after those of earlier redrives: a bulk redrive's rate holds across calls."""
        now = now_ms()
        async with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(self.keys.redrive_turn)
                    turn = int(cast(bytes | None, await pipe.get(self.keys.redrive_turn)) or 0)
                    start = max(now, turn)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(
                        self.keys.redrive_turn, start + n * interval_ms, px=max(1, n * interval_ms) + 60_000
                    )
                    await pipe.execute()
                    return start
                except aioredis.WatchError:
                    continue
