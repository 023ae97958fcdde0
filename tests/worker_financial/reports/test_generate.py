"""report-generation on SQLite and PostgreSQL: every report type in every format, each file read
back by its own reader (json, csv, openpyxl, pypdf) and its totals checked against figures worked
out by hand from the transactions below; the register names the file; bad input is refused."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import update

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from worker_financial.ledger import report_files
from worker_financial.ledger.entries import NewAccount, NewTransaction
from worker_financial.ledger.models import LedgerTransaction
from worker_financial.ledger.store import Ledger
from worker_financial.reports import fonts
from worker_financial.reports.generate import ReportInputError, generate_report

# (account, day, amount, category, booked)
BOOKS: list[tuple[str, date, str, str | None, bool]] = [
    ("A", date(2024, 1, 31), "10.00", None, True),  # before the period
    ("A", date(2024, 2, 1), "2000.00", "salary", True),
    ("A", date(2024, 2, 3), "-700.00", "housing", True),
    ("A", date(2024, 2, 15), "-4.25", "food", True),
    ("A", date(2024, 3, 2), "15.75", "food", True),  # a refund
    ("A", date(2024, 3, 20), "-60.40", "food", True),
    ("A", date(2024, 3, 21), "-9.99", "food", False),  # pending: never counts
    ("A", date(2024, 4, 1), "1.00", None, True),  # after the period
    ("B", date(2024, 2, 10), "0.05", None, True),
    ("B", date(2024, 3, 31), "-2.00", "fees", True),
    ("C", date(2024, 3, 5), "100.00", "consulting", True),
    ("C", date(2024, 3, 6), "-30.00", "software", True),
]
OPENING = {"A": ("EUR", "100.00"), "B": ("EUR", "0"), "C": ("USD", "50.00")}
PERIOD = (date(2024, 2, 1), date(2024, 3, 31))

# By hand, for February and March 2024 (booked only). EUR (A and B): income 2000.00 + 15.75 + 0.05
# = 2015.80, expenses -700.00 - 4.25 - 60.40 - 2.00 = -766.65, net 1249.15, 7 transactions.
# USD (C): 100.00, -30.00, 70.00, 2 transactions.
# Each table's total row, by the table's title ("{A}" stands for account A's id).
TOTALS: dict[str, dict[str, list[str]]] = {
    "monthly_summary": {
        # February: 2000.00 + 0.05 in, -700.00 - 4.25 out; March: 15.75 in, -60.40 - 2.00 out.
        "Monthly summary (EUR)": ["Total", "7", "2015.80", "-766.65", "1249.15"],
        "Monthly summary (USD)": ["Total", "2", "100.00", "-30.00", "70.00"],
    },
    "cash_flow": {
        # A opens at 100.00 + 10.00 = 110.00, B at 0.00: 110.00 + 1249.15 = 1359.15 at the end.
        "Cash flow (EUR)": ["Total", "110.00", "2015.80", "-766.65", "1249.15", "1359.15"],
        "Cash flow (USD)": ["Total", "50.00", "100.00", "-30.00", "70.00", "120.00"],
    },
    "profit_loss": {
        "Profit and loss (EUR)": ["Total", "2015.80", "-766.65", "1249.15"],
        "Profit and loss (USD)": ["Total", "100.00", "-30.00", "70.00"],
    },
    "tax_report": {
        # Income: salary, the food refund, B's interest; expenses: rent, coffee, groceries, fee.
        "Income (EUR)": ["Total", "3", "2015.80"],
        "Expenses (EUR)": ["Total", "4", "-766.65"],
        "Income (USD)": ["Total", "1", "100.00"],
        "Expenses (USD)": ["Total", "1", "-30.00"],
    },
}
# Rows that show the grouping is right, by table title.
SOME_ROWS: dict[str, dict[str, list[list[str]]]] = {
    "monthly_summary": {
        "Monthly summary (EUR)": [
            ["2024-02", "4", "2000.05", "-704.25", "1295.80"],
            ["2024-03", "3", "15.75", "-62.40", "-46.65"],
        ],
    },
    "cash_flow": {
        "Cash flow (EUR)": [
            ["{A}", "110.00", "2015.75", "-764.65", "1251.10", "1361.10"],
            ["{B}", "0.00", "0.05", "-2.00", "-1.95", "-1.95"],
        ],
    },
    "profit_loss": {
        "Profit and loss (EUR)": [
            ["fees", "0.00", "-2.00", "-2.00"],
            ["food", "15.75", "-64.65", "-48.90"],
            ["housing", "0.00", "-700.00", "-700.00"],
            ["salary", "2000.00", "0.00", "2000.00"],
            ["uncategorized", "0.05", "0.00", "0.05"],
        ],
    },
    "tax_report": {
        "Income (EUR)": [["food", "1", "15.75"], ["salary", "1", "2000.00"], ["uncategorized", "1", "0.05"]],
        "Expenses (EUR)": [["fees", "1", "-2.00"], ["food", "2", "-64.65"], ["housing", "1", "-700.00"]],
    },
}
FORMATS = {"json": fj.REPORT_FORMAT_JSON, "csv": fj.REPORT_FORMAT_CSV, "excel": fj.REPORT_FORMAT_EXCEL}
FORMATS["pdf"] = fj.REPORT_FORMAT_PDF
TYPES = {
    "monthly_summary": fj.REPORT_TYPE_MONTHLY_SUMMARY,
    "cash_flow": fj.REPORT_TYPE_CASH_FLOW,
    "profit_loss": fj.REPORT_TYPE_PROFIT_LOSS,
    "tax_report": fj.REPORT_TYPE_TAX_REPORT,
}


@pytest.fixture
async def books(ledger: Ledger, account_id: str) -> dict[str, str]:
    """Accounts A, B (EUR) and C (USD) with BOOKS; their ids, unique to the test."""
    ids = {name: f"{account_id}_{name}" for name in OPENING}
    for name, (currency, opening) in OPENING.items():
        await ledger.open_account(
            NewAccount(ids[name], name, currency, "manual", opening_balance=Decimal(opening))
        )
    for n, (name, day, amount, category, booked) in enumerate(BOOKS):
        entry = NewTransaction(
            day,
            Decimal(amount),
            OPENING[name][0],
            f"payee {n}",
            booked=booked,
            provider_transaction_id=f"t{n}",
        )
        await ledger.record(ids[name], [entry])
        if category is not None:
            async with ledger.sessions.begin() as session:
                await session.execute(
                    update(LedgerTransaction)
                    .where(
                        LedgerTransaction.account_id == ids[name],
                        LedgerTransaction.provider_transaction_id == f"t{n}",
                    )
                    .values(category=category)
                )
    return ids


def file_bytes(location: str) -> bytes:
    return Path(location).read_bytes()


def report_job(
    report_type: int,
    report_format: int,
    accounts: list[str],
    span: tuple[date, date] = PERIOD,
    **filters: Any,
) -> fj.ReportGenerationJob:
    job = fj.ReportGenerationJob(report_type=report_type, format=report_format)  # type: ignore[arg-type]
    for end, day in zip((job.parameters.date_range.start, job.parameters.date_range.end), span, strict=True):
        end.FromDatetime(datetime(day.year, day.month, day.day, tzinfo=UTC))
    json_format.ParseDict({"accountIds": accounts, **filters}, job.parameters.filters)
    return job


def tables_of(kind: str, content: bytes) -> dict[str, list[list[str]]]:
    """Each table's rows (its total row last), by title, as text, read back by the format's reader."""
    if kind == "json":
        document = json.loads(content)
        return {
            t["title"]: [[str(c) for c in r] for r in [*t["rows"], t["total"]]] for t in document["tables"]
        }
    if kind == "csv":
        out: dict[str, list[list[str]]] = {}
        for row in csv.reader(io.StringIO(content.decode())):
            if row and row[0] != "Table":
                out.setdefault(row[0], []).append(row[1:])
        return out
    if kind == "excel":
        book = load_workbook(io.BytesIO(content))
        tables = {}
        for sheet in book.worksheets[1:]:
            header, *rows = sheet.iter_rows(values_only=True)
            # Amounts are numeric cells, handed back as int or float: back to two-place decimals.
            money = [i > 0 and name != "Transactions" for i, name in enumerate(header)]
            tables[sheet.title] = [
                [
                    format(Decimal(str(c)), ".2f") if is_money else str(c)
                    for c, is_money in zip(row, money, strict=True)
                ]
                for row in rows
            ]
        return tables
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", list(FORMATS))
@pytest.mark.parametrize("report", list(TYPES))
async def test_every_report_in_every_format_reads_back_with_the_ledgers_totals(
    ledger: Ledger, books: dict[str, str], tmp_path: Path, report: str, kind: str
) -> None:
    job = report_job(TYPES[report], FORMATS[kind], list(books.values()))
    result = await generate_report(job, f"rep-{report}-{kind}", ledger, tmp_path / "reports")
    assert Path(result.location).is_relative_to(tmp_path / "reports" / report)
    content = file_bytes(result.location)
    assert result.size_bytes == len(content)
    assert (result.transactions, result.period_start, result.period_end) == (9, "2024-02-01", "2024-03-31")
    assert (dict(result.income), dict(result.expenses), dict(result.net)) == (
        {"EUR": "2015.80", "USD": "100.00"},
        {"EUR": "-766.65", "USD": "-30.00"},
        {"EUR": "1249.15", "USD": "70.00"},
    )
    expected_totals = TOTALS[report]
    expected_rows = {
        title: [[cell.format(**books) for cell in row] for row in rows]
        for title, rows in SOME_ROWS[report].items()
    }
    if kind == "pdf":
        text = " ".join(
            " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split()
        )
        assert "2024-02-01 to 2024-03-31" in text
        for title, total in expected_totals.items():
            assert f"{title} " in text
            assert " ".join(total) in text, (title, total)
        for rows in expected_rows.values():
            for row in rows:
                assert " ".join(row) in text, row
        return
    tables = tables_of(kind, content)
    assert {title: rows[-1] for title, rows in tables.items()} == expected_totals
    for title, rows in expected_rows.items():
        assert tables[title][:-1] == rows


async def test_the_register_names_the_file_and_a_second_delivery_rewrites_it(
    ledger: Ledger, books: dict[str, str], tmp_path: Path
) -> None:
    job = report_job(fj.REPORT_TYPE_MONTHLY_SUMMARY, fj.REPORT_FORMAT_JSON, [books["A"]])
    first = await generate_report(job, "rep-again", ledger, tmp_path)
    again = await generate_report(job, "rep-again", ledger, tmp_path)
    assert again.location == first.location
    assert [p.name for p in (tmp_path / "monthly_summary").iterdir()] == [Path(first.location).name]
    registered = await report_files.find(ledger, "rep-again")
    assert registered is not None
    assert (registered.location, registered.sha256, registered.format) == (
        again.location,
        again.sha256,
        "json",
    )
    # Account A alone: 2000.00 + 15.75 in, -700.00 - 4.25 - 60.40 out.
    assert (dict(again.income), dict(again.expenses), again.transactions) == (
        {"EUR": "2015.75"},
        {"EUR": "-764.65"},
        5,
    )
    assert list(again.account_ids) == [books["A"]]


async def test_a_period_without_transactions_still_makes_a_report(
    ledger: Ledger, books: dict[str, str], tmp_path: Path
) -> None:
    span = (date(2023, 1, 1), date(2023, 1, 31))
    for kind, code in FORMATS.items():
        job = report_job(fj.REPORT_TYPE_PROFIT_LOSS, code, [books["A"]], span)
        result = await generate_report(job, f"rep-empty-{kind}", ledger, tmp_path)
        assert result.transactions == 0 and len(file_bytes(result.location)) == result.size_bytes > 0


@pytest.mark.parametrize(
    ("mutate", "says"),
    [
        (lambda j: setattr(j, "format", 9), "unknown format 9"),
        (lambda j: setattr(j, "report_type", 0), "unknown report_type 0"),
        (lambda j: j.parameters.ClearField("date_range"), "parameters.date_range is required"),
        (
            lambda j: j.parameters.date_range.start.FromDatetime(datetime(2024, 4, 1, tzinfo=UTC)),
            "date_range ends (2024-03-31) before it starts (2024-04-01)",
        ),
        (
            lambda j: j.parameters.filters.update({"accountIds": ["acc_nobody_here"]}),
            "unknown account acc_nobody_here",
        ),
        (lambda j: j.parameters.filters.update({"payee": "x"}), "unknown filter payee"),
    ],
)
async def test_bad_input_is_refused_by_name(
    ledger: Ledger, books: dict[str, str], tmp_path: Path, mutate: Any, says: str
) -> None:
    job = report_job(fj.REPORT_TYPE_CASH_FLOW, fj.REPORT_FORMAT_CSV, [books["A"]])
    mutate(job)
    with pytest.raises(ReportInputError) as refused:
        await generate_report(job, "rep-bad", ledger, tmp_path)
    assert says in str(refused.value)
    assert not tmp_path.joinpath("cash_flow").exists()
    assert await report_files.find(ledger, "rep-bad") is None


async def test_a_pdf_prints_names_beyond_latin_1_in_the_systems_font(
    ledger: Ledger, account_id: str, tmp_path: Path
) -> None:
    """Categories named in Cyrillic, Polish and with a euro sign print as written in DejaVu Sans;
    in the built-in Helvetica (Latin-1) they would print as question marks."""
    font = fonts.load({})
    if font is None:
        missing = "no DejaVu Sans on this machine (apt install fonts-dejavu-core, or set JOBMESH_PDF_FONT)"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    await ledger.open_account(NewAccount(account_id, "Konto", "EUR", "manual"))
    names = {"t-food": "Продукты", "t-city": "Łódź € fees"}
    for n, provider_id in enumerate(names):
        entry = NewTransaction(
            date(2024, 3, 4), Decimal("-12.34") * (n + 1), "EUR", "payee", provider_transaction_id=provider_id
        )
        await ledger.record(account_id, [entry])
    async with ledger.sessions.begin() as session:
        for provider_id, category in names.items():
            await session.execute(
                update(LedgerTransaction)
                .where(
                    LedgerTransaction.account_id == account_id,
                    LedgerTransaction.provider_transaction_id == provider_id,
                )
                .values(category=category)
            )
    job = report_job(
        fj.REPORT_TYPE_PROFIT_LOSS, fj.REPORT_FORMAT_PDF, [account_id], (date(2024, 3, 1), date(2024, 3, 31))
    )

    def text_of(result_location: str) -> str:
        pages = PdfReader(io.BytesIO(file_bytes(result_location))).pages
        return " ".join(" ".join(page.extract_text() for page in pages).split())

    written = text_of((await generate_report(job, "rep-unicode", ledger, tmp_path, font)).location)
    assert "Продукты 0.00 -12.34 -12.34" in written
    assert "Łódź € fees 0.00 -24.68 -24.68" in written
    builtin = text_of((await generate_report(job, "rep-latin1", ledger, tmp_path)).location)
    assert "Продукты" not in builtin and "???????? 0.00 -12.34" in builtin
