"""Pattern detection over sliding windows, with made-up times: one alert per pattern, not one per failure."""

from __future__ import annotations

from dlq_svc.patterns import PatternDetector, fingerprint, split_error
from jobmesh.dlq.v1 import classification_pb2 as cpb

P = cpb
MINUTE = 60_000


def detector(threshold: int = 10) -> PatternDetector:
    return PatternDetector(threshold=threshold, window_ms=MINUTE, cooldown_ms=10 * MINUTE)


def test_fifty_identical_failures_within_a_minute_raise_one_recurring_error() -> None:
    d = detector()
    found = []
    for n in range(50):
        reason = f"ConnectionRefusedError: [Errno 111] connect to 10.0.0.{n % 7}:443 refused"
        found += d.failed("transaction-sync", f"job-{n}", reason, at_ms=1_000_000 + n * 1000)
    recurring = [f for f in found if f.pattern == P.PATTERN_TYPE_RECURRING_ERROR]
    assert len(recurring) == 1
    alert = recurring[0]
    assert alert.count == 10 and alert.queue == "transaction-sync"  # raised at the threshold
    assert alert.category == cpb.ERROR_CATEGORY_NETWORK
    assert alert.sample_job_ids[0] == "job-9" and len(alert.sample_job_ids) == 5
    assert "connectivity" in alert.suggested_action and "ConnectionRefusedError" in alert.evidence


def test_failures_spread_thinner_than_the_window_raise_nothing() -> None:
    d = detector()
    found = []
    for n in range(50):  # one every 7 s: never 10 within a minute
        found += d.failed("categorization", f"job-{n}", "ValueError: bad account", at_ms=n * 7_000)
    assert [f for f in found if f.pattern == P.PATTERN_TYPE_RECURRING_ERROR] == []


def test_a_job_s_retries_and_its_death_share_a_fingerprint() -> None:
    retried = split_error("TimeoutError: venue did not answer within 5s")
    died = split_error(
        "all 3 attempts failed; the last (attempt 3) with TimeoutError: venue did not answer within 9s"
    )
    assert retried[0] == died[0] == "TimeoutError"
    assert fingerprint("q", *retried) == fingerprint("q", *died)
    assert split_error("no worker of queue q has a task named 'x'") == (
        "",
        "no worker of queue q has a task named 'x'",
    )


def test_a_failure_burst_raises_a_spike_once() -> None:
    d = detector(threshold=1000)
    found = []
    for n in range(30):  # a calm baseline: one failure every 10 s for five minutes
        found += d.failed("risk-analysis", f"calm-{n}", f"ValueError: case {n}", at_ms=n * 10_000)
    assert found == []
    for n in range(60):  # then 60 within 6 s
        found += d.failed("risk-analysis", f"burst-{n}", f"RuntimeError: boom {n}", at_ms=300_000 + n * 100)
    spikes = [f for f in found if f.pattern == P.PATTERN_TYPE_SPIKE]
    assert len(spikes) == 1 and spikes[0].queue == "risk-analysis" and spikes[0].count >= 20
    assert spikes[0].severity >= cpb.RISK_LEVEL_HIGH


def test_a_queue_whose_failure_ratio_climbs_is_degrading() -> None:
    d = detector(threshold=1000)
    found = []
    t = 0
    for n in range(60):  # a healthy minute: 1 in 10 fails
        t += 1000
        found += (
            d.failed("report-generation", f"j{n}", f"OSError: disk {n}", t)
            if n % 10 == 0
            else d.completed("report-generation", t, 100)
        )
    assert found == []
    for n in range(60):  # then 7 in 10 fail
        t += 1000
        found += (
            d.failed("report-generation", f"k{n}", f"OSError: disk {n}", t)
            if n % 10 < 7
            else d.completed("report-generation", t, 100)
        )
    degraded = [f for f in found if f.pattern == P.PATTERN_TYPE_QUEUE_DEGRADATION]
    assert len(degraded) == 1 and degraded[0].queue == "report-generation"
    assert "failure ratio" in degraded[0].evidence


def test_a_queue_whose_jobs_slow_down_is_degrading() -> None:
    d = detector(threshold=1000)
    found = []
    for n in range(60):
        found += d.completed("position-monitoring", n * 1000, 100)
    for n in range(60):
        found += d.completed("position-monitoring", 60_000 + n * 1000, 500)
    degraded = [f for f in found if f.pattern == P.PATTERN_TYPE_QUEUE_DEGRADATION]
    assert len(degraded) == 1 and "slowing" in degraded[0].message
