"""What the local bank servers hold in the provider tests, and the answers worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bench.bank_servers import FakeAccount


def money(amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def march_account() -> FakeAccount:
    """Four booked transactions (one per id field GoCardless may give, one with none) and one pending
    without an id, all in March 2024. Sum: -12.50 + 2500.00 - 45.10 - 3.50 - 20.00 = 2418.90."""
    return FakeAccount(
        currency="EUR",
        name="Giro",
        booked=[
            {
                "transactionId": "T-1",
                "internalTransactionId": "int-1",  # wins over transactionId
                "bookingDate": "2024-03-01",
                "valueDate": "2024-03-01",
                "transactionAmount": money("-12.50"),
                "creditorName": "Coffee Shop",
                "debtorName": "Jane Doe",
                "remittanceInformationUnstructured": "latte",
            },
            {
                "transactionId": "T-2",
                "bookingDate": "2024-03-02",
                "valueDate": "2024-03-02",
                "transactionAmount": money("2500.00"),
                "debtorName": "ACME Payroll",
                "remittanceInformationUnstructuredArray": ["Salary", "March"],
            },
            {
                "entryReference": "E-3",
                "bookingDate": "2024-03-03",
                "transactionAmount": money("-45.10"),
                "creditorName": "Grocer",
            },
            {
                "bookingDate": "2024-03-04",
                "transactionAmount": money("-3.50"),
                "creditorName": "Bakery",
            },
        ],
        pending=[
            {
                "valueDate": "2024-03-05",
                "transactionAmount": money("-20.00"),
                "creditorName": "Fuel Station",
                "remittanceInformationUnstructured": "pump 4",
            }
        ],
        balances=[
            {
                "balanceAmount": money("900.00"),
                "balanceType": "interimAvailable",
                "referenceDate": "2024-03-05",
            },
            {
                "balanceAmount": money("2418.90"),
                "balanceType": "closingBooked",
                "referenceDate": "2024-03-04",
            },
        ],
    )


# (booked, booking date, amount, payee, description, provider id) of march_account's transactions.
MARCH_ROWS: list[tuple[Any, ...]] = [
    (True, "2024-03-01", Decimal("-12.50"), "Coffee Shop", "latte", "int-1"),
    (True, "2024-03-02", Decimal("2500.00"), "ACME Payroll", "Salary March", "T-2"),
    (True, "2024-03-03", Decimal("-45.10"), "Grocer", "", "E-3"),
    (True, "2024-03-04", Decimal("-3.50"), "Bakery", "", None),
    (False, "2024-03-05", Decimal("-20.00"), "Fuel Station", "pump 4", None),
]


def book_the_pending_fuel(account: FakeAccount) -> None:
    """The bank books the pending fuel payment: it leaves `pending` and comes back booked, with an id
    and a later booking date."""
    account.pending.clear()
    account.booked.append(
        {
            "transactionId": "T-5",
            "bookingDate": "2024-03-06",
            "valueDate": "2024-03-05",
            "transactionAmount": money("-20.00"),
            "creditorName": "Fuel Station",
            "remittanceInformationUnstructured": "pump 4",
        }
    )
