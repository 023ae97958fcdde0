"""worker-trading: runs the trading queues and serves WorkerService over them."""

from __future__ import annotations

from collections.abc import Sequence

from queue_system.catalog import TRADING_QUEUES
from service_kit.server import ServedService, ServiceContext, run_service
from service_kit.worker_service import WorkerRole, build_worker


def build(context: ServiceContext) -> Sequence[ServedService]:
    return build_worker(context, WorkerRole(queues=TRADING_QUEUES))


def main() -> None:
    run_service("worker_trading", build)
