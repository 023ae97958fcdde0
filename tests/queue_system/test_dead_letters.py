"""Dead-letter intake: every dead letter reaches one reader, and stays until that reader says it is done."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import failure_pb2
from jobmesh.jobs.v1 import financial_jobs_pb2 as fin
from queue_system.catalog import CATEGORIZATION, TRANSACTION_SYNC
from queue_system.dead_letters import DeadLetterReader, DeadLetterRecord
from queue_system.keys import DEAD_LETTER_GROUP
from queue_system.manager import QueueManager
from queue_system.tasks import task_spec
from tests.queue_system.conftest import categorization, wait_until

QUEUES = [CATEGORIZATION, TRANSACTION_SYNC]


async def _boom(job: Any) -> None:
    raise ValueError("bad account")


def _reader(manager: QueueManager, name: str, reclaim_ms: int = 60_000) -> DeadLetterReader:
    return DeadLetterReader(
        manager.client, manager.settings.queue_prefix, QUEUES, name, reclaim_ms=reclaim_ms
    )


async def _read_all(reader: DeadLetterReader, n: int) -> list[DeadLetterRecord]:
    got: list[DeadLetterRecord] = []

    async def enough() -> bool:
        got.extend(await reader.read(count=50, block_ms=50))
        return len(got) >= n

    await wait_until(enough)
    return got


async def test_each_dead_letter_reaches_one_reader_and_stays_until_acknowledged(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    await manager.create_worker(
        CATEGORIZATION, {CATEGORIZATION: task_spec(CATEGORIZATION, CATEGORIZATION, _boom)}
    )
    added = [await manager.add_job(CATEGORIZATION, categorization(f"j{i}")) for i in range(3)]
    first = _reader(manager, "dlq-a", reclaim_ms=300)
    await first.ensure_group()
    records = await _read_all(first, 3)
    assert sorted(r.job_id for r in records) == sorted(a.job_id for a in added)
    for r in records:
        assert r.queue == CATEGORIZATION and r.failed is not None
        assert r.failed.reason == failure_pb2.DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED
        assert r.failed.errors[0].message == "bad account"
    # read, not acknowledged: a second reader gets nothing new...
    second = _reader(manager, "dlq-b", reclaim_ms=300)
    assert await second.read(block_ms=10) == []
    stream = manager.queue(CATEGORIZATION).keys.dead_letters
    assert (await redis_client.xpending(stream, DEAD_LETTER_GROUP))["pending"] == 3
    # ...until the first has been silent past reclaim_ms: then they go to the second
    taken = await _read_all(second, 3)
    assert sorted(r.entry_id for r in taken) == sorted(r.entry_id for r in records)
    assert await second.ack(taken) == 3
    assert (await redis_client.xpending(stream, DEAD_LETTER_GROUP))["pending"] == 0
    assert await second.read(block_ms=10) == []
    assert await redis_client.xlen(stream) == 3  # acknowledged records stay: the history


async def test_a_reader_reads_every_queue_it_serves(manager: QueueManager) -> None:
    sync = env.JobPayload(
        transaction_sync=fin.TransactionSyncJob(
            account_id="acc_1", provider=fin.SYNC_PROVIDER_API, sync_type=fin.SYNC_TYPE_INCREMENTAL
        )
    )
    for queue in QUEUES:
        await manager.create_worker(queue, {"nothing": task_spec("nothing", queue, _boom)})
        payload = categorization("x") if queue == CATEGORIZATION else sync
        await manager.add_job(queue, payload, task_name="none")
    reader = _reader(manager, "dlq")
    await reader.ensure_group()
    got = await _read_all(reader, 2)
    assert {r.queue for r in got} == set(QUEUES)
    assert all(r.failed and r.failed.reason == failure_pb2.DEAD_LETTER_REASON_UNKNOWN_TASK for r in got)
    assert await reader.ack(got) == 2


async def test_a_record_that_does_not_decode_is_read_and_says_why(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    reader = _reader(manager, "dlq")
    await reader.ensure_group()
    stream = manager.queue(CATEGORIZATION).keys.dead_letters
    await redis_client.xadd(stream, {"job_id": "j1", "failed_job": b"\xff\xff\xff"})
    [record] = await _read_all(reader, 1)
    assert (record.job_id, record.failed) == ("j1", None)
    assert "does not decode" in record.problem

