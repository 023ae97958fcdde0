"""WorkerService over the wire, shared by worker-trading and worker-financial.

Both workers expose the same control surface (queue status, pause/resume,
cron schedules) over different queues, so one servicer takes the worker's
queue list. It stays thin: the queue core (issue 3) does the work, the cron
schedules come later. Until then every RPC answers UNIMPLEMENTED, naming
what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import grpc

from jobmesh.worker.v1 import worker_service_pb2 as pb
from jobmesh.worker.v1 import worker_service_pb2_grpc as pb_grpc
from queue_system.errors import NotImplementedYetError

QUEUE_CORE: str = "the queue core (issue 3)"
SCHEDULES: str = "the cron schedules"


def _missing(rpc: str, what: str) -> NoReturn:
    raise NotImplementedYetError(f"WorkerService.{rpc}: {what} is not built yet")


class WorkerServicer(pb_grpc.WorkerServiceServicer):
    """jobmesh.worker.v1.WorkerService for a worker that runs `queues`."""

    def __init__(self, queues: Sequence[str]) -> None:
        self.queues = tuple(queues)

    async def GetQueueStatus(
        self, request: pb.GetQueueStatusRequest,
        context: grpc.aio.ServicerContext[pb.GetQueueStatusRequest, pb.GetQueueStatusResponse],
    ) -> pb.GetQueueStatusResponse:
        _missing("GetQueueStatus", QUEUE_CORE)

    async def PauseQueues(
        self, request: pb.PauseQueuesRequest,
        context: grpc.aio.ServicerContext[pb.PauseQueuesRequest, pb.PauseQueuesResponse],
    ) -> pb.PauseQueuesResponse:
        _missing("PauseQueues", QUEUE_CORE)

    async def ResumeQueues(
        self, request: pb.ResumeQueuesRequest,
        context: grpc.aio.ServicerContext[pb.ResumeQueuesRequest, pb.ResumeQueuesResponse],
    ) -> pb.ResumeQueuesResponse:
        _missing("ResumeQueues", QUEUE_CORE)

    async def ListSchedules(
        self, request: pb.ListSchedulesRequest,
        context: grpc.aio.ServicerContext[pb.ListSchedulesRequest, pb.ListSchedulesResponse],
    ) -> pb.ListSchedulesResponse:
        _missing("ListSchedules", SCHEDULES)

    async def TriggerSchedule(
        self, request: pb.TriggerScheduleRequest,
        context: grpc.aio.ServicerContext[pb.TriggerScheduleRequest, pb.TriggerScheduleResponse],
    ) -> pb.TriggerScheduleResponse:
        _missing("TriggerSchedule", SCHEDULES)
