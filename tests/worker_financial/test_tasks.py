"""worker-financial's transaction-sync end to end: jobs through the real queue, run by the real
task in-process (JobBroker + JobReceiver), against the ledger on SQLite and PostgreSQL. The result
stays with the job, `transaction_sync_completed` goes out on `financial:events` in the seed's
shape, and a job this worker cannot do fails once, named, and is not retried. GoCardless jobs go to
a local GoCardless-shaped server: a 429 is retried after its reset; a failed job reaches dlq-svc
(a real process) filed under the category its error deserves."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from google.protobuf import json_format

from bench.bank_servers import FakeGoCardless
from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.dlq.v1 import dead_letter_service_pb2 as dlq_pb
from jobmesh.dlq.v1 import dead_letter_service_pb2_grpc as dlq_grpc
from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from jobmesh.queue.v1 import queue_pb2
from queue_system.broker import JobBroker
from queue_system.catalog import FINANCIAL_EVENTS_CHANNEL, FINANCIAL_QUEUES, TRANSACTION_SYNC
from queue_system.errors import InvalidArgumentError
from queue_system.receiver import JobReceiver
from queue_system.settings import Settings
from queue_system.validation.jobs import CheckedJobs, JobRequest
from tests.queue_system.conftest import wait_until
from tests.service_processes import SPECS, ServiceProcess, wait_for
from tests.worker_financial.conftest import sync_settings_for
from tests.worker_financial.sync.banks import march_account
from tests.worker_financial.sync.statements import OFX_SGML
from worker_financial.ledger.store import Ledger
from worker_financial.tasks import register_tasks

WITHIN = 30.0


class Worker:
    """worker-financial's tasks on the test's prefix, and what they announce."""

    def __init__(self, broker: JobBroker, events: aioredis.client.PubSub) -> None:
        self.broker = broker
        self.events = events
        self.seen: list[dict[str, Any]] = []

    async def finish(
        self, job_id: str, payload: dict[str, Any], attempts: int = 1, *, unchecked: bool = False
    ) -> queue_pb2.JobInfo:
        """Enqueue a transaction-sync and wait until it completes or fails for good. `unchecked`
        adds it as a producer that skips the submission check would (the worker must still refuse
        what that check would have)."""
        manager = self.broker.manager
        job = json_format.ParseDict({"transactionSync": payload}, env.JobPayload())
        options = env.JobOptions(job_id=job_id, attempts=attempts)
        if unchecked:
            await manager.producer.add(CheckedJobs((JobRequest(TRANSACTION_SYNC, job, options, None, ""),)))
        else:
            await manager.add_job(TRANSACTION_SYNC, job, options)

        async def done() -> bool:
            info = await manager.get_job(TRANSACTION_SYNC, job_id)
            return info.state in (env.JOB_STATE_COMPLETED, env.JOB_STATE_FAILED)

        await wait_until(done, within=WITHIN)
        return await manager.get_job(TRANSACTION_SYNC, job_id)

    async def event(self, name: str, job_id: str) -> dict[str, Any]:
        async with asyncio.timeout(WITHIN):
            while True:
                for seen in self.seen:
                    if seen["event"] == name and seen["data"].get("jobId") == job_id:
                        return seen
                message = await self.events.get_message(ignore_subscribe_messages=True, timeout=0.5)
                if message is not None:
                    self.seen.append(json.loads(message["data"]))


@pytest.fixture
async def worker(
    make_settings: Callable[..., Settings],
    redis_client: aioredis.Redis,
    ledger: Ledger,
    gocardless_server: FakeGoCardless,
) -> AsyncIterator[Worker]:
    events = redis_client.pubsub()
    await events.subscribe(FINANCIAL_EVENTS_CHANNEL)  # before any job runs: pub/sub keeps nothing
    broker = JobBroker(make_settings(), service="worker-financial", queues=FINANCIAL_QUEUES)
    providers = register_tasks(broker, ledger, sync_settings_for(gocardless_server))
    await broker.startup()
    receiver = JobReceiver(broker)
    await receiver.start()
    try:
        yield Worker(broker, events)
    finally:
        await receiver.stop(1)
        await broker.shutdown()
        await providers.aclose()
        await events.aclose()  # type: ignore[no-untyped-call]


async def test_an_ofx_sync_twice_reports_its_new_transactions_then_none(
    worker: Worker, ledger: Ledger, account_id: str
) -> None:
    payload = {
        "id": "sync_1",
        "accountId": account_id,
        "provider": "SYNC_PROVIDER_MANUAL",
        "syncType": "SYNC_TYPE_INCREMENTAL",
        "manual": {"content": base64.b64encode(OFX_SGML).decode(), "accountName": "Giro"},
    }
    info = await worker.finish("sync-a", payload)
    assert info.state == env.JOB_STATE_COMPLETED, info.failed_reason
    result = fr.TransactionSyncResult()
    assert info.result.Unpack(result)
    assert (result.account_id, result.transactions_processed, result.new_transactions) == (account_id, 4, 4)
    event = await worker.event("transaction_sync_completed", "sync-a")
    assert event["service"] == "worker-financial" and "timestamp" in event
    assert {k: event["data"][k] for k in ("accountId", "transactionsProcessed", "newTransactions")} == {
        "accountId": account_id,
        "transactionsProcessed": 4,
        "newTransactions": 4,
    }

    again = await worker.finish("sync-b", payload)
    assert again.state == env.JOB_STATE_COMPLETED, again.failed_reason
    event = await worker.event("transaction_sync_completed", "sync-b")
    assert (event["data"]["transactionsProcessed"], event["data"]["newTransactions"]) == (4, 0)
    assert await ledger.count_transactions(account_id) == 4


def gocardless_payload(account_id: str) -> dict[str, Any]:
    return {
        "id": "sync_gc",
        "accountId": account_id,
        "provider": "SYNC_PROVIDER_GOCARDLESS",
        "syncType": "SYNC_TYPE_FULL",
    }


async def test_an_account_the_bank_does_not_know_fails_once_as_bad_input(
    worker: Worker, account_id: str
) -> None:
    info = await worker.finish("sync-gc", gocardless_payload(account_id), attempts=3)
    assert info.state == env.JOB_STATE_FAILED
    assert info.attempts_made == 1  # not retried: the same input fails the same way
    assert [e.error_type for e in info.errors] == ["UnknownAccountError"]
    assert f"gocardless has no account '{account_id}'" in info.failed_reason


async def test_a_429_is_retried_after_its_reset_and_then_imports(
    worker: Worker, gocardless_server: FakeGoCardless, ledger: Ledger, account_id: str
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    gocardless_server.throttle_next(1, reset_s=1)  # the first account data call (details) gets 429
    info = await worker.finish("sync-429", gocardless_payload(account_id), attempts=3)
    assert info.state == env.JOB_STATE_COMPLETED, info.failed_reason
    assert info.attempts_made == 2
    assert [e.error_type for e in info.errors] == ["RateLimitedError"]
    assert "HTTP 429" in info.errors[0].message and "RetryAfterError" in info.errors[0].error_bases
    event = await worker.event("transaction_sync_completed", "sync-429")
    assert (event["data"]["transactionsProcessed"], event["data"]["newTransactions"]) == (5, 5)
    assert await ledger.count_transactions(account_id) == 5


async def test_a_manual_sync_without_its_statement_is_refused_at_submission(worker: Worker) -> None:
    job = json_format.ParseDict(
        {
            "transactionSync": {
                "accountId": "acc_x",
                "provider": "SYNC_PROVIDER_MANUAL",
                "syncType": "SYNC_TYPE_FULL",
            }
        },
        env.JobPayload(),
    )
    with pytest.raises(InvalidArgumentError) as refused:
        await worker.broker.manager.add_job(TRANSACTION_SYNC, job)
    assert [v.field for v in refused.value.violations] == ["payload.transaction_sync.manual"]


async def dead_letters_of(address: str, count: int) -> dict[str, Any]:
    """Job id -> dead letter, once dlq-svc holds `count` of them."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = dlq_grpc.DeadLetterServiceStub(channel)

        async def all_in() -> bool:
            stats = await stub.GetDeadLetterStats(dlq_pb.GetDeadLetterStatsRequest())
            return bool(stats.stats.total >= count)

        await wait_until(all_in, within=90.0, every=0.2)
        page = await stub.ListDeadLetters(dlq_pb.ListDeadLettersRequest(page_size=100))
        return {d.failed_job.job_id: d for d in page.dead_letters}


async def test_failed_syncs_reach_dlq_svc_filed_as_validation_or_rate_limit(
    worker: Worker, gocardless_server: FakeGoCardless, redis_url: str, queue_prefix: str, account_id: str
) -> None:
    dlq = ServiceProcess(
        SPECS["dlq_svc"],
        redis_url,
        {"QUEUE_PREFIX": queue_prefix, "DLQ_RETRY_DELAY": "1h", "JOBMESH_RECLAIM_MS": "1000"},
    ).start()
    try:
        await asyncio.to_thread(wait_for, [dlq], "SERVING", 60.0)
        unknown = await worker.finish("dlq-unknown", gocardless_payload(account_id), attempts=3)
        inverted = {
            **gocardless_payload(account_id),
            "syncType": "SYNC_TYPE_SPECIFIC",
            "dateRange": {"from": "2024-03-31T00:00:00Z", "to": "2024-03-01T00:00:00Z"},
        }
        backwards = await worker.finish("dlq-inverted", inverted, attempts=3, unchecked=True)
        limited_account = f"{account_id}_limited"
        gocardless_server.accounts[limited_account] = march_account()
        gocardless_server.throttle_next(2, reset_s=1)
        limited = await worker.finish("dlq-429", gocardless_payload(limited_account), attempts=2)
        assert [i.attempts_made for i in (unknown, backwards, limited)] == [1, 1, 2]
        letters = await dead_letters_of(dlq.address, 3)
    finally:
        dlq.close()
    filed = {
        job_id: (cpb.ErrorCategory.Name(d.category), [e.error_type for e in d.failed_job.errors])
        for job_id, d in letters.items()
    }
    assert filed == {
        "dlq-unknown": ("ERROR_CATEGORY_VALIDATION", ["UnknownAccountError"]),
        "dlq-inverted": ("ERROR_CATEGORY_VALIDATION", ["SyncInputError"]),
        "dlq-429": ("ERROR_CATEGORY_RATE_LIMIT", ["RateLimitedError", "RateLimitedError"]),
    }
    assert gocardless_server.calls("/transactions/") == 0  # the inverted range never reached the bank
