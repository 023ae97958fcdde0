"""Cron schedules that fire each slot exactly once, however many replicas run them.

Schedules are declared the taskiq way, as `ScheduledTask`s from taskiq `ScheduleSource`s
(`LabelScheduleSource` reads the `schedule=[{"cron": ..., "schedule_id": ...}]` label of tasks);
schedules added at run time live in taskiq-redis's `ListRedisScheduleSource` (`added_schedules`),
whose ScheduledTask's one argument is the job's `JobPayload` as proto3 JSON, and are picked up
within RELOAD_EVERY_S. What fires them is not taskiq's
scheduler loop: it polls `pycron.is_now` each minute on each process, so two replicas send a slot
twice, a DST change fires a repeated hour twice, and a slot missed while down is gone without a
trace. This one keeps each schedule's state in Redis (keys.ScheduleKeys), shared by every replica
and by WorkerService:

- **Slots** are the cron's wall-clock times in the schedule's zone, as UTC instants (cron.py states
  the DST policy). A slot is decided by moving the schedule's cursor to it with a compare-and-set
  (lua/schedule_decide.lua): only the scheduler whose read of the cursor is still current decides
  it; the others re-read and move on. The job ids of a slot's run derive from schedule, slot and
  fan-out key (`daily-sync.20261025T0600Z.acc_1`), so even two sends of one slot would add one job
  (the queue's add is idempotent on the job id).
- **Overlap policy** (per schedule, default skip): while a job of the previous run (fired or
  triggered) is still waiting or running, a slot that comes is skipped and counted.
- **Catch-up window** (per schedule, default keys.DEFAULT_CATCHUP_WINDOW_S, one hour): a slot that
  passed while no scheduler ran fires late if it is within the window when a scheduler sees it;
  older ones are counted as missed and never run.
- **Pause and resume** with a note: slots that pass while paused are counted, never run.
- A schedule's first scheduler ever starts it at "now": slots from before it existed are not owed.

A slot's decision is written before its jobs are sent, and the sending is noted after: a fired slot
whose jobs are not noted as sent RESEND_AFTER_S after its decision (its scheduler died, or lost
Redis past its ride-out) is sent again by whichever replica ticks next, under the same job ids,
while it is within the catch-up window.
The clock is injected (`clock`), so tests move time across DST changes and outages.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from importlib.resources import files
from typing import Any, Final
from zoneinfo import ZoneInfo

from google.protobuf import json_format
from google.protobuf.message import Message as ProtoMessage
from taskiq.abc.schedule_source import ScheduleSource
from taskiq.kicker import AsyncKicker
from taskiq.scheduler.scheduled_task import ScheduledTask
from taskiq.serializers import JSONSerializer
from taskiq_redis import ListRedisScheduleSource

from jobmesh.jobs.v1 import envelope_pb2 as env
from queue_system.broker import JobBroker
from queue_system.cron import next_slots, slot_tag, slots_between, valid_cron
from queue_system.errors import FieldViolation, InvalidArgumentError, NotFoundError
from queue_system.failpoints import failpoint
from queue_system.keys import (
    DEFAULT_CATCHUP_WINDOW_S,
    SCHEDULE_RUNS_KEPT,
    ScheduleField,
    ScheduleKeys,
)
from queue_system.settings import Settings

log = logging.getLogger(__name__)

# A fired slot whose sending was not noted this long after its decision is sent again (its
# scheduler died mid-send). Longer than an add rides out a Redis outage by default
# (JOBMESH_RIDE_OUT_MS, 10 s), so a live scheduler is not overtaken while it waits.
RESEND_AFTER_S: Final = 60.0
# How often the sources are read again, so a schedule added at run time starts firing.
RELOAD_EVERY_S: Final = 10.0
# A job id part kept as it is when it is this short and key-safe; otherwise its hash stands in.
_PLAIN_ID_PART: Final = 64
_UNFINISHED: Final = frozenset(
    {
        env.JOB_STATE_WAITING,
        env.JOB_STATE_ACTIVE,
        env.JOB_STATE_DELAYED,
        env.JOB_STATE_PRIORITIZED,
        env.JOB_STATE_PAUSED,
    }
)


class Overlap(Enum):
    """What a slot does while the schedule's previous run still has jobs going."""

    SKIP = "skip"  # it does not fire, and is counted as skipped
    ALLOW_ALL = "allow_all"  # it fires anyway


class Outcome(Enum):
    """What became of a slot (or a trigger), as a run record names it."""

    FIRED = "fired"
    SKIPPED = "skipped"
    MISSED = "missed"
    TRIGGERED = "triggered"


@dataclass(frozen=True, slots=True)
class Planned:
    """One job a slot sends: its message, and the key that tells it from the slot's other jobs
    (an account id; '' when the slot sends one job)."""

    message: ProtoMessage
    key: str = ""


# What a slot sends, given the slot's instant (UTC).
Planner = Callable[[datetime], Awaitable[Sequence[Planned]]]


@dataclass(frozen=True, slots=True)
class Schedule:
    """One cron schedule as the scheduler runs it."""

    name: str
    cron: str
    zone: ZoneInfo
    task_name: str
    labels: Mapping[str, Any]
    plan: Planner
    overlap: Overlap = Overlap.SKIP
    catchup: timedelta = timedelta(seconds=DEFAULT_CATCHUP_WINDOW_S)

    @property
    def queue(self) -> str:
        return str(self.labels.get("queue") or self.task_name)


@dataclass(frozen=True, slots=True)
class Run:
    """One run record: a slot's decision (or a trigger), and the jobs it sent."""

    slot: datetime
    decided_at: datetime
    outcome: Outcome
    job_ids: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "slot": _ms(self.slot),
                "at": _ms(self.decided_at),
                "outcome": self.outcome.value,
                "jobs": list(self.job_ids),
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Run:
        d = json.loads(raw)
        return cls(_at(int(d["slot"])), _at(int(d["at"])), Outcome(d["outcome"]), tuple(d["jobs"]))


@dataclass(frozen=True, slots=True)
class ScheduleState:
    """A schedule and its shared state, as ListSchedules shows it."""

    schedule: Schedule
    paused: bool
    note: str
    counts: dict[str, int]
    runs: list[Run]
    next_slots: list[datetime]
    # Each listed job's state (JobState; 0 when its record is gone), by job id.
    job_states: dict[str, int] = field(default_factory=dict)


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def system_clock() -> datetime:
    return datetime.now(UTC)


def id_part(text: str) -> str:
    """`text` as a part of a job id: itself when short and key-safe, else a hash of it."""
    if text and len(text) <= _PLAIN_ID_PART and all(c.isalnum() or c in "-_.@" for c in text):
        return text
    return "h" + hashlib.sha256(text.encode()).hexdigest()[:16]


def slot_job_id(schedule: str, slot: datetime, key: str) -> str:
    """The job id of one job of a slot's run: the same on every replica."""
    base = f"{schedule}.{slot_tag(slot)}"
    return f"{base}.{id_part(key)}" if key else base


def _job_message(arg: object) -> ProtoMessage:
    """A ScheduledTask's argument as a job message: a message as it is; a dict (what a JSON
    schedule source gives back) as the proto3 JSON of a JobPayload, e.g. {"categorization": {...}}."""
    if isinstance(arg, ProtoMessage):
        return arg
    if not isinstance(arg, dict):
        raise ValueError(f"a scheduled job's argument is a JobPayload as JSON, got {type(arg).__name__}")
    payload = json_format.ParseDict(arg, env.JobPayload())
    kind = payload.WhichOneof("kind")
    if kind is None:
        raise ValueError("a scheduled job's argument names no job (a JobPayload with one kind set)")
    message: ProtoMessage = getattr(payload, kind)
    return message


def _send_args(task: ScheduledTask) -> Planner:
    """A schedule without a planner of its own sends its ScheduledTask's arguments, a job each."""
    messages = [_job_message(arg) for arg in task.args]

    async def plan(slot: datetime) -> Sequence[Planned]:
        return [Planned(m, str(i) if len(messages) > 1 else "") for i, m in enumerate(messages)]

    return plan


class AddedSchedules(ListRedisScheduleSource):
    """taskiq-redis's ListRedisScheduleSource, closing its connections at shutdown (it never does)."""

    async def shutdown(self) -> None:
        await self._connection_pool.disconnect()
        await super().shutdown()


def added_schedules(settings: Settings) -> AddedSchedules:
    """taskiq-redis's schedule source for schedules added at run time (`add_schedule`), as JSON
    (never pickle) under keys.ScheduleKeys.added, shared by every replica."""
    return AddedSchedules(
        settings.redis_url,
        prefix=ScheduleKeys(settings.queue_prefix).added,
        serializer=JSONSerializer(),
        skip_past_schedules=True,
    )


def schedule_of(task: ScheduledTask, planners: Mapping[str, Planner], default_zone: ZoneInfo) -> Schedule:
    """A taskiq ScheduledTask as a Schedule. Its `cron_offset`, when a zone name, is its zone
    (taskiq's meaning); labels `overlap` ("skip", "allow_all") and `catchup_s` tune it."""
    if not task.cron or not valid_cron(task.cron):
        raise ValueError(f"schedule {task.schedule_id!r}: not a five-field cron: {task.cron!r}")
    zone = default_zone
    if isinstance(task.cron_offset, str) and task.cron_offset:
        zone = ZoneInfo(task.cron_offset)
    elif task.cron_offset is not None:
        raise ValueError(f"schedule {task.schedule_id!r}: name its time zone, not an offset")
    labels = dict(task.labels)
    catchup_s = float(labels.pop("catchup_s", DEFAULT_CATCHUP_WINDOW_S))
    overlap = Overlap(str(labels.pop("overlap", Overlap.SKIP.value)))
    return Schedule(
        name=task.schedule_id,
        cron=task.cron,
        zone=zone,
        task_name=task.task_name,
        labels=labels,
        plan=planners.get(task.schedule_id) or _send_args(task),
        overlap=overlap,
        catchup=timedelta(seconds=catchup_s),
    )


class Scheduler:
    """Fires the schedules of some taskiq ScheduleSources on one JobBroker; one per process."""

    def __init__(
        self,
        broker: JobBroker,
        sources: Sequence[ScheduleSource],
        *,
        planners: Mapping[str, Planner] | None = None,
        zone: ZoneInfo | None = None,
        clock: Callable[[], datetime] = system_clock,
        tick_s: float = 1.0,
    ) -> None:
        self.broker = broker
        self.sources = list(sources)
        self.planners = dict(planners or {})
        self.zone = zone or ZoneInfo("UTC")
        self.clock = clock
        self.tick_s = tick_s
        self.keys = ScheduleKeys(broker.settings.queue_prefix)
        self.schedules: dict[str, Schedule] = {}
        self._started = False
        lua = files("queue_system") / "lua"
        self._decide = broker.manager.client.register_script((lua / "schedule_decide.lua").read_text())
        self._sent = broker.manager.client.register_script((lua / "schedule_sent.lua").read_text())

    @property
    def client(self) -> Any:
        return self.broker.manager.client

    async def load(self) -> None:
        """Read every source's schedules (a name two sources give is refused; a source that gives
        one name twice, as taskiq-redis's does after two adds, means its latest)."""
        if not self._started:
            for source in self.sources:
                await source.startup()
            self._started = True
        found: dict[str, Schedule] = {}
        for source in self.sources:
            mine: dict[str, Schedule] = {}
            for task in await source.get_schedules():
                if task.cron is None:
                    continue
                try:
                    mine[task.schedule_id] = schedule_of(task, self.planners, self.zone)
                except (ValueError, json_format.ParseError) as exc:
                    log.warning("schedule %s left out: %s", task.schedule_id, exc)
            if clash := mine.keys() & found.keys():
                raise ValueError(f"two sources name schedule(s) {', '.join(sorted(clash))}")
            found.update(mine)
        self.schedules = found

    async def shutdown(self) -> None:
        for source in self.sources:
            await source.shutdown()

    def get(self, name: str) -> Schedule:
        if not name:
            raise InvalidArgumentError([FieldViolation("name", "required: the schedule's name")])
        schedule = self.schedules.get(name)
        if schedule is None:
            raise NotFoundError("schedule", name)
        return schedule

    async def run(self) -> None:
        """Tick for the process's life (after `load`); a tick that fails (Redis away, a planner's
        database away) is tried again next time: the slot stays undecided until then."""
        loop = asyncio.get_running_loop()
        loaded = loop.time()
        while True:
            if loop.time() - loaded >= RELOAD_EVERY_S:
                loaded = loop.time()
                try:
                    await self.load()
                except Exception as exc:  # keep the schedules read last time
                    log.warning("schedules: reading the sources failed: %r", exc)
            for schedule in list(self.schedules.values()):
                try:
                    await self._advance(schedule)
                except Exception as exc:  # one schedule's failure must not hold the others
                    log.warning("schedule %s: tick failed, trying again: %r", schedule.name, exc)
            await asyncio.sleep(self.tick_s)

    async def tick(self) -> None:
        """Decide every slot due by the clock's now, of every schedule."""
        for schedule in self.schedules.values():
            await self._advance(schedule)

    async def _advance(self, s: Schedule) -> None:
        key = self.keys.schedule(s.name)
        now = self.clock()
        state = {k.decode(): v.decode() for k, v in (await self.client.hgetall(key)).items()}
        raw = state.get(ScheduleField.CURSOR)
        if raw is None:
            await self.client.hsetnx(key, ScheduleField.CURSOR, str(_ms(now)))
            return
        await self._send_owed(s, state, now)
        paused = state.get(ScheduleField.PAUSED) == "1"
        slots = slots_between(s.cron, s.zone, _at(int(raw)), now)
        late = [slot for slot in slots if slot < now - s.catchup]
        if late:
            field_ = ScheduleField.PAUSED_SLOTS if paused else ScheduleField.MISSED
            records = [] if paused else [Run(t, now, Outcome.MISSED) for t in late[-SCHEDULE_RUNS_KEPT:]]
            if not await self._decided(s, raw, late[-1], field_, count=len(late), runs=records):
                return
            raw = str(_ms(late[-1]))
        for slot in slots[len(late) :]:
            if paused:
                ok = await self._decided(s, raw, slot, ScheduleField.PAUSED_SLOTS)
            elif s.overlap is Overlap.SKIP and await self._in_flight(s):
                ok = await self._decided(
                    s, raw, slot, ScheduleField.SKIPPED, runs=[Run(slot, now, Outcome.SKIPPED)]
                )
            else:
                ok = await self._fire(s, raw, slot, now)
            if not ok:
                return  # another scheduler decided it: the next tick starts from its cursor
            raw = str(_ms(slot))

    async def _decided(
        self,
        s: Schedule,
        cursor: str,
        slot: datetime,
        counter: str,
        *,
        count: int = 1,
        runs: Sequence[Run] = (),
    ) -> bool:
        """Move the schedule's cursor from `cursor` to `slot`, adding `count` to `counter` and
        recording `runs`; False when another scheduler moved it first (it decided these slots)."""
        reply = await self._decide(
            keys=[self.keys.schedule(s.name), self.keys.runs(s.name)],
            args=[
                cursor,
                _ms(slot),
                counter,
                count,
                SCHEDULE_RUNS_KEPT,
                ScheduleField.CURSOR,
                ScheduleField.FIRED,
                ScheduleField.LAST_FIRED,
                ScheduleField.LAST_FIRED_AT,
                _ms(self.clock()),
                *(r.to_json() for r in runs),
            ],
        )
        return int(reply) == 1

    async def _fire(self, s: Schedule, cursor: str, slot: datetime, now: datetime) -> bool:
        planned = await s.plan(slot)
        jobs = [(slot_job_id(s.name, slot, p.key), p.message) for p in planned]
        run = Run(slot, now, Outcome.FIRED, tuple(job_id for job_id, _ in jobs))
        if not await self._decided(s, cursor, slot, ScheduleField.FIRED, runs=[run]):
            return False
        await failpoint("schedule.before-send")
        await self._send(s, jobs)
        await self._sent(keys=[self.keys.schedule(s.name)], args=[ScheduleField.SENT, _ms(slot)])
        log.info("schedule %s: slot %s sent %d job(s)", s.name, slot.isoformat(), len(jobs))
        return True

    async def _send_owed(self, s: Schedule, state: Mapping[str, str], now: datetime) -> None:
        """Send the newest fired slot's jobs again if its scheduler never noted them sent."""
        fired = int(state.get(ScheduleField.LAST_FIRED, 0))
        if fired <= int(state.get(ScheduleField.SENT, 0)):
            return
        slot = _at(fired)
        if slot < now - s.catchup:
            return  # too late to run now: as a missed slot would be
        if now - _at(int(state.get(ScheduleField.LAST_FIRED_AT, fired))) < timedelta(seconds=RESEND_AFTER_S):
            return  # its scheduler may still be sending
        jobs = [(slot_job_id(s.name, slot, p.key), p.message) for p in await s.plan(slot)]
        log.warning("schedule %s: slot %s was decided but not sent; sending it", s.name, slot.isoformat())
        await self._send(s, jobs)
        await self._sent(keys=[self.keys.schedule(s.name)], args=[ScheduleField.SENT, fired])

    async def _send(self, s: Schedule, jobs: Sequence[tuple[str, ProtoMessage]]) -> None:
        """Send through taskiq's kicker, as taskiq's scheduler does (middlewares run)."""
        for job_id, message in jobs:
            kicker: AsyncKicker[[ProtoMessage], Any] = AsyncKicker(s.task_name, self.broker, dict(s.labels))
            await kicker.with_labels(job_id=job_id, schedule_id=s.name).kiq(message)

    async def _in_flight(self, s: Schedule) -> bool:
        """Whether a job of the latest fired run, or of the latest trigger, still waits or runs."""
        latest: dict[Outcome, Run] = {}
        for raw in await self.client.lrange(self.keys.runs(s.name), 0, SCHEDULE_RUNS_KEPT - 1):
            run = Run.from_json(raw)
            if run.outcome in (Outcome.FIRED, Outcome.TRIGGERED):
                latest.setdefault(run.outcome, run)
        states = await self._states(s, [j for run in latest.values() for j in run.job_ids])
        return any(state in _UNFINISHED for state in states.values())

    async def _states(self, s: Schedule, job_ids: Sequence[str]) -> dict[str, int]:
        """JobState of each job (0 for one whose record is gone: it finished, retention took it),
        read side by side: a daily sync's run holds a job per account, and one at a time the page
        paid a round trip for each."""

        async def state_of(job_id: str) -> int:
            try:
                return (await self.broker.manager.get_job(s.queue, job_id)).state
            except NotFoundError:
                return 0

        unique = list(dict.fromkeys(job_ids))
        return dict(zip(unique, await asyncio.gather(*map(state_of, unique)), strict=True))

    async def trigger(self, name: str, token: str = "") -> tuple[Schedule, list[str]]:
        """Send a schedule's jobs now, outside its cron, with job ids of their own
        (`<name>.trigger-<token>[.<key>]`). The overlap policy does not hold a trigger back:
        someone asked for it."""
        s = self.get(name)
        now = self.clock()
        base = f"{s.name}.trigger-{id_part(token) if token else uuid.uuid4().hex[:16]}"
        planned = await s.plan(now)
        jobs = [(f"{base}.{id_part(p.key)}" if p.key else base, p.message) for p in planned]
        run = Run(now, now, Outcome.TRIGGERED, tuple(job_id for job_id, _ in jobs))
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.lpush(self.keys.runs(s.name), run.to_json())
            pipe.ltrim(self.keys.runs(s.name), 0, SCHEDULE_RUNS_KEPT - 1)
            await pipe.execute()
        await self._send(s, jobs)
        return s, list(run.job_ids)

    async def pause(self, name: str, note: str) -> ScheduleState:
        """Pause a schedule for every replica; its slots are counted, never run, until resumed."""
        s = self.get(name)
        changes = {ScheduleField.PAUSED: "1", ScheduleField.NOTE: note}
        await self.client.hset(self.keys.schedule(s.name), mapping=changes)
        return await self.state(s)

    async def resume(self, name: str, note: str) -> ScheduleState:
        """Resume a schedule: it fires from its next slot (the paused ones stay unrun)."""
        s = self.get(name)
        key = self.keys.schedule(s.name)
        await self._advance(s)  # slots that passed while paused are decided as paused first
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hdel(key, ScheduleField.PAUSED)
            pipe.hset(key, ScheduleField.NOTE, note)
            await pipe.execute()
        return await self.state(s)

    async def state(self, s: Schedule, *, upcoming: int = 3) -> ScheduleState:
        """A schedule's shared state, its latest runs with their jobs' states, and its next slots."""
        key = self.keys.schedule(s.name)
        raw = {k.decode(): v.decode() for k, v in (await self.client.hgetall(key)).items()}
        runs = [Run.from_json(r) for r in await self.client.lrange(self.keys.runs(s.name), 0, -1)]
        counters = (
            ScheduleField.FIRED,
            ScheduleField.SKIPPED,
            ScheduleField.MISSED,
            ScheduleField.PAUSED_SLOTS,
        )
        now = self.clock()
        cursor = _at(int(raw[ScheduleField.CURSOR])) if ScheduleField.CURSOR in raw else now
        return ScheduleState(
            schedule=s,
            paused=raw.get(ScheduleField.PAUSED) == "1",
            note=raw.get(ScheduleField.NOTE, ""),
            counts={c: int(raw.get(c, 0)) for c in counters},
            runs=runs,
            next_slots=next_slots(s.cron, s.zone, max(cursor, now - s.catchup), upcoming),
            job_states=await self._states(s, [j for run in runs for j in run.job_ids]),
        )

    async def states(self) -> list[ScheduleState]:
        return [await self.state(s) for s in sorted(self.schedules.values(), key=lambda s: s.name)]
