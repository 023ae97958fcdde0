"""Single adds that come while another add is out go together (group commit), each with its own answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.exceptions import ResponseError

from jobmesh.jobs.v1 import envelope_pb2 as env
from queue_system.catalog import CATEGORIZATION
from queue_system.manager import QueueManager
from queue_system.queue import RedisQueue
from tests.queue_system.conftest import categorization

Q = CATEGORIZATION
ADDS = 50


def _count_script_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Jobs per enqueue script call, in call order."""
    calls: list[int] = []
    enqueue = RedisQueue.enqueue

    async def counted(self: RedisQueue, jobs: Any, *args: Any, **kwargs: Any) -> list[bool]:
        calls.append(len(jobs))
        return await enqueue(self, jobs, *args, **kwargs)

    monkeypatch.setattr(RedisQueue, "enqueue", counted)
    return calls


async def test_concurrent_single_adds_share_script_calls_and_get_their_own_answers(
    manager: QueueManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_script_calls(monkeypatch)
    ids = [f"gc-{i}" for i in range(ADDS)]
    added = await asyncio.gather(
        *(manager.add_job(Q, categorization(str(i)), env.JobOptions(job_id=ids[i])) for i in range(ADDS))
    )
    assert [a.job_id for a in added] == ids  # each caller its own job, in its own place
    assert all(a.added for a in added)
    assert sum(calls) == ADDS  # every job sent exactly once
    assert len(calls) < ADDS  # ...and not one script call each
    assert calls[0] == 1  # the first add went straight out: nothing waits for a lone add
    for job_id in ids:
        assert (await manager.get_job(Q, job_id)).state == env.JOB_STATE_WAITING


async def test_a_duplicate_in_the_same_group_is_a_duplicate(manager: QueueManager) -> None:
    first, second, third = await asyncio.gather(
        manager.add_job(Q, categorization("a"), env.JobOptions(job_id="same")),
        manager.add_job(Q, categorization("b"), env.JobOptions(job_id="same")),
        manager.add_job(Q, categorization("c"), env.JobOptions(job_id="same")),
    )
    assert first.added and not second.added and not third.added


async def test_a_failed_group_fails_each_of_its_adds_and_the_next_adds_go_on(
    manager: QueueManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    enqueue = RedisQueue.enqueue
    failing = {"on": True}

    async def flaky(self: RedisQueue, jobs: Any, *args: Any, **kwargs: Any) -> list[bool]:
        if failing["on"] and len(jobs) > 1:
            raise ResponseError("script failed")
        return await enqueue(self, jobs, *args, **kwargs)

    monkeypatch.setattr(RedisQueue, "enqueue", flaky)
    results = await asyncio.gather(
        *(manager.add_job(Q, categorization(str(i))) for i in range(10)), return_exceptions=True
    )
    failed = [r for r in results if isinstance(r, ResponseError)]
    assert failed and len(failed) == 9  # the lone first add went alone; the nine behind it together
    failing["on"] = False
    again = await asyncio.gather(*(manager.add_job(Q, categorization(str(i))) for i in range(10)))
    assert all(a.added for a in again)


async def test_a_cancelled_waiting_add_leaves_the_others_answered(manager: QueueManager) -> None:
    first = asyncio.create_task(manager.add_job(Q, categorization("first")))
    await asyncio.sleep(0)  # it is out
    waiting = [asyncio.create_task(manager.add_job(Q, categorization(str(i)))) for i in range(5)]
    await asyncio.sleep(0)
    waiting[2].cancel()
    await first
    done = await asyncio.gather(*waiting, return_exceptions=True)
    assert isinstance(done[2], asyncio.CancelledError)
    assert all(not isinstance(d, BaseException) and d.added for i, d in enumerate(done) if i != 2)
