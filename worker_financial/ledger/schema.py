"""Bringing a ledger database to the newest schema, programmatically.

The migrations ship inside the package (ledger/migrations) and run through
Alembic's command API on the service's own connection: no alembic.ini, no
CLI step, nothing to remember before start-up. On PostgreSQL the upgrade
holds a transaction-scoped advisory lock, so replicas that start together
migrate one after the other (the later ones find the schema at head). On
SQLite nothing serializes two processes migrating one new file at the same
moment: the loser's start-up migration fails (worker_financial.app logs it)
and its first use finds the schema at head. (Not tested yet.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key: "jobmesh ledger migrations".
_LOCK_KEY: Final = 0x6A6D_6C65_6467_6572 & 0x7FFF_FFFF_FFFF_FFFF


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the ledger ships at least one migration"
    return head


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    command.upgrade(_config(connection), "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade the database behind `engine` to the head revision (a no-op when it is there)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)
