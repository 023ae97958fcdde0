"""`python -m bench --grpc`: every gRPC figure present, beside the bare server's, and the per-stage breakdown.

Not a timed test: nothing here asserts a speed, only that each figure is
measured (a number), that the percentages are of the same run's bare figures,
and that the breakdown names every stage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bench.grpc_figures import breakdown_text, median_figure, pct_of, quantile_ms
from bench.grpc_stages import STAGES

ROOT = Path(__file__).resolve().parents[2]

GRPC_NUMBERS = (
    "grpc_enqueue_jobs_batch_jobs_s",
    "grpc_enqueue_job_serial_rps",
    "grpc_enqueue_job_concurrent_rps",
    "grpc_enqueue_job_serial_p50_ms",
    "grpc_enqueue_job_serial_p99_ms",
    "grpc_bare_serial_rps",
    "grpc_bare_concurrent_rps",
    "grpc_bare_serial_p50_ms",
    "grpc_bare_serial_p99_ms",
    "grpc_serial_of_bare_pct",
    "grpc_concurrent_of_bare_pct",
)


def test_quantiles_are_nearest_rank_in_ms() -> None:
    latencies = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert quantile_ms(latencies, 0.5) == pytest.approx(50.0)
    assert quantile_ms(latencies, 0.99) == pytest.approx(99.0)
    assert quantile_ms([0.002], 0.99) == pytest.approx(2.0)
    assert quantile_ms([], 0.5) == "-"


def test_percent_of_bare_only_between_numbers() -> None:
    assert pct_of(900.0, 3600.0) == pytest.approx(25.0)
    assert pct_of("UNIMPLEMENTED", 3600.0) == "-"
    assert pct_of(900.0, 0.0) == "-"


def test_breakdown_names_every_stage_and_what_is_left() -> None:
    totals = {stage: [0.001 * (i + 1), 10] for i, stage in enumerate(STAGES)}
    text = breakdown_text(totals, client_mean_s=0.005, ping_us=40.0)
    for _, what in STAGES.values():
        assert what in text
    assert "client-observed latency (mean)" in text
    assert "the rest: grpc core both sides" in text


def test_grpc_run_reports_jobmesh_beside_the_bare_server(redis_url: str) -> None:
    prefix = f"tbgrpc{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")])}
    done = subprocess.run(
        [
            sys.executable, "-m", "bench", "--redis", redis_url, "--prefix", prefix, "--n", "200",
            "--latency-jobs", "10", "--rounds", "1", "--skip-bullmq", "--skip-redis-benchmark",
            "--grpc", "--grpc-single", "60", "--grpc-inflight", "5",
            # the gRPC figures alone: the backlog phase would fill a million jobs by default
            "--skip-backlog", "--skip-fleet",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=110, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for figure in GRPC_NUMBERS:
        value = report.get(figure)
        assert isinstance(value, int | float) and value > 0, f"{figure} = {value!r}"
    assert report["grpc_serial_of_bare_pct"] == pytest.approx(
        100 * report["grpc_enqueue_job_serial_rps"] / report["grpc_bare_serial_rps"], rel=0.02, abs=1
    )
    assert "where one EnqueueJob's time goes" in done.stdout
    assert "a bare grpc.aio server" in done.stdout
    assert "load average" in done.stdout


def test_a_median_figure_is_the_failure_when_a_run_failed() -> None:
    assert median_figure([3.0, 1.0, 2.0]) == 2.0
    assert median_figure([3.0, "UNAVAILABLE", 2.0]) == "UNAVAILABLE"
    assert median_figure([]) == "-"
