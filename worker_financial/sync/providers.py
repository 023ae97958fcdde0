"""Which network providers a worker-financial process has, configured from its environment.

Read once at start-up (a bad value stops it with one line naming the variable):

    GOCARDLESS_SECRET_ID, GOCARDLESS_SECRET_KEY   GoCardless Bank Account Data secrets (unset: a
                                                  gocardless sync fails as not configured)
    GOCARDLESS_BASE_URL                           default https://bankaccountdata.gocardless.com
    GOCARDLESS_DAILY_CALLS                        calls a day per account and endpoint (default 4)
    FINANCIAL_API_BASE_URL, FINANCIAL_API_TOKEN   the `api` provider (sync/api.py) and its bearer token
    FINANCIAL_API_DAILY_CALLS                     calls a day per account and endpoint to the `api`
                                                  provider (unset: not counted)
    TRANSACTION_SYNC_OVERLAP_DAYS                 days an incremental sync reaches back before the
                                                  last booked date it has (default 3)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

import redis.asyncio as aioredis

from queue_system.settings import ConfigError, positive_int, reader
from worker_financial.sync import api, gocardless
from worker_financial.sync.api import ApiProvider, ApiSettings
from worker_financial.sync.budget import DEFAULT_DAILY_CALLS, CallBudget
from worker_financial.sync.gocardless import GoCardlessProvider, GoCardlessSettings
from worker_financial.sync.provider import Provider

DEFAULT_OVERLAP_DAYS: Final = 3


@dataclass(frozen=True, slots=True)
class SyncSettings:
    gocardless: GoCardlessSettings = field(default_factory=GoCardlessSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    # An incremental sync starts this many days before the last booked date the ledger has:
    # banks book late and back-date, and the ledger's dedupe makes the overlap free.
    overlap_days: int = DEFAULT_OVERLAP_DAYS


def _http_url(variable: str, raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(variable, "an http:// or https:// URL", raw)
    return raw.strip().rstrip("/")


def load(env: Mapping[str, str] | None = None) -> SyncSettings:
    """The providers' settings from `env` (os.environ by default); ConfigError on a bad value."""
    get = reader(env)
    base = get("GOCARDLESS_BASE_URL")
    daily = get("GOCARDLESS_DAILY_CALLS")
    api_url = get("FINANCIAL_API_BASE_URL")
    api_daily = get("FINANCIAL_API_DAILY_CALLS")
    overlap = get("TRANSACTION_SYNC_OVERLAP_DAYS")
    return SyncSettings(
        gocardless=GoCardlessSettings(
            secret_id=get("GOCARDLESS_SECRET_ID"),
            secret_key=get("GOCARDLESS_SECRET_KEY"),
            base_url=_http_url("GOCARDLESS_BASE_URL", base) if base else gocardless.DEFAULT_BASE_URL,
            daily_calls=positive_int("GOCARDLESS_DAILY_CALLS", daily) if daily else DEFAULT_DAILY_CALLS,
        ),
        api=ApiSettings(
            base_url=_http_url("FINANCIAL_API_BASE_URL", api_url) if api_url else None,
            token=get("FINANCIAL_API_TOKEN"),
            daily_calls=positive_int("FINANCIAL_API_DAILY_CALLS", api_daily) if api_daily else None,
        ),
        overlap_days=positive_int("TRANSACTION_SYNC_OVERLAP_DAYS", overlap, upper=366)
        if overlap
        else DEFAULT_OVERLAP_DAYS,
    )


class Providers:
    """The process's network providers by name, each with its HTTP connections (closed by `aclose`)."""

    def __init__(self, settings: SyncSettings, client: aioredis.Redis, prefix: str) -> None:
        self.settings = settings
        budget = CallBudget(client, prefix, gocardless.NAME, settings.gocardless.daily_calls)
        daily = settings.api.daily_calls
        api_budget = CallBudget(client, prefix, api.NAME, daily) if daily is not None else None
        self._gocardless = GoCardlessProvider(settings.gocardless, budget)
        self._by_name: dict[str, Provider] = {
            gocardless.NAME: self._gocardless,
            api.NAME: ApiProvider(settings.api, api_budget),
        }

    def get(self, name: str) -> Provider | None:
        return self._by_name.get(name)

    @property
    def gocardless(self) -> GoCardlessProvider:
        """The GoCardless client itself, for what only it does (bank links: requisitions)."""
        return self._gocardless

    async def aclose(self) -> None:
        for provider in self._by_name.values():
            await provider.aclose()
