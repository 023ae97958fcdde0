"""Sums over the ledger's transactions, computed by the database: what reports and reconciliations read.

A monthly report over 100,000 transactions must not pull 100,000 rows into
Python, so every figure here is one GROUP BY query that returns a row per
month, category or account. Sums run over the raw BIGINT ten-thousandths
(ledger/money.py), which SQL adds exactly on both databases, and become
Decimal only at the end. Only booked transactions count: a pending one may
still change or vanish, and the bank's own balance leaves it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, case, extract, func, select, type_coerce

from worker_financial.ledger.models import Account, LedgerTransaction
from worker_financial.ledger.money import from_units
from worker_financial.ledger.store import Ledger

T = LedgerTransaction
# The amount column as its stored integer, so SUM adds units and never goes through Money's binding.
_UNITS: ColumnElement[int] = type_coerce(T.amount, BigInteger)
_IN: ColumnElement[Any] = func.sum(case((_UNITS > 0, _UNITS), else_=0))
_OUT: ColumnElement[Any] = func.sum(case((_UNITS < 0, _UNITS), else_=0))
_COUNT_IN: ColumnElement[Any] = func.sum(case((_UNITS > 0, 1), else_=0))
_COUNT_OUT: ColumnElement[Any] = func.sum(case((_UNITS < 0, 1), else_=0))
UNCATEGORIZED = "uncategorized"


def money(units: Any) -> Decimal:
    """A SUM of units as Decimal (NULL, an empty sum, is zero; PostgreSQL's SUM(bigint) is numeric)."""
    return from_units(int(units or 0))


def _count(value: Any) -> int:
    return int(value or 0)


@dataclass(frozen=True, slots=True)
class Flow:
    """Money in (positive), money out (negative), how many transactions made each, and how many
    there were in all (a zero amount, such as a card check, is neither in nor out, but is one)."""

    income: Decimal
    expenses: Decimal
    income_count: int
    expense_count: int
    count: int

    @property
    def net(self) -> Decimal:
        return self.income + self.expenses


@dataclass(frozen=True, slots=True)
class MonthFlow:
    currency: str
    year: int
    month: int
    flow: Flow


@dataclass(frozen=True, slots=True)
class CategoryFlow:
    currency: str
    category: str  # UNCATEGORIZED for transactions without one
    flow: Flow


@dataclass(frozen=True, slots=True)
class AccountFlow:
    account_id: str
    name: str
    currency: str
    opening: Decimal  # the booked balance before the period
    flow: Flow

    @property
    def closing(self) -> Decimal:
        return self.opening + self.flow.net


def _flow(row: Any) -> Flow:
    return Flow(
        money(row.income),
        money(row.expenses),
        _count(row.income_count),
        _count(row.expense_count),
        _count(row.count),
    )


def _booked_within(query: Select[Any], accounts: Sequence[str], start: date, end: date) -> Select[Any]:
    query = query.where(T.booked.is_(True), T.booking_date >= start, T.booking_date <= end)
    return query.where(T.account_id.in_(accounts)) if accounts else query


_FLOWS = (
    _IN.label("income"),
    _OUT.label("expenses"),
    _COUNT_IN.label("income_count"),
    _COUNT_OUT.label("expense_count"),
    func.count().label("count"),
)


async def by_month(ledger: Ledger, accounts: Sequence[str], start: date, end: date) -> list[MonthFlow]:
    """Booked flows per currency and calendar month within [start, end]; `accounts` empty: all."""
    await ledger.migrate()
    year = extract("year", T.booking_date)
    month = extract("month", T.booking_date)
    query = _booked_within(
        select(T.currency, year.label("year"), month.label("month"), *_FLOWS), accounts, start, end
    ).group_by(T.currency, year, month)
    async with ledger.sessions() as session:
        rows = (await session.execute(query)).all()
    flows = [MonthFlow(r.currency, int(r.year), int(r.month), _flow(r)) for r in rows]
    return sorted(flows, key=lambda f: (f.currency, f.year, f.month))


async def by_category(ledger: Ledger, accounts: Sequence[str], start: date, end: date) -> list[CategoryFlow]:
    """Booked flows per currency and category within [start, end]; `accounts` empty: all."""
    await ledger.migrate()
    category = func.coalesce(T.category, UNCATEGORIZED)
    query = _booked_within(
        select(T.currency, category.label("category"), *_FLOWS), accounts, start, end
    ).group_by(T.currency, category)
    async with ledger.sessions() as session:
        rows = (await session.execute(query)).all()
    flows = [CategoryFlow(r.currency, r.category, _flow(r)) for r in rows]
    return sorted(flows, key=lambda f: (f.currency, f.category))


async def by_account(ledger: Ledger, accounts: Sequence[str], start: date, end: date) -> list[AccountFlow]:
    """Each account's booked balance before `start` and its flows within [start, end] (every account
    of `accounts`, or of the ledger when empty, even one without a transaction)."""
    await ledger.migrate()
    before = func.sum(case((T.booking_date < start, _UNITS), else_=0))
    within = T.booking_date >= start
    sums = (
        select(
            T.account_id,
            before.label("before"),
            func.sum(case((within & (_UNITS > 0), _UNITS), else_=0)).label("income"),
            func.sum(case((within & (_UNITS < 0), _UNITS), else_=0)).label("expenses"),
            func.sum(case((within & (_UNITS > 0), 1), else_=0)).label("income_count"),
            func.sum(case((within & (_UNITS < 0), 1), else_=0)).label("expense_count"),
            func.sum(case((within, 1), else_=0)).label("count"),
        )
        .where(T.booked.is_(True), T.booking_date <= end)
        .group_by(T.account_id)
    )
    if accounts:
        sums = sums.where(T.account_id.in_(accounts))
    flows = sums.subquery()
    query = select(Account.id, Account.name, Account.currency, Account.opening_balance, flows).outerjoin(
        flows, flows.c.account_id == Account.id
    )
    if accounts:
        query = query.where(Account.id.in_(accounts))
    async with ledger.sessions() as session:
        rows = (await session.execute(query.order_by(Account.currency, Account.id))).all()
    return [
        AccountFlow(r.id, r.name, r.currency, r.opening_balance + money(r.before), _flow(r)) for r in rows
    ]


async def known_accounts(ledger: Ledger, accounts: Sequence[str]) -> set[str]:
    """Which of `accounts` the ledger holds."""
    await ledger.migrate()
    async with ledger.sessions() as session:
        return set(await session.scalars(select(Account.id).where(Account.id.in_(accounts))))


async def booked_total(
    ledger: Ledger, account_id: str, *, start: date | None = None, end: date | None = None
) -> tuple[Decimal, int]:
    """The sum and count of the account's booked transactions within [start, end] (open ends: unbounded)."""
    await ledger.migrate()
    query = select(func.sum(_UNITS), func.count()).where(T.account_id == account_id, T.booked.is_(True))
    if start is not None:
        query = query.where(T.booking_date >= start)
    if end is not None:
        query = query.where(T.booking_date <= end)
    async with ledger.sessions() as session:
        total, count = (await session.execute(query)).one()
    return money(total), _count(count)


async def first_booking_date(ledger: Ledger, account_id: str) -> date | None:
    """The account's earliest booking date (None: it has no transaction)."""
    await ledger.migrate()
    async with ledger.sessions() as session:
        first: date | None = await session.scalar(
            select(func.min(T.booking_date)).where(T.account_id == account_id)
        )
        return first


async def account_ids(ledger: Ledger) -> list[str]:
    """Every account the ledger holds, by id."""
    await ledger.migrate()
    async with ledger.sessions() as session:
        return list(await session.scalars(select(Account.id).order_by(Account.id)))


async def currencies(ledger: Ledger, accounts: Sequence[str]) -> set[str]:
    """The currencies of `accounts` (of every account when empty)."""
    await ledger.migrate()
    query = select(Account.currency).distinct()
    if accounts:
        query = query.where(Account.id.in_(accounts))
    async with ledger.sessions() as session:
        return set(await session.scalars(query))
