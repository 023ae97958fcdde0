"""Groups under faults done for real: worker processes SIGKILLed while they hold a group's slot,
Redis killed and restarted (AOF), several processes sharing the groups.

The worker processes (worker_proc.py) push `start` and `end` of every grouped job to its group's
list in Redis before going on, so each list is the order things happened in: the tests read who
ran when from it, never from clocks or timings.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from typing import Any

import pytest
import redis.asyncio as aioredis

from jobmesh.events.v1 import job_events_pb2
from jobmesh.jobs.v1 import envelope_pb2 as env
from mesh.redis_server import RedisProcess
from queue_system.catalog import CATEGORIZATION
from queue_system.connection import connect
from queue_system.envelope import JobRequest
from queue_system.events import event_from_entry
from queue_system.manager import QueueManager
from queue_system.settings import load
from tests.queue_system.conftest import WorkerProcesses, categorization, wait_until
from tests.queue_system.test_faults import records

pytestmark = pytest.mark.slow
Q = CATEGORIZATION
KEYS = ("k0", "k1", "k2", "k3", "k4")


def grouped(job_id: str, group: str, action: str, **options: Any) -> JobRequest:
    return JobRequest(Q, categorization(action), env.JobOptions(job_id=job_id, group_key=group, **options))


async def group_log(client: aioredis.Redis, prefix: str, group: str) -> list[tuple[str, str, int]]:
    """(start|end, job id, pid) of one group's jobs, in the order they happened (a push a client
    sent twice while riding out an outage counts once)."""
    out, seen = [], set()
    for raw in await client.lrange(f"{prefix}:test:group:{group}", 0, -1):
        what, job_id, pid, run = raw.decode().split("|")
        if (what, run) not in seen:
            seen.add((what, run))
            out.append((what, job_id, int(pid)))
    return out


def one_at_a_time(log: Iterable[tuple[str, str, int]], killed: Collection[int] = ()) -> list[str]:
    """The jobs of one group in the order they finished, asserting that none overlapped: every
    start is followed by its own end before the next start, except a start on a worker that was
    SIGKILLed, which never ends and whose next start is the same job, taken over."""
    finished: list[str] = []
    running: tuple[str, int] | None = None
    for what, job_id, pid in log:
        if what == "start":
            if running is not None:
                assert running[1] in killed, f"{job_id} started while {running[0]} ran"
                assert running[0] == job_id, f"{job_id} started while {running[0]} waited to be taken over"
            running = (job_id, pid)
        else:
            assert running == (job_id, pid), f"{job_id} ended on {pid} while {running} ran"
            finished.append(job_id)
            running = None
    assert running is None, f"{running} never ended"
    return finished


async def _done_ids(client: aioredis.Redis, prefix: str) -> set[str]:
    return {job_id for job_id, _, _ in await records(client, prefix, "done")}


async def _all_done(client: aioredis.Redis, prefix: str, ids: Collection[str]) -> bool:
    return await _done_ids(client, prefix) >= set(ids)


def done(client: aioredis.Redis, prefix: str, ids: Collection[str]) -> Callable[[], Any]:
    return lambda: _all_done(client, prefix, ids)


def fifty_jobs(action: str) -> tuple[list[JobRequest], dict[str, list[str]]]:
    """50 jobs over 5 groups, added interleaved; and each group's job ids in add order."""
    jobs = [grouped(f"j{i}", KEYS[i % 5], action) for i in range(50)]
    by_group = {key: [f"j{i}" for i in range(50) if KEYS[i % 5] == key] for key in KEYS}
    return jobs, by_group


async def test_three_workers_never_run_two_jobs_of_a_group_at_once_and_run_each_once(
    manager: QueueManager, redis_client: aioredis.Redis, worker_processes: WorkerProcesses, queue_prefix: str
) -> None:
    for _ in range(3):
        worker_processes.start(concurrency=10)
    jobs, by_group = fifty_jobs("sleep:20")
    await manager.add_jobs(jobs)
    every_id = [job_id for ids in by_group.values() for job_id in ids]
    await wait_until(done(redis_client, queue_prefix, every_id), within=60)
    for key, ids in by_group.items():
        assert one_at_a_time(await group_log(redis_client, queue_prefix, key)) == ids  # in add order
    starts = Counter(job_id for job_id, _, _ in await records(redis_client, queue_prefix, "starts"))
    assert len(starts) == 50 and set(starts.values()) == {1}
    await wait_until(lambda: _settled(manager, 50), within=20)  # acks come in batches after the ends
    assert await redis_client.hlen(manager.queue(Q).keys.groups) == 0


async def test_a_worker_killed_mid_job_of_a_group_frees_it_by_the_takeover_and_loses_nothing(
    manager: QueueManager, redis_client: aioredis.Redis, worker_processes: WorkerProcesses, queue_prefix: str
) -> None:
    victim = worker_processes.start(concurrency=10)
    k_ids, l_ids = [f"k{i}" for i in range(1, 6)], [f"l{i}" for i in range(1, 6)]
    await manager.add_jobs(
        [grouped("k1", "K", "hold:k1")]
        + [grouped(j, "K", "sleep:10") for j in k_ids[1:]]
        + [grouped(j, "L", "sleep:10") for j in l_ids]
    )
    # the victim runs k1 (held until the test says) and L's jobs
    await wait_until(lambda: _started(redis_client, queue_prefix, "K", ["k1"]), within=20)
    survivor = worker_processes.start(concurrency=10)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    # the survivor takes k1 over (K's slot goes with it) and runs L's jobs; K waits for k1
    await wait_until(done(redis_client, queue_prefix, l_ids), within=30)
    await wait_until(lambda: _started(redis_client, queue_prefix, "K", ["k1", "k1"]), within=30)
    assert [e[1] for e in await group_log(redis_client, queue_prefix, "K")] == ["k1", "k1"]
    await redis_client.set(f"{queue_prefix}:test:release:k1", 1)
    await wait_until(done(redis_client, queue_prefix, k_ids), within=30)

    k_log = await group_log(redis_client, queue_prefix, "K")
    assert one_at_a_time(k_log, killed={victim.pid}) == k_ids
    assert [pid for what, job_id, pid in k_log if job_id == "k1"] == [victim.pid, survivor.pid, survivor.pid]
    assert one_at_a_time(await group_log(redis_client, queue_prefix, "L"), killed={victim.pid}) == l_ids
    starts = Counter(job_id for job_id, _, _ in await records(redis_client, queue_prefix, "starts"))
    assert starts["k1"] == 2 and all(starts[j] == 1 for j in k_ids[1:])
    await wait_until(lambda: _settled(manager, 10), within=20)
    stalled = []
    for entry_id, fields in await redis_client.xrange(manager.queue(Q).keys.events):
        event = event_from_entry(entry_id, fields)
        if event.event == "job_stalled":
            data = job_events_pb2.JobLifecycle()
            assert event.data.Unpack(data)
            stalled.append(data.job_id)
    assert "k1" in stalled


async def _settled(m: QueueManager, completed: int) -> bool:
    """Nothing waits or runs, and `completed` jobs completed."""
    c = (await m.get_queue_stats(Q)).counts
    return (c.waiting, c.active, c.delayed, c.completed) == (0, 0, 0, completed)


async def _started(client: aioredis.Redis, prefix: str, group: str, ids: list[str]) -> bool:
    return [e[1] for e in await group_log(client, prefix, group) if e[0] == "start"] == ids


async def test_superseding_across_processes_replaces_the_waiting_and_the_newest_runs_after_the_active(
    manager: QueueManager, redis_client: aioredis.Redis, worker_processes: WorkerProcesses, queue_prefix: str
) -> None:
    worker_processes.start(concurrency=10)
    worker_processes.start(concurrency=10)
    await manager.add_jobs([grouped("a", "K", "hold:a")])
    await wait_until(lambda: _started(redis_client, queue_prefix, "K", ["a"]), within=20)
    await manager.add_jobs([grouped(j, "K", "sleep:1") for j in ("b", "c", "d")])
    await manager.add_jobs([grouped("e", "K", "sleep:1", supersede_waiting=True)])
    states = [(await manager.get_job(Q, j)).state for j in "abcde"]
    gone = env.JOB_STATE_SUPERSEDED
    assert states == [env.JOB_STATE_ACTIVE, gone, gone, gone, env.JOB_STATE_WAITING]
    await redis_client.set(f"{queue_prefix}:test:release:a", 1)
    await wait_until(done(redis_client, queue_prefix, ["a", "e"]), within=20)
    assert one_at_a_time(await group_log(redis_client, queue_prefix, "K")) == ["a", "e"]
    ran = {job_id for job_id, _, _ in await records(redis_client, queue_prefix, "starts")}
    assert ran == {"a", "e"}
    assert (await manager.get_job(Q, "c")).failed_reason == "superseded by job e of group K before it started"


async def test_a_redis_restart_loses_no_grouped_job_and_groups_stay_one_at_a_time(
    private_redis: RedisProcess, queue_prefix: str
) -> None:
    settings = load(
        {
            "REDIS_URL": private_redis.url,
            "QUEUE_PREFIX": queue_prefix,
            "JOBMESH_QUEUE_CATEGORIZATION_RATE_LIMIT": "none",
            "QUEUE_DEFAULT_REMOVE_ON_COMPLETE": "false",
        }
    )
    m = QueueManager(settings, service="producer")
    client = connect(private_redis.url)  # rides out the restart, as the workers' clients do
    # leases far longer than the outage: no job is taken from a live worker, so each runs once
    procs = WorkerProcesses(private_redis.url, queue_prefix)
    try:
        await m.initialize()
        for _ in range(3):
            procs.start(concurrency=10, JOBMESH_RECLAIM_MS="15000")
        jobs, by_group = fifty_jobs("sleep:80")  # each group's ten take 0.8 s: Redis dies mid-run
        await m.add_jobs(jobs)
        await wait_until(lambda: _count_done(client, queue_prefix, 10), within=30)
        finished_before = len(await _done_ids(client, queue_prefix))
        await asyncio.to_thread(private_redis.kill)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(private_redis.start)
        ids = [job_id for ids in by_group.values() for job_id in ids]
        assert finished_before < 50
        await wait_until(done(client, queue_prefix, ids), within=90, every=0.2)
        for key, key_ids in by_group.items():
            assert one_at_a_time(await group_log(client, queue_prefix, key)) == key_ids
        starts = Counter(job_id for job_id, _, _ in await records(client, queue_prefix, "starts"))
        assert len(starts) == 50 and set(starts.values()) == {1}
        assert all(p.poll() is None for p in procs.procs), "the workers should have reconnected, not died"
        await wait_until(lambda: _groups_empty(m, client), within=30)
    finally:
        procs.close()
        await m.close(1)
        await client.aclose()


async def _count_done(client: aioredis.Redis, prefix: str, n: int) -> bool:
    return bool(await client.llen(f"{prefix}:test:done") >= n)


async def _groups_empty(m: QueueManager, client: aioredis.Redis) -> bool:
    return bool(await client.hlen(m.queue(Q).keys.groups) == 0)
