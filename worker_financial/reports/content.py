"""What each report says, as tables of figures the ledger summed (ledger/aggregates.py).

A report is built once, as plain values, and then written in any format
(reports/render.py), so a PDF and a CSV of the same report can never disagree.
Every table is in one currency (money of two currencies is never added up) and
ends with its total row. Only booked transactions within the period count.

- **monthly_summary**: per month, its transactions, income, expenses and net.
- **cash_flow**: per account, its balance before the period, inflows,
  outflows, net change and closing balance.
- **profit_loss**: per category (uncategorized ones together), income,
  expenses and net; the total row is the period's profit (or loss).
- **tax_report**: the gross figures a tax return asks for, never netted:
  income per category and expenses per category, each with its count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from worker_financial.ledger import aggregates
from worker_financial.ledger.aggregates import Flow
from worker_financial.ledger.store import Ledger

REPORT_NAMES = {
    fj.REPORT_TYPE_MONTHLY_SUMMARY: "monthly_summary",
    fj.REPORT_TYPE_TAX_REPORT: "tax_report",
    fj.REPORT_TYPE_CASH_FLOW: "cash_flow",
    fj.REPORT_TYPE_PROFIT_LOSS: "profit_loss",
}
TITLES = {
    "monthly_summary": "Monthly summary",
    "tax_report": "Tax report",
    "cash_flow": "Cash flow",
    "profit_loss": "Profit and loss",
}
TOTAL = "Total"

Cell = str | int | Decimal
# What a report's tables summed: (currency, flow) pairs, for the headline totals.
Flows = list[tuple[str, Flow]]


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    currency: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Totals:
    """A currency's headline figures over the whole report."""

    income: Decimal = Decimal(0)
    expenses: Decimal = Decimal(0)
    transactions: int = 0

    @property
    def net(self) -> Decimal:
        return self.income + self.expenses

    def plus(self, flow: Flow) -> Totals:
        return Totals(
            self.income + flow.income, self.expenses + flow.expenses, self.transactions + flow.count
        )


@dataclass(frozen=True, slots=True)
class Report:
    report_type: str
    period_start: date
    period_end: date
    generated_at: datetime
    # The accounts it covers: the filter's, or every account of the ledger.
    account_ids: tuple[str, ...]
    tables: tuple[Table, ...]
    totals: dict[str, Totals] = field(default_factory=dict)  # by currency

    @property
    def title(self) -> str:
        return TITLES[self.report_type]

    @property
    def transactions(self) -> int:
        return sum(t.transactions for t in self.totals.values())


def _totals(flows: Iterable[tuple[str, Flow]]) -> dict[str, Totals]:
    out: dict[str, Totals] = {}
    for currency, flow in flows:
        out[currency] = out.get(currency, Totals()).plus(flow)
    return dict(sorted(out.items()))


def _currencies(held: set[str], items: Iterable[tuple[str, Flow]]) -> list[str]:
    """The currencies of the accounts covered and of their transactions: a quiet period still has
    its tables, with zero totals."""
    return sorted(held | {currency for currency, _ in items})


async def _monthly_summary(
    ledger: Ledger, accounts: Sequence[str], start: date, end: date, held: set[str]
) -> tuple[list[Table], Flows]:
    months = await aggregates.by_month(ledger, accounts, start, end)
    tables = []
    for currency in _currencies(held, ((m.currency, m.flow) for m in months)):
        mine = [m for m in months if m.currency == currency]
        total = _totals((currency, m.flow) for m in mine).get(currency, Totals())
        tables.append(
            Table(
                title=f"Monthly summary ({currency})",
                currency=currency,
                columns=("Month", "Transactions", "Income", "Expenses", "Net"),
                rows=tuple(
                    (f"{m.year:04d}-{m.month:02d}", m.flow.count, m.flow.income, m.flow.expenses, m.flow.net)
                    for m in mine
                ),
                total=(TOTAL, total.transactions, total.income, total.expenses, total.net),
            )
        )
    return tables, [(m.currency, m.flow) for m in months]


async def _cash_flow(
    ledger: Ledger, accounts: Sequence[str], start: date, end: date, held: set[str]
) -> tuple[list[Table], Flows]:
    flows = await aggregates.by_account(ledger, accounts, start, end)
    tables = []
    for currency in _currencies(held, ((f.currency, f.flow) for f in flows)):
        mine = [f for f in flows if f.currency == currency]
        opening = sum((f.opening for f in mine), Decimal(0))
        total = _totals((currency, f.flow) for f in mine).get(currency, Totals())
        tables.append(
            Table(
                title=f"Cash flow ({currency})",
                currency=currency,
                columns=(
                    "Account",
                    "Opening balance",
                    "Inflows",
                    "Outflows",
                    "Net change",
                    "Closing balance",
                ),
                rows=tuple(
                    (f.account_id, f.opening, f.flow.income, f.flow.expenses, f.flow.net, f.closing)
                    for f in mine
                ),
                total=(TOTAL, opening, total.income, total.expenses, total.net, opening + total.net),
            )
        )
    return tables, [(f.currency, f.flow) for f in flows]


async def _profit_loss(
    ledger: Ledger, accounts: Sequence[str], start: date, end: date, held: set[str]
) -> tuple[list[Table], Flows]:
    categories = await aggregates.by_category(ledger, accounts, start, end)
    tables = []
    for currency in _currencies(held, ((c.currency, c.flow) for c in categories)):
        mine = [c for c in categories if c.currency == currency]
        total = _totals((currency, c.flow) for c in mine).get(currency, Totals())
        tables.append(
            Table(
                title=f"Profit and loss ({currency})",
                currency=currency,
                columns=("Category", "Income", "Expenses", "Net"),
                rows=tuple((c.category, c.flow.income, c.flow.expenses, c.flow.net) for c in mine),
                total=(TOTAL, total.income, total.expenses, total.net),
            )
        )
    return tables, [(c.currency, c.flow) for c in categories]


async def _tax_report(
    ledger: Ledger, accounts: Sequence[str], start: date, end: date, held: set[str]
) -> tuple[list[Table], Flows]:
    categories = await aggregates.by_category(ledger, accounts, start, end)
    tables = []
    for currency in _currencies(held, ((c.currency, c.flow) for c in categories)):
        mine = [c for c in categories if c.currency == currency]
        total = _totals((currency, c.flow) for c in mine).get(currency, Totals())
        earned = [c for c in mine if c.flow.income_count]
        spent = [c for c in mine if c.flow.expense_count]
        tables += [
            Table(
                title=f"Income ({currency})",
                currency=currency,
                columns=("Category", "Transactions", "Amount"),
                rows=tuple((c.category, c.flow.income_count, c.flow.income) for c in earned),
                total=(TOTAL, sum(c.flow.income_count for c in earned), total.income),
            ),
            Table(
                title=f"Expenses ({currency})",
                currency=currency,
                columns=("Category", "Transactions", "Amount"),
                rows=tuple((c.category, c.flow.expense_count, c.flow.expenses) for c in spent),
                total=(TOTAL, sum(c.flow.expense_count for c in spent), total.expenses),
            ),
        ]
    return tables, [(c.currency, c.flow) for c in categories]


_BUILDERS = {
    "monthly_summary": _monthly_summary,
    "cash_flow": _cash_flow,
    "profit_loss": _profit_loss,
    "tax_report": _tax_report,
}


async def build(
    ledger: Ledger,
    report_type: str,
    *,
    accounts: Sequence[str],
    start: date,
    end: date,
    generated_at: datetime,
) -> Report:
    """The report of `report_type` over `accounts` (all when empty) for [start, end]."""
    held = await aggregates.currencies(ledger, accounts)
    tables, flows = await _BUILDERS[report_type](ledger, accounts, start, end, held)
    totals = {currency: Totals() for currency in held} | _totals(flows)
    return Report(
        report_type=report_type,
        period_start=start,
        period_end=end,
        generated_at=generated_at,
        account_ids=tuple(accounts),
        tables=tuple(tables),
        totals=dict(sorted(totals.items())),
    )
