"""Categorization: how each transaction got its category, how sure the model was, review marks,
and the user's kept rules.

`category_method` says who set `category`: "manual" (a person, or an import that
carried one; such a category is never overwritten and is what the model learns
from), "rules" (a user rule) or "ai" (the model). `needs_review` marks a
transaction no rule matched and the model could not categorize confidently,
with the reason in `review_reason`, so a person sees it. The index on
`category` keeps the hourly run's "uncategorized transactions" a lookup, not a
scan, however large the ledger grows. `category_rules` keeps the user's rules, in
order, as proto3 JSON, for jobs that carry none (the hourly schedule's).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(sa.Column("category_method", sa.String(16), nullable=True))
        batch.add_column(sa.Column("category_confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("review_reason", sa.String(256), nullable=True))
        batch.add_column(sa.Column("categorized_at", sa.DateTime(), nullable=True))
    op.create_index("ix_transactions_category", "transactions", ["category"])
    op.create_table(
        "category_rules",
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("category_rules")
    op.drop_index("ix_transactions_category", table_name="transactions")
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("categorized_at")
        batch.drop_column("review_reason")
        batch.drop_column("needs_review")
        batch.drop_column("category_confidence")
        batch.drop_column("category_method")
