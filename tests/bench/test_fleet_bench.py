"""bench.fleet: eight queues served by two worker processes, and delayed jobs due together.

Tiny sizes; nothing here asserts a speed: every job starts once, none early,
the figures are there, and no key is left behind.
"""

from __future__ import annotations

import shutil
import uuid

import pytest

from bench.fleet import bullmq_modules, drain_figures, lateness_figures, run_bullmq, run_fleet
from bench.options import parse
from tests.bench.leftovers import keys_left

FIGURES = (
    "drain_jobs_s",
    "drain_queue_fairness",
    "drain_process_split",
    "late_p50_ms",
    "late_p99_ms",
    "late_max_ms",
    "late_over_100ms",
    "early",
)


def test_drain_figures_count_the_first_half_of_starts_per_queue_and_the_split_per_process() -> None:
    # process 0 runs queue 0's jobs first, process 1 queue 1's; starts in ms
    p0 = [[0, 0, 1000.0, 0], [0, 2, 1001.0, 0], [1, 5, 1003.0, 0]]
    p1 = [[1, 1, 1002.0, 0]]
    f = drain_figures([p0, p1], 2)
    assert f["jobs_s"] == 4 / 0.003
    assert f["queue_fairness"] == 0.0  # the first half (2 starts) all queue 0's
    assert f["process_split"] == 1 / 3


def test_lateness_is_start_minus_due_from_the_scores_or_from_what_the_child_said() -> None:
    starts = [[[0, 0, 1050.0, 0], [1, 1, 1300.0, 0]], [[0, 2, 999.0, 0]]]
    f = lateness_figures(starts, {0: 1000.0, 1: 1100.0, 2: 1000.0})
    assert (f["late_max_ms"], f["late_over_100ms"], f["early"]) == (200.0, 1.0, 1.0)
    said = lateness_figures([[[0, 0, 1050.0, 1000.0]]], {})  # BullMQ's children report the due time
    assert said["late_p50_ms"] == 50.0 and said["early"] == 0.0


async def test_jobmesh_fleet_starts_every_job_once_none_early_and_leaves_no_keys(redis_url: str) -> None:
    prefix = f"tfleet{uuid.uuid4().hex[:10]}"
    opts = parse(["--redis", redis_url, "--prefix", prefix, "--n", "160", "--skip-bullmq"])
    fleet = await run_fleet(opts, 40)
    assert fleet.notes == []  # 160 starts for 160 jobs, 40 for 40 delayed ones
    assert fleet.bullmq is None and fleet.bullmq_skipped == "--skip-bullmq"
    for figure in FIGURES:
        assert figure in fleet.jobmesh, figure
    assert fleet.jobmesh["early"] == 0
    assert fleet.jobmesh["drain_jobs_s"] > 0
    report = fleet.as_dict()
    assert report["queues"] == 8 and report["processes"] == 2
    assert "delayed lateness p99, ms" in fleet.table()
    assert keys_left(redis_url, prefix, match=f"{prefix}-*") == []


@pytest.mark.skipif(shutil.which("node") is None or bullmq_modules() is None, reason="BullMQ not installed")
async def test_bullmq_fleet_starts_every_job_once_none_early_and_leaves_no_keys(redis_url: str) -> None:
    prefix = f"tfleet{uuid.uuid4().hex[:10]}"
    opts = parse(["--redis", redis_url, "--prefix", prefix, "--n", "160"])
    modules = bullmq_modules()
    assert modules is not None
    result = await run_bullmq(opts, 40, modules)
    assert result.notes == []
    assert result.figures["early"] == 0 and set(FIGURES) <= set(result.figures)
    assert keys_left(redis_url, prefix, match=f"{prefix}-*") == []
