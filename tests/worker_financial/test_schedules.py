"""worker-financial's four schedules send what the README says, on SQLite and PostgreSQL: a daily
`incremental` sync and a weekly reconciliation per linked account (never a manual one), a
`monthly_summary` of the month before, a `hybrid` categorization of the uncategorized transactions;
each fan-out job's id is schedule + slot + account, so a slot's fan-out is exactly once too."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from queue_system.broker import JobBroker
from queue_system.catalog import (
    ACCOUNT_RECONCILIATION,
    CATEGORIZATION,
    FINANCIAL_QUEUES,
    REPORT_GENERATION,
    TRANSACTION_SYNC,
)
from queue_system.scheduler import Scheduler, slot_job_id
from queue_system.settings import Settings
from worker_financial.ledger.entries import NewAccount, NewTransaction
from worker_financial.ledger.store import Ledger
from worker_financial.schedules import financial_scheduler, month_before


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def broker(
    make_settings: Callable[..., Settings], redis_client: aioredis.Redis
) -> AsyncIterator[JobBroker]:
    b = JobBroker(make_settings(), service="worker-financial", queues=FINANCIAL_QUEUES, keep_results=False)
    await b.startup()
    yield b
    await b.shutdown()


async def jobs_of(broker: JobBroker, queue: str) -> dict[str, env.Job]:
    waiting, _ = await broker.manager.list_jobs(queue, env.JOB_STATE_WAITING, page_size=1000)
    return {info.job.id: info.job for info in waiting}


async def test_each_slot_sends_the_jobs_the_readme_names(broker: JobBroker, ledger: Ledger) -> None:
    tag = uuid.uuid4().hex[:8]
    gc, api, manual = f"gc_{tag}", f"api_{tag}", f"man_{tag}"
    for account, provider in ((gc, "gocardless"), (api, "api"), (manual, "manual")):
        await ledger.open_account(NewAccount(id=account, name=account, currency="GBP", provider=provider))
    await ledger.record(
        manual,
        [
            NewTransaction(
                booking_date=date(2026, 2, 2), amount=Decimal("-4.20"), currency="GBP", payee="Cafe"
            )
        ],
    )
    uncategorized = {str(i) for i in await ledger.uncategorized_transaction_ids()}
    assert uncategorized

    # Monday 1 March 2027: every one of the four crons has a slot that day (London is on GMT).
    clock = Clock(datetime(2027, 3, 1, 5, 30, tzinfo=UTC))
    scheduler: Scheduler = financial_scheduler(broker, ledger, "Europe/London", 4 * 3600)
    scheduler.clock = clock
    try:
        await check_the_slots(broker, scheduler, clock, (gc, api, manual), uncategorized)
    finally:
        await scheduler.shutdown()


async def check_the_slots(
    broker: JobBroker,
    scheduler: Scheduler,
    clock: Clock,
    accounts: tuple[str, str, str],
    uncategorized: set[str],
) -> None:
    gc, api, manual = accounts
    await scheduler.load()
    await scheduler.tick()  # the schedules start
    clock.now = datetime(2027, 3, 1, 9, 0, 30, tzinfo=UTC)
    await scheduler.tick()

    six, eight, nine = (datetime(2027, 3, 1, h, tzinfo=UTC) for h in (6, 8, 9))
    syncs = await jobs_of(broker, TRANSACTION_SYNC)
    for account, provider in ((gc, fj.SYNC_PROVIDER_GOCARDLESS), (api, fj.SYNC_PROVIDER_API)):
        job = syncs[slot_job_id("daily-sync", six, account)].payload.transaction_sync
        assert (job.account_id, job.provider, job.sync_type) == (account, provider, fj.SYNC_TYPE_INCREMENTAL)
    assert all(j.payload.transaction_sync.account_id != manual for j in syncs.values())

    reconciliations = await jobs_of(broker, ACCOUNT_RECONCILIATION)
    for account in (gc, api):
        job = reconciliations[slot_job_id("weekly-reconciliation", eight, account)].payload
        assert job.account_reconciliation.reconciliation_type == fj.RECONCILIATION_TYPE_WEEKLY
        assert not job.account_reconciliation.HasField("target_balance")
    assert all(j.payload.account_reconciliation.account_id != manual for j in reconciliations.values())

    reports = await jobs_of(broker, REPORT_GENERATION)
    report = reports[slot_job_id("monthly-report", nine, "")].payload.report_generation
    assert report.report_type == fj.REPORT_TYPE_MONTHLY_SUMMARY
    span = report.parameters.date_range
    assert (span.start.ToDatetime(), span.end.ToDatetime()) == (
        datetime(2027, 2, 1),
        datetime(2027, 2, 28, 23, 59, 59),
    )

    categorizations = await jobs_of(broker, CATEGORIZATION)
    sent = {
        tid
        for job_id, job in categorizations.items()
        if job_id.startswith(slot_job_id("hourly-categorization", six, ""))
        for tid in job.payload.categorization.transaction_ids
    }
    assert uncategorized <= sent
    assert all(
        j.payload.categorization.method == fj.CATEGORIZATION_METHOD_HYBRID for j in categorizations.values()
    )
    # three hourly slots fired (06:00 was running no worker, so 07:00 and 08:00 were skipped and counted)
    state = await scheduler.state(scheduler.get("hourly-categorization"))
    assert state.counts["fired"] + state.counts["skipped"] == 4


def test_the_month_before_is_read_in_the_schedules_zone() -> None:
    # 1 January 09:00 in Auckland is still 31 December in UTC: the report is of December.
    slot = datetime(2025, 12, 31, 20, tzinfo=UTC)
    span = month_before(slot, ZoneInfo("Pacific/Auckland"))
    assert (span.start.ToDatetime(), span.end.ToDatetime()) == (
        datetime(2025, 12, 1),
        datetime(2025, 12, 31, 23, 59, 59),
    )
