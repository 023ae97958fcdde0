"""`QueueManager`: the seed's QueueManager API in Python.

add_job, add_jobs, create_worker, get_queue_stats, get_all_queue_stats, pause,
resume, retry, clean, drain, get_job (plus list_jobs and cancel_job). Domain
code and the QueueService servicer use it; it never imports grpc.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.queue.v1 import queue_pb2
from queue_system import metrics
from queue_system.catalog import ALL_QUEUES
from queue_system.connection import connect
from queue_system.consumer import QueueConsumer
from queue_system.errors import FailedPreconditionError, FieldViolation, InvalidArgumentError, NotFoundError
from queue_system.keys import CONSUMER_GROUP
from queue_system.options import NORMAL_LANE
from queue_system.producer import Added, JobRequest, Producer
from queue_system.queue import RedisQueue
from queue_system.records import job_info
from queue_system.scripts import QueueScripts
from queue_system.settings import Settings
from queue_system.tasks import TaskSpec
from queue_system.tokens import decode_token, encode_token

MAX_PAGE = 1000
DEFAULT_PAGE = 100


def consumer_name(service: str) -> str:
    """Unique per process and stable for its life: host, pid and a random tag."""
    return f"{service}@{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


class QueueManager:
    """Every queue of the mesh, for one process (producer, worker, or both)."""

    def __init__(
        self,
        settings: Settings,
        *,
        service: str,
        client: aioredis.Redis | None = None,
        queues: Sequence[str] = ALL_QUEUES,
        emit_events: bool = True,
    ) -> None:
        self.settings = settings
        self.service = service
        self.client = client or connect(settings.redis_url)
        self._own_client = client is None
        self.scripts = QueueScripts(self.client)
        self.consumer = consumer_name(service)
        self.queues: dict[str, RedisQueue] = {
            q: RedisQueue(
                self.client,
                self.scripts,
                settings.queue_prefix,
                q,
                service=service,
                consumer=self.consumer,
                emit_events=emit_events,
            )
            for q in queues
        }
        self.producer = Producer(self.queues)
        self.consumers: list[QueueConsumer] = []

    # -- set-up --------------------------------------------------------------
    async def initialize(self) -> None:
        """Create every lane's consumer group now, so jobs sent before any worker starts are kept."""
        async with self.client.pipeline(transaction=False) as pipe:
            for q in self.queues.values():
                for lane in q.keys.lanes:
                    pipe.xgroup_create(lane, CONSUMER_GROUP, id="0", mkstream=True)
            for reply in await pipe.execute(raise_on_error=False):
                if isinstance(reply, ResponseError) and "BUSYGROUP" not in str(reply):
                    raise reply

    async def close(self, grace_s: float | None = None) -> None:
        """Stop every worker (grace period, give back unfinished jobs), then the client."""
        await asyncio.gather(*(c.stop(grace_s) for c in self.consumers))
        self.consumers.clear()
        if self._own_client:
            await self.client.aclose()

    def queue(self, name: str, field: str = "queue") -> RedisQueue:
        found = self.queues.get(name)
        if found is None:
            raise InvalidArgumentError(
                [FieldViolation(field, f"unknown queue {name!r}; one of: {', '.join(self.queues)}")]
            )
        return found

    # -- producing -----------------------------------------------------------
    async def add_job(
        self,
        queue: str,
        payload: env.JobPayload,
        options: env.JobOptions | None = None,
        *,
        trace: env.TraceContext | None = None,
        task_name: str = "",
    ) -> Added:
        return (await self.add_jobs([JobRequest(queue, payload, options, trace, task_name)]))[0]

    async def add_jobs(self, jobs: Sequence[JobRequest]) -> list[Added]:
        return await self.producer.add(jobs)

    # -- consuming -----------------------------------------------------------
    async def create_worker(
        self, queue: str, tasks: Mapping[str, TaskSpec], *, concurrency: int | None = None, start: bool = True
    ) -> QueueConsumer:
        """A consumer for `queue` running `tasks` (by task name), with the queue's configured limits."""
        config = self.settings.queues[queue]
        consumer = QueueConsumer(
            self.queue(queue),
            tasks,
            concurrency=concurrency or config.concurrency,
            limiter=config.limiter,
            tuning=self.settings.tuning,
            remove_on_complete=self.settings.remove_on_complete,
            remove_on_fail=self.settings.remove_on_fail,
        )
        self.consumers.append(consumer)
        if start:
            await consumer.start()
        return consumer

    # -- inspecting ----------------------------------------------------------
    @property
    def alive_ms(self) -> int:
        """A worker that renewed within this long counts as alive (two reclaim periods)."""
        return 2 * self.settings.tuning.reclaim_ms

    async def track_queue_depth(self) -> None:
        """Keep the queue_depth gauge of this manager's queues fresh, until cancelled."""
        await metrics.track_queue_depth(list(self.queues.values()), self.alive_ms)

    async def get_queue_stats(self, queue: str) -> queue_pb2.QueueStats:
        q = self.queue(queue)
        c = await q.counts(alive_ms=self.alive_ms)
        prioritized = c.waiting - c.waiting_by_lane[NORMAL_LANE - 1]
        counts = queue_pb2.JobCounts(
            active=c.active,
            delayed=c.delayed,
            completed=c.completed,
            failed=c.failed,
            waiting=0 if c.paused else c.waiting_by_lane[NORMAL_LANE - 1],
            prioritized=0 if c.paused else prioritized,
            paused=c.waiting if c.paused else 0,
        )
        config = self.settings.queues.get(queue)
        stats = queue_pb2.QueueStats(
            queue=queue, counts=counts, paused=c.paused, workers=c.workers, dead_lettered=c.dead_lettered
        )
        if config is not None:
            stats.concurrency = config.concurrency
            if config.limiter is not None:
                stats.rate_limit.max = config.limiter.max
                stats.rate_limit.duration.FromMilliseconds(config.limiter.duration_ms)
        return stats

    async def get_all_queue_stats(self) -> list[queue_pb2.QueueStats]:
        return [await self.get_queue_stats(q) for q in self.queues]

    async def _state(self, q: RedisQueue, job_id: str, fields: Mapping[bytes, bytes]) -> int:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zscore(q.keys.completed, job_id)
            pipe.zscore(q.keys.failed, job_id)
            pipe.zscore(q.keys.delayed, job_id)
            pipe.exists(q.keys.paused)
            done, failed, delayed, paused = await pipe.execute()
        if done is not None:
            return env.JOB_STATE_COMPLETED
        if failed is not None:
            return env.JOB_STATE_FAILED
        if delayed is not None:
            return env.JOB_STATE_DELAYED
        sid, lane = fields.get(b"sid"), int(fields.get(b"lane", b"3"))
        if sid is not None:
            pending = await self.client.xpending_range(q.keys.lane_key_of(lane), CONSUMER_GROUP, sid, sid, 1)
            if pending:
                return env.JOB_STATE_ACTIVE
        if paused:
            return env.JOB_STATE_PAUSED
        return env.JOB_STATE_WAITING if lane == NORMAL_LANE else env.JOB_STATE_PRIORITIZED

    async def get_job(self, queue: str, job_id: str) -> queue_pb2.JobInfo:
        q = self.queue(queue)
        fields = await q.job_fields(job_id)
        if b"env" not in fields:
            raise NotFoundError("job", f"{queue}/{job_id}")
        return job_info(fields, await self._state(q, job_id, fields))

    async def list_jobs(
        self, queue: str, state: int, page_size: int = 0, page_token: str = ""
    ) -> tuple[list[queue_pb2.JobInfo], str]:
        """One page of a queue's jobs in one state, and the token of the next page ('' at the end)."""
        q = self.queue(queue)
        size = min(MAX_PAGE, page_size or DEFAULT_PAGE)
        pos = decode_token(page_token, "page_token")
        offset = int(str(pos.get("o", 0)))
        sets: dict[int, str] = {
            env.JOB_STATE_COMPLETED: q.keys.completed,
            env.JOB_STATE_FAILED: q.keys.failed,
            env.JOB_STATE_DELAYED: q.keys.delayed,
        }
        if state in sets:
            # delayed: soonest first; finished: newest first
            rng = self.client.zrange if state == env.JOB_STATE_DELAYED else self.client.zrevrange
            ids = cast(list[bytes], await rng(sets[state], offset, offset + size - 1))
            jobs = await self._infos(q, [i.decode() for i in ids], state)
            return jobs, encode_token({"o": offset + size}) if len(ids) == size else ""
        if state == env.JOB_STATE_ACTIVE:
            held = [(key, sid) for key in q.keys.lanes for sid in await self._pending_ids(key)]
            page = held[offset : offset + size]
            job_ids = [await self._entry_job_id(key, sid) for key, sid in page]
            jobs = await self._infos(q, [j for j in job_ids if j], state)
            return jobs, encode_token({"o": offset + size}) if len(held) > offset + size else ""
        if state in (env.JOB_STATE_WAITING, env.JOB_STATE_PRIORITIZED, env.JOB_STATE_PAUSED):
            return await self._list_ready(q, state, size, offset)
        raise InvalidArgumentError([FieldViolation("state", "must be a job state (not UNSPECIFIED)")])

    async def _pending_ids(self, lane_key: str) -> set[bytes]:
        """Entry ids of a lane held by some worker (its running jobs)."""
        pending = cast(
            list[dict[str, Any]],
            await self.client.xpending_range(lane_key, CONSUMER_GROUP, "-", "+", 100_000),
        )
        return {p["message_id"] for p in pending}

    async def _last_delivered(self, lane_key: str) -> str:
        """The group's last delivered entry id: entries after it are the waiting jobs."""
        groups: list[dict[str, Any]] = (
            await self.client.xinfo_groups(lane_key) if await self.client.exists(lane_key) else []
        )
        for g in groups:
            if g["name"] in (CONSUMER_GROUP, CONSUMER_GROUP.encode()):
                last = g["last-delivered-id"]
                return last.decode() if isinstance(last, bytes) else str(last)
        return "0-0"

    async def _entry_job_id(self, lane_key: str, sid: bytes) -> str:
        entries = cast(list[tuple[bytes, dict[bytes, bytes]]], await self.client.xrange(lane_key, sid, sid))
        return entries[0][1][b"j"].decode() if entries else ""

    async def _list_ready(
        self, q: RedisQueue, state: int, size: int, offset: int
    ) -> tuple[list[queue_pb2.JobInfo], str]:
        paused = bool(await self.client.exists(q.keys.paused))
        if (state == env.JOB_STATE_PAUSED) != paused:
            return [], ""
        lanes: dict[int, list[int]] = {
            env.JOB_STATE_WAITING: [NORMAL_LANE],
            env.JOB_STATE_PRIORITIZED: [1, 2, 4],
        }
        found: list[str] = []
        for lane in lanes.get(state, [1, 2, 3, 4]):
            key = q.keys.lane_key_of(lane)
            entries = cast(
                list[tuple[bytes, dict[bytes, bytes]]],
                await self.client.xrange(
                    key, f"({await self._last_delivered(key)}", "+", count=offset + size + 1
                ),
            )
            found += [fields[b"j"].decode() for _, fields in entries]
        page = found[offset : offset + size]
        jobs = [await self.get_job(q.name, job_id) for job_id in page]
        return jobs, encode_token({"o": offset + size}) if len(found) > offset + size else ""

    async def _infos(self, q: RedisQueue, ids: Sequence[str], state: int) -> list[queue_pb2.JobInfo]:
        async with self.client.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.hgetall(q.keys.job(job_id))
            all_fields = await pipe.execute()
        return [job_info(f, state) for f in all_fields if b"env" in f]

    # -- operating -----------------------------------------------------------
    async def pause(self, queue: str, request_id: str = "") -> None:
        await self.queue(queue).set_paused(True, request_id)

    async def resume(self, queue: str, request_id: str = "") -> None:
        await self.queue(queue).set_paused(False, request_id)

    async def cancel_job(self, queue: str, job_id: str) -> queue_pb2.JobInfo:
        q = self.queue(queue)
        before = await q.job_fields(job_id)
        state = await self._state(q, job_id, before) if b"env" in before else 0
        status, fields = await q.cancel(job_id)
        if status == 0:
            raise NotFoundError("job", f"{queue}/{job_id}")
        if status == -1:
            raise FailedPreconditionError(f"job {job_id} has already finished", "STATE", f"{queue}/{job_id}")
        if status == -2:
            raise FailedPreconditionError(
                f"job {job_id} is running; a running job is never pulled from its worker",
                "STATE",
                f"{queue}/{job_id}",
            )
        return job_info(fields, state)

    async def retry(
        self,
        queue: str,
        state: Literal["failed", "completed"] = "failed",
        job_ids: Sequence[str] = (),
        limit: int = 0,
    ) -> list[str]:
        return await self.queue(queue).requeue(state, limit, job_ids)

    async def clean(
        self,
        queue: str,
        state: Literal["completed", "failed", "delayed", "waiting"],
        grace_ms: int = 0,
        limit: int = 0,
    ) -> list[str]:
        """Remove jobs in `state` older than `grace_ms` (at most `limit`; 0 = all)."""
        q = self.queue(queue)
        before = int(time.time() * 1000) - grace_ms
        if state == "waiting":
            return await self._sweep(q, before, limit)
        removed: list[str] = []
        while True:
            cap = min(1000, limit - len(removed)) if limit else 1000
            part = await q.prune(state, before, cap)
            removed += part
            if len(part) < cap or (limit and len(removed) >= limit):
                return removed

    async def drain(self, queue: str, include_delayed: bool = False) -> int:
        """Remove every job that has not started (running jobs are left alone)."""
        q = self.queue(queue)
        removed = len(await self._sweep(q, 0, 0))
        if include_delayed:
            removed += len(await self.clean(queue, "delayed", grace_ms=-(10**12)))
        return removed

    async def _sweep(self, q: RedisQueue, before_ms: int, limit: int) -> list[str]:
        removed: list[str] = []
        for lane in range(1, 5):
            cursor = "-"
            while True:
                cap = limit - len(removed) if limit else 0
                if limit and cap <= 0:
                    return removed
                part, cursor = await q.sweep(lane, cursor, 1000, before_ms, cap)
                removed += part
                if not cursor:
                    break
        return removed
