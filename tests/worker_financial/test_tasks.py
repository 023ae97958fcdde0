"""worker-financial's tasks end to end: jobs through the real queue, run by the real tasks
in-process (JobBroker + JobReceiver), against the ledger on SQLite and PostgreSQL. The result
stays with the job, each task's event goes out on `financial:events` in the seed's shape, and a
job this worker cannot do fails once, named, is not retried, and its dead letter classifies as
validation (dlq_svc's own classifier reading the queue's dead-letter stream).
GoCardless jobs go to a local GoCardless-shaped server: a 429 is retried after its reset; a
failed sync reaches dlq-svc (a real process) filed under the category its error deserves."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from bench.bank_servers import FakeGoCardless
from bench.labelled_transactions import labelled_set
from dlq_svc.classification import classify
from jobmesh.dlq.v1 import classification_pb2 as cls
from jobmesh.dlq.v1 import dead_letter_service_pb2 as dlq_pb
from jobmesh.dlq.v1 import dead_letter_service_pb2_grpc as dlq_grpc
from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from jobmesh.jobs.v1.common_pb2 import DateRange
from jobmesh.queue.v1 import queue_pb2
from queue_system.broker import JobBroker
from queue_system.catalog import (
    ACCOUNT_RECONCILIATION,
    CATEGORIZATION,
    FINANCIAL_EVENTS_CHANNEL,
    FINANCIAL_QUEUES,
    REPORT_GENERATION,
    TRANSACTION_SYNC,
)
from queue_system.dead_letters import DeadLetterReader
from queue_system.envelope import JobRequest, envelope_bytes
from queue_system.errors import InvalidArgumentError
from queue_system.keys import NORMAL_LANE
from queue_system.queue import NewJob
from queue_system.receiver import JobReceiver
from queue_system.settings import Settings, queue_env_stem
from tests.queue_system.conftest import wait_until
from tests.service_processes import SPECS, ServiceProcess, wait_for
from tests.worker_financial.conftest import sync_settings_for
from tests.worker_financial.sync.banks import march_account
from tests.worker_financial.sync.statements import OFX_SGML
from worker_financial.ledger.entries import CategoryAssignment, NewAccount, NewTransaction
from worker_financial.ledger.store import Ledger
from worker_financial.tasks import register_tasks

WITHIN = 30.0
# Each queue's field in JobPayload's JSON.
PAYLOAD_KEYS = {
    TRANSACTION_SYNC: "transactionSync",
    ACCOUNT_RECONCILIATION: "accountReconciliation",
    REPORT_GENERATION: "reportGeneration",
    CATEGORIZATION: "categorization",
}


class Worker:
    """worker-financial's tasks on the test's prefix, and what they announce."""

    def __init__(self, broker: JobBroker, events: aioredis.client.PubSub) -> None:
        self.broker = broker
        self.events = events
        self.seen: list[dict[str, Any]] = []

    async def finish(
        self, job_id: str, payload: dict[str, Any], attempts: int = 1, queue: str = TRANSACTION_SYNC
    ) -> queue_pb2.JobInfo:
        """Enqueue a job (`payload` as JobPayload JSON, {"transactionSync": {...}}, or the bare job
        of `queue`) and wait until it completes or fails for good."""
        manager = self.broker.manager
        kind = PAYLOAD_KEYS[queue]
        wrapped = payload if kind in payload else {kind: payload}
        job = json_format.ParseDict(wrapped, env.JobPayload())
        await manager.add_job(queue, job, env.JobOptions(job_id=job_id, attempts=attempts))
        return await self.settled(queue, job_id)

    async def settled(self, queue: str, job_id: str) -> queue_pb2.JobInfo:
        manager = self.broker.manager

        async def done() -> bool:
            info = await manager.get_job(queue, job_id)
            return info.state in (env.JOB_STATE_COMPLETED, env.JOB_STATE_FAILED)

        await wait_until(done, within=WITHIN)
        return await manager.get_job(queue, job_id)

    async def finish_unchecked(self, queue: str, job_id: str, payload: env.JobPayload) -> queue_pb2.JobInfo:
        """Add a job as a producer that skips the contract's checks would (an old client, a record
        redriven from before a contract change), so the worker's own checks are what stop it."""
        now = Timestamp()
        now.GetCurrentTime()
        options = env.JobOptions(job_id=job_id, attempts=3)
        blob = envelope_bytes(JobRequest(queue, payload, options), job_id, now)
        await self.broker.manager.queue(queue).enqueue([NewJob(job_id, blob, NORMAL_LANE, 0)], job_id, 60_000)
        return await self.settled(queue, job_id)

    async def dead_letter_category(self, queue: str, job_id: str) -> int:
        """How dlq-svc classifies the job's dead letter, read from the queue's dead-letter stream."""
        settings = self.broker.manager.settings
        reader = DeadLetterReader(self.broker.manager.client, settings.queue_prefix, [queue], "test")
        await reader.ensure_group()
        records = await reader.read(count=100, block_ms=100)
        [record] = [r for r in records if r.job_id == job_id]
        assert record.failed is not None
        return classify(record.failed)

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
    tmp_path: Path,
) -> AsyncIterator[Worker]:
    events = redis_client.pubsub()
    await events.subscribe(FINANCIAL_EVENTS_CHANNEL)  # before any job runs: pub/sub keeps nothing
    # No rate limits: the seed's (3 reports, 5 reconciliations per 5 minutes) would make tests wait.
    settings = make_settings(**{f"{queue_env_stem(q)}_RATE_LIMIT": "none" for q in FINANCIAL_QUEUES})
    broker = JobBroker(settings, service="worker-financial", queues=FINANCIAL_QUEUES)
    providers = register_tasks(
        broker, ledger, reports_dir=tmp_path / "reports", sync=sync_settings_for(gocardless_server)
    )
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


async def opened(ledger: Ledger, account_id: str) -> None:
    """An account with 100.00 to start, then -30.00 and +5.25 booked in March 2024 and -7.00 pending:
    by hand, 75.25 booked at the end of March."""
    await ledger.open_account(NewAccount(account_id, "Giro", "EUR", "manual", opening_balance=Decimal(100)))
    await ledger.record(
        account_id,
        [
            NewTransaction(date(2024, 3, 4), Decimal("-30.00"), "EUR", "Shop", provider_transaction_id="a"),
            NewTransaction(date(2024, 3, 9), Decimal("5.25"), "EUR", "Refund", provider_transaction_id="b"),
            NewTransaction(date(2024, 3, 30), Decimal("-7.00"), "EUR", "Kiosk", booked=False),
        ],
    )


def file_bytes(location: str) -> bytes:
    return Path(location).read_bytes()


MARCH = {"from": "2024-03-01T00:00:00Z", "to": "2024-03-31T00:00:00Z"}


async def test_a_reconciliation_off_by_the_pending_item_announces_its_discrepancy(
    worker: Worker, ledger: Ledger, account_id: str
) -> None:
    await opened(ledger, account_id)
    payload = {
        "accountReconciliation": {
            "id": "rec_1",
            "timestamp": "2024-04-02T08:00:00Z",
            "accountId": account_id,
            "reconciliationType": "RECONCILIATION_TYPE_MONTHLY",
            "targetBalance": "68.25",  # the bank has booked the kiosk's 7.00 already
            "discrepancyThreshold": 0.5,
        }
    }
    info = await worker.finish("rec-a", payload, queue=ACCOUNT_RECONCILIATION)
    assert info.state == env.JOB_STATE_COMPLETED, info.failed_reason
    result = fr.AccountReconciliationResult()
    assert info.result.Unpack(result)
    assert (result.expected_balance, result.discrepancy, result.passed) == ("75.25", "-7.00", False)
    assert [(i.payee, i.amount) for i in result.unmatched_ledger] == [("Kiosk", "-7.00")]
    done = await worker.event("account_reconciliation_completed", "rec-a")
    assert done["service"] == "worker-financial" and "timestamp" in done
    assert {k: done["data"][k] for k in ("accountId", "reconciliationType", "discrepancy", "passed")} == {
        "accountId": account_id,
        "reconciliationType": "monthly",
        "discrepancy": "-7.00",
        "passed": False,
    }
    alarm = await worker.event("reconciliation_discrepancy", "rec-a")
    assert {k: alarm["data"][k] for k in ("targetBalance", "expectedBalance", "unmatchedLedger")} == {
        "targetBalance": "68.25",
        "expectedBalance": "75.25",
        "unmatchedLedger": 1,
    }


async def test_a_report_job_writes_its_file_and_says_where(
    worker: Worker, ledger: Ledger, account_id: str, tmp_path: Path
) -> None:
    await opened(ledger, account_id)
    payload = {
        "reportGeneration": {
            "id": "rep_1",
            "reportType": "REPORT_TYPE_MONTHLY_SUMMARY",
            "format": "REPORT_FORMAT_JSON",
            "parameters": {"dateRange": MARCH, "filters": {"accountId": account_id}},
        }
    }
    info = await worker.finish("rep-a", payload, queue=REPORT_GENERATION)
    assert info.state == env.JOB_STATE_COMPLETED, info.failed_reason
    result = fr.ReportGenerationResult()
    assert info.result.Unpack(result)
    report = json.loads(file_bytes(result.location))
    # March, booked: 5.25 in, -30.00 out.
    assert report["totals"] == {
        "EUR": {"income": "5.25", "expenses": "-30.00", "net": "-24.75", "transactions": 2}
    }
    assert Path(result.location).is_relative_to(tmp_path / "reports")
    event = await worker.event("report_generation_completed", "rep-a")
    assert {k: event["data"][k] for k in ("reportType", "format", "location", "transactions")} == {
        "reportType": "monthly_summary",
        "format": "json",
        "location": result.location,
        "transactions": 2,
    }


async def test_an_unknown_account_fails_once_and_is_dead_lettered_as_validation(worker: Worker) -> None:
    payload = {
        "accountReconciliation": {
            "accountId": "acc_nobody_here",
            "reconciliationType": "RECONCILIATION_TYPE_DAILY",
            "targetBalance": "1",
            "discrepancyThreshold": "0",
        }
    }
    info = await worker.finish("rec-nobody", payload, attempts=3, queue=ACCOUNT_RECONCILIATION)
    assert info.state == env.JOB_STATE_FAILED and info.attempts_made == 1
    assert [e.error_type for e in info.errors] == ["ReconciliationInputError"]
    assert "unknown account 'acc_nobody_here'" in info.failed_reason
    category = await worker.dead_letter_category(ACCOUNT_RECONCILIATION, "rec-nobody")
    assert category == cls.ERROR_CATEGORY_VALIDATION

    report = {
        "reportGeneration": {
            "reportType": "REPORT_TYPE_CASH_FLOW",
            "format": "REPORT_FORMAT_CSV",
            "parameters": {"dateRange": MARCH, "filters": {"accountIds": ["acc_nobody_here"]}},
        }
    }
    info = await worker.finish("rep-nobody", report, attempts=3, queue=REPORT_GENERATION)
    assert (info.state, info.attempts_made) == (env.JOB_STATE_FAILED, 1)
    assert await worker.dead_letter_category(REPORT_GENERATION, "rep-nobody") == cls.ERROR_CATEGORY_VALIDATION


@pytest.mark.parametrize(
    ("job", "says"),
    [
        (
            fj.ReportGenerationJob(
                report_type=fj.REPORT_TYPE_PROFIT_LOSS,
                format=fj.REPORT_FORMAT_PDF,
                parameters=fj.ReportParameters(
                    date_range=json_format.ParseDict({"from": MARCH["to"], "to": MARCH["from"]}, DateRange())
                ),
            ),
            "date_range ends (2024-03-01) before it starts (2024-03-31)",
        ),
        (
            fj.ReportGenerationJob(
                report_type=fj.REPORT_TYPE_PROFIT_LOSS,
                format=7,  # type: ignore[arg-type]
                parameters=fj.ReportParameters(date_range=json_format.ParseDict(MARCH, DateRange())),
            ),
            "unknown format 7",
        ),
    ],
)
async def test_a_report_job_the_contract_would_refuse_fails_as_validation_in_the_worker_too(
    worker: Worker, job: fj.ReportGenerationJob, says: str
) -> None:
    info = await worker.finish_unchecked(
        REPORT_GENERATION, "rep-unchecked", env.JobPayload(report_generation=job)
    )
    assert (info.state, info.attempts_made) == (env.JOB_STATE_FAILED, 1)
    assert says in info.failed_reason
    assert [e.error_type for e in info.errors] == ["ReportInputError"]
    assert (
        await worker.dead_letter_category(REPORT_GENERATION, "rep-unchecked") == cls.ERROR_CATEGORY_VALIDATION
    )


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
    assert await worker.dead_letter_category(CATEGORIZATION, "cat-bad") == cls.ERROR_CATEGORY_VALIDATION


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
        backwards = await worker.finish_unchecked(
            TRANSACTION_SYNC,
            "dlq-inverted",
            json_format.ParseDict({"transactionSync": inverted}, env.JobPayload()),
        )
        limited_account = f"{account_id}_limited"
        gocardless_server.accounts[limited_account] = march_account()
        gocardless_server.throttle_next(2, reset_s=1)
        limited = await worker.finish("dlq-429", gocardless_payload(limited_account), attempts=2)
        assert [i.attempts_made for i in (unknown, backwards, limited)] == [1, 1, 2]
        letters = await dead_letters_of(dlq.address, 3)
    finally:
        dlq.close()
    filed = {
        job_id: (cls.ErrorCategory.Name(d.category), [e.error_type for e in d.failed_job.errors])
        for job_id, d in letters.items()
    }
    assert filed == {
        "dlq-unknown": ("ERROR_CATEGORY_VALIDATION", ["UnknownAccountError"]),
        "dlq-inverted": ("ERROR_CATEGORY_VALIDATION", ["SyncInputError"]),
        "dlq-429": ("ERROR_CATEGORY_RATE_LIMIT", ["RateLimitedError", "RateLimitedError"]),
    }
    assert gocardless_server.calls("/transactions/") == 0  # the inverted range never reached the bank
