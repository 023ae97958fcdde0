"""Groups (JobOptions.group_key) in one process: one job of a group at a time, in line order, and
superseding (JobOptions.supersede_waiting). Real Redis, real workers; every assertion is about what
happened and in what order, never about how long it took. tests/queue_system/test_group_faults.py
does the same across killed worker processes and a restarted Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from jobmesh.events.v1 import job_events_pb2
from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_jobs_pb2 as fin
from queue_system import keys
from queue_system.broker import JobBroker, options_from_labels
from queue_system.catalog import CATEGORIZATION
from queue_system.context import JobContext
from queue_system.dead_letters import DeadLetterReader, DeadLetterRecord
from queue_system.envelope import JobRequest
from queue_system.errors import FailedPreconditionError, InvalidArgumentError
from queue_system.events import event_from_entry
from queue_system.manager import QueueManager
from queue_system.settings import Settings
from queue_system.tasks import task_spec
from queue_system.validation.jobs import validate_job
from tests.queue_system.conftest import categorization, wait_until

Q = CATEGORIZATION


class Runs:
    """The test task: records every start and end in order; its action (transaction_ids[0]) says
    what it does: `ok`, `hold` (until the test opens the job's gate), `fail`, `fail-once`."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def gate(self, job_id: str) -> asyncio.Event:
        return self.gates.setdefault(job_id, asyncio.Event())

    async def run(self, job: fin.CategorizationJob, ctx: JobContext) -> None:
        action = job.transaction_ids[0]
        self.log.append(f"start {ctx.job_id}")
        try:
            if action == "hold":
                await self.gate(ctx.job_id).wait()
            if action == "fail" or (action == "fail-once" and ctx.attempt == 1):
                raise RuntimeError("asked to fail")
        finally:
            self.log.append(f"end {ctx.job_id}")

    @property
    def tasks(self) -> dict[str, Any]:
        return {Q: task_spec(Q, Q, self.run)}

    def of(self, job_ids: Iterable[str]) -> list[str]:
        """The log of these jobs only, in order."""
        ids = set(job_ids)
        return [line for line in self.log if line.split()[1] in ids]

    def has(self, *lines: str) -> Callable[[], Any]:
        async def check() -> bool:
            return all(line in self.log for line in lines)

        return check


def job(job_id: str, group: str = "", action: str = "ok", **options: Any) -> JobRequest:
    return JobRequest(Q, categorization(action), env.JobOptions(job_id=job_id, group_key=group, **options))


def one_by_one(*job_ids: str) -> list[str]:
    return [line for j in job_ids for line in (f"start {j}", f"end {j}")]


async def state(m: QueueManager, job_id: str) -> int:
    return (await m.get_job(Q, job_id)).state


def in_state(m: QueueManager, job_id: str, expected: int) -> Callable[[], Any]:
    async def check() -> bool:
        return await state(m, job_id) == expected

    return check


async def group_keys_left(client: aioredis.Redis, m: QueueManager) -> list[Any]:
    """What the groups leave in Redis: slots, and jobs in lines (nothing, once all ran)."""
    qk = m.queue(Q).keys
    lines = [k async for k in client.scan_iter(match=f"{qk.group_prefix}*", count=1000)]
    return [await client.hgetall(qk.groups), await client.zcard(qk.grouped), lines]


def nothing_left(client: aioredis.Redis, m: QueueManager) -> Callable[[], Any]:
    """Nothing of the groups left, once the last job's acknowledgement (batched after its end) is in."""

    async def check() -> bool:
        return await group_keys_left(client, m) == [{}, 0, []]

    return check


def counted(m: QueueManager, active: int, waiting: int) -> Callable[[], Any]:
    """The queue counts `active` running and `waiting` waiting jobs (acks of ended jobs are batched)."""

    async def check() -> bool:
        c = (await m.get_queue_stats(Q)).counts
        return (c.active, c.waiting) == (active, waiting)

    return check


@pytest.fixture
def runs() -> Runs:
    return Runs()


async def test_a_group_runs_one_job_at_a_time_in_add_order_and_holds_back_no_one_else(
    manager: QueueManager, runs: Runs, redis_client: aioredis.Redis
) -> None:
    await manager.add_jobs(
        [
            job("a1", "K", "hold"),
            job("a2", "K"),
            job("a3", "K"),
            job("b1", "L"),
            job("b2", "L"),
            job("u1"),
            job("u2"),
        ]
    )
    await manager.create_worker(Q, runs.tasks, concurrency=10)
    await wait_until(runs.has("start a1", "end b1", "end b2", "end u1", "end u2"))
    assert "start a2" not in runs.log
    # a2 and a3 wait (in their group's line), and are counted and listed as waiting
    await wait_until(counted(manager, active=1, waiting=2))
    assert [await state(manager, j) for j in ("a1", "a2", "a3")] == [
        env.JOB_STATE_ACTIVE,
        env.JOB_STATE_WAITING,
        env.JOB_STATE_WAITING,
    ]
    waiting, _ = await manager.list_jobs(Q, env.JOB_STATE_WAITING)
    assert [j.job.id for j in waiting] == ["a2", "a3"]
    qk = manager.queue(Q).keys
    assert await redis_client.zrange(qk.group("K"), 0, -1) == [b"a2", b"a3"]
    assert await redis_client.hget(qk.groups, "K") == b"a1"

    runs.gate("a1").set()
    await wait_until(runs.has("end a3"))
    assert runs.of(["a1", "a2", "a3"]) == one_by_one("a1", "a2", "a3")
    assert runs.of(["b1", "b2"]) == one_by_one("b1", "b2")
    await wait_until(nothing_left(redis_client, manager))


async def test_a_group_s_line_goes_by_priority_then_add_order(manager: QueueManager, runs: Runs) -> None:
    await manager.add_jobs(
        [
            job("h", "K", "hold"),
            job("low", "K", priority=env.JOB_PRIORITY_LOW),
            job("n1", "K"),
            job("crit", "K", priority=env.JOB_PRIORITY_CRITICAL),
            job("n2", "K", priority=env.JOB_PRIORITY_NORMAL),
            job("high", "K", priority=env.JOB_PRIORITY_HIGH),
        ]
    )
    stats = await manager.get_queue_stats(Q)
    assert (stats.counts.waiting, stats.counts.prioritized) == (3, 3)  # h, n1, n2 | low, crit, high
    prioritized, _ = await manager.list_jobs(Q, env.JOB_STATE_PRIORITIZED)
    assert [j.job.id for j in prioritized] == ["crit", "high", "low"]
    await manager.create_worker(Q, runs.tasks, concurrency=10)
    await wait_until(runs.has("start h"))
    runs.gate("h").set()
    await wait_until(runs.has("end low"))
    assert runs.log == one_by_one("h", "crit", "high", "n1", "n2", "low")


async def test_a_retried_job_goes_first_again_and_a_backoff_lets_its_group_move_on(
    manager: QueueManager, runs: Runs
) -> None:
    hour = env.Backoff(type=env.BACKOFF_TYPE_FIXED)
    hour.delay.FromSeconds(3600)
    await manager.add_jobs(
        [
            job("r", "K", "fail-once", attempts=2),
            job("n", "K"),
            job("f", "L", "fail-once", attempts=2, backoff=hour),
            job("m", "L"),
        ]
    )
    await manager.create_worker(Q, runs.tasks, concurrency=10)
    await wait_until(runs.has("end n", "end m"))
    # r's second attempt kept its place, first in line; f's backoff held no one up
    assert runs.of(["r", "n"]) == one_by_one("r", "r", "n")
    assert runs.of(["f", "m"]) == one_by_one("f", "m")
    info = await manager.get_job(Q, "f")
    assert (info.state, info.attempts_made) == (env.JOB_STATE_DELAYED, 1)


async def test_a_job_that_fails_for_good_passes_its_group_on(manager: QueueManager, runs: Runs) -> None:
    await manager.add_jobs([job("x", "K", "fail"), job("y", "K")])
    await manager.create_worker(Q, runs.tasks)
    await wait_until(runs.has("end y"))
    assert runs.log == one_by_one("x", "y")
    assert await state(manager, "x") == env.JOB_STATE_FAILED


async def test_a_delayed_job_of_a_group_waits_for_its_time_holding_no_one_up(
    manager: QueueManager, runs: Runs
) -> None:
    await manager.add_jobs(
        [
            job("later", "K", delay=timedelta(hours=1)),
            job("now", "K"),
            job("h", "L", "hold"),
            job("soon", "L", delay=timedelta(milliseconds=200)),
        ]
    )
    await manager.create_worker(Q, runs.tasks)
    await wait_until(runs.has("end now", "start h"))
    assert await state(manager, "later") == env.JOB_STATE_DELAYED
    # once due, `soon` joins its group's line: it waits for h, not for its time any more
    await wait_until(in_state(manager, "soon", env.JOB_STATE_WAITING))
    assert "start soon" not in runs.log
    runs.gate("h").set()
    await wait_until(runs.has("end soon"))
    assert runs.of(["h", "soon"]) == one_by_one("h", "soon")


async def test_superseding_replaces_the_waiting_jobs_and_never_the_running_one(
    manager: QueueManager, runs: Runs, redis_client: aioredis.Redis
) -> None:
    await manager.create_worker(Q, runs.tasks)
    await manager.add_job(Q, categorization("hold"), env.JobOptions(job_id="a", group_key="K"))
    await wait_until(runs.has("start a"))
    await manager.add_jobs([job("b", "K"), job("c", "K", delay=timedelta(hours=1)), job("d", "K")])
    assert await state(manager, "c") == env.JOB_STATE_DELAYED
    added = await manager.add_job(
        Q, categorization("ok"), env.JobOptions(job_id="e", group_key="K", supersede_waiting=True)
    )
    assert added.added
    for old in ("b", "c", "d"):
        info = await manager.get_job(Q, old)
        assert info.state == env.JOB_STATE_SUPERSEDED
        assert info.failed_reason == "superseded by job e of group K before it started"
        assert info.HasField("finished_at") and not info.HasField("ready_at")
    assert await state(manager, "a") == env.JOB_STATE_ACTIVE
    listed, _ = await manager.list_jobs(Q, env.JOB_STATE_SUPERSEDED)
    assert sorted(j.job.id for j in listed) == ["b", "c", "d"]
    stats = await manager.get_queue_stats(Q)
    assert (stats.counts.active, stats.counts.waiting, stats.counts.delayed) == (1, 1, 0)

    runs.gate("a").set()
    await wait_until(runs.has("end e"))
    assert runs.log == one_by_one("a", "e")
    # each superseded job says so in the events, naming its successor
    superseded = {}
    for entry_id, fields in await redis_client.xrange(manager.queue(Q).keys.events):
        event = event_from_entry(entry_id, fields)
        if event.event == "job_superseded":
            data = job_events_pb2.JobLifecycle()
            assert event.data.Unpack(data)
            superseded[data.job_id] = (data.state, data.failed_reason)
    assert superseded == {
        old: (env.JOB_STATE_SUPERSEDED, "superseded by job e of group K before it started")
        for old in ("b", "c", "d")
    }
    # a superseded job stays known: its id is not taken again, and it cannot be cancelled
    assert not (await manager.add_jobs([job("b", "K")]))[0].added
    with pytest.raises(FailedPreconditionError):
        await manager.cancel_job(Q, "b")
    await wait_until(nothing_left(redis_client, manager))


async def test_superseding_takes_a_job_still_ready_in_its_lane_but_not_one_of_another_group(
    manager: QueueManager, runs: Runs
) -> None:
    # no worker yet: p holds K's slot, ready in its lane but not running; q waits in K's line
    await manager.add_jobs([job("p", "K"), job("q", "K"), job("other", "L")])
    await manager.add_jobs([job("r", "K", supersede_waiting=True)])
    assert [await state(manager, j) for j in ("p", "q", "r", "other")] == [
        env.JOB_STATE_SUPERSEDED,
        env.JOB_STATE_SUPERSEDED,
        env.JOB_STATE_WAITING,
        env.JOB_STATE_WAITING,
    ]
    assert (await manager.get_queue_stats(Q)).counts.waiting == 2
    await manager.create_worker(Q, runs.tasks)
    await wait_until(runs.has("end r", "end other"))
    assert sorted(runs.log) == sorted(one_by_one("r", "other"))


async def test_the_last_superseding_job_of_a_batch_is_the_one_left(manager: QueueManager, runs: Runs) -> None:
    await manager.add_jobs([job(f"s{i}", "K", supersede_waiting=True) for i in range(5)])
    assert [await state(manager, f"s{i}") for i in range(5)] == [env.JOB_STATE_SUPERSEDED] * 4 + [
        env.JOB_STATE_WAITING
    ]
    await manager.create_worker(Q, runs.tasks)
    await wait_until(runs.has("end s4"))
    assert runs.log == one_by_one("s4")


async def test_cancel_clean_and_drain_free_a_group(
    manager: QueueManager, runs: Runs, redis_client: aioredis.Redis
) -> None:
    qk = manager.queue(Q).keys
    await manager.add_jobs([job("k1", "K"), job("k2", "K"), job("k3", "K")])
    await manager.cancel_job(Q, "k2")  # from the line
    await manager.cancel_job(Q, "k1")  # the slot holder, ready in its lane: k3 takes the slot
    assert await redis_client.hget(qk.groups, "K") == b"k3"
    assert (await manager.get_queue_stats(Q)).counts.waiting == 1
    await manager.add_jobs([job("k4", "K"), job("k5", "K", delay=timedelta(hours=1)), job("u", "")])
    assert await manager.clean(Q, "waiting", grace_ms=3_600_000) == []  # nothing that old
    await asyncio.sleep(0.01)  # a clean takes jobs added before this millisecond
    assert sorted(await manager.clean(Q, "waiting")) == ["k3", "k4", "u"]
    assert await manager.drain(Q, include_delayed=True) == 1  # k5
    assert await group_keys_left(redis_client, manager) == [{}, 0, []]
    stats = await manager.get_queue_stats(Q)
    assert (stats.counts.waiting, stats.counts.delayed) == (0, 0)
    await manager.add_jobs([job("k6", "K")])
    await manager.create_worker(Q, runs.tasks)
    await wait_until(runs.has("end k6"))
    assert runs.log == one_by_one("k6")


async def test_a_redriven_job_of_a_group_waits_its_turn(manager: QueueManager, runs: Runs) -> None:
    keep = env.Retention(remove=False)
    await manager.add_jobs([job("f", "K", "fail-once", remove_on_fail=keep)])
    await manager.create_worker(Q, runs.tasks)
    await wait_until(in_state(manager, "f", env.JOB_STATE_FAILED))
    await manager.add_jobs([job("h", "K", "hold")])
    await wait_until(runs.has("start h"))
    assert await manager.redrive(Q, "failed", ["f"]) == ["f"]
    assert await state(manager, "f") == env.JOB_STATE_WAITING
    runs.gate("h").set()
    await wait_until(in_state(manager, "f", env.JOB_STATE_COMPLETED))
    assert runs.log == one_by_one("f", "h", "f")


async def test_a_dead_letter_redriven_after_its_record_was_removed_rejoins_its_group(
    manager: QueueManager, runs: Runs, redis_client: aioredis.Redis
) -> None:
    reader = DeadLetterReader(manager.client, manager.settings.queue_prefix, [Q], "test-reader")
    await reader.ensure_group()
    await manager.add_jobs([job("x", "K", "fail-once", remove_on_fail=env.Retention(remove=True))])
    await manager.create_worker(Q, runs.tasks)
    dead: list[DeadLetterRecord] = []

    async def read() -> bool:
        dead.extend(await reader.read(count=10, block_ms=50))
        return bool(dead)

    await wait_until(read)
    assert not await redis_client.exists(manager.queue(Q).keys.job("x"))
    await manager.add_jobs([job("h", "K", "hold")])
    await wait_until(runs.has("start h"))
    assert dead[0].failed is not None and await manager.redrive_dead_letter(dead[0].failed)
    assert await state(manager, "x") == env.JOB_STATE_WAITING  # in K's line, behind h
    runs.gate("h").set()
    await wait_until(in_state(manager, "x", env.JOB_STATE_COMPLETED))
    assert runs.log == one_by_one("x", "h", "x")
    assert await group_keys_left(redis_client, manager) == [{}, 0, []]


async def test_a_stopping_worker_gives_its_group_s_job_back_still_first(
    manager: QueueManager, runs: Runs, redis_client: aioredis.Redis
) -> None:
    await manager.add_jobs([job("a", "K", "hold"), job("b", "K")])
    first = await manager.create_worker(Q, runs.tasks)
    await wait_until(runs.has("start a"))
    await first.stop(grace_s=0)  # a is given back, unfinished
    assert await redis_client.hget(manager.queue(Q).keys.groups, "K") == b"a"
    assert [await state(manager, j) for j in ("a", "b")] == [env.JOB_STATE_WAITING] * 2
    runs.gate("a").set()
    await manager.create_worker(Q, runs.tasks)
    await wait_until(runs.has("end b"))
    assert runs.log == ["start a", "end a", *one_by_one("a", "b")]


async def test_the_janitor_passes_on_a_slot_whose_holder_vanished(
    manager: QueueManager, runs: Runs, redis_client: aioredis.Redis
) -> None:
    q = manager.queue(Q)
    await manager.add_jobs([job("k1", "K"), job("k2", "K")])
    # k1's record and lane entry deleted by hand: nothing but the janitor would free K's slot
    entry_id = await redis_client.hget(q.keys.job("k1"), "entry_id")
    await redis_client.xdel(q.keys.lane("normal"), entry_id)
    await redis_client.delete(q.keys.job("k1"))
    await q.janitor(60_000)
    assert await redis_client.hget(q.keys.groups, "K") == b"k2"
    await manager.create_worker(Q, runs.tasks)
    await wait_until(runs.has("end k2"))
    assert runs.log == one_by_one("k2")


def test_line_places_are_exact_in_lua_and_redis() -> None:
    """Lua numbers and ZSET scores are doubles: every place in a line must stay below 2^53."""
    assert keys.GROUP_DELAYED_SCORE + keys.GROUP_LANE_SPAN < 2**53
    assert keys.GROUP_LANE_SPAN * (len(keys.LANES) + 1) == keys.GROUP_DELAYED_SCORE


# --- the ways in: validation, the producer API, taskiq ---------------------------------------------


@pytest.mark.parametrize(
    ("options", "fields"),
    [
        pytest.param(env.JobOptions(supersede_waiting=True), ["options.supersede_waiting"], id="no group"),
        pytest.param(env.JobOptions(group_key="strategy:1"), ["options.group_key"], id="colon"),
        pytest.param(env.JobOptions(group_key="a b"), ["options.group_key"], id="space"),
        pytest.param(env.JobOptions(group_key="a\x00b"), ["options.group_key"], id="NUL"),
        pytest.param(env.JobOptions(group_key="x" * 257), ["options.group_key"], id="too long"),
    ],
)
def test_a_bad_group_option_is_named(options: env.JobOptions, fields: list[str]) -> None:
    assert [v.field for v in validate_job(Q, categorization("ok"), options)] == fields


def test_a_good_group_option_passes() -> None:
    options = env.JobOptions(group_key="strategy_1700000000000_a1b2c3" + "x" * 227, supersede_waiting=True)
    assert len(options.group_key) == 256
    assert validate_job(Q, categorization("ok"), options) == []


def test_group_labels_become_options() -> None:
    opts = options_from_labels({"group_key": "s1", "supersede_waiting": "true"})
    assert (opts.group_key, opts.supersede_waiting) == ("s1", True)
    assert not options_from_labels({"supersede_waiting": False}).supersede_waiting
    with pytest.raises(InvalidArgumentError):
        options_from_labels({"group_key": "s1", "supersede_waiting": "maybe"})


async def test_kiq_with_group_labels_groups_and_supersedes(
    make_settings: Callable[..., Settings], redis_client: aioredis.Redis
) -> None:
    broker = JobBroker(make_settings(), service="test", queues=[Q], keep_results=False)

    @broker.task(queue=Q)
    async def categorize(j: fin.CategorizationJob) -> None: ...

    await broker.startup()
    try:
        work = fin.CategorizationJob(transaction_ids=["ok"], method=fin.CATEGORIZATION_METHOD_RULES)
        first = await categorize.kicker().with_labels(group_key="s1").kiq(work)
        second = await categorize.kicker().with_labels(group_key="s1").kiq(work)
        third = await categorize.kicker().with_labels(group_key="s1", supersede_waiting=True).kiq(work)
        m = broker.manager
        assert await redis_client.hget(m.queue(Q).keys.groups, "s1") == third.task_id.encode()
        assert [await state(m, t.task_id) for t in (first, second, third)] == [
            env.JOB_STATE_SUPERSEDED,
            env.JOB_STATE_SUPERSEDED,
            env.JOB_STATE_WAITING,
        ]
    finally:
        await broker.shutdown()
