"""What a bank-data provider gives transaction-sync (and, later, reconciliation): one interface.

A provider speaks to a service over the network (`gocardless`, `api`); the
`manual` provider reads a statement file instead and does not take this shape.
Each method names the account by the provider's own id (the ledger account's
`external_id`). Dates are calendar dates; a `None` bound means "as far as the
provider goes". A provider raises the errors of sync/errors.py, so the queue
retries (or does not) for the right reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from worker_financial.ledger.entries import NewTransaction


@dataclass(frozen=True, slots=True)
class ProviderAccount:
    """An account as its provider describes it: what the ledger needs to open it."""

    external_id: str
    currency: str
    name: str


@dataclass(frozen=True, slots=True)
class ReportedBalance:
    """The balance a provider reports for an account (what reconciliation compares the ledger with)."""

    amount: Decimal
    currency: str
    # The day the provider says the balance is of (None when it does not say).
    reference_date: date | None
    # The provider's kind of balance (GoCardless: closingBooked, interimAvailable, expected, ...).
    kind: str


class Provider(Protocol):
    """A source of an account's transactions and balance over the network."""

    @property
    def name(self) -> str:
        """The provider's name as the ledger keeps it (accounts.provider)."""
        ...

    async def account(self, external_id: str) -> ProviderAccount:
        """The account; UnknownAccountError when the provider does not have it."""
        ...

    async def transactions(
        self, external_id: str, date_from: date | None, date_to: date | None
    ) -> list[NewTransaction]:
        """Booked and pending transactions in [date_from, date_to] (pending ones with booked=False)."""
        ...

    async def reported_balance(self, external_id: str) -> ReportedBalance:
        """The account's balance as the provider reports it now."""
        ...

    async def aclose(self) -> None:
        """Release the provider's connections."""
        ...
