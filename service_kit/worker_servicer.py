"""WorkerService over the wire, shared by worker-trading and worker-financial.

Both workers expose the same control surface over different queues, so one
servicer takes the worker's queue list. Queue status and global pause/resume
are the queue core's; the cron schedules (ListSchedules, TriggerSchedule,
PauseSchedule, ResumeSchedule) are whatever `Schedules` the worker service
brings (worker_service.WorkerRole); a worker with none lists none and knows
no schedule name (NOT_FOUND).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import grpc

from jobmesh.queue.v1 import queue_pb2
from jobmesh.worker.v1 import worker_service_pb2 as pb
from jobmesh.worker.v1 import worker_service_pb2_grpc as pb_grpc
from queue_system.errors import FieldViolation, InvalidArgumentError
from queue_system.manager import QueueManager
from queue_system.reads import MAX_PAGE
from queue_system.tokens import page_size_violations
from service_kit.idempotency import Idempotent
from service_kit.schedule_book import NoSchedules

Ctx = grpc.aio.ServicerContext[Any, Any]


class Schedules(Protocol):
    """A worker service's cron schedules, as WorkerService shows and triggers them."""

    async def page(self, page_size: int, page_token: str) -> tuple[list[pb.Schedule], str]:
        """One page of schedules and the next page's token ('' at the end)."""
        ...

    async def trigger(self, name: str, request_id: str) -> tuple[Sequence[str], str]:
        """Enqueue schedule `name`'s jobs now: (job ids, queue). NotFoundError for an unknown name."""
        ...

    async def pause(self, name: str, note: str) -> pb.Schedule:
        """Pause schedule `name` for every replica; NotFoundError for an unknown name."""
        ...

    async def resume(self, name: str, note: str) -> pb.Schedule:
        """Resume schedule `name`; NotFoundError for an unknown name."""
        ...


def _checked_name(name: str) -> None:
    """A schedule RPC names its schedule (its bound, and the note's, is service_kit.bounds')."""
    if not name:
        raise InvalidArgumentError(
            [FieldViolation("name", "required: the schedule's name (ListSchedules names them)")]
        )


class WorkerServicer(pb_grpc.WorkerServiceServicer):
    """jobmesh.worker.v1.WorkerService for a worker that runs `queues`."""

    def __init__(
        self,
        name: str,
        queues: Sequence[str],
        manager: QueueManager,
        running: Callable[[], int],
        schedules: Schedules | None = None,
    ) -> None:
        self.name = name
        self.schedules: Schedules = schedules if schedules is not None else NoSchedules()
        self.queues = tuple(queues)
        self.manager = manager
        self.running = running
        self._once = Idempotent(manager.client, manager.settings.queue_prefix, f"{name}.WorkerService")

    def _chosen(self, requested: Sequence[str]) -> list[str]:
        bad = [
            FieldViolation(f"queues[{i}]", f"not a queue of {self.name}; one of: {', '.join(self.queues)}")
            for i, q in enumerate(requested)
            if q not in self.queues
        ]
        if bad:
            raise InvalidArgumentError(bad)
        return list(requested) or list(self.queues)

    async def _stats(self, queues: Sequence[str]) -> list[queue_pb2.QueueStats]:
        return [await self.manager.get_queue_stats(q) for q in queues]

    async def _set_paused(
        self,
        rpc: str,
        request_id: str,
        queues: Sequence[str],
        paused: bool,
        response: Callable[[list[queue_pb2.QueueStats]], Any],
    ) -> Any:
        chosen = self._chosen(queues)

        async def apply() -> Any:
            for q in chosen:
                await (self.manager.pause(q, request_id) if paused else self.manager.resume(q, request_id))
            return response(await self._stats(chosen))

        return await self._once(rpc, request_id, type(response([])), apply)

    async def GetQueueStatus(
        self, request: pb.GetQueueStatusRequest, context: Ctx
    ) -> pb.GetQueueStatusResponse:
        return pb.GetQueueStatusResponse(
            worker=self.name, queues=await self._stats(self.queues), running=self.running()
        )

    async def PauseQueues(self, request: pb.PauseQueuesRequest, context: Ctx) -> pb.PauseQueuesResponse:
        answer: pb.PauseQueuesResponse = await self._set_paused(
            "PauseQueues",
            request.request_id,
            request.queues,
            True,
            lambda s: pb.PauseQueuesResponse(queues=s),
        )
        return answer

    async def ResumeQueues(self, request: pb.ResumeQueuesRequest, context: Ctx) -> pb.ResumeQueuesResponse:
        answer: pb.ResumeQueuesResponse = await self._set_paused(
            "ResumeQueues",
            request.request_id,
            request.queues,
            False,
            lambda s: pb.ResumeQueuesResponse(queues=s),
        )
        return answer

    async def ListSchedules(self, request: pb.ListSchedulesRequest, context: Ctx) -> pb.ListSchedulesResponse:
        bad = page_size_violations(request.page_size, MAX_PAGE)
        if bad:
            raise InvalidArgumentError(bad)
        schedules, token = await self.schedules.page(request.page_size, request.page_token)
        return pb.ListSchedulesResponse(schedules=schedules, next_page_token=token)

    async def TriggerSchedule(
        self, request: pb.TriggerScheduleRequest, context: Ctx
    ) -> pb.TriggerScheduleResponse:
        _checked_name(request.name)

        async def trigger() -> pb.TriggerScheduleResponse:
            job_ids, queue = await self.schedules.trigger(request.name, request.request_id)
            first = job_ids[0] if job_ids else ""
            return pb.TriggerScheduleResponse(job_id=first, queue=queue, job_ids=job_ids)

        return await self._once("TriggerSchedule", request.request_id, pb.TriggerScheduleResponse, trigger)

    async def PauseSchedule(self, request: pb.PauseScheduleRequest, context: Ctx) -> pb.PauseScheduleResponse:
        _checked_name(request.name)

        async def pause() -> pb.PauseScheduleResponse:
            return pb.PauseScheduleResponse(schedule=await self.schedules.pause(request.name, request.note))

        return await self._once("PauseSchedule", request.request_id, pb.PauseScheduleResponse, pause)

    async def ResumeSchedule(
        self, request: pb.ResumeScheduleRequest, context: Ctx
    ) -> pb.ResumeScheduleResponse:
        _checked_name(request.name)

        async def resume() -> pb.ResumeScheduleResponse:
            return pb.ResumeScheduleResponse(schedule=await self.schedules.resume(request.name, request.note))

        return await self._once("ResumeSchedule", request.request_id, pb.ResumeScheduleResponse, resume)
