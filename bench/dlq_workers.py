"""The dlq bench's failing workers, run as child processes of the bench (their own cores and loops).

    python -m bench.dlq_workers SPEC.json     {"redis", "prefix", "concurrency"}

Each child serves all eight queues with a handler that raises one of a few
realistic errors (by the job's seq), so every storm job fails once and is
dead-lettered by the queue runtime as in production. The storm runs them out
of the bench process because one process cannot both produce and fail 10,000
jobs a minute on a small machine: the producer and eight queues' workers
shared one core and topped out near 110 failures a second.

It says `{"ready": true}` (one JSON line) once its workers run, and serves
until SIGTERM, when it stops them (unfinished jobs given back) and says
`{"stopped": true}`.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from bench.changes_child import run_child, say
from jobmesh.jobs.v1 import probe_pb2
from queue_system.catalog import ALL_QUEUES
from queue_system.manager import QueueManager
from queue_system.settings import Settings, load, queue_env_stem
from queue_system.tasks import task_spec

# The storm's errors, one per job by its seq: each category dlq-svc knows, from a realistic exception.
ERRORS: Final[tuple[Callable[[int], BaseException], ...]] = (
    lambda n: ConnectionRefusedError(errno.ECONNREFUSED, f"connect to 10.0.0.{n % 250}:443 refused"),
    lambda n: TimeoutError(f"venue did not answer within {n % 9 + 1}s"),
    lambda n: RuntimeError(f"429, message='Too Many Requests', url='https://api.example/{n % 50}'"),
    lambda n: ValueError(f"amount must be positive, got -{n % 100}"),
    lambda n: PermissionError(errno.EACCES, "API key revoked"),
    lambda n: MemoryError(),
)


def storm_settings(redis_url: str, prefix: str) -> Settings:
    """The storm's queue settings: failed jobs not kept in the queue, no rate limit slowing the storm."""
    return load(
        {
            "REDIS_URL": redis_url,
            "QUEUE_PREFIX": prefix,
            "QUEUE_DEFAULT_REMOVE_ON_FAIL": "true",
            **{f"{queue_env_stem(q)}_RATE_LIMIT": "none" for q in ALL_QUEUES},
        }
    )


async def fail(job: probe_pb2.ProbeJob) -> None:
    """Every storm job's handler: it fails, with the error its seq picks."""
    raise ERRORS[job.seq % len(ERRORS)](int(job.seq))


async def workers(spec: dict[str, Any]) -> None:
    manager = QueueManager(storm_settings(spec["redis"], spec["prefix"]), service="bench-storm-worker")
    await manager.initialize()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        for q in ALL_QUEUES:
            await manager.create_worker(q, {q: task_spec(q, q, fail)}, concurrency=int(spec["concurrency"]))
        say({"ready": True})
        await stop.wait()
    finally:
        await manager.close(1)
    say({"stopped": True})


def main() -> None:
    # each failure is a worker warning by design: a line apiece would cost more than failing the job
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    run_child(workers, json.loads(Path(sys.argv[1]).read_text()))


if __name__ == "__main__":
    main()
