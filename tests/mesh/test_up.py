"""`jobmesh up` end to end: private Redis, four SERVING services, a clean stop with Redis last.

The mesh runs as a user runs it (the console script, REDIS_URL unset), with
every port moved to a free one so the test can run beside a live mesh.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.service_processes import ROOT, SPECS, base_env, free_port

pytestmark = pytest.mark.slow

SERVICE_LINE = re.compile(
    r"^jobmesh: (?P<name>[\w-]+)\s+grpc (?P<address>\S+)\s+metrics (?P<metrics>\S+)\s+\(pid (?P<pid>\d+)\)$"
)
REDIS_LINE = re.compile(r"^jobmesh: Redis (?P<url>redis://127\.0\.0\.1:(?P<port>\d+)/0) \(private")
READY = "services SERVING"


def _command() -> list[str]:
    script = Path(sys.executable).with_name("jobmesh")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mesh"]


@dataclass
class RunningMesh:
    """A `jobmesh up` process and what it printed."""

    proc: subprocess.Popen[str]
    stderr_path: Path
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)
    _pump_thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

    def close(self) -> None:
        """After the process ended: let the reader drain the pipe, then close it."""
        if self._pump_thread is not None:
            self._pump_thread.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def read_until(self, text: str, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while not any(text in ln for ln in self.lines):
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {timeout}s:\n" + "\n".join(self.lines)) from None
            if line is None:
                output = "\n".join(self.lines) + self.stderr()
                raise AssertionError(f"jobmesh up ended before {text!r}:\n{output}")
            self.lines.append(line)
        return self.lines

    def finish(self, timeout: float) -> int:
        code = self.proc.wait(timeout)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return code

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def free_ports_env(**extra: str) -> dict[str, str]:
    """The test's environment with a free gRPC and metrics port for every service, plus `extra`."""
    ports = {}
    for spec in SPECS.values():
        ports[f"{spec.env_stem}_PORT"] = str(free_port())
        ports[f"{spec.env_stem}_METRICS_PORT"] = str(free_port())
    return base_env(**ports, **extra)


@contextlib.contextmanager
def running_up(*args: str, env: dict[str, str]) -> Iterator[RunningMesh]:
    """`jobmesh up --timeout 40 ARGS` as a user runs it; SIGTERM (then SIGKILL) when the test is done."""
    fd, name = tempfile.mkstemp(prefix="jobmesh-up-", suffix=".log")
    with os.fdopen(fd, "w") as err:
        proc = subprocess.Popen(
            [*_command(), "up", "--timeout", "40", *args], env=env, cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=err,
        )
    mesh = RunningMesh(proc, Path(name))
    try:
        yield mesh
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        mesh.close()
        Path(name).unlink(missing_ok=True)


@pytest.fixture
def mesh_up() -> Iterator[RunningMesh]:
    env = free_ports_env()
    assert "REDIS_URL" not in env
    with running_up(env=env) as mesh:
        yield mesh


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _started(mesh: RunningMesh) -> tuple[int, dict[str, re.Match[str]]]:
    lines = mesh.read_until(READY, timeout=60)
    redis = next(m for ln in lines if (m := REDIS_LINE.match(ln)))
    services = {m["name"]: m for ln in lines if (m := SERVICE_LINE.match(ln))}
    assert set(services) == {s.name for s in SPECS.values()}
    return int(redis["port"]), services


def test_up_starts_everything_and_ctrl_c_stops_it_redis_last(mesh_up: RunningMesh) -> None:
    redis_port, services = _started(mesh_up)
    assert _listening(redis_port)
    for m in services.values():
        with grpc.insecure_channel(m["address"]) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, m["name"]
        with urllib.request.urlopen(m["metrics"], timeout=5) as page:
            assert page.status == 200

    mesh_up.proc.send_signal(signal.SIGINT)
    assert mesh_up.finish(timeout=60) == 0, "\n".join(mesh_up.lines) + mesh_up.stderr()

    tail = mesh_up.lines[mesh_up.lines.index(next(ln for ln in mesh_up.lines if "SIGINT" in ln)):]
    stopped = [ln for ln in tail if ln.endswith("stopped (exit 0)")]
    assert len(stopped) == 4, tail
    assert tail.index("jobmesh: Redis stopped") > max(tail.index(ln) for ln in stopped)
    assert tail[-1] == "jobmesh: stopped"
    assert not _listening(redis_port)
    for m in services.values():
        assert not _pid_alive(int(m["pid"])), m["name"]
        assert not _listening(int(m["address"].rpartition(":")[2])), m["name"]


def test_a_dying_service_stops_the_mesh_with_an_error(mesh_up: RunningMesh) -> None:
    redis_port, services = _started(mesh_up)
    os.kill(int(services["worker-trading"]["pid"]), signal.SIGKILL)

    assert mesh_up.finish(timeout=60) == 1
    assert "worker-trading exited unexpectedly" in mesh_up.stderr()
    assert "jobmesh: Redis stopped" in mesh_up.lines
    assert not _listening(redis_port)
    for m in services.values():
        assert not _pid_alive(int(m["pid"])), m["name"]
