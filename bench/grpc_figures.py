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
import sys
import time

import grpc

from bench.jobmesh_phases import bench_env
from bench.options import BATCH, BenchOptions
from bench.payloads import QUEUE, task_payload
from bench.services import ServiceChild
from jobmesh.queue.v1 import queue_service_pb2 as pb

SERVICE = "jobmesh.queue.v1.QueueService"
Figure = float | str


class TradingSvc(ServiceChild):
    """trading_svc as a child process with the bench's environment (prefix, queue settings)."""

    def __init__(self, opts: BenchOptions) -> None:
        super().__init__("trading_svc", bench_env(opts))


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
