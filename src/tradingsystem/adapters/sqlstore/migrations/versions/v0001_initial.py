"""Initial schema: orders, fills, risk_state (+ history), audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the column types: a migration never imports the live schema.
DECIMAL = sa.Numeric().with_variant(sa.Text(), "sqlite")
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _risk_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("trading_state", sa.Text(), nullable=False),
        sa.Column("kill_switch", sa.Boolean(), nullable=False),
        sa.Column("kill_reason", sa.Text(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("breakers", sa.Text(), nullable=False),
        sa.Column("day", sa.Text(), nullable=False),
        sa.Column("day_start_equity_brl", DECIMAL, nullable=False),
        sa.Column("peak_equity_brl", DECIMAL, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Text(), primary_key=True),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.SmallInteger(), nullable=False),
        sa.Column("order_type", sa.SmallInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("trigger_price", sa.BigInteger(), nullable=False),
        sa.Column("tif", sa.SmallInteger(), nullable=False),
        sa.Column("strategy_id", sa.Text(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("filled_qty", sa.BigInteger(), nullable=False),
        sa.Column("filled_cost", sa.BigInteger(), nullable=False),
        sa.Column("venue_order_id", sa.Text(), nullable=False),
        sa.Column("ts_init", sa.BigInteger(), nullable=False),
        sa.Column("ts_last", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Text(), nullable=False),
        sa.Column("group_id", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
    )
    op.create_index("ix_orders_open", "orders", ["is_open", "strategy_id"])
    op.create_index("ix_orders_venue_order_id", "orders", ["venue_order_id"])

    op.create_table(
        "fills",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("fill_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.SmallInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("fee", DECIMAL, nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("strategy_id", sa.Text(), nullable=False),
        sa.Column("liquidity", sa.SmallInteger(), nullable=False),
        sa.Column("venue_order_id", sa.Text(), nullable=False),
        sa.UniqueConstraint("fill_id", name="uq_fills_fill_id"),
    )
    op.create_index("ix_fills_ts", "fills", ["ts"])
    op.create_index("ix_fills_order_id", "fills", ["order_id"])

    op.create_table("risk_state", sa.Column("id", sa.SmallInteger(), primary_key=True, autoincrement=False),
                    *_risk_columns())
    op.create_table("risk_state_history", sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
                    *_risk_columns())
    op.create_index("ix_risk_state_history_ts", "risk_state_history", ["ts"])

    op.create_table(
        "audit",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("limit_value", sa.Text(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_audit_ts", "audit", ["ts"])
    op.create_index("ix_audit_order_id", "audit", ["order_id"])


def downgrade() -> None:
    for name in ("audit", "risk_state_history", "risk_state", "fills", "orders"):
        op.drop_table(name)
