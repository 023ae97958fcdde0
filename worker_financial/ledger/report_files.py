"""The ledger's register of generated reports: which report a job made, and where its file is.

One row per job id. A job delivered again writes its file again (to the same
path) and updates the row, so the register always names the file on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from worker_financial.ledger.models import GeneratedReport
from worker_financial.ledger.store import Ledger


@dataclass(frozen=True, slots=True)
class ReportFile:
    job_id: str
    report_type: str
    format: str
    period_start: date
    period_end: date
    location: str
    size_bytes: int
    sha256: str
    transactions: int
    created_at: datetime | None = None


async def register(ledger: Ledger, report: ReportFile) -> None:
    """Name `report`'s file in the register (replacing what an earlier delivery of its job wrote)."""
    await ledger.migrate()
    values = {
        "job_id": report.job_id,
        "report_type": report.report_type,
        "format": report.format,
        "period_start": report.period_start,
        "period_end": report.period_end,
        "location": report.location,
        "size_bytes": report.size_bytes,
        "sha256": report.sha256,
        "transactions": report.transactions,
        "created_at": datetime.now(UTC),
    }
    statement = ledger.insert(GeneratedReport).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["job_id"], set_={k: v for k, v in values.items() if k != "job_id"}
    )
    async with ledger.sessions.begin() as session:
        await session.execute(statement)


async def find(ledger: Ledger, job_id: str) -> ReportFile | None:
    """The report `job_id` generated (None: no such job has finished one)."""
    await ledger.migrate()
    async with ledger.sessions() as session:
        row = await session.get(GeneratedReport, job_id)
        return None if row is None else report_file(row)


def report_file(row: GeneratedReport) -> ReportFile:
    """A register row as a plain value (no ORM object leaves the ledger's modules)."""
    return ReportFile(
        job_id=row.job_id,
        report_type=row.report_type,
        format=row.format,
        period_start=row.period_start,
        period_end=row.period_end,
        location=row.location,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        transactions=row.transactions,
        created_at=row.created_at,
    )
