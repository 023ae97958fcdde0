"""A report (reports/content.py) as the bytes of a file: JSON, CSV, Excel (xlsx) or PDF.

Each format says the same thing: the report's title, period, accounts and
generation time, then each table with its total row. Amounts are exact in
every format: decimal strings in JSON and CSV, plain decimals (no thousands
separators) in the PDF, and numeric cells in Excel (so a spreadsheet can add
them up again) with two decimal places shown.

- JSON: one object; amounts as strings, so no reader turns them into floats.
- CSV: the tables one after another, each a header row, its rows and its
  total row, separated by a blank row; the first column names the table, so a
  reader can pick one out.
- Excel: a "Summary" sheet (period, accounts, totals per currency), then one
  sheet per table (openpyxl).
- PDF: an A4 document with the tables (fpdf2, pure Python), in the TrueType
  font reports/fonts.py finds (DejaVu Sans where the system has it), so any
  name prints as written. Without one it falls back to fpdf2's built-in
  Helvetica, which covers Latin-1 only: any other character prints as "?",
  which only a category or account name can contain.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from worker_financial.reports.content import Cell, Report, Table
from worker_financial.reports.fonts import PdfFont

if TYPE_CHECKING:
    from fpdf import FPDF

FORMAT_EXTENSIONS: Final = {"json": "json", "csv": "csv", "excel": "xlsx", "pdf": "pdf"}
_SHEET_NAME_BAD: Final = re.compile(r"[\[\]:*?/\\]")
_EXCEL_MONEY: Final = "#,##0.00##"


def _text(cell: Cell) -> str:
    return format(cell, "f") if isinstance(cell, Decimal) else str(cell)


def _json_cell(cell: Cell) -> str | int:
    return format(cell, "f") if isinstance(cell, Decimal) else cell


def _heading(report: Report) -> dict[str, Any]:
    return {
        "reportType": report.report_type,
        "title": report.title,
        "period": {"from": report.period_start.isoformat(), "to": report.period_end.isoformat()},
        "generatedAt": report.generated_at.isoformat(),
        "accounts": list(report.account_ids),
        "transactions": report.transactions,
    }


def as_json(report: Report) -> bytes:
    document = _heading(report) | {
        "totals": {
            currency: {
                "income": format(t.income, "f"),
                "expenses": format(t.expenses, "f"),
                "net": format(t.net, "f"),
                "transactions": t.transactions,
            }
            for currency, t in report.totals.items()
        },
        "tables": [
            {
                "title": table.title,
                "currency": table.currency,
                "columns": list(table.columns),
                "rows": [[_json_cell(c) for c in row] for row in table.rows],
                "total": [_json_cell(c) for c in table.total],
            }
            for table in report.tables
        ],
    }
    return json.dumps(document, indent=2).encode()


def as_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for i, table in enumerate(report.tables):
        if i:
            writer.writerow([])
        writer.writerow(["Table", *table.columns])
        for row in (*table.rows, table.total):
            writer.writerow([table.title, *(_text(c) for c in row)])
    return out.getvalue().encode()


def _sheet_name(title: str, taken: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = _SHEET_NAME_BAD.sub("-", title)[:31]
    name, n = base, 1
    while name.casefold() in taken:
        n += 1
        suffix = f" {n}"
        name = base[: 31 - len(suffix)] + suffix
    taken.add(name.casefold())
    return name


def _put(sheet: Any, row: int, cells: tuple[Cell, ...] | list[Cell]) -> None:
    for column, value in enumerate(cells, start=1):
        cell = sheet.cell(row=row, column=column, value=value)
        if isinstance(value, Decimal):
            cell.number_format = _EXCEL_MONEY


def as_excel(report: Report) -> bytes:
    # Imported here, not at the top: openpyxl (and fpdf2 below) take seconds to import on a busy
    # machine, and worker-financial must answer its health check long before its first report.
    from openpyxl import Workbook  # noqa: PLC0415

    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook has its one sheet
    summary.title = "Summary"
    taken = {"summary"}
    heading: list[list[Cell]] = [
        ["Report", report.title],
        ["From", report.period_start.isoformat()],
        ["To", report.period_end.isoformat()],
        ["Generated at", report.generated_at.isoformat()],
        ["Accounts", ", ".join(report.account_ids)],
        ["Transactions", report.transactions],
        [],
        ["Currency", "Income", "Expenses", "Net"],
    ]
    heading += [[c, t.income, t.expenses, t.net] for c, t in report.totals.items()]
    for i, line in enumerate(heading, start=1):
        _put(summary, i, line)
    for table in report.tables:
        sheet = book.create_sheet(_sheet_name(table.title, taken))
        _put(sheet, 1, table.columns)
        for i, row in enumerate((*table.rows, table.total), start=2):
            _put(sheet, i, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class _Typeface:
    """The font family set on the document, and what its text must go through first."""

    family: str
    printable: Callable[[str], str]


def _typeface(pdf: FPDF, font: PdfFont | None) -> _Typeface:
    if font is None:
        return _Typeface("helvetica", _latin1)
    pdf.add_font("report", "", font.regular)
    pdf.add_font("report", "B", font.bold)
    return _Typeface("report", _as_is)


def _pdf_table(pdf: FPDF, face: _Typeface, table: Table) -> None:
    from fpdf.fonts import FontFace  # noqa: PLC0415 (see as_excel)

    pdf.set_font(face.family, "B", 12)
    pdf.cell(text=face.printable(table.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(face.family, size=9)
    aligns = tuple("LEFT" if i == 0 else "RIGHT" for i in range(len(table.columns)))
    with pdf.table(text_align=aligns, headings_style=FontFace(emphasis="BOLD")) as grid:
        for row in (table.columns, *table.rows, table.total):
            line = grid.row()
            for cell in row:
                line.cell(face.printable(_text(cell)))
    pdf.ln(4)


def as_pdf(report: Report, font: PdfFont | None = None) -> bytes:
    """The report as an A4 PDF in `font` (None: the built-in Helvetica, Latin-1 only)."""
    from fpdf import FPDF  # noqa: PLC0415 (see as_excel)

    pdf = FPDF(format="A4")
    face = _typeface(pdf, font)
    pdf.set_title(face.printable(report.title))
    pdf.set_creator("jobmesh worker-financial")
    pdf.add_page()
    pdf.set_font(face.family, "B", 16)
    pdf.cell(text=face.printable(report.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(face.family, size=10)
    for line in (
        f"Period: {report.period_start.isoformat()} to {report.period_end.isoformat()}",
        f"Accounts: {', '.join(report.account_ids) or '(none)'}",
        f"Transactions: {report.transactions}",
        f"Generated at: {report.generated_at.isoformat()}",
    ):
        pdf.multi_cell(0, text=face.printable(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    if not report.tables:
        pdf.cell(text="No booked transactions in this period.", new_x="LMARGIN", new_y="NEXT")
    for table in report.tables:
        _pdf_table(pdf, face, table)
    return bytes(pdf.output())


def render(report: Report, kind: str, pdf_font: PdfFont | None = None) -> bytes:
    """The report as the bytes of a `kind` file (a key of FORMAT_EXTENSIONS)."""
    if kind == "pdf":
        return as_pdf(report, pdf_font)
    return {"json": as_json, "csv": as_csv, "excel": as_excel}[kind](report)
