"""Health follows Redis, for real: kill the redis-server, restart it, boot without it, shut down.

Every test runs the services as processes against a private redis-server
(`private_redis`), so killing it disturbs nobody else.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mesh.redis_server import RedisProcess
from tests.service_processes import SPECS, ServiceProcess, free_port, start_all, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def services(private_redis: RedisProcess) -> Iterator[dict[str, ServiceProcess]]:
    running = start_all(private_redis.url)
    try:
        yield running
    finally:
        for svc in running.values():
            svc.close()


def test_all_serving_while_redis_answers(services: dict[str, ServiceProcess]) -> None:
    wait_for(services.values(), "SERVING")


def test_redis_down_flips_every_service_to_not_serving_within_5s_and_back(
    services: dict[str, ServiceProcess], private_redis: RedisProcess
) -> None:
    wait_for(services.values(), "SERVING")
    pids = {m: s.proc.pid for m, s in services.items() if s.proc}

    private_redis.kill()
    took = wait_for(services.values(), "NOT_SERVING", timeout=5.0, every=0.05)
    assert took < 5.0
    print(f"NOT_SERVING everywhere {took:.2f}s after Redis died")

    private_redis.start()
    wait_for(services.values(), "SERVING", timeout=10.0)
    # the same processes, never restarted
    assert {m: s.proc.pid for m, s in services.items() if s.proc} == pids
    assert all(s.alive() for s in services.values())


def test_a_frozen_redis_counts_as_down(
    services: dict[str, ServiceProcess], private_redis: RedisProcess
) -> None:
    """A redis-server that accepts nothing (SIGSTOP) is caught by the PING timeout."""
    wait_for(services.values(), "SERVING")
    assert private_redis.proc is not None
    private_redis.proc.send_signal(signal.SIGSTOP)
    try:
        assert wait_for(services.values(), "NOT_SERVING", timeout=5.0, every=0.05) < 5.0
    finally:
        private_redis.proc.send_signal(signal.SIGCONT)
    wait_for(services.values(), "SERVING", timeout=10.0)


def test_a_service_starts_without_redis_and_serves_once_it_answers() -> None:
    redis = RedisProcess(port=free_port())
    svc = ServiceProcess(SPECS["dlq_svc"], redis.url).start()
    try:
        deadline = time.monotonic() + 20
        while svc.health() != "NOT_SERVING":  # up and answering, but not serving
            assert svc.alive(), svc.log()
            assert time.monotonic() < deadline, f"no NOT_SERVING answer: {svc.health()}"
            time.sleep(0.1)
        redis.start()
        wait_for([svc], "SERVING", timeout=10.0)
    finally:
        svc.close()
        redis.close()


def test_sigterm_reports_not_serving_then_exits_cleanly(private_redis: RedisProcess) -> None:
    svc = ServiceProcess(SPECS["worker_trading"], private_redis.url, {"JOBMESH_SHUTDOWN_GRACE_MS": "2000"})
    svc.start()
    try:
        wait_for([svc], "SERVING")
        watch = health_pb2_grpc.HealthStub(svc.channel).Watch(
            health_pb2.HealthCheckRequest(service=""), timeout=15
        )
        first = next(watch)
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        assert svc.proc is not None
        svc.proc.send_signal(signal.SIGTERM)
        statuses = []
        with contextlib.suppress(grpc.RpcError):  # the stream ends when the server stops
            statuses.extend(reply.status for reply in watch)
        assert statuses[:1] == [health_pb2.HealthCheckResponse.NOT_SERVING]
        assert svc.proc.wait(15) == 0, svc.log()
    finally:
        svc.close()
