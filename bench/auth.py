"""`python -m bench auth`: what authentication costs per unary RPC, with and without it, in the same run.

Two trading_svc children run side by side on the same Redis and prefix: one
without credentials (no auth interceptor at all, as on a loopback development
machine) and one with bearer tokens. Against each, the bench times:

- a read, QueueService.GetQueueStats (authenticate and check the role);
- a state-changing call, QueueService.ResumeQueue (authenticate, check the role,
  count the caller's rate and write the audit entry and event: one more Redis
  round trip, so it costs more than the read);

each one call at a time (`serial`) and with `--inflight` calls in flight
(`concurrent`). Rounds alternate which service goes first, and every figure is
the median over the rounds; `*_cost_us` is the difference in microseconds per
call (1/rps with auth minus 1/rps without). The bench's prefix is its own and
every key under it is deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import redis.asyncio as aioredis

from bench.keyspace import delete_keys, refuse_used_prefix
from bench.services import ServiceChild
from jobmesh.queue.v1 import queue_service_pb2 as pb
from queue_system.catalog import REPORT_GENERATION
from queue_system.settings import redact_url
from service_kit.auth import credential_line, new_token

SERVICE = "jobmesh.queue.v1.QueueService"
PLAIN, AUTH = "plain", "auth"


@dataclass(frozen=True, slots=True)
class AuthOptions:
    redis_url: str
    prefix: str
    calls: int
    inflight: int
    rounds: int


def parse(argv: Sequence[str]) -> AuthOptions:
    p = argparse.ArgumentParser(prog="python -m bench auth", description=__doc__.split("\n\n")[0])
    p.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    p.add_argument("--prefix", default=f"bench-auth-{os.getpid()}")
    p.add_argument("--calls", type=int, default=3000, help="calls per figure (default 3000)")
    p.add_argument("--inflight", type=int, default=16, help="calls in flight for the concurrent figures")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="a CI smoke run: few calls, one round")
    a = p.parse_args(argv)
    calls, rounds = (50, 1) if a.quick else (a.calls, a.rounds)
    return AuthOptions(a.redis, a.prefix, calls, a.inflight, rounds)


async def _rate(call: Callable[[int], Awaitable[Any]], calls: int, inflight: int) -> float:
    """Calls per second of `calls` calls, `inflight` at a time."""
    todo = iter(range(calls))

    async def client() -> None:
        for i in todo:
            await call(i)

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(inflight)))
    return calls / (time.perf_counter() - t0)


async def _figures(svc: ServiceChild, token: str | None, opts: AuthOptions) -> dict[str, float]:
    metadata = (("authorization", f"Bearer {token}"),) if token is not None else None
    read = svc.unary(f"/{SERVICE}/GetQueueStats", pb.GetQueueStatsResponse)
    write = svc.unary(f"/{SERVICE}/ResumeQueue", pb.ResumeQueueResponse)
    get = pb.GetQueueStatsRequest(queue=REPORT_GENERATION)
    resume = pb.ResumeQueueRequest(queue=REPORT_GENERATION)

    async def one_read(_: int) -> None:
        await read(get, metadata=metadata, timeout=30)

    async def one_write(_: int) -> None:
        await write(resume, metadata=metadata, timeout=30)

    await _rate(one_read, 20, 1)  # warm-up: first-call costs are not the figure
    await _rate(one_write, 20, 1)
    return {
        "read_serial_rps": await _rate(one_read, opts.calls, 1),
        "read_concurrent_rps": await _rate(one_read, opts.calls, opts.inflight),
        "write_serial_rps": await _rate(one_write, opts.calls, 1),
        "write_concurrent_rps": await _rate(one_write, opts.calls, opts.inflight),
    }


async def run(opts: AuthOptions) -> dict[str, Any]:
    admin = aioredis.Redis.from_url(opts.redis_url)
    await refuse_used_prefix(admin, opts.prefix)
    token = new_token()
    env = {"REDIS_URL": opts.redis_url, "QUEUE_PREFIX": opts.prefix}
    secured = {
        **env,
        "JOBMESH_AUTH_TOKENS": credential_line("bench", ["operator"], token),
        "JOBMESH_AUTH_RATE_LIMIT": "1000000/1s",  # the limit's bookkeeping is timed, never its refusals
    }
    services = {PLAIN: ServiceChild("trading_svc", env), AUTH: ServiceChild("trading_svc", secured)}
    runs: dict[str, list[dict[str, float]]] = {PLAIN: [], AUTH: []}
    try:
        for svc in services.values():
            await svc.start()
        for r in range(opts.rounds):
            order = (PLAIN, AUTH) if r % 2 == 0 else (AUTH, PLAIN)
            for name in order:
                print(f"bench: auth: round {r + 1} of {opts.rounds}: {name}", file=sys.stderr, flush=True)
                runs[name].append(await _figures(services[name], token if name == AUTH else None, opts))
    finally:
        for svc in services.values():
            await svc.stop()
        await delete_keys(admin, opts.prefix)
        await admin.aclose()
    report: dict[str, Any] = {
        "system": "jobmesh-auth",
        "redis": redact_url(opts.redis_url),
        "calls": opts.calls,
        "inflight": opts.inflight,
        "rounds": opts.rounds,
    }
    for key in runs[PLAIN][0]:
        plain = statistics.median(f[key] for f in runs[PLAIN])
        auth = statistics.median(f[key] for f in runs[AUTH])
        report[f"{PLAIN}_{key}"] = round(plain, 1)
        report[f"{AUTH}_{key}"] = round(auth, 1)
        report[f"{key.removesuffix('_rps')}_cost_us"] = round((1 / auth - 1 / plain) * 1e6, 1)
    return report


def table(report: dict[str, Any]) -> str:
    rows = [f"{'figure':<24}{'without auth':>14}{'with auth':>12}{'cost/call':>12}"]
    for key in ("read_serial", "read_concurrent", "write_serial", "write_concurrent"):
        plain, auth = report[f"{PLAIN}_{key}_rps"], report[f"{AUTH}_{key}_rps"]
        cost = report[f"{key}_cost_us"]
        rows.append(f"{key + ' (RPC/s)':<24}{plain:>14,.0f}{auth:>12,.0f}{cost:>10,.0f}us")
    return "\n".join(rows)


def main(argv: Sequence[str]) -> int:
    opts = parse(argv)
    try:
        report = asyncio.run(run(opts))
    except (grpc.aio.AioRpcError, RuntimeError) as exc:
        print(f"bench: auth: {exc}", file=sys.stderr)
        return 1
    print(table(report))
    print(json.dumps(report), flush=True)
    return 0
