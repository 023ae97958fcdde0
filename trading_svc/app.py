"""trading-svc: wires TradingService, QueueService and the strategy driver into the shared server runner."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.exceptions import RedisError

from jobmesh.queue.v1 import queue_service_pb2, queue_service_pb2_grpc
from jobmesh.trading.v1 import trading_service_pb2, trading_service_pb2_grpc
from queue_system.manager import QueueManager
from queue_system.stream_hub import StreamHub
from service_kit.server import ServedService, ServiceContext, run_service, served
from trading_svc.driver import StrategyDriver
from trading_svc.runner import StrategyRunner
from trading_svc.servicers.queue import QueueServicer
from trading_svc.servicers.trading import TradingServicer
from trading_svc.store import StrategyStore

log = logging.getLogger(__name__)


def build(context: ServiceContext) -> Sequence[ServedService]:
    manager = QueueManager(context.settings.runtime, service=context.spec.name)
    runner = StrategyRunner(StrategyStore(manager.client, context.settings.runtime.queue_prefix), manager)

    async def create_groups() -> None:
        try:
            await manager.initialize()
        except RedisError as exc:  # Redis down at boot: the first add creates them instead
            log.warning("consumer groups not created yet (%s); the first add will", exc)

    context.on_startup(create_groups)
    context.run_in_background(manager.track_queue_depth)
    context.run_in_background(StrategyDriver(runner).run)
    context.on_shutdown(manager.close)
    # One reader of Redis streams for every watch of the process (closed before the client it uses).
    hub = StreamHub(manager.client)
    context.on_startup(hub.start)
    context.on_shutdown(hub.close)
    return [
        served(
            trading_service_pb2,
            "TradingService",
            trading_service_pb2_grpc.add_TradingServiceServicer_to_server,
            TradingServicer(runner, hub),
        ),
        served(
            queue_service_pb2,
            "QueueService",
            queue_service_pb2_grpc.add_QueueServiceServicer_to_server,
            QueueServicer(manager, hub),
        ),
    ]


def main() -> None:
    run_service("trading_svc", build)
