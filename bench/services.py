"""jobmesh services as child processes of the bench: started as an operator starts them, on free ports.

Each runs as `python -m <module>` (or, to profile it, under `python -m
bench.profiled <module> <stats file>`) with the bench's environment (its
Redis, its prefix) plus the service's ports, and is ready once its health
check answers SERVING. Its log goes to a temporary file whose tail is shown
when it fails to start; stop() sends SIGTERM (the service's graceful stop).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import grpc
from grpc_health.v1 import health_pb2

from jobmesh.trading.v1 import trading_service_pb2_grpc as trading_grpc
from service_kit.settings import SERVICE_BY_MODULE

ROOT: Final = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S: Final = 30.0


def free_port() -> int:
    """A free port below the ephemeral range (as tests/servicekit.py picks them)."""
    try:
        low_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low_ephemeral = 32768
    for _ in range(1000):
        port = random.randint(20000, min(low_ephemeral, 32768) - 1)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


def trading_stub(channel: grpc.aio.Channel) -> trading_grpc.TradingServiceStub:
    """TradingService's generated client stub on `channel`."""
    return trading_grpc.TradingServiceStub(channel)  # type: ignore[no-untyped-call]


def python_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with the repository importable, plus `extra`."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")]), **extra}


class ServiceChild:
    """One jobmesh service (`module`) as a child process, with a channel to it."""

    def __init__(self, module: str, env: Mapping[str, str], *, argv: Sequence[str] | None = None) -> None:
        self.module = module
        self.grpc_port, self.metrics_port = free_port(), free_port()
        self.argv = list(argv) if argv is not None else ["-m", module]
        stem = SERVICE_BY_MODULE[module].env_stem
        self.env = python_env(
            {
                **env,
                "JOBMESH_BIND_HOST": "127.0.0.1",
                f"{stem}_PORT": str(self.grpc_port),
                f"{stem}_METRICS_PORT": str(self.metrics_port),
            }
        )
        self.proc: asyncio.subprocess.Process | None = None
        fd, name = tempfile.mkstemp(prefix=f"bench-{module}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(name)
        self._channel: grpc.aio.Channel | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def channel(self) -> grpc.aio.Channel:
        """Made after the child is started: grpc warns about forking beside a live channel."""
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(self.address)
        return self._channel

    def unary(self, method: str, resp_type: Any) -> Callable[..., Awaitable[Any]]:
        call: Callable[..., Awaitable[Any]] = self.channel.unary_unary(
            method,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=resp_type.FromString,
        )
        return call

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, *self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=log
            )
        check = self.unary("/grpc.health.v1.Health/Check", health_pb2.HealthCheckResponse)
        deadline = time.monotonic() + READY_TIMEOUT_S
        status = "no answer"
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise RuntimeError(f"{self.module} exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                reply = await check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
                status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
                if status == "SERVING":
                    return
            except grpc.aio.AioRpcError as exc:
                status = exc.code().name
            await asyncio.sleep(0.1)
        raise RuntimeError(
            f"{self.module} not SERVING within {READY_TIMEOUT_S:.0f}s ({status}):\n{self.log_tail()}"
        )

    async def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM, and SIGKILL if it has not exited within `timeout_s`."""
        if self._channel is not None:
            await self._channel.close(None)
            self._channel = None
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout_s):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.log_path.unlink(missing_ok=True)
