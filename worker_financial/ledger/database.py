"""Which database the ledger lives in, and the async engine that talks to it.

With no DATABASE_URL the ledger is an SQLite file, `ledger.db` in the service's
data directory (JOBMESH_DATA_DIR), created on first use: nothing to set up.
A DATABASE_URL names PostgreSQL (driven by psycopg 3, `postgresql+psycopg`) or
another SQLite file. The service settings have already refused any other URL
(service_kit.settings), so a scheme outside these is a programming error here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

LEDGER_FILE: Final = "ledger.db"
_POSTGRES: Final = ("postgresql", "postgres", "postgresql+psycopg")
_SQLITE: Final = ("sqlite", "sqlite+aiosqlite")


def async_url(database_url: str | None, data_dir: Path) -> str:
    """The SQLAlchemy async URL for DATABASE_URL (None: the SQLite file in `data_dir`)."""
    if database_url is None:
        return f"sqlite+aiosqlite:///{data_dir / LEDGER_FILE}"
    scheme, sep, rest = database_url.partition("://")
    if sep and scheme.lower() in _POSTGRES:
        return f"postgresql+psycopg://{rest}"
    if sep and scheme.lower() in _SQLITE:
        return f"sqlite+aiosqlite://{rest}"
    raise ValueError("the ledger speaks postgresql:// or sqlite:// URLs only")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on (SQLite leaves them off); WAL and a busy timeout so two processes can share
    the file, one writing while the other reads or waits its turn instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """An async engine on `url` (an SQLite file's folder is made when missing)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)
