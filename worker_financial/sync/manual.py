"""The `manual` provider: a statement file the user downloaded from the bank (OFX/QFX or CSV).

The job carries the file (`manual.content`) or a path the worker can read
(`manual.path`). Its format is the job's `manual.format`, else the path's
extension, else a look at the content (an OFX header or <OFX> tag).
"""

from __future__ import annotations

from pathlib import Path

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from worker_financial.sync.csv_statement import read_csv
from worker_financial.sync.errors import SyncInputError
from worker_financial.sync.ofx_statement import read_ofx
from worker_financial.sync.statement import Statement

_BY_EXTENSION = {
    ".ofx": fj.STATEMENT_FORMAT_OFX,
    ".qfx": fj.STATEMENT_FORMAT_QFX,
    ".csv": fj.STATEMENT_FORMAT_CSV,
}


def statement_bytes(manual: fj.ManualImport) -> bytes:
    source = manual.WhichOneof("source")
    if source == "content":
        return manual.content
    if source == "path":
        try:
            return Path(manual.path).expanduser().read_bytes()
        except OSError as exc:
            raise SyncInputError(f"manual.path {manual.path!r} cannot be read: {exc.strerror}") from exc
    raise SyncInputError("manual.content or manual.path is required: the statement to import")


def statement_format(manual: fj.ManualImport, content: bytes) -> fj.StatementFormat:
    if manual.format != fj.STATEMENT_FORMAT_UNSPECIFIED:
        return manual.format
    if manual.WhichOneof("source") == "path":
        known = _BY_EXTENSION.get(Path(manual.path).suffix.lower())
        if known is not None:
            return known
    head = content[:2048].lstrip().upper()
    if head.startswith(b"OFXHEADER") or head.startswith(b"<?XML") or b"<OFX>" in head:
        return fj.STATEMENT_FORMAT_OFX
    return fj.STATEMENT_FORMAT_CSV


def read_statement(
    manual: fj.ManualImport, account_currency: str | None
) -> tuple[fj.StatementFormat, Statement]:
    """The statement a manual import names, in its format. A CSV statement's currency is the
    account's (or `manual.currency` for an account the ledger does not hold yet)."""
    content = statement_bytes(manual)
    kind = statement_format(manual, content)
    if kind in (fj.STATEMENT_FORMAT_OFX, fj.STATEMENT_FORMAT_QFX):
        statements = read_ofx(content)
        if len(statements) > 1:
            raise SyncInputError(
                f"the OFX/QFX file holds {len(statements)} statements; a sync imports one account's"
            )
        return kind, statements[0]
    if not manual.HasField("csv"):
        raise SyncInputError("manual.csv is required for a CSV statement: which columns hold what")
    currency = account_currency or manual.currency
    if not currency:
        raise SyncInputError("manual.currency is required to open an account from a CSV statement")
    return kind, read_csv(content, manual.csv, currency.upper())
