"""`python -m bench dlq --quick` runs end to end: every figure present, nothing lost, its keys gone.

Not a timed test: nothing here asserts a speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]


def test_a_quick_dlq_run_captures_every_failure_raises_alerts_and_leaves_no_keys(redis_url: str) -> None:
    prefix = f"tbench{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")])}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "dlq", "--quick", "--redis", redis_url, "--prefix", prefix],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["system"] == "jobmesh-dlq" and report["failures"] == {}
    assert report["classify_us_per_failure"] > 0 and report["captured_per_s"] > 0
    assert report["capture_stored"] == report["capture_records"]
    assert report["storm_captured"] == report["storm_failures"]
    assert report["storm_lost"] == report["storm_duplicates"] == 0
    assert report["storm_alerts"] >= 1 and report["storm_categories"] >= 5
    client = redis.Redis.from_url(redis_url)
    try:
        assert list(client.scan_iter(match=f"{prefix}:*", count=1000)) == []
    finally:
        client.close()
