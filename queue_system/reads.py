"""What a queue holds, read without changing anything: counts, one job, a page of jobs in one state.

The read side of the seed's QueueManager (getJobCounts, getJob, getJobs),
answered in proto messages for QueueService and WorkerService. Every read
goes through `RedisQueue`, and a page of jobs is read in a few round trips,
never one per job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.queue.v1 import queue_pb2
from queue_system.catalog import QueueConfig
from queue_system.errors import FieldViolation, InvalidArgumentError, NotFoundError
from queue_system.keys import LANES, NORMAL_LANE, JobField
from queue_system.queue import RedisQueue, Where
from queue_system.records import ENVELOPE, job_info
from queue_system.tokens import decode_token, encode_token

MAX_PAGE: Final = 1000
DEFAULT_PAGE: Final = 100
_LANE: Final = JobField.LANE.encode()
_SETS: Final[dict[int, Literal["delayed", "completed", "failed", "superseded"]]] = {
    env.JOB_STATE_COMPLETED: "completed",
    env.JOB_STATE_FAILED: "failed",
    env.JOB_STATE_DELAYED: "delayed",
    env.JOB_STATE_SUPERSEDED: "superseded",
}
_ALL_LANES: Final = tuple(range(1, len(LANES) + 1))
_READY_LANES: Final[dict[int, tuple[int, ...]]] = {
    env.JOB_STATE_WAITING: (NORMAL_LANE,),
    env.JOB_STATE_PRIORITIZED: tuple(n for n in _ALL_LANES if n != NORMAL_LANE),
    env.JOB_STATE_PAUSED: _ALL_LANES,
}


async def queue_stats(q: RedisQueue, config: QueueConfig | None, alive_ms: int) -> queue_pb2.QueueStats:
    """BullMQ's job counts plus the queue's settings and liveness."""
    c = await q.counts(alive_ms=alive_ms)
    waiting = c.waiting_by_lane[NORMAL_LANE - 1]
    counts = queue_pb2.JobCounts(
        active=c.active,
        delayed=c.delayed,
        completed=c.completed,
        failed=c.failed,
        waiting=0 if c.paused else waiting,
        prioritized=0 if c.paused else c.waiting - waiting,
        paused=c.waiting if c.paused else 0,
    )
    stats = queue_pb2.QueueStats(
        queue=q.name, counts=counts, paused=c.paused, workers=c.workers, dead_lettered=c.dead_lettered
    )
    if config is not None:
        stats.concurrency = config.concurrency
        if config.limiter is not None:
            stats.rate_limit.max = config.limiter.max
            stats.rate_limit.duration.FromMilliseconds(config.limiter.duration_ms)
    return stats


def job_state(fields: Mapping[bytes, bytes], where: Where) -> int:
    """The JobState of a job whose hash is `fields`, found `where` (read at the same instant)."""
    lane = int(fields.get(_LANE, str(NORMAL_LANE).encode()))
    if where.completed:
        return env.JOB_STATE_COMPLETED
    if where.failed:
        return env.JOB_STATE_FAILED
    if where.delayed:
        return env.JOB_STATE_DELAYED
    if where.superseded:
        return env.JOB_STATE_SUPERSEDED
    if where.held:
        return env.JOB_STATE_ACTIVE
    if where.paused:
        return env.JOB_STATE_PAUSED
    return env.JOB_STATE_WAITING if lane == NORMAL_LANE else env.JOB_STATE_PRIORITIZED


async def get_job(q: RedisQueue, job_id: str) -> queue_pb2.JobInfo:
    fields, where = await q.snapshot(job_id)
    if ENVELOPE not in fields:
        raise NotFoundError("job", f"{q.name}/{job_id}")
    return job_info(fields, job_state(fields, where))


async def list_jobs(
    q: RedisQueue, state: int, page_size: int = 0, page_token: str = ""
) -> tuple[list[queue_pb2.JobInfo], str]:
    """One page of a queue's jobs in one state, and the token of the next page ('' at the end)."""
    size = min(MAX_PAGE, page_size or DEFAULT_PAGE)
    offset = int(str(decode_token(page_token, "page_token").get("o", 0)))
    if state in _SETS:
        ids = await q.ids_in(_SETS[state], offset, size + 1)
    elif state == env.JOB_STATE_ACTIVE:
        ids = (await q.held_job_ids())[offset : offset + size + 1]
    elif state in _READY_LANES:
        if (state == env.JOB_STATE_PAUSED) != await q.paused():
            return [], ""
        ids = (await q.ready_job_ids(_READY_LANES[state], offset + size + 1))[offset:]
    else:
        raise InvalidArgumentError([FieldViolation("state", "must be a job state (not UNSPECIFIED)")])
    page = ids[:size]
    jobs = [job_info(f, state) for f in await q.jobs_fields(page) if ENVELOPE in f]
    return jobs, encode_token({"o": offset + size}) if len(ids) > size else ""
