"""worker-financial: runs the financial queues and serves WorkerService over them."""

from __future__ import annotations

from collections.abc import Sequence

from queue_system.catalog import FINANCIAL_QUEUES
from service_kit.server import ServedService, ServiceContext, run_service
from service_kit.worker_service import WorkerRole, build_worker


def build(context: ServiceContext) -> Sequence[ServedService]:
    return build_worker(context, WorkerRole(queues=FINANCIAL_QUEUES))


def main() -> None:
    run_service("worker_financial", build)
