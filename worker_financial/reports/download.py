"""Handing out a generated report's file: exactly the bytes report-generation wrote, or nothing.

The register (ledger/report_files.py) keeps each file's size and SHA-256 as
it was written. Before a byte goes out the whole file is hashed and compared
with them: a file that is gone, moved outside the reports folder, truncated or
changed is DataLossError (DATA_LOSS on the wire), and no chunk of it is sent.
The bytes are then read from the same open file, so a job that rewrites the
report meanwhile (it renames a new file into place) cannot mix two versions
into one download; they are hashed again as they go, and should the file
have been changed in place while streaming, the download ends in DataLossError
instead of finishing as if nothing happened.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import BinaryIO, Final

from queue_system.errors import DataLossError, NotFoundError
from worker_financial.ledger import report_files
from worker_financial.ledger.report_files import ReportFile
from worker_financial.ledger.store import Ledger

CHUNK_BYTES: Final = 64 * 1024
RESOURCE: Final = "report"


def _lost(report: ReportFile, why: str) -> DataLossError:
    return DataLossError(
        f"report {report.job_id!r} cannot be handed out: {why}; generate it again", RESOURCE, report.job_id
    )


def _digest(handle: BinaryIO) -> tuple[int, str]:
    """(size, sha256) of the whole file from its start, leaving the handle at its start again."""
    handle.seek(0)
    digest = hashlib.sha256()
    size = 0
    while block := handle.read(1024 * 1024):
        digest.update(block)
        size += len(block)
    handle.seek(0)
    return size, digest.hexdigest()


def _open_checked(report: ReportFile, reports_dir: Path) -> BinaryIO:
    """The report's file, open and checked against the register (DataLossError otherwise)."""
    path = Path(report.location)
    try:
        inside = path.resolve().is_relative_to(reports_dir.resolve())
    except OSError:
        inside = False
    if not inside:
        raise _lost(report, "its file is recorded outside the reports folder")
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise _lost(report, "its file is gone") from None
    except OSError as exc:
        raise _lost(report, f"its file cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        size, digest = _digest(handle)
    except BaseException:
        handle.close()
        raise
    if (size, digest) != (report.size_bytes, report.sha256):
        handle.close()
        raise _lost(
            report,
            f"its file is no longer the one written ({size} bytes, SHA-256 {digest[:12]}...; "
            f"recorded {report.size_bytes} bytes, {report.sha256[:12]}...)",
        )
    return handle


async def find_report(ledger: Ledger, report_id: str) -> ReportFile:
    """The registered report `report_id` (a report-generation job's id); NotFoundError otherwise."""
    found = await report_files.find(ledger, report_id)
    if found is None:
        raise NotFoundError(RESOURCE, report_id)
    return found


async def verified_chunks(
    report: ReportFile, reports_dir: Path, chunk_bytes: int = CHUNK_BYTES
) -> AsyncGenerator[bytes, None]:
    """The report's bytes in chunks of `chunk_bytes`, checked against its recorded SHA-256 first
    and as they go (see the module docstring). File reads run off the event loop."""
    handle = await asyncio.to_thread(_open_checked, report, reports_dir)
    try:
        digest = hashlib.sha256()
        size = 0
        while chunk := await asyncio.to_thread(handle.read, chunk_bytes):
            digest.update(chunk)
            size += len(chunk)
            yield chunk
        if (size, digest.hexdigest()) != (report.size_bytes, report.sha256):
            raise _lost(report, "its file changed while it was being sent")
    finally:
        handle.close()
