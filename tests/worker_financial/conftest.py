"""The ledger under test, once on SQLite and once on PostgreSQL: every ledger test runs on both.

SQLite is a file in the test's tmp_path. PostgreSQL comes from postgres_server.py
(DATABASE_URL, else 127.0.0.1:5432, else a private server from initdb/pg_ctl),
one database per test session; tests keep apart by their own account ids. Only
where no PostgreSQL can be had does the PostgreSQL leg skip, saying how to enable
it, and under CI (CI set) it fails instead: CI must run both.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bench.bank_servers import FakeGoCardless
from bench.postgres import admin_url_from_env, local_admin_url, own_database
from tests.worker_financial.postgres_server import HOW_TO_ENABLE, private_server
from worker_financial.ledger.store import Ledger
from worker_financial.sync.gocardless import GoCardlessSettings
from worker_financial.sync.providers import Providers, SyncSettings


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """An async SQLAlchemy URL of the session's PostgreSQL database (None: none to be had)."""
    with contextlib.ExitStack() as stack:
        admin = admin_url_from_env() or local_admin_url() or stack.enter_context(private_server())
        if admin is None:
            yield None
            return
        yield stack.enter_context(own_database(admin, "jobmesh_test"))


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'ledger.db'}"
    if postgres_url is None:
        if os.environ.get("CI"):
            pytest.fail(HOW_TO_ENABLE)
        pytest.skip(HOW_TO_ENABLE)
    return postgres_url


@pytest.fixture
async def ledger(ledger_url: str) -> AsyncIterator[Ledger]:
    opened = Ledger(ledger_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def account_id() -> str:
    """An account id no other test uses (tests share the session's PostgreSQL database)."""
    return f"acc_{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def gocardless_server() -> AsyncIterator[FakeGoCardless]:
    """A GoCardless-shaped server of this test's own, on a free port (no accounts yet)."""
    async with FakeGoCardless() as server:
        yield server


def sync_settings_for(server: FakeGoCardless, daily_calls: int = 4) -> SyncSettings:
    return SyncSettings(
        gocardless=GoCardlessSettings(
            secret_id=server.secret_id,
            secret_key=server.secret_key,
            base_url=server.base_url,
            daily_calls=daily_calls,
        )
    )


@pytest.fixture
async def providers(
    gocardless_server: FakeGoCardless, redis_client: aioredis.Redis, queue_prefix: str
) -> AsyncIterator[Providers]:
    """The network providers, GoCardless pointed at the local server, call budgets in the test's keys."""
    opened = Providers(sync_settings_for(gocardless_server), redis_client, queue_prefix)
    try:
        yield opened
    finally:
        await opened.aclose()
