"""A bank statement as the importers read it, before it reaches the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from worker_financial.ledger.entries import NewTransaction


@dataclass(frozen=True, slots=True)
class Statement:
    """What one statement file says: its transactions and, when it states them, the account's
    currency, the bank's id of the account and the closing (ledger) balance."""

    transactions: list[NewTransaction] = field(default_factory=list)
    currency: str | None = None
    account_number: str | None = None
    closing_balance: Decimal | None = None
