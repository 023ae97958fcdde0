"""One queue's operations on Redis: thin, typed calls of the Lua scripts.

`RedisQueue` knows a queue's keys and the identity of its caller (consumer
name, service) and nothing about handlers or gRPC. Producers, consumers and
the QueueManager all go through it.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from queue_system.catalog import domain_channel
from queue_system.keys import (
    GROUP_LANE_SPAN,
    NORMAL_LANE,
    WORKER_GROUP,
    EntryField,
    JobField,
    QueueKeys,
    script_keys,
)
from queue_system.link import RedisLink, reply
from queue_system.options import RetentionArgs
from queue_system.scripts import QueueScripts

FETCHED, EMPTY, PAUSED, LIMITED = 1, 0, 2, 3
# Record headers of the batch blobs enqueue.lua and complete.lua unpack (see there).
_ENQUEUE_RECORD: Final = struct.Struct(">HBIIHB")
_SUPERSEDE: Final = 1  # enqueue.lua's record flag: supersede the group's waiting jobs
_COMPLETE_RECORD: Final = struct.Struct(">BBHBIIII")
# Values per job in fetch.lua's and reclaim.lua's replies (Delivery's fields, in order).
JOB_FIELDS: Final = 8
_LANE_JOB: Final = EntryField.LANE_JOB.encode()
SNAPSHOT_TRIES: Final = 3  # readings of a job moving between lane entries before the last one is given


@dataclass(frozen=True, slots=True)
class Where:
    """Where a job is: the sets it may be in, whether a worker holds it, whether its queue is paused."""

    completed: bool
    failed: bool
    delayed: bool
    superseded: bool
    held: bool
    paused: bool


@dataclass(slots=True)
class Delivery:
    """A job handed to this consumer: where its entry is, what it carries, its counts so far."""

    lane: int
    entry_id: bytes
    job_id: str
    envelope: bytes
    attempts_made: int  # attempts finished before this one, every series
    series_start: int  # attempts_made when the current series began (redrives start new ones)
    deliveries: int  # this one included, every series
    attempt_deliveries: int  # deliveries of this attempt, this one included (the poison check)

    @property
    def attempts_in_series(self) -> int:
        """Attempts of the current series finished before this one."""
        return self.attempts_made - self.series_start


@dataclass(slots=True)
class Fetch:
    """What a fetch found: jobs, or why there were none."""

    status: int
    deliveries: list[Delivery]
    wait_ms: int = 0
    last_ids: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job ready to add: its id, encoded envelope, lane and delay, and its group (JobOptions.group_key,
    "" for none) and whether it supersedes the group's waiting jobs (JobOptions.supersede_waiting)."""

    job_id: str
    envelope: bytes
    lane: int
    delay_ms: int
    group: str = ""
    supersede: bool = False


@dataclass(frozen=True, slots=True)
class Finished:
    """A job whose handler succeeded, to acknowledge."""

    lane: int
    entry_id: bytes
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


def _enqueue_blob(jobs: Sequence[NewJob]) -> bytes:
    """enqueue.lua's one argument for a batch: a record header, the id, group key and envelope per job."""
    return b"".join(
        _ENQUEUE_RECORD.pack(
            len(ids := j.job_id.encode()),
            j.lane,
            j.delay_ms,
            len(j.envelope),
            len(group := j.group.encode()),
            _SUPERSEDE if j.supersede else 0,
        )
        + ids
        + group
        + j.envelope
        for j in jobs
    )


def added_flags(reply: Any) -> list[bool]:
    """enqueue.lua's reply: per job True when added, False when its id already existed."""
    return [bool(x) for x in reply] if isinstance(reply, list) else []


async def run_streamed(client: aioredis.Redis, commands: Iterable[Sequence[Any]]) -> list[Any]:
    """Write each command to one connection as soon as `commands` yields it; read every reply after
    the last. Redis runs the first command while the caller still builds the next, and one
    connection keeps them in order. An error reply raises (the first, in order); a connection
    left with replies unread (an error, a cancellation) is closed, never handed back mid-stream.
    """
    pool = client.connection_pool
    conn = await pool.get_connection()  # type: ignore[no-untyped-call]  # a deprecation wrapper
    try:
        sent = 0
        for command in commands:
            await conn.send_packed_command(conn.pack_command(*command), check_health=sent == 0)
            sent += 1
            # uvloop sends small writes when its loop next turns (asyncio at once): let it
            await asyncio.sleep(0)
        return [await conn.read_response() for _ in range(sent)]
    except BaseException:
        await conn.disconnect(nowait=True)
        raise
    finally:
        await pool.release(conn)


def _deliveries(flat: Sequence[Any], start: int) -> list[Delivery]:
    return [
        Delivery(
            int(flat[i]),
            flat[i + 1],
            flat[i + 2].decode(),
            flat[i + 3],
            int(flat[i + 4]),
            int(flat[i + 5]),
            int(flat[i + 6]),
            int(flat[i + 7]),
        )
        for i in range(start, len(flat), JOB_FIELDS)
    ]


def _fetched(res: Sequence[Any]) -> Fetch:
    """fetch.lua's reply (see there)."""
    status = int(res[0])
    if status == FETCHED:
        return Fetch(FETCHED, _deliveries(res, 1))
    if status == LIMITED:
        return Fetch(LIMITED, [], wait_ms=int(res[1]))
    if status == PAUSED:
        return Fetch(PAUSED, [])
    return Fetch(EMPTY, [], last_ids=tuple(res[1:5]))


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
    ) -> None:
        self.client = client
        self.scripts = scripts
        self.name = queue
        self.keys = QueueKeys(prefix, queue)
        self.consumer = consumer
        self._keys = script_keys(self.keys)
        # keys.SCRIPT_HEAD, in order
        self._head: list[str] = [
            self.keys.job_prefix,
            self.keys.receipts,
            consumer,
            service,
            domain_channel(queue),
            queue,
            self.keys.group_prefix,
        ]

    async def _run(self, script: str, *args: Any) -> Any:
        return await self.scripts[script](keys=self._keys, args=[*self._head, *args], client=self.client)

    async def _run_over(self, link: RedisLink | None, script: str, *args: Any) -> Any:
        """`_run` over `link` when there is one (a hot path's own connection), else the client."""
        if link is None:
            return await self._run(script, *args)
        command = self._script_command(script, *args)
        try:
            return await link.call(*command)
        except NoScriptError:  # a Redis that restarted forgot the scripts
            await self.load_script(script)
            return await link.call(*command)

    # -- producing ---------------------------------------------------------
    async def enqueue(
        self, jobs: Sequence[NewJob], receipt: str, receipt_ttl_ms: int, link: RedisLink | None = None
    ) -> list[bool]:
        """Add jobs; per job True when added, False when its id already existed.

        Sending the same jobs again with the same `receipt` (its reply was lost)
        answers what the first add did, within `receipt_ttl_ms`. With a `link`
        the call goes over it (the producer's hot path), else through the client.
        """
        return added_flags(
            await self._run_over(link, "enqueue", _enqueue_blob(jobs), receipt, receipt_ttl_ms)
        )

    def enqueue_command(self, jobs: Sequence[NewJob], receipt: str, receipt_ttl_ms: int) -> list[Any]:
        """The EVALSHA of `enqueue` as a command to write (`run_streamed`); its reply reads with
        `added_flags`. A Redis that does not know the script answers NoScriptError
        (`load_script` then)."""
        return self._script_command("enqueue", _enqueue_blob(jobs), receipt, receipt_ttl_ms)

    def _script_command(self, script: str, *args: Any) -> list[Any]:
        """A queue script's EVALSHA as a command to write by hand (what `_run` sends)."""
        return ["EVALSHA", self.scripts[script].sha, len(self._keys), *self._keys, *self._head, *args]

    async def load_script(self, name: str) -> None:
        """Load one of the queue scripts into Redis (what a script call does on NoScriptError)."""
        await self.client.script_load(self.scripts[name].script)

    # -- consuming ---------------------------------------------------------
    async def fetch(
        self, want: int, limit_max: int = 0, limit_ms: int = 0, link: RedisLink | None = None
    ) -> Fetch:
        return _fetched(await self._run_over(link, "fetch", want, limit_max, limit_ms))

    async def wait_then_fetch(
        self,
        link: RedisLink,
        last_ids: Sequence[bytes],
        block_ms: int,
        want: int,
        *,
        limit_max: int = 0,
        limit_ms: int = 0,
        blocked: Callable[[int | None], None] = lambda _: None,
    ) -> Fetch:
        """Block until an entry newer than each lane's `last_ids` arrives (or `block_ms` passes),
        then fetch as `fetch` does: one round trip per wake-up.

        The XREAD and the fetch script go down `link` (a connection of the caller's own) back to
        back: Redis runs the script the moment the read unblocks, instead of waiting for this
        process to hear of the new entry and ask. The read claims nothing; the script decides as
        ever (pause, rate limit, lanes in order, at most `want`). `blocked` hears the
        connection's client id while it waits (then None): CLIENT UNBLOCK on it ends the wait at
        once, as a timeout would, and the fetch still runs.
        """
        streams = dict(zip(self.keys.lanes, last_ids, strict=True))
        commands: list[list[Any]] = [
            ["CLIENT", "ID"],
            ["XREAD", "COUNT", 1, "BLOCK", block_ms, "STREAMS", *streams, *streams.values()],
            self._script_command("fetch", want, limit_max, limit_ms),
        ]
        client_id, read, fetched = await link.send(commands)
        try:
            blocked(int(await reply(client_id)))
            try:
                await reply(read)
            finally:
                blocked(None)
            res = await reply(fetched)
        except NoScriptError:  # a restarted Redis forgot the script: loads it again
            return await self.fetch(want, limit_max, limit_ms, link)
        except BaseException:
            # given up (cancelled: the worker stops) with the fetch still queued behind the read:
            # dropping the connection drops it too, else it would claim jobs nobody runs
            await link.aclose()
            raise
        return _fetched(res)

    async def reclaim(self, min_idle_ms: int, want: int, max_deliveries: int, idle: bool) -> list[Delivery]:
        """Take over jobs of dead workers; a last-chance job comes alone, and only when `idle`."""
        return _deliveries(
            await self._run("reclaim", min_idle_ms, want, max_deliveries, "1" if idle else "0"), 0
        )

    async def renew(self, held: Iterable[tuple[int, bytes]]) -> set[bytes]:
        """Renew leases; returns the entry ids this consumer no longer holds."""
        args: list[Any] = []
        for lane, entry_id in held:
            args += (lane, entry_id)
        lost = await self._run("renew", len(args) // 2, *args)
        return set(lost)

    async def release(self, held: Iterable[tuple[int, bytes, str]]) -> int:
        """Give back jobs this consumer will not finish (it stops); how many went back."""
        args: list[Any] = []
        for lane, entry_id, job_id in held:
            args += (lane, entry_id, job_id)
        return int(await self._run("release", len(args) // 3, *args))

    async def complete(self, done: Sequence[Finished], link: RedisLink | None = None) -> list[bool]:
        parts = []
        for f in done:
            r, job_id = f.retention, f.job_id.encode()
            parts.append(
                _COMPLETE_RECORD.pack(
                    f.lane, len(f.entry_id), len(job_id), r.mode, r.count, r.age_ms, f.run_ms, len(f.result)
                )
            )
            parts += (f.entry_id, job_id, f.result)
        return [bool(x) for x in await self._run_over(link, "complete", b"".join(parts))]

    async def retry(
        self, d: Delivery, *, attempts_made: int, error: bytes, wait_ms: int, reason: str, run_ms: int
    ) -> bool:
        """Schedule the job's next attempt after `wait_ms`; False when this consumer lost it."""
        return bool(
            await self._run(
                "retry", d.lane, d.entry_id, d.job_id, attempts_made, error, wait_ms, reason, run_ms
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
                d.entry_id,
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
        return bool(await self._run("progress", d.job_id, d.lane, d.entry_id, repr(float(percent))))

    async def janitor(self, silent_ms: int) -> int:
        return int(await self._run("janitor", silent_ms))

    # -- operating ---------------------------------------------------------
    async def counts(self, alive_ms: int) -> Counts:
        r = [int(x) for x in await self._run("counts", alive_ms)]
        return Counts(r[0:8:2], r[1:8:2], r[8], r[9], r[10], bool(r[11]), r[12], r[13])

    async def control(
        self,
        action: Literal["paused", "resumed", "drained", "cleaned"],
        request_id: str = "",
        affected: int = 0,
    ) -> None:
        """Pause or resume the queue for every worker, or announce a drain or clean (queue_<action>)."""
        await self._run("control", action, request_id, affected)

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

    async def sweep_grouped(self, cursor: str, chunk: int, before_ms: int, cap: int) -> tuple[list[str], str]:
        """Remove jobs waiting in their group's line from `cursor` ('0' first): (removed ids, next
        cursor or '')."""
        res = await self._run("sweep_grouped", cursor, chunk, before_ms, cap)
        return [x.decode() for x in res[2:]], res[1].decode() if res[1] else ""

    async def prune(
        self, which: Literal["delayed", "completed", "failed"], before_ms: int, cap: int
    ) -> list[str]:
        return [x.decode() for x in await self._run("prune", which, before_ms, cap)]

    async def redrive(
        self, which: Literal["failed", "completed"], limit: int, job_ids: Sequence[str]
    ) -> list[str]:
        """Put finished jobs back as a new series of attempts; the ids put back."""
        return [x.decode() for x in await self._run("redrive", which, limit, *job_ids)]

    async def redrive_dead_letter(
        self,
        job_id: str,
        envelope: bytes,
        lane: int,
        *,
        attempts_made: int,
        deliveries: int,
        delay_ms: int,
        group: str,
        history: Sequence[tuple[str, bytes]],
    ) -> bool:
        """Put a dead-lettered job back (recreated from its dead letter when its record is gone).

        False when its id is held by a job that has not failed: nothing changed.
        """
        flat = [x for pair in history for x in pair]
        reply = await self._run(
            "redrive_dead_letter", job_id, envelope, lane, attempts_made, deliveries, delay_ms, group, *flat
        )
        return bool(reply)

    # -- reading (nothing changes) -----------------------------------------
    async def job_fields(self, job_id: str) -> dict[bytes, bytes]:
        """One job's hash (fields in keys.JobField); empty when the job is unknown."""
        return cast(dict[bytes, bytes], await self.client.hgetall(self.keys.job(job_id)))

    async def jobs_fields(self, job_ids: Sequence[str]) -> list[dict[bytes, bytes]]:
        """The hashes of many jobs in one round trip, in order."""
        if not job_ids:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hgetall(self.keys.job(job_id))
            return cast(list[dict[bytes, bytes]], await pipe.execute())

    async def snapshot(self, job_id: str) -> tuple[dict[bytes, bytes], Where]:
        """A job's hash and where it is, read at one instant (MULTI/EXEC).

        Read one after the other, a job finishing between the two reads showed
        its new state (completed) with its old hash (no result yet): a caller
        moving on by the result saw none. The lane entry a worker may hold is
        named in the hash, so it is read first and the reading is taken again
        if the job moved to another entry meanwhile (a retry, a redrive).
        """
        jk = self.keys.job(job_id)
        entry_field, lane_field = JobField.ENTRY_ID.encode(), JobField.LANE.encode()
        for _ in range(SNAPSHOT_TRIES):
            entry_id, lane_raw = await self.client.hmget(jk, [entry_field, lane_field])
            lane = int(lane_raw or NORMAL_LANE)
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.hgetall(jk)
                pipe.zscore(self.keys.completed, job_id)
                pipe.zscore(self.keys.failed, job_id)
                pipe.zscore(self.keys.delayed, job_id)
                pipe.zscore(self.keys.superseded, job_id)
                pipe.exists(self.keys.paused)
                if entry_id is not None:
                    pipe.xpending_range(self.keys.lane_number(lane), WORKER_GROUP, entry_id, entry_id, 1)
                fields, done, failed, delayed, superseded, paused, *held = await pipe.execute()
            where = Where(
                completed=done is not None,
                failed=failed is not None,
                delayed=delayed is not None,
                superseded=superseded is not None,
                held=bool(held and held[0]),
                paused=bool(paused),
            )
            if fields.get(entry_field) == entry_id and int(fields.get(lane_field) or NORMAL_LANE) == lane:
                break
        return cast(dict[bytes, bytes], fields), where

    async def paused(self) -> bool:
        return bool(await self.client.exists(self.keys.paused))

    async def ids_in(
        self, which: Literal["delayed", "completed", "failed", "superseded"], offset: int, count: int
    ) -> list[str]:
        """A page of a job set: delayed soonest first, finished (and superseded) newest first."""
        key = getattr(self.keys, which)
        read = self.client.zrange if which == "delayed" else self.client.zrevrange
        return [x.decode() for x in cast(list[bytes], await read(key, offset, offset + count - 1))]

    async def held_job_ids(self) -> list[str]:
        """Ids of the jobs some worker holds now (running), highest lane first."""
        held: list[tuple[str, bytes]] = []
        for key in self.keys.lanes:
            pending = cast(
                list[dict[str, Any]], await self.client.xpending_range(key, WORKER_GROUP, "-", "+", 100_000)
            )
            held += [(key, p["message_id"]) for p in pending]
        if not held:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for key, entry_id in held:
                pipe.xrange(key, entry_id, entry_id)
            entries = cast(list[list[tuple[bytes, dict[bytes, bytes]]]], await pipe.execute())
        return [found[0][1][_LANE_JOB].decode() for found in entries if found]

    async def ready_job_ids(self, lanes: Sequence[int], limit: int) -> list[str]:
        """Ids of ready jobs in `lanes` (in that order), at most `limit`: in each lane, its entries
        (oldest first), then the jobs of that lane waiting in their group's line (in line order)."""
        found: list[str] = []
        for lane in lanes:
            key = self.keys.lane_number(lane)
            if len(found) >= limit:
                break
            if await self.client.exists(key):
                found += await self._lane_entries(key, limit - len(found))
            if len(found) < limit:
                found += await self._in_group_lines(lane, limit - len(found))
        return found

    async def _in_group_lines(self, lane: int, limit: int) -> list[str]:
        """Ids of jobs of `lane` that wait in their group's line (keys.grouped), in line order."""
        low = lane * GROUP_LANE_SPAN
        ids = await self.client.zrangebyscore(self.keys.grouped, low, f"({low + GROUP_LANE_SPAN}", 0, limit)
        return [x.decode() for x in cast(list[bytes], ids)]

    async def _lane_entries(self, key: str, limit: int) -> list[str]:
        """Ids of the ready (not yet delivered) entries of one lane stream, oldest first."""
        after = "0-0"
        for g in await self.client.xinfo_groups(key):
            if g["name"] in (WORKER_GROUP, WORKER_GROUP.encode()):
                last = g["last-delivered-id"]
                after = last.decode() if isinstance(last, bytes) else str(last)
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            await self.client.xrange(key, f"({after}", "+", count=limit),
        )
        return [fields[_LANE_JOB].decode() for _, fields in entries]
