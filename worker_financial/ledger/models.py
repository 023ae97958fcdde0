"""The ledger's tables as typed SQLAlchemy 2 ORM classes.

The schema itself is made by the Alembic migrations next to this module
(migrations/versions); these classes must describe the same tables, which a
test checks by comparing them with the migrated database.

Every write is idempotent by a unique key: a transaction is one row per
(account, dedupe_key), where dedupe_key is the provider's transaction id when
the provider gives one ("id:<FITID>") and a fingerprint of what the
transaction says otherwise ("fp:<sha256>"), so importing or syncing the same
transactions again inserts nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from worker_financial.ledger.money import Money


class UtcDateTime(TypeDecorator[datetime]):
    """A UTC instant on every database (SQLite keeps no zone: stored naive UTC, read back aware)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a ledger time must carry its time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Account(Base):
    """An account the ledger holds transactions of (the jobs' `account_id`)."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    currency: Mapped[str] = mapped_column(String(3))
    # Where its transactions come from: manual, gocardless, api.
    provider: Mapped[str] = mapped_column(String(32))
    # The provider's own id of the account (an OFX ACCTID, a GoCardless account id).
    external_id: Mapped[str | None] = mapped_column(String(256))
    # The balance before the first transaction the ledger holds.
    opening_balance: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class LedgerTransaction(Base):
    """One money movement on an account, as its provider reported it."""

    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("account_id", "dedupe_key", name="uq_transactions_account_dedupe_key"),
        Index("ix_transactions_account_booking_date", "account_id", "booking_date"),
        Index("ix_transactions_category", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # False while the bank shows it as pending.
    booked: Mapped[bool] = mapped_column(Boolean)
    booking_date: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date | None] = mapped_column(Date)
    # Signed: money in is positive.
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    payee: Mapped[str] = mapped_column(String(512))
    description: Mapped[str] = mapped_column(String(1024))
    provider_transaction_id: Mapped[str | None] = mapped_column(String(256))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # "id:<provider id>" or "fp:<fingerprint>": what makes a write idempotent.
    dedupe_key: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    # Who set `category` (migration 0003): "manual" (a person; never overwritten, what the model
    # learns from), "rules" or "ai"; None while uncategorized.
    category_method: Mapped[str | None] = mapped_column(String(16))
    # The model's probability for its category (method "ai").
    category_confidence: Mapped[float | None] = mapped_column(Float)
    # No rule matched and the model was unsure (or untrained): a person should look, and why.
    needs_review: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    review_reason: Mapped[str | None] = mapped_column(String(256))
    categorized_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CategoryRuleRow(Base):
    """One of the user's categorization rules kept in the ledger (migration 0003), in order.

    The rule is its proto3 JSON (jobmesh.jobs.v1.CategoryRule): data anyone can read and no
    code, and the contract's own shape, so a rule kept today reads the same after additive
    changes to the message.
    """

    __tablename__ = "category_rules"

    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    spec: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class SyncCursor(Base):
    """How far an account's sync from one provider has got: its last booked date."""

    __tablename__ = "sync_cursors"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_booked_date: Mapped[date] = mapped_column(Date)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class Reconciliation(Base):
    """One account-reconciliation run: what the account was reconciled against, and how it came out.

    Keyed by the job's id, so a job delivered twice keeps one record (the first).
    """

    __tablename__ = "reconciliations"
    __table_args__ = (Index("ix_reconciliations_account_created", "account_id", "created_at"),)

    job_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # daily, monthly, manual.
    reconciliation_type: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    target_balance: Mapped[Decimal] = mapped_column(Money())
    # "job" (its target_balance) or "provider" (the provider's reported balance).
    target_source: Mapped[str] = mapped_column(String(16))
    opening_balance: Mapped[Decimal] = mapped_column(Money())
    matched_total: Mapped[Decimal] = mapped_column(Money())
    matched_count: Mapped[int] = mapped_column(Integer)
    discrepancy: Mapped[Decimal] = mapped_column(Money())
    threshold: Mapped[Decimal] = mapped_column(Money())
    passed: Mapped[bool] = mapped_column(Boolean)
    # True when the provider listed its transactions and they were matched one by one.
    items_compared: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class ReconciliationItem(Base):
    """A transaction a reconciliation could not match: in the ledger only, or on the statement only."""

    __tablename__ = "reconciliation_items"
    __table_args__ = (Index("ix_reconciliation_items_reconciliation", "reconciliation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    reconciliation_id: Mapped[str] = mapped_column(ForeignKey("reconciliations.job_id", ondelete="CASCADE"))
    # "ledger" or "statement".
    side: Mapped[str] = mapped_column(String(16))
    # The ledger's row for a ledger-side item (NULL on the statement side, or once the row is gone).
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id", ondelete="SET NULL"))
    booked: Mapped[bool] = mapped_column(Boolean)
    booking_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    payee: Mapped[str] = mapped_column(String(512))
    description: Mapped[str] = mapped_column(String(1024))
    provider_transaction_id: Mapped[str | None] = mapped_column(String(256))


class GeneratedReport(Base):
    """A report-generation's output: which report, and where its file is (keyed by the job's id)."""

    __tablename__ = "reports"

    job_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    report_type: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # The file's absolute path on the worker's data volume.
    location: Mapped[str] = mapped_column(String(1024))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    transactions: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
