"""Manual actions: who (channel), what, when, result of every action a person took.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # frozen copy of the live column type


def upgrade() -> None:
    op.create_table(
        "manual_actions",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
    )
    op.create_index("ix_manual_actions_ts", "manual_actions", ["ts"])


def downgrade() -> None:
    op.drop_table("manual_actions")
