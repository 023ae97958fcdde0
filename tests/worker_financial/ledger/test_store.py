"""The ledger store on SQLite and PostgreSQL alike: its migrated schema, exact money, and writes
that are idempotent however often they are repeated."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from worker_financial.ledger import schema
from worker_financial.ledger.database import async_url, create_engine
from worker_financial.ledger.entries import NewAccount, NewTransaction
from worker_financial.ledger.models import Base
from worker_financial.ledger.money import from_units, to_units
from worker_financial.ledger.store import Ledger


def coffee(day: int, amount: str = "-3.50", fitid: str | None = None) -> NewTransaction:
    return NewTransaction(
        booking_date=date(2024, 3, day),
        amount=Decimal(amount),
        currency="EUR",
        payee="Café Central",
        provider_transaction_id=fitid,
    )


async def test_first_use_migrates_to_the_head_revision_and_the_models_match_it(
    ledger: Ledger, ledger_url: str
) -> None:
    await ledger.migrate()
    assert await ledger.revision() == schema.head_revision() == "0003"
    await ledger.migrate()  # again: nothing to do

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    engine = create_engine(ledger_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_opening_an_account_twice_keeps_the_first(ledger: Ledger, account_id: str) -> None:
    first = await ledger.open_account(
        NewAccount(account_id, "Main", "eur", "manual", "DE89", opening_balance=Decimal("120.05"))
    )
    again = await ledger.open_account(NewAccount(account_id, "Other", "USD", "api"))
    assert again == first
    assert (first.currency, first.name, first.opening_balance) == ("EUR", "Main", Decimal("120.05"))
    assert await ledger.account("acc_nobody") is None


async def test_recording_the_same_transactions_again_adds_nothing(ledger: Ledger, account_id: str) -> None:
    await ledger.open_account(NewAccount(account_id, "Main", "EUR", "manual"))
    # Two identical coffees on one day are two transactions; a FITID listed twice is one.
    batch = [coffee(1), coffee(1), coffee(2, "1250.75", "F-1"), coffee(2, "1250.75", "F-1")]
    first = await ledger.record(account_id, batch)
    assert (first.processed, first.new, first.duplicates) == (4, 3, 1)
    again = await ledger.record(account_id, batch)
    assert (again.processed, again.new) == (4, 0)
    rows = await ledger.transactions(account_id)
    assert [(r.booking_date.day, r.amount, r.provider_transaction_id) for r in rows] == [
        (1, Decimal("-3.50"), None),
        (1, Decimal("-3.50"), None),
        (2, Decimal("1250.75"), "F-1"),
    ]
    assert rows[0].fingerprint != rows[1].fingerprint
    assert await ledger.count_transactions(account_id) == 3
    # A third coffee that day, in a later statement, is new.
    assert (await ledger.record(account_id, [coffee(1), coffee(1), coffee(1)])).new == 1


async def test_money_is_exact_to_four_places_and_never_rounded(ledger: Ledger, account_id: str) -> None:
    await ledger.open_account(NewAccount(account_id, "Main", "EUR", "manual"))
    amounts = ["0.0001", "-0.1", "0.2", "92233720368.5477", "-1234567.8901"]
    await ledger.record(account_id, [coffee(3, amount, f"m{i}") for i, amount in enumerate(amounts)])
    stored = sorted(r.amount for r in await ledger.transactions(account_id))
    assert stored == sorted(Decimal(a) for a in amounts)
    assert sum(stored) == Decimal("92232485800.7577")
    with pytest.raises(ValueError, match="at most 4 decimal places"):
        await ledger.record(account_id, [coffee(4, "0.00001")])
    assert await ledger.count_transactions(account_id) == len(amounts)


def test_units_round_trip() -> None:
    assert to_units(Decimal("12.34")) == 123_400
    assert from_units(-50_000) == Decimal("-5.00")
    assert str(from_units(1)) == "0.0001"


async def test_a_sync_cursor_only_moves_forward(ledger: Ledger, account_id: str) -> None:
    await ledger.open_account(NewAccount(account_id, "Main", "EUR", "manual"))
    assert await ledger.sync_cursor(account_id, "manual") is None
    assert await ledger.advance_cursor(account_id, "manual", date(2024, 3, 9)) == date(2024, 3, 9)
    assert await ledger.advance_cursor(account_id, "manual", date(2024, 3, 1)) == date(2024, 3, 9)
    assert await ledger.advance_cursor(account_id, "manual", date(2024, 4, 1)) == date(2024, 4, 1)
    assert await ledger.sync_cursor(account_id, "manual") == date(2024, 4, 1)
    assert await ledger.sync_cursor(account_id, "gocardless") is None


def test_without_database_url_the_ledger_is_a_file_in_the_data_directory(tmp_path: Path) -> None:
    data = tmp_path
    assert async_url(None, data) == f"sqlite+aiosqlite:///{data / 'ledger.db'}"
    assert async_url("postgres://u:p@db:5432/books", data) == "postgresql+psycopg://u:p@db:5432/books"
    assert async_url("sqlite:////var/x.db", data) == "sqlite+aiosqlite:////var/x.db"


async def test_linked_accounts_are_the_ones_a_network_provider_keeps(ledger: Ledger, account_id: str) -> None:
    for suffix, provider in (("m", "manual"), ("g", "gocardless"), ("a", "api")):
        await ledger.open_account(NewAccount(f"{account_id}_{suffix}", "x", "EUR", provider))
    mine = [a.id for a in await ledger.linked_accounts() if a.id.startswith(account_id)]
    assert mine == [f"{account_id}_a", f"{account_id}_g"]  # by id; the manual one left out


async def test_a_synced_window_replaces_the_pending_rows_the_provider_no_longer_lists(
    ledger: Ledger, account_id: str
) -> None:
    await ledger.open_account(NewAccount(account_id, "Giro", "EUR", "gocardless"))
    pending = NewTransaction(date(2024, 3, 5), Decimal("-20.00"), "EUR", "Fuel", booked=False)
    old_pending = NewTransaction(date(2024, 2, 1), Decimal("-1.00"), "EUR", "Old", booked=False)
    first = await ledger.record_synced(account_id, [coffee(1, fitid="c1"), pending], None, None)
    await ledger.record(account_id, [old_pending])  # outside the next window: left alone
    still = await ledger.record_synced(account_id, [coffee(1, fitid="c1"), pending], date(2024, 3, 1), None)
    booked = NewTransaction(date(2024, 3, 6), Decimal("-20.00"), "EUR", "Fuel", provider_transaction_id="f5")
    later = await ledger.record_synced(account_id, [coffee(1, fitid="c1"), booked], date(2024, 3, 1), None)
    assert [(r.processed, r.new) for r in (first, still, later)] == [(2, 2), (2, 0), (2, 1)]
    rows = [(t.payee, t.booked, t.booking_date.day) for t in await ledger.transactions(account_id)]
    assert rows == [("Old", False, 1), ("Café Central", True, 1), ("Fuel", True, 6)]
