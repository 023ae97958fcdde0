"""The `api` provider against a local server of its JSON shape (bench/bank_servers.FakeApi), on both
ledgers: rows across pages exactly, amounts exact whether strings or JSON numbers, nothing twice,
and refusals (404, 401, 429) turned into the failures the queue handles right."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from bench.bank_servers import ApiAccount, FakeApi
from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from worker_financial.ledger.store import Ledger
from worker_financial.sync.api import ApiSettings
from worker_financial.sync.budget import CallBudget
from worker_financial.sync.errors import (
    ProviderAuthError,
    ProviderNotConfiguredError,
    RateLimitedError,
    UnknownAccountError,
)
from worker_financial.sync.providers import Providers, SyncSettings
from worker_financial.sync.transaction_sync import reported_balance, sync_transactions

TOKEN = "api-test-token"


@pytest.fixture
async def api_server() -> AsyncIterator[FakeApi]:
    async with FakeApi(token=TOKEN, page_size=2) as server:
        yield server


@pytest.fixture
async def api_providers(
    api_server: FakeApi, redis_client: aioredis.Redis, queue_prefix: str
) -> AsyncIterator[Providers]:
    opened = Providers(
        SyncSettings(api=ApiSettings(base_url=api_server.base_url, token=TOKEN)), redis_client, queue_prefix
    )
    try:
        yield opened
    finally:
        await opened.aclose()


def api_account() -> ApiAccount:
    """Five transactions (three pages of two): ids on three, amounts as strings and as JSON numbers.
    Sum: 1000.00 - 19.99 - 5 - 120.40 + 0.01 = 854.62."""
    return ApiAccount(
        currency="USD",
        name="Checking",
        transactions=[
            {
                "id": "a1",
                "bookingDate": "2024-05-01",
                "amount": "1000.00",
                "currency": "USD",
                "payee": "Employer",
            },
            {"id": "a2", "bookingDate": "2024-05-02", "amount": -19.99, "currency": "USD", "payee": "Books"},
            {
                "bookingDate": "2024-05-03",
                "amount": -5,
                "currency": "USD",
                "payee": "Cafe",
                "description": "tea",
            },
            {
                "id": "a4",
                "bookingDate": "2024-05-04",
                "valueDate": "2024-05-05",
                "amount": "-120.40",
                "currency": "USD",
                "payee": "Utility",
            },
            {
                "bookingDate": "2024-05-06",
                "amount": "0.01",
                "currency": "USD",
                "payee": "Interest",
                "status": "pending",
            },
        ],
        balance={"amount": "854.62", "currency": "USD", "date": "2024-05-06", "type": "closing"},
    )


def api_sync(account_id: str, sync_type: int = fj.SYNC_TYPE_FULL) -> fj.TransactionSyncJob:
    return fj.TransactionSyncJob(account_id=account_id, provider=fj.SYNC_PROVIDER_API, sync_type=sync_type)  # type: ignore[arg-type]


async def test_the_local_api_server_imports_exactly_the_expected_rows_once(
    api_server: FakeApi, api_providers: Providers, ledger: Ledger, account_id: str
) -> None:
    api_server.accounts[account_id] = api_account()
    first = await sync_transactions(api_sync(account_id), ledger, api_providers)
    again = await sync_transactions(api_sync(account_id), ledger, api_providers)
    assert (first.transactions_processed, first.new_transactions) == (5, 5)
    assert (again.transactions_processed, again.new_transactions) == (5, 0)
    assert api_server.requests[-1].query == {"cursor": "4"}  # the third page of the second sync
    rows = [
        (t.booked, t.booking_date, t.value_date, t.amount, t.payee, t.provider_transaction_id)
        for t in await ledger.transactions(account_id)
    ]
    assert rows == [
        (True, date(2024, 5, 1), None, Decimal("1000.00"), "Employer", "a1"),
        (True, date(2024, 5, 2), None, Decimal("-19.99"), "Books", "a2"),
        (True, date(2024, 5, 3), None, Decimal("-5.00"), "Cafe", None),
        (True, date(2024, 5, 4), date(2024, 5, 5), Decimal("-120.40"), "Utility", "a4"),
        (False, date(2024, 5, 6), None, Decimal("0.01"), "Interest", None),
    ]
    assert sum(t.amount for t in await ledger.transactions(account_id)) == Decimal("854.62")
    account = await ledger.account(account_id)
    assert account is not None and (account.provider, account.currency, account.name) == (
        "api",
        "USD",
        "Checking",
    )
    balance = await reported_balance(account_id, ledger, api_providers)
    assert (balance.amount, balance.currency, balance.reference_date) == (
        Decimal("854.62"),
        "USD",
        date(2024, 5, 6),
    )


async def test_a_specific_sync_asks_for_its_dates(
    api_server: FakeApi, api_providers: Providers, ledger: Ledger, account_id: str
) -> None:
    api_server.accounts[account_id] = api_account()
    job = api_sync(account_id, fj.SYNC_TYPE_SPECIFIC)
    job.date_range.start.FromJsonString("2024-05-02T00:00:00Z")
    job.date_range.end.FromJsonString("2024-05-03T12:00:00Z")
    result = await sync_transactions(job, ledger, api_providers)
    assert (result.transactions_processed, result.new_transactions) == (2, 2)  # books and cafe
    assert api_server.requests[-1].query == {"from": "2024-05-02", "to": "2024-05-03"}


async def test_refusals_become_the_failures_the_queue_handles(
    *,
    api_server: FakeApi,
    api_providers: Providers,
    redis_client: aioredis.Redis,
    queue_prefix: str,
    ledger: Ledger,
    account_id: str,
) -> None:
    with pytest.raises(UnknownAccountError):
        await sync_transactions(api_sync(account_id), ledger, api_providers)
    api_server.accounts[account_id] = api_account()
    api_server.throttle_next(1, retry_after_s=7)
    with pytest.raises(RateLimitedError) as throttled:
        await sync_transactions(api_sync(account_id), ledger, api_providers)
    assert throttled.value.retry_after == 7
    wrong = Providers(
        SyncSettings(api=ApiSettings(base_url=api_server.base_url, token="not-it")),
        redis_client,
        queue_prefix,
    )
    unset = Providers(SyncSettings(), redis_client, queue_prefix)
    try:
        with pytest.raises(ProviderAuthError) as refused:
            await sync_transactions(api_sync(account_id), ledger, wrong)
        assert "not-it" not in str(refused.value)
        with pytest.raises(ProviderNotConfiguredError, match="FINANCIAL_API_BASE_URL"):
            await sync_transactions(api_sync(account_id), ledger, unset)
    finally:
        await wrong.aclose()
        await unset.aclose()
    assert await ledger.account(account_id) is None


async def test_a_daily_allowance_refuses_the_call_past_it_without_asking_the_server(
    api_server: FakeApi, redis_client: aioredis.Redis, queue_prefix: str, ledger: Ledger, account_id: str
) -> None:
    """FINANCIAL_API_DAILY_CALLS=2: a sync spends 1 details call and 1 listing call, however many
    pages the listing has (three here; counted per page, a listing longer than the allowance would
    never finish); the third listing is refused here; a 429 spends the rest of the balance
    allowance, and a refused call (404) is given back."""
    api_server.accounts[account_id] = api_account()
    tight = Providers(
        SyncSettings(api=ApiSettings(base_url=api_server.base_url, token=TOKEN, daily_calls=2)),
        redis_client,
        queue_prefix,
    )
    budget = CallBudget(redis_client, queue_prefix, "api", 2)
    try:
        for _ in range(2):
            synced = await sync_transactions(api_sync(account_id), ledger, tight)
            assert synced.transactions_processed == 5  # all three pages
        assert await budget.used(account_id, "details") == 1
        assert await budget.used(account_id, "transactions") == 2
        asked = len(api_server.requests)
        with pytest.raises(RateLimitedError, match="refused here") as refused:
            await sync_transactions(api_sync(account_id), ledger, tight)
        assert len(api_server.requests) == asked  # the server was not asked
        assert 0 < refused.value.retry_after <= 24 * 3600

        api_server.throttle_next(1, retry_after_s=30)
        with pytest.raises(RateLimitedError) as throttled:
            await reported_balance(account_id, ledger, tight)
        assert throttled.value.retry_after == 30
        with pytest.raises(RateLimitedError, match="refused here"):
            await reported_balance(account_id, ledger, tight)
        assert len(api_server.requests) == asked + 1
        assert await budget.used(account_id, "balance") == 2

        with pytest.raises(UnknownAccountError):
            await sync_transactions(api_sync("acc_nobody_has"), ledger, tight)
        assert await budget.used("acc_nobody_has", "details") == 0
    finally:
        await tight.aclose()
