"""The transaction-sync processor: one account's transactions from its provider into the ledger.

Built so far: the `manual` provider (a statement file, sync/manual.py).
`gocardless` and `api` fail as input errors naming what is missing, never as
a quiet success that imported nothing.

What a sync imports: every transaction of the statement for `full` and
`incremental` (the ledger's dedupe makes the overlap with earlier imports
harmless), and for `specific` those booked within `date_range`; a
`date_range` given with the other types bounds them the same way. Dates of
the range are taken in UTC. Re-running a sync never duplicates a
transaction; the account's sync cursor moves to the last booked date seen.
"""

from __future__ import annotations

from datetime import UTC, date

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from worker_financial.ledger.entries import NewAccount, NewTransaction
from worker_financial.ledger.store import Ledger
from worker_financial.sync.errors import ProviderNotBuiltError, SyncInputError
from worker_financial.sync.manual import read_statement

PROVIDER_NAMES = {
    fj.SYNC_PROVIDER_GOCARDLESS: "gocardless",
    fj.SYNC_PROVIDER_MANUAL: "manual",
    fj.SYNC_PROVIDER_API: "api",
}


def date_bounds(job: fj.TransactionSyncJob) -> tuple[date, date] | None:
    """The job's date_range as calendar dates (UTC), or None when it has none."""
    if not job.HasField("date_range"):
        if job.sync_type == fj.SYNC_TYPE_SPECIFIC:
            raise SyncInputError("date_range is required when sync_type is specific")
        return None
    start = job.date_range.start.ToDatetime(tzinfo=UTC).date()
    end = job.date_range.end.ToDatetime(tzinfo=UTC).date()
    if end < start:
        raise SyncInputError(f"date_range ends ({end}) before it starts ({start})")
    return start, end


def _check(job: fj.TransactionSyncJob) -> str:
    """The provider's name, once the job asks for something this worker can do."""
    if not job.account_id:
        raise SyncInputError("account_id is required")
    if job.sync_type == fj.SYNC_TYPE_UNSPECIFIED:
        raise SyncInputError("sync_type is required: full, incremental or specific")
    provider = PROVIDER_NAMES.get(job.provider)
    if provider is None:
        raise SyncInputError("provider is required: gocardless, manual or api")
    if provider != "manual":
        raise ProviderNotBuiltError(
            f"provider {provider} is not built yet: transaction-sync imports manual statements "
            "(OFX/QFX/CSV in the job's `manual`) only so far"
        )
    if not job.HasField("manual"):
        raise SyncInputError("manual is required when provider is manual: the statement to import")
    return provider


async def sync_transactions(job: fj.TransactionSyncJob, ledger: Ledger) -> fr.TransactionSyncResult:
    """Run one transaction-sync job against `ledger` and say what it did."""
    provider = _check(job)
    bounds = date_bounds(job)
    account = await ledger.account(job.account_id)
    kind, statement = read_statement(job.manual, account.currency if account is not None else None)
    if account is None:
        currency = (statement.currency or job.manual.currency).upper()
        account = await ledger.open_account(
            NewAccount(
                id=job.account_id,
                name=job.manual.account_name or job.account_id,
                currency=currency,
                provider=provider,
                external_id=statement.account_number,
            )
        )
    elif statement.currency and statement.currency.upper() != account.currency:
        raise SyncInputError(
            f"the statement is in {statement.currency}, account {account.id} in {account.currency}"
        )
    entries: list[NewTransaction] = [
        entry
        for entry in statement.transactions
        if bounds is None or bounds[0] <= entry.booking_date <= bounds[1]
    ]
    recorded = await ledger.record(account.id, entries)
    booked = [entry.booking_date for entry in entries if entry.booked]
    if booked:
        await ledger.advance_cursor(account.id, provider, max(booked))
    dates = sorted(entry.booking_date for entry in entries)
    balance = statement.closing_balance
    return fr.TransactionSyncResult(
        account_id=account.id,
        provider=job.provider,
        sync_type=job.sync_type,
        transactions_processed=recorded.processed,
        new_transactions=recorded.new,
        duplicates=recorded.duplicates,
        first_booking_date=dates[0].isoformat() if dates else "",
        last_booking_date=dates[-1].isoformat() if dates else "",
        format=kind,
        statement_balance=format(balance, "f") if balance is not None else "",
    )
