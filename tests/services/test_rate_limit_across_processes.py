"""The per-caller limit holds across processes: two replicas of a service together refuse above it.

Two worker-trading processes run on the shared Redis with one prefix, as two
replicas behind a load balancer would, with a limit of 4 state-changing calls a
minute. A caller alternating between them gets 4 calls in all, not 4 from each:
the fifth, on either, is RESOURCE_EXHAUSTED with RetryInfo saying when to call
again. Another caller still has its own 4.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from jobmesh.worker.v1 import worker_service_pb2 as pb
from jobmesh.worker.v1 import worker_service_pb2_grpc as pb_grpc
from service_kit.auth import credential_line, new_token
from tests.service_processes import SPECS, ServiceProcess, stop_all, wait_for

pytestmark = pytest.mark.slow

TOKENS = {"alice": new_token(), "bob": new_token()}


@pytest.fixture(scope="module")
def replicas(redis_url: str) -> Iterator[list[ServiceProcess]]:
    credentials = ";".join(credential_line(name, ["operator"], token) for name, token in TOKENS.items())
    env = {
        "QUEUE_PREFIX": f"t{uuid.uuid4().hex[:10]}",
        "JOBMESH_AUTH_TOKENS": credentials,
        "JOBMESH_AUTH_RATE_LIMIT": "4/60s",
    }
    services = [ServiceProcess(SPECS["worker_trading"], redis_url, dict(env)).start() for _ in range(2)]
    try:
        wait_for(services, "SERVING", timeout=60)
        yield services
    finally:
        stop_all(services)


def _resume(svc: ServiceProcess, caller: str) -> grpc.StatusCode | grpc.RpcError:
    stub = pb_grpc.WorkerServiceStub(svc.channel)
    try:
        stub.ResumeQueues(
            pb.ResumeQueuesRequest(), metadata=(("authorization", f"Bearer {TOKENS[caller]}"),), timeout=10
        )
    except grpc.RpcError as exc:
        return exc
    return grpc.StatusCode.OK


def test_two_processes_together_refuse_a_caller_above_the_limit(replicas: list[ServiceProcess]) -> None:
    started = time.monotonic()
    answers = [_resume(replicas[i % 2], "alice") for i in range(6)]
    elapsed_ms = (time.monotonic() - started) * 1000
    assert answers[:4] == [grpc.StatusCode.OK] * 4
    for refused in answers[4:]:  # one on each process
        assert isinstance(refused, grpc.RpcError)
        assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
        status: status_pb2.Status | None = rpc_status.from_call(refused)  # type: ignore[arg-type]
        assert status is not None
        retry = error_details_pb2.RetryInfo()
        assert any(d.Unpack(retry) for d in status.details if d.Is(retry.DESCRIPTOR))
        # 4 a minute: one every 15 s, counted from the first call (however slow a busy machine is).
        assert 15_000 - elapsed_ms - 100 < retry.retry_delay.ToMilliseconds() <= 15_000
    assert [_resume(replicas[i % 2], "bob") for i in range(4)] == [grpc.StatusCode.OK] * 4
