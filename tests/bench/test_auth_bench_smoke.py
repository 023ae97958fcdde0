"""`python -m bench auth --quick` runs end to end: every figure present, for both services, its keys gone.

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


def test_a_quick_auth_run_reports_both_sides_and_leaves_no_keys(redis_url: str) -> None:
    prefix = f"tbench{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")])}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "auth", "--quick", "--redis", redis_url, "--prefix", prefix],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["system"] == "jobmesh-auth"
    for side in ("plain", "auth"):
        for figure in ("read_serial", "read_concurrent", "write_serial", "write_concurrent"):
            assert report[f"{side}_{figure}_rps"] > 0
    client = redis.Redis.from_url(redis_url)
    try:
        assert list(client.scan_iter(match=f"{prefix}:*", count=1000)) == []
    finally:
        client.close()
