"""CSV statements through a column map: debit/credit or signed amounts, local number and date
formats, exact amounts, and a second import that adds nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from tests.worker_financial.sync.statements import CSV_DEBIT_CREDIT, CSV_SIGNED
from tests.worker_financial.sync.test_ofx_import import manual_sync
from worker_financial.ledger.store import Ledger
from worker_financial.sync.csv_statement import parse_amount, read_csv
from worker_financial.sync.errors import SyncInputError
from worker_financial.sync.transaction_sync import sync_transactions

GERMAN = fj.CsvColumns(
    date="Buchungstag",
    value_date="Valuta",
    payee="Empfänger",
    description="Verwendungszweck",
    debit="Soll",
    credit="Haben",
    date_format="%d.%m.%Y",
    decimal_separator=",",
    delimiter=";",
)


def test_amounts_read_exactly_in_either_notation() -> None:
    assert parse_amount("1.234,56", ",") == Decimal("1234.56")
    assert parse_amount("-1,234.56") == Decimal("-1234.56")
    assert parse_amount("(12.50)") == Decimal("-12.50")
    assert parse_amount("  ") == Decimal(0)
    with pytest.raises(ValueError, match="not an amount"):
        parse_amount("twelve")


def test_debit_and_credit_columns_make_signed_amounts() -> None:
    statement = read_csv(CSV_DEBIT_CREDIT, GERMAN, "EUR")
    assert [
        (t.booking_date, t.value_date, t.amount, t.payee, t.description) for t in statement.transactions
    ] == [
        (date(2024, 1, 2), date(2024, 1, 3), Decimal("-84.20"), "Stadtwerke", "Strom Januar"),
        (date(2024, 1, 5), date(2024, 1, 5), Decimal("3150.00"), "Arbeitgeber AG", "Gehalt"),
        (date(2024, 1, 6), date(2024, 1, 6), Decimal("-2.40"), "Bäckerei", ""),
        (date(2024, 1, 6), date(2024, 1, 6), Decimal("-2.40"), "Bäckerei", ""),
    ]
    assert all(t.provider_transaction_id is None and t.currency == "EUR" for t in statement.transactions)


async def test_a_csv_import_twice_adds_nothing_and_keeps_identical_rows_apart(
    ledger: Ledger, account_id: str
) -> None:
    job = manual_sync(account_id, fj.ManualImport(content=CSV_DEBIT_CREDIT, csv=GERMAN, currency="eur"))
    first = await sync_transactions(job, ledger)
    assert (first.format, first.transactions_processed, first.new_transactions) == (
        fj.STATEMENT_FORMAT_CSV,
        4,
        4,
    )
    again = await sync_transactions(job, ledger)
    assert (again.transactions_processed, again.new_transactions, again.duplicates) == (4, 0, 4)
    rows = await ledger.transactions(account_id)
    assert [r.amount for r in rows] == [
        Decimal("-84.20"),
        Decimal("3150.00"),
        Decimal("-2.40"),
        Decimal("-2.40"),
    ]
    assert sum(r.amount for r in rows) == Decimal("3061.00")


async def test_a_signed_amount_column_with_bank_ids(ledger: Ledger, account_id: str) -> None:
    columns = fj.CsvColumns(date="date", payee="payee", amount="amount", transaction_id="id")
    job = manual_sync(account_id, fj.ManualImport(content=CSV_SIGNED, csv=columns, currency="GBP"))
    assert (await sync_transactions(job, ledger)).new_transactions == 2
    rows = await ledger.transactions(account_id)
    assert [(r.provider_transaction_id, r.amount, r.currency) for r in rows] == [
        ("B-1", Decimal("-19.99"), "GBP"),
        ("B-2", Decimal("19.99"), "GBP"),
    ]


@pytest.mark.parametrize(
    ("columns", "content", "message"),
    [
        (fj.CsvColumns(date="date", payee="payee"), CSV_SIGNED, "either amount"),
        (fj.CsvColumns(date="date", payee="payee", debit="amount"), CSV_SIGNED, "go together"),
        (
            fj.CsvColumns(date="day", payee="payee", amount="amount"),
            CSV_SIGNED,
            r"lacks the columns \['day'\]",
        ),
        (
            fj.CsvColumns(date="date", payee="payee", amount="amount", date_format="%d/%m/%Y"),
            CSV_SIGNED,
            "CSV row 2: date '2024-02-01' does not match",
        ),
    ],
)
def test_a_wrong_column_map_or_row_is_refused_naming_it(
    columns: fj.CsvColumns, content: bytes, message: str
) -> None:
    with pytest.raises(SyncInputError, match=message):
        read_csv(content, columns, "EUR")
