"""The fleet bench's jobmesh workers, run as child processes of the bench (their own cores and loops).

    python -m bench.fleet_workers SPEC.json   {"redis", "prefix", "queues", "concurrency", "loop"}

Each child serves every queue of `queues` at once, one Worker per queue at
`concurrency`, with a no-op task that records its start (epoch ms) and the
probe job's seq. It says `{"ready": true}` once connected, starts its workers
on a `go` line on stdin (so both children start together, their imports and
connections done), says `{"started": k}` as starts add up, and on SIGTERM
stops its workers and says `{"starts": [[queue index, seq, start ms, 0], ...]}`
then `{"stopped": true}` (the last field is BullMQ's due time; jobmesh's is
read from Redis by the bench).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any, Final

from bench.changes_child import run_child, say
from jobmesh.jobs.v1 import probe_pb2
from queue_system.manager import QueueManager
from queue_system.settings import Settings, load, queue_env_stem
from queue_system.tasks import TaskSpec, task_spec

PROGRESS_S: Final = 0.02


def fleet_settings(redis_url: str, prefix: str, queues: list[str], concurrency: int) -> Settings:
    """The fleet's queue settings: no rate limit, `concurrency` per worker, completed jobs not kept."""
    env = {"REDIS_URL": redis_url, "QUEUE_PREFIX": prefix, "QUEUE_DEFAULT_REMOVE_ON_COMPLETE": "true"}
    for q in queues:
        env[f"{queue_env_stem(q)}_RATE_LIMIT"] = "none"
        env[f"{queue_env_stem(q)}_CONCURRENCY"] = str(concurrency)
    return load(env)


def recording_task(queue: str, index: int, starts: list[list[float]]) -> TaskSpec:
    """The no-op task of one queue: it records (queue index, seq, start ms, 0)."""

    async def noop(job: probe_pb2.ProbeJob) -> None:
        starts.append([index, job.seq, time.time_ns() / 1e6, 0])

    return task_spec(queue, queue, noop)


async def _go(reader: asyncio.StreamReader) -> None:
    while (line := await reader.readline()) and line.strip() != b"go":
        pass


async def workers(spec: dict[str, Any]) -> None:
    queues: list[str] = list(spec["queues"])
    concurrency = int(spec["concurrency"])
    manager = QueueManager(
        fleet_settings(spec["redis"], spec["prefix"], queues, concurrency),
        service="bench-fleet-worker",
        queues=queues,
    )
    await manager.initialize()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    starts: list[list[float]] = []

    async def progress() -> None:
        said = 0
        while True:
            await asyncio.sleep(PROGRESS_S)
            if len(starts) != said:
                said = len(starts)
                say({"started": said})

    reporter: asyncio.Task[None] | None = None
    try:
        say({"ready": True})
        go, stopped = loop.create_task(_go(reader)), loop.create_task(stop.wait())
        await asyncio.wait([go, stopped], return_when=asyncio.FIRST_COMPLETED)
        go.cancel()
        if not stop.is_set():
            for i, q in enumerate(queues):
                await manager.create_worker(q, {q: recording_task(q, i, starts)}, concurrency=concurrency)
            reporter = loop.create_task(progress())
        await stopped
    finally:
        if reporter is not None:
            reporter.cancel()
        await manager.close(1)
    say({"starts": starts})
    say({"stopped": True})


def main() -> None:
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    run_child(workers, json.loads(Path(sys.argv[1]).read_text()))


if __name__ == "__main__":
    main()
