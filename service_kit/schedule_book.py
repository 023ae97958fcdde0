"""A worker's cron schedules as WorkerService shows them: `Scheduler` state as `pb.Schedule`.

The scheduler (queue_system.scheduler) keeps every schedule's state in Redis, so what any replica
lists is what every replica sees. A run's outcome is read from its jobs as the queue holds them
now: running while one waits or runs, failed when one failed for good, succeeded when all
completed, finished when their records are gone (queue retention took them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from google.protobuf.timestamp_pb2 import Timestamp

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.worker.v1 import worker_service_pb2 as pb
from queue_system.errors import NotFoundError
from queue_system.reads import DEFAULT_PAGE, MAX_PAGE
from queue_system.scheduler import Outcome, Overlap, Run, Scheduler, ScheduleState
from queue_system.tokens import decode_token, encode_token

_OVERLAP: Final = {Overlap.SKIP: pb.OVERLAP_POLICY_SKIP, Overlap.ALLOW_ALL: pb.OVERLAP_POLICY_ALLOW_ALL}
_RUNNING: Final = frozenset(
    {
        env.JOB_STATE_WAITING,
        env.JOB_STATE_ACTIVE,
        env.JOB_STATE_DELAYED,
        env.JOB_STATE_PRIORITIZED,
        env.JOB_STATE_PAUSED,
    }
)


def _stamp(t: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(t)
    return out


def run_outcome(run: Run, states: dict[str, int]) -> int:
    """The ScheduleRunOutcome of one run, from its jobs' states (0: the record is gone)."""
    if run.outcome is Outcome.SKIPPED:
        return pb.SCHEDULE_RUN_OUTCOME_SKIPPED
    if run.outcome is Outcome.MISSED:
        return pb.SCHEDULE_RUN_OUTCOME_MISSED
    if not run.job_ids:
        return pb.SCHEDULE_RUN_OUTCOME_NOTHING_TO_DO
    seen = [states.get(job_id, 0) for job_id in run.job_ids]
    if any(s in _RUNNING for s in seen):
        return pb.SCHEDULE_RUN_OUTCOME_RUNNING
    if any(s in (env.JOB_STATE_FAILED, env.JOB_STATE_SUPERSEDED) for s in seen):
        return pb.SCHEDULE_RUN_OUTCOME_FAILED
    if all(s == env.JOB_STATE_COMPLETED for s in seen):
        return pb.SCHEDULE_RUN_OUTCOME_SUCCEEDED
    return pb.SCHEDULE_RUN_OUTCOME_FINISHED


def schedule_message(state: ScheduleState) -> pb.Schedule:
    """One schedule, its shared state, latest runs and next slots, as the contract shows it."""
    s = state.schedule
    out = pb.Schedule(
        name=s.name,
        cron=s.cron,
        timezone=s.zone.key,
        queue=s.queue,
        enabled=not state.paused,
        overlap_policy=_OVERLAP[s.overlap],
        paused=state.paused,
        note=state.note,
        fired_count=state.counts.get("fired", 0),
        skipped_count=state.counts.get("skipped", 0),
        missed_count=state.counts.get("missed", 0),
        paused_count=state.counts.get("paused_slots", 0),
    )
    out.catchup_window.FromTimedelta(s.catchup)
    out.next_slots.extend(_stamp(t) for t in state.next_slots)
    if state.next_slots:
        out.next_run_at.CopyFrom(_stamp(state.next_slots[0]))
    for run in state.runs:
        out.recent_runs.append(
            pb.ScheduleRun(
                slot_time=_stamp(run.slot),
                decided_at=_stamp(run.decided_at),
                outcome=run_outcome(run, state.job_states),  # type: ignore[arg-type]
                job_ids=run.job_ids,
                triggered=run.outcome is Outcome.TRIGGERED,
            )
        )
    sent = next((r for r in state.runs if r.outcome in (Outcome.FIRED, Outcome.TRIGGERED)), None)
    if sent is not None:
        out.last_run_at.CopyFrom(_stamp(sent.slot))
        out.last_job_id = sent.job_ids[0] if sent.job_ids else ""
    return out


class SchedulerBook:
    """WorkerService's `Schedules` over a Scheduler."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    async def page(self, page_size: int, page_token: str) -> tuple[list[pb.Schedule], str]:
        size = min(MAX_PAGE, page_size or DEFAULT_PAGE)
        offset = int(str(decode_token(page_token, "page_token").get("o", 0)))
        names = sorted(self.scheduler.schedules)
        chosen = names[offset : offset + size]
        listed = [schedule_message(await self.scheduler.state(self.scheduler.get(n))) for n in chosen]
        return listed, encode_token({"o": offset + size}) if offset + size < len(names) else ""

    async def trigger(self, name: str, request_id: str) -> tuple[Sequence[str], str]:
        schedule, job_ids = await self.scheduler.trigger(name, request_id)
        return job_ids, schedule.queue

    async def pause(self, name: str, note: str) -> pb.Schedule:
        return schedule_message(await self.scheduler.pause(name, note))

    async def resume(self, name: str, note: str) -> pb.Schedule:
        return schedule_message(await self.scheduler.resume(name, note))


class NoSchedules:
    """The `Schedules` of a worker that runs none (worker-trading): an empty list, and no name."""

    async def page(self, page_size: int, page_token: str) -> tuple[list[pb.Schedule], str]:
        return [], ""

    async def trigger(self, name: str, request_id: str) -> tuple[Sequence[str], str]:
        raise NotFoundError("schedule", name)

    async def pause(self, name: str, note: str) -> pb.Schedule:
        raise NotFoundError("schedule", name)

    async def resume(self, name: str, note: str) -> pb.Schedule:
        raise NotFoundError("schedule", name)
