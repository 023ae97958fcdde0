"""PLACEHOLDER QueueService: every RPC answers UNIMPLEMENTED until the queue core exists.

The queue core (issue 3) replaces this file with the real servicer: enqueue,
inspect, pause/resume, retry, clean, drain and watch the eight queues.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NoReturn

import grpc

from jobmesh.queue.v1 import queue_service_pb2 as pb
from jobmesh.queue.v1 import queue_service_pb2_grpc as pb_grpc
from queue_system.errors import NotImplementedYetError


def _missing(rpc: str) -> NoReturn:
    raise NotImplementedYetError(f"QueueService.{rpc}: the queue core (issue 3) is not built yet")


class QueueServicer(pb_grpc.QueueServiceServicer):
    """jobmesh.queue.v1.QueueService (placeholder)."""

    async def EnqueueJob(
        self, request: pb.EnqueueJobRequest,
        context: grpc.aio.ServicerContext[pb.EnqueueJobRequest, pb.EnqueueJobResponse],
    ) -> pb.EnqueueJobResponse:
        _missing("EnqueueJob")

    async def EnqueueJobs(
        self, request: pb.EnqueueJobsRequest,
        context: grpc.aio.ServicerContext[pb.EnqueueJobsRequest, pb.EnqueueJobsResponse],
    ) -> pb.EnqueueJobsResponse:
        _missing("EnqueueJobs")

    async def GetJob(
        self, request: pb.GetJobRequest,
        context: grpc.aio.ServicerContext[pb.GetJobRequest, pb.GetJobResponse],
    ) -> pb.GetJobResponse:
        _missing("GetJob")

    async def ListJobs(
        self, request: pb.ListJobsRequest,
        context: grpc.aio.ServicerContext[pb.ListJobsRequest, pb.ListJobsResponse],
    ) -> pb.ListJobsResponse:
        _missing("ListJobs")

    async def CancelJob(
        self, request: pb.CancelJobRequest,
        context: grpc.aio.ServicerContext[pb.CancelJobRequest, pb.CancelJobResponse],
    ) -> pb.CancelJobResponse:
        _missing("CancelJob")

    async def GetQueueStats(
        self, request: pb.GetQueueStatsRequest,
        context: grpc.aio.ServicerContext[pb.GetQueueStatsRequest, pb.GetQueueStatsResponse],
    ) -> pb.GetQueueStatsResponse:
        _missing("GetQueueStats")

    async def ListQueueStats(
        self, request: pb.ListQueueStatsRequest,
        context: grpc.aio.ServicerContext[pb.ListQueueStatsRequest, pb.ListQueueStatsResponse],
    ) -> pb.ListQueueStatsResponse:
        _missing("ListQueueStats")

    async def PauseQueue(
        self, request: pb.PauseQueueRequest,
        context: grpc.aio.ServicerContext[pb.PauseQueueRequest, pb.PauseQueueResponse],
    ) -> pb.PauseQueueResponse:
        _missing("PauseQueue")

    async def ResumeQueue(
        self, request: pb.ResumeQueueRequest,
        context: grpc.aio.ServicerContext[pb.ResumeQueueRequest, pb.ResumeQueueResponse],
    ) -> pb.ResumeQueueResponse:
        _missing("ResumeQueue")

    async def RetryJobs(
        self, request: pb.RetryJobsRequest,
        context: grpc.aio.ServicerContext[pb.RetryJobsRequest, pb.RetryJobsResponse],
    ) -> pb.RetryJobsResponse:
        _missing("RetryJobs")

    async def CleanQueue(
        self, request: pb.CleanQueueRequest,
        context: grpc.aio.ServicerContext[pb.CleanQueueRequest, pb.CleanQueueResponse],
    ) -> pb.CleanQueueResponse:
        _missing("CleanQueue")

    async def DrainQueue(
        self, request: pb.DrainQueueRequest,
        context: grpc.aio.ServicerContext[pb.DrainQueueRequest, pb.DrainQueueResponse],
    ) -> pb.DrainQueueResponse:
        _missing("DrainQueue")

    async def WatchQueueEvents(
        self, request: pb.WatchQueueEventsRequest,
        context: grpc.aio.ServicerContext[pb.WatchQueueEventsRequest, pb.WatchQueueEventsResponse],
    ) -> AsyncIterator[pb.WatchQueueEventsResponse]:
        _missing("WatchQueueEvents")
        yield pb.WatchQueueEventsResponse()  # an async generator, like the real stream will be
