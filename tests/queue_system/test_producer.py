"""Adding a batch of many script calls: written as each is encoded, and still all or nothing,
in order, de-duplicated, and sent again after a lost reply without adding any job twice."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import probe_pb2
from mesh.redis_server import RedisProcess
from queue_system import producer
from queue_system.catalog import CATEGORIZATION, REPORT_GENERATION
from queue_system.envelope import JobRequest
from queue_system.errors import InvalidArgumentError
from queue_system.keys import EVENTS_MAXLEN, NORMAL_LANE, EntryField
from queue_system.manager import QueueManager
from queue_system.queue import run_streamed
from queue_system.settings import load
from tests.queue_system.conftest import categorization

Q = CATEGORIZATION
# Enough jobs for several script calls, the last one short.
N = 2 * producer.STREAM_CHUNK + 7


def _job(i: int, queue: str = Q) -> JobRequest:
    opts = env.JobOptions(job_id=f"j{i}")
    if queue == Q:
        return JobRequest(Q, categorization("ok"), opts)
    return JobRequest(queue, env.JobPayload(probe=probe_pb2.ProbeJob(seq=i)), opts)


async def _lane_ids(client: aioredis.Redis, m: QueueManager, queue: str) -> list[str]:
    """Job ids in the normal lane of `queue`, in lane order."""
    lane = m.queue(queue).keys.lane_number(NORMAL_LANE)
    return [fields[EntryField.LANE_JOB.encode()].decode() for _, fields in await client.xrange(lane)]


async def _added_events(client: aioredis.Redis, m: QueueManager, queue: str) -> Counter[bytes]:
    """How many events of each name the queue's event stream holds."""
    entries = await client.xrange(m.queue(queue).keys.events)
    return Counter(fields[EntryField.EVENT_NAME.encode()] for _, fields in entries)


async def test_a_batch_of_many_calls_adds_every_job_once_in_request_order(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    await manager.add_job(Q, categorization("ok"), env.JobOptions(job_id="j5"))
    jobs = [_job(i, Q if i % 3 else REPORT_GENERATION) for i in range(N)]
    added = await manager.add_jobs(jobs)
    assert [(a.queue, a.job_id) for a in added] == [(j.queue, f"j{i}") for i, j in enumerate(jobs)]
    assert [a.job_id for a in added if not a.added] == ["j5"]
    # each queue's jobs are in its lane in request order (the first j5 before them all)
    assert await _lane_ids(redis_client, manager, Q) == ["j5"] + [
        f"j{i}" for i in range(N) if i % 3 and i != 5
    ]
    assert await _lane_ids(redis_client, manager, REPORT_GENERATION) == [f"j{i}" for i in range(0, N, 3)]
    stats = await manager.get_queue_stats(Q)
    assert stats.counts.waiting == len([i for i in range(N) if i % 3])


async def test_a_bad_job_late_in_a_batch_of_many_calls_adds_nothing(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    jobs = [_job(i) for i in range(N)]
    jobs[-1] = JobRequest(Q, env.JobPayload(), env.JobOptions(job_id="bad"))
    with pytest.raises(InvalidArgumentError) as caught:
        await manager.add_jobs(jobs)
    assert [v.field for v in caught.value.violations] == [f"jobs[{N - 1}].payload"]
    assert await _lane_ids(redis_client, manager, Q) == []
    assert not await redis_client.exists(manager.queue(Q).keys.job("j0"))


@pytest.mark.parametrize("landed_calls", [0, 1, 3])
async def test_an_add_whose_reply_was_lost_is_sent_again_and_answers_what_it_did(
    manager: QueueManager, redis_client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch, landed_calls: int
) -> None:
    """The connection dies after `landed_calls` calls ran (their replies lost): the add is sent
    again, the calls that ran answer from their receipts, and no job is added twice, even those
    without a job id of their own (they keep the ids they were given)."""
    tries = 0

    async def lossy(client: aioredis.Redis, commands: Iterable[Sequence[Any]]) -> list[Any]:
        nonlocal tries
        tries += 1
        if tries == 1:
            sent = [c for _, c in zip(range(landed_calls), commands, strict=False)]
            await run_streamed(client, sent)
            raise RedisConnectionError("connection lost before the replies came")
        return await run_streamed(client, commands)

    monkeypatch.setattr(producer, "run_streamed", lossy)
    jobs = [JobRequest(Q, categorization("ok")) for _ in range(N)]
    added = await manager.add_jobs(jobs)
    assert tries == 2
    assert all(a.added for a in added)
    assert len({a.job_id for a in added}) == N
    assert await _lane_ids(redis_client, manager, Q) == [a.job_id for a in added]
    assert await _added_events(redis_client, manager, Q) == Counter({b"job_added": N})


async def test_an_add_of_many_calls_reloads_scripts_a_restarted_redis_forgot(
    private_redis: RedisProcess, queue_prefix: str
) -> None:
    m = QueueManager(load({"REDIS_URL": private_redis.url, "QUEUE_PREFIX": queue_prefix}), service="t")
    try:
        await m.initialize()
        await m.client.script_flush()
        added = await m.add_jobs([_job(i) for i in range(N)])
        assert all(a.added for a in added)
        assert await _lane_ids(m.client, m, Q) == [f"j{i}" for i in range(N)]
    finally:
        await m.close()


async def test_adds_past_the_cap_keep_the_event_stream_at_its_newest_events_maxlen(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    """enqueue.lua trims the event stream once per add, not once per event: it still ends near
    EVENTS_MAXLEN (trimming is by whole stream nodes) and keeps the newest events."""
    added = []
    for _ in range(3):
        added += await manager.add_jobs([JobRequest(Q, categorization("ok")) for _ in range(5_000)])
    events = manager.queue(Q).keys.events
    assert EVENTS_MAXLEN <= await redis_client.xlen(events) < EVENTS_MAXLEN + 1_000
    [(_, last)] = await redis_client.xrevrange(events, count=1)
    assert json.loads(last[EntryField.EVENT_DATA.encode()])["jobId"] == added[-1].job_id
