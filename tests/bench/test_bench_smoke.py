"""`python -m bench` runs end to end on a tiny N: every figure present and positive, its keys gone.

Not a timed test: nothing here asserts a speed. BullMQ and redis-benchmark are
skipped (their own flags), so only Redis is needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import redis

from bench.report import JOBMESH_FIGURES

ROOT = Path(__file__).resolve().parents[2]


def _bench(redis_url: str, prefix: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")])}
    return subprocess.run(
        [sys.executable, "-m", "bench", "--redis", redis_url, "--prefix", prefix, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )


def _keys(redis_url: str, prefix: str) -> list[bytes]:
    client = redis.Redis.from_url(redis_url)
    try:
        return list(client.scan_iter(match=f"{prefix}:*", count=1000))
    finally:
        client.close()


def test_tiny_run_reports_every_figure_and_leaves_no_keys(redis_url: str) -> None:
    prefix = f"tbench{uuid.uuid4().hex[:10]}"
    done = _bench(
        redis_url, prefix, "--n", "300", "--latency-jobs", "20", "--skip-bullmq", "--skip-redis-benchmark"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["system"] == "jobmesh"
    assert report["n"] == 300
    for figure in JOBMESH_FIGURES:
        value = report.get(figure)
        assert isinstance(value, int | float) and value > 0, f"{figure} = {value!r}"
    assert report["notes"] == [], report["notes"]  # every job of every phase completed
    assert report["bullmq"] is None and report["bullmq_skipped"] == "--skip-bullmq"
    assert report["redis_floor"] is None
    assert "drain, jobs/s" in done.stdout  # the table is printed before the JSON line
    assert _keys(redis_url, prefix) == []


def test_refuses_a_prefix_that_holds_keys(redis_url: str) -> None:
    prefix = f"tbench{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(redis_url)
    try:
        client.set(f"{prefix}:someone-elses", "keep me")
        done = _bench(redis_url, prefix, "--n", "10", "--skip-bullmq", "--skip-redis-benchmark")
        assert done.returncode != 0
        assert "already holds 1 key" in done.stderr
        assert client.get(f"{prefix}:someone-elses") == b"keep me"
    finally:
        client.delete(f"{prefix}:someone-elses")
        client.close()
