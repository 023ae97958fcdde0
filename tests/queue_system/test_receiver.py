"""taskiq's programming model on jobmesh: tasks on JobBroker, sent with kiq, run by JobReceiver,
real results for wait_result(), and `taskiq worker` itself running jobmesh's receive path."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from taskiq.abc.middleware import TaskiqMiddleware
from taskiq.message import TaskiqMessage
from taskiq.result import TaskiqResult

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_jobs_pb2 as fin
from jobmesh.jobs.v1 import probe_pb2
from queue_system.broker import JobBroker
from queue_system.catalog import CATEGORIZATION
from queue_system.context import JobContext
from queue_system.errors import JobDeadLetteredError
from queue_system.keys import WORKER_GROUP
from queue_system.receiver import JobReceiver
from queue_system.settings import Settings
from tests.queue_system.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]
Q = CATEGORIZATION


def job(action: str) -> fin.CategorizationJob:
    return fin.CategorizationJob(transaction_ids=[action], method=fin.CATEGORIZATION_METHOD_RULES)


class Recorder(TaskiqMiddleware):
    """A taskiq middleware that notes what it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        self.seen.append(f"pre {message.task_id}")
        return message

    def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        self.seen.append(f"post {message.task_id} {result.return_value}")


@pytest.fixture
async def broker(
    make_settings: Callable[..., Settings], redis_client: aioredis.Redis
) -> AsyncIterator[JobBroker]:
    b = JobBroker(make_settings(), service="test", queues=[Q])
    await b.startup()
    yield b
    await b.shutdown()


async def test_wait_result_gives_the_real_outcome_and_is_not_ready_before_a_worker_ran(
    broker: JobBroker,
) -> None:
    recorder = Recorder()
    broker.add_middlewares(recorder)

    @broker.task(queue=Q)
    async def categorize(j: fin.CategorizationJob, ctx: JobContext) -> str:
        return f"{ctx.job_id}: {j.transaction_ids[0]}"

    @broker.task("probe-back", queue=Q)
    async def echo(p: probe_pb2.ProbeJob) -> probe_pb2.ProbeJob:
        return probe_pb2.ProbeJob(seq=p.seq + 1)

    plain = await categorize.kiq(job("tx_1"))
    message = await echo.kicker().with_labels(job_id="order-7").kiq(probe_pb2.ProbeJob(seq=41))
    assert message.task_id == "order-7"
    assert not await plain.is_ready()
    receiver = JobReceiver(broker)
    await receiver.start()
    try:
        first = await plain.wait_result(timeout=10)
        assert (first.is_err, first.return_value) == (False, f"{plain.task_id}: tx_1")
        second = await message.wait_result(timeout=10)
        unpacked = second.return_value
        assert isinstance(unpacked, probe_pb2.ProbeJob) and unpacked.seq == 42
        # stored as proto3 JSON (never pickle): a reader in any language can parse it
        raw = await broker.manager.client.get(f"{broker.settings.queue_prefix}:result:order-7")
        assert json.loads(raw)["return_value"] == {
            "@type": "type.googleapis.com/jobmesh.jobs.v1.ProbeJob",
            "seq": "42",
        }
        # taskiq middlewares ran around each handler, seeing what it returned
        assert (
            f"pre {plain.task_id}" in recorder.seen
            and f"post {plain.task_id} {first.return_value}" in recorder.seen
        )
        assert "pre order-7" in recorder.seen and f"post order-7 {unpacked}" in recorder.seen
    finally:
        await receiver.stop(grace_s=1)


async def test_a_dead_lettered_job_s_result_is_an_error(broker: JobBroker) -> None:
    @broker.task(queue=Q, throws=(KeyError,))
    async def categorize(j: fin.CategorizationJob) -> None:
        raise KeyError(j.transaction_ids[0])

    sent = await categorize.kicker().with_labels(attempts=5).kiq(job("acc_9"))
    receiver = JobReceiver(broker)
    await receiver.start()
    try:
        result = await sent.wait_result(timeout=10)
        assert result.is_err and isinstance(result.error, JobDeadLetteredError)
        assert str(result.error) == (
            "DEAD_LETTER_REASON_UNRECOVERABLE: attempt 1 failed with an error that is never retried: "
            "KeyError: 'acc_9'"
        )
        info = await broker.manager.get_job(Q, sent.task_id)
        assert info.state == env.JOB_STATE_FAILED and info.attempts_made == 1
    finally:
        await receiver.stop(grace_s=1)


# --- `taskiq worker`, as a taskiq user runs it -----------------------------------------------------


class TaskiqWorkers:
    """`taskiq worker tests.queue_system.taskiq_app:broker` processes, killable for real."""

    def __init__(self, env_: dict[str, str]) -> None:
        self.env = env_
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "taskiq",
                "worker",
                "tests.queue_system.taskiq_app:broker",
                "--workers",
                "1",
                *args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and the processes it spawned."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(5)


@pytest.fixture
def taskiq_workers(redis_url: str, queue_prefix: str) -> Iterator[TaskiqWorkers]:
    workers = TaskiqWorkers(
        {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")]),
            "REDIS_URL": redis_url,
            "QUEUE_PREFIX": queue_prefix,
            "JOBMESH_RECLAIM_MS": "1000",
            "JOBMESH_QUEUE_CATEGORIZATION_RATE_LIMIT": "none",
            "QUEUE_DEFAULT_REMOVE_ON_COMPLETE": "false",
        }
    )
    yield workers
    workers.close()


async def _starts(client: aioredis.Redis, prefix: str) -> list[tuple[str, int]]:
    out = []
    for raw in await client.lrange(f"{prefix}:test:starts", 0, -1):
        job_id, pid = raw.decode().rsplit("|", 1)
        out.append((job_id, int(pid)))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    "receiver", [(), ("--receiver", "queue_system.receiver:JobReceiver")], ids=["default", "named"]
)
async def test_taskiq_worker_keeps_every_guarantee_of_the_queue(
    receiver: tuple[str, ...],
    taskiq_workers: TaskiqWorkers,
    make_settings: Callable[..., Settings],
    redis_client: aioredis.Redis,
    queue_prefix: str,
) -> None:
    broker = JobBroker(make_settings(), service="producer", queues=[Q])

    async def categorize(
        j: fin.CategorizationJob,
    ) -> str:  # sent from here, run by tests/queue_system/taskiq_app.py
        raise AssertionError("runs in the taskiq worker, not here")

    task = broker.register_task(categorize, "categorization", queue=Q)
    await broker.startup()
    try:
        victim = taskiq_workers.start(*receiver)
        long = await task.kiq(job("sleep:3000"))
        await wait_until(lambda: _started(redis_client, queue_prefix, 1), within=30)
        taskiq_workers.kill(victim)  # mid-job: the job was held, never acknowledged

        taskiq_workers.start(*receiver, *(("--receiver_arg", "concurrency=1") if receiver else ()))
        quick = [await task.kiq(job("sleep:200")) for _ in range(3)]
        held_at_most = 0
        for _ in range(100):
            by_consumer: dict[bytes, int] = {}
            for lane in broker.manager.queue(Q).keys.lanes:
                for c in (await redis_client.xpending(lane, WORKER_GROUP))["consumers"]:
                    by_consumer[c["name"]] = by_consumer.get(c["name"], 0) + c["pending"]
            held_at_most = max([held_at_most, *by_consumer.values()])
            if len(await _starts(redis_client, queue_prefix)) >= 5:
                break
            await asyncio.sleep(0.1)
        for sent in quick:
            assert not (await sent.wait_result(timeout=30)).is_err
        # the long job was taken over from the killed worker by the new one: started twice, in two processes
        assert not (await long.wait_result(timeout=30)).is_err
        starts = await _starts(redis_client, queue_prefix)
        long_pids = [pid for job_id, pid in starts if job_id == long.task_id]
        assert len(long_pids) == 2 and len(set(long_pids)) == 2
        info = await broker.manager.get_job(Q, long.task_id)
        assert (info.deliveries, info.attempts_made, info.state) == (2, 1, env.JOB_STATE_COMPLETED)
        assert sorted(job_id for job_id, _ in starts) == sorted(
            [long.task_id, long.task_id, *(q.task_id for q in quick)]
        )
        if receiver:  # concurrency=1: no worker ever held more than one job at once
            assert held_at_most <= 1
    finally:
        await broker.shutdown()


async def _started(client: aioredis.Redis, prefix: str, n: int) -> bool:
    return len(await _starts(client, prefix)) >= n
