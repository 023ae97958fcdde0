"""The provider's side of a reconciliation: the account's balance at the period's end and the
booked transactions of the period, as its network provider (GoCardless, `api`) reports them.

A provider reports its balance as of now (or of the `reference_date` it names), not as of
the period's end, so the booked transactions it lists after the end are taken back out:
the target is the balance the account had when the period closed, and the period's own
booked transactions let the reconciliation match item by item. That is two calls (balances,
transactions), counted against the bank's daily allowance like a sync's. A manual account
has no provider (None: a job without a target then fails as bad input, saying so).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from worker_financial.ledger.entries import AccountRecord
from worker_financial.reconciliation.periods import ReconciliationInputError
from worker_financial.reconciliation.reconcile import ProviderBalance, ReportedBalance
from worker_financial.sync.providers import Providers
from worker_financial.sync.transaction_sync import network_provider


def provider_balances(providers: Providers) -> ReportedBalance:
    """The `reported_balance` callable reconciliation asks, backed by the process's providers."""

    async def balance_at_end(account: AccountRecord, start: date, end: date) -> ProviderBalance | None:
        if account.provider == "manual":
            return None
        provider = network_provider(account.provider, providers)
        external_id = account.external_id or account.id
        reported = await provider.reported_balance(external_id)
        if reported.currency != account.currency:
            raise ReconciliationInputError(
                f"the provider reports account {account.id} in {reported.currency}, the ledger keeps it "
                f"in {account.currency}"
            )
        as_of = max(reported.reference_date or datetime.now(UTC).date(), end)
        listed = [entry for entry in await provider.transactions(external_id, start, as_of) if entry.booked]
        after = sum((entry.amount for entry in listed if entry.booking_date > end), start=reported.amount * 0)
        return ProviderBalance(
            balance=reported.amount - after,
            transactions=tuple(entry for entry in listed if start <= entry.booking_date <= end),
        )

    return balance_at_end
