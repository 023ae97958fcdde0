"""The `gocardless` provider against a local GoCardless-shaped server (bench/bank_servers.py), on
both ledgers: exactly the expected rows, nothing twice, pending then booked kept once, tokens
renewed, 429s and the bank's daily allowance turned into rate-limit failures that wait."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from bench.bank_servers import FakeAccount, FakeGoCardless
from dlq_svc.classification import Failure, categorize
from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from tests.worker_financial.conftest import sync_settings_for
from tests.worker_financial.sync.banks import MARCH_ROWS, book_the_pending_fuel, march_account
from worker_financial.ledger.store import Ledger
from worker_financial.sync.errors import (
    ProviderAuthError,
    RateLimitedError,
    SyncInputError,
    UnknownAccountError,
)
from worker_financial.sync.gocardless import GoCardlessProvider
from worker_financial.sync.linking import link_requisition
from worker_financial.sync.providers import Providers
from worker_financial.sync.transaction_sync import reported_balance, sync_transactions


def gocardless_sync(
    account_id: str, sync_type: int = fj.SYNC_TYPE_FULL, since: str | None = None, until: str | None = None
) -> fj.TransactionSyncJob:
    job = fj.TransactionSyncJob(
        account_id=account_id,
        provider=fj.SYNC_PROVIDER_GOCARDLESS,
        sync_type=sync_type,  # type: ignore[arg-type]
    )
    if since is not None and until is not None:
        job.date_range.start.FromJsonString(f"{since}T00:00:00Z")
        job.date_range.end.FromJsonString(f"{until}T23:59:59Z")
    return job


def failure_category(exc: BaseException) -> int:
    """How dlq-svc files this exception (its class, bases and message, as a dead letter records them)."""
    bases = tuple(c.__name__ for c in type(exc).__mro__[1:] if c is not object)
    return categorize(Failure(type(exc).__name__, str(exc), 0, bases))


async def test_the_local_server_imports_exactly_the_expected_rows(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    result = await sync_transactions(gocardless_sync(account_id), ledger, providers)
    assert (result.transactions_processed, result.new_transactions, result.duplicates) == (5, 5, 0)
    assert (result.first_booking_date, result.last_booking_date) == ("2024-03-01", "2024-03-05")
    account = await ledger.account(account_id)
    assert account is not None
    assert (account.provider, account.currency, account.name, account.external_id) == (
        "gocardless",
        "EUR",
        "Giro",
        account_id,
    )
    rows = [
        (t.booked, t.booking_date.isoformat(), t.amount, t.payee, t.description, t.provider_transaction_id)
        for t in await ledger.transactions(account_id)
    ]
    assert rows == MARCH_ROWS
    assert sum(t.amount for t in await ledger.transactions(account_id)) == Decimal("2418.90")
    assert await ledger.sync_cursor(account_id, "gocardless") == date(2024, 3, 4)  # last *booked* date


async def test_a_sync_run_twice_imports_nothing_new_the_second_time(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    first = await sync_transactions(gocardless_sync(account_id), ledger, providers)
    again = await sync_transactions(gocardless_sync(account_id), ledger, providers)
    assert (first.transactions_processed, first.new_transactions) == (5, 5)
    assert (again.transactions_processed, again.new_transactions, again.duplicates) == (5, 0, 5)
    assert await ledger.count_transactions(account_id) == 5


async def test_a_pending_transaction_later_booked_is_kept_once_as_booked(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    bank = gocardless_server.accounts[account_id] = march_account()
    await sync_transactions(gocardless_sync(account_id), ledger, providers)
    book_the_pending_fuel(bank)
    later = await sync_transactions(gocardless_sync(account_id, fj.SYNC_TYPE_INCREMENTAL), ledger, providers)
    # incremental from 2024-03-04 - 3 days = 2024-03-01: the four booked before and the booked fuel;
    # only the fuel is new
    assert (later.transactions_processed, later.new_transactions) == (5, 1)
    rows = await ledger.transactions(account_id)
    fuel = [t for t in rows if t.payee == "Fuel Station"]
    assert [(t.booked, t.booking_date, t.provider_transaction_id) for t in fuel] == [
        (True, date(2024, 3, 6), "T-5")
    ]
    assert len(rows) == 5 and all(t.booked for t in rows)
    assert sum(t.amount for t in rows) == Decimal("2418.90")


async def test_incremental_asks_from_the_last_booked_date_minus_the_overlap(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    await sync_transactions(gocardless_sync(account_id), ledger, providers)  # cursor: 2024-03-04
    await sync_transactions(gocardless_sync(account_id, fj.SYNC_TYPE_INCREMENTAL), ledger, providers)
    asked = [r.query for r in gocardless_server.requests if r.path.endswith("/transactions/")]
    today = datetime.now(UTC).date()
    assert asked[0] == {}  # full: everything the bank has
    assert asked[1]["date_from"] == "2024-03-01"  # 2024-03-04 minus the 3 days' overlap
    assert asked[1]["date_to"] in (today.isoformat(), (today + timedelta(days=1)).isoformat())


async def test_specific_asks_for_its_range_and_an_inverted_range_asks_nothing(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    result = await sync_transactions(
        gocardless_sync(account_id, fj.SYNC_TYPE_SPECIFIC, "2024-03-02", "2024-03-03"), ledger, providers
    )
    assert (result.transactions_processed, result.new_transactions) == (2, 2)  # T-2 and E-3
    assert [r.query for r in gocardless_server.requests if r.path.endswith("/transactions/")] == [
        {"date_from": "2024-03-02", "date_to": "2024-03-03"}
    ]
    inverted = gocardless_sync(account_id, fj.SYNC_TYPE_SPECIFIC, "2024-03-03", "2024-03-02")
    inverted.date_range.start.FromJsonString("2024-03-31T00:00:00Z")
    with pytest.raises(SyncInputError, match="ends") as refused:
        await sync_transactions(inverted, ledger, providers)
    assert failure_category(refused.value) == cpb.ERROR_CATEGORY_VALIDATION
    assert gocardless_server.calls("/transactions/") == 1  # nothing more was asked


async def test_an_account_the_bank_does_not_know_is_an_input_error(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    with pytest.raises(UnknownAccountError, match=f"no account '{account_id}'") as refused:
        await sync_transactions(gocardless_sync(account_id), ledger, providers)
    assert failure_category(refused.value) == cpb.ERROR_CATEGORY_VALIDATION
    assert await ledger.account(account_id) is None


async def test_expired_tokens_are_renewed_by_refresh_then_by_the_secrets(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    await sync_transactions(gocardless_sync(account_id), ledger, providers)
    gocardless_server.expire_access_tokens()
    await sync_transactions(gocardless_sync(account_id), ledger, providers)
    assert (
        gocardless_server.calls("/token/new/", "POST"),
        gocardless_server.calls("/token/refresh/", "POST"),
    ) == (
        1,
        1,
    )
    gocardless_server.expire_access_tokens()
    gocardless_server.expire_refresh_tokens()
    again = await sync_transactions(gocardless_sync(account_id), ledger, providers)
    assert again.transactions_processed == 5
    assert (
        gocardless_server.calls("/token/new/", "POST"),
        gocardless_server.calls("/token/refresh/", "POST"),
    ) == (
        2,
        2,
    )


async def test_wrong_secrets_are_an_authorization_failure_that_never_shows_them(
    *,
    gocardless_server: FakeGoCardless,
    redis_client: aioredis.Redis,
    queue_prefix: str,
    ledger: Ledger,
    account_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    settings = sync_settings_for(gocardless_server)  # the worker's key: "fake-secret-key"
    gocardless_server.secret_key = "the-real-key"
    wrong = Providers(settings, redis_client, queue_prefix)
    for logger in ("httpx", "httpcore", "worker_financial"):
        caplog.set_level(logging.DEBUG, logger=logger)
    try:
        with pytest.raises(ProviderAuthError) as refused:
            await sync_transactions(gocardless_sync(account_id), ledger, wrong)
    finally:
        await wrong.aclose()
    assert failure_category(refused.value) == cpb.ERROR_CATEGORY_AUTHORIZATION
    assert getattr(refused.value, "retryable", True) is False
    secret = settings.gocardless.secret_key
    assert secret is not None
    shown = str(refused.value) + repr(refused.value) + repr(settings) + caplog.text
    assert secret not in shown and "fake-secret-id" not in shown


async def test_a_429_is_a_rate_limit_failure_that_waits_for_the_reset(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    await sync_transactions(gocardless_sync(account_id), ledger, providers)  # links the account
    gocardless_server.throttle_next(1, reset_s=120)
    with pytest.raises(RateLimitedError) as refused:
        await sync_transactions(gocardless_sync(account_id), ledger, providers)
    assert refused.value.retry_after == 120  # HTTP_X_RATELIMIT_RESET
    assert failure_category(refused.value) == cpb.ERROR_CATEGORY_RATE_LIMIT
    again = await sync_transactions(gocardless_sync(account_id), ledger, providers)
    assert (again.transactions_processed, again.new_transactions) == (5, 0)


async def test_the_worker_refuses_the_call_past_the_daily_allowance_itself(
    gocardless_server: FakeGoCardless,
    redis_client: aioredis.Redis,
    queue_prefix: str,
    ledger: Ledger,
    account_id: str,
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    tight = Providers(sync_settings_for(gocardless_server, daily_calls=2), redis_client, queue_prefix)
    try:
        for _ in range(2):
            await sync_transactions(gocardless_sync(account_id), ledger, tight)
        with pytest.raises(RateLimitedError, match="refused here rather than at the bank") as refused:
            await sync_transactions(gocardless_sync(account_id), ledger, tight)
    finally:
        await tight.aclose()
    assert 0 < refused.value.retry_after <= 24 * 3600
    assert failure_category(refused.value) == cpb.ERROR_CATEGORY_RATE_LIMIT
    assert gocardless_server.calls("/transactions/") == 2  # the third never reached the bank


async def test_a_bank_saying_no_call_is_left_locks_the_account_until_its_reset(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    gocardless_server.account_success_limit = 1
    gocardless_server.account_success_reset = 3600
    gocardless_server.accounts[account_id] = march_account()
    await sync_transactions(gocardless_sync(account_id), ledger, providers)
    # that reply said HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_REMAINING: 0 for transactions
    with pytest.raises(RateLimitedError) as refused:
        await sync_transactions(gocardless_sync(account_id), ledger, providers)
    assert 3000 < refused.value.retry_after <= 3600
    assert gocardless_server.calls("/transactions/") == 1


async def test_the_reported_balance_is_the_closing_booked_one(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    await sync_transactions(gocardless_sync(account_id), ledger, providers)
    balance = await reported_balance(account_id, ledger, providers)
    assert (balance.amount, balance.currency, balance.reference_date, balance.kind) == (
        Decimal("2418.90"),
        "EUR",
        date(2024, 3, 4),
        "closingBooked",
    )


async def test_a_linked_requisition_opens_its_accounts_once(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    second = f"{account_id}_b"
    gocardless_server.accounts[account_id] = march_account()
    gocardless_server.accounts[second] = FakeAccount(currency="GBP", name="Savings")
    provider = providers.get("gocardless")
    assert isinstance(provider, GoCardlessProvider)
    requisition = await provider.create_requisition(
        "SANDBOXFINANCE_SFIN0000", "https://example.org/back", "r1"
    )
    assert requisition.status == "CR" and requisition.link
    with pytest.raises(SyncInputError, match="is not linked"):
        await link_requisition(requisition.id, provider, ledger)
    gocardless_server.link(requisition.id, [account_id, second])
    opened = await link_requisition(requisition.id, provider, ledger)
    again = await link_requisition(requisition.id, provider, ledger)
    assert [(a.id, a.currency, a.name, a.provider) for a in opened] == [
        (account_id, "EUR", "Giro", "gocardless"),
        (second, "GBP", "Savings", "gocardless"),
    ]
    assert again == opened
    assert {a.id for a in await ledger.linked_accounts()} >= {account_id, second}


async def test_a_failed_call_is_given_back_to_the_allowance(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    await sync_transactions(gocardless_sync(account_id), ledger, providers)
    provider = providers.get("gocardless")
    assert isinstance(provider, GoCardlessProvider)
    budget = provider.budget
    assert (await budget.used(account_id, "details"), await budget.used(account_id, "transactions")) == (1, 1)
    gocardless_server.throttle_next(1, reset_s=1)
    with pytest.raises(RateLimitedError):
        await sync_transactions(gocardless_sync(account_id), ledger, providers)
    assert await budget.used(account_id, "transactions") == 1  # the refused call did not count
    await budget.give_back(f"{account_id}_none", "transactions")  # a window that has ended
    assert await budget.used(f"{account_id}_none", "transactions") == 0


async def test_an_incremental_range_already_synced_past_asks_the_bank_nothing(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, account_id: str
) -> None:
    gocardless_server.accounts[account_id] = march_account()
    await sync_transactions(gocardless_sync(account_id), ledger, providers)  # cursor: 2024-03-04
    # from max(2024-03-04 - 3 days, 2024-02-01) = 2024-03-01 to 2024-02-10: nothing to ask
    stale = gocardless_sync(account_id, fj.SYNC_TYPE_INCREMENTAL, "2024-02-01", "2024-02-10")
    result = await sync_transactions(stale, ledger, providers)
    assert (result.transactions_processed, result.new_transactions) == (0, 0)
    assert gocardless_server.calls("/transactions/") == 1


@pytest.mark.parametrize("sneaky", ["../requisitions", "..", "x/../../token/new"])
async def test_an_account_id_names_one_account_and_nothing_else(
    gocardless_server: FakeGoCardless, providers: Providers, ledger: Ledger, sneaky: str
) -> None:
    with pytest.raises(SyncInputError):  # UnknownAccountError (404) or refused before asking
        await sync_transactions(gocardless_sync(sneaky), ledger, providers)
    reached = [r.path for r in gocardless_server.requests if "/accounts/" in r.path]
    assert all(p.startswith("/api/v2/accounts/") and p.count("/") == 5 for p in reached), reached
    assert gocardless_server.calls("/requisitions") == 0
