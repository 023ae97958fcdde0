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
import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from worker_financial.ledger import schema
from worker_financial.ledger.database import create_engine
from worker_financial.ledger.entries import (
    AccountRecord,
    CategoryAssignment,
    NewAccount,
    NewTransaction,
    Recorded,
    TransactionRecord,
    fingerprint,
)
from worker_financial.ledger.models import Account, CategoryRuleRow, LedgerTransaction, SyncCursor
from worker_financial.ledger.money import to_units

# Who may be overwritten by a categorization run: categories a rule or the model set (a person's
# "manual" one, or one that came with no method, stays).
RECOMPUTABLE: Final = ("rules", "ai")
# Rows per INSERT: well under SQLite's bound-parameter limit (32766) at 14 columns a row.
_BATCH: Final = 500
# What a model may learn from: categorized by a person (or arriving with a category), never by a
# categorization run (see Ledger.labelled).
_LABELLED: Final = (
    LedgerTransaction.category.is_not(None),
    or_(
        LedgerTransaction.category_method.is_(None),
        LedgerTransaction.category_method.not_in(RECOMPUTABLE),
    ),
)
# Providers that fetch an account's transactions over the network ("linked" accounts).
LINKED_PROVIDERS: Final = ("gocardless", "api")


def account_record(row: Account) -> AccountRecord:
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
        category_method=row.category_method,
        needs_review=row.needs_review,
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

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the ledger's database, for the stores beside this one (ledger/reconciliations.py,
        ledger/aggregates.py) that keep their own tables and queries out of this class."""
        return self._sessions

    def insert(self, entity: Any) -> Any:
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
                self.insert(Account)
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
            return account_record(row)

    async def account(self, account_id: str) -> AccountRecord | None:
        await self.migrate()
        async with self._sessions() as session:
            row = await session.get(Account, account_id)
            return None if row is None else account_record(row)

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
        async with self._sessions.begin() as session:
            new = await self._insert_rows(session, rows)
        return Recorded(processed=len(entries), new=new)

    async def record_synced(
        self, account_id: str, entries: Sequence[NewTransaction], since: date | None, until: date | None
    ) -> Recorded:
        """Record what a provider reported for [since, until] (None: unbounded), pending included.

        A pending transaction is the bank's provisional word: it usually has no id,
        and once booked it comes back with one (and often another date), so the
        ledger would hold it twice. So the account's pending rows dated within the
        window that the provider no longer lists as pending are removed, in the
        same database transaction that adds the new rows: a pending item that got
        booked is replaced by its booked self, one still pending is kept as it was
        (not counted as new), and a pending item the bank dropped goes.
        """
        await self.migrate()
        rows = transaction_rows(account_id, entries)
        still_pending = [row["dedupe_key"] for row in rows if not row["booked"]]
        gone = delete(LedgerTransaction).where(
            LedgerTransaction.account_id == account_id, LedgerTransaction.booked.is_(False)
        )
        if since is not None:
            gone = gone.where(LedgerTransaction.booking_date >= since)
        if until is not None:
            gone = gone.where(LedgerTransaction.booking_date <= until)
        if still_pending:
            gone = gone.where(LedgerTransaction.dedupe_key.not_in(still_pending))
        async with self._sessions.begin() as session:
            await session.execute(gone)
            new = await self._insert_rows(session, rows)
        return Recorded(processed=len(entries), new=new)

    async def _insert_rows(self, session: AsyncSession, rows: list[dict[str, Any]]) -> int:
        """INSERT the rows that are not there yet (by account and dedupe key); how many were new."""
        # One statement, compiled once, run over every row (SQLAlchemy's "insertmanyvalues" sends
        # them in multi-row batches): a statement per batch with the rows inlined as VALUES made
        # the compiler, not the database, an import's cost.
        table = LedgerTransaction.__table__
        statement = (
            self.insert(table)
            .on_conflict_do_nothing(index_elements=["account_id", "dedupe_key"])
            .returning(table.c.id)
        )
        new = 0
        for start in range(0, len(rows), _BATCH):
            new += len((await session.execute(statement, rows[start : start + _BATCH])).all())
        return new

    async def linked_accounts(self) -> list[AccountRecord]:
        """The accounts a provider over the network keeps (gocardless, api), by id: what the daily
        schedule sends one incremental sync for each of. Manual accounts are left out: nothing
        can fetch their statements."""
        await self.migrate()
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Account).where(Account.provider.in_(LINKED_PROVIDERS)).order_by(Account.id)
            )
            return [account_record(row) for row in rows]

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
        statement = self.insert(SyncCursor).values(
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

    async def transactions_by_id(self, ids: Sequence[int]) -> list[TransactionRecord]:
        """The transactions with these ids that the ledger holds (any account), in id order."""
        await self.migrate()
        found: list[TransactionRecord] = []
        async with self._sessions() as session:
            for start in range(0, len(ids), _BATCH):
                rows = await session.scalars(
                    select(LedgerTransaction)
                    .where(LedgerTransaction.id.in_(ids[start : start + _BATCH]))
                    .order_by(LedgerTransaction.id)
                )
                found.extend(_transaction_record(row) for row in rows)
        return sorted(found, key=lambda record: record.id)

    async def uncategorized(self, limit: int | None = None) -> list[TransactionRecord]:
        """Transactions without a category (those left for review too), oldest id first."""
        await self.migrate()
        query = (
            select(LedgerTransaction)
            .where(LedgerTransaction.category.is_(None))
            .order_by(LedgerTransaction.id)
        )
        if limit is not None:
            query = query.limit(limit)
        async with self._sessions() as session:
            return [_transaction_record(row) for row in await session.scalars(query)]

    async def labelled(self, limit: int) -> list[TransactionRecord]:
        """Up to `limit` categorized transactions a model may learn from, newest first: those a
        person categorized (or that came with a category), never those a categorization run wrote.
        Learning from its own guesses would only entrench them, and learning from a run's writes at
        all would make running the same job again decide differently."""
        await self.migrate()
        query = select(LedgerTransaction).where(*_LABELLED).order_by(LedgerTransaction.id.desc()).limit(limit)
        async with self._sessions() as session:
            return [_transaction_record(row) for row in await session.scalars(query)]

    async def labelled_version(self, limit: int) -> str:
        """What changes whenever `labelled(limit)` would read something else: a SHA-256 of the ids
        and categories of those rows (their text and amounts never change: a replaced row is a new
        row). A model trained at one version is the model the ledger would train while it holds.
        Read from the rows themselves, not from when they were written, so no writer's clock can
        hide a relabel; two columns of at most `limit` rows, against the seconds a training takes."""
        await self.migrate()
        query = (
            select(LedgerTransaction.id, LedgerTransaction.category)
            .where(*_LABELLED)
            .order_by(LedgerTransaction.id.desc())
            .limit(limit)
        )
        digest = hashlib.sha256()
        async with self._sessions() as session:
            for row_id, category in await session.execute(query):
                digest.update(f"{row_id}\x1f{category}\x1e".encode())
        return digest.hexdigest()

    async def assign_categories(self, assignments: Sequence[CategoryAssignment]) -> None:
        """Write what a categorization run decided.

        Idempotent: writing the same decisions again leaves the same rows. A "manual" assignment
        (a person's label) always applies. A rule's or the model's category, and a review mark
        (an assignment without a category), apply only to a transaction whose category is unset or
        was set by a rule or the model: a person's category is never overwritten. A review mark
        never erases a category either: it sets `needs_review` and its reason, nothing else.
        """
        await self.migrate()
        table = cast(Table, LedgerTransaction.__table__)
        now = datetime.now(UTC)
        by_id = table.c.id == bindparam("b_id")
        # Spelled out rather than IN (...): an expanding IN cannot go into an executemany.
        not_a_persons = or_(
            table.c.category.is_(None), *(table.c.category_method == method for method in RECOMPUTABLE)
        )
        categorize = (
            update(table)
            .where(by_id)
            .values(
                category=bindparam("b_category"),
                category_method=bindparam("b_method"),
                category_confidence=bindparam("b_confidence"),
                needs_review=False,
                review_reason=None,
                categorized_at=bindparam("b_at"),
            )
        )
        review = (
            update(table)
            .where(by_id, not_a_persons)
            .values(needs_review=True, review_reason=bindparam("b_reason"), categorized_at=bindparam("b_at"))
        )
        manual: list[dict[str, Any]] = []
        automatic: list[dict[str, Any]] = []
        marks: list[dict[str, Any]] = []
        for a in assignments:
            if a.category is None:
                reason = (a.review_reason or "")[:256]
                marks.append({"b_id": a.transaction_id, "b_reason": reason, "b_at": now})
                continue
            row = {
                "b_id": a.transaction_id,
                "b_category": a.category,
                "b_method": a.method,
                "b_confidence": a.confidence,
                "b_at": now,
            }
            (manual if a.method == "manual" else automatic).append(row)
        async with self._sessions.begin() as session:
            connection = await session.connection()
            groups = ((categorize, manual), (categorize.where(not_a_persons), automatic), (review, marks))
            for statement, rows in groups:
                for start in range(0, len(rows), _BATCH):
                    await connection.execute(statement, rows[start : start + _BATCH])

    async def replace_rules(self, specs: Sequence[str]) -> None:
        """Keep these rules (each a CategoryRule's proto3 JSON), in order, instead of any kept before;
        in one transaction, so a reader sees the old rules or the new ones, never a mix."""
        await self.migrate()
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            await session.execute(delete(CategoryRuleRow))
            session.add_all(
                CategoryRuleRow(position=i, spec=spec, saved_at=now) for i, spec in enumerate(specs)
            )

    async def saved_rules(self) -> list[str]:
        """The kept rules' proto3 JSON, in order (empty when none are kept)."""
        await self.migrate()
        async with self._sessions() as session:
            return list(
                await session.scalars(select(CategoryRuleRow.spec).order_by(CategoryRuleRow.position))
            )
