"""Reading a job while a worker finishes it: the state and the record come from one instant."""

from __future__ import annotations

import asyncio

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from queue_system.catalog import CATEGORIZATION
from queue_system.envelope import JobRequest
from queue_system.manager import QueueManager
from queue_system.tasks import task_spec
from tests.queue_system.conftest import categorization, wait_until

Q = CATEGORIZATION
JOBS = 300


async def test_a_job_read_as_completed_always_carries_its_result(manager: QueueManager) -> None:
    """A trading strategy moves on by a finished job's result: a reading that says COMPLETED
    with the hash of a moment before (no result yet) made it act on nothing (seen in CI:
    a position exit that was placed and never counted)."""

    async def run(job: fj.CategorizationJob) -> fj.CategorizationJob:
        return job  # a result the reader can check: the job's own payload back

    added = await manager.add_jobs([JobRequest(Q, categorization(str(i))) for i in range(JOBS)])
    ids = [a.job_id for a in added]
    seen_completed: set[str] = set()
    empty: list[str] = []

    async def watch(job_id: str) -> None:
        while job_id not in seen_completed:
            info = await manager.get_job(Q, job_id)
            if info.state == env.JOB_STATE_COMPLETED:
                seen_completed.add(job_id)
                if not info.result.value:
                    empty.append(job_id)

    watchers = [asyncio.create_task(watch(i)) for i in ids]
    await manager.create_worker(Q, {Q: task_spec(Q, Q, run)}, concurrency=20)

    async def all_seen() -> bool:
        return len(seen_completed) == JOBS

    try:
        await wait_until(all_seen, within=120)
    finally:
        for w in watchers:
            w.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    assert empty == []
    back = fj.CategorizationJob()
    assert (await manager.get_job(Q, ids[-1])).result.Unpack(back)
    assert list(back.transaction_ids) == [str(JOBS - 1)]
