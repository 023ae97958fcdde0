"""DATABASE_URL and JOBMESH_DATA_DIR as the service settings read them: a bad URL stops start-up
with one line naming the variable, and never shows the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from queue_system.settings import ConfigError
from service_kit.settings import load


def test_without_database_url_the_ledger_goes_in_the_data_directory() -> None:
    settings = load({})
    assert settings.database_url is None and settings.database_url_redacted is None
    assert load({"XDG_DATA_HOME": "/srv/data"}).data_dir == Path("/srv/data/jobmesh")
    assert load({"JOBMESH_DATA_DIR": "/var/lib/jm"}).data_dir == Path("/var/lib/jm")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://user:pass@localhost:5432/db",
        "postgres://db.internal/books",
        "postgresql+psycopg://u@127.0.0.1/test",
        "sqlite:////var/lib/jobmesh/ledger.db",
        "sqlite:///ledger.db",
    ],
)
def test_postgresql_and_sqlite_urls_are_taken(url: str) -> None:
    assert load({"DATABASE_URL": url}).database_url == url


def test_the_password_stays_out_of_logs() -> None:
    settings = load({"DATABASE_URL": "postgresql://user:s3cret@localhost:5432/db"})
    assert settings.database_url_redacted == "postgresql://user:***@localhost:5432/db"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://user:s3cret@localhost/db",
        "postgresql://user:s3cret@localhost:5432",
        "postgresql://user:s3cret@localhost:port/db",
        "sqlite://",
        "ledger.db",
    ],
)
def test_a_bad_url_is_one_line_naming_the_variable_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load({"DATABASE_URL": url})
    message = str(raised.value)
    assert raised.value.variable == "DATABASE_URL" and message.startswith("DATABASE_URL: expected")
    assert "s3cret" not in message and "\n" not in message
