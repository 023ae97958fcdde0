"""Reconciliation records (with their unmatched items) and the reports generated.

A reconciliation is one row per job id, its unmatched transactions rows of
`reconciliation_items`; a generated report is one row per job id naming its
file. Money columns are BIGINT ten-thousandths (ledger/money.py); times are UTC.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliations",
        sa.Column("job_id", sa.String(256), primary_key=True),
        sa.Column(
            "account_id", sa.String(128), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("reconciliation_type", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("target_balance", sa.BigInteger(), nullable=False),
        sa.Column("target_source", sa.String(16), nullable=False),
        sa.Column("opening_balance", sa.BigInteger(), nullable=False),
        sa.Column("matched_total", sa.BigInteger(), nullable=False),
        sa.Column("matched_count", sa.Integer(), nullable=False),
        sa.Column("discrepancy", sa.BigInteger(), nullable=False),
        sa.Column("threshold", sa.BigInteger(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("items_compared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_reconciliations_account_created", "reconciliations", ["account_id", "created_at"])
    op.create_table(
        "reconciliation_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "reconciliation_id",
            sa.String(256),
            sa.ForeignKey("reconciliations.job_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("side", sa.String(16), nullable=False),
        sa.Column(
            "transaction_id",
            sa.Integer(),
            sa.ForeignKey("transactions.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("booked", sa.Boolean(), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("payee", sa.String(512), nullable=False),
        sa.Column("description", sa.String(1024), nullable=False),
        sa.Column("provider_transaction_id", sa.String(256), nullable=True),
    )
    op.create_index("ix_reconciliation_items_reconciliation", "reconciliation_items", ["reconciliation_id"])
    op.create_table(
        "reports",
        sa.Column("job_id", sa.String(256), primary_key=True),
        sa.Column("report_type", sa.String(32), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("location", sa.String(1024), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("transactions", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reports")
    op.drop_index("ix_reconciliation_items_reconciliation", table_name="reconciliation_items")
    op.drop_table("reconciliation_items")
    op.drop_index("ix_reconciliations_account_created", table_name="reconciliations")
    op.drop_table("reconciliations")
