"""The account-reconciliation processor: does the ledger add up to the balance the account should have?

    discrepancy = target - (opening + sum of matched)

- **target**: the job's `target_balance`; when it has none, the balance the
  account's provider reports for the period's end, through the
  `reported_balance` callable the worker is given (the seam a provider client,
  such as GoCardless's balances endpoint, plugs into). With neither, the job
  cannot run and fails as bad input.
- **opening**: the account's opening balance plus every booked transaction
  before the period (the ledger's balance as the period starts).
- **matched**: the period's booked ledger transactions that the statement side
  confirms. When the provider lists its booked transactions of the period
  (`ProviderBalance.transactions`), each is matched to the ledger by the key the
  ledger dedupes on (its provider id, else its fingerprint), and only matches
  count; when it does not (a target from the job, or a balance-only provider),
  every booked ledger transaction of the period counts as matched.

Within `discrepancy_threshold` (|discrepancy| <= threshold) the account
reconciles. Either way the run is kept as a record (ledger/reconciliations.py)
with the items that did not match, on both sides:

- **ledger side**: what the ledger holds for the period but the bank's balance
  does not confirm: the period's pending transactions (a bank balance leaves
  them out; they never count as matched), and, when the provider lists its
  transactions, the booked ledger transactions missing from its list;
- **statement side**: what the provider lists as booked in the period but the
  ledger does not have (a sync that has not run, or lost a transaction). Only
  known when the provider lists its transactions.

So a missing import shows as a discrepancy equal to the missing items' sum,
with them named on the statement side; a transaction the bank never booked
shows on the ledger side. Money is Decimal throughout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from queue_system.decimals import amount_of
from worker_financial.ledger import aggregates
from worker_financial.ledger.entries import AccountRecord, NewTransaction
from worker_financial.ledger.money import from_units, to_units
from worker_financial.ledger.reconciliations import (
    Item,
    LedgerEntry,
    ReconciliationRecord,
    load,
    period_entries,
    save,
)
from worker_financial.ledger.store import Ledger, transaction_rows
from worker_financial.reconciliation.periods import (
    TYPE_NAMES,
    ReconciliationInputError,
    period_of,
)

TARGET_FROM_JOB = "job"
TARGET_FROM_PROVIDER = "provider"


@dataclass(frozen=True, slots=True)
class ProviderBalance:
    """What an account's provider reports for the end of a period."""

    balance: Decimal
    # Its booked transactions of the period, when it lists them (None: a balance only).
    transactions: tuple[NewTransaction, ...] | None = None


# (account, period start, period end) -> the provider's balance at the end, or None when it has none.
ReportedBalance = Callable[[AccountRecord, date, date], Awaitable[ProviderBalance | None]]


def _amount(value: Decimal, field: str) -> Decimal:
    """`value` as the ledger keeps it (so a first answer and one read back print alike), once it can
    be kept exactly (at most four decimal places)."""
    try:
        return from_units(to_units(value))
    except ValueError as exc:
        raise ReconciliationInputError(f"{field}: {exc}") from None


def _statement_item(row: dict[str, Any]) -> Item:
    return Item(
        booked=row["booked"],
        booking_date=row["booking_date"],
        amount=row["amount"],
        payee=row["payee"],
        description=row["description"],
        provider_transaction_id=row["provider_transaction_id"],
    )


def _match(
    account_id: str,
    ledger_side: list[LedgerEntry],
    listed: tuple[NewTransaction, ...],
    start: date,
    end: date,
) -> tuple[list[Item], list[Item], list[Item]]:
    """(matched, unmatched ledger, unmatched statement) of the period's booked transactions, by the
    key the ledger dedupes on: the provider's id, else the fingerprint (store.transaction_rows, which
    also drops an item the provider lists twice)."""
    booked = [e for e in listed if e.booked and start <= e.booking_date <= end]
    statement = {row["dedupe_key"]: row for row in transaction_rows(account_id, booked)}
    ledger_keys = {e.dedupe_key for e in ledger_side}
    matched = [e.item for e in ledger_side if e.dedupe_key in statement]
    not_listed = [e.item for e in ledger_side if e.dedupe_key not in statement]
    not_in_ledger = [_statement_item(row) for key, row in statement.items() if key not in ledger_keys]
    return matched, not_listed, not_in_ledger


def _checked(job: fj.AccountReconciliationJob) -> tuple[str, Decimal]:
    if not job.account_id:
        raise ReconciliationInputError("account_id is required")
    kind = TYPE_NAMES.get(job.reconciliation_type)
    if kind is None:
        raise ReconciliationInputError("reconciliation_type is required: daily, weekly, monthly or manual")
    if not job.HasField("discrepancy_threshold"):
        raise ReconciliationInputError("discrepancy_threshold is required")
    threshold = _amount(amount_of(job.discrepancy_threshold), "discrepancy_threshold")
    if threshold < 0:
        raise ReconciliationInputError(f"discrepancy_threshold must be >= 0, got {threshold}")
    return kind, threshold


async def reconcile(
    job: fj.AccountReconciliationJob,
    job_id: str,
    ledger: Ledger,
    reported_balance: ReportedBalance | None = None,
) -> fr.AccountReconciliationResult:
    """Reconcile the job's account, keep the record under `job_id`, and say how it came out."""
    kind, threshold = _checked(job)
    period = period_of(job)
    account = await ledger.account(job.account_id)
    if account is None:
        raise ReconciliationInputError(f"unknown account {job.account_id!r}: the ledger has no such account")
    end = period.end
    start = period.start or min(await aggregates.first_booking_date(ledger, account.id) or end, end)

    listed: tuple[NewTransaction, ...] | None = None
    if job.HasField("target_balance"):
        target, source = _amount(amount_of(job.target_balance), "target_balance"), TARGET_FROM_JOB
    else:
        reported = None if reported_balance is None else await reported_balance(account, start, end)
        if reported is None:
            raise ReconciliationInputError(
                f"target_balance is unset and account {account.id}'s provider ({account.provider}) "
                "reports no balance: give the job a target_balance"
            )
        target, source = _amount(reported.balance, "the provider's balance"), TARGET_FROM_PROVIDER
        listed = reported.transactions

    before, _ = await aggregates.booked_total(ledger, account.id, end=start - timedelta(days=1))
    opening = account.opening_balance + before
    pending = [e.item for e in await period_entries(ledger, account.id, start, end, booked=False)]
    if listed is None:
        matched_total, matched_count = await aggregates.booked_total(ledger, account.id, start=start, end=end)
        unmatched_ledger, unmatched_statement = pending, list[Item]()
    else:
        booked = await period_entries(ledger, account.id, start, end, booked=True)
        matched, missing_from_statement, unmatched_statement = _match(account.id, booked, listed, start, end)
        matched_total, matched_count = sum((i.amount for i in matched), Decimal(0)), len(matched)
        unmatched_ledger = sorted(
            pending + missing_from_statement, key=lambda i: (i.booking_date, i.transaction_id or 0)
        )
    discrepancy = target - (opening + matched_total)

    record = ReconciliationRecord(
        job_id=job_id,
        account_id=account.id,
        reconciliation_type=kind,
        period_start=start,
        period_end=end,
        target_balance=target,
        target_source=source,
        opening_balance=opening,
        matched_total=matched_total,
        matched_count=matched_count,
        discrepancy=discrepancy,
        threshold=threshold,
        passed=abs(discrepancy) <= threshold,
        items_compared=listed is not None,
        unmatched_ledger=tuple(unmatched_ledger),
        unmatched_statement=tuple(unmatched_statement),
    )
    if not await save(ledger, record):
        # Delivered again: the first run's record stands, and is what the job answers.
        record = await load(ledger, job_id) or record
    return result_of(record, job.reconciliation_type)


def _result_item(item: Item) -> fr.ReconciliationItem:
    return fr.ReconciliationItem(
        transaction_id=item.transaction_id or 0,
        booking_date=item.booking_date.isoformat(),
        amount=format(item.amount, "f"),
        payee=item.payee,
        description=item.description,
        provider_transaction_id=item.provider_transaction_id or "",
        booked=item.booked,
    )


def result_of(record: ReconciliationRecord, reconciliation_type: int) -> fr.AccountReconciliationResult:
    return fr.AccountReconciliationResult(
        account_id=record.account_id,
        reconciliation_type=reconciliation_type,  # type: ignore[arg-type]
        period_start=record.period_start.isoformat(),
        period_end=record.period_end.isoformat(),
        target_balance=format(record.target_balance, "f"),
        target_source=record.target_source,
        opening_balance=format(record.opening_balance, "f"),
        matched_total=format(record.matched_total, "f"),
        discrepancy=format(record.discrepancy, "f"),
        discrepancy_threshold=format(record.threshold, "f"),
        passed=record.passed,
        matched_transactions=record.matched_count,
        unmatched_ledger=[_result_item(i) for i in record.unmatched_ledger],
        unmatched_statement=[_result_item(i) for i in record.unmatched_statement],
        items_compared=record.items_compared,
        expected_balance=format(record.opening_balance + record.matched_total, "f"),
    )
