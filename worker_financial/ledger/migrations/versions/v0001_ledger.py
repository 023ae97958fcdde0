"""The first ledger: accounts, transactions (one row per account and dedupe key), sync cursors.

Money columns are BIGINT ten-thousandths (ledger/money.py); times are UTC.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(256), nullable=True),
        sa.Column("opening_balance", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "account_id",
            sa.String(128),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("booked", sa.Boolean(), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payee", sa.String(512), nullable=False),
        sa.Column("description", sa.String(1024), nullable=False),
        sa.Column("provider_transaction_id", sa.String(256), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("dedupe_key", sa.String(300), nullable=False),
        sa.Column("category", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "dedupe_key", name="uq_transactions_account_dedupe_key"),
    )
    op.create_index("ix_transactions_account_booking_date", "transactions", ["account_id", "booking_date"])
    op.create_table(
        "sync_cursors",
        sa.Column(
            "account_id",
            sa.String(128),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("provider", sa.String(32), primary_key=True),
        sa.Column("last_booked_date", sa.Date(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sync_cursors")
    op.drop_index("ix_transactions_account_booking_date", table_name="transactions")
    op.drop_table("transactions")
    op.drop_table("accounts")
