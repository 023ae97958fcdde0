"""OFX and QFX statements into the ledger: exact amounts, FITIDs and dates, and nothing twice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from tests.worker_financial.sync.statements import OFX_SGML, OFX_XML
from worker_financial.ledger.store import Ledger
from worker_financial.sync.errors import SyncInputError
from worker_financial.sync.ofx_statement import read_ofx
from worker_financial.sync.transaction_sync import sync_transactions


def manual_sync(account_id: str, manual: fj.ManualImport, **fields: object) -> fj.TransactionSyncJob:
    return fj.TransactionSyncJob(
        account_id=account_id,
        provider=fj.SYNC_PROVIDER_MANUAL,
        sync_type=fields.pop("sync_type", fj.SYNC_TYPE_FULL),  # type: ignore[arg-type]
        manual=manual,
        **fields,  # type: ignore[arg-type]
    )


def test_an_ofx_1_statement_reads_exactly() -> None:
    (statement,) = read_ofx(OFX_SGML)
    assert (statement.currency, statement.account_number) == ("EUR", "0532013000")
    assert statement.closing_balance == Decimal("1295.46")
    got = [
        (t.provider_transaction_id, t.booking_date, t.value_date, t.amount, t.payee, t.description)
        for t in statement.transactions
    ]
    assert got == [
        (
            "20240301-SAL-7781",
            date(2024, 3, 1),
            date(2024, 3, 2),
            Decimal("2500.00"),
            "ACME GmbH",
            "Salary March",
        ),
        ("20240305-POS-0012", date(2024, 3, 5), None, Decimal("-3.45"), "Café Central", "Card 1234"),
        ("20240315-SO-0003", date(2024, 3, 15), None, Decimal("-1200.10"), "Rent Property Ltd", ""),
        ("20240320-FEE-0001", date(2024, 3, 20), None, Decimal("-0.99"), "Bank fee", ""),
    ]
    assert all(t.currency == "EUR" and t.booked for t in statement.transactions)


def test_an_ofx_2_statement_reads_exactly() -> None:
    (statement,) = read_ofx(OFX_XML)
    assert (statement.currency, statement.closing_balance) == ("USD", Decimal("10012.3456"))
    assert [(t.provider_transaction_id, t.booking_date, t.amount) for t in statement.transactions] == [
        ("INT-2024-04", date(2024, 4, 30), Decimal("12.3456")),
        ("XFER-88", date(2024, 4, 10), Decimal("-500")),
    ]


def test_what_is_not_ofx_is_refused_as_input() -> None:
    with pytest.raises(SyncInputError, match="not a readable OFX/QFX statement"):
        read_ofx(b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><BROKEN")


async def test_importing_an_ofx_file_twice_adds_nothing_the_second_time(
    ledger: Ledger, account_id: str
) -> None:
    job = manual_sync(account_id, fj.ManualImport(content=OFX_SGML, account_name="Giro"))
    first = await sync_transactions(job, ledger)
    assert (first.transactions_processed, first.new_transactions, first.duplicates) == (4, 4, 0)
    assert (first.first_booking_date, first.last_booking_date) == ("2024-03-01", "2024-03-20")
    assert (first.format, first.statement_balance) == (fj.STATEMENT_FORMAT_OFX, "1295.46")
    again = await sync_transactions(job, ledger)
    assert (again.transactions_processed, again.new_transactions, again.duplicates) == (4, 0, 4)

    account = await ledger.account(account_id)
    assert account is not None
    assert (account.name, account.currency, account.provider, account.external_id) == (
        "Giro",
        "EUR",
        "manual",
        "0532013000",
    )
    rows = await ledger.transactions(account_id)
    assert [(r.provider_transaction_id, r.amount) for r in rows] == [
        ("20240301-SAL-7781", Decimal("2500.00")),
        ("20240305-POS-0012", Decimal("-3.45")),
        ("20240315-SO-0003", Decimal("-1200.10")),
        ("20240320-FEE-0001", Decimal("-0.99")),
    ]
    assert sum(r.amount for r in rows) == Decimal("1295.46")
    assert await ledger.sync_cursor(account_id, "manual") == date(2024, 3, 20)


async def test_a_qfx_file_by_path_and_a_specific_range(
    ledger: Ledger, account_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "april.qfx"
    path.write_bytes(OFX_XML)
    job = manual_sync(account_id, fj.ManualImport(path=str(path)), sync_type=fj.SYNC_TYPE_SPECIFIC)
    job.date_range.start.FromJsonString("2024-04-01T00:00:00Z")
    job.date_range.end.FromJsonString("2024-04-15T23:59:59Z")
    result = await sync_transactions(job, ledger)
    assert (result.format, result.transactions_processed, result.new_transactions) == (
        fj.STATEMENT_FORMAT_QFX,
        1,
        1,
    )
    assert [r.provider_transaction_id for r in await ledger.transactions(account_id)] == ["XFER-88"]
    # The whole statement next: only the interest is new.
    full = manual_sync(account_id, fj.ManualImport(path=str(path)))
    assert (await sync_transactions(full, ledger)).new_transactions == 1
