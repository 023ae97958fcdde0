"""Faults done for real: workers SIGKILLed, Redis killed and restarted, limits across processes.

Each test runs real worker processes (worker_proc.py) against a real Redis
and checks, from what the handlers recorded in Redis, that nothing was lost
and nothing ran twice that should not have.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from jobmesh.events.v1 import job_events_pb2
from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import failure_pb2
from mesh.redis_server import RedisProcess
from queue_system.broker import JobBroker
from queue_system.catalog import CATEGORIZATION
from queue_system.envelope import JobRequest
from queue_system.events import event_from_entry
from queue_system.manager import QueueManager
from queue_system.settings import Settings, load
from tests.queue_system.conftest import WorkerProcesses, categorization, wait_until

pytestmark = pytest.mark.slow
Q = CATEGORIZATION


async def records(client: aioredis.Redis, prefix: str, which: str) -> list[tuple[str, int, int]]:
    """(job id, ms, pid) of every start or finish the test handler recorded, one per handler call
    (a record a client sent twice while riding out an outage counts once)."""
    out, runs = [], set()
    for raw in await client.lrange(f"{prefix}:test:{which}", 0, -1):
        job_id, ms, pid, run = raw.decode().split("|")
        if run not in runs:
            runs.add(run)
            out.append((job_id, int(ms), int(pid)))
    return out


async def held_by(client: aioredis.Redis, m: QueueManager, consumer: str) -> set[str]:
    """Job ids whose lane entries are pending with `consumer`."""
    ids = set()
    for lane in m.queue(Q).keys.lanes:
        for p in await client.xpending_range(lane, "workers", "-", "+", 10_000, consumername=consumer):
            [(_, fields)] = await client.xrange(lane, p["message_id"], p["message_id"])
            ids.add(fields[b"job"].decode())
    return ids


async def test_killed_worker_loses_nothing_and_only_its_running_jobs_run_twice(
    manager: QueueManager, redis_client: aioredis.Redis, worker_processes: WorkerProcesses, queue_prefix: str
) -> None:
    added = await manager.add_jobs([JobRequest(Q, categorization("sleep:50")) for _ in range(1000)])
    all_ids = {a.job_id for a in added}
    victim = worker_processes.start(concurrency=50)
    await wait_until(lambda: _count(redis_client, queue_prefix, "done", 300), within=20)
    victim_name = (await redis_client.xinfo_consumers(manager.queue(Q).keys.lanes[2], "workers"))[0]["name"]
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    running_at_kill = await held_by(redis_client, manager, victim_name.decode())
    assert 0 < len(running_at_kill) <= 50
    finished = {job_id for job_id, _, _ in await records(redis_client, queue_prefix, "done")}
    # jobs whose handler had begun and not ended when the worker died
    cut_short = {job_id for job_id, _, _ in await records(redis_client, queue_prefix, "starts")} - finished
    assert cut_short and cut_short <= running_at_kill

    survivor = worker_processes.start(concurrency=50)
    await wait_until(lambda: _completed(manager, 1000), within=60)
    starts = await records(redis_client, queue_prefix, "starts")
    ran = Counter(job_id for job_id, _, _ in starts)
    assert set(ran) == all_ids
    twice = {job_id for job_id, n in ran.items() if n > 1}
    assert twice <= running_at_kill, f"ran twice but were not running at the kill: {twice - running_at_kill}"
    assert max(ran.values()) <= 2
    # every job cut short ran again, on the other worker: taken over, not lost
    assert cut_short <= twice
    assert {job_id for job_id, _, pid in starts if pid == survivor.pid} >= cut_short
    stats = await manager.get_queue_stats(Q)
    assert (stats.counts.waiting, stats.counts.active, stats.counts.completed) == (0, 0, 1000)
    # each takeover is told as BullMQ tells it: job_stalled, naming the worker that went silent
    stalled = {}
    for entry_id, fields in await redis_client.xrange(manager.queue(Q).keys.events):
        event = event_from_entry(entry_id, fields)  # every entry parses, takeovers included
        if event.event == "job_stalled":
            data = job_events_pb2.JobLifecycle()
            assert event.data.Unpack(data)
            stalled[data.job_id] = data.reclaimed_from
    assert set(stalled) == running_at_kill
    assert set(stalled.values()) == {victim_name.decode()}


async def _completed(m: QueueManager, n: int) -> bool:
    return (await m.get_queue_stats(Q)).counts.completed == n


async def _count(client: aioredis.Redis, prefix: str, which: str, n: int) -> bool:
    return bool(await client.llen(f"{prefix}:test:{which}") >= n)


async def _all_done(client: aioredis.Redis, prefix: str, ids: set[str]) -> bool:
    return {job_id for job_id, _, _ in await records(client, prefix, "done")} >= ids


async def test_long_job_on_a_live_worker_runs_exactly_once(
    manager: QueueManager, redis_client: aioredis.Redis, worker_processes: WorkerProcesses, queue_prefix: str
) -> None:
    # reclaim after 1 s; the job runs 3.5 s; a second worker is ready to steal it
    worker_processes.start(concurrency=2, JOBMESH_RECLAIM_MS="1000")
    added = await manager.add_job(Q, categorization("sleep:3500"))
    await wait_until(lambda: _count(redis_client, queue_prefix, "starts", 1))
    worker_processes.start(concurrency=2, JOBMESH_RECLAIM_MS="1000")
    await wait_until(lambda: _count(redis_client, queue_prefix, "done", 1), within=10)
    await asyncio.sleep(1.5)
    starts = await records(redis_client, queue_prefix, "starts")
    assert [s[0] for s in starts] == [added.job_id]
    info = await manager.get_job(Q, added.job_id)
    assert (info.state, info.deliveries) == (env.JOB_STATE_COMPLETED, 1)


async def test_poison_job_is_dead_lettered_with_its_history_and_the_queue_keeps_flowing(
    manager: QueueManager, redis_client: aioredis.Redis, worker_processes: WorkerProcesses, queue_prefix: str
) -> None:
    poison = await manager.add_job(Q, categorization("kill"))
    normal = await manager.add_jobs([JobRequest(Q, categorization("sleep:10")) for _ in range(30)])
    dead_key = manager.queue(Q).keys.dead_letters
    deadline = time.monotonic() + 60
    workers_started = 0
    while not await redis_client.xlen(dead_key):
        assert time.monotonic() < deadline, "poison job never reached the dead-letter stream"
        live = [p for p in worker_processes.procs if p.poll() is None]
        if not live:
            worker_processes.start(concurrency=5, JOBMESH_RECLAIM_MS="1000", JOBMESH_MAX_DELIVERIES="3")
            workers_started += 1
        await asyncio.sleep(0.1)
    assert workers_started == 4  # three died on it; the fourth dead-lettered it without running it
    [(_, fields)] = await redis_client.xrange(dead_key)
    dead = failure_pb2.FailedJob.FromString(fields[b"failed_job"])
    assert dead.reason == failure_pb2.DEAD_LETTER_REASON_DELIVERIES_EXCEEDED
    assert dead.job_id == poison.job_id and dead.deliveries == 4
    assert [r.delivery for r in dead.redeliveries] == [2, 3, 4]
    assert all(r.lost_by and r.idle.seconds >= 1 for r in dead.redeliveries)
    starts = await records(redis_client, queue_prefix, "starts")
    assert sum(1 for s in starts if s[0] == poison.job_id) == 3
    await wait_until(lambda: _all_done(redis_client, queue_prefix, {a.job_id for a in normal}), within=20)


async def test_redis_restart_under_load_loses_no_acknowledged_job(
    private_redis: RedisProcess,
    worker_processes: WorkerProcesses,
    queue_prefix: str,
    make_settings: Callable[..., Settings],
) -> None:
    settings = load(
        {
            "REDIS_URL": private_redis.url,
            "QUEUE_PREFIX": queue_prefix,
            "JOBMESH_QUEUE_CATEGORIZATION_RATE_LIMIT": "none",
        }
    )
    m = QueueManager(settings, service="producer")
    client = aioredis.Redis.from_url(private_redis.url)
    procs = WorkerProcesses(private_redis.url, queue_prefix)
    acknowledged: set[str] = set()
    try:
        await m.initialize()
        procs.start(concurrency=20, JOBMESH_RECLAIM_MS="1500")

        async def produce() -> None:
            for batch in range(60):
                reqs = [
                    JobRequest(Q, categorization("sleep:5"), env.JobOptions(job_id=f"b{batch}-{i}"))
                    for i in range(25)
                ]
                while True:  # a producer retries until Redis takes the batch (ids make it idempotent)
                    try:
                        added = await m.add_jobs(reqs)
                        break
                    except Exception:
                        await asyncio.sleep(0.2)
                acknowledged.update(a.job_id for a in added)
                await asyncio.sleep(0.03)

        producer = asyncio.create_task(produce())
        await asyncio.sleep(0.7)
        private_redis.kill()
        await asyncio.sleep(1.0)
        private_redis.start()
        await producer
        assert len(acknowledged) == 1500
        await wait_until(lambda: _all_done(client, queue_prefix, acknowledged), within=40, every=0.2)
        assert await client.xlen(m.queue(Q).keys.dead_letters) == 0
        assert all(p.poll() is None for p in procs.procs), "the worker should have reconnected, not died"
    finally:
        procs.close()
        await m.close(1)
        await client.aclose()


async def test_two_worker_processes_never_exceed_the_queue_rate_limit(
    manager: QueueManager, redis_client: aioredis.Redis, worker_processes: WorkerProcesses, queue_prefix: str
) -> None:
    limit = {"JOBMESH_QUEUE_CATEGORIZATION_RATE_LIMIT": "4/1s"}
    # two slots each and 300 ms jobs: one worker alone cannot take a whole window
    worker_processes.start(concurrency=2, **limit)
    worker_processes.start(concurrency=2, **limit)
    started = time.time()
    await manager.add_jobs([JobRequest(Q, categorization("sleep:300")) for _ in range(12)])
    await wait_until(lambda: _count(redis_client, queue_prefix, "done", 12), within=15)
    recorded = await records(redis_client, queue_prefix, "starts")
    assert len({pid for _, _, pid in recorded}) == 2, "both workers should have taken jobs"
    await wait_until(lambda: _completed(manager, 12))  # a job's ack comes (batched) after its `done`
    jobs, _ = await manager.list_jobs(Q, env.JOB_STATE_COMPLETED, page_size=100)
    assert len(jobs) == 12
    # when each started, on Redis's clock (the limiter's): no window of a second holds more than 4
    starts = sorted(j.processed_at.ToMilliseconds() for j in jobs)
    for i, t in enumerate(starts):
        in_window = [s for s in starts[i:] if s < t + 1000]
        assert len(in_window) <= 4, f"{len(in_window)} starts within a second: {starts}"
    assert time.time() - started >= 2  # 12 jobs at 4/s need three windows


async def test_kiq_rides_out_a_redis_restart_and_exactly_the_acknowledged_jobs_run(
    private_redis: RedisProcess, queue_prefix: str
) -> None:
    """100 kiq() calls in flight, 300 a second, through a SIGKILLed and restarted Redis:
    every call returns success, and exactly the jobs they were told were added run, once each."""
    env_ = {
        "REDIS_URL": private_redis.url,
        "QUEUE_PREFIX": queue_prefix,
        "JOBMESH_QUEUE_CATEGORIZATION_RATE_LIMIT": "none",
    }
    broker = JobBroker(load(env_), service="producer", queues=[Q], keep_results=False)

    @broker.task(queue=Q)
    async def categorize(job: Any) -> None:  # runs in the worker process (worker_proc.py)
        raise AssertionError("not here")

    procs = WorkerProcesses(private_redis.url, queue_prefix)
    client = aioredis.Redis.from_url(private_redis.url)
    sent: list[str] = []
    failures: list[BaseException] = []
    try:
        await broker.startup()
        procs.start(concurrency=50, JOBMESH_RECLAIM_MS="3000")
        loop = asyncio.get_running_loop()
        began = loop.time()

        async def caller(k: int) -> None:  # 100 of these: 3 calls a second each
            for i in range(18):
                await asyncio.sleep(max(0.0, began + (i + k / 100) / 3 - loop.time()))
                try:
                    handle = await categorize.kiq(categorization("sleep:1"))
                except BaseException as exc:
                    failures.append(exc)
                else:
                    sent.append(handle.task_id)

        callers = [asyncio.create_task(caller(k)) for k in range(100)]
        await asyncio.sleep(2.0)
        await asyncio.to_thread(private_redis.kill)
        await asyncio.sleep(2.0)  # two seconds without Redis
        await asyncio.to_thread(private_redis.start)
        await asyncio.gather(*callers)
        assert failures == []
        assert len(sent) == len(set(sent)) == 1800

        async def all_done() -> bool:
            return len({job_id for job_id, _, _ in await records(client, queue_prefix, "done")}) >= len(sent)

        await wait_until(all_done, within=60, every=0.2)
        starts = Counter(job_id for job_id, _, _ in await records(client, queue_prefix, "starts"))
        assert set(starts) == set(sent)
        assert max(starts.values()) == 1
    finally:
        procs.close()
        await broker.shutdown()
        await client.aclose()
