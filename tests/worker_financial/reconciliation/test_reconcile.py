"""account-reconciliation against the ledger on SQLite and PostgreSQL: the periods each type covers,
a discrepancy planted on either side found and its transactions named, the record kept once per
job, and bad input refused. Every expected figure is worked out by hand in the test."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from google.protobuf.struct_pb2 import Value
from google.protobuf.timestamp_pb2 import Timestamp

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from worker_financial.ledger.entries import AccountRecord, NewAccount, NewTransaction
from worker_financial.ledger.reconciliations import load
from worker_financial.ledger.store import Ledger
from worker_financial.reconciliation.periods import Period, ReconciliationInputError, period_of
from worker_financial.reconciliation.reconcile import ProviderBalance, reconcile


def stamp(day: date) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC))
    return ts


def job(
    account_id: str,
    kind: int = fj.RECONCILIATION_TYPE_MONTHLY,
    *,
    target: str | None = None,
    threshold: str = "0",
    on: date = date(2024, 4, 2),
    span: tuple[date, date] | None = None,
) -> fj.AccountReconciliationJob:
    out = fj.AccountReconciliationJob(
        account_id=account_id,
        reconciliation_type=kind,  # type: ignore[arg-type]
        discrepancy_threshold=Value(string_value=threshold),
        timestamp=stamp(on),
    )
    if target is not None:
        out.target_balance.string_value = target
    if span is not None:
        out.date_range.start.CopyFrom(stamp(span[0]))
        out.date_range.end.CopyFrom(stamp(span[1]))
    return out


def tx(day: date, amount: str, payee: str, fitid: str | None, *, booked: bool = True) -> NewTransaction:
    return NewTransaction(
        booking_date=day,
        amount=Decimal(amount),
        currency="EUR",
        payee=payee,
        booked=booked,
        provider_transaction_id=fitid,
    )


SALARY = tx(date(2024, 2, 28), "2500.00", "Employer", "s1")  # before March
RENT = tx(date(2024, 3, 1), "-1200.00", "Landlord", "r1")
COFFEE = tx(date(2024, 3, 5), "-3.50", "Cafe", "c1")
GROCERIES = tx(date(2024, 3, 10), "-86.20", "Market", "g1")
PENDING = tx(date(2024, 3, 12), "-15.00", "Kiosk", None, booked=False)
APRIL = tx(date(2024, 4, 1), "50.00", "Friend", "x1")  # after March


@pytest.fixture
async def march(ledger: Ledger, account_id: str) -> str:
    """An account opened with 1000.00; by hand, for March 2024: opening 1000.00 + 2500.00 = 3500.00,
    booked in March -1200.00 - 3.50 - 86.20 = -1289.70, so the ledger expects 2210.30."""
    await ledger.open_account(
        NewAccount(account_id, "Giro", "EUR", "manual", opening_balance=Decimal("1000"))
    )
    await ledger.record(account_id, [SALARY, RENT, COFFEE, GROCERIES, PENDING, APRIL])
    return account_id


@pytest.mark.parametrize(
    ("kind", "on", "period"),
    [
        (fj.RECONCILIATION_TYPE_DAILY, date(2024, 3, 1), Period(date(2024, 2, 29), date(2024, 2, 29))),
        (fj.RECONCILIATION_TYPE_DAILY, date(2024, 1, 1), Period(date(2023, 12, 31), date(2023, 12, 31))),
        # Monday 2024-03-04: the week before is Monday 02-26 to Sunday 03-03 (a leap February).
        (fj.RECONCILIATION_TYPE_WEEKLY, date(2024, 3, 4), Period(date(2024, 2, 26), date(2024, 3, 3))),
        (fj.RECONCILIATION_TYPE_MONTHLY, date(2024, 1, 15), Period(date(2023, 12, 1), date(2023, 12, 31))),
        (fj.RECONCILIATION_TYPE_MONTHLY, date(2024, 3, 31), Period(date(2024, 2, 1), date(2024, 2, 29))),
        (fj.RECONCILIATION_TYPE_MANUAL, date(2024, 3, 31), Period(None, date(2024, 3, 31))),
    ],
)
def test_each_type_covers_its_period(kind: int, on: date, period: Period) -> None:
    assert period_of(job("acc", kind, on=on)) == period


def test_a_manual_reconciliation_covers_its_range() -> None:
    span = (date(2024, 3, 3), date(2024, 3, 9))
    assert period_of(job("acc", fj.RECONCILIATION_TYPE_MANUAL, span=span)) == Period(*span)


async def test_a_ledger_that_adds_up_passes_and_names_the_pending_item(ledger: Ledger, march: str) -> None:
    result = await reconcile(job(march, target="2210.30"), "rec-ok", ledger)
    assert (result.period_start, result.period_end) == ("2024-03-01", "2024-03-31")
    assert (result.opening_balance, result.matched_total, result.expected_balance) == (
        "3500.00",
        "-1289.70",
        "2210.30",
    )
    assert (result.discrepancy, result.passed, result.matched_transactions) == ("0.00", True, 3)
    assert result.target_source == "job" and not result.items_compared
    assert [(i.payee, i.amount, i.booked) for i in result.unmatched_ledger] == [("Kiosk", "-15.00", False)]
    assert list(result.unmatched_statement) == []


async def test_a_planted_discrepancy_fails_and_is_kept_with_its_items(ledger: Ledger, march: str) -> None:
    # The bank says 2195.30: it has booked the kiosk's 15.00 the ledger still holds as pending.
    result = await reconcile(job(march, target="2195.30", threshold="0.01"), "rec-off", ledger)
    assert (result.discrepancy, result.passed) == ("-15.00", False)
    record = await load(ledger, "rec-off")
    assert record is not None
    assert (record.discrepancy, record.threshold, record.passed) == (Decimal("-15"), Decimal("0.01"), False)
    assert [(i.payee, i.amount) for i in record.unmatched_ledger] == [("Kiosk", Decimal("-15.00"))]
    assert record.unmatched_ledger[0].transaction_id is not None


async def test_the_provider_list_names_what_each_side_lacks(ledger: Ledger, march: str) -> None:
    """The provider lists rent and groceries and a bookshop payment the ledger never imported, and
    not the coffee. Its balance, by hand: 3500.00 - 1200.00 - 86.20 - 42.00 = 2171.80; matched are
    rent and groceries (-1286.20), so the ledger expects 2213.80 and the discrepancy is -42.00."""
    bookshop = tx(date(2024, 3, 20), "-42.00", "Bookshop", "b1")
    asked: list[tuple[str, date, date]] = []

    async def provider(account: AccountRecord, start: date, end: date) -> ProviderBalance:
        asked.append((account.id, start, end))
        return ProviderBalance(Decimal("2171.80"), (RENT, GROCERIES, bookshop, APRIL))

    result = await reconcile(job(march, threshold="1"), "rec-provider", ledger, provider)
    assert asked == [(march, date(2024, 3, 1), date(2024, 3, 31))]
    assert (result.target_source, result.target_balance, result.items_compared) == (
        "provider",
        "2171.80",
        True,
    )
    assert (result.matched_total, result.matched_transactions, result.discrepancy) == (
        "-1286.20",
        2,
        "-42.00",
    )
    assert not result.passed
    assert [(i.payee, i.amount) for i in result.unmatched_ledger] == [("Cafe", "-3.50"), ("Kiosk", "-15.00")]
    assert [
        (i.payee, i.amount, i.provider_transaction_id, i.transaction_id) for i in result.unmatched_statement
    ] == [("Bookshop", "-42.00", "b1", 0)]
    record = await load(ledger, "rec-provider")
    assert record is not None
    assert [i.payee for i in record.unmatched_statement] == ["Bookshop"]


async def test_a_job_delivered_again_keeps_its_first_record(ledger: Ledger, march: str) -> None:
    first = await reconcile(job(march, target="2210.30"), "rec-twice", ledger)
    await ledger.record(march, [tx(date(2024, 3, 30), "-1.00", "Late", "l1")])
    again = await reconcile(job(march, target="2210.30"), "rec-twice", ledger)
    assert again == first
    fresh = await reconcile(job(march, target="2210.30"), "rec-fresh", ledger)
    assert (fresh.discrepancy, fresh.passed) == ("1.00", False)


async def test_a_manual_range_and_a_daily_run_sum_only_their_days(ledger: Ledger, march: str) -> None:
    # 3..9 March: opening 3500.00 - 1200.00 = 2300.00, then the coffee: 2296.50.
    ranged = job(
        march, fj.RECONCILIATION_TYPE_MANUAL, target="2296.50", span=(date(2024, 3, 3), date(2024, 3, 9))
    )
    result = await reconcile(ranged, "rec-range", ledger)
    assert (result.opening_balance, result.matched_total, result.passed) == ("2300.00", "-3.50", True)
    # daily on 11 March covers the 10th: 2296.50 before it, groceries on it.
    daily = await reconcile(
        job(march, fj.RECONCILIATION_TYPE_DAILY, target="2210.30", on=date(2024, 3, 11)), "d", ledger
    )
    assert (daily.period_start, daily.opening_balance, daily.matched_total, daily.passed) == (
        "2024-03-10",
        "2296.50",
        "-86.20",
        True,
    )
    # manual without a range: the whole history up to the job's day, from the opening balance.
    whole = await reconcile(job(march, fj.RECONCILIATION_TYPE_MANUAL, target="2260.30"), "rec-all", ledger)
    assert (whole.period_start, whole.opening_balance, whole.matched_total, whole.passed) == (
        "2024-02-28",
        "1000.00",
        "1260.30",
        True,
    )


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (lambda a: job("acc_nobody_here", target="1"), "unknown account 'acc_nobody_here'"),
        (job, "target_balance is unset"),
        (
            lambda a: job(
                a, fj.RECONCILIATION_TYPE_MANUAL, target="1", span=(date(2024, 3, 9), date(2024, 3, 3))
            ),
            "date_range ends (2024-03-03) before it starts (2024-03-09)",
        ),
        (lambda a: job(a, fj.RECONCILIATION_TYPE_UNSPECIFIED, target="1"), "reconciliation_type is required"),
        (lambda a: job(a, target="1.00001"), "target_balance: an amount has at most 4 decimal places"),
    ],
)
async def test_bad_input_is_refused_by_name(ledger: Ledger, march: str, bad: object, says: str) -> None:
    with pytest.raises(ReconciliationInputError) as refused:
        await reconcile(bad(march), "rec-bad", ledger)  # type: ignore[operator]
    assert says in str(refused.value)
    assert await load(ledger, "rec-bad") is None
