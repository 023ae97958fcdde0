"""worker-financial's transaction-sync and categorization end to end: jobs through the real queue,
run by the real tasks in-process (JobBroker + JobReceiver), against the ledger on SQLite and
PostgreSQL. The result stays with the job, `transaction_sync_completed` / `categorization_completed`
go out on `financial:events` in the seed's shape, and a job this worker cannot do fails once, named,
not retried, and is classified as validation."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from google.protobuf import json_format

from dlq_svc.classification import Failure, categorize
from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from jobmesh.queue.v1 import queue_pb2
from queue_system.broker import JobBroker
from queue_system.catalog import CATEGORIZATION, FINANCIAL_EVENTS_CHANNEL, FINANCIAL_QUEUES, TRANSACTION_SYNC
from queue_system.errors import InvalidArgumentError
from queue_system.receiver import JobReceiver
from queue_system.settings import Settings
from tests.queue_system.conftest import wait_until
from tests.worker_financial.categorization.labelled import labelled_set
from tests.worker_financial.sync.statements import OFX_SGML
from worker_financial.ledger.entries import CategoryAssignment, NewAccount
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
        self, job_id: str, payload: dict[str, Any], attempts: int = 1, queue: str = TRANSACTION_SYNC
    ) -> queue_pb2.JobInfo:
        """Enqueue a job (a transaction-sync unless `queue` says otherwise) and wait until it
        completes or fails for good."""
        manager = self.broker.manager
        kind = {TRANSACTION_SYNC: "transactionSync", CATEGORIZATION: "categorization"}[queue]
        job = json_format.ParseDict({kind: payload}, env.JobPayload())
        await manager.add_job(queue, job, env.JobOptions(job_id=job_id, attempts=attempts))

        async def done() -> bool:
            info = await manager.get_job(queue, job_id)
            return info.state in (env.JOB_STATE_COMPLETED, env.JOB_STATE_FAILED)

        await wait_until(done, within=WITHIN)
        return await manager.get_job(queue, job_id)

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
    make_settings: Callable[..., Settings], redis_client: aioredis.Redis, ledger: Ledger
) -> AsyncIterator[Worker]:
    events = redis_client.pubsub()
    await events.subscribe(FINANCIAL_EVENTS_CHANNEL)  # before any job runs: pub/sub keeps nothing
    broker = JobBroker(make_settings(), service="worker-financial", queues=FINANCIAL_QUEUES)
    register_tasks(broker, ledger)
    await broker.startup()
    receiver = JobReceiver(broker)
    await receiver.start()
    try:
        yield Worker(broker, events)
    finally:
        await receiver.stop(1)
        await broker.shutdown()
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


async def test_a_provider_not_built_yet_fails_once_as_bad_input(worker: Worker, account_id: str) -> None:
    payload = {
        "id": "sync_gc",
        "accountId": account_id,
        "provider": "SYNC_PROVIDER_GOCARDLESS",
        "syncType": "SYNC_TYPE_INCREMENTAL",
    }
    info = await worker.finish("sync-gc", payload, attempts=3)
    assert info.state == env.JOB_STATE_FAILED
    assert info.attempts_made == 1  # not retried: the same input fails the same way
    assert [e.error_type for e in info.errors] == ["ProviderNotBuiltError"]
    assert "provider gocardless is not built yet" in info.failed_reason


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


async def test_a_hybrid_categorization_reports_per_method_and_again_decides_the_same(
    worker: Worker, ledger: Ledger, account_id: str
) -> None:
    items = labelled_set(200, seed=21)
    await ledger.open_account(NewAccount(account_id, "Giro", "EUR", "manual"))
    await ledger.record(account_id, [item.transaction for item in items])
    records = await ledger.transactions(account_id)
    category = {item.transaction.provider_transaction_id: item.category for item in items}
    history, fresh = records[:150], records[150:]
    await ledger.assign_categories(
        [CategoryAssignment(r.id, category[r.provider_transaction_id], "manual") for r in history]
    )
    rule = {
        "category": "coffee",
        "conditions": [
            {"field": "RULE_FIELD_PAYEE", "operator": "RULE_OPERATOR_CONTAINS", "value": "starbucks"}
        ],
    }
    payload = {
        "id": "cat_1",
        "transactionIds": [str(r.id) for r in fresh],
        "method": "CATEGORIZATION_METHOD_HYBRID",
        "options": {"confidence": 0.6},
        "rules": [rule],
    }
    info = await worker.finish("cat-a", payload, queue=CATEGORIZATION)
    assert info.state == env.JOB_STATE_COMPLETED, info.failed_reason
    result = fr.CategorizationResult()
    assert info.result.Unpack(result)
    coffees = sum(1 for r in fresh if "starbucks" in r.payee.casefold())
    assert result.transactions_processed == len(fresh) == 50
    assert result.categorized_by_rules == coffees > 0
    assert result.categorized_by_rules + result.categorized_by_model + result.left_for_review == len(fresh)
    assert result.categorized_by_model > 0 and result.training_transactions >= 150
    event = await worker.event("categorization_completed", "cat-a")
    assert event["service"] == "worker-financial" and "timestamp" in event
    assert event["data"] == {
        "@type": "type.googleapis.com/jobmesh.events.v1.CategorizationCompleted",
        "jobId": "cat-a",
        "method": "hybrid",
        "transactionsProcessed": 50,
        "categorized": result.categorized_by_rules + result.categorized_by_model,
        "categorizedByRules": result.categorized_by_rules,
        "categorizedByModel": result.categorized_by_model,
        "leftForReview": result.left_for_review,
    }
    state = [(r.category, r.category_method, r.needs_review) for r in await ledger.transactions(account_id)]

    again = await worker.finish("cat-b", payload, queue=CATEGORIZATION)
    assert again.state == env.JOB_STATE_COMPLETED, again.failed_reason
    second = fr.CategorizationResult()
    assert again.result.Unpack(second)
    assert second == result  # the model learns from what people categorized, never from a run's writes
    assert [
        (r.category, r.category_method, r.needs_review) for r in await ledger.transactions(account_id)
    ] == state


async def test_a_categorization_it_cannot_do_fails_once_as_validation(worker: Worker) -> None:
    payload = {"id": "cat_bad", "method": "CATEGORIZATION_METHOD_RULES"}  # rules, but no rule
    info = await worker.finish("cat-bad", payload, attempts=3, queue=CATEGORIZATION)
    assert info.state == env.JOB_STATE_FAILED
    assert info.attempts_made == 1  # not retried: the same input fails the same way
    [error] = info.errors
    assert error.error_type == "CategorizationInputError"
    assert "method rules needs at least one rule" in info.failed_reason
    failure = Failure(error.error_type, error.message, 0, tuple(error.error_bases))
    assert categorize(failure) == cpb.ERROR_CATEGORY_VALIDATION


async def test_a_rule_with_a_bad_regex_is_refused_at_submission(worker: Worker) -> None:
    job = json_format.ParseDict(
        {
            "categorization": {
                "method": "CATEGORIZATION_METHOD_RULES",
                "rules": [
                    {
                        "category": "x",
                        "conditions": [
                            {
                                "field": "RULE_FIELD_PAYEE",
                                "operator": "RULE_OPERATOR_REGEX",
                                "value": "(unclosed",
                            }
                        ],
                    }
                ],
            }
        },
        env.JobPayload(),
    )
    with pytest.raises(InvalidArgumentError) as refused:
        await worker.broker.manager.add_job(CATEGORIZATION, job)
    assert [v.field for v in refused.value.violations] == [
        "payload.categorization.rules[0].conditions[0].value"
    ]
