"""Reconciliation against the balance the account's provider reports (no target in the job), the
provider being the local GoCardless-shaped server: the balance at the period's end is the bank's
balance less what it booked after the period, and a transaction the bank booked that the ledger
lacks is named on the statement side. Figures worked out by hand in the test."""

from __future__ import annotations

import pytest

from bench.bank_servers import FakeGoCardless
from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from tests.worker_financial.reconciliation.test_reconcile import job
from tests.worker_financial.sync.banks import march_account, money
from worker_financial.ledger.entries import NewAccount
from worker_financial.ledger.store import Ledger
from worker_financial.reconciliation.periods import ReconciliationInputError
from worker_financial.reconciliation.provider_balance import provider_balances
from worker_financial.reconciliation.reconcile import reconcile
from worker_financial.sync.providers import Providers
from worker_financial.sync.transaction_sync import sync_transactions


async def test_a_transaction_the_bank_booked_and_the_ledger_lacks_is_the_discrepancy_named(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    bank = march_account()
    gocardless_server.accounts[account_id] = bank
    sync = fj.TransactionSyncJob(
        account_id=account_id, provider=fj.SYNC_PROVIDER_GOCARDLESS, sync_type=fj.SYNC_TYPE_FULL
    )
    await sync_transactions(sync, ledger, providers)
    # Booked in the ledger: -12.50 + 2500.00 - 45.10 - 3.50 = 2438.90 (the fuel's -20.00 is pending).
    # Then the bank books two more the ledger has not synced: -150.00 in March, +50.00 on April 1st.
    bank.booked.append(
        {"transactionId": "T-9", "bookingDate": "2024-03-20", "transactionAmount": money("-150.00"),
         "creditorName": "Insurance"}
    )  # fmt: skip
    bank.booked.append(
        {"transactionId": "T-10", "bookingDate": "2024-04-01", "transactionAmount": money("50.00"),
         "debtorName": "Refund"}
    )  # fmt: skip
    # Its balance now: 2438.90 - 150.00 + 50.00 = 2338.90, as of April 1st.
    bank.balances = [
        {"balanceAmount": money("2338.90"), "balanceType": "closingBooked", "referenceDate": "2024-04-01"}
    ]

    result = await reconcile(job(account_id), "rec-bank", ledger, provider_balances(providers))

    assert (result.period_start, result.period_end) == ("2024-03-01", "2024-03-31")
    assert result.target_source == "provider"
    # At the end of March the bank held 2338.90 - 50.00 (booked after) = 2288.90; the ledger
    # expects 0 + 2438.90: off by -150.00, the insurance the ledger lacks.
    assert (result.target_balance, result.expected_balance, result.discrepancy) == (
        "2288.90",
        "2438.90",
        "-150.00",
    )
    assert not result.passed and result.items_compared
    assert [(i.provider_transaction_id, i.amount, i.payee) for i in result.unmatched_statement] == [
        ("T-9", "-150.00", "Insurance")
    ]
    assert [(i.amount, i.booked) for i in result.unmatched_ledger] == [("-20.00", False)]


async def test_a_manual_account_without_a_target_has_no_balance_to_compare(
    providers: Providers, ledger: Ledger, account_id: str
) -> None:
    await ledger.open_account(NewAccount(account_id, "Cash", "EUR", "manual"))
    with pytest.raises(ReconciliationInputError):
        await reconcile(job(account_id), "rec-manual", ledger, provider_balances(providers))
