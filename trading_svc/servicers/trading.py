"""TradingService over the wire: deploy, stop, inspect and watch trading strategies.

Thin by design: each RPC will decode its request, call the strategy FSM
(`trading_svc/fsm.py`, a later issue) and encode the answer. Until that FSM
exists every RPC answers UNIMPLEMENTED, naming what is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NoReturn

import grpc

from jobmesh.trading.v1 import trading_service_pb2 as pb
from jobmesh.trading.v1 import trading_service_pb2_grpc as pb_grpc
from queue_system.errors import NotImplementedYetError


def _missing(rpc: str) -> NoReturn:
    raise NotImplementedYetError(f"TradingService.{rpc}: the trading FSM is not built yet")


class TradingServicer(pb_grpc.TradingServiceServicer):
    """jobmesh.trading.v1.TradingService."""

    async def DeployStrategy(
        self, request: pb.DeployStrategyRequest,
        context: grpc.aio.ServicerContext[pb.DeployStrategyRequest, pb.DeployStrategyResponse],
    ) -> pb.DeployStrategyResponse:
        _missing("DeployStrategy")

    async def StopStrategy(
        self, request: pb.StopStrategyRequest,
        context: grpc.aio.ServicerContext[pb.StopStrategyRequest, pb.StopStrategyResponse],
    ) -> pb.StopStrategyResponse:
        _missing("StopStrategy")

    async def GetStrategy(
        self, request: pb.GetStrategyRequest,
        context: grpc.aio.ServicerContext[pb.GetStrategyRequest, pb.GetStrategyResponse],
    ) -> pb.GetStrategyResponse:
        _missing("GetStrategy")

    async def ListStrategies(
        self, request: pb.ListStrategiesRequest,
        context: grpc.aio.ServicerContext[pb.ListStrategiesRequest, pb.ListStrategiesResponse],
    ) -> pb.ListStrategiesResponse:
        _missing("ListStrategies")

    async def GetStrategyHistory(
        self, request: pb.GetStrategyHistoryRequest,
        context: grpc.aio.ServicerContext[pb.GetStrategyHistoryRequest, pb.GetStrategyHistoryResponse],
    ) -> pb.GetStrategyHistoryResponse:
        _missing("GetStrategyHistory")

    async def WatchStrategy(
        self, request: pb.WatchStrategyRequest,
        context: grpc.aio.ServicerContext[pb.WatchStrategyRequest, pb.WatchStrategyResponse],
    ) -> AsyncIterator[pb.WatchStrategyResponse]:
        _missing("WatchStrategy")
        yield pb.WatchStrategyResponse()  # an async generator, like the real stream will be

    async def GetSystemStatus(
        self, request: pb.GetSystemStatusRequest,
        context: grpc.aio.ServicerContext[pb.GetSystemStatusRequest, pb.GetSystemStatusResponse],
    ) -> pb.GetSystemStatusResponse:
        _missing("GetSystemStatus")

    async def EmergencyStopAll(
        self, request: pb.EmergencyStopAllRequest,
        context: grpc.aio.ServicerContext[pb.EmergencyStopAllRequest, pb.EmergencyStopAllResponse],
    ) -> pb.EmergencyStopAllResponse:
        _missing("EmergencyStopAll")
