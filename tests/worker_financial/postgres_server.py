"""A PostgreSQL for the ledger's tests: the one DATABASE_URL names, else the machine's on
127.0.0.1:5432, else a private server started from the system's initdb/pg_ctl.

Whichever it is, the test session works in a database of its own (created at the
start, dropped at the end), so tests never see another session's rows.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

LOCAL_USERS = ("postgres", "root")
HOW_TO_ENABLE = (
    "no PostgreSQL: set DATABASE_URL=postgresql://user@host:5432/db, run one on 127.0.0.1:5432 "
    "(trust auth, user postgres, database test), or install the server (initdb, pg_ctl) "
    "to run the ledger tests on PostgreSQL too"
)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def admin_url_from_env() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if url.split("://", 1)[0].split("+", 1)[0] in ("postgresql", "postgres"):
        return url.replace("postgresql+psycopg://", "postgresql://", 1)
    return None


def local_admin_url() -> str | None:
    for user in LOCAL_USERS:
        url = f"postgresql://{user}@127.0.0.1:5432/test"
        if _answers(url):
            return url
    return None


@contextlib.contextmanager
def private_server() -> Iterator[str | None]:
    """A PostgreSQL of the session's own on a free port (None when the binaries are missing).
    initdb refuses to run as root, so as root it runs as the `postgres` user."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        yield None
        return
    as_user: list[str] = []
    user = getpass.getuser()
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            yield None
            return
        as_user, user = [runuser, "-u", "postgres", "--"], "postgres"
    home = Path(tempfile.mkdtemp(prefix="jobmesh-pg-"))
    data = home / "data"
    if as_user:
        shutil.chown(home, user="postgres")
    port = _free_port()
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", user], check=True, capture_output=True
    )
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], check=False, capture_output=True
        )
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def session_database(admin_url: str) -> Iterator[str]:
    """A database of the test session's own on `admin_url`'s server, dropped afterwards."""
    name = f"jobmesh_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    info["dbname"] = name
    user = info.get("user") or getpass.getuser()
    password = f":{info['password']}" if info.get("password") else ""
    host = info.get("host") or "127.0.0.1"
    port = info.get("port") or 5432
    try:
        yield f"postgresql+psycopg://{user}{password}@{host}:{port}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
