"""Capture: every dead letter stored once, classified, with every attempt; acknowledged only after."""

from __future__ import annotations

import errno

import redis.asyncio as aioredis

from dlq_svc.capture import Capture, dead_letter
from dlq_svc.store import Filters
from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.dlq.v1 import dead_letter_pb2 as dpb
from jobmesh.jobs.v1 import failure_pb2
from queue_system.catalog import CATEGORIZATION, STRATEGY_EXECUTION, TRANSACTION_SYNC
from queue_system.dead_letters import DeadLetterReader, DeadLetterRecord
from queue_system.keys import DEAD_LETTER_GROUP, EntryField
from tests.dlq_svc.conftest import WITHIN, Dlq
from tests.queue_system.conftest import wait_until


async def test_a_poison_job_is_stored_with_its_category_and_every_attempt(dlq: Dlq) -> None:
    [job_id] = await dlq.fail_with(
        TRANSACTION_SYNC, ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), attempts=3
    )
    [d] = await dlq.captured(1)
    assert d.dead_letter_id.startswith(f"{TRANSACTION_SYNC}/")
    assert d.failed_job.job_id == job_id and d.failed_job.queue == TRANSACTION_SYNC
    assert [e.attempt for e in d.failed_job.errors] == [1, 2, 3]
    assert {e.error_type for e in d.failed_job.errors} == {"ConnectionRefusedError"}
    assert all(e.worker and e.stack for e in d.failed_job.errors)
    assert d.failed_job.job.payload.HasField("probe")  # the envelope, to run it again
    assert d.category == cpb.ERROR_CATEGORY_NETWORK
    assert d.recovery == cpb.RECOVERY_STRATEGY_RETRY_DELAYED
    assert d.status == dpb.DEAD_LETTER_STATUS_RETRY_SCHEDULED
    assert d.retry_at.ToMilliseconds() > d.received_at.ToMilliseconds()
    assert d.decision_reason.startswith("automatic: ERROR_CATEGORY_NETWORK")
    assert await dlq.store.get(d.dead_letter_id) == d


async def test_a_record_read_again_after_a_crash_mid_capture_is_stored_once(
    dlq: Dlq, redis_client: aioredis.Redis
) -> None:
    await dlq.fail_with(CATEGORIZATION, ValueError("bad account"), jobs=3)
    prefix, queues = dlq.manager.settings.queue_prefix, list(dlq.manager.queues)
    crashed = DeadLetterReader(dlq.manager.client, prefix, queues, "crashed", reclaim_ms=300)
    got: list[DeadLetterRecord] = []

    async def three() -> bool:
        got.extend(await crashed.read(block_ms=50))
        return len(got) >= 3

    await wait_until(three, within=WITHIN)
    # the crashed dlq-svc stored them, then died before acknowledging
    for record in got:
        assert isinstance(record, DeadLetterRecord)
        assert await dlq.store.capture(dead_letter(record, retries=0, settings=dlq.settings, received_ms=1))
    stream = dlq.manager.queue(CATEGORIZATION).keys.dead_letters
    assert (await redis_client.xpending(stream, DEAD_LETTER_GROUP))["pending"] == 3
    # a reader of a restarted dlq-svc takes the records over and stores them again: nothing changes
    again = Capture(
        DeadLetterReader(dlq.manager.client, prefix, queues, "restarted", reclaim_ms=300),
        dlq.store,
        dlq.settings,
    )

    async def taken_over() -> bool:
        await again.step(block_ms=50)
        return (await redis_client.xpending(stream, DEAD_LETTER_GROUP))["pending"] == 0

    await wait_until(taken_over, within=WITHIN)
    assert await dlq.store.count() == 3
    ids, _ = await dlq.store.page(Filters(), 10)
    assert {d.received_at.ToMilliseconds() for d in await dlq.store.get_many(ids)} == {
        1
    }  # the first capture's
    stats = await dlq.store.stats()
    assert stats.total == 3 and dict(stats.by_queue) == {CATEGORIZATION: 3}


async def test_stats_count_by_queue_category_risk_status_and_strategy(dlq: Dlq) -> None:
    await dlq.fail_with(
        STRATEGY_EXECUTION, PermissionError(13, "Permission denied"), strategy_id="strategy_1_abc"
    )
    await dlq.fail_with(CATEGORIZATION, ValueError("no such transaction"), jobs=2)
    letters = await dlq.captured(3)
    stats = await dlq.store.stats()
    assert stats.total == 3
    assert dict(stats.by_queue) == {STRATEGY_EXECUTION: 1, CATEGORIZATION: 2}
    assert dict(stats.by_category) == {"ERROR_CATEGORY_AUTHORIZATION": 1, "ERROR_CATEGORY_VALIDATION": 2}
    assert dict(stats.by_strategy) == {"strategy_1_abc": 1}
    assert sum(stats.by_risk.values()) == 3 and sum(stats.by_status.values()) == 3
    order = {d.failed_job.queue: d for d in letters}
    # a failed order matters more than a failed categorization
    assert order[STRATEGY_EXECUTION].risk > order[CATEGORIZATION].risk
    assert order[STRATEGY_EXECUTION].strategy_id == "strategy_1_abc"
    # a low-risk validation failure is discarded (kept, marked); an authorization failure is held
    assert order[CATEGORIZATION].status == dpb.DEAD_LETTER_STATUS_DISCARDED
    assert order[STRATEGY_EXECUTION].status == dpb.DEAD_LETTER_STATUS_PENDING
    mine, _ = await dlq.store.page(Filters(strategy_id="strategy_1_abc"), 10)
    assert mine == [order[STRATEGY_EXECUTION].dead_letter_id]


async def test_a_record_that_does_not_decode_is_kept_for_a_person(
    dlq: Dlq, redis_client: aioredis.Redis
) -> None:
    stream = dlq.manager.queue(CATEGORIZATION).keys.dead_letters
    await redis_client.xadd(
        stream, {EntryField.DEAD_JOB_ID: "job-x", EntryField.DEAD_RECORD: b"\xff\xfe not protobuf"}
    )
    [d] = await dlq.captured(1)
    assert d.failed_job.job_id == "job-x" and d.failed_job.queue == CATEGORIZATION
    assert d.failed_job.reason == failure_pb2.DEAD_LETTER_REASON_UNDECODABLE
    assert "does not decode" in d.failed_job.detail
    assert d.status == dpb.DEAD_LETTER_STATUS_PENDING and d.recovery == cpb.RECOVERY_STRATEGY_MANUAL_REVIEW
