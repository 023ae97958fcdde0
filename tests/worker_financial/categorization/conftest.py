"""A ledger of the test's own for categorization tests, on SQLite and on PostgreSQL.

A categorization run without transaction ids takes every uncategorized
transaction of the ledger and learns from every categorized one, across
accounts: on the session's shared PostgreSQL database it would see the other
tests' transactions. So each test here gets an empty database of its own (a
fresh SQLite file, or a PostgreSQL database created beside the session's and
dropped afterwards).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from worker_financial.ledger.store import Ledger


@contextlib.contextmanager
def own_database(session_url: str) -> Iterator[str]:
    """A new database on the server of `session_url` (an async SQLAlchemy URL), dropped afterwards."""
    url = make_url(session_url)
    name = f"jobmesh_cat_{uuid.uuid4().hex[:12]}"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
async def own_ledger(ledger_url: str) -> AsyncIterator[Ledger]:
    with contextlib.ExitStack() as stack:
        url = ledger_url if ledger_url.startswith("sqlite") else stack.enter_context(own_database(ledger_url))
        opened = Ledger(url)
        try:
            yield opened
        finally:
            await opened.close()
