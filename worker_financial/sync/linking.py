"""Linking bank accounts: a GoCardless requisition the person has agreed to becomes ledger accounts.

GoCardless's flow: create a requisition for a bank (its `link` is where the
person logs in and agrees), then, once its status is LN (linked), read the
accounts it lists. Each becomes a ledger account whose id and external id are
GoCardless's account id and whose provider is `gocardless`, so the daily
schedule's "one incremental sync per linked account" (Ledger.linked_accounts)
syncs it. Linking again changes nothing (opening an account is idempotent).
"""

from __future__ import annotations

from worker_financial.ledger.entries import AccountRecord, NewAccount
from worker_financial.ledger.store import Ledger
from worker_financial.sync.errors import SyncInputError
from worker_financial.sync.gocardless import NAME, GoCardlessProvider, Requisition

LINKED: str = "LN"


class NotLinkedError(SyncInputError):
    """The requisition is not linked (yet): the person has not agreed at `link`, or it expired or
    was rejected (`status`). A SyncInputError, so a job that meets it is not retried."""

    def __init__(self, requisition: Requisition) -> None:
        super().__init__(
            f"requisition {requisition.id} is not linked (status {requisition.status or '?'}): "
            f"the person has to agree at {requisition.link or 'the bank'} first"
        )
        self.requisition = requisition


async def link_requisition(
    requisition_id: str, provider: GoCardlessProvider, ledger: Ledger
) -> list[AccountRecord]:
    """Open a ledger account for each account the requisition linked; NotLinkedError (a
    SyncInputError) while the person has not agreed yet (any status but LN)."""
    _, opened = await complete_requisition(requisition_id, provider, ledger)
    return opened


async def complete_requisition(
    requisition_id: str, provider: GoCardlessProvider, ledger: Ledger
) -> tuple[Requisition, list[AccountRecord]]:
    """`link_requisition`, also returning the requisition as GoCardless describes it now (what
    FinancialService.CompleteBankLink answers with beside the accounts)."""
    requisition = await provider.requisition(requisition_id)
    if requisition.status != LINKED:
        raise NotLinkedError(requisition)
    opened = []
    for account_id in requisition.accounts:
        known = await ledger.account(account_id)
        if known is not None:
            opened.append(known)
            continue
        described = await provider.account(account_id)
        opened.append(
            await ledger.open_account(
                NewAccount(
                    id=account_id,
                    name=described.name,
                    currency=described.currency,
                    provider=NAME,
                    external_id=described.external_id,
                )
            )
        )
    return requisition, opened
