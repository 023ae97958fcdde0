"""An alert names the dead letters already stored for its sample jobs, newest first, and only those:
a failure still being retried has no dead letter yet, so it is simply not named."""

from __future__ import annotations

from typing import cast

import redis.asyncio as aioredis

from dlq_svc.capture import dead_letter
from dlq_svc.patterns import Finding
from dlq_svc.store import now_ms
from jobmesh.dlq.v1 import alert_pb2
from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.jobs.v1 import failure_pb2
from queue_system.catalog import CATEGORIZATION, TRANSACTION_SYNC
from queue_system.dead_letters import DeadLetterRecord
from tests.dlq_svc.conftest import Dlq


def record(job: str, entry: str) -> DeadLetterRecord:
    failed = failure_pb2.FailedJob(
        queue=CATEGORIZATION, job_id=job, reason=failure_pb2.DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED
    )
    return DeadLetterRecord(CATEGORIZATION, entry, job, failed)


def finding(subject: str, jobs: tuple[str, ...]) -> Finding:
    return Finding(
        pattern=cpb.PATTERN_TYPE_RECURRING_ERROR, subject=subject, queue=CATEGORIZATION,
        category=cpb.ERROR_CATEGORY_VALIDATION, severity=cpb.RISK_LEVEL_MEDIUM, count=len(jobs),
        window_ms=60_000, message="ValueError x4", evidence="ValueError: bad account",
        suggested_action="look at the payloads", sample_job_ids=jobs,
    )  # fmt: skip


async def test_an_alert_names_the_dead_letters_of_its_sample_jobs_newest_first(
    dlq: Dlq, redis_client: aioredis.Redis
) -> None:
    now = now_ms()
    # job-1 died twice (put back once in between), job-3 once; job-2 and job-4 are still retried
    for job, entry, ago in [("job-1", "1-0", 3000), ("job-3", "3-0", 2000), ("job-1", "5-0", 1000)]:
        assert await dlq.store.capture(
            dead_letter(record(job, entry), retries=0, settings=dlq.settings, received_ms=now - ago)
        )
    alert = await dlq.alerts.raise_alert(finding("fp-a", ("job-4", "job-3", "job-2", "job-1")))
    assert alert is not None
    named = [f"{CATEGORIZATION}/5-0", f"{CATEGORIZATION}/3-0", f"{CATEGORIZATION}/1-0"]
    assert list(alert.sample_dead_letter_ids) == named
    # what WatchAlerts replays and a new watcher's snapshot carry the same names
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]], await redis_client.xrange(dlq.alerts.keys.alerts))
    assert list(alert_pb2.PatternAlert.FromString(entries[-1][1][b"alert"]).sample_dead_letter_ids) == named
    assert [list(a.sample_dead_letter_ids) for a in await dlq.alerts.active()] == [named]


async def test_an_alert_raised_before_any_of_its_jobs_died_names_none(dlq: Dlq) -> None:
    alert = await dlq.alerts.raise_alert(finding("fp-b", ("job-7", "job-8")))
    assert alert is not None and list(alert.sample_dead_letter_ids) == []
    assert list(alert.sample_job_ids) == ["job-7", "job-8"]


async def test_jobs_that_really_failed_are_named_by_the_dead_letters_capture_stored(dlq: Dlq) -> None:
    ids = await dlq.fail_with(TRANSACTION_SYNC, ValueError("amount must be positive, got -3"), jobs=3)
    stored = await dlq.captured(3)
    alert = await dlq.alerts.raise_alert(finding("fp-c", (*ids[::-1], "job-still-retried")))
    assert alert is not None
    assert sorted(alert.sample_dead_letter_ids) == sorted(d.dead_letter_id for d in stored)
