"""dlq-svc: wires DeadLetterService into the shared server runner."""

from __future__ import annotations

from collections.abc import Sequence

from dlq_svc.servicers.dead_letter import DeadLetterServicer
from jobmesh.dlq.v1 import dead_letter_service_pb2, dead_letter_service_pb2_grpc
from service_kit.server import ServedService, ServiceContext, run_service, served


def build(context: ServiceContext) -> Sequence[ServedService]:
    return [
        served(
            dead_letter_service_pb2, "DeadLetterService",
            dead_letter_service_pb2_grpc.add_DeadLetterServiceServicer_to_server, DeadLetterServicer(),
        ),
    ]


def main() -> None:
    run_service("dlq_svc", build)
