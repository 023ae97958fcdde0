"""The seed's Prometheus metrics, with its exact names and labels.

Counters and the histogram are per process (Prometheus adds up the worker
processes it scrapes); `queue_depth` is read from Redis, so every process
reports the same, global depth. `active_jobs_total` keeps the seed's name for
its dashboards although a gauge ending in `_total` draws a promtool warning.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final

from prometheus_client import Counter, Gauge, Histogram
from redis.exceptions import RedisError

from queue_system.keys import LANES
from queue_system.outages import stop_if_cancelled
from queue_system.queue import RedisQueue

JOBS_PROCESSED: Final = Counter(
    "jobs_processed_total", "Jobs finished by this process, by job type and outcome.", ["job_type", "status"]
)
JOB_PROCESSING_SECONDS: Final = Histogram(
    "job_processing_seconds",
    "Time a handler ran, per attempt.",
    ["job_type"],
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
ACTIVE_JOBS: Final = Gauge("active_jobs_total", "Jobs running in this process now.", ["job_type"])
QUEUE_DEPTH: Final = Gauge(
    "queue_depth",
    "Jobs waiting to start, by queue and priority lane (delayed: waiting for time).",
    ["queue_name", "priority"],
)

# Outcomes counted in jobs_processed_total{status}.
SUCCESS: Final = "success"
RETRIED: Final = "retried"
FAILED: Final = "failed"
LOST: Final = "lost"  # finished, but another worker had taken the job over: not acknowledged


class JobMetrics:
    """Label children of one job type, cached: the per-job cost is a few attribute calls.

    `running` is a plain count every consumer of the process adds to and takes
    from; active_jobs_total reads it when scraped, so no job pays for a lock.
    """

    __slots__ = ("failed", "lost", "retried", "running", "seconds", "success")

    def __init__(self, job_type: str) -> None:
        self.success = JOBS_PROCESSED.labels(job_type, SUCCESS)
        self.retried = JOBS_PROCESSED.labels(job_type, RETRIED)
        self.failed = JOBS_PROCESSED.labels(job_type, FAILED)
        self.lost = JOBS_PROCESSED.labels(job_type, LOST)
        self.seconds = JOB_PROCESSING_SECONDS.labels(job_type)
        self.running = 0
        ACTIVE_JOBS.labels(job_type).set_function(lambda: self.running)


_BY_TYPE: dict[str, JobMetrics] = {}


def for_job_type(job_type: str) -> JobMetrics:
    found = _BY_TYPE.get(job_type)
    if found is None:
        found = _BY_TYPE[job_type] = JobMetrics(job_type)
    return found


def set_queue_depth(queue: str, waiting_by_lane: list[int], delayed: int) -> None:
    for lane, waiting in zip(LANES, waiting_by_lane, strict=True):
        QUEUE_DEPTH.labels(queue, lane).set(waiting)
    QUEUE_DEPTH.labels(queue, "delayed").set(delayed)


async def track_queue_depth(queues: Sequence[RedisQueue], alive_ms: int, every_s: float = 2.0) -> None:
    """Refresh queue_depth from Redis until cancelled (a Redis outage only pauses it)."""
    while True:
        stop_if_cancelled()
        for queue in queues:
            try:
                c = await queue.counts(alive_ms=alive_ms)
            except RedisError:
                break
            set_queue_depth(queue.name, c.waiting_by_lane, c.delayed)
        await asyncio.sleep(every_s)
