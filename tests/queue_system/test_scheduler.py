"""Cron schedules on real Redis with a clock the tests move: two replicas across DST changes fire
every slot exactly once; a run outlasting its interval skips (and counts) the slots it overlaps; a
scheduler down for two slots catches up within the window and counts what it missed; pause/resume."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis
from taskiq.schedule_sources import LabelScheduleSource
from taskiq.scheduler.scheduled_task import ScheduledTask

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_jobs_pb2 as fin
from queue_system import failpoints
from queue_system.broker import JobBroker
from queue_system.catalog import CATEGORIZATION
from queue_system.context import JobContext
from queue_system.errors import InvalidArgumentError, NotFoundError
from queue_system.keys import EntryField, QueueKeys, ScheduleField, ScheduleKeys
from queue_system.receiver import JobReceiver
from queue_system.scheduler import Outcome, Planned, Scheduler, added_schedules, slot_job_id
from queue_system.settings import Settings
from tests.queue_system.conftest import wait_until


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def plan(slot: datetime) -> Sequence[Planned]:
    return [Planned(fin.CategorizationJob(transaction_ids=["t1"], method=fin.CATEGORIZATION_METHOD_RULES))]


def declare(broker: JobBroker, schedules: list[dict[str, Any]], release: asyncio.Event | None = None) -> None:
    """A categorization task with `schedules` in its taskiq `schedule` label."""

    @broker.task(queue=CATEGORIZATION, schedule=schedules)
    async def categorize(job: fin.CategorizationJob, ctx: JobContext) -> None:
        if release is not None:
            await release.wait()


@pytest.fixture
async def brokers(
    make_settings: Callable[..., Settings], redis_client: aioredis.Redis
) -> AsyncIterator[list[JobBroker]]:
    made: list[JobBroker] = []
    for _ in range(2):
        b = JobBroker(make_settings(), service="sched-test", queues=[CATEGORIZATION], keep_results=False)
        await b.startup()
        made.append(b)
    yield made
    for b in made:
        await b.shutdown()


async def scheduler(broker: JobBroker, clock: Clock) -> Scheduler:
    s = Scheduler(broker, [LabelScheduleSource(broker)], planners={}, clock=clock)
    s.planners = {name: plan for name in ("six", "one-thirty", "hourly", "s")}
    await s.load()
    return s


async def fired_slots(s: Scheduler, name: str) -> list[datetime]:
    state = await s.state(s.get(name))
    return sorted(r.slot for r in state.runs if r.outcome is Outcome.FIRED)


async def duplicates(client: aioredis.Redis, prefix: str) -> int:
    """Adds of a job id that existed already: a second send of one slot would be one."""
    entries = await client.xrange(QueueKeys(prefix, CATEGORIZATION).events)
    return sum(1 for _, f in entries if f.get(EntryField.EVENT_NAME.encode()) == b"job_duplicated")


DST_CASES = {
    # UK clocks go back on 2026-10-25 (01:00-02:00 happens twice) ...
    "london-fall-back": (
        "Europe/London",
        utc(2026, 10, 24),
        [utc(2026, 10, 24, 5), utc(2026, 10, 25, 6), utc(2026, 10, 26, 6)],
        [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)],
        {utc(2026, 10, 25, 1)},  # the repeated 01:00 runs once, at its first occurrence
    ),
    # ... and forward on 2026-03-29 (01:00-02:00 never happens).
    "london-spring-forward": (
        "Europe/London",
        utc(2026, 3, 28),
        [utc(2026, 3, 28, 6), utc(2026, 3, 29, 5), utc(2026, 3, 30, 5)],
        [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)],
        set(),  # 01:00 (moved forward) and 02:00 BST are one instant: one slot
    ),
    "new-york-fall-back": (
        "America/New_York",
        utc(2026, 10, 31),
        [utc(2026, 10, 31, 10), utc(2026, 11, 1, 11), utc(2026, 11, 2, 11)],
        [utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)],
        {utc(2026, 11, 1, 6)},
    ),
    "new-york-spring-forward": (
        "America/New_York",
        utc(2026, 3, 7),
        [utc(2026, 3, 7, 11), utc(2026, 3, 8, 10), utc(2026, 3, 9, 10)],
        [utc(2026, 3, 7, 6, 30), utc(2026, 3, 8, 6, 30), utc(2026, 3, 9, 5, 30)],
        set(),
    ),
}


@pytest.mark.parametrize("case", sorted(DST_CASES))
async def test_two_replicas_fire_every_slot_exactly_once_across_a_dst_change(
    case: str, brokers: list[JobBroker], redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    zone, start, six, one_thirty, hourly_gaps = DST_CASES[case]
    crons = {"six": "0 6 * * *", "one-thirty": "30 1 * * *", "hourly": "0 * * * *"}
    for b in brokers:
        declare(
            b,
            [
                {"cron": cron, "cron_offset": zone, "schedule_id": name, "labels": {"overlap": "allow_all"}}
                for name, cron in crons.items()
            ],
        )
    clock = Clock(start)
    replicas = [await scheduler(b, clock) for b in brokers]
    end = start + timedelta(days=3)
    while clock.now < end:
        await asyncio.gather(*(r.tick() for r in replicas))
        clock.now = min(end, clock.now + timedelta(minutes=7))
    await asyncio.gather(*(r.tick() for r in replicas))

    first = replicas[0]
    assert await fired_slots(first, "six") == six
    assert await fired_slots(first, "one-thirty") == one_thirty
    hours = [start + timedelta(hours=h) for h in range(1, 72 + 1)]
    expected_hourly = [h for h in hours if h not in hourly_gaps]
    state = await first.state(first.get("hourly"))
    assert state.counts[ScheduleField.FIRED] == len(expected_hourly)
    assert state.counts[ScheduleField.MISSED] == state.counts[ScheduleField.SKIPPED] == 0
    # the queue holds one job per slot, named by slot, and no slot was ever sent twice
    waiting, _ = await brokers[0].manager.list_jobs(CATEGORIZATION, env.JOB_STATE_WAITING, page_size=1000)
    ids = sorted(j.job.id for j in waiting)
    want = sorted(
        [slot_job_id("six", t, "") for t in six]
        + [slot_job_id("one-thirty", t, "") for t in one_thirty]
        + [slot_job_id("hourly", t, "") for t in expected_hourly]
    )
    assert ids == want
    assert await duplicates(redis_client, queue_prefix) == 0


async def test_a_run_outlasting_its_interval_skips_and_counts_the_slots_it_overlaps(
    brokers: list[JobBroker],
) -> None:
    release = asyncio.Event()
    broker = brokers[0]
    declare(broker, [{"cron": "0 * * * *", "schedule_id": "s"}], release)
    receiver = JobReceiver(broker)
    await receiver.start()
    try:
        clock = Clock(utc(2026, 5, 1, 5, 30))
        s = await scheduler(broker, clock)
        await s.tick()  # starts the schedule
        clock.now = utc(2026, 5, 1, 6, 0, 5)
        await s.tick()  # 06:00 fires; its job runs until released
        first = slot_job_id("s", utc(2026, 5, 1, 6), "")

        async def running() -> bool:
            return (await broker.manager.get_job(CATEGORIZATION, first)).state == env.JOB_STATE_ACTIVE

        await wait_until(running, within=30)
        for hour in (7, 8):
            clock.now = utc(2026, 5, 1, hour, 0, 5)
            await s.tick()
        release.set()

        async def done() -> bool:
            return (await broker.manager.get_job(CATEGORIZATION, first)).state == env.JOB_STATE_COMPLETED

        await wait_until(done, within=30)
        clock.now = utc(2026, 5, 1, 9, 0, 5)
        await s.tick()
        state = await s.state(s.get("s"))
        assert state.counts[ScheduleField.FIRED] == 2
        assert state.counts[ScheduleField.SKIPPED] == 2
        assert [(r.slot.hour, r.outcome) for r in reversed(state.runs)] == [
            (6, Outcome.FIRED),
            (7, Outcome.SKIPPED),
            (8, Outcome.SKIPPED),
            (9, Outcome.FIRED),
        ]
    finally:
        await receiver.stop(grace_s=1)


async def test_a_scheduler_down_for_two_slots_catches_up_within_the_window_and_counts_the_missed(
    brokers: list[JobBroker],
) -> None:
    declare(brokers[0], [{"cron": "0 * * * *", "schedule_id": "s", "labels": {"overlap": "allow_all"}}])
    clock = Clock(utc(2026, 5, 1, 5, 30))
    s = await scheduler(brokers[0], clock)
    await s.tick()
    clock.now = utc(2026, 5, 1, 6, 0, 5)
    await s.tick()  # 06:00 fires on time
    clock.now = utc(2026, 5, 1, 8, 20)  # down through 07:00 and 08:00; the window is one hour
    await s.tick()
    state = await s.state(s.get("s"))
    assert state.counts[ScheduleField.MISSED] == 1
    assert [(r.slot.hour, r.outcome) for r in reversed(state.runs)] == [
        (6, Outcome.FIRED),
        (7, Outcome.MISSED),
        (8, Outcome.FIRED),
    ]
    waiting, _ = await brokers[0].manager.list_jobs(CATEGORIZATION, env.JOB_STATE_WAITING)
    assert sorted(j.job.id for j in waiting) == [
        slot_job_id("s", utc(2026, 5, 1, 6), ""),
        slot_job_id("s", utc(2026, 5, 1, 8), ""),
    ]
    assert state.next_slots[0] == utc(2026, 5, 1, 9)


async def test_pause_holds_every_replica_and_resume_runs_only_later_slots(brokers: list[JobBroker]) -> None:
    for b in brokers:
        declare(b, [{"cron": "0 * * * *", "schedule_id": "s", "labels": {"overlap": "allow_all"}}])
    clock = Clock(utc(2026, 5, 1, 5, 30))
    a, b = [await scheduler(x, clock) for x in brokers]
    await a.tick()
    paused = await a.pause("s", "bank maintenance")
    assert paused.paused and paused.note == "bank maintenance"
    for hour in (6, 7):
        clock.now = utc(2026, 5, 1, hour, 0, 5)
        await asyncio.gather(a.tick(), b.tick())
    resumed = await b.resume("s", "maintenance over")
    assert not resumed.paused and resumed.note == "maintenance over"
    clock.now = utc(2026, 5, 1, 8, 0, 5)
    await asyncio.gather(a.tick(), b.tick())
    state = await a.state(a.get("s"))
    assert state.counts[ScheduleField.PAUSED_SLOTS] == 2
    assert [(r.slot.hour, r.outcome) for r in state.runs] == [(8, Outcome.FIRED)]


async def test_trigger_sends_now_with_its_own_job_id_and_unknown_names_are_refused(
    brokers: list[JobBroker],
) -> None:
    declare(brokers[0], [{"cron": "0 6 * * *", "schedule_id": "s"}])
    s = await scheduler(brokers[0], Clock(utc(2026, 5, 1, 5, 30)))
    _, ids = await s.trigger("s", "req-1")
    assert ids == ["s.trigger-req-1"]
    assert (await brokers[0].manager.get_job(CATEGORIZATION, ids[0])).state == env.JOB_STATE_WAITING
    with pytest.raises(NotFoundError):
        await s.trigger("nope")
    with pytest.raises(InvalidArgumentError):
        await s.pause("", "")
    assert ZoneInfo("UTC") == s.get("s").zone


async def test_a_schedule_added_at_run_time_through_taskiq_redis_fires_its_job(
    brokers: list[JobBroker],
) -> None:
    source = added_schedules(brokers[0].settings)
    clock = Clock(utc(2026, 5, 1, 5, 30))
    s = Scheduler(brokers[0], [LabelScheduleSource(brokers[0]), source], clock=clock)
    try:
        await s.load()
        assert s.schedules == {}
        job = {"categorization": {"transactionIds": ["t9"], "method": "CATEGORIZATION_METHOD_RULES"}}
        await source.add_schedule(
            ScheduledTask(
                task_name=CATEGORIZATION,
                labels={"queue": CATEGORIZATION},
                args=[job],
                kwargs={},
                schedule_id="nightly",
                cron="0 2 * * *",
                cron_offset="Europe/London",
            )
        )
        await s.load()  # what the running scheduler does every RELOAD_EVERY_S
        assert s.get("nightly").zone == ZoneInfo("Europe/London")
        await s.tick()
        clock.now = utc(2026, 5, 2, 1, 0, 5)  # 02:00 BST
        await s.tick()
        sent = await brokers[0].manager.get_job(
            CATEGORIZATION, slot_job_id("nightly", utc(2026, 5, 2, 1), "")
        )
        assert list(sent.job.payload.categorization.transaction_ids) == ["t9"]
    finally:
        await s.shutdown()


async def test_a_slot_whose_scheduler_died_before_sending_is_sent_by_another_replica(
    brokers: list[JobBroker],
    redis_client: aioredis.Redis,
    queue_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for b in brokers:
        declare(b, [{"cron": "0 * * * *", "schedule_id": "s", "labels": {"overlap": "allow_all"}}])
    clock = Clock(utc(2026, 5, 1, 5, 30))
    a, b = [await scheduler(x, clock) for x in brokers]
    await a.tick()
    six = slot_job_id("s", utc(2026, 5, 1, 6), "")
    monkeypatch.setenv(failpoints.VARIABLE, "schedule.before-send=600")
    failpoints.configured.cache_clear()
    try:
        clock.now = utc(2026, 5, 1, 6, 0, 5)
        dying = asyncio.create_task(a.tick())
        key = ScheduleKeys(queue_prefix).schedule("s")

        async def decided() -> bool:
            return await redis_client.hget(key, ScheduleField.LAST_FIRED) is not None

        await wait_until(decided, within=30)
        dying.cancel()  # the process dies after deciding 06:00, before sending its job
        with contextlib.suppress(asyncio.CancelledError):
            await dying
    finally:
        monkeypatch.delenv(failpoints.VARIABLE)
        failpoints.configured.cache_clear()

    clock.now = utc(2026, 5, 1, 6, 0, 30)
    await b.tick()  # too soon to tell a dead scheduler from a slow one
    with pytest.raises(NotFoundError):
        await brokers[1].manager.get_job(CATEGORIZATION, six)
    clock.now = utc(2026, 5, 1, 6, 2)
    await b.tick()
    await b.tick()
    assert (await brokers[1].manager.get_job(CATEGORIZATION, six)).state == env.JOB_STATE_WAITING
    assert await duplicates(redis_client, queue_prefix) == 0
    state = await b.state(b.get("s"))
    assert state.counts[ScheduleField.FIRED] == 1


async def test_a_runs_jobs_states_are_read_for_every_job_of_the_slot(
    brokers: list[JobBroker], redis_client: aioredis.Redis
) -> None:
    """A slot that sends a job per account shows each job's state; a job whose record is gone
    (retention took it) shows 0."""
    declare(brokers[0], [{"cron": "0 6 * * *", "schedule_id": "s"}])
    clock = Clock(utc(2026, 5, 1, 5, 30))
    accounts = [f"acc-{i}" for i in range(12)]

    async def per_account(slot: datetime) -> Sequence[Planned]:
        return [
            Planned(fin.CategorizationJob(transaction_ids=[a], method=fin.CATEGORIZATION_METHOD_RULES), a)
            for a in accounts
        ]

    s = Scheduler(brokers[0], [LabelScheduleSource(brokers[0])], planners={"s": per_account}, clock=clock)
    await s.load()
    await s.tick()
    clock.now = utc(2026, 5, 1, 6, 0, 5)
    await s.tick()
    ids = {a: slot_job_id("s", utc(2026, 5, 1, 6), a) for a in accounts}
    gone = ids["acc-3"]
    await redis_client.delete(QueueKeys(brokers[0].manager.settings.queue_prefix, CATEGORIZATION).job(gone))
    state = await s.state(s.get("s"))
    assert state.job_states == {
        job_id: 0 if job_id == gone else env.JOB_STATE_WAITING for job_id in ids.values()
    }
