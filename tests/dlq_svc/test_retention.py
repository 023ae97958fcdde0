"""Retention: dead letters older than DLQ_RETENTION or beyond DLQ_RETENTION_MAX are removed, never
silently: each trim is announced on system:events, and the indexes and counters follow."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest
import redis.asyncio as aioredis

from dlq_svc import retention
from dlq_svc.capture import dead_letter
from dlq_svc.settings import DlqSettings, load
from dlq_svc.store import Filters, now_ms
from jobmesh.jobs.v1 import failure_pb2
from queue_system.catalog import CATEGORIZATION, SYSTEM_EVENTS_CHANNEL
from queue_system.dead_letters import DeadLetterRecord
from queue_system.settings import ConfigError
from tests.dlq_svc.conftest import Dlq

DAY_MS = 24 * 3600 * 1000


def record(n: int) -> DeadLetterRecord:
    failed = failure_pb2.FailedJob(
        queue=CATEGORIZATION, job_id=f"job-{n}", reason=failure_pb2.DEAD_LETTER_REASON_UNKNOWN_TASK
    )
    return DeadLetterRecord(CATEGORIZATION, f"{n}-0", f"job-{n}", failed)


async def test_retention_trims_by_age_then_by_cap_and_says_so(dlq: Dlq, redis_client: aioredis.Redis) -> None:
    settings = replace(dlq.settings, retention_max=3)
    now = now_ms()
    ages = [40, 31, 5, 4, 3, 2, 1]  # days
    for n, days in enumerate(ages):
        assert await dlq.store.capture(
            dead_letter(record(n), retries=0, settings=settings, received_ms=now - days * DAY_MS)
        )
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(SYSTEM_EVENTS_CHANNEL)
    trimmed = await retention.trim(dlq.store, settings)
    assert [(e.cause, e.removed, e.kept) for e in trimmed] == [("age", 2, 3), ("cap", 2, 3)]
    events = []
    async with asyncio.timeout(10):
        while len(events) < 2:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                event = json.loads(message["data"])
                # system:events is global: other tests' services on this Redis speak there too
                if event["event"] == "dead_letters_trimmed":
                    events.append(event)
    await pubsub.aclose()
    assert [(e["service"], e["event"], e["data"]["cause"]) for e in events] == [
        ("dlq-svc", "dead_letters_trimmed", "age"),
        ("dlq-svc", "dead_letters_trimmed", "cap"),
    ]
    left, _ = await dlq.store.page(Filters(), 100)
    assert [d.failed_job.job_id for d in await dlq.store.get_many(left)] == ["job-6", "job-5", "job-4"]
    # each trimmed dead letter left its job's index too (the set gone with the job's last one)
    assert await dlq.store.of_jobs([f"job-{n}" for n in range(7)], limit=10) == left
    assert not await redis_client.exists(*(dlq.store.keys.of_job(f"job-{n}") for n in range(4)))
    stats = await dlq.store.stats()
    assert stats.total == 3 and dict(stats.by_queue) == {CATEGORIZATION: 3}
    assert sum(stats.by_category.values()) == sum(stats.by_status.values()) == 3
    assert await retention.trim(dlq.store, settings) == []  # nothing more to trim: no event


def test_retention_is_configured_explicitly() -> None:
    assert load({}) == DlqSettings()
    assert DlqSettings().retention_ms == 30 * DAY_MS
    got = load({"DLQ_RETENTION": "7d", "DLQ_RETENTION_MAX": "5000", "DLQ_MAX_AUTO_RETRIES": "5"})
    assert (got.retention_ms, got.retention_max, got.max_auto_retries) == (7 * DAY_MS, 5000, 5)
    with pytest.raises(ConfigError, match="DLQ_RETENTION"):
        load({"DLQ_RETENTION": "a month"})
    with pytest.raises(ConfigError, match="DLQ_REDRIVE_PER_SECOND"):
        load({"DLQ_REDRIVE_PER_SECOND": "0"})
