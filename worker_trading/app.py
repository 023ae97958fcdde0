"""worker-trading: runs the trading queues' processors and serves WorkerService over them."""

from __future__ import annotations

from collections.abc import Sequence

from queue_system.catalog import TRADING_QUEUES
from service_kit.server import ServedService, ServiceContext, run_service
from service_kit.worker_service import WorkerRole, build_worker
from worker_trading.tasks import register_tasks


def build(context: ServiceContext) -> Sequence[ServedService]:
    return build_worker(context, WorkerRole(queues=TRADING_QUEUES, register_tasks=register_tasks))


def main() -> None:
    run_service("worker_trading", build)
