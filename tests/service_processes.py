"""Run jobmesh services as real processes on free ports, and ask them about their health.

Tests start services exactly as an operator does (`python -m <module>` with
environment variables), each on ports of its own, so they can run beside a
mesh that already uses the default ports.
"""

from __future__ import annotations

import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from service_kit.settings import SERVICES, ServiceSpec

ROOT = Path(__file__).resolve().parents[1]
SPECS = {s.module: s for s in SERVICES}

# What each service serves besides health and reflection.
# Every service also serves the kit's AuditService (the audit trail is one stream all share).
AUDIT = "jobmesh.auth.v1.AuditService"
SERVED: dict[str, set[str]] = {
    "trading_svc": {"jobmesh.trading.v1.TradingService", "jobmesh.queue.v1.QueueService", AUDIT},
    "worker_financial": {"jobmesh.worker.v1.WorkerService", "jobmesh.financial.v1.FinancialService", AUDIT},
    "worker_trading": {"jobmesh.worker.v1.WorkerService", AUDIT},
    "dlq_svc": {"jobmesh.dlq.v1.DeadLetterService", AUDIT},
}
HEALTH = "grpc.health.v1.Health"
REFLECTION = "grpc.reflection.v1alpha.ServerReflection"


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_handed_out: set[int] = set()


def free_port() -> int:
    """A free port below the ephemeral range, never handed out twice in this process.

    bind(0) would pick from the ephemeral range, where the outgoing connections of
    every other test also take their local ports, so a port found free there may be
    taken before the service binds it. Below that range nothing is picked implicitly.
    """
    low, high = 20000, min(_ephemeral_low(), 32768) - 1
    for _ in range(1000):
        port = random.randint(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {low}-{high}")


# One folder per test session: two sessions (two checkouts, or a run beside CI) sharing one
# ledger file would see each other's accounts and schema revisions.
_SESSION_DATA_DIR = Path(tempfile.mkdtemp(prefix="jobmesh-test-data-"))
atexit.register(shutil.rmtree, _SESSION_DATA_DIR, ignore_errors=True)


def base_env(**extra: str) -> dict[str, str]:
    """The test process's environment, with the repository importable, plus `extra`; without a
    JOBMESH_DATA_DIR, worker-financial's SQLite ledger goes in the temporary folder, not $HOME."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "gen")])
    env.setdefault("JOBMESH_DATA_DIR", str(_SESSION_DATA_DIR))
    env.update(extra)
    return env


def run_module(module: str, env: Mapping[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run `python -m module` to completion (for start-up failures)."""
    return subprocess.run(
        [sys.executable, "-m", module],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class ServiceProcess:
    """One service as a child process, with its ports and a channel to it."""

    spec: ServiceSpec
    redis_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    grpc_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    # TLS to the service (JOBMESH_TLS_* in extra_env); None: plaintext
    credentials: grpc.ChannelCredentials | None = None
    _channel: grpc.Channel | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def channel(self) -> grpc.Channel:
        if self._channel is None:
            self._channel = (
                grpc.secure_channel(self.address, self.credentials) if self.credentials is not None
                else grpc.insecure_channel(self.address)
            )
        return self._channel

    def env(self) -> dict[str, str]:
        stem = self.spec.env_stem
        return base_env(
            REDIS_URL=self.redis_url,
            **{f"{stem}_PORT": str(self.grpc_port), f"{stem}_METRICS_PORT": str(self.metrics_port)},
            **self.extra_env,
        )

    def start(self) -> ServiceProcess:
        fd, name = tempfile.mkstemp(prefix=f"{self.spec.module}-", suffix=".log")
        self.log_path = Path(name)
        with os.fdopen(fd, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.spec.module],
                env=self.env(),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def health(self, service: str = "") -> str:
        """Status name of `service` ("" = overall), or the gRPC code when the Check fails."""
        stub = health_pb2_grpc.HealthStub(self.channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1.0)
        except grpc.RpcError as exc:
            return f"error:{exc.code().name}"
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

    def statuses(self) -> dict[str, str]:
        """Health of the overall server and of every service it serves."""
        return {name: self.health(name) for name in ("", *sorted(SERVED[self.spec.module]))}

    def terminate(self, timeout: float = 20) -> int:
        """SIGTERM and wait; the exit code (SIGKILL after `timeout`, then -9)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._channel is not None:
            self._channel.close()
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)


def stop_all(services: Iterable[ServiceProcess], timeout: float = 20) -> dict[str, int]:
    """SIGTERM every service at once, wait for each; module -> exit code."""
    services = list(services)
    for svc in services:
        if svc.alive() and svc.proc is not None:
            svc.proc.send_signal(signal.SIGTERM)
    codes = {}
    for svc in services:
        assert svc.proc is not None
        try:
            codes[svc.spec.module] = svc.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            svc.proc.kill()
            codes[svc.spec.module] = svc.proc.wait()
        svc.close()
    return codes


def start_all(redis_url: str, **extra_env: str) -> dict[str, ServiceProcess]:
    """The four services as processes on free ports, against `redis_url` (not yet waited for)."""
    return {
        module: ServiceProcess(spec, redis_url, dict(extra_env)).start() for module, spec in SPECS.items()
    }


def wait_for(
    services: Iterable[ServiceProcess], status: str, timeout: float = 20.0, every: float = 0.1
) -> float:
    """Wait until every service's overall and per-service health is `status`; the seconds it took."""
    start = time.monotonic()
    pending = list(services)
    last: dict[str, dict[str, str]] = {}
    while pending:
        for svc in list(pending):
            if not svc.alive():
                raise AssertionError(f"{svc.spec.module} exited early:\n{svc.log()}")
            last[svc.spec.module] = statuses = svc.statuses()
            if all(s == status for s in statuses.values()):
                pending.remove(svc)
        if not pending:
            break
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not {status} within {timeout}s: {last}")
        time.sleep(every)
    return time.monotonic() - start


def samples(url: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Values of one metric on a /metrics page, by sorted label pairs."""
    with urllib.request.urlopen(url, timeout=5) as reply:
        text = reply.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                out[tuple(sorted(s.labels.items()))] = s.value
    return out


def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Poll `check` until it holds (a test's deadline, not a sleep)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@contextmanager
def serving_mesh(redis_url: str) -> Iterator[dict[str, ServiceProcess]]:
    """The four services, each SERVING on free ports with a QUEUE_PREFIX of their own; stopped after."""
    services = start_all(redis_url, QUEUE_PREFIX=f"t{uuid.uuid4().hex[:10]}")
    try:
        wait_for(services.values(), "SERVING")
        yield services
    finally:
        stop_all(services.values())
