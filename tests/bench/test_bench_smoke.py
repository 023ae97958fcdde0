"""`python -m bench` runs end to end on a tiny N: every figure present and positive, its keys gone.

Not a timed test: nothing here asserts a speed. BullMQ and redis-benchmark are
skipped (their own flags), so only Redis is needed; where the BullMQ side
matters (who goes first in each round, which BullMQ figure each ratio divides
by) a stand-in script prints a BullMQ-shaped JSON line instead.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from bench.report import JOBMESH_FIGURES
from tests.bench.leftovers import keys_left

ROOT = Path(__file__).resolve().parents[2]


def _bench(
    redis_url: str, prefix: str, *extra: str, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")])}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "bench", "--redis", redis_url, "--prefix", prefix, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )


def test_tiny_run_reports_every_figure_and_leaves_no_keys(redis_url: str) -> None:
    prefix = f"tbench{uuid.uuid4().hex[:10]}"
    done = _bench(
        redis_url, prefix, "--n", "300", "--latency-jobs", "20", "--skip-bullmq", "--skip-redis-benchmark",
        "--backlog", "400", "--backlog-drain", "200",
        "--fleet-delayed", "40",
    )  # fmt: skip
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
    # the drain row says what it measures, and the start window is labelled as one
    assert "drain, jobs/s (1st start..last finish)" in done.stdout
    assert "drain start window, jobs/s (1st..last start)" in done.stdout
    # the public path: kiq enqueue and a drain that says results are kept
    assert "public path: kiq enqueue jobs/s" in done.stdout
    assert "public path: drain jobs/s, results kept" in done.stdout
    # three rounds by default, medians reported, every round's figures kept
    assert report["rounds"] == 3
    assert len(report["per_round"]["jobmesh"]) == 3
    # the backlog phase (bench/backlog.py): one row per size, in the table and the JSON line
    [row] = report["backlog"]
    assert row["size"] == 400 and row["jobmesh"]["drain_jobs"] == 200
    assert row["bullmq"] == {"skipped": "--skip-bullmq"}
    assert "backlog (bench/backlog.py)" in done.stdout
    assert keys_left(redis_url, prefix) == []  # result-backend keys (<prefix>:result:<id>) too
    assert keys_left(redis_url, f"{prefix}-backlog") == []
    # the fleet (bench.fleet): eight queues, two worker processes, delayed jobs; its keys gone too
    fleet = report["fleet"]
    assert fleet["queues"] == 8 and fleet["processes"] == 2 and fleet["notes"] == []
    assert fleet["jobmesh"]["drain_jobs_s"] > 0 and fleet["jobmesh"]["early"] == 0
    assert "delayed started > 100 ms late" in done.stdout
    assert keys_left(redis_url, f"{prefix}-fleet") == []


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


# BullMQ's bench's figures, with different values in its two drain windows, so a ratio
# divided by the wrong one shows.
FAKE_BULLMQ = {
    "system": "bullmq",
    "version": "fake",
    "bulk_enqueue_jobs_s": 1000,
    "drain_jobs_s": 10,  # first start -> last start
    "drain_to_last_completed_jobs_s": 100,  # first start -> last completed
    "latency_p50_ms": 1.0,
    "latency_p99_ms": 2.0,
    "worker_rss_mb": 100.0,
}


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_rounds_alternate_and_drains_are_set_beside_the_same_window(redis_url: str, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("node", "npm"):  # the bench looks for them before it runs BullMQ's script
        _executable(bin_dir / tool, "#!/bin/sh\nexit 0\n")
    fake = tmp_path / "fake_bullmq.sh"
    _executable(fake, f"#!/bin/sh\necho '{json.dumps(FAKE_BULLMQ)}'\n")
    prefix = f"tbench{uuid.uuid4().hex[:10]}"
    done = _bench(
        redis_url,
        prefix,
        "--n", "200", "--latency-jobs", "10", "--skip-redis-benchmark", "--bullmq-run", str(fake),
        "--skip-backlog",
        "--skip-fleet",
        path=os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    # round 1 jobmesh first, round 2 BullMQ first, round 3 jobmesh first
    steps = []
    for line in done.stderr.splitlines():
        if line.startswith("bench: round "):
            steps.append("round")
        elif line.startswith("bench: bulk enqueue:"):
            steps.append("jobmesh")
        elif line.startswith("bench: BullMQ baseline"):
            steps.append("bullmq")
    assert steps == ["round", "jobmesh", "bullmq", "round", "bullmq", "jobmesh", "round", "jobmesh", "bullmq"]
    assert report["order"] == ["jobmesh>bullmq", "bullmq>jobmesh", "jobmesh>bullmq"]
    assert len(report["per_round"]["bullmq"]) == 3

    # drains to the last finish are divided by BullMQ's drain to the last completed job,
    # the start window by BullMQ's start window, and never the other way round
    ratios, counterpart = report["ratio_vs_bullmq"], report["bullmq_counterpart"]
    for figure in ("drain_jobs_s", "probe_drain_jobs_s", "public_drain_jobs_s"):
        assert counterpart[figure] == "drain_to_last_completed_jobs_s"
        assert ratios[figure] == pytest.approx(report[figure] / 100, rel=0.01)
    assert counterpart["drain_start_window_jobs_s"] == "drain_jobs_s"
    start_window = report["drain_start_window_jobs_s"]
    assert ratios["drain_start_window_jobs_s"] == pytest.approx(start_window / 10, rel=0.01)
    assert "order by round: jobmesh>bullmq, bullmq>jobmesh, jobmesh>bullmq" in done.stdout
    assert report["notes"] == [], report["notes"]
    assert keys_left(redis_url, prefix) == []
