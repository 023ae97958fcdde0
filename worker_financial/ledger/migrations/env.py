"""Alembic's environment for the ledger: runs on the connection `schema.migrate` hands it.

There is no alembic.ini and no CLI step: the service migrates its own
database at start-up (and a Ledger on first use), so the connection and the
target come in through the Config's attributes.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from worker_financial.ledger.models import Base

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite alters a table by copying it: later revisions need batch mode there.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
