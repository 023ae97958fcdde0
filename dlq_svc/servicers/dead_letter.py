"""DeadLetterService over the wire: inspect, retry, discard and redrive dead letters; watch alerts.

Thin by design: the classification, recovery and pattern detection live in
the dead-letter domain modules of `dlq_svc` (a later issue). Until they exist
every RPC answers UNIMPLEMENTED, naming what is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NoReturn

import grpc

from jobmesh.dlq.v1 import dead_letter_service_pb2 as pb
from jobmesh.dlq.v1 import dead_letter_service_pb2_grpc as pb_grpc
from queue_system.errors import NotImplementedYetError


def _missing(rpc: str) -> NoReturn:
    raise NotImplementedYetError(f"DeadLetterService.{rpc}: the dead-letter service is not built yet")


class DeadLetterServicer(pb_grpc.DeadLetterServiceServicer):
    """jobmesh.dlq.v1.DeadLetterService."""

    async def GetDeadLetterStats(
        self, request: pb.GetDeadLetterStatsRequest,
        context: grpc.aio.ServicerContext[pb.GetDeadLetterStatsRequest, pb.GetDeadLetterStatsResponse],
    ) -> pb.GetDeadLetterStatsResponse:
        _missing("GetDeadLetterStats")

    async def ListDeadLetters(
        self, request: pb.ListDeadLettersRequest,
        context: grpc.aio.ServicerContext[pb.ListDeadLettersRequest, pb.ListDeadLettersResponse],
    ) -> pb.ListDeadLettersResponse:
        _missing("ListDeadLetters")

    async def GetDeadLetter(
        self, request: pb.GetDeadLetterRequest,
        context: grpc.aio.ServicerContext[pb.GetDeadLetterRequest, pb.GetDeadLetterResponse],
    ) -> pb.GetDeadLetterResponse:
        _missing("GetDeadLetter")

    async def RetryDeadLetter(
        self, request: pb.RetryDeadLetterRequest,
        context: grpc.aio.ServicerContext[pb.RetryDeadLetterRequest, pb.RetryDeadLetterResponse],
    ) -> pb.RetryDeadLetterResponse:
        _missing("RetryDeadLetter")

    async def DiscardDeadLetter(
        self, request: pb.DiscardDeadLetterRequest,
        context: grpc.aio.ServicerContext[pb.DiscardDeadLetterRequest, pb.DiscardDeadLetterResponse],
    ) -> pb.DiscardDeadLetterResponse:
        _missing("DiscardDeadLetter")

    async def RedriveDeadLetters(
        self, request: pb.RedriveDeadLettersRequest,
        context: grpc.aio.ServicerContext[pb.RedriveDeadLettersRequest, pb.RedriveDeadLettersResponse],
    ) -> pb.RedriveDeadLettersResponse:
        _missing("RedriveDeadLetters")

    async def WatchAlerts(
        self, request: pb.WatchAlertsRequest,
        context: grpc.aio.ServicerContext[pb.WatchAlertsRequest, pb.WatchAlertsResponse],
    ) -> AsyncIterator[pb.WatchAlertsResponse]:
        _missing("WatchAlerts")
        yield pb.WatchAlertsResponse()  # an async generator, like the real stream will be
