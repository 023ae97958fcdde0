"""The backlog phase (bench/backlog.py) on tiny backlogs: its figures, its options, its table, its cleanup.

Not a timed test: nothing here asserts a speed. BullMQ's side runs for real only
when node and the baseline's BullMQ install are on the machine; the ratios and
the table are checked on a stand-in BullMQ row.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import stat
import uuid
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bench import backlog
from bench.keyspace import count_keys
from bench.options import parse


def _opts(redis_url: str, *extra: str) -> backlog.BenchOptions:
    prefix = f"tbacklog{uuid.uuid4().hex[:10]}"
    return parse(["--redis", redis_url, "--prefix", prefix, "--latency-jobs", "20", *extra])


def test_options_sizes_and_skip() -> None:
    assert parse([]).backlog == (10_000, 100_000, 1_000_000)
    assert parse([]).backlog_drain == 10_000
    assert parse(["--backlog", "300,2000", "--backlog-drain", "100"]).backlog == (300, 2000)
    assert parse(["--skip-backlog"]).backlog == ()
    with pytest.raises(SystemExit):
        parse(["--backlog", "10,0"])


async def test_tiny_backlogs_report_their_figures_and_leave_no_keys(redis_url: str) -> None:
    opts = _opts(redis_url, "--backlog", "300,1200", "--backlog-drain", "500", "--skip-bullmq")
    rows = await backlog.run_backlog(opts)
    assert [r["size"] for r in rows] == [300, 1200]
    for row in rows:
        jm = row["jobmesh"]
        assert jm["system"] == "jobmesh" and jm["size"] == row["size"]
        assert jm["drain_jobs"] == min(500, row["size"])
        assert jm["drain_jobs_s"] > 0 and jm["fill_jobs_s"] > 0
        assert jm["fill_bench_cpu_us"] > 0 and jm["drain_bench_cpu_us"] > 0
        assert jm["job_hash_bytes"] > 0 and jm["job_hash_encoding"] in {"listpack", "ziplist", "hashtable"}
        assert jm["hash_max_listpack_value"] > 0
        assert isinstance(jm["used_memory_delta"], int)  # the Redis is shared: it may even shrink
        assert jm["keys"] > row["size"] and jm["bytes_per_waiting_job"] > 0
        assert 0 <= jm["probes_in_backlog"] <= 20
        if jm["probes_in_backlog"]:
            assert jm["pick_p50_ms"] > 0 and jm["pick_p99_ms"] >= jm["pick_p50_ms"]
        assert row["bullmq"] == {"skipped": "--skip-bullmq"}
    client = aioredis.Redis.from_url(redis_url)
    try:
        for prefix in (backlog.backlog_prefix(opts), backlog.bullmq_prefix(opts)):
            assert await count_keys(client, prefix) == 0
    finally:
        await client.aclose()


def test_probes_go_to_the_head_of_the_line() -> None:
    job = backlog.probe_job(7)
    assert job.options is not None
    assert job.options.priority == backlog.envelope_pb2.JOB_PRIORITY_CRITICAL
    assert job.payload.categorization.id == f"{backlog.PROBE_ID}7"


FAKE_ROW = {
    "system": "bullmq", "version": "fake", "size": 300, "drain_jobs": 300, "fill_jobs_s": 1000,
    "used_memory_delta": 300_000, "bytes_per_waiting_job": 1000.0, "drain_jobs_s": 2000,
    "probes_in_backlog": 10, "pick_p50_ms": 1.0, "pick_p99_ms": 4.0, "keys_deleted": 1,
}  # fmt: skip


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_bullmq_row_is_read_and_set_beside_jobmesh(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "node_modules" / "bullmq").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _executable(bin_dir / "node", f"#!/bin/sh\necho '{json.dumps(FAKE_ROW)}'\necho '{{\"done\": true}}'\n")
    monkeypatch.setenv("BULLMQ_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(bin_dir))
    opts = _opts(redis_url, "--backlog", "300")
    row = backlog.bullmq_size(opts, 300)
    assert row == FAKE_ROW
    jm = {**FAKE_ROW, "system": "jobmesh", "bytes_per_waiting_job": 500.0, "drain_jobs_s": 3000}
    [s] = backlog.summary([{"size": 300, "jobmesh": jm, "bullmq": row}])
    assert s["drain_ratio"] == 1.5 and s["bytes_ratio"] == 0.5 and s["pick_p99_ratio"] == 1.0
    text = backlog.table([{"size": 300, "jobmesh": jm, "bullmq": {"skipped": "why"}}])
    assert "BullMQ not run: why" in text


def test_bullmq_skipped_without_its_install(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULLMQ_DIR", str(tmp_path))
    row = backlog.bullmq_size(_opts(redis_url), 300)
    assert "skipped" in row


@pytest.mark.skipif(
    shutil.which("node") is None or not (backlog.bullmq_dir() / "node_modules" / "bullmq").is_dir(),
    reason="node or the BullMQ baseline's install is missing",
)
def test_real_bullmq_tiny_backlog(redis_url: str) -> None:
    opts = dataclasses.replace(_opts(redis_url, "--backlog-drain", "300"), concurrency=10)
    row = backlog.bullmq_size(opts, 600)
    assert row.get("system") == "bullmq", row
    assert row["size"] == 600 and row["drain_jobs"] == 300
    assert row["drain_jobs_s"] > 0 and row["bytes_per_waiting_job"] > 0 and row["keys"] > 600
