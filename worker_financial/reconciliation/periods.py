"""Which days a reconciliation covers, by its type.

The day a job belongs to is the UTC date of its `timestamp` (when the
producer set one; else the day it runs), so a job that waits in its queue
over midnight, or is delivered again the next day, still reconciles the
period it was sent for:

- daily: the day before (the last complete day);
- weekly: the seven days before (what the Monday schedule sends: Monday to
  Sunday of the week before);
- monthly: the calendar month before;
- manual: the job's `date_range` (UTC dates, inclusive), else the account's
  whole history up to and including the job's day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj

TYPE_NAMES = {
    fj.RECONCILIATION_TYPE_DAILY: "daily",
    fj.RECONCILIATION_TYPE_WEEKLY: "weekly",
    fj.RECONCILIATION_TYPE_MONTHLY: "monthly",
    fj.RECONCILIATION_TYPE_MANUAL: "manual",
}


class ReconciliationInputError(ValueError):
    """The job asks for something no run can do (a missing field, an unknown account, an inverted
    range, no balance to reconcile against). A ValueError: the task never retries it, and the
    DLQ files it under validation."""


@dataclass(frozen=True, slots=True)
class Period:
    """Inclusive calendar dates; `start` None means from the account's first transaction."""

    start: date | None
    end: date


def job_day(job: fj.AccountReconciliationJob) -> date:
    if job.HasField("timestamp"):
        return job.timestamp.ToDatetime(tzinfo=UTC).date()
    return datetime.now(UTC).date()


def period_of(job: fj.AccountReconciliationJob) -> Period:
    """The period `job` reconciles (see the module docstring)."""
    day = job_day(job)
    if job.reconciliation_type == fj.RECONCILIATION_TYPE_DAILY:
        yesterday = day - timedelta(days=1)
        return Period(yesterday, yesterday)
    if job.reconciliation_type == fj.RECONCILIATION_TYPE_WEEKLY:
        return Period(day - timedelta(days=7), day - timedelta(days=1))
    if job.reconciliation_type == fj.RECONCILIATION_TYPE_MONTHLY:
        last = day.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last)
    if job.reconciliation_type == fj.RECONCILIATION_TYPE_MANUAL:
        if not job.HasField("date_range"):
            return Period(None, day)
        start = job.date_range.start.ToDatetime(tzinfo=UTC).date()
        end = job.date_range.end.ToDatetime(tzinfo=UTC).date()
        if end < start:
            raise ReconciliationInputError(f"date_range ends ({end}) before it starts ({start})")
        return Period(start, end)
    raise ReconciliationInputError("reconciliation_type is required: daily, weekly, monthly or manual")
