"""Pages of the ledger's accounts, of its report register and of its kept reconciliations, for
people to browse (FinancialService's ListAccounts, ListReports and ListReconciliations).

Keyset pages, not offsets: a page token holds the key of the last row it
showed, so an account opened or a report written while someone pages through
neither repeats a row nor skips one, and a deep page costs what the first does.
Accounts come by id; reports and reconciliations newest first, by
(created_at, job_id) descending, a reconciliation with how many unmatched
items of each side it kept (counted in the same query, not one per row).
A token is opaque to the caller (queue_system.tokens); one this service did
not issue is INVALID_ARGUMENT naming `page_token`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import and_, case, func, or_, select

from queue_system.tokens import decode_token, encode_token, not_our_token
from worker_financial.ledger.entries import AccountRecord
from worker_financial.ledger.models import (
    Account,
    GeneratedReport,
    Reconciliation,
    ReconciliationItem,
    SyncCursor,
)
from worker_financial.ledger.reconciliations import (
    LEDGER_SIDE,
    STATEMENT_SIDE,
    ReconciliationRecord,
    record_of,
)
from worker_financial.ledger.report_files import ReportFile, report_file
from worker_financial.ledger.store import Ledger, account_record

TOKEN_FIELD: Final = "page_token"


@dataclass(frozen=True, slots=True)
class ListedAccount:
    """An account and how far a sync from its own provider has got (None: never synced)."""

    account: AccountRecord
    last_booked_date: date | None


def _accounts_query() -> Any:
    """Accounts with their own provider's sync cursor (one LEFT JOIN: the cursor is cheap)."""
    return select(Account, SyncCursor.last_booked_date).outerjoin(
        SyncCursor, and_(SyncCursor.account_id == Account.id, SyncCursor.provider == Account.provider)
    )


async def accounts_page(ledger: Ledger, size: int, token: str) -> tuple[list[ListedAccount], str]:
    """Up to `size` accounts after the token's (by id), and the next page's token ('' at the end)."""
    data = decode_token(token, TOKEN_FIELD)
    after = data.get("after", "") if data.keys() <= {"after"} else None
    if not isinstance(after, str):  # not ours, or another list's (ListReports')
        raise not_our_token(TOKEN_FIELD)
    await ledger.migrate()
    query = _accounts_query().where(Account.id > after).order_by(Account.id).limit(size + 1)
    async with ledger.sessions() as session:
        rows = (await session.execute(query)).all()
    listed = [ListedAccount(account_record(row[0]), row[1]) for row in rows[:size]]
    more = len(rows) > size
    return listed, encode_token({"after": listed[-1].account.id}) if more and listed else ""


async def accounts_by_id(ledger: Ledger, ids: Sequence[str]) -> list[ListedAccount]:
    """The accounts with these ids that the ledger holds, in the order of `ids`."""
    await ledger.migrate()
    async with ledger.sessions() as session:
        rows = (await session.execute(_accounts_query().where(Account.id.in_(list(ids))))).all()
    found = {row[0].id: ListedAccount(account_record(row[0]), row[1]) for row in rows}
    return [found[i] for i in ids if i in found]


@dataclass(frozen=True, slots=True)
class ListedReconciliation:
    """A kept reconciliation's figures (`record`, without its items: its unmatched_* are empty) and
    how many unmatched items of each side it kept."""

    record: ReconciliationRecord
    unmatched_ledger: int
    unmatched_statement: int


# What tells a reconciliations token from a reports one (both hold a time and an id).
_RECONCILIATIONS: Final = {"of": "reconciliations"}


def _newest_first_key(token: str, marks: dict[str, str]) -> tuple[datetime, str] | None:
    """The (created_at, job_id) of the last row a token's page showed (None: from the newest); the
    token must be one of the list `marks` (its extra keys) tells apart."""
    data = decode_token(token, TOKEN_FIELD)
    if not data:
        return None
    at, job_id = data.get("at"), data.get("id")
    if data.keys() != {"at", "id", *marks} or any(data.get(k) != v for k, v in marks.items()):
        raise not_our_token(TOKEN_FIELD)
    if not isinstance(at, str) or not isinstance(job_id, str):
        raise not_our_token(TOKEN_FIELD)
    try:
        created = datetime.fromisoformat(at)
        if created.tzinfo is None:
            raise not_our_token(TOKEN_FIELD)
        # In UTC here, as the query binds it: an offset that moves it past year 1 or 9999
        # ("0001-01-01T00:00:00+14:00") is no time this service wrote.
        created = created.astimezone(UTC)
    except (ValueError, OverflowError):
        raise not_our_token(TOKEN_FIELD) from None
    return created, job_id


def _newest_first(query: Any, created: Any, job_id: Any, before: tuple[datetime, str] | None) -> Any:
    """`query` newest first by (`created`, `job_id`), from after the row `before` keys (None: the
    newest), the order and the keyset test of ListReports and ListReconciliations alike."""
    if before is not None:
        at, last = before
        query = query.where(or_(created < at, and_(created == at, job_id < last)))
    return query.order_by(created.desc(), job_id.desc())


def _newest_first_token(
    fetched: int, size: int, created_at: datetime | None, job_id: str, marks: dict[str, str]
) -> str:
    """The next page's token after a page of `size` whose last row has (`created_at`, `job_id`),
    when `fetched` (size + 1 asked) says there is one; '' at the end."""
    if fetched <= size:
        return ""
    assert created_at is not None  # every registered report and kept reconciliation has its time
    return encode_token({"at": created_at.isoformat(), "id": job_id, **marks})


async def reports_page(
    ledger: Ledger, size: int, token: str, report_type: str | None = None
) -> tuple[list[ReportFile], str]:
    """Up to `size` registered reports (of `report_type` only, when given), newest first, after the
    token's, and the next page's token ('' at the end)."""
    before = _newest_first_key(token, {})
    await ledger.migrate()
    query = select(GeneratedReport)
    if report_type is not None:
        query = query.where(GeneratedReport.report_type == report_type)
    query = _newest_first(query, GeneratedReport.created_at, GeneratedReport.job_id, before).limit(size + 1)
    async with ledger.sessions() as session:
        rows = list(await session.scalars(query))
    files = [report_file(row) for row in rows[:size]]
    if not files:
        return files, ""
    return files, _newest_first_token(len(rows), size, files[-1].created_at, files[-1].job_id, {})


def _item_counts() -> Any:
    """Per reconciliation, how many unmatched items of each side it kept (one GROUP BY)."""
    item = ReconciliationItem

    def of(side: str) -> Any:
        return func.sum(case((item.side == side, 1), else_=0))

    return (
        select(
            item.reconciliation_id.label("reconciliation_id"),
            of(LEDGER_SIDE).label("ledger"),
            of(STATEMENT_SIDE).label("statement"),
        )
        .group_by(item.reconciliation_id)
        .subquery()
    )


async def reconciliations_page(
    ledger: Ledger, size: int, token: str, account_id: str = "", passed: bool | None = None
) -> tuple[list[ListedReconciliation], str]:
    """Up to `size` kept reconciliations (of `account_id` only, when given; passed or failed only,
    when `passed` is not None), newest first, after the token's, and the next page's token ('' at
    the end)."""
    before = _newest_first_key(token, _RECONCILIATIONS)
    await ledger.migrate()
    r = Reconciliation
    counts = _item_counts()
    query = select(r, func.coalesce(counts.c.ledger, 0), func.coalesce(counts.c.statement, 0)).outerjoin(
        counts, counts.c.reconciliation_id == r.job_id
    )
    if account_id:
        query = query.where(r.account_id == account_id)
    if passed is not None:
        query = query.where(r.passed.is_(passed))
    query = _newest_first(query, r.created_at, r.job_id, before).limit(size + 1)
    async with ledger.sessions() as session:
        rows = (await session.execute(query)).all()
    listed = [ListedReconciliation(record_of(row[0], ()), int(row[1]), int(row[2])) for row in rows[:size]]
    if not listed:
        return listed, ""
    last = listed[-1].record
    return listed, _newest_first_token(len(rows), size, last.created_at, last.job_id, _RECONCILIATIONS)
