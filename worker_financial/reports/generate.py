"""The report-generation processor: build the report, write its file, register where it is.

The file goes to `<reports_dir>/<report type>/<from>_<to>_<job id>.<ext>`
(reports_dir is JOBMESH_DATA_DIR/reports in the service), written to a
temporary name and renamed into place, so a reader never sees half a report;
the ledger's register (ledger/report_files.py) and the job's result name its
absolute path, size and SHA-256. A job delivered again writes the same path.

Input the job's contract lets through but this worker cannot honour fails as
`ReportInputError` (a ValueError: never retried, filed as validation by the
DLQ): an unknown report type or format, a missing or inverted date range, an
unknown filter, or an account the ledger does not have. The filters are
`accountId` (one id) or `accountIds` (a list); without them the report covers
every account. Dates of the range are taken in UTC, both ends inclusive.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import re
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from google.protobuf import json_format

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from worker_financial.ledger import aggregates, report_files
from worker_financial.ledger.store import Ledger
from worker_financial.reports.content import REPORT_NAMES, Report, build
from worker_financial.reports.fonts import PdfFont
from worker_financial.reports.render import FORMAT_EXTENSIONS, render

FORMAT_NAMES: Final = {
    fj.REPORT_FORMAT_PDF: "pdf",
    fj.REPORT_FORMAT_EXCEL: "excel",
    fj.REPORT_FORMAT_JSON: "json",
    fj.REPORT_FORMAT_CSV: "csv",
}
_ONE_ACCOUNT: Final = ("accountId", "account_id")
_ACCOUNTS: Final = ("accountIds", "account_ids")
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]")


class ReportInputError(ValueError):
    """The job asks for a report this worker cannot make as asked (see the module docstring)."""


def _dates(job: fj.ReportGenerationJob) -> tuple[date, date]:
    if not job.parameters.HasField("date_range"):
        raise ReportInputError("parameters.date_range is required")
    span = job.parameters.date_range
    start = span.start.ToDatetime(tzinfo=UTC).date()
    end = span.end.ToDatetime(tzinfo=UTC).date()
    if end < start:
        raise ReportInputError(f"parameters.date_range ends ({end}) before it starts ({start})")
    return start, end


def _accounts(job: fj.ReportGenerationJob) -> list[str]:
    """The accounts the filters name (empty: every account)."""
    filters = json_format.MessageToDict(job.parameters.filters)
    unknown = sorted(set(filters) - {*_ONE_ACCOUNT, *_ACCOUNTS})
    if unknown:
        raise ReportInputError(
            f"unknown filter {', '.join(unknown)}: a report filters by accountId or accountIds only"
        )
    named: list[str] = []
    for key in _ONE_ACCOUNT:
        if key in filters:
            if not isinstance(filters[key], str) or not filters[key]:
                raise ReportInputError(f"filter {key} must be an account id (a string)")
            named.append(filters[key])
    for key in _ACCOUNTS:
        if key in filters:
            ids = filters[key]
            if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
                raise ReportInputError(f"filter {key} must be a list of account ids (strings)")
            named += ids
    return sorted(set(named))


def _checked(job: fj.ReportGenerationJob) -> tuple[str, str, date, date, list[str]]:
    report_type = REPORT_NAMES.get(job.report_type)
    if report_type is None:
        raise ReportInputError(
            f"unknown report_type {job.report_type}: monthly_summary, tax_report, cash_flow or profit_loss"
        )
    kind = FORMAT_NAMES.get(job.format)
    if kind is None:
        raise ReportInputError(f"unknown format {job.format}: pdf, excel, json or csv")
    start, end = _dates(job)
    return report_type, kind, start, end, _accounts(job)


def report_path(
    reports_dir: Path, report_type: str, kind: str, *, start: date, end: date, job_id: str
) -> Path:
    """Where a job's report goes: one file per job, its name safe on any file system."""
    readable = _UNSAFE.sub("_", job_id)[:80]
    tag = hashlib.sha256(job_id.encode()).hexdigest()[:10]
    name = f"{start.isoformat()}_{end.isoformat()}_{readable}-{tag}.{FORMAT_EXTENSIONS[kind]}"
    return reports_dir / report_type / name


def _write(path: Path, report: Report, kind: str, pdf_font: PdfFont | None) -> tuple[int, str]:
    """Render and write atomically (temp file, fsync, rename); (size, sha256)."""
    content = render(report, kind, pdf_font)
    path.parent.mkdir(parents=True, exist_ok=True)  # the reports folder is made on first use
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return len(content), hashlib.sha256(content).hexdigest()


async def generate_report(
    job: fj.ReportGenerationJob,
    job_id: str,
    ledger: Ledger,
    reports_dir: Path,
    pdf_font: PdfFont | None = None,
) -> fr.ReportGenerationResult:
    """Make the job's report as a file under `reports_dir`, register it, and say where it is. A PDF
    is written in `pdf_font` (reports/fonts.py; None: the built-in Helvetica, Latin-1 only)."""
    report_type, kind, start, end, accounts = _checked(job)
    if accounts:
        missing = sorted(set(accounts) - await aggregates.known_accounts(ledger, accounts))
        if missing:
            raise ReportInputError(f"unknown account {', '.join(missing)}: the ledger has no such account")
    shown = accounts or await aggregates.account_ids(ledger)
    report = await build(
        ledger, report_type, accounts=accounts, start=start, end=end, generated_at=datetime.now(UTC)
    )
    report = dataclasses.replace(report, account_ids=tuple(shown))
    path = report_path(reports_dir, report_type, kind, start=start, end=end, job_id=job_id)
    # Rendering (a PDF, a workbook) and writing are CPU and disk work: off the event loop.
    size, digest = await asyncio.to_thread(_write, path, report, kind, pdf_font)
    await report_files.register(
        ledger,
        report_files.ReportFile(
            job_id=job_id,
            report_type=report_type,
            format=kind,
            period_start=start,
            period_end=end,
            location=str(path),
            size_bytes=size,
            sha256=digest,
            transactions=report.transactions,
        ),
    )
    return fr.ReportGenerationResult(
        report_type=job.report_type,
        format=job.format,
        period_start=start.isoformat(),
        period_end=end.isoformat(),
        location=str(path),
        size_bytes=size,
        sha256=digest,
        transactions=report.transactions,
        income={c: format(t.income, "f") for c, t in report.totals.items()},
        expenses={c: format(t.expenses, "f") for c, t in report.totals.items()},
        net={c: format(t.net, "f") for c, t in report.totals.items()},
        account_ids=shown,
    )
