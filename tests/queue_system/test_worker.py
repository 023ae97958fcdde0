"""Queue semantics on a real Redis, in one process: what BullMQ users expect, and more."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from google.protobuf.timestamp_pb2 import Timestamp

from jobmesh.events.v1 import job_events_pb2
from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import failure_pb2
from queue_system.catalog import CATEGORIZATION
from queue_system.context import JobContext
from queue_system.envelope import JobRequest, envelope_bytes
from queue_system.errors import RetryAfterError, UnrecoverableError
from queue_system.events import event_from_entry
from queue_system.link import RedisLink
from queue_system.manager import QueueManager
from queue_system.options import RetentionArgs, backoff_ms
from queue_system.queue import EMPTY, FETCHED, PAUSED, Finished
from queue_system.settings import Settings
from queue_system.tasks import task_spec
from tests.queue_system.conftest import categorization, wait_until

Q = CATEGORIZATION


def handler(fn: Callable[..., Awaitable[Any]]) -> dict[str, Any]:
    return {Q: task_spec(Q, Q, fn)}


async def dead_letters(client: aioredis.Redis, m: QueueManager) -> list[failure_pb2.FailedJob]:
    entries = await client.xrange(m.queue(Q).keys.dead_letters)
    return [failure_pb2.FailedJob.FromString(fields[b"failed_job"]) for _, fields in entries]


async def test_jobs_sent_before_any_worker_exists_are_delivered(
    make_settings: Callable[..., Settings], redis_client: aioredis.Redis
) -> None:
    m = QueueManager(make_settings(), service="test")  # no initialize(): the add itself creates the groups
    try:
        added = await m.add_job(Q, categorization("a"))
        ran: list[str] = []

        async def run(job: Any, ctx: JobContext) -> None:
            ran.append(ctx.job_id)

        await m.create_worker(Q, handler(run))
        await wait_until(lambda: _true(len(ran) == 1))
        assert ran == [added.job_id]
    finally:
        await m.close(1)


async def _true(value: bool) -> bool:
    return value


async def test_worker_reads_only_as_many_jobs_as_it_has_free_slots(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    release = asyncio.Event()

    async def run(job: Any) -> None:
        await release.wait()

    await manager.add_jobs([JobRequest(Q, categorization(str(i))) for i in range(10)])
    worker = await manager.create_worker(Q, handler(run), concurrency=2)
    await wait_until(lambda: _true(worker.running == 2))
    await asyncio.sleep(0.2)
    pending = sum(
        [(await redis_client.xpending(k, "workers"))["pending"] for k in manager.queue(Q).keys.lanes]
    )
    stats = await manager.get_queue_stats(Q)
    assert pending == 2
    assert (stats.counts.active, stats.counts.waiting) == (2, 8)
    release.set()
    await wait_until(lambda: _completed(manager, 10))


async def _completed(m: QueueManager, n: int) -> bool:
    return (await m.get_queue_stats(Q)).counts.completed == n


async def test_higher_priority_jobs_always_start_first(manager: QueueManager) -> None:
    order: list[str] = []

    async def run(job: Any) -> None:
        order.append(job.transaction_ids[0])

    prios = [env.JOB_PRIORITY_LOW, env.JOB_PRIORITY_NORMAL, env.JOB_PRIORITY_HIGH, env.JOB_PRIORITY_CRITICAL]
    names = {
        env.JOB_PRIORITY_LOW: "low",
        env.JOB_PRIORITY_NORMAL: "normal",
        env.JOB_PRIORITY_HIGH: "high",
        env.JOB_PRIORITY_CRITICAL: "critical",
    }
    reqs = [
        JobRequest(Q, categorization(f"{names[p]}-{i}"), env.JobOptions(priority=p))
        for i in range(5)
        for p in prios
    ]
    await manager.add_jobs(reqs)
    stats = await manager.get_queue_stats(Q)
    assert (stats.counts.waiting, stats.counts.prioritized) == (5, 15)
    await manager.create_worker(Q, handler(run), concurrency=1)
    await wait_until(lambda: _true(len(order) == 20))
    expected = [f"{lane}-{i}" for lane in ("critical", "high", "normal", "low") for i in range(5)]
    assert order == expected


async def test_delayed_jobs_start_once_due_never_before_and_in_due_order(manager: QueueManager) -> None:
    """How late they start is a figure of bench/, not of a test on a busy machine."""
    order: list[str] = []

    async def run(job: Any) -> None:
        order.append(job.transaction_ids[0])

    await manager.create_worker(Q, handler(run))
    delays = [1000, 150, 700, 400]
    added = {}
    for d in delays:
        opts = env.JobOptions()
        opts.delay.FromMilliseconds(d)
        added[d] = await manager.add_job(Q, categorization(str(d)), opts)
        assert added[d].delayed
    assert (await manager.get_queue_stats(Q)).counts.delayed == len(delays)
    await wait_until(lambda: _true(len(order) == len(delays)), within=20)
    assert order == [str(d) for d in sorted(delays)]
    for d, a in added.items():
        info = await manager.get_job(Q, a.job_id)
        # started (Redis's clock) no earlier than its add plus its delay (the machine's clock)
        assert info.processed_at.ToMilliseconds() >= info.job.enqueued_at.ToMilliseconds() + d - 5


@pytest.mark.parametrize(
    ("kind", "expected_gaps"),
    [(env.BACKOFF_TYPE_FIXED, [200, 200, 200]), (env.BACKOFF_TYPE_EXPONENTIAL, [200, 400, 800])],
)
async def test_backoff_waits_between_attempts(
    manager: QueueManager, kind: int, expected_gaps: list[int]
) -> None:
    attempts: list[float] = []

    async def run(job: Any, ctx: JobContext) -> None:
        attempts.append(time.monotonic())
        if ctx.attempt < 4:
            raise RuntimeError(f"attempt {ctx.attempt} fails")

    opts = env.JobOptions(attempts=4, backoff=env.Backoff(type=kind))  # type: ignore[arg-type]
    opts.backoff.delay.FromMilliseconds(200)
    await manager.create_worker(Q, handler(run))
    added = await manager.add_job(Q, categorization("x"), opts)
    await wait_until(lambda: _completed(manager, 1), within=30)
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(attempts)]
    assert len(gaps) == 3
    for gap, want in zip(gaps, expected_gaps, strict=True):  # never sooner than the backoff says
        assert gap >= want - 5, f"gaps {gaps} expected {expected_gaps}"
    info = await manager.get_job(Q, added.job_id)
    assert info.attempts_made == 4
    assert [e.attempt for e in info.errors] == [1, 2, 3]
    assert info.errors[0].message == "attempt 1 fails"


async def test_jitter_takes_off_at_most_its_share(manager: QueueManager) -> None:
    b = env.Backoff(type=env.BACKOFF_TYPE_EXPONENTIAL, jitter=0.5)
    b.delay.FromMilliseconds(1000)
    b.max_delay.FromMilliseconds(5000)
    waits = [backoff_ms(b, 3) for _ in range(200)]
    assert all(2000 <= w <= 4000 for w in waits) and len(set(waits)) > 50
    assert backoff_ms(b, 10) <= 5000


async def test_a_second_add_with_the_same_job_id_returns_the_first_job(manager: QueueManager) -> None:
    ran: list[str] = []

    async def run(job: Any) -> None:
        ran.append(job.transaction_ids[0])

    first = await manager.add_job(Q, categorization("first"), env.JobOptions(job_id="order-42"))
    second = await manager.add_job(Q, categorization("second"), env.JobOptions(job_id="order-42"))
    assert (first.job_id, first.added) == ("order-42", True)
    assert (second.job_id, second.added) == ("order-42", False)
    await manager.create_worker(Q, handler(run))
    await wait_until(lambda: _completed(manager, 1))
    await asyncio.sleep(0.1)
    assert ran == ["first"]


async def test_retention_bool_count_and_age(manager: QueueManager, redis_client: aioredis.Redis) -> None:
    async def run(job: Any) -> None:
        if job.transaction_ids[0].startswith("fail"):
            raise RuntimeError("no")

    keep_two = env.JobOptions(remove_on_complete=env.Retention(keep=env.KeepJobs(count=2)))
    remove = env.JobOptions(remove_on_complete=env.Retention(remove=True))
    keep_fail = env.JobOptions(remove_on_fail=env.Retention(remove=False))
    drop_fail = env.JobOptions(remove_on_fail=env.Retention(remove=True))
    await manager.create_worker(Q, handler(run), concurrency=1)
    kept = [await manager.add_job(Q, categorization(f"k{i}"), keep_two) for i in range(4)]
    gone = await manager.add_job(Q, categorization("r"), remove)
    failed_kept = await manager.add_job(Q, categorization("fail-k"), keep_fail)
    failed_gone = await manager.add_job(Q, categorization("fail-g"), drop_fail)
    await wait_until(lambda: _settled(manager))
    keys = manager.queue(Q).keys
    completed = {x.decode() for x in await redis_client.zrange(keys.completed, 0, -1)}
    assert completed == {kept[2].job_id, kept[3].job_id}
    for a in [*kept[:2], gone, failed_gone]:
        assert not await redis_client.exists(keys.job(a.job_id)), a
    assert (await manager.get_job(Q, failed_kept.job_id)).state == env.JOB_STATE_FAILED
    # age: kept jobs older than the bound are dropped when the next job finishes
    aged = env.JobOptions(remove_on_complete=env.Retention(keep=env.KeepJobs()))
    aged.remove_on_complete.keep.age.FromMilliseconds(300)
    old = await manager.add_job(Q, categorization("old"), aged)
    await wait_until(lambda: _zscore(redis_client, keys.completed, old.job_id))
    await asyncio.sleep(0.4)
    await manager.add_job(Q, categorization("new"), aged)
    await wait_until(lambda: _gone(redis_client, keys.job(old.job_id)))


async def _settled(m: QueueManager) -> bool:
    c = (await m.get_queue_stats(Q)).counts
    return c.waiting + c.active + c.delayed == 0


async def _zscore(client: aioredis.Redis, key: str, member: str) -> bool:
    return await client.zscore(key, member) is not None


async def _gone(client: aioredis.Redis, key: str) -> bool:
    return not await client.exists(key)


async def test_pause_is_global_and_resume_restarts_every_worker(
    manager: QueueManager, make_settings: Callable[..., Settings]
) -> None:
    ran: list[str] = []

    async def run(job: Any) -> None:
        ran.append(job.transaction_ids[0])

    other = QueueManager(make_settings(), service="other")  # a second worker "process"
    try:
        await manager.create_worker(Q, handler(run))
        await other.create_worker(Q, handler(run))
        await manager.pause(Q)
        await manager.add_jobs([JobRequest(Q, categorization(str(i))) for i in range(6)])
        await asyncio.sleep(0.5)
        stats = await manager.get_queue_stats(Q)
        assert ran == [] and stats.paused and stats.counts.paused == 6 and stats.counts.waiting == 0
        await other.resume(Q)
        await wait_until(lambda: _true(len(ran) == 6))
    finally:
        await other.close(1)


async def test_unknown_task_goes_to_the_dead_letter_stream(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    async def run(job: Any) -> None:
        pass

    added = await manager.add_job(Q, categorization("x"), task_name="no-such-task")
    await manager.create_worker(Q, handler(run))
    await wait_until(lambda: _dead(redis_client, manager, 1))
    [dead] = await dead_letters(redis_client, manager)
    assert dead.reason == failure_pb2.DEAD_LETTER_REASON_UNKNOWN_TASK
    assert dead.job_id == added.job_id and dead.job.payload.categorization.transaction_ids == ["x"]
    assert "no-such-task" in dead.detail
    stats = await manager.get_queue_stats(Q)
    assert stats.dead_lettered == 1 and stats.counts.failed == 1


async def _dead(client: aioredis.Redis, m: QueueManager, n: int) -> bool:
    return bool(await client.xlen(m.queue(Q).keys.dead_letters) == n)


async def test_exhausted_and_unrecoverable_jobs_carry_every_error(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    async def run(job: Any, ctx: JobContext) -> None:
        if job.transaction_ids[0] == "unrecoverable":
            raise UnrecoverableError("bad account")
        raise ConnectionError(f"exchange down ({ctx.attempt})")

    await manager.create_worker(Q, handler(run))
    exhausted = await manager.add_job(Q, categorization("flaky"), env.JobOptions(attempts=3))
    await manager.add_job(Q, categorization("unrecoverable"), env.JobOptions(attempts=5))
    await wait_until(lambda: _dead(redis_client, manager, 2))
    by_reason = {d.reason: d for d in await dead_letters(redis_client, manager)}
    ex = by_reason[failure_pb2.DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED]
    assert ex.job_id == exhausted.job_id
    assert [(e.attempt, e.message) for e in ex.errors] == [(i, f"exchange down ({i})") for i in (1, 2, 3)]
    unrec = by_reason[failure_pb2.DEAD_LETTER_REASON_UNRECOVERABLE]
    assert [e.error_type for e in unrec.errors] == ["UnrecoverableError"]


async def test_timeout_and_deadline(manager: QueueManager, redis_client: aioredis.Redis) -> None:
    async def run(job: Any) -> None:
        await asyncio.sleep(2)

    await manager.create_worker(Q, handler(run))
    timed = env.JobOptions()
    timed.timeout.FromMilliseconds(100)
    late = env.JobOptions()
    late.deadline.FromMilliseconds(int(time.time() * 1000) + 100)
    late.delay.FromMilliseconds(300)
    await manager.add_job(Q, categorization("t"), timed)
    await manager.add_job(Q, categorization("d"), late)
    await wait_until(lambda: _dead(redis_client, manager, 2), within=5)
    reasons = {d.reason: d for d in await dead_letters(redis_client, manager)}
    assert reasons[failure_pb2.DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED].errors[0].error_type == "TimeoutError"
    assert failure_pb2.DEAD_LETTER_REASON_DEADLINE_EXCEEDED in reasons


async def test_stop_lets_running_jobs_finish_within_the_grace_period(manager: QueueManager) -> None:
    done: list[str] = []

    async def run(job: Any) -> None:
        await asyncio.sleep(0.3)
        done.append(job.transaction_ids[0])

    worker = await manager.create_worker(Q, handler(run))
    await manager.add_job(Q, categorization("a"))
    await wait_until(lambda: _true(worker.running == 1))
    await worker.stop(grace_s=3)
    assert done == ["a"]
    assert (await manager.get_queue_stats(Q)).counts.completed == 1


async def test_stop_never_acks_a_cancelled_job_and_gives_it_back_at_once(
    manager: QueueManager, make_settings: Callable[..., Settings]
) -> None:
    events: list[str] = []

    async def slow(job: Any) -> None:
        events.append("slow-start")
        await asyncio.sleep(30)
        events.append("slow-finished")  # must never happen

    worker = await manager.create_worker(Q, handler(slow))
    added = await manager.add_job(Q, categorization("a"))
    await wait_until(lambda: _true(worker.running == 1))
    await worker.stop(grace_s=0.2)
    stats = await manager.get_queue_stats(Q)
    assert (stats.counts.waiting, stats.counts.active, stats.counts.completed) == (1, 0, 0)
    assert events == ["slow-start"]

    async def quick(job: Any) -> None:
        events.append("quick")

    other = QueueManager(make_settings(), service="other")
    try:
        await other.create_worker(Q, handler(quick))
        await wait_until(lambda: _completed(manager, 1))
        info = await manager.get_job(Q, added.job_id)
        # given back at once: a takeover would have counted a second delivery and its redelivery
        assert info.attempts_made == 1 and info.deliveries == 1
        assert info.worker == other.consumer
    finally:
        await other.close(1)


async def test_a_job_taken_over_by_another_worker_is_stopped_and_never_acked(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    events: list[str] = []

    async def run(job: Any) -> None:
        events.append("start")
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    worker = await manager.create_worker(Q, handler(run))
    added = await manager.add_job(Q, categorization("a"))
    await wait_until(lambda: _true(worker.running == 1))
    entry_id = next(iter(worker.held))
    lane = manager.queue(Q).keys.lane_number(worker.held[entry_id].lane)
    await redis_client.xclaim(lane, "workers", "someone-else", 0, [entry_id])
    await wait_until(lambda: _true(events == ["start", "cancelled"]), within=3)
    pending = await redis_client.xpending_range(lane, "workers", "-", "+", 10)
    assert [p["consumer"] for p in pending] == [b"someone-else"]
    assert (await manager.get_job(Q, added.job_id)).state == env.JOB_STATE_ACTIVE


async def test_progress_is_recorded(manager: QueueManager) -> None:
    async def run(job: Any, ctx: JobContext) -> None:
        assert await ctx.progress(40)
        await asyncio.sleep(0.3)

    worker = await manager.create_worker(Q, handler(run))
    added = await manager.add_job(Q, categorization("p"))
    await wait_until(lambda: _true(worker.running == 1))
    await wait_until(lambda: _progress(manager, added.job_id, 40.0))


async def _progress(m: QueueManager, job_id: str, pct: float) -> bool:
    return (await m.get_job(Q, job_id)).progress == pct


async def test_acknowledged_entries_are_trimmed_but_held_and_waiting_ones_never(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    release = asyncio.Event()

    async def run(job: Any) -> None:
        if job.transaction_ids[0] == "hold":
            await release.wait()

    lane = manager.queue(Q).keys.lane_number(3)
    await manager.add_job(Q, categorization("hold"))
    worker = await manager.create_worker(Q, handler(run), concurrency=2)
    await wait_until(lambda: _true(worker.running == 1))
    await manager.add_jobs([JobRequest(Q, categorization(f"quick{i}")) for i in range(300)])
    await wait_until(lambda: _completed(manager, 300))
    await manager.pause(Q)
    await manager.add_jobs([JobRequest(Q, categorization(f"later{i}")) for i in range(50)])
    # the held job's entry is older than everything after it: nothing may be trimmed past it
    assert await redis_client.xlen(lane) >= 1 + 50
    stats = await manager.get_queue_stats(Q)
    assert (stats.counts.active, stats.counts.paused) == (1, 50)
    release.set()
    await manager.resume(Q)
    await wait_until(lambda: _completed(manager, 351))
    await wait_until(lambda: _xlen_at_most(redis_client, lane, 100))  # trimmed in whole stream nodes


async def _xlen_at_most(client: aioredis.Redis, key: str, n: int) -> bool:
    return bool(await client.xlen(key) <= n)


def test_envelope_bytes_equal_one_job_message() -> None:
    """The concatenated envelope decodes to exactly the Job a single message would encode."""
    now = Timestamp(seconds=1_700_000_000, nanos=5)
    opts = env.JobOptions(priority=env.JOB_PRIORITY_HIGH, attempts=3)
    opts.deadline.FromSeconds(1_800_000_000)
    req = JobRequest(Q, categorization("x" * 300), opts, env.TraceContext(traceparent="00-ab-cd-01"), "t")
    whole = env.Job(
        id="j1",
        queue=Q,
        enqueued_at=now,
        priority=opts.priority,
        payload=req.payload,
        options=opts,
        task_name="t",
        deadline=opts.deadline,
        trace=req.trace,
    )
    assert env.Job.FromString(envelope_bytes(req, "j1", now)) == whole


async def _events(client: aioredis.Redis, m: QueueManager) -> list[tuple[str, job_events_pb2.JobLifecycle]]:
    """(event name, data) of every lifecycle event in the queue's stream, oldest first."""
    out = []
    for entry_id, fields in await client.xrange(m.queue(Q).keys.events):
        event = event_from_entry(entry_id, fields)
        data = job_events_pb2.JobLifecycle()
        if event.data.Unpack(data):
            out.append((event.event, data))
    return out


async def test_delayed_jobs_due_in_the_same_millisecond_start_in_the_order_they_were_added(
    manager: QueueManager,
) -> None:
    order: list[str] = []

    async def run(job: Any) -> None:
        order.append(job.transaction_ids[0])

    opts = env.JobOptions()
    opts.delay.FromMilliseconds(300)
    # one batch: every job gets the same due time; ids whose text order differs from add order
    names = [f"job-{i}" for i in (2, 10, 1, 30, 3, 20)]
    await manager.add_jobs([JobRequest(Q, categorization(n), _with_id(opts, n)) for n in names])
    await manager.create_worker(Q, handler(run), concurrency=1)
    await wait_until(lambda: _true(len(order) == len(names)))
    assert order == names


def _with_id(opts: env.JobOptions, job_id: str) -> env.JobOptions:
    out = env.JobOptions()
    out.CopyFrom(opts)
    out.job_id = job_id
    return out


async def test_a_duplicate_add_a_drain_and_a_clean_are_events(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    await manager.add_job(Q, categorization("a"), env.JobOptions(job_id="order-9"))
    again = await manager.add_job(Q, categorization("b"), env.JobOptions(job_id="order-9"))
    assert not again.added
    await manager.add_jobs([JobRequest(Q, categorization(f"w{i}")) for i in range(3)])
    assert await manager.drain(Q, request_id="drain-1") == 4
    assert await manager.clean(Q, "completed", request_id="clean-1") == []
    names = [name for name, _ in await _events(redis_client, manager)]
    assert names.count("job_duplicated") == 1
    raw = await redis_client.xrange(manager.queue(Q).keys.events)
    controls = {}
    for entry_id, fields in raw:
        event = event_from_entry(entry_id, fields)
        if event.event.startswith("queue_"):
            data = job_events_pb2.QueueControl()
            assert event.data.Unpack(data)
            controls[event.event] = (data.affected, data.request_id)
    assert controls == {"queue_drained": (4, "drain-1"), "queue_cleaned": (0, "clean-1")}


async def test_an_error_can_set_its_own_wait_and_never_be_retried(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    tries: dict[str, list[float]] = {}

    async def run(job: Any) -> None:
        name = job.transaction_ids[0]
        tries.setdefault(name, []).append(time.monotonic())
        if name == "limited" and len(tries[name]) == 1:
            raise RetryAfterError("429 from the venue", 0.2)
        if name == "rejected":
            raise ValueError("unknown symbol")

    opts = env.JobOptions(attempts=5, backoff=env.Backoff(type=env.BACKOFF_TYPE_FIXED))
    opts.backoff.delay.FromSeconds(3600)  # the venue's wait, not the hour, decides
    await manager.create_worker(Q, {Q: task_spec(Q, Q, run, throws=(ValueError,))})
    limited = await manager.add_job(Q, categorization("limited"), opts)
    rejected = await manager.add_job(Q, categorization("rejected"), opts)
    await wait_until(lambda: _completed(manager, 1), within=20)
    await wait_until(lambda: _dead(redis_client, manager, 1))
    assert len(tries["limited"]) == 2 and len(tries["rejected"]) == 1
    info = await manager.get_job(Q, limited.job_id)
    assert info.attempts_made == 2 and info.errors[0].error_type == "RetryAfterError"
    [dead] = await dead_letters(redis_client, manager)
    assert dead.job_id == rejected.job_id and dead.reason == failure_pb2.DEAD_LETTER_REASON_UNRECOVERABLE
    assert dead.attempts_made == 1
    assert dead.detail == "attempt 1 failed with an error that is never retried: ValueError: unknown symbol"


async def test_a_batch_of_acks_finishes_only_what_this_consumer_holds_in_every_lane(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    """complete.lua checks holders and acknowledges once per lane: per job, in the batch's order,
    only the entries this consumer still holds finish; the others stay with their holder."""
    q = manager.queue(Q)
    urgent = env.JobOptions(priority=env.JOB_PRIORITY_CRITICAL)
    await manager.add_jobs([JobRequest(Q, categorization(f"n{i}")) for i in range(4)])
    await manager.add_jobs([JobRequest(Q, categorization(f"u{i}"), urgent) for i in range(3)])
    found = await q.fetch(10)
    assert len(found.deliveries) == 7 and len({d.lane for d in found.deliveries}) == 2
    taken = [found.deliveries[1], found.deliveries[5]]  # one of each lane
    for d in taken:
        await redis_client.xclaim(q.keys.lane_number(d.lane), "workers", "someone-else", 0, [d.entry_id])
    remove = RetentionArgs(1, 0, 0)
    batch = [Finished(d.lane, d.entry_id, d.job_id, remove, 1) for d in reversed(found.deliveries)]
    assert await q.complete(batch) == [d not in taken for d in reversed(found.deliveries)]
    for d in found.deliveries:
        pending = await redis_client.xpending_range(
            q.keys.lane_number(d.lane), "workers", d.entry_id, d.entry_id, 1
        )
        assert bool(pending) == (d in taken)
        assert (await redis_client.exists(q.keys.job(d.job_id))) == (d in taken)
    # acknowledged twice (a retried batch): nothing more happens
    assert await q.complete(batch[:1]) == [False]


async def test_a_wake_up_fetches_the_new_job_in_the_same_round_trip(manager: QueueManager) -> None:
    """wait_then_fetch blocks while nothing is ready and returns the job that arrived, claimed."""
    q = manager.queue(Q)
    conn = RedisLink(q.client)
    try:
        empty = await q.fetch(5)
        assert empty.status == EMPTY and len(empty.last_ids) == 4
        waiting = asyncio.ensure_future(q.wait_then_fetch(conn, empty.last_ids, 5000, 5))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        added = await manager.add_job(Q, categorization("w"))
        found = await asyncio.wait_for(waiting, 5)
        assert found.status == FETCHED and [d.job_id for d in found.deliveries] == [added.job_id]
        assert (await manager.get_job(Q, added.job_id)).state == env.JOB_STATE_ACTIVE
        # nothing more arrives: the read times out and the fetch says so, with the lanes' last ids
        again = await q.wait_then_fetch(conn, empty.last_ids, 50, 5)
        assert again.status == EMPTY and again.last_ids != empty.last_ids
        # CLIENT UNBLOCK on the id it reports ends the wait at once; the fetch still runs
        ids: list[int | None] = []
        waiting = asyncio.ensure_future(
            q.wait_then_fetch(conn, again.last_ids, 60_000, 5, blocked=ids.append)
        )
        await wait_until(lambda: _true(len(ids) == 1))
        assert await q.client.client_unblock(ids[0])
        assert (await asyncio.wait_for(waiting, 5)).status == EMPTY and ids[1:] == [None]
    finally:
        await conn.aclose()


async def test_a_wake_up_after_redis_forgot_the_scripts_loads_them_and_fetches(manager: QueueManager) -> None:
    """SCRIPT FLUSH while a read waits: the fetch queued behind it answers NOSCRIPT, and the
    wake-up loads the script and fetches the job that woke it, on the same link."""
    q = manager.queue(Q)
    link = RedisLink(q.client)
    try:
        empty = await q.fetch(5)
        waiting = asyncio.ensure_future(q.wait_then_fetch(link, empty.last_ids, 5000, 5))
        await asyncio.sleep(0.1)
        await q.client.script_flush()
        added = await manager.add_job(Q, categorization("after-flush"))
        found = await asyncio.wait_for(waiting, 5)
        assert found.status == FETCHED and [d.job_id for d in found.deliveries] == [added.job_id]
    finally:
        await link.aclose()


async def test_a_wake_up_while_paused_claims_nothing(manager: QueueManager) -> None:
    q = manager.queue(Q)
    conn = RedisLink(q.client)
    try:
        empty = await q.fetch(5)
        waiting = asyncio.ensure_future(q.wait_then_fetch(conn, empty.last_ids, 5000, 5))
        await asyncio.sleep(0.1)
        await manager.pause(Q)
        await manager.add_job(Q, categorization("p"))
        assert (await asyncio.wait_for(waiting, 5)).status == PAUSED
        assert (await manager.get_queue_stats(Q)).counts.paused == 1
    finally:
        await conn.aclose()


async def test_a_takeover_ends_the_blocked_read_and_claims_only_the_slots_left(
    manager: QueueManager, redis_client: aioredis.Redis
) -> None:
    """An idle worker blocked waiting for jobs takes over a dead worker's job at once, and the
    read's fetch never claims past its slots: with one slot, it holds one job at a time."""
    started: list[str] = []
    go = asyncio.Event()

    async def run(job: Any) -> None:
        started.append(job.transaction_ids[0])
        await go.wait()

    q = manager.queue(Q)
    await manager.add_job(Q, categorization("orphan"))
    assert (await q.fetch(1)).status == FETCHED
    lane = q.keys.lane_number(3)
    entry_id = (await redis_client.xpending_range(lane, "workers", "-", "+", 1))[0]["message_id"]
    await redis_client.xclaim(lane, "workers", "dead-worker", 0, [entry_id])
    worker = await manager.create_worker(Q, handler(run), concurrency=1)
    await wait_until(lambda: _true(started == ["orphan"]), within=15)
    await manager.add_job(Q, categorization("next"))
    await asyncio.sleep(0.3)
    pending = await redis_client.xpending(lane, "workers")
    assert pending["pending"] == 1 and started == ["orphan"] and len(worker.held) == 1
    go.set()
    await wait_until(lambda: _completed(manager, 2))
    assert started == ["orphan", "next"]


async def test_fetched_jobs_beyond_the_free_slots_wait_held_and_start_in_order(
    manager: QueueManager,
) -> None:
    """A fetch that brings more jobs than there are free slots (upkeep took some meanwhile)
    runs what fits; the rest stay held, and start in fetch order as slots free."""
    started: list[str] = []
    go = asyncio.Event()

    async def run(job: Any) -> None:
        started.append(job.transaction_ids[0])
        await go.wait()

    worker = await manager.create_worker(Q, handler(run), concurrency=1)
    await manager.add_jobs([JobRequest(Q, categorization(f"j{i}")) for i in range(3)])
    await wait_until(lambda: _true(started == ["j0"]))
    extra = await manager.queue(Q).fetch(5)  # as the worker's own fetch would have, mid-race
    assert [d.entry_id in worker.held for d in extra.deliveries] == [False, False]
    worker.take(extra.deliveries)
    assert worker.running == 1 and len(worker.held) == 3
    go.set()
    await wait_until(lambda: _completed(manager, 3))
    assert started == ["j0", "j1", "j2"] and not worker.held
