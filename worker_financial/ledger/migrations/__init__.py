"""The ledger's Alembic migrations, shipped in the package and run by `schema.migrate`, never by hand."""
