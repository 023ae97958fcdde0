"""`--grpc`: QueueService over the wire, against a trading_svc this bench starts, beside a bare server.

trading_svc runs as a child process (`python -m trading_svc`) on free ports
with the bench's environment (prefix, queue settings). Figures:

- EnqueueJobs in batches of 1,000 task jobs, one call at a time (as addBulk):
  jobs/s over N jobs;
- single EnqueueJob RPCs, one at a time: RPC/s (one round trip each), and the
  p50/p99 of their latencies as the client sees them;
- single EnqueueJob RPCs with `--grpc-inflight` calls in flight: RPC/s, and the
  CPU µs per call of the server process and of the client (this process).

The single-call figures are measured in the same run, with the same client code
and the same requests, `REPEATS` times each side in turns (medians; latencies
pooled), against a bare grpc.aio unary server (`bench.grpc_bare`:
a generic handler answering an empty message, no interceptors, no Redis), and
the report gives jobmesh's figure as a percentage of the bare server's: what
grpc.aio alone costs on this machine, now.

Then the per-stage breakdown of one EnqueueJob: trading_svc again, under
`bench.grpc_stages` (stopwatches around each stage of the call), answers
`--grpc-single` calls one at a time; the report prints each stage's mean wall
time per call beside the client-observed mean latency, and, for scale beside the
Redis stage, a bare PING round trip through redis-py (the Redis is shared with
other clients, so its own command statistics would not be this call's).

An RPC that answers UNIMPLEMENTED is reported as "UNIMPLEMENTED" (the figure
is then a string), as is any other failure's status code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import redis.asyncio as aioredis

from bench.grpc_stages import STAGES
from bench.jobmesh_phases import bench_env
from bench.measure import process_cpu_s
from bench.options import BATCH, BenchOptions
from bench.payloads import QUEUE, task_payload
from bench.services import ROOT, ServiceChild, python_env
from jobmesh.queue.v1 import queue_service_pb2 as pb

SERVICE = "jobmesh.queue.v1.QueueService"
# Single-call runs per side (jobmesh, bare), taking turns: figures are medians, latencies pooled.
REPEATS = 3
Figure = float | str
Unary = Callable[[str, Any], Callable[..., Awaitable[Any]]]


class TradingSvc(ServiceChild):
    """trading_svc as a child process with the bench's environment (prefix, queue settings)."""

    def __init__(self, opts: BenchOptions, argv: list[str] | None = None) -> None:
        super().__init__("trading_svc", bench_env(opts), argv=argv)

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0


class BareServer:
    """bench.grpc_bare as a child process, with a channel to it (the client side is ServiceChild's)."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.channel: grpc.aio.Channel | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.grpc_bare",
            env=python_env({}), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        if not line:
            raise RuntimeError("bench.grpc_bare exited before it listened")
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{json.loads(line)['port']}")

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def unary(self, method: str, resp_type: Any) -> Callable[..., Awaitable[Any]]:
        assert self.channel is not None
        call: Callable[..., Awaitable[Any]] = self.channel.unary_unary(
            method,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=resp_type.FromString,
        )
        return call

    async def stop(self) -> None:
        if self.channel is not None:
            await self.channel.close(None)
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


@dataclass(slots=True)
class GrpcRun:
    """The figures (by key) and the per-stage breakdown's text."""

    figures: dict[str, Figure] = field(default_factory=dict)
    breakdown: str = ""


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


async def _singles(
    unary: Unary,
    count: int,
    inflight: int,
    latencies: list[float] | None = None,
    *,
    cpu: dict[str, float] | None = None,
    server_pid: int = 0,
) -> Figure:
    """RPC/s of `count` single EnqueueJob calls, `inflight` at a time; each call's seconds into `latencies`;
    the CPU µs per call of the server (process `server_pid`) and of this process (the client) into `cpu`."""
    call = unary(f"/{SERVICE}/EnqueueJob", pb.EnqueueJobResponse)
    todo = iter(range(count))
    clock = time.perf_counter

    async def client() -> None:
        for i in todo:
            request = pb.EnqueueJobRequest(queue=QUEUE, payload=task_payload(i))
            t = clock()
            await call(request, timeout=30)
            if latencies is not None:
                latencies.append(clock() - t)

    me = os.getpid()
    server0, client0 = process_cpu_s(server_pid), process_cpu_s(me)
    t0 = clock()
    try:
        await asyncio.gather(*(client() for _ in range(inflight)))
    except grpc.aio.AioRpcError as exc:
        return _status(exc)
    elapsed = clock() - t0
    if cpu is not None:
        cpu["server"] = (process_cpu_s(server_pid) - server0) / count * 1e6
        cpu["client"] = (process_cpu_s(me) - client0) / count * 1e6
    return count / elapsed


def quantile_ms(latencies: list[float], q: float) -> Figure:
    """The q-quantile of `latencies` (seconds) in ms, nearest rank; "-" without any."""
    if not latencies:
        return "-"
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def median_figure(values: list[Figure] | list[float]) -> Figure:
    """The median of the numbers; the first non-number (a status code) when any run failed."""
    for v in values:
        if isinstance(v, str):
            return v
    numbers = [float(v) for v in values]
    return statistics.median(numbers) if numbers else "-"


def pct_of(mine: Figure, base: Figure) -> Figure:
    """`mine` as a percentage of `base`, or "-" when either is not a number."""
    if isinstance(mine, float | int) and isinstance(base, float | int) and base:
        return 100.0 * mine / base
    return "-"


def breakdown_text(totals: dict[str, list[float]], client_mean_s: float, ping_us: float) -> str:
    """Each stage's mean wall time per call (µs), indented under its parent, with what is not in any."""
    calls = max(1, int(totals["handler"][1]))

    def us(stage: str) -> float:
        return totals[stage][0] / calls * 1e6

    def depth(stage: str) -> int:
        parent = STAGES[stage][0]
        return 0 if not parent else 1 + depth(parent)

    lines = [
        f"== gRPC: where one EnqueueJob's time goes (trading_svc under bench.grpc_stages, {calls:,} calls, "
        "1 in flight; mean wall µs per call; stopwatches on, so not a figure) ==",
        f"{'client-observed latency (mean)':<80}{client_mean_s * 1e6:>9.1f}",
    ]
    top = 0.0
    for stage, (parent, what) in STAGES.items():
        label = "  " * (depth(stage) + 1) + what
        per_call = totals[stage][1] / calls
        lines.append(f"{label:<80}{us(stage):>9.1f}   ({per_call:.2f} a call)")
        if not parent:
            top += us(stage)
        if stage == "redis":
            label = "          for scale: a PING round trip via redis-py, from the bench, just after"
            lines.append(f"{label:<80}{ping_us:>9.1f}")
    children = {p for p, _ in STAGES.values() if p}
    for stage in children:
        own = us(stage) - sum(us(s) for s, (p, _) in STAGES.items() if p == stage)
        label = "  " * (depth(stage) + 2) + f"(own time of {stage}, outside the stages under it)"
        lines.append(f"{label:<80}{own:>9.1f}")
    rest = client_mean_s * 1e6 - top
    lines.append(f"{'  the rest: grpc core both sides, client, loop scheduling':<80}{rest:>9.1f}")
    return "\n".join(lines)


async def _ping_us(redis_url: str, count: int = 500) -> float:
    """Mean µs of a PING round trip through redis-py's asyncio client, from this process."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.ping()
        t0 = time.perf_counter()
        for _ in range(count):
            await client.ping()
        return (time.perf_counter() - t0) / count * 1e6
    finally:
        await client.aclose()


async def _stages(opts: BenchOptions) -> str:
    """The per-stage breakdown of `--grpc-single` single calls, one in flight."""
    fd, name = tempfile.mkstemp(prefix="bench-grpc-stages-", suffix=".json")
    os.close(fd)
    out = Path(name)
    svc = TradingSvc(opts, argv=["-m", "bench.grpc_stages", str(out)])
    try:
        await svc.start()
        latencies: list[float] = []  # every call the stopwatches saw, the first ones included
        got = await _singles(svc.unary, opts.grpc_single, 1, latencies)
        if isinstance(got, str):
            return f"== gRPC stages: {got} =="
    finally:
        with contextlib.suppress(Exception):
            await svc.stop()
    ping_us = await _ping_us(opts.redis_url)
    text = await asyncio.to_thread(out.read_text)
    await asyncio.to_thread(out.unlink, missing_ok=True)
    totals: dict[str, list[float]] = json.loads(text or "{}")
    if not totals:
        return "== gRPC stages: the child wrote no totals =="
    return breakdown_text(totals, statistics.fmean(latencies), ping_us)


def _log(what: str) -> None:
    print(f"bench: gRPC: {what}", file=sys.stderr, flush=True)


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


async def grpc_figures(opts: BenchOptions) -> GrpcRun:
    """The gRPC figures (jobs/s, RPC/s, ms, % of bare), or the status code that stopped each;
    the per-stage breakdown."""
    _log("starting trading_svc and the bare grpc.aio server")
    run = GrpcRun()
    f = run.figures
    svc, bare = TradingSvc(opts), BareServer()
    try:
        await svc.start()
        await bare.start()
        # warm-up: one small batch and a few single calls (first-call costs are not the figure)
        await _batches(svc, 10)
        await _singles(svc.unary, 20, 1)
        await _singles(bare.unary, 20, 1)
        f["grpc_load_avg"] = _loadavg()
        _log(f"EnqueueJobs, {opts.n} jobs in batches of {BATCH}")
        f["grpc_enqueue_jobs_batch_jobs_s"] = await _batches(svc, opts.n)
        _log(f"{opts.grpc_single} single EnqueueJob RPCs, 1 and {opts.grpc_inflight} in flight, each side")
        sides = {"jm": (svc.unary, svc.pid), "bare": (bare.unary, bare.pid)}
        lat: dict[str, list[float]] = {"jm": [], "bare": []}
        serial: dict[str, list[Figure]] = {"jm": [], "bare": []}
        concurrent: dict[str, list[Figure]] = {"jm": [], "bare": []}
        cpu: dict[str, list[dict[str, float]]] = {"jm": [], "bare": []}
        for rep in range(REPEATS):  # the sides take turns going first: a burst of load hits both alike
            for side in ("jm", "bare") if rep % 2 == 0 else ("bare", "jm"):
                unary, pid = sides[side]
                serial[side].append(await _singles(unary, opts.grpc_single, 1, lat[side]))
                used: dict[str, float] = {}
                concurrent[side].append(
                    await _singles(unary, opts.grpc_single, opts.grpc_inflight, cpu=used, server_pid=pid)
                )
                cpu[side].append(used)
        for side, prefix in (("jm", "grpc_enqueue_job"), ("bare", "grpc_bare")):
            f[f"{prefix}_serial_rps"] = median_figure(serial[side])
            f[f"{prefix}_concurrent_rps"] = median_figure(concurrent[side])
            f[f"{prefix}_serial_p50_ms"] = quantile_ms(lat[side], 0.50)
            f[f"{prefix}_serial_p99_ms"] = quantile_ms(lat[side], 0.99)
            cpu_prefix = "grpc_concurrent" if side == "jm" else "grpc_bare_concurrent"
            for who in ("server", "client"):
                f[f"{cpu_prefix}_{who}_cpu_us"] = median_figure([c[who] for c in cpu[side] if who in c])
        f["grpc_serial_of_bare_pct"] = pct_of(f["grpc_enqueue_job_serial_rps"], f["grpc_bare_serial_rps"])
        f["grpc_concurrent_of_bare_pct"] = pct_of(
            f["grpc_enqueue_job_concurrent_rps"], f["grpc_bare_concurrent_rps"]
        )
    finally:
        with contextlib.suppress(Exception):
            await svc.stop()
        with contextlib.suppress(Exception):
            await bare.stop()
    _log("per-stage breakdown (trading_svc under bench.grpc_stages)")
    run.breakdown = await _stages(opts)
    return run
