"""A PostgreSQL to work on, and a database of one run's own on it: shared by the financial
benchmark and the ledger's tests, which both must never see another run's rows."""

from __future__ import annotations

import contextlib
import getpass
import os
import uuid
from collections.abc import Iterator
from typing import Final

import psycopg
from psycopg import sql

LOCAL_USERS: Final = ("postgres", "root")  # the machine's server on 127.0.0.1:5432 (trust auth)


def answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def admin_url_from_env() -> str | None:
    """DATABASE_URL when it names a PostgreSQL (as psycopg's plain URL)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.split("://", 1)[0].split("+", 1)[0] in ("postgresql", "postgres"):
        return url.replace("postgresql+psycopg://", "postgresql://", 1)
    return None


def local_admin_url() -> str | None:
    """The machine's own server, as the first of LOCAL_USERS it lets in (None: none answers)."""
    for user in LOCAL_USERS:
        url = f"postgresql://{user}@127.0.0.1:5432/test"
        if answers(url):
            return url
    return None


@contextlib.contextmanager
def own_database(admin_url: str, stem: str) -> Iterator[str]:
    """A database named `<stem>_<random>` on `admin_url`'s server, dropped afterwards (even
    with sessions still open on it); yields its SQLAlchemy URL (postgresql+psycopg)."""
    name = f"{stem}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    user = info.get("user") or getpass.getuser()
    password = f":{info['password']}" if info.get("password") else ""
    host = info.get("host") or "127.0.0.1"
    port = info.get("port") or 5432
    try:
        yield f"postgresql+psycopg://{user}{password}@{host}:{port}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
