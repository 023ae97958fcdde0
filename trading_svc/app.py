"""trading-svc: wires TradingService and QueueService into the shared server runner."""

from __future__ import annotations

from collections.abc import Sequence

from jobmesh.queue.v1 import queue_service_pb2, queue_service_pb2_grpc
from jobmesh.trading.v1 import trading_service_pb2, trading_service_pb2_grpc
from queue_system.server import ServedService, ServiceContext, run_service, served
from trading_svc.queue_servicer import QueueServicer
from trading_svc.trading_servicer import TradingServicer


def build(context: ServiceContext) -> Sequence[ServedService]:
    return [
        served(
            trading_service_pb2, "TradingService",
            trading_service_pb2_grpc.add_TradingServiceServicer_to_server, TradingServicer(),
        ),
        served(
            queue_service_pb2, "QueueService",
            queue_service_pb2_grpc.add_QueueServiceServicer_to_server, QueueServicer(),
        ),
    ]


def main() -> None:
    run_service("trading_svc", build)
