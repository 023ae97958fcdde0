"""`python -m bench trading` runs end to end on tiny figures: every phase reports, every check holds,
its keys and child processes are gone.

Not a timed test: nothing here asserts a speed, only that each figure was
measured and that what the bench checks (pages hold exactly their strategies,
every watched change arrives once and in order) held.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from bench.trading import busy_notes
from bench.trading_options import QUICK, parse
from bench.trading_report import TRADING_FIGURES
from tests.bench.leftovers import keys_left

ROOT = Path(__file__).resolve().parents[2]
TINY = (
    "--quick",
    "--strategies", "300", "--list-calls", "4",
    "--deploys", "4", "--deploy-inflight", "1,2", "--latency-deploys", "4",
    "--streams", "20", "--streams-per-strategy", "2", "--watch-seconds", "1", "--warmup", "0.3",
    "--rounds", "2",
)  # fmt: skip


def _bench(redis_url: str, prefix: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")])}
    return subprocess.run(
        [sys.executable, "-m", "bench", "trading", "--redis", redis_url, "--prefix", prefix, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )


def _number(report: dict[str, Any], key: str) -> float:
    value = report.get(key)
    assert isinstance(value, int | float) and not isinstance(value, bool) and value > 0, f"{key} = {value!r}"
    return float(value)


def test_a_tiny_run_reports_every_phase_and_leaves_no_keys(redis_url: str) -> None:
    prefix = f"tbench{uuid.uuid4().hex[:10]}"
    done = _bench(redis_url, prefix, *TINY)
    if done.returncode != 0:
        print(done.stderr)  # whole, in the failure's captured output: a child's crash says where
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["system"] == "jobmesh-trading"
    assert report["failures"] == {}
    assert [n for n in report["notes"] if not n.startswith("watch: busy machine")] == []
    for figure in TRADING_FIGURES:
        _number(report, figure)

    # ListStrategies: every filter timed, and every walk of its pages held exactly its strategies
    assert len(report["list_filters"]) >= 6
    for row in report["list_filters"]:
        assert row["right"], row
        _number(row, "p99_ms")
    assert report["targets"]["list_p99_under_100ms"] in ("met", "MISSED")

    # DeployStrategy: one burst per concurrency asked for; every strategy moved on and finished
    assert [b["inflight"] for b in report["deploy_bursts"]] == [1, 2]
    for burst in report["deploy_bursts"]:
        _number(burst, "per_s")
        _number(burst, "first_change_p99_ms")
    assert report["deploy_unchanged"] == 0 and report["deploy_unseen"] == 0
    assert report["deploy_left_at_work"] == 0

    # the fan-out, trading_svc's and the baseline's: every stream saw every change once, in order
    for side in ("watch", "bare"):
        assert report[f"{side}_complete_streams"] == 20, report
        assert report[f"{side}_faults"] == "0 / 0 / 0"
        assert report[f"{side}_stream_errors"] == 0
    assert len(report["per_round"]) == 2
    assert report["targets"]["watch_p99_within_50ms"] in ("met", "MISSED")

    # the table comes before the JSON line
    for heading in ("ListStrategies:", "DeployStrategy:", "WatchStrategy fan-out:", "bare grpc.aio"):
        assert heading in done.stdout
    assert keys_left(redis_url, prefix) == []


def test_the_fan_out_read_in_client_processes_checks_every_stream_alike(redis_url: str) -> None:
    prefix = f"tbench{uuid.uuid4().hex[:10]}"
    done = _bench(
        redis_url, prefix, "--quick", "--phases", "watch", "--streams", "20", "--streams-per-strategy", "2",
        "--watch-seconds", "1", "--warmup", "0.3", "--client-procs", "3",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["client_procs"] == 3 and report["failures"] == {}
    for side in ("watch", "bare"):
        assert report[f"{side}_complete_streams"] == 20, report
        assert report[f"{side}_faults"] == "0 / 0 / 0"
        _number(report, f"{side}_client_cpu_us_per_msg")
    # trading_svc's latency splits at the commit; the bare baseline commits nothing
    assert report["watch_after_commit_p99_ms"] <= report["watch_max_ms"] + 1
    assert report["bare_after_commit_p99_ms"] is None
    assert "read in 3 client process(es)" in done.stdout
    assert keys_left(redis_url, prefix) == []


def test_refuses_a_prefix_that_holds_keys(redis_url: str) -> None:
    prefix = f"tbench{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(redis_url)
    try:
        client.set(f"{prefix}:someone-elses", "keep me")
        done = _bench(redis_url, prefix, "--quick", "--phases", "list")
        assert done.returncode != 0
        assert "already holds 1 key" in done.stderr
        assert client.get(f"{prefix}:someone-elses") == b"keep me"
    finally:
        client.delete(f"{prefix}:someone-elses")
        client.close()


def test_quick_sets_the_short_run_and_explicit_figures_win() -> None:
    quick = parse(["--quick", "--streams", "40"])
    assert quick.quick and quick.streams == 40
    assert quick.strategies == QUICK["strategies"] and quick.rounds == QUICK["rounds"]
    full = parse(["--phases", "watch,list"])
    assert full.phases == ("list", "watch") and full.strategies == 10_000 and full.streams == 1000


def test_streams_must_divide_among_the_strategies() -> None:
    with pytest.raises(SystemExit):
        parse(["--streams", "25", "--streams-per-strategy", "10"])


def test_a_fan_out_whose_server_waited_for_a_core_is_noted_as_run_on_a_busy_machine() -> None:
    notes = busy_notes(
        {"watch_server_wait_pct": 44.1, "watch_load_1m_start": 11.7, "bare_server_wait_pct": 3.0}
    )
    assert len(notes) == 1 and "trading_svc's server waited for a core 44% of the time" in notes[0]
    assert "load average 11.7" in notes[0]
    assert busy_notes({"watch_server_wait_pct": None}) == []
