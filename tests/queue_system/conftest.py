"""Fixtures for queue tests: managers on a fresh prefix, and real worker processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path

import pytest

from jobmesh.jobs.v1 import envelope_pb2, financial_jobs_pb2
from queue_system.manager import QueueManager
from queue_system.settings import Settings

WORKER_PROC = Path(__file__).with_name("worker_proc.py")
ROOT = Path(__file__).resolve().parents[2]


def categorization(action: str) -> envelope_pb2.JobPayload:
    """A categorization job whose test handler does `action` (see worker_proc.py)."""
    return envelope_pb2.JobPayload(
        categorization=financial_jobs_pb2.CategorizationJob(
            transaction_ids=[action], method=financial_jobs_pb2.CATEGORIZATION_METHOD_RULES
        )
    )


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], within: float = 10.0, every: float = 0.02
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {within}s")


def _await_chain(coro: object) -> str:
    chain = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        chain.append(
            f"{getattr(coro, '__qualname__', type(coro).__name__)}:{frame.f_lineno if frame else '?'}"
        )
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return " -> ".join(chain)


async def bounded(step: Coroutine[object, object, object], what: str, seconds: float = 15.0) -> None:
    """Run a teardown step with a time bound; on overrun show where every task waits (a hang is a bug)."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        task.result()
        return
    for t in asyncio.all_tasks():
        print("TASK", t.get_name(), _await_chain(t.get_coro()))
    task.cancel()
    raise AssertionError(f"{what} did not finish within {seconds}s")


@pytest.fixture
async def manager(
    make_settings: Callable[..., Settings], redis_client: object
) -> AsyncIterator[QueueManager]:
    m = QueueManager(make_settings(), service="test")
    await m.initialize()
    yield m
    await bounded(m.close(grace_s=1), "manager.close")


class WorkerProcesses:
    """Real worker processes (tests/queue_system/worker_proc.py) that tests can SIGKILL."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        self.redis_url = redis_url
        self.prefix = prefix
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, concurrency: int = 50, **env: str) -> subprocess.Popen[str]:
        full_env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen'}",
            "JOBMESH_RECLAIM_MS": "2000",
            "JOBMESH_QUEUE_CATEGORIZATION_RATE_LIMIT": "none",
            "QUEUE_DEFAULT_REMOVE_ON_COMPLETE": "false",
            **env,
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                str(WORKER_PROC),
                "--redis",
                self.redis_url,
                "--prefix",
                self.prefix,
                "--concurrency",
                str(concurrency),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=full_env,
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY"), f"worker did not start: {line!r}"
        return proc

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            p.wait(10)
            if p.stdout is not None:
                p.stdout.close()


@pytest.fixture
def worker_processes(redis_url: str, queue_prefix: str) -> Iterator[WorkerProcesses]:
    procs = WorkerProcesses(redis_url, queue_prefix)
    yield procs
    procs.close()
