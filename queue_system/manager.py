"""`QueueManager`: the seed's QueueManager API in Python, one facade over every queue.

add_job, add_jobs, create_worker, get_queue_stats, get_all_queue_stats, pause,
resume, redrive (the seed's retry), clean, drain, get_job, list_jobs and
cancel_job. Adding goes through validation and the producer, reading through
`reads`, running through `Worker`; this module only ties them to one Redis
client and one consumer name. Domain code and the QueueService servicer use
it; it never imports grpc.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Literal

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import failure_pb2
from jobmesh.queue.v1 import queue_pb2
from queue_system import metrics, reads
from queue_system.catalog import ALL_QUEUES
from queue_system.connection import connect
from queue_system.envelope import JobRequest
from queue_system.errors import FailedPreconditionError, FieldViolation, InvalidArgumentError, NotFoundError
from queue_system.keys import WORKER_GROUP, JobField
from queue_system.link import RedisLink
from queue_system.options import lane_of
from queue_system.producer import Added, Producer
from queue_system.queue import RedisQueue
from queue_system.records import ENVELOPE, job_info
from queue_system.results import ResultSink
from queue_system.scripts import QueueScripts
from queue_system.settings import Settings
from queue_system.tasks import TaskSpec
from queue_system.validation.jobs import checked_batch, checked_job
from queue_system.worker import Worker


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
            )
            for q in queues
        }
        self.link = RedisLink(self.client)
        self.producer = Producer(self.queues, ride_out_ms=settings.tuning.ride_out_ms, link=self.link)
        self.workers: list[Worker] = []

    # -- set-up --------------------------------------------------------------
    async def initialize(self) -> None:
        """Create every lane's consumer group now, so jobs sent before any worker starts are kept."""
        async with self.client.pipeline(transaction=False) as pipe:
            for q in self.queues.values():
                for lane in q.keys.lanes:
                    pipe.xgroup_create(lane, WORKER_GROUP, id="0", mkstream=True)
            for reply in await pipe.execute(raise_on_error=False):
                if isinstance(reply, ResponseError) and "BUSYGROUP" not in str(reply):
                    raise reply

    async def close(self, grace_s: float | None = None) -> None:
        """Stop every worker (grace period, give back unfinished jobs), then the client."""
        await asyncio.gather(*(w.stop(grace_s) for w in self.workers))
        self.workers.clear()
        await self.link.aclose()
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
        """Check and add one job (bad fields named as in EnqueueJobRequest: "payload.<kind>...")."""
        return (await self.producer.add(checked_job(JobRequest(queue, payload, options, trace, task_name))))[
            0
        ]

    async def add_jobs(self, jobs: Sequence[JobRequest]) -> list[Added]:
        """Check and add a batch, all or nothing (bad fields named "jobs[i]...")."""
        return await self.producer.add(checked_batch(jobs))

    # -- running jobs --------------------------------------------------------
    async def create_worker(
        self,
        queue: str,
        tasks: Mapping[str, TaskSpec],
        *,
        concurrency: int | None = None,
        results: ResultSink | None = None,
    ) -> Worker:
        """A started Worker for `queue` running `tasks` (by task name), with the queue's configured limits."""
        config = self.settings.queues[queue]
        worker = Worker(
            self.queue(queue),
            tasks,
            concurrency=concurrency or config.concurrency,
            limiter=config.limiter,
            tuning=self.settings.tuning,
            remove_on_complete=self.settings.remove_on_complete,
            remove_on_fail=self.settings.remove_on_fail,
            results=results,
        )
        self.workers.append(worker)
        await worker.start()
        return worker

    # -- inspecting (queue_system.reads) ---------------------------------------
    @property
    def alive_ms(self) -> int:
        """A worker that renewed within this long counts as alive (two reclaim periods)."""
        return 2 * self.settings.tuning.reclaim_ms

    async def track_queue_depth(self) -> None:
        """Keep the queue_depth gauge of this manager's queues fresh, until cancelled."""
        await metrics.track_queue_depth(list(self.queues.values()), self.alive_ms)

    async def get_queue_stats(self, queue: str) -> queue_pb2.QueueStats:
        return await reads.queue_stats(self.queue(queue), self.settings.queues.get(queue), self.alive_ms)

    async def get_all_queue_stats(self) -> list[queue_pb2.QueueStats]:
        return [await self.get_queue_stats(q) for q in self.queues]

    async def get_job(self, queue: str, job_id: str) -> queue_pb2.JobInfo:
        return await reads.get_job(self.queue(queue), job_id)

    async def list_jobs(
        self, queue: str, state: int, page_size: int = 0, page_token: str = ""
    ) -> tuple[list[queue_pb2.JobInfo], str]:
        """One page of a queue's jobs in one state, and the token of the next page ('' at the end)."""
        return await reads.list_jobs(self.queue(queue), state, page_size, page_token)

    # -- operating -----------------------------------------------------------
    async def pause(self, queue: str, request_id: str = "") -> None:
        await self.queue(queue).control("paused", request_id)

    async def resume(self, queue: str, request_id: str = "") -> None:
        await self.queue(queue).control("resumed", request_id)

    async def cancel_job(self, queue: str, job_id: str) -> queue_pb2.JobInfo:
        """Remove a job that has not started; the job as it was."""
        q = self.queue(queue)
        before, where = await q.snapshot(job_id)
        state = reads.job_state(before, where) if ENVELOPE in before else 0
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

    async def redrive(
        self,
        queue: str,
        state: Literal["failed", "completed"] = "failed",
        job_ids: Sequence[str] = (),
        limit: int = 0,
    ) -> list[str]:
        """Put finished jobs back, each as a new series of attempts with its history kept
        (the seed's `retry`, BullMQ's retryJobs)."""
        return await self.queue(queue).redrive(state, limit, job_ids)

    async def redrive_dead_letter(self, failed: failure_pb2.FailedJob, delay_ms: int = 0) -> bool:
        """Put a dead-lettered job back on its queue with its id and history, as a new series of
        attempts, whatever its retention kept (a removed job is recreated from `failed`).

        False when the id is held by a job that has not failed (added again, or already
        put back): nothing changes then. FailedPreconditionError for a dead letter whose
        envelope did not decode (there is nothing to run).
        """
        if not failed.HasField("job"):
            raise FailedPreconditionError(
                f"dead letter of job {failed.job_id} has no envelope that decodes; it cannot run again",
                "UNDECODABLE",
                f"{failed.queue}/{failed.job_id}",
            )
        q = self.queue(failed.queue)
        history = [(f"{JobField.ERROR_PREFIX}{e.attempt}", e.SerializeToString()) for e in failed.errors]
        history += [
            (
                f"{JobField.REDELIVERY_PREFIX}{r.delivery}",
                f"{r.lost_by}|{r.idle.ToMilliseconds()}|{r.reclaimed_at.ToMilliseconds()}".encode(),
            )
            for r in failed.redeliveries
        ]
        return await q.redrive_dead_letter(
            failed.job_id,
            failed.job.SerializeToString(),
            lane_of(failed.job.priority),
            attempts_made=failed.attempts_made,
            deliveries=failed.deliveries,
            delay_ms=delay_ms,
            group=failed.job.options.group_key,
            history=history,
        )

    async def clean(
        self,
        queue: str,
        state: Literal["completed", "failed", "delayed", "waiting"],
        grace_ms: int = 0,
        limit: int = 0,
        request_id: str = "",
    ) -> list[str]:
        """Remove jobs in `state` older than `grace_ms` (at most `limit`; 0 = all); emits queue_cleaned."""
        q = self.queue(queue)
        removed = await self._remove(q, state, int(time.time() * 1000) - grace_ms, limit)
        await q.control("cleaned", request_id, len(removed))
        return removed

    async def drain(self, queue: str, include_delayed: bool = False, request_id: str = "") -> int:
        """Remove every job that has not started (running jobs are left alone); emits queue_drained."""
        q = self.queue(queue)
        removed = len(await self._sweep(q, 0, 0))
        if include_delayed:
            removed += len(await self._remove(q, "delayed", 10**15, 0))
        await q.control("drained", request_id, removed)
        return removed

    async def _remove(
        self,
        q: RedisQueue,
        state: Literal["completed", "failed", "delayed", "waiting"],
        before: int,
        limit: int,
    ) -> list[str]:
        if state == "waiting":
            return await self._sweep(q, before, limit)
        removed: list[str] = []
        while True:
            cap = min(1000, limit - len(removed)) if limit else 1000
            part = await q.prune(state, before, cap)
            removed += part
            if len(part) < cap or (limit and len(removed) >= limit):
                return removed

    async def _sweep(self, q: RedisQueue, before_ms: int, limit: int) -> list[str]:
        """Remove waiting jobs: first those in their group's line, then the lanes' (a removed
        group slot holder passes its slot to its line, which is empty by then)."""
        removed: list[str] = []
        cursor = "0"
        while cursor:
            cap = limit - len(removed) if limit else 0
            if limit and cap <= 0:
                return removed
            part, cursor = await q.sweep_grouped(cursor, 1000, before_ms, cap)
            removed += part
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
