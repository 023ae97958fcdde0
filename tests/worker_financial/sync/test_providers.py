"""What a transaction-sync refuses: a network provider the worker has no settings for fails as not
configured (never retried), incomplete jobs fail as input errors (ValueErrors: never retried) that
name what is missing; neither touches a ledger row."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from queue_system.settings import ConfigError
from tests.service_processes import base_env, run_module
from tests.worker_financial.sync.statements import OFX_SGML
from tests.worker_financial.sync.test_ofx_import import manual_sync
from worker_financial.ledger.store import Ledger
from worker_financial.sync import providers
from worker_financial.sync.errors import ProviderNotConfiguredError, SyncInputError
from worker_financial.sync.providers import Providers, SyncSettings
from worker_financial.sync.transaction_sync import sync_transactions


@pytest.mark.parametrize(
    ("provider", "variable"),
    [
        (fj.SYNC_PROVIDER_GOCARDLESS, "GOCARDLESS_SECRET_KEY"),
        (fj.SYNC_PROVIDER_API, "FINANCIAL_API_BASE_URL"),
    ],
)
async def test_a_provider_without_its_settings_fails_naming_them(
    *,
    ledger: Ledger,
    account_id: str,
    provider: int,
    variable: str,
    redis_client: aioredis.Redis,
    queue_prefix: str,
) -> None:
    job = fj.TransactionSyncJob(account_id=account_id, provider=provider, sync_type=fj.SYNC_TYPE_INCREMENTAL)  # type: ignore[arg-type]
    unset = Providers(SyncSettings(), redis_client, queue_prefix)
    try:
        with pytest.raises(ProviderNotConfiguredError, match=variable) as refused:
            await sync_transactions(job, ledger, unset)
    finally:
        await unset.aclose()
    assert refused.value.retryable is False
    with pytest.raises(ProviderNotConfiguredError, match=r"no .* provider configured"):
        await sync_transactions(job, ledger)  # a worker with no providers at all
    assert await ledger.account(account_id) is None


async def test_incomplete_jobs_name_what_they_lack(ledger: Ledger, account_id: str) -> None:
    no_file = manual_sync(account_id, fj.ManualImport())
    with pytest.raises(SyncInputError, match=r"manual.content or manual.path is required"):
        await sync_transactions(no_file, ledger)
    no_manual = fj.TransactionSyncJob(account_id=account_id, provider=fj.SYNC_PROVIDER_MANUAL, sync_type=1)
    with pytest.raises(SyncInputError, match="manual is required"):
        await sync_transactions(no_manual, ledger)
    no_range = manual_sync(account_id, fj.ManualImport(content=OFX_SGML), sync_type=fj.SYNC_TYPE_SPECIFIC)
    with pytest.raises(SyncInputError, match="date_range is required"):
        await sync_transactions(no_range, ledger)
    inverted = manual_sync(account_id, fj.ManualImport(content=OFX_SGML))
    inverted.date_range.start.FromJsonString("2024-03-31T00:00:00Z")
    inverted.date_range.end.FromJsonString("2024-03-01T00:00:00Z")
    with pytest.raises(SyncInputError, match="ends"):
        await sync_transactions(inverted, ledger)
    csv_without_currency = manual_sync(
        account_id, fj.ManualImport(content=b"d,p,a\n", csv=fj.CsvColumns(date="d", payee="p", amount="a"))
    )
    with pytest.raises(SyncInputError, match=r"manual.currency is required"):
        await sync_transactions(csv_without_currency, ledger)
    assert await ledger.account(account_id) is None


async def test_a_statement_in_another_currency_than_its_account_is_refused(
    ledger: Ledger, account_id: str
) -> None:
    columns = fj.CsvColumns(date="d", payee="p", amount="a")
    await sync_transactions(
        manual_sync(
            account_id, fj.ManualImport(content=b"d,p,a\n2024-01-01,x,1\n", csv=columns, currency="USD")
        ),
        ledger,
    )
    with pytest.raises(SyncInputError, match=r"the statement is in EUR, account .* in USD"):
        await sync_transactions(manual_sync(account_id, fj.ManualImport(content=OFX_SGML)), ledger)


def test_the_providers_settings_come_from_the_environment() -> None:
    default = providers.load({})
    assert (default.gocardless.base_url, default.gocardless.configured, default.api.base_url) == (
        "https://bankaccountdata.gocardless.com",
        False,
        None,
    )
    assert (default.gocardless.daily_calls, default.api.daily_calls, default.overlap_days) == (4, None, 3)
    env = {
        "GOCARDLESS_SECRET_ID": "id-1",
        "GOCARDLESS_SECRET_KEY": "key-1",
        "GOCARDLESS_BASE_URL": "http://127.0.0.1:9/",
        "GOCARDLESS_DAILY_CALLS": "10",
        "FINANCIAL_API_BASE_URL": "https://bank.example/api",
        "FINANCIAL_API_DAILY_CALLS": "25",
        "TRANSACTION_SYNC_OVERLAP_DAYS": "7",
    }
    loaded = providers.load(env)
    assert loaded.gocardless.configured and loaded.gocardless.base_url == "http://127.0.0.1:9"
    assert (loaded.gocardless.daily_calls, loaded.api.base_url, loaded.overlap_days) == (
        10,
        "https://bank.example/api",
        7,
    )
    assert loaded.api.daily_calls == 25
    assert "key-1" not in repr(loaded)
    for variable, bad in (
        ("GOCARDLESS_BASE_URL", "ftp://x"),
        ("GOCARDLESS_DAILY_CALLS", "0"),
        ("FINANCIAL_API_DAILY_CALLS", "many"),
    ):
        with pytest.raises(ConfigError, match=variable):
            providers.load({variable: bad})


def test_a_bad_provider_variable_stops_worker_financial_with_one_line() -> None:
    done = run_module("worker_financial", base_env(GOCARDLESS_BASE_URL="not a url"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "worker-financial: GOCARDLESS_BASE_URL: expected an http:// or https:// URL, got 'not a url'"
    ]
