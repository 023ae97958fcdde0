"""`Ledger`: the one interface the financial processors keep their books through.

It is async, on SQLAlchemy's asyncio extension (aiosqlite for SQLite, psycopg 3's
async connections for PostgreSQL), by choice: the worker runs several jobs of
its queues at once on one event loop, and a database wait must let the other
jobs (and the queue's lease renewals) run. Sync sessions in a thread would do
the same with a thread per waiting call and two kinds of code to reason about;
the async engine keeps one pool and plain `await`s.

Every write is idempotent. Transactions go in with INSERT ... ON CONFLICT DO
NOTHING on (account_id, dedupe_key), so a job delivered twice, a sync run
again or a statement imported again adds only what the ledger did not have;
an account is opened the same way, and a sync cursor only ever moves forward.
The schema is migrated to the newest revision before the first use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from worker_financial.ledger import schema
from worker_financial.ledger.database import create_engine
from worker_financial.ledger.entries import (
    AccountRecord,
    NewAccount,
    NewTransaction,
    Recorded,
    TransactionRecord,
    fingerprint,
)
from worker_financial.ledger.models import Account, LedgerTransaction, SyncCursor
from worker_financial.ledger.money import to_units

# The provider of accounts whose statements are imported by hand: nothing to pull from.
MANUAL_PROVIDER: Final = "manual"
# Rows per INSERT: well under SQLite's bound-parameter limit (32766) at 14 columns a row.
_BATCH: Final = 500


def _account_record(row: Account) -> AccountRecord:
    return AccountRecord(
        id=row.id,
        name=row.name,
        currency=row.currency,
        provider=row.provider,
        external_id=row.external_id,
        opening_balance=row.opening_balance,
        created_at=row.created_at,
    )


def _transaction_record(row: LedgerTransaction) -> TransactionRecord:
    return TransactionRecord(
        id=row.id,
        account_id=row.account_id,
        booked=row.booked,
        booking_date=row.booking_date,
        value_date=row.value_date,
        amount=row.amount,
        currency=row.currency,
        payee=row.payee,
        description=row.description,
        provider_transaction_id=row.provider_transaction_id,
        fingerprint=row.fingerprint,
        category=row.category,
        created_at=row.created_at,
    )


def transaction_rows(account_id: str, entries: Sequence[NewTransaction]) -> list[dict[str, Any]]:
    """The rows for `entries`, each with its fingerprint and dedupe key; a row whose key an earlier
    one of the batch has (a statement listing one FITID twice) is left out. ValueError when an
    amount cannot be kept exactly (ledger/money.py)."""
    now = datetime.now(UTC)
    seen_content: dict[tuple[object, ...], int] = {}
    keys: set[str] = set()
    rows: list[dict[str, Any]] = []
    for entry in entries:
        try:
            to_units(entry.amount)  # refused here, as a ValueError, rather than inside the INSERT
        except ValueError as exc:
            raise ValueError(f"transaction of {entry.booking_date} to {entry.payee!r}: {exc}") from None
        content = (entry.booking_date, entry.amount, entry.currency, entry.payee, entry.description)
        occurrence = seen_content.get(content, 0)
        seen_content[content] = occurrence + 1
        print_ = fingerprint(account_id, entry, occurrence)
        key = f"id:{entry.provider_transaction_id}" if entry.provider_transaction_id else f"fp:{print_}"
        if key in keys:
            continue
        keys.add(key)
        rows.append(
            {
                "account_id": account_id,
                "booked": entry.booked,
                "booking_date": entry.booking_date,
                "value_date": entry.value_date,
                "amount": entry.amount,
                "currency": entry.currency.upper(),
                "payee": entry.payee,
                "description": entry.description,
                "provider_transaction_id": entry.provider_transaction_id,
                "fingerprint": print_,
                "dedupe_key": key,
                "category": None,
                "created_at": now,
            }
        )
    return rows


class Ledger:
    """Accounts, their transactions and sync cursors, in SQLite or PostgreSQL (see the module docstring)."""

    def __init__(self, url: str) -> None:
        """`url` is an SQLAlchemy async URL (ledger.database.async_url makes one from DATABASE_URL)."""
        self._engine: AsyncEngine = create_engine(url)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        self._migrated = False
        self._migrating: asyncio.Lock | None = None

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._engine.dialect.name

    def _insert(self, entity: Any) -> Any:
        """INSERT for this database, with its ON CONFLICT clauses (both dialects spell them alike)."""
        return postgresql.insert(entity) if self.dialect == "postgresql" else sqlite.insert(entity)

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (once per Ledger; later calls return at once)."""
        if self._migrated:
            return
        if self._migrating is None:
            self._migrating = asyncio.Lock()
        async with self._migrating:
            if not self._migrated:
                await schema.migrate(self._engine)
                self._migrated = True

    async def revision(self) -> str | None:
        """The schema revision the database is at."""
        return await schema.current_revision(self._engine)

    async def close(self) -> None:
        await self._engine.dispose()

    async def open_account(self, account: NewAccount) -> AccountRecord:
        """The account `account.id`, opened with these details unless the ledger already holds it
        (then it is returned as it is: opening an account again changes nothing)."""
        await self.migrate()
        async with self._sessions.begin() as session:
            await session.execute(
                self._insert(Account)
                .values(
                    id=account.id,
                    name=account.name,
                    currency=account.currency.upper(),
                    provider=account.provider,
                    external_id=account.external_id,
                    opening_balance=account.opening_balance,
                    created_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
            row = await session.get_one(Account, account.id)
            return _account_record(row)

    async def account(self, account_id: str) -> AccountRecord | None:
        await self.migrate()
        async with self._sessions() as session:
            row = await session.get(Account, account_id)
            return None if row is None else _account_record(row)

    async def linked_accounts(self) -> list[AccountRecord]:
        """Accounts a provider keeps (every provider but `manual`), by id: what the scheduled
        daily sync and weekly reconciliation go through."""
        await self.migrate()
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Account).where(Account.provider != MANUAL_PROVIDER).order_by(Account.id)
            )
            return [_account_record(row) for row in rows]

    async def uncategorized_transaction_ids(self) -> list[int]:
        """Ids of the transactions without a category, oldest first: the hourly categorization's work."""
        await self.migrate()
        async with self._sessions() as session:
            ids = await session.scalars(
                select(LedgerTransaction.id)
                .where(LedgerTransaction.category.is_(None))
                .order_by(LedgerTransaction.id)
            )
            return list(ids)

    async def record(self, account_id: str, entries: Sequence[NewTransaction]) -> Recorded:
        """Add `entries` to the account; what the ledger has already (by provider id, else by
        fingerprint) is skipped. Returns how many were given and how many were new."""
        await self.migrate()
        rows = transaction_rows(account_id, entries)
        new = 0
        async with self._sessions.begin() as session:
            for start in range(0, len(rows), _BATCH):
                statement = (
                    self._insert(LedgerTransaction)
                    .values(rows[start : start + _BATCH])
                    .on_conflict_do_nothing(index_elements=["account_id", "dedupe_key"])
                    .returning(LedgerTransaction.id)
                )
                new += len((await session.execute(statement)).all())
        return Recorded(processed=len(entries), new=new)

    async def transactions(self, account_id: str) -> list[TransactionRecord]:
        """The account's transactions, oldest booking date first (then in the order they came)."""
        await self.migrate()
        async with self._sessions() as session:
            rows = await session.scalars(
                select(LedgerTransaction)
                .where(LedgerTransaction.account_id == account_id)
                .order_by(LedgerTransaction.booking_date, LedgerTransaction.id)
            )
            return [_transaction_record(row) for row in rows]

    async def count_transactions(self, account_id: str) -> int:
        await self.migrate()
        async with self._sessions() as session:
            counted = await session.scalar(
                select(func.count()).where(LedgerTransaction.account_id == account_id)
            )
            return int(counted or 0)

    async def sync_cursor(self, account_id: str, provider: str) -> date | None:
        """The last booked date a sync of the account from `provider` has recorded."""
        await self.migrate()
        async with self._sessions() as session:
            row = await session.get(SyncCursor, (account_id, provider))
            return None if row is None else row.last_booked_date

    async def advance_cursor(self, account_id: str, provider: str, last_booked: date) -> date:
        """Move the cursor to `last_booked` unless it is further already; returns where it is."""
        await self.migrate()
        statement = self._insert(SyncCursor).values(
            account_id=account_id,
            provider=provider,
            last_booked_date=last_booked,
            synced_at=datetime.now(UTC),
        )
        statement = statement.on_conflict_do_update(
            index_elements=["account_id", "provider"],
            set_={
                "last_booked_date": case(
                    (
                        SyncCursor.last_booked_date < statement.excluded.last_booked_date,
                        statement.excluded.last_booked_date,
                    ),
                    else_=SyncCursor.last_booked_date,
                ),
                "synced_at": statement.excluded.synced_at,
            },
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)
            row = await session.get_one(SyncCursor, (account_id, provider), populate_existing=True)
            return row.last_booked_date
