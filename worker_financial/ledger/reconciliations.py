"""Reconciliation records in the ledger, and the transactions a reconciliation compares.

A record is keyed by the job's id and written with its unmatched items in one
transaction, first writer wins: a reconciliation job delivered again finds its
record there and leaves it as it was (the ledger may have moved on since, and
the record says what the first run saw).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from worker_financial.ledger.models import LedgerTransaction, Reconciliation, ReconciliationItem
from worker_financial.ledger.store import Ledger

LEDGER_SIDE = "ledger"
STATEMENT_SIDE = "statement"


@dataclass(frozen=True, slots=True)
class Item:
    """One transaction of either side, as a reconciliation shows it."""

    booked: bool
    booking_date: date
    amount: Decimal
    payee: str
    description: str
    provider_transaction_id: str | None
    transaction_id: int | None = None  # the ledger's row (None on the statement side)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A ledger transaction of the period with the key the ledger dedupes it by."""

    item: Item
    dedupe_key: str


@dataclass(frozen=True, slots=True)
class ReconciliationRecord:
    job_id: str
    account_id: str
    reconciliation_type: str
    period_start: date
    period_end: date
    target_balance: Decimal
    target_source: str
    opening_balance: Decimal
    matched_total: Decimal
    matched_count: int
    discrepancy: Decimal
    threshold: Decimal
    passed: bool
    items_compared: bool
    unmatched_ledger: tuple[Item, ...]
    unmatched_statement: tuple[Item, ...]
    created_at: datetime | None = None


async def period_entries(
    ledger: Ledger, account_id: str, start: date, end: date, *, booked: bool
) -> list[LedgerEntry]:
    """The account's booked (or pending) transactions booked within [start, end], oldest first."""
    await ledger.migrate()
    t = LedgerTransaction
    query = (
        select(t)
        .where(t.account_id == account_id, t.booked.is_(booked))
        .where(t.booking_date >= start, t.booking_date <= end)
        .order_by(t.booking_date, t.id)
    )
    async with ledger.sessions() as session:
        rows = await session.scalars(query)
        return [
            LedgerEntry(
                Item(
                    booked=row.booked,
                    booking_date=row.booking_date,
                    amount=row.amount,
                    payee=row.payee,
                    description=row.description,
                    provider_transaction_id=row.provider_transaction_id,
                    transaction_id=row.id,
                ),
                row.dedupe_key,
            )
            for row in rows
        ]


def _item_row(job_id: str, side: str, item: Item) -> ReconciliationItem:
    return ReconciliationItem(
        reconciliation_id=job_id,
        side=side,
        transaction_id=item.transaction_id,
        booked=item.booked,
        booking_date=item.booking_date,
        amount=item.amount,
        payee=item.payee,
        description=item.description,
        provider_transaction_id=item.provider_transaction_id,
    )


async def save(ledger: Ledger, record: ReconciliationRecord) -> bool:
    """Keep `record` with its unmatched items unless the ledger has one for its job already.
    True when this call wrote it."""
    await ledger.migrate()
    async with ledger.sessions.begin() as session:
        inserted = await session.execute(
            ledger.insert(Reconciliation)
            .values(
                job_id=record.job_id,
                account_id=record.account_id,
                reconciliation_type=record.reconciliation_type,
                period_start=record.period_start,
                period_end=record.period_end,
                target_balance=record.target_balance,
                target_source=record.target_source,
                opening_balance=record.opening_balance,
                matched_total=record.matched_total,
                matched_count=record.matched_count,
                discrepancy=record.discrepancy,
                threshold=record.threshold,
                passed=record.passed,
                items_compared=record.items_compared,
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(index_elements=["job_id"])
            .returning(Reconciliation.job_id)
        )
        if inserted.first() is None:
            return False
        session.add_all(
            [_item_row(record.job_id, LEDGER_SIDE, i) for i in record.unmatched_ledger]
            + [_item_row(record.job_id, STATEMENT_SIDE, i) for i in record.unmatched_statement]
        )
        return True


def _item(row: ReconciliationItem) -> Item:
    return Item(
        booked=row.booked,
        booking_date=row.booking_date,
        amount=row.amount,
        payee=row.payee,
        description=row.description,
        provider_transaction_id=row.provider_transaction_id,
        transaction_id=row.transaction_id,
    )


async def load(ledger: Ledger, job_id: str) -> ReconciliationRecord | None:
    """The record a reconciliation job kept (None: no such job ran)."""
    await ledger.migrate()
    async with ledger.sessions() as session:
        row = await session.get(Reconciliation, job_id)
        if row is None:
            return None
        items: Sequence[ReconciliationItem] = (
            await session.scalars(
                select(ReconciliationItem)
                .where(ReconciliationItem.reconciliation_id == job_id)
                .order_by(ReconciliationItem.id)
            )
        ).all()
    return record_of(row, items)


def record_of(row: Reconciliation, items: Sequence[ReconciliationItem]) -> ReconciliationRecord:
    """A kept reconciliation's row as a record, with `items` (its item rows, in order) by side."""
    return ReconciliationRecord(
        job_id=row.job_id,
        account_id=row.account_id,
        reconciliation_type=row.reconciliation_type,
        period_start=row.period_start,
        period_end=row.period_end,
        target_balance=row.target_balance,
        target_source=row.target_source,
        opening_balance=row.opening_balance,
        matched_total=row.matched_total,
        matched_count=row.matched_count,
        discrepancy=row.discrepancy,
        threshold=row.threshold,
        passed=row.passed,
        items_compared=row.items_compared,
        unmatched_ledger=tuple(_item(i) for i in items if i.side == LEDGER_SIDE),
        unmatched_statement=tuple(_item(i) for i in items if i.side == STATEMENT_SIDE),
        created_at=row.created_at,
    )
