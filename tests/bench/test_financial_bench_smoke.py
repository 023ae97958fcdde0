"""`python -m bench financial --quick` runs end to end on both ledgers: every figure present,
a second import of the same statement (or sync of the same bank account) adds nothing, every
transaction of the categorization phase is decided or left for review, and every report covers
every transaction of its month.

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
        assert figures["gocardless_new"] == figures["gocardless_transactions"] == 500
        assert figures["gocardless_again_new"] == 0 and figures["gocardless_tx_per_s"] > 0
        decided = (
            figures["categorized_by_rules"]
            + figures["categorized_by_model"]
            + figures["categorize_left_for_review"]
        )
        assert decided == figures["categorize_transactions"] == 150
        assert figures["categorized_by_rules"] > 0 and figures["categorized_per_s"] > 0
        assert figures["report_transactions"] == 2_000
        assert all(figures[f"report_{kind}_s"] > 0 for kind in ("json", "csv", "excel", "pdf"))
