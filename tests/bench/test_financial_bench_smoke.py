"""`python -m bench financial --quick` runs end to end on both ledgers: every figure present,
a second import of the same statement adds nothing.

Not a timed test: nothing here asserts a speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_quick_financial_run_reports_both_ledgers_and_imports_each_row_once() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")])}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "financial", "--quick"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["system"] == "jobmesh-financial"
    ledgers = [kind for kind in ("sqlite", "postgresql") if kind not in report["skipped"]]
    assert "sqlite" in ledgers, report["skipped"]
    for kind in ledgers:
        figures = report[kind]
        assert figures["ofx_new"] == figures["ofx_transactions"] == 500
        assert figures["ofx_again_new"] == 0
        assert figures["ofx_tx_per_s"] > 0 and figures["ofx_again_tx_per_s"] > 0
