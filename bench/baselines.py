"""The figures jobmesh is set beside: BullMQ's bench (../shared/bench) and redis-benchmark.

Both run as child processes, never while jobmesh's phases run, on the same
Redis, so nothing competes with anything else for the machine's cores. BullMQ's
bench runs once per round, before or after jobmesh's phases by turns
(bench.cli.round_order); redis-benchmark runs once, at the end.

BullMQ's bench reports two drain windows: `drain_jobs_s`, first processor start
to the N-th processor start, and `drain_to_last_completed_jobs_s`, first
processor start to the N-th `completed` event (emitted after moveToCompleted,
i.e. once the job is marked completed in Redis). jobmesh's drains end at the
N-th acknowledgement, so they are set beside the second; the first is set
beside jobmesh's "start window" only (bench.report.ROWS).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench.options import BenchOptions

BULLMQ_RUN = Path(__file__).resolve().parents[2] / "shared" / "bench" / "bullmq" / "run.sh"
BULLMQ_TIMEOUT_S = 1800  # the first run installs BullMQ with npm
FLOOR_REQUESTS = 100_000
FLOOR_PIPELINE = 16
RTT_REQUESTS = 20_000


@dataclass(slots=True)
class Baseline:
    """One baseline's figures, or why there are none."""

    figures: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""


def bullmq_script(opts: BenchOptions) -> Path:
    return Path(opts.bullmq_run or os.environ.get("JOBMESH_BULLMQ_RUN") or BULLMQ_RUN)


def run_bullmq(opts: BenchOptions) -> Baseline:
    """BullMQ's bench with the same N, concurrency and latency jobs: its one JSON line
    (its figures and windows as the module docstring says)."""
    if opts.skip_bullmq:
        return Baseline(skipped="--skip-bullmq")
    if shutil.which("node") is None or shutil.which("npm") is None:
        return Baseline(skipped="node/npm not installed")
    script = bullmq_script(opts)
    if not script.exists():
        return Baseline(skipped=f"{script} not found (--bullmq-run PATH)")
    print(f"bench: BullMQ baseline ({script})", file=sys.stderr, flush=True)
    cmd = [
        str(script),
        "--redis", opts.redis_url,
        "--n", str(opts.n),
        "--concurrency", str(opts.concurrency),
        "--latency-jobs", str(opts.latency_jobs),
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=BULLMQ_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return Baseline(skipped=f"BullMQ bench did not finish within {BULLMQ_TIMEOUT_S}s")
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return Baseline(skipped=f"BullMQ bench failed (exit {done.returncode}): {' | '.join(tail)}")
    return Baseline(figures=json.loads(lines[-1]))


def _benchmark(url: str, *args: str) -> list[dict[str, str]]:
    """redis-benchmark --csv rows (test, rps, avg/min/p50/p95/p99/max latency ms)."""
    done = subprocess.run(
        ["redis-benchmark", "-u", url, "--csv", *args],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    text = done.stdout[done.stdout.find('"test"') :]
    return list(csv.DictReader(io.StringIO(text)))


def run_redis_benchmark(opts: BenchOptions) -> Baseline:
    """The raw Redis floor: what bare commands reach on this Redis from this machine.

    PING, SET and XADD with 50 clients and 16 commands pipelined (the most
    Redis serves), and PING from one client without pipelining (one round
    trip: the floor under any latency). Its keys are under the bench's prefix
    and are deleted right after.
    """
    if opts.skip_redis_benchmark:
        return Baseline(skipped="--skip-redis-benchmark")
    if shutil.which("redis-benchmark") is None:
        return Baseline(skipped="redis-benchmark not installed")
    print("bench: raw Redis floor (redis-benchmark)", file=sys.stderr, flush=True)
    url, pipe = opts.redis_url, ["-n", str(FLOOR_REQUESTS), "-P", str(FLOOR_PIPELINE)]
    set_key, xadd_key = f"{opts.prefix}:floor:set", f"{opts.prefix}:floor:xadd"
    try:
        ping = _benchmark(url, *pipe, "-t", "ping")
        set_ = _benchmark(url, *pipe, "SET", set_key, "x")
        xadd = _benchmark(url, *pipe, "XADD", xadd_key, "*", "j", "1")
        rtt = _benchmark(url, "-n", str(RTT_REQUESTS), "-c", "1", "-t", "ping")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, KeyError) as exc:
        return Baseline(skipped=f"redis-benchmark failed: {exc}")
    finally:
        client = redis.Redis.from_url(url)
        client.delete(set_key, xadd_key)
        client.close()

    def row(rows: list[dict[str, str]], test: str = "") -> dict[str, str]:
        return next((r for r in rows if not test or r["test"] == test), rows[-1])

    return Baseline(
        figures={
            "ping_p16_rps": round(float(row(ping, "PING_MBULK")["rps"])),
            "set_p16_rps": round(float(row(set_)["rps"])),
            "xadd_p16_rps": round(float(row(xadd)["rps"])),
            "rtt_p50_ms": float(row(rtt, "PING_MBULK")["p50_latency_ms"]),
            "rtt_p99_ms": float(row(rtt, "PING_MBULK")["p99_latency_ms"]),
        }
    )
