"""Command-line options of the bench."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

BATCH = 1000  # jobs per add_jobs / addBulk / EnqueueJobs call, as in BullMQ's bench
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """What one invocation measures, and where."""

    redis_url: str
    n: int
    concurrency: int
    latency_jobs: int
    prefix: str
    loop: str
    skip_bullmq: bool
    skip_redis_benchmark: bool
    grpc: bool
    grpc_single: int
    grpc_inflight: int
    profile: bool
    profile_top: int
    rounds: int = 3
    profile_enqueue: bool = False
    bullmq_run: str = ""
    backlog: tuple[int, ...] = ()  # backlog sizes (bench.backlog); empty: --skip-backlog
    backlog_drain: int = 10_000
    skip_fleet: bool = False
    fleet_delayed: int = 1000


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _prefix(raw: str) -> str:
    if not _PREFIX.match(raw):
        raise argparse.ArgumentTypeError("letters, digits, '_', '.', '-' (at most 64), like QUEUE_PREFIX")
    return raw


def _sizes(raw: str) -> tuple[int, ...]:
    return tuple(_positive(v) for v in raw.split(",") if v.strip())


def parse(argv: Sequence[str] | None = None) -> BenchOptions:
    ap = argparse.ArgumentParser(
        prog="python -m bench",
        description="jobmesh queue benchmark beside BullMQ and redis-benchmark, on the same Redis.",
    )
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    ap.add_argument("--n", type=_positive, default=20_000, help="jobs per throughput phase (20000)")
    ap.add_argument("--concurrency", type=_positive, default=100, help="worker concurrency (100)")
    ap.add_argument("--latency-jobs", type=_positive, default=200, help="single adds 5 ms apart (200)")
    ap.add_argument(
        "--prefix",
        type=_prefix,
        default=f"bench-{os.getpid()}",
        help="QUEUE_PREFIX of the bench's keys (default bench-<pid>); must hold no keys yet",
    )
    ap.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="event loop (uvloop)")
    ap.add_argument("--skip-bullmq", action="store_true", help="do not run the BullMQ baseline")
    ap.add_argument(
        "--bullmq-run",
        default="",
        help="BullMQ bench script (default: $JOBMESH_BULLMQ_RUN, else <repo>/../shared/bench/bullmq/run.sh)",
    )
    ap.add_argument("--skip-redis-benchmark", action="store_true", help="do not run redis-benchmark")
    ap.add_argument("--grpc", action="store_true", help="also measure QueueService over gRPC (trading_svc)")
    ap.add_argument("--grpc-single", type=_positive, default=2000, help="single EnqueueJob RPCs (2000)")
    ap.add_argument("--grpc-inflight", type=_positive, default=50, help="concurrent single RPCs (50)")
    ap.add_argument("--profile", action="store_true", help="run one more drain under cProfile; print it")
    ap.add_argument(
        "--rounds",
        type=_positive,
        default=3,
        help="rounds of jobmesh and BullMQ, taking turns to go first (round 1: jobmesh); report medians (3)",
    )
    ap.add_argument(
        "--profile-enqueue", action="store_true", help="also profile one more bulk enqueue; print it"
    )
    ap.add_argument("--skip-fleet", action="store_true", help="skip 8 queues x 2 worker processes")
    ap.add_argument(
        "--fleet-delayed", type=_positive, default=1000, help="fleet: delayed jobs due in one second (1000)"
    )
    ap.add_argument("--profile-top", type=_positive, default=25, help="functions per profile listing (25)")
    ap.add_argument(
        "--backlog",
        type=_sizes,
        default=(10_000, 100_000, 1_000_000),
        help="jobs waiting in the backlog phase, comma-separated (10000,100000,1000000)",
    )
    ap.add_argument(
        "--backlog-drain", type=_positive, default=10_000, help="jobs timed per backlog drain (10000)"
    )
    ap.add_argument("--skip-backlog", action="store_true", help="do not run the backlog phase")
    a = ap.parse_args(argv)
    return BenchOptions(
        redis_url=a.redis,
        n=a.n,
        concurrency=a.concurrency,
        latency_jobs=a.latency_jobs,
        prefix=a.prefix,
        loop=a.loop,
        skip_bullmq=a.skip_bullmq,
        skip_redis_benchmark=a.skip_redis_benchmark,
        grpc=a.grpc,
        grpc_single=a.grpc_single,
        grpc_inflight=a.grpc_inflight,
        profile=a.profile,
        profile_top=a.profile_top,
        rounds=a.rounds,
        bullmq_run=a.bullmq_run,
        profile_enqueue=a.profile_enqueue,
        backlog=() if a.skip_backlog else a.backlog,
        backlog_drain=a.backlog_drain,
        skip_fleet=a.skip_fleet,
        fleet_delayed=a.fleet_delayed,
    )
