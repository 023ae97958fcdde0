"""The financial ledger: accounts, their transactions and sync cursors, in SQLite or PostgreSQL."""
