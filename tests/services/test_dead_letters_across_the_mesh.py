"""dlq-svc as a real process: a poison job in each of the eight queues ends in it with the right
category and every attempt; nothing is lost while it is down or when it is SIGKILLed mid-capture."""

from __future__ import annotations

import asyncio
import errno
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from google.protobuf import struct_pb2

from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.dlq.v1 import dead_letter_service_pb2 as pb
from jobmesh.dlq.v1 import dead_letter_service_pb2_grpc as pb_grpc
from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import failure_pb2, probe_pb2
from jobmesh.jobs.v1 import financial_jobs_pb2 as fin
from jobmesh.queue.v1 import queue_service_pb2 as qpb
from jobmesh.queue.v1 import queue_service_pb2_grpc as qgrpc
from queue_system import catalog
from queue_system.catalog import ALL_QUEUES
from queue_system.manager import QueueManager
from queue_system.settings import Settings, queue_env_stem
from queue_system.tasks import task_spec
from tests.queue_system.conftest import bounded, wait_until
from tests.service_processes import SPECS, ServiceProcess, base_env, run_module, wait_for

WITHIN = 90.0  # generous: two busy cores
C = cpb


def rpc_unavailable() -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), details="connection refused"
    )


# Each queue's poison: what its handler raises every time, and the category it must end in.
POISON: dict[str, tuple[Callable[[], BaseException], int]] = {
    catalog.STRATEGY_EXECUTION: (
        lambda: PermissionError(errno.EACCES, "API key revoked"),
        C.ERROR_CATEGORY_AUTHORIZATION,
    ),
    catalog.ARBITRAGE_DETECTION: (asyncio.TimeoutError, C.ERROR_CATEGORY_TIMEOUT),
    catalog.POSITION_MONITORING: (rpc_unavailable, C.ERROR_CATEGORY_NETWORK),
    catalog.RISK_ANALYSIS: (MemoryError, C.ERROR_CATEGORY_RESOURCE),
    catalog.TRANSACTION_SYNC: (
        lambda: ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        C.ERROR_CATEGORY_NETWORK,
    ),
    catalog.ACCOUNT_RECONCILIATION: (
        lambda: RuntimeError("429, message='Too Many Requests', url='https://bank.example/recon'"),
        C.ERROR_CATEGORY_RATE_LIMIT,
    ),
    catalog.REPORT_GENERATION: (
        lambda: ValueError("period end before its start"),
        C.ERROR_CATEGORY_VALIDATION,
    ),
    catalog.CATEGORIZATION: (lambda: LookupError("the classifier lost its mind"), C.ERROR_CATEGORY_UNKNOWN),
}


@pytest.fixture
async def workers(
    make_settings: Callable[..., Settings], redis_client: aioredis.Redis
) -> AsyncIterator[QueueManager]:
    """Workers in this process whose handlers raise each queue's poison, on the test's prefix."""
    settings = make_settings(**{f"{queue_env_stem(q)}_RATE_LIMIT": "none" for q in ALL_QUEUES})
    manager = QueueManager(settings, service="poisoned-worker")
    await manager.initialize()
    for queue, (make, _) in POISON.items():

        async def fail(job: Any, make: Callable[[], BaseException] = make) -> None:
            raise make()

        await manager.create_worker(queue, {queue: task_spec(queue, queue, fail)}, concurrency=10)
    yield manager
    await bounded(manager.close(grace_s=1), "manager.close")


def dlq_process(redis_url: str, prefix: str) -> ServiceProcess:
    # no automatic retry within the test: the dead letters stay as captured
    env_vars = {"QUEUE_PREFIX": prefix, "DLQ_RETRY_DELAY": "1h", "JOBMESH_RECLAIM_MS": "1000"}
    return ServiceProcess(SPECS["dlq_svc"], redis_url, env_vars).start()


async def add_poison(manager: QueueManager, queue: str, n: int, attempts: int = 2) -> list[str]:
    ids = []
    for i in range(n):
        added = await manager.add_job(
            queue,
            env.JobPayload(probe=probe_pb2.ProbeJob(seq=i)),
            env.JobOptions(attempts=attempts),
            task_name=queue,
        )
        ids.append(added.job_id)
    return ids


async def listed(stub: pb_grpc.DeadLetterServiceStub) -> list[Any]:
    out: list[Any] = []
    token = ""
    while True:
        page = await stub.ListDeadLetters(pb.ListDeadLettersRequest(page_size=1000, page_token=token))
        out += page.dead_letters
        token = page.next_page_token
        if not token:
            return out


async def test_a_poison_job_in_each_queue_ends_in_the_dlq_with_its_category_and_attempts(
    redis_url: str, queue_prefix: str, workers: QueueManager
) -> None:
    svc = dlq_process(redis_url, queue_prefix)
    try:
        await asyncio.to_thread(wait_for, [svc], "SERVING", 30.0)
        jobs = {queue: (await add_poison(workers, queue, 1))[0] for queue in POISON}
        async with grpc.aio.insecure_channel(svc.address) as channel:
            stub = pb_grpc.DeadLetterServiceStub(channel)

            async def all_in() -> bool:
                return (await stub.GetDeadLetterStats(pb.GetDeadLetterStatsRequest())).stats.total >= len(
                    POISON
                )

            await wait_until(all_in, within=WITHIN, every=0.2)
            letters = {d.failed_job.queue: d for d in await listed(stub)}
        assert set(letters) == set(POISON)
        for queue, (_, category) in POISON.items():
            d = letters[queue]
            assert d.failed_job.job_id == jobs[queue]
            assert cpb.ErrorCategory.Name(d.category) == cpb.ErrorCategory.Name(category), queue
            assert [e.attempt for e in d.failed_job.errors] == [1, 2], queue
            assert all(e.message and e.stack and e.worker for e in d.failed_job.errors), queue
        # a failed order matters more than a failed categorization
        assert letters[catalog.STRATEGY_EXECUTION].risk > letters[catalog.CATEGORIZATION].risk
    finally:
        svc.close()


async def test_nothing_is_lost_while_dlq_svc_is_down_or_killed_mid_capture(
    redis_url: str, queue_prefix: str, workers: QueueManager
) -> None:
    queue = catalog.TRANSACTION_SYNC
    svc = dlq_process(redis_url, queue_prefix)
    await asyncio.to_thread(wait_for, [svc], "SERVING", 30.0)
    try:
        sent = await add_poison(workers, queue, 40, attempts=1)
        # SIGKILL as soon as capture has begun: some stored, others read but not acknowledged, others unread
        keys = workers.queue(queue).keys
        store_counts = f"{queue_prefix}:{{dlq}}:counts"

        async def capturing() -> bool:
            return int(await workers.client.hget(store_counts, "total") or 0) > 0

        await wait_until(capturing, within=WITHIN, every=0.01)
        assert svc.proc is not None
        svc.proc.send_signal(signal.SIGKILL)
        svc.proc.wait(10)
        svc.close()
        # jobs go on failing while dlq-svc is down: they wait in the dead-letter stream
        sent += await add_poison(workers, queue, 40, attempts=1)

        async def all_dead() -> bool:
            return int(await workers.client.xlen(keys.dead_letters)) >= 80

        await wait_until(all_dead, within=WITHIN)
        svc = dlq_process(redis_url, queue_prefix)
        await asyncio.to_thread(wait_for, [svc], "SERVING", 30.0)
        async with grpc.aio.insecure_channel(svc.address) as channel:
            stub = pb_grpc.DeadLetterServiceStub(channel)

            async def all_in() -> bool:
                return (await stub.GetDeadLetterStats(pb.GetDeadLetterStatsRequest())).stats.total >= 80

            await wait_until(all_in, within=WITHIN, every=0.2)
            letters = await listed(stub)
            stats = (await stub.GetDeadLetterStats(pb.GetDeadLetterStatsRequest())).stats
        assert stats.total == 80 and dict(stats.by_queue) == {queue: 80}
        assert sorted(d.failed_job.job_id for d in letters) == sorted(sent)  # each once, none lost
        assert {d.category for d in letters} == {C.ERROR_CATEGORY_NETWORK}
    finally:
        svc.close()


async def test_a_job_sent_through_trading_svc_that_its_worker_refuses_reaches_dlq_svc(
    mesh_services: dict[str, ServiceProcess],
) -> None:
    """The whole mesh: trading-svc enqueues, worker-financial refuses it (its ledger has no such
    account: bad input, never retried) and dead-letters it, dlq-svc keeps it as validation."""
    queue = catalog.ACCOUNT_RECONCILIATION
    job = fin.AccountReconciliationJob(
        account_id="acc_dlq",
        reconciliation_type=fin.RECONCILIATION_TYPE_DAILY,
        discrepancy_threshold=struct_pb2.Value(number_value=0.01),
    )
    async with (
        grpc.aio.insecure_channel(mesh_services["trading_svc"].address) as trading,
        grpc.aio.insecure_channel(mesh_services["dlq_svc"].address) as dlq,
    ):
        sent = await qgrpc.QueueServiceStub(trading).EnqueueJob(
            qpb.EnqueueJobRequest(queue=queue, payload=env.JobPayload(account_reconciliation=job))
        )
        stub = pb_grpc.DeadLetterServiceStub(dlq)

        async def kept() -> bool:
            page = await stub.ListDeadLetters(pb.ListDeadLettersRequest(queue=queue, page_size=1000))
            return any(d.failed_job.job_id == sent.job_id for d in page.dead_letters)

        await wait_until(kept, within=WITHIN, every=0.2)
        page = await stub.ListDeadLetters(pb.ListDeadLettersRequest(queue=queue, page_size=1000))
    [d] = [d for d in page.dead_letters if d.failed_job.job_id == sent.job_id]
    assert d.failed_job.reason == failure_pb2.DEAD_LETTER_REASON_UNRECOVERABLE
    assert [e.error_type for e in d.failed_job.errors] == ["ReconciliationInputError"]
    assert d.category == C.ERROR_CATEGORY_VALIDATION
    assert d.failed_job.job.payload.account_reconciliation.account_id == "acc_dlq"


def test_a_bad_dlq_variable_stops_dlq_svc_with_one_line_naming_it() -> None:
    result = run_module("dlq_svc", base_env(DLQ_RETENTION="a month"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "dlq-svc: DLQ_RETENTION: expected a duration like 500ms, 30s, 5m, 24h or 7d, got 'a month'"
    ]
