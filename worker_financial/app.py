"""worker-financial: runs the financial queues and serves WorkerService over them."""

from __future__ import annotations

from collections.abc import Sequence

from queue_system.catalog import FINANCIAL_QUEUES
from queue_system.server import ServedService, ServiceContext, run_service
from queue_system.worker_app import build_worker


def build(context: ServiceContext) -> Sequence[ServedService]:
    # WORKER_FINANCIAL_CONCURRENCY, when set, replaces every queue's WORKER_CONFIGS concurrency.
    return build_worker(context, FINANCIAL_QUEUES, context.settings.worker_financial_concurrency)


def main() -> None:
    run_service("worker_financial", build)
