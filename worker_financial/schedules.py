"""worker-financial's four cron schedules (the seed's), and which jobs each slot sends.

The seed names the crons, not their payloads; these are ours (README, "Schedules"):

- `daily-sync`, `0 6 * * *`: one `incremental` transaction-sync per linked account (an account
  whose provider is not `manual`: a manual account has nothing to pull);
- `weekly-reconciliation`, `0 8 * * 1`: one `weekly` reconciliation per linked account against the
  provider's reported balance (no target; a manual account reports none), threshold 0;
- `monthly-report`, `0 9 1 * *`: one `monthly_summary` (PDF) of the calendar month before the slot's;
- `hourly-categorization`, `0 * * * *`: a `hybrid` categorization of the uncategorized
  transactions, 500 a job (none when there are none).

Every process of the service runs the scheduler (queue_system.scheduler); the replicas decide each
slot once between them, and each job's id is `<schedule>.<slot, UTC>.<account or part>`, so a
slot's fan-out is exactly once as well. Schedules are declared the taskiq way, as `ScheduledTask`s
of a ScheduleSource; their zone is JOBMESH_SCHEDULE_TZ (default UTC). Schedules added at run time
(taskiq-redis's source, queue_system.scheduler.added_schedules) run beside them.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from google.protobuf import struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from taskiq.abc.schedule_source import ScheduleSource
from taskiq.scheduler.scheduled_task import ScheduledTask

from jobmesh.jobs.v1 import common_pb2
from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from queue_system.broker import JobBroker
from queue_system.catalog import ACCOUNT_RECONCILIATION, CATEGORIZATION, REPORT_GENERATION, TRANSACTION_SYNC
from queue_system.scheduler import Planned, Planner, Scheduler, added_schedules
from worker_financial.ledger.store import Ledger

log = logging.getLogger(__name__)

DAILY_SYNC: Final = "daily-sync"
WEEKLY_RECONCILIATION: Final = "weekly-reconciliation"
MONTHLY_REPORT: Final = "monthly-report"
HOURLY_CATEGORIZATION: Final = "hourly-categorization"

# name -> (cron, queue): the seed's crons.
CRONS: Final = {
    DAILY_SYNC: ("0 6 * * *", TRANSACTION_SYNC),
    WEEKLY_RECONCILIATION: ("0 8 * * 1", ACCOUNT_RECONCILIATION),
    MONTHLY_REPORT: ("0 9 1 * *", REPORT_GENERATION),
    HOURLY_CATEGORIZATION: ("0 * * * *", CATEGORIZATION),
}
# A scheduled reconciliation passes only when the ledger and the provider agree to the cent.
RECONCILIATION_THRESHOLD: Final = "0"
# Transactions per scheduled categorization job.
CATEGORIZE_PER_JOB: Final = 500
_PROVIDERS: Final = {
    "gocardless": fj.SYNC_PROVIDER_GOCARDLESS,
    "api": fj.SYNC_PROVIDER_API,
}


class FinancialSchedules(ScheduleSource):
    """The four schedules as a taskiq ScheduleSource: `ScheduledTask`s whose `cron_offset` is the
    zone and whose labels carry the queue, the overlap policy and the catch-up window."""

    def __init__(self, zone: str, catchup_s: float) -> None:
        self.tasks = [
            ScheduledTask(
                task_name=queue,
                labels={"queue": queue, "overlap": "skip", "catchup_s": catchup_s},
                args=[],
                kwargs={},
                schedule_id=name,
                cron=cron,
                cron_offset=zone,
            )
            for name, (cron, queue) in CRONS.items()
        ]

    async def get_schedules(self) -> list[ScheduledTask]:
        return list(self.tasks)


def _stamp(t: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(t)
    return out


def month_before(slot: datetime, zone: ZoneInfo) -> common_pb2.DateRange:
    """The calendar month before the slot's (read in the schedule's zone), as whole UTC days:
    from its first day 00:00:00 to its last day 23:59:59 (a closed range of booking dates)."""
    local = slot.astimezone(zone)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    last = calendar.monthrange(year, month)[1]
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year, month, last, tzinfo=UTC) + timedelta(days=1) - timedelta(seconds=1)
    return common_pb2.DateRange(start=_stamp(start), end=_stamp(end))


def planners(ledger: Ledger, zone: ZoneInfo) -> dict[str, Planner]:
    """What each schedule's slot sends, read from the ledger at the slot."""

    async def daily_sync(slot: datetime) -> Sequence[Planned]:
        out = []
        for account in await ledger.linked_accounts():
            provider = _PROVIDERS.get(account.provider)
            if provider is None:
                log.warning("daily-sync: account %s: no sync for provider %r", account.id, account.provider)
                continue
            job = fj.TransactionSyncJob(
                timestamp=_stamp(slot),
                account_id=account.id,
                provider=provider,
                sync_type=fj.SYNC_TYPE_INCREMENTAL,
            )
            out.append(Planned(job, account.id))
        return out

    async def weekly_reconciliation(slot: datetime) -> Sequence[Planned]:
        return [
            Planned(
                fj.AccountReconciliationJob(
                    timestamp=_stamp(slot),
                    account_id=account.id,
                    reconciliation_type=fj.RECONCILIATION_TYPE_WEEKLY,
                    discrepancy_threshold=struct_pb2.Value(string_value=RECONCILIATION_THRESHOLD),
                ),
                account.id,
            )
            for account in await ledger.linked_accounts()
        ]

    async def monthly_report(slot: datetime) -> Sequence[Planned]:
        job = fj.ReportGenerationJob(
            timestamp=_stamp(slot),
            report_type=fj.REPORT_TYPE_MONTHLY_SUMMARY,
            format=fj.REPORT_FORMAT_PDF,
            parameters=fj.ReportParameters(date_range=month_before(slot, zone)),
        )
        return [Planned(job)]

    async def hourly_categorization(slot: datetime) -> Sequence[Planned]:
        ids = [str(i) for i in await ledger.uncategorized_transaction_ids()]
        return [
            Planned(
                fj.CategorizationJob(
                    timestamp=_stamp(slot),
                    transaction_ids=ids[start : start + CATEGORIZE_PER_JOB],
                    method=fj.CATEGORIZATION_METHOD_HYBRID,
                ),
                f"part{start // CATEGORIZE_PER_JOB + 1}",
            )
            for start in range(0, len(ids), CATEGORIZE_PER_JOB)
        ]

    return {
        DAILY_SYNC: daily_sync,
        WEEKLY_RECONCILIATION: weekly_reconciliation,
        MONTHLY_REPORT: monthly_report,
        HOURLY_CATEGORIZATION: hourly_categorization,
    }


def financial_scheduler(broker: JobBroker, ledger: Ledger, zone: str, catchup_s: float) -> Scheduler:
    """The scheduler every worker-financial process runs."""
    tz = ZoneInfo(zone)
    sources = [FinancialSchedules(zone, catchup_s), added_schedules(broker.settings)]
    return Scheduler(broker, sources, planners=planners(ledger, tz), zone=tz)
