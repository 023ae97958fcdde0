"""What goes into the ledger and what comes out of it, as plain values.

Processors hand the ledger `NewAccount`s and `NewTransaction`s and get
`AccountRecord`s and `TransactionRecord`s back: frozen values, never ORM objects,
so nothing outside the store can lazy-load or write through a session by mistake.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class NewAccount:
    id: str
    name: str
    currency: str
    provider: str
    external_id: str | None = None
    opening_balance: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class AccountRecord:
    id: str
    name: str
    currency: str
    provider: str
    external_id: str | None
    opening_balance: Decimal
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewTransaction:
    """One transaction as a provider reports it; `amount` is signed, money in is positive."""

    booking_date: date
    amount: Decimal
    currency: str
    payee: str
    description: str = ""
    value_date: date | None = None
    booked: bool = True
    # The provider's id (an OFX FITID); None when it gives none (the fingerprint dedupes then).
    provider_transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    id: int
    account_id: str
    booked: bool
    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    payee: str
    description: str
    provider_transaction_id: str | None
    fingerprint: str
    category: str | None
    created_at: datetime
    # Who set the category ("manual", "rules", "ai") and whether it awaits a person's review.
    category_method: str | None = None
    needs_review: bool = False


@dataclass(frozen=True, slots=True)
class CategoryAssignment:
    """What a categorization run decided for one transaction: a category by `method` ("rules",
    "ai", or "manual" for a person's label), or none and a review mark saying why."""

    transaction_id: int
    category: str | None
    method: str | None
    confidence: float | None = None
    review_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What one write did: how many transactions it was given and how many were new."""

    processed: int
    new: int

    @property
    def duplicates(self) -> int:
        return self.processed - self.new


def fingerprint(account_id: str, entry: NewTransaction, occurrence: int) -> str:
    """A stable id for a transaction the provider gives no id: what it says, plus which of the
    identical ones in its batch it is (two coffees of 3.50 on one day are two transactions; the
    same statement imported again numbers them the same way)."""
    payee = " ".join(entry.payee.casefold().split())
    description = " ".join(entry.description.casefold().split())
    parts = (
        account_id,
        entry.booking_date.isoformat(),
        format(entry.amount.normalize(), "f"),
        entry.currency.upper(),
        payee,
        description,
        str(occurrence),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
