"""The transaction-sync processor: one account's transactions from its provider into the ledger.

Providers: `manual` (a statement file in the job, sync/manual.py), `gocardless`
(GoCardless Bank Account Data, sync/gocardless.py) and `api` (a JSON-over-HTTP
service, sync/api.py). A network provider's account is the ledger account of
the job's `account_id`; one the ledger does not hold yet is looked up at the
provider by that id (its id there) and opened with the currency and name the
provider gives; an id the provider does not know fails as an input error.

Which dates a sync asks for:
- `full`: everything the provider has (bounded by `date_range` when the job gives one);
- `incremental`: from the last booked date the ledger has from this provider minus
  TRANSACTION_SYNC_OVERLAP_DAYS (default 3: banks book late), up to today, or
  within `date_range` when the job gives one; with nothing synced yet, as `full`;
- `specific`: exactly `date_range` (required; an inverted range is an input error).
Dates of the range are taken in UTC. For `manual` the statement is what it is:
every transaction of it, bounded by `date_range` the same way.

Re-running a sync never duplicates a transaction (the ledger dedupes by the
provider's id, else a fingerprint), and a pending transaction later booked is
replaced by its booked self (Ledger.record_synced). The account's sync cursor
moves to the last booked date seen.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from worker_financial.ledger.entries import AccountRecord, NewAccount, NewTransaction
from worker_financial.ledger.store import Ledger
from worker_financial.sync.errors import ProviderNotConfiguredError, SyncInputError
from worker_financial.sync.manual import read_statement
from worker_financial.sync.provider import Provider, ReportedBalance
from worker_financial.sync.providers import Providers

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
    if provider == "manual" and not job.HasField("manual"):
        raise SyncInputError("manual is required when provider is manual: the statement to import")
    return provider


def network_provider(name: str, providers: Providers | None) -> Provider:
    """The process's provider `name` (gocardless, api); ProviderNotConfiguredError without one."""
    provider = providers.get(name) if providers is not None else None
    if provider is None:
        raise ProviderNotConfiguredError(f"this worker has no {name} provider configured")
    return provider


async def _network_account(
    job: fj.TransactionSyncJob, name: str, provider: Provider, ledger: Ledger
) -> AccountRecord:
    """The ledger account the job syncs, opened from the provider's description when it is new."""
    account = await ledger.account(job.account_id)
    if account is None:
        described = await provider.account(job.account_id)
        return await ledger.open_account(
            NewAccount(
                id=job.account_id,
                name=described.name,
                currency=described.currency,
                provider=name,
                external_id=described.external_id,
            )
        )
    if account.provider != name:
        raise SyncInputError(f"account {account.id} is synced from {account.provider}, not {name}")
    return account


async def sync_window(
    job: fj.TransactionSyncJob, ledger: Ledger, account_id: str, provider: str, overlap_days: int
) -> tuple[date | None, date | None]:
    """The dates a network sync asks for (see the module docstring); None: unbounded."""
    bounds = date_bounds(job)
    if job.sync_type != fj.SYNC_TYPE_INCREMENTAL:
        return bounds if bounds is not None else (None, None)
    cursor = await ledger.sync_cursor(account_id, provider)
    since = cursor - timedelta(days=overlap_days) if cursor is not None else None
    if bounds is None:
        return since, datetime.now(UTC).date()
    return (bounds[0] if since is None else max(since, bounds[0])), bounds[1]


def _result(
    job: fj.TransactionSyncJob, account_id: str, entries: list[NewTransaction], new: int
) -> fr.TransactionSyncResult:
    dates = sorted(entry.booking_date for entry in entries)
    return fr.TransactionSyncResult(
        account_id=account_id,
        provider=job.provider,
        sync_type=job.sync_type,
        transactions_processed=len(entries),
        new_transactions=new,
        duplicates=len(entries) - new,
        first_booking_date=dates[0].isoformat() if dates else "",
        last_booking_date=dates[-1].isoformat() if dates else "",
    )


async def _sync_from_network(
    job: fj.TransactionSyncJob, name: str, ledger: Ledger, providers: Providers | None
) -> fr.TransactionSyncResult:
    provider = network_provider(name, providers)
    date_bounds(job)  # an inverted or missing range fails before anything is asked of the provider
    account = await _network_account(job, name, provider, ledger)
    overlap = providers.settings.overlap_days if providers is not None else 0
    since, until = await sync_window(job, ledger, account.id, name, overlap)
    if since is not None and until is not None and until < since:
        return _result(job, account.id, [], 0)  # already synced past the range: no call spent
    fetched = await provider.transactions(account.external_id or account.id, since, until)
    entries = [
        entry
        for entry in fetched
        if (since is None or since <= entry.booking_date) and (until is None or entry.booking_date <= until)
    ]
    recorded = await ledger.record_synced(account.id, entries, since, until)
    booked = [entry.booking_date for entry in entries if entry.booked]
    if booked:
        await ledger.advance_cursor(account.id, name, max(booked))
    return _result(job, account.id, entries, recorded.new)


async def reported_balance(account_id: str, ledger: Ledger, providers: Providers) -> ReportedBalance:
    """The balance the provider of a linked account reports now (what reconciliation compares the
    ledger with when a job names no target). SyncInputError for an account the ledger does not
    hold or one no network provider keeps (a manual account's balance is its statement's)."""
    account = await ledger.account(account_id)
    if account is None:
        raise SyncInputError(f"the ledger has no account {account_id!r}")
    if account.provider == "manual":
        raise SyncInputError(f"account {account_id} is kept from statements: no provider reports its balance")
    provider = network_provider(account.provider, providers)
    return await provider.reported_balance(account.external_id or account.id)


async def sync_transactions(
    job: fj.TransactionSyncJob, ledger: Ledger, providers: Providers | None = None
) -> fr.TransactionSyncResult:
    """Run one transaction-sync job against `ledger` and say what it did; `providers` are the
    process's network providers (None: none, so only `manual` syncs can run)."""
    provider = _check(job)
    if provider != "manual":
        return await _sync_from_network(job, provider, ledger, providers)
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
