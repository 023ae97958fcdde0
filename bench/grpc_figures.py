"""`--grpc`: QueueService over the wire, against a trading_svc this bench starts.

trading_svc runs as a child process (`python -m trading_svc`) on free ports
with the bench's environment (prefix, queue settings). Three figures:

- EnqueueJobs in batches of 1,000 task jobs, one call at a time (as addBulk):
  jobs/s over N jobs;
- single EnqueueJob RPCs, one at a time: RPC/s (one round trip each);
- single EnqueueJob RPCs with `--grpc-inflight` calls in flight: RPC/s.

An RPC that answers UNIMPLEMENTED is reported as "UNIMPLEMENTED" (the figure
is then a string), as is any other failure's status code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2

from bench.jobmesh_phases import bench_env
from bench.options import BATCH, BenchOptions
from bench.payloads import QUEUE, task_payload
from jobmesh.queue.v1 import queue_service_pb2 as pb
from service_kit.settings import SERVICE_BY_MODULE

ROOT = Path(__file__).resolve().parents[1]
SERVICE = "jobmesh.queue.v1.QueueService"
READY_TIMEOUT_S = 30.0
Figure = float | str


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


class TradingSvc:
    """trading_svc as a child process, with a channel to it."""

    def __init__(self, opts: BenchOptions) -> None:
        self.opts = opts
        self.grpc_port, self.metrics_port = free_port(), free_port()
        self.proc: asyncio.subprocess.Process | None = None
        fd, name = tempfile.mkstemp(prefix="bench-trading-svc-", suffix=".log")
        os.close(fd)
        self.log_path = Path(name)
        self._channel: grpc.aio.Channel | None = None

    @property
    def channel(self) -> grpc.aio.Channel:
        """Made after the child is started: grpc warns about forking beside a live channel."""
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.grpc_port}")
        return self._channel

    def env(self) -> dict[str, str]:
        stem = SERVICE_BY_MODULE["trading_svc"].env_stem
        return {
            **os.environ,
            **bench_env(self.opts),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")]),
            "JOBMESH_BIND_HOST": "127.0.0.1",
            f"{stem}_PORT": str(self.grpc_port),
            f"{stem}_METRICS_PORT": str(self.metrics_port),
        }

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
                sys.executable, "-m", "trading_svc", env=self.env(), cwd=ROOT, stdout=log, stderr=log
            )
        check = self.unary("/grpc.health.v1.Health/Check", health_pb2.HealthCheckResponse)
        deadline = time.monotonic() + READY_TIMEOUT_S
        status = "no answer"
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise RuntimeError(f"trading_svc exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                reply = await check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
                status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
                if status == "SERVING":
                    return
            except grpc.aio.AioRpcError as exc:
                status = exc.code().name
            await asyncio.sleep(0.1)
        raise RuntimeError(
            f"trading_svc not SERVING within {READY_TIMEOUT_S:.0f}s ({status}):\n{self.log_tail()}"
        )

    async def stop(self) -> None:
        if self._channel is not None:
            await self._channel.close(None)
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.log_path.unlink(missing_ok=True)


def _status(exc: grpc.aio.AioRpcError) -> str:
    return exc.code().name


async def _batches(svc: TradingSvc, n: int) -> Figure:
    call = svc.unary(f"/{SERVICE}/EnqueueJobs", pb.EnqueueJobsResponse)
    added = 0
    t0 = time.perf_counter()
    try:
        for start in range(0, n, BATCH):
            jobs = [
                pb.JobSpec(queue=QUEUE, payload=task_payload(i)) for i in range(start, min(n, start + BATCH))
            ]
            reply = await call(pb.EnqueueJobsRequest(jobs=jobs), timeout=60)
            added += sum(not r.duplicate for r in reply.results)
    except grpc.aio.AioRpcError as exc:
        return _status(exc)
    elapsed = time.perf_counter() - t0
    if added != n:
        return f"ADDED {added} OF {n}"
    return n / elapsed


async def _singles(svc: TradingSvc, count: int, inflight: int) -> Figure:
    call = svc.unary(f"/{SERVICE}/EnqueueJob", pb.EnqueueJobResponse)
    todo = iter(range(count))

    async def client() -> None:
        for i in todo:
            await call(pb.EnqueueJobRequest(queue=QUEUE, payload=task_payload(i)), timeout=30)

    t0 = time.perf_counter()
    try:
        await asyncio.gather(*(client() for _ in range(inflight)))
    except grpc.aio.AioRpcError as exc:
        return _status(exc)
    return count / (time.perf_counter() - t0)


async def grpc_figures(opts: BenchOptions) -> dict[str, Figure]:
    """The three gRPC figures (jobs/s or RPC/s), or the status code that stopped each."""
    print("bench: gRPC: starting trading_svc", file=sys.stderr, flush=True)
    svc = TradingSvc(opts)
    try:
        await svc.start()
        # warm-up: one small batch and one single call (first-call costs are not the figure)
        await _batches(svc, 10)
        await _singles(svc, 1, 1)
        print(f"bench: gRPC: EnqueueJobs, {opts.n} jobs in batches of {BATCH}", file=sys.stderr, flush=True)
        batch = await _batches(svc, opts.n)
        print(f"bench: gRPC: {opts.grpc_single} single EnqueueJob RPCs", file=sys.stderr, flush=True)
        serial = await _singles(svc, opts.grpc_single, 1)
        concurrent = await _singles(svc, opts.grpc_single, opts.grpc_inflight)
    finally:
        with contextlib.suppress(Exception):
            await svc.stop()
    return {
        "grpc_enqueue_jobs_batch_jobs_s": batch,
        "grpc_enqueue_job_serial_rps": serial,
        "grpc_enqueue_job_concurrent_rps": concurrent,
    }
