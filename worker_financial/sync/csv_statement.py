"""CSV statements, read through a column map (jobs.v1.CsvColumns).

Bank exports differ in everything, so the job says which header holds the
booking date and the payee, and where the money is: one signed `amount`
column (money in positive) or two unsigned ones, `debit` (money out) and
`credit` (money in). Dates follow `date_format` (strptime, default ISO);
amounts use `decimal_separator` ("." or ","; the other one is then a thousands
separator), may carry a sign or accounting parentheses, and are read as exact
Decimals. A CSV row has no bank id unless `transaction_id` names a column;
without one the ledger dedupes it by its fingerprint.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Final

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from worker_financial.ledger.entries import NewTransaction
from worker_financial.sync.errors import SyncInputError
from worker_financial.sync.statement import Statement

DEFAULT_DATE_FORMAT: Final = "%Y-%m-%d"
_NOT_DIGITS: Final = re.compile(r"[^0-9.\-+]")


def parse_amount(raw: str, decimal_separator: str = ".") -> Decimal:
    """'1.234,56' (with ",") or '-1,234.56' or '(12.50)' -> an exact Decimal; '' -> 0."""
    text = raw.strip()
    if not text:
        return Decimal(0)
    negative = text.startswith("(") and text.endswith(")")
    grouping = "." if decimal_separator == "," else ","
    text = text.replace(grouping, "").replace(decimal_separator, ".")
    text = _NOT_DIGITS.sub("", text)
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {raw!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {raw!r}")
    return -amount if negative else amount


def _parse_date(raw: str, date_format: str) -> date:
    try:
        return datetime.strptime(raw.strip(), date_format).date()
    except ValueError as exc:
        raise ValueError(f"date {raw!r} does not match {date_format!r}") from exc


def check_columns(columns: fj.CsvColumns) -> None:
    """SyncInputError naming what the column map lacks or gets wrong."""
    problems = [f"csv.{name} is required" for name in ("date", "payee") if not getattr(columns, name)]
    if bool(columns.amount) == bool(columns.debit or columns.credit):
        problems.append("csv needs either amount (signed) or debit and credit columns, not both")
    elif not columns.amount and not (columns.debit and columns.credit):
        problems.append("csv.debit and csv.credit go together")
    if columns.decimal_separator not in ("", ".", ","):
        problems.append(f"csv.decimal_separator must be '.' or ',', got {columns.decimal_separator!r}")
    if len(columns.delimiter) > 1:
        problems.append(f"csv.delimiter must be one character, got {columns.delimiter!r}")
    if problems:
        raise SyncInputError("; ".join(problems))


def read_csv(content: bytes, columns: fj.CsvColumns, currency: str) -> Statement:
    """The statement a CSV file holds, in `currency`; SyncInputError naming the first bad row."""
    check_columns(columns)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SyncInputError(f"the CSV statement is not UTF-8: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text), delimiter=columns.delimiter or ",")
    wanted = [
        name
        for name in (
            columns.date,
            columns.payee,
            columns.amount,
            columns.debit,
            columns.credit,
            columns.description,
            columns.value_date,
            columns.transaction_id,
        )
        if name
    ]
    header = reader.fieldnames or []
    missing = [name for name in wanted if name not in header]
    if missing:
        raise SyncInputError(f"the CSV header {header} lacks the columns {missing}")
    date_format = columns.date_format or DEFAULT_DATE_FORMAT
    separator = columns.decimal_separator or "."
    transactions = []
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        if not any((value or "").strip() for value in row.values()):
            continue
        try:
            if columns.amount:
                amount = parse_amount(row[columns.amount] or "", separator)
            else:
                credit = abs(parse_amount(row[columns.credit] or "", separator))
                amount = credit - abs(parse_amount(row[columns.debit] or "", separator))
            value_date = (
                _parse_date(row[columns.value_date], date_format)
                if columns.value_date and (row[columns.value_date] or "").strip()
                else None
            )
            transactions.append(
                NewTransaction(
                    booking_date=_parse_date(row[columns.date] or "", date_format),
                    value_date=value_date,
                    amount=amount,
                    currency=currency,
                    payee=" ".join((row[columns.payee] or "").split()),
                    description=" ".join((row[columns.description] or "").split())
                    if columns.description
                    else "",
                    provider_transaction_id=(row[columns.transaction_id] or "").strip() or None
                    if columns.transaction_id
                    else None,
                )
            )
        except ValueError as exc:
            raise SyncInputError(f"CSV row {number}: {exc}") from exc
    return Statement(transactions=transactions, currency=currency)
