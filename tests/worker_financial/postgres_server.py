"""A private PostgreSQL for the ledger's tests, started from the system's initdb/pg_ctl when
neither DATABASE_URL nor the machine's server on 127.0.0.1:5432 answers (bench/postgres.py
finds those, and makes the session's own database on whichever it is)."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

HOW_TO_ENABLE = (
    "no PostgreSQL: set DATABASE_URL=postgresql://user@host:5432/db, run one on 127.0.0.1:5432 "
    "(trust auth, user postgres, database test), or install the server (initdb, pg_ctl) "
    "to run the ledger tests on PostgreSQL too"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


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
