"""Redrive: an operator puts a failed (or dead-lettered) job back, and it runs again, once,
with its id and its whole history, whatever its retention did with it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import failure_pb2
from queue_system.catalog import CATEGORIZATION
from queue_system.context import JobContext
from queue_system.dead_letters import DeadLetterReader, DeadLetterRecord
from queue_system.manager import QueueManager
from queue_system.settings import Settings
from queue_system.tasks import task_spec
from tests.queue_system.conftest import categorization, wait_until

Q = CATEGORIZATION


class FlakyHandler:
    """Fails while `failing`; counts every run of every job."""

    def __init__(self) -> None:
        self.failing = True
        self.runs: list[tuple[str, int]] = []

    async def run(self, job: Any, ctx: JobContext) -> None:
        self.runs.append((ctx.job_id, ctx.attempt))
        if self.failing:
            raise ConnectionError(f"venue down (attempt {ctx.attempt})")


async def _dead_letters(manager: QueueManager, n: int) -> list[DeadLetterRecord]:
    reader = DeadLetterReader(manager.client, manager.settings.queue_prefix, [Q], "test-reader")
    await reader.ensure_group()
    got: list[DeadLetterRecord] = []

    async def enough() -> bool:
        got.extend(await reader.read(count=10, block_ms=50))
        return len(got) >= n

    await wait_until(enough)
    await reader.ack(got)
    return got


async def _state(m: QueueManager, job_id: str, state: int) -> bool:
    return (await m.get_job(Q, job_id)).state == state


async def test_a_dead_lettered_job_kept_as_failed_runs_again_once_with_its_history(
    manager: QueueManager,
) -> None:
    handler = FlakyHandler()
    await manager.create_worker(Q, {Q: task_spec(Q, Q, handler.run)})
    keep = env.Retention(remove=False)
    added = await manager.add_job(Q, categorization("x"), env.JobOptions(attempts=2, remove_on_fail=keep))
    [dead] = await _dead_letters(manager, 1)
    assert dead.failed is not None and dead.failed.attempts_made == 2
    assert (await manager.get_job(Q, added.job_id)).state == env.JOB_STATE_FAILED

    handler.failing = False
    assert await manager.redrive_dead_letter(dead.failed)
    await wait_until(lambda: _state(manager, added.job_id, env.JOB_STATE_COMPLETED))
    await asyncio.sleep(0.3)  # nothing more runs after it completed
    assert handler.runs == [(added.job_id, 1), (added.job_id, 2), (added.job_id, 3)]
    info = await manager.get_job(Q, added.job_id)
    assert (info.attempts_made, info.deliveries) == (3, 3)
    assert [e.attempt for e in info.errors] == [1, 2]
    # once back and done, a second redrive of the same dead letter changes nothing
    assert not await manager.redrive_dead_letter(dead.failed)


async def test_a_dead_lettered_job_its_retention_removed_is_recreated_from_the_dead_letter(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    handler = FlakyHandler()
    await manager.create_worker(Q, {Q: task_spec(Q, Q, handler.run)})
    drop = env.Retention(remove=True)
    added = await manager.add_job(
        Q, categorization("x"), env.JobOptions(priority=env.JOB_PRIORITY_HIGH, remove_on_fail=drop)
    )
    [dead] = await _dead_letters(manager, 1)
    assert not await redis_client.exists(manager.queue(Q).keys.job(added.job_id))
    assert dead.failed is not None

    handler.failing = False
    assert await manager.redrive_dead_letter(dead.failed)
    await wait_until(lambda: _ran(handler, 2))
    await wait_until(lambda: _state(manager, added.job_id, env.JOB_STATE_COMPLETED))
    info = await manager.get_job(Q, added.job_id)
    assert info.job.priority == env.JOB_PRIORITY_HIGH
    assert info.attempts_made == 2 and [e.attempt for e in info.errors] == [1]
    assert info.errors[0].message == "venue down (attempt 1)"


async def _ran(handler: FlakyHandler, n: int) -> bool:
    return len(handler.runs) >= n


async def test_retry_jobs_grants_a_new_series_of_attempts_and_keeps_the_old(manager: QueueManager) -> None:
    handler = FlakyHandler()
    await manager.create_worker(Q, {Q: task_spec(Q, Q, handler.run)})
    added = await manager.add_job(Q, categorization("x"), env.JobOptions(attempts=2))
    await wait_until(lambda: _state(manager, added.job_id, env.JOB_STATE_FAILED))
    assert await manager.redrive(Q, "failed") == [added.job_id]
    await wait_until(lambda: _ran(handler, 4))
    await wait_until(lambda: _state(manager, added.job_id, env.JOB_STATE_FAILED))
    info = await manager.get_job(Q, added.job_id)
    # two series of two attempts each: every attempt and error kept, none erased
    assert info.attempts_made == 4 and info.deliveries == 4
    assert [e.attempt for e in info.errors] == [1, 2, 3, 4]
    assert [a for _, a in handler.runs] == [1, 2, 3, 4]
    assert (
        info.failed_reason
        == "all 2 attempts failed; the last (attempt 4) with ConnectionError: venue down (attempt 4)"
    )


async def test_a_redrive_of_an_id_in_use_changes_nothing(
    manager: QueueManager, make_settings: Callable[..., Settings]
) -> None:
    record = failure_pb2.FailedJob(
        queue=Q,
        job_id="order-1",
        job=env.Job(id="order-1", queue=Q, payload=categorization("x")),
        reason=failure_pb2.DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED,
        attempts_made=1,
        deliveries=1,
    )
    await manager.add_job(Q, categorization("again"), env.JobOptions(job_id="order-1"))
    assert not await manager.redrive_dead_letter(record)
    info = await manager.get_job(Q, "order-1")
    assert info.state == env.JOB_STATE_WAITING and info.job.payload.categorization.transaction_ids == [
        "again"
    ]
