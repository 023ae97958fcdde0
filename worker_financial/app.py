"""worker-financial: wires WorkerService, over the financial queues, into the shared server runner."""

from __future__ import annotations

from collections.abc import Sequence

from jobmesh.worker.v1 import worker_service_pb2, worker_service_pb2_grpc
from queue_system.catalog import FINANCIAL_QUEUES
from queue_system.server import ServedService, ServiceContext, run_service, served
from queue_system.worker_service import WorkerServicer


def build(context: ServiceContext) -> Sequence[ServedService]:
    return [
        served(
            worker_service_pb2, "WorkerService",
            worker_service_pb2_grpc.add_WorkerServiceServicer_to_server, WorkerServicer(FINANCIAL_QUEUES),
        ),
    ]


def main() -> None:
    run_service("worker_financial", build)
