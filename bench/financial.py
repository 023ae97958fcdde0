"""`python -m bench financial`: worker-financial's processors measured on SQLite and PostgreSQL.

    python -m bench financial [--ledgers sqlite,postgresql] [--database-url URL]
                              [--transactions 20000] [--report-transactions 100000] [--quick]

Each phase runs the processor a job would run, in this process, against a
fresh ledger of each kind, so the figures are the ledger's and the
processor's, not the queue's (the queue's own figures are `python -m bench`):

- ofx: an OFX statement of `--transactions` transactions imported
  (`ofx_tx_per_s`), then imported again (`ofx_again_tx_per_s`: every row a
  duplicate, which the dedupe must find, and `ofx_again_new` must be 0).
- gocardless: the same number of booked transactions fetched from the local
  GoCardless-shaped server (bench/bank_servers.py: real HTTP, tokens, the
  documented JSON) by the `gocardless` provider and recorded
  (`gocardless_tx_per_s`), then synced again (`gocardless_again_new` must be 0).
  The provider's call budget lives in Redis (`--redis`), under a prefix of the
  run's own, deleted afterwards.
- categorize: a labelled set (bench/labelled_transactions.py) of
  `--transactions` rows, 70% categorized by a person; the model is trained
  once (`categorize_train_s`), then the other 30% categorized by `hybrid`
  (one rule, then the model) and written (`categorized_per_s`).
- report: `--report-transactions` transactions booked in one month, then a
  `monthly_summary` of that month in each format (`report_<format>_s`).

PostgreSQL comes from `--database-url`, else DATABASE_URL, else the machine's
server on 127.0.0.1:5432; the bench works in a database of its own, created
for the run and dropped after it. Where none answers, the PostgreSQL figures
are left out and the report says why. SQLite is a file in a temporary folder.
Nothing here asserts a speed; the figures are for reading.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import redis.asyncio as aioredis
from google.protobuf.timestamp_pb2 import Timestamp

from bench.bank_servers import FakeAccount, FakeGoCardless
from bench.keyspace import delete_keys
from bench.labelled_transactions import labelled_set
from bench.postgres import admin_url_from_env, answers, local_admin_url, own_database
from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from jobmesh.jobs.v1.common_pb2 import DateRange
from worker_financial.categorization.categorize import categorize, train_from
from worker_financial.categorization.rules import compile_rules
from worker_financial.ledger.entries import CategoryAssignment, NewAccount, NewTransaction
from worker_financial.ledger.store import Ledger
from worker_financial.reports.generate import generate_report
from worker_financial.sync.gocardless import GoCardlessSettings
from worker_financial.sync.providers import Providers, SyncSettings
from worker_financial.sync.transaction_sync import sync_transactions

LEDGERS: Final = ("sqlite", "postgresql")
PAYEES: Final = ("ACME GmbH", "Café Central", "Rent Property Ltd", "Stadtwerke", "Bäckerei", "Amazon EU")


REPORT_FORMATS: Final = {
    "json": fj.REPORT_FORMAT_JSON,
    "csv": fj.REPORT_FORMAT_CSV,
    "excel": fj.REPORT_FORMAT_EXCEL,
    "pdf": fj.REPORT_FORMAT_PDF,
}


@dataclass(frozen=True, slots=True)
class FinancialOptions:
    ledgers: tuple[str, ...]
    database_url: str | None
    transactions: int
    report_transactions: int
    redis_url: str


def parse(argv: Sequence[str]) -> FinancialOptions:
    p = argparse.ArgumentParser(prog="python -m bench financial", description=__doc__.split("\n\n")[0])
    p.add_argument("--ledgers", default=",".join(LEDGERS), help="comma-separated: sqlite, postgresql")
    p.add_argument(
        "--database-url", default=None, help="a PostgreSQL server (default: DATABASE_URL, else local)"
    )
    p.add_argument("--transactions", type=int, default=20_000, help="transactions per import phase")
    p.add_argument(
        "--report-transactions", type=int, default=100_000, help="ledger size for the report phase"
    )
    p.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://localhost:6379/0"))
    p.add_argument("--quick", action="store_true", help="a small run (500 / 2,000): the smoke test's size")
    args = p.parse_args(argv)
    ledgers = tuple(name.strip() for name in args.ledgers.split(",") if name.strip())
    unknown = sorted(set(ledgers) - set(LEDGERS))
    if unknown or not ledgers:
        p.error(f"--ledgers takes {', '.join(LEDGERS)}; got {args.ledgers!r}")
    if args.quick:
        args.transactions, args.report_transactions = 500, 2_000
    if args.transactions < 1 or args.report_transactions < 1:
        p.error("--transactions and --report-transactions must be at least 1")
    return FinancialOptions(
        ledgers, args.database_url, args.transactions, args.report_transactions, args.redis
    )


def _log(what: str) -> None:
    print(f"bench financial: {what}", file=sys.stderr, flush=True)


def row_amount(i: int) -> Decimal:
    """The signed amount of generated row `i`: cents that differ row to row, -1,500.00 to 999.99,
    exact (a Decimal: money never goes through a float, even made up)."""
    return Decimal((i * 7919) % 250_000 - 150_000).scaleb(-2)


def ofx_statement(count: int, first: date = date(2024, 1, 1)) -> bytes:
    """An OFX 1.x (SGML) checking statement of `count` transactions, as a bank writes one:
    one a day in turn per payee, amounts in cents that differ row to row, FITIDs unique."""
    rows = []
    for i in range(count):
        day = first + timedelta(days=i % 365)
        amount = row_amount(i)
        rows.append(
            f"<STMTTRN><TRNTYPE>{'CREDIT' if amount >= 0 else 'DEBIT'}<DTPOSTED>{day:%Y%m%d}"
            f"<TRNAMT>{amount}<FITID>B{i:09d}<NAME>{PAYEES[i % len(PAYEES)]}<MEMO>ref {i}</STMTTRN>"
        )
    last = first + timedelta(days=min(count, 365))
    body = (
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>"
        "<DTSERVER>20250101120000<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>"
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS><STMTRS><CURDEF>EUR"
        "<BANKACCTFROM><BANKID>37040044<ACCTID>0532013000<ACCTTYPE>CHECKING</BANKACCTFROM>"
        f"<BANKTRANLIST><DTSTART>{first:%Y%m%d}<DTEND>{last:%Y%m%d}\n"
        + "\n".join(rows)
        + "\n</BANKTRANLIST><LEDGERBAL><BALAMT>0.00<DTASOF>20250101</LEDGERBAL>"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )
    header = (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:UTF-8\nCHARSET:NONE\n"
        "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
    )
    return (header + body).encode()


async def _timed(run: Callable[[], Awaitable[Any]]) -> tuple[Any, float]:
    started = time.perf_counter()
    out = await run()
    return out, time.perf_counter() - started


async def ofx_phase(ledger: Ledger, count: int) -> dict[str, float | int]:
    """Import an OFX statement of `count` transactions, then the same statement again."""
    statement = ofx_statement(count)
    job = fj.TransactionSyncJob(
        account_id=f"bench_{uuid.uuid4().hex[:8]}",
        provider=fj.SYNC_PROVIDER_MANUAL,
        sync_type=fj.SYNC_TYPE_FULL,
        manual=fj.ManualImport(content=statement, format=fj.STATEMENT_FORMAT_OFX, account_name="bench"),
    )
    first, seconds = await _timed(lambda: sync_transactions(job, ledger))
    again, again_seconds = await _timed(lambda: sync_transactions(job, ledger))
    return {
        "ofx_transactions": count,
        "ofx_new": first.new_transactions,
        "ofx_tx_per_s": round(count / seconds, 1),
        "ofx_again_new": again.new_transactions,
        "ofx_again_tx_per_s": round(count / again_seconds, 1),
    }


def bank_transactions(count: int, first: date = date(2024, 1, 1)) -> list[dict[str, Any]]:
    """`count` booked transactions as GoCardless lists them: signed string amounts, each with its
    transactionId, one a day in turn over a year."""
    return [
        {
            "transactionId": f"T{i:09d}",
            "bookingDate": (first + timedelta(days=i % 365)).isoformat(),
            "transactionAmount": {
                "amount": str(row_amount(i)),
                "currency": "EUR",
            },
            "creditorName": PAYEES[i % len(PAYEES)],
            "remittanceInformationUnstructured": f"ref {i}",
        }
        for i in range(count)
    ]


async def gocardless_phase(ledger: Ledger, count: int, redis_url: str) -> dict[str, float | int]:
    """Sync `count` booked transactions from the local GoCardless-shaped server, then again."""
    prefix = f"benchfin{uuid.uuid4().hex[:8]}"
    client = aioredis.Redis.from_url(redis_url)
    bank = FakeGoCardless()
    async with bank:
        account_id = f"bench_{uuid.uuid4().hex[:8]}"
        bank.accounts[account_id] = FakeAccount(booked=bank_transactions(count))
        settings = SyncSettings(
            gocardless=GoCardlessSettings(
                secret_id=bank.secret_id, secret_key=bank.secret_key, base_url=bank.base_url, daily_calls=100
            )
        )
        providers = Providers(settings, client, prefix)
        job = fj.TransactionSyncJob(
            account_id=account_id, provider=fj.SYNC_PROVIDER_GOCARDLESS, sync_type=fj.SYNC_TYPE_FULL
        )
        try:
            first, seconds = await _timed(lambda: sync_transactions(job, ledger, providers))
            again, again_seconds = await _timed(lambda: sync_transactions(job, ledger, providers))
        finally:
            await providers.aclose()
            await delete_keys(client, prefix)
            await client.aclose()
    return {
        "gocardless_transactions": count,
        "gocardless_new": first.new_transactions,
        "gocardless_tx_per_s": round(count / seconds, 1),
        "gocardless_again_new": again.new_transactions,
        "gocardless_again_tx_per_s": round(count / again_seconds, 1),
    }


async def categorize_phase(ledger: Ledger, count: int) -> dict[str, float | int]:
    """Train on 70% of a labelled set a person categorized, then categorize the rest by hybrid."""
    account_id = f"bench_{uuid.uuid4().hex[:8]}"
    items = labelled_set(count, seed=7)
    await ledger.open_account(NewAccount(account_id, "bench", "EUR", "manual"))
    await ledger.record(account_id, [item.transaction for item in items])
    records = await ledger.transactions(account_id)
    truth = {item.transaction.provider_transaction_id: item.category for item in items}
    cut = len(records) * 7 // 10
    history, fresh = records[:cut], records[cut:]
    await ledger.assign_categories(
        [CategoryAssignment(r.id, truth[r.provider_transaction_id], "manual") for r in history]
    )
    model, train_seconds = await _timed(lambda: train_from(ledger))
    rules = compile_rules(
        [
            fj.CategoryRule(
                category="rent",
                conditions=[
                    fj.RuleCondition(
                        field=fj.RULE_FIELD_PAYEE,
                        operator=fj.RULE_OPERATOR_REGEX,
                        value="vonovia|deutsche wohnen|hausverwaltung|immobilien|rent property|foxtons",
                    )
                ],
            )
        ]
    )
    outcome, seconds = await _timed(
        lambda: categorize(
            ledger, method="hybrid", transaction_ids=[r.id for r in fresh], rules=rules, model=model
        )
    )
    return {
        "categorize_transactions": len(fresh),
        "categorize_train_s": round(train_seconds, 3),
        "categorized_per_s": round(len(fresh) / seconds, 1),
        "categorized_by_model": outcome.by_model,
        "categorized_by_rules": outcome.by_rules,
        "categorize_left_for_review": outcome.left_for_review,
    }


def _day(day: date) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(f"{day.isoformat()}T00:00:00Z")
    return stamp


async def report_phase(ledger: Ledger, count: int, reports_dir: Path) -> dict[str, float | int]:
    """`count` transactions booked in March 2024, then a monthly summary of March in each format."""
    account_id = f"bench_{uuid.uuid4().hex[:8]}"
    await ledger.open_account(NewAccount(account_id, "bench", "EUR", "manual"))
    rows = [
        NewTransaction(
            booking_date=date(2024, 3, 1 + i % 31),
            amount=row_amount(i),
            currency="EUR",
            payee=PAYEES[i % len(PAYEES)],
            description=f"ref {i}",
            provider_transaction_id=f"R{i:09d}",
        )
        for i in range(count)
    ]
    await ledger.record(account_id, rows)
    figures: dict[str, float | int] = {"report_transactions": count}
    for name, kind in REPORT_FORMATS.items():
        job = fj.ReportGenerationJob(
            report_type=fj.REPORT_TYPE_MONTHLY_SUMMARY,
            format=kind,
            parameters=fj.ReportParameters(
                date_range=DateRange(start=_day(date(2024, 3, 1)), end=_day(date(2024, 3, 31)))
            ),
        )
        job.parameters.filters.update({"accountId": account_id})
        started = time.perf_counter()
        result = await generate_report(job, f"bench-{name}", ledger, reports_dir)
        seconds = time.perf_counter() - started
        if result.transactions != count:
            raise RuntimeError(f"the {name} report covers {result.transactions} transactions, not {count}")
        figures[f"report_{name}_s"] = round(seconds, 3)
    return figures


def postgres_admin_url(given: str | None) -> str | None:
    """The PostgreSQL server to work on: `given`, DATABASE_URL, else the local one (None: none answers)."""
    if given:
        plain = given.replace("postgresql+psycopg://", "postgresql://", 1)
        if answers(plain):
            return plain
    env = admin_url_from_env()
    if env is not None and answers(env):
        return env
    return local_admin_url()


@contextlib.asynccontextmanager
async def opened(url: str) -> AsyncIterator[Ledger]:
    ledger = Ledger(url)
    try:
        await ledger.migrate()
        yield ledger
    finally:
        await ledger.close()


async def run_phases(url: str, opts: FinancialOptions) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    async with opened(url) as ledger:
        _log(f"{ledger.dialect}: ofx import of {opts.transactions} transactions")
        figures.update(await ofx_phase(ledger, opts.transactions))
        _log(f"{ledger.dialect}: gocardless sync of {opts.transactions} transactions")
        figures.update(await gocardless_phase(ledger, opts.transactions, opts.redis_url))
        _log(f"{ledger.dialect}: categorization of a labelled set of {opts.transactions}")
        figures.update(await categorize_phase(ledger, opts.transactions))
        _log(f"{ledger.dialect}: monthly reports over {opts.report_transactions} transactions")
        with tempfile.TemporaryDirectory(prefix="jobmesh-bench-reports-") as folder:
            figures.update(await report_phase(ledger, opts.report_transactions, Path(folder)))
    return figures


def run(opts: FinancialOptions) -> dict[str, Any]:
    report: dict[str, Any] = {"system": "jobmesh-financial", "skipped": {}}
    for kind in opts.ledgers:
        if kind == "sqlite":
            with tempfile.TemporaryDirectory(prefix="jobmesh-bench-") as folder:
                url = f"sqlite+aiosqlite:///{Path(folder) / 'ledger.db'}"
                report[kind] = asyncio.run(run_phases(url, opts))
            continue
        admin = postgres_admin_url(opts.database_url)
        if admin is None:
            report["skipped"][kind] = "no PostgreSQL answers (set --database-url or DATABASE_URL)"
            continue
        with own_database(admin, "jobmesh_bench") as url:
            report[kind] = asyncio.run(run_phases(url, opts))
    return report


def table(report: dict[str, Any]) -> str:
    kinds = [k for k in LEDGERS if k in report]
    keys = sorted({key for kind in kinds for key in report[kind]})
    lines = [f"{'figure':<28}" + "".join(f"{kind:>14}" for kind in kinds)]
    for key in keys:
        lines.append(f"{key:<28}" + "".join(f"{report[kind].get(key, '-')!s:>14}" for kind in kinds))
    lines.extend(f"{kind}: skipped, {why}" for kind, why in report["skipped"].items())
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    opts = parse(argv)
    report = run(opts)
    print(table(report), file=sys.stderr)
    print(json.dumps(report, sort_keys=True))
    return 0
