"""The bench's entry point: rounds of jobmesh's phases and BullMQ's bench, then redis-benchmark; the report.

The two systems take turns going first: round 1 runs jobmesh then BullMQ,
round 2 BullMQ then jobmesh, and so on (`round_order`), so neither always
meets a cold (or a warm) machine and Redis. Each figure is the median over
the rounds; every round's figures are in the JSON line (`per_round`).
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import redis.asyncio as aioredis

from bench.backlog import run_backlog
from bench.baselines import Baseline, run_bullmq, run_redis_benchmark
from bench.jobmesh_phases import JobmeshBench, Results, bench_settings, envelope_bytes
from bench.keyspace import delete_keys, refuse_used_prefix
from bench.options import BenchOptions, parse
from bench.payloads import probe_job, task_job
from bench.report import Report
from queue_system.catalog import CATEGORIZATION
from queue_system.manager import QueueManager
from queue_system.settings import ConfigError, redact_url

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


@dataclass(slots=True)
class JobmeshRun:
    results: Results
    redis_version: str = ""
    grpc: dict[str, float | str] | None = None
    grpc_breakdown: str = ""
    profile: str = ""
    notes: list[str] = field(default_factory=list)


class WarningCounter(logging.Handler):
    """Counts WARNING+ records by their message template: the report says what jobmesh logged."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        key = f"{record.levelname} {record.name}: {record.msg}"
        self.counts[key] = self.counts.get(key, 0) + 1


JOBMESH, BULLMQ = "jobmesh", "bullmq"


def round_order(index: int) -> tuple[str, str]:
    """Who goes first in round `index` (0-based): jobmesh in even rounds, BullMQ in odd ones."""
    return (JOBMESH, BULLMQ) if index % 2 == 0 else (BULLMQ, JOBMESH)


def _log(what: str) -> None:
    print(f"bench: {what}", file=sys.stderr, flush=True)


async def run_jobmesh(opts: BenchOptions, *, extras: bool = True) -> JobmeshRun:
    """Every jobmesh phase (and, with `extras`, --profile and --grpc) on the bench's prefix;
    every key under the prefix is deleted afterwards."""
    settings = bench_settings(opts)
    admin = aioredis.Redis.from_url(opts.redis_url)
    try:
        await refuse_used_prefix(admin, opts.prefix)
        info = await admin.info("server")
        run = JobmeshRun(Results(), redis_version=str(info.get("redis_version", "?")))
        manager = QueueManager(settings, service="bench", queues=[CATEGORIZATION])
        try:
            await manager.initialize()
            bench = JobmeshBench(opts, manager)
            run.results = await bench.run()
            if extras and (opts.profile or opts.profile_enqueue):
                from bench.profiling import profile_drain, profile_enqueue  # noqa: PLC0415 (only then)

                texts = []
                if opts.profile_enqueue:
                    _log(f"profile: one more bulk enqueue of {opts.n} task jobs under cProfile")
                    texts.append((await profile_enqueue(bench, opts.profile_top)).text())
                if opts.profile:
                    _log(f"profile: one more drain of {opts.n} task jobs under cProfile")
                    texts.append((await profile_drain(bench, opts.profile_top)).text())
                run.profile = "\n\n".join(texts)
            if extras and opts.grpc:
                from bench.grpc_figures import grpc_figures  # noqa: PLC0415 (grpc only with --grpc)

                got = await grpc_figures(opts)
                run.grpc, run.grpc_breakdown = got.figures, got.breakdown
        finally:
            await manager.close(grace_s=5)
            deleted = await delete_keys(admin, opts.prefix)
            _log(f"deleted {deleted} key(s) under {opts.prefix}:")
        return run
    finally:
        await admin.aclose()


def median_figures(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per figure, the median over rounds (non-numbers: the first round's value)."""

    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    out: dict[str, Any] = {}
    for key, first in runs[0].items():
        values = [r[key] for r in runs if number(r.get(key))]
        out[key] = statistics.median(values) if number(first) and values else first
    return out


def run_async(opts: BenchOptions, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """On uvloop (as the services run) unless --loop asyncio, or uvloop is missing."""
    if opts.loop == "uvloop":
        import uvloop  # noqa: PLC0415 (optional; main() checked it is installed)

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main())
    return asyncio.run(main())


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["trading"]:  # `python -m bench trading ...`: trading_svc over gRPC
        # before grpc loads: its INFO lines (a GOAWAY per closed connection...) would bury the bench's
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
        from bench.trading import main as trading_main  # noqa: PLC0415 (grpc only there)

        return trading_main(args[1:])
    if args[:1] == ["auth"]:  # `python -m bench auth`: the cost of authentication per unary RPC
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
        from bench.auth import main as auth_main  # noqa: PLC0415 (grpc only there)

        return auth_main(args[1:])
    if args[:1] == ["dlq"]:  # `python -m bench dlq ...`: dlq-svc capturing, classifying, alerting
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
        from bench.dlq import main as dlq_main  # noqa: PLC0415 (grpc only there)

        return dlq_main(args[1:])
    if args[:1] == ["financial"]:  # `python -m bench financial ...`: worker-financial's processors
        from bench.financial import main as financial_main  # noqa: PLC0415 (the ledger only there)

        return financial_main(args[1:])
    opts = parse(args)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    warnings = WarningCounter()
    logging.getLogger().addHandler(warnings)
    try:
        bench_settings(opts)
    except ConfigError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    if opts.loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        opts = replace(opts, loop="asyncio")
    jm_runs: list[JobmeshRun] = []
    bullmq_runs: list[Baseline] = []
    orders: list[tuple[str, str]] = []
    for r in range(opts.rounds):
        order = round_order(r)
        orders.append(order)
        _log(f"round {r + 1} of {opts.rounds}: {order[0]} first")
        last = r == opts.rounds - 1
        for system in order:
            if system == JOBMESH:
                jm_runs.append(run_async(opts, functools.partial(run_jobmesh, opts, extras=last)))
            else:
                bullmq_runs.append(run_bullmq(opts))
    backlog = run_async(opts, functools.partial(run_backlog, opts)) if opts.backlog else None
    fleet = None
    if not opts.skip_fleet:
        from bench.fleet import run_fleet  # noqa: PLC0415 (its children only then)

        fleet = run_async(opts, functools.partial(run_fleet, opts, opts.fleet_delayed))
    floor = run_redis_benchmark(opts)
    jm = jm_runs[-1]
    figures = median_figures([j.results.figures for j in jm_runs])
    bullmq_ok = [b.figures for b in bullmq_runs if b.figures]
    bullmq = median_figures(bullmq_ok) if bullmq_ok else None
    meta: dict[str, Any] = {
        "n": opts.n,
        "concurrency": opts.concurrency,
        "latency_jobs": opts.latency_jobs,
        "rounds": opts.rounds,
        "order": [">".join(o) for o in orders],
        "loop": opts.loop,
        "redis": redact_url(opts.redis_url),
        "redis_version": jm.redis_version,
        "cpus": os.cpu_count(),
        "commit": _git("rev-parse", "--short", "HEAD") or "?",
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        **({"grpc_inflight": opts.grpc_inflight} if opts.grpc else {}),
        "envelope_bytes": {"task": envelope_bytes(task_job), "probe": envelope_bytes(probe_job)},
    }
    report = Report(
        meta=meta,
        figures=figures,
        cpu=jm.results.cpu,
        grpc=jm.grpc,
        bullmq=bullmq,
        bullmq_skipped="" if bullmq else bullmq_runs[-1].skipped,
        floor=floor.figures or None,
        floor_skipped=floor.skipped,
        notes=[n for j in jm_runs for n in j.results.notes],
        warnings=warnings.counts,
        rounds=(
            {"jobmesh": [j.results.figures for j in jm_runs], "bullmq": [b.figures for b in bullmq_runs]}
            if opts.rounds > 1
            else None
        ),
        backlog=backlog,
        fleet=fleet.as_dict() if fleet else None,
    )
    if jm.profile:
        print(jm.profile)
        print()
    if jm.grpc_breakdown:
        print(jm.grpc_breakdown)
        print()
    if fleet:
        print(fleet.table())
        print()
    print(report.table())
    print(report.json_line(), flush=True)
    return 0
