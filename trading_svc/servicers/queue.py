"""QueueService: the seed's QueueManager over gRPC.

Thin: check the request's shape, call `QueueManager`, encode the answer.
Mutating RPCs answer a retry with the same `request_id` with their first
answer (service_kit.idempotency); adds derive their job ids from it, so even
racing retries add a job once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal, TypeVar

import grpc
from google.protobuf.message import Message

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.queue.v1 import queue_service_pb2 as pb
from jobmesh.queue.v1 import queue_service_pb2_grpc as pb_grpc
from queue_system.envelope import JobRequest
from queue_system.errors import FieldViolation, InvalidArgumentError
from queue_system.events import queue_events
from queue_system.keys import NORMAL_LANE
from queue_system.manager import QueueManager
from queue_system.options import duration_ms
from queue_system.producer import Added
from queue_system.reads import MAX_PAGE
from queue_system.stream_hub import StreamHub
from queue_system.tokens import not_our_token, page_size_violations
from service_kit.idempotency import Idempotent, job_id_for
from service_kit.watch import watch

M = TypeVar("M", bound=Message)
Ctx = grpc.aio.ServicerContext[Any, Any]

_FINISHED: dict[int, Literal["failed", "completed"]] = {
    env.JOB_STATE_UNSPECIFIED: "failed",
    env.JOB_STATE_FAILED: "failed",
    env.JOB_STATE_COMPLETED: "completed",
}
_CLEANABLE: dict[int, Literal["completed", "failed", "delayed", "waiting"]] = {
    env.JOB_STATE_COMPLETED: "completed",
    env.JOB_STATE_FAILED: "failed",
    env.JOB_STATE_DELAYED: "delayed",
    env.JOB_STATE_WAITING: "waiting",
}


def _require(value: str, field: str) -> None:
    if not value:
        raise InvalidArgumentError([FieldViolation(field, "required")])


def _page_size(size: int) -> None:
    bad = page_size_violations(size, MAX_PAGE)
    if bad:
        raise InvalidArgumentError(bad)


def _with_derived_job_id(options: env.JobOptions, request_id: str, index: int) -> env.JobOptions:
    """With a request_id and no job_id, the job id derives from the request: a retried add is a no-op."""
    if not request_id or options.job_id:
        return options
    derived = env.JobOptions()
    derived.CopyFrom(options)
    derived.job_id = job_id_for(request_id, index)
    return derived


def _answer(added: Added) -> pb.EnqueueJobResponse:
    state = (
        env.JOB_STATE_DELAYED
        if added.delayed
        else (env.JOB_STATE_WAITING if added.lane == NORMAL_LANE else env.JOB_STATE_PRIORITIZED)
    )
    return pb.EnqueueJobResponse(
        job_id=added.job_id, queue=added.queue, duplicate=not added.added, state=state
    )


class QueueServicer(pb_grpc.QueueServiceServicer):
    """jobmesh.queue.v1.QueueService over one QueueManager; watches read through `hub`."""

    def __init__(self, manager: QueueManager, hub: StreamHub) -> None:
        self.manager = manager
        self.hub = hub
        self._once = Idempotent(manager.client, manager.settings.queue_prefix, "QueueService")

    async def EnqueueJob(self, request: pb.EnqueueJobRequest, context: Ctx) -> pb.EnqueueJobResponse:
        async def add() -> pb.EnqueueJobResponse:
            options = _with_derived_job_id(request.options, request.request_id, 0)
            trace = request.trace if request.HasField("trace") else None
            return _answer(await self.manager.add_job(request.queue, request.payload, options, trace=trace))

        return await self._once("EnqueueJob", request.request_id, pb.EnqueueJobResponse, add)

    async def EnqueueJobs(self, request: pb.EnqueueJobsRequest, context: Ctx) -> pb.EnqueueJobsResponse:
        async def add() -> pb.EnqueueJobsResponse:
            reqs = []
            for i, spec in enumerate(request.jobs):
                options = _with_derived_job_id(spec.options, request.request_id, i)
                reqs.append(
                    JobRequest(
                        spec.queue, spec.payload, options, spec.trace if spec.HasField("trace") else None
                    )
                )
            added = await self.manager.add_jobs(reqs)
            return pb.EnqueueJobsResponse(results=[_answer(a) for a in added])

        return await self._once("EnqueueJobs", request.request_id, pb.EnqueueJobsResponse, add)

    async def GetJob(self, request: pb.GetJobRequest, context: Ctx) -> pb.GetJobResponse:
        self.manager.queue(request.queue)
        _require(request.job_id, "job_id")
        return pb.GetJobResponse(job=await self.manager.get_job(request.queue, request.job_id))

    async def ListJobs(self, request: pb.ListJobsRequest, context: Ctx) -> pb.ListJobsResponse:
        self.manager.queue(request.queue)
        _page_size(request.page_size)
        if request.state == env.JOB_STATE_UNSPECIFIED or request.state not in env.JobState.values():
            raise InvalidArgumentError([FieldViolation("state", "required: one job state (not UNSPECIFIED)")])
        jobs, token = await self.manager.list_jobs(
            request.queue, request.state, request.page_size, request.page_token
        )
        return pb.ListJobsResponse(jobs=jobs, next_page_token=token)

    async def CancelJob(self, request: pb.CancelJobRequest, context: Ctx) -> pb.CancelJobResponse:
        self.manager.queue(request.queue)
        _require(request.job_id, "job_id")

        async def cancel() -> pb.CancelJobResponse:
            return pb.CancelJobResponse(job=await self.manager.cancel_job(request.queue, request.job_id))

        return await self._once("CancelJob", request.request_id, pb.CancelJobResponse, cancel)

    async def GetQueueStats(self, request: pb.GetQueueStatsRequest, context: Ctx) -> pb.GetQueueStatsResponse:
        return pb.GetQueueStatsResponse(stats=await self.manager.get_queue_stats(request.queue))

    async def ListQueueStats(
        self, request: pb.ListQueueStatsRequest, context: Ctx
    ) -> pb.ListQueueStatsResponse:
        _page_size(request.page_size)
        names = list(self.manager.queues)
        start = 0
        if request.page_token:
            if request.page_token not in names:
                raise not_our_token("page_token")
            start = names.index(request.page_token)
        size = request.page_size or len(names)
        page = names[start : start + size]
        stats = [await self.manager.get_queue_stats(q) for q in page]
        following = names[start + size] if start + size < len(names) else ""
        return pb.ListQueueStatsResponse(stats=stats, next_page_token=following)

    async def PauseQueue(self, request: pb.PauseQueueRequest, context: Ctx) -> pb.PauseQueueResponse:
        self.manager.queue(request.queue)

        async def pause() -> pb.PauseQueueResponse:
            await self.manager.pause(request.queue, request.request_id)
            return pb.PauseQueueResponse(stats=await self.manager.get_queue_stats(request.queue))

        return await self._once("PauseQueue", request.request_id, pb.PauseQueueResponse, pause)

    async def ResumeQueue(self, request: pb.ResumeQueueRequest, context: Ctx) -> pb.ResumeQueueResponse:
        self.manager.queue(request.queue)

        async def resume() -> pb.ResumeQueueResponse:
            await self.manager.resume(request.queue, request.request_id)
            return pb.ResumeQueueResponse(stats=await self.manager.get_queue_stats(request.queue))

        return await self._once("ResumeQueue", request.request_id, pb.ResumeQueueResponse, resume)

    async def RetryJobs(self, request: pb.RetryJobsRequest, context: Ctx) -> pb.RetryJobsResponse:
        self.manager.queue(request.queue)
        which = _FINISHED.get(request.state)
        if which is None:
            raise InvalidArgumentError([FieldViolation("state", "must be FAILED (the default) or COMPLETED")])
        if any(not job_id for job_id in request.job_ids):
            raise InvalidArgumentError([FieldViolation("job_ids", "must not hold empty ids")])

        async def redrive() -> pb.RetryJobsResponse:
            ids = await self.manager.redrive(request.queue, which, list(request.job_ids), request.limit)
            return pb.RetryJobsResponse(retried=len(ids), job_ids=ids)

        return await self._once("RetryJobs", request.request_id, pb.RetryJobsResponse, redrive)

    async def CleanQueue(self, request: pb.CleanQueueRequest, context: Ctx) -> pb.CleanQueueResponse:
        self.manager.queue(request.queue)
        which = _CLEANABLE.get(request.state)
        if which is None:
            raise InvalidArgumentError(
                [FieldViolation("state", "must be COMPLETED, FAILED, DELAYED or WAITING")]
            )
        grace = duration_ms(request.grace)
        if grace < 0:
            raise InvalidArgumentError([FieldViolation("grace", "must not be negative")])

        async def clean() -> pb.CleanQueueResponse:
            ids = await self.manager.clean(request.queue, which, grace, request.limit, request.request_id)
            return pb.CleanQueueResponse(removed=len(ids), job_ids=ids)

        return await self._once("CleanQueue", request.request_id, pb.CleanQueueResponse, clean)

    async def DrainQueue(self, request: pb.DrainQueueRequest, context: Ctx) -> pb.DrainQueueResponse:
        self.manager.queue(request.queue)

        async def drain() -> pb.DrainQueueResponse:
            return pb.DrainQueueResponse(
                removed=await self.manager.drain(request.queue, request.include_delayed, request.request_id)
            )

        return await self._once("DrainQueue", request.request_id, pb.DrainQueueResponse, drain)

    async def WatchQueueEvents(
        self, request: pb.WatchQueueEventsRequest, context: Ctx
    ) -> AsyncIterator[pb.WatchQueueEventsResponse]:
        names = list(request.queues) or list(self.manager.queues)
        queues = [self.manager.queue(q, field=f"queues[{i}]") for i, q in enumerate(names)]

        async def snapshot() -> pb.QueueStatsSnapshot:
            return pb.QueueStatsSnapshot(stats=[await self.manager.get_queue_stats(q.name) for q in queues])

        async for response in watch(
            self.hub,
            queue_events(queues, frozenset(request.events)),
            request.resume_token,
            snapshot=snapshot,
            first=lambda token, stats: pb.WatchQueueEventsResponse(resume_token=token, snapshot=stats),
            then=lambda token, event: pb.WatchQueueEventsResponse(resume_token=token, event=event),
        ):
            yield response
