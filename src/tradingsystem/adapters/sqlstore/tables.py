"""The schema as SQLAlchemy Core tables (what the code reads and writes).

The migrations under ``migrations/versions`` create the same schema; a test compares the two.
Prices, quantities and timestamps are BIGINT raw units; money is ``ExactDecimal`` (NUMERIC in
PostgreSQL, TEXT in SQLite, lossless both ways).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

__all__ = ["AUDIT", "FILLS", "METADATA", "ORDERS", "RISK_HISTORY", "RISK_STATE", "ExactDecimal", "SeqId"]


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored exactly: NUMERIC (no precision limit) in PostgreSQL, its string form elsewhere."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(value)


# An autoincrement surrogate key: BIGSERIAL in PostgreSQL, the rowid alias in SQLite.
SeqId = BigInteger().with_variant(Integer(), "sqlite")

METADATA = MetaData()

ORDERS = Table(
    "orders", METADATA,
    Column("order_id", Text, primary_key=True),
    Column("symbol", Text, nullable=False),
    Column("side", SmallInteger, nullable=False),
    Column("order_type", SmallInteger, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("trigger_price", BigInteger, nullable=False),
    Column("tif", SmallInteger, nullable=False),
    Column("strategy_id", Text, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("filled_qty", BigInteger, nullable=False),
    Column("filled_cost", BigInteger, nullable=False),
    Column("venue_order_id", Text, nullable=False),
    Column("ts_init", BigInteger, nullable=False),
    Column("ts_last", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("parent_id", Text, nullable=False),
    Column("group_id", Text, nullable=False),
    Column("ts_ack", BigInteger, nullable=False, server_default="0"),  # migration 0004
    Column("tags", Text, nullable=False),
    Index("ix_orders_open", "is_open", "strategy_id"),
    Index("ix_orders_venue_order_id", "venue_order_id"),
)

FILLS = Table(
    "fills", METADATA,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("fill_id", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", SmallInteger, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("fee", ExactDecimal, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("strategy_id", Text, nullable=False),
    Column("liquidity", SmallInteger, nullable=False),
    Column("venue_order_id", Text, nullable=False),
    UniqueConstraint("fill_id", name="uq_fills_fill_id"),
    Index("ix_fills_ts", "ts"),
    Index("ix_fills_order_id", "order_id"),
)


def _risk_columns() -> list[Column[Any]]:
    return [
        Column("trading_state", Text, nullable=False),
        Column("kill_switch", Boolean, nullable=False),
        Column("kill_reason", Text, nullable=False),
        Column("ts", BigInteger, nullable=False),
        Column("breakers", Text, nullable=False),
        Column("day", Text, nullable=False),
        Column("day_start_equity_brl", ExactDecimal, nullable=False),
        Column("peak_equity_brl", ExactDecimal, nullable=False),
        Column("paused", Text, nullable=False, server_default="{}"),  # symbol -> why (JSON), migration 0003
    ]


# The single current row (id = 1), plus every state ever saved.
RISK_STATE = Table("risk_state", METADATA, Column("id", SmallInteger, primary_key=True, autoincrement=False),
                   *_risk_columns())
RISK_HISTORY = Table("risk_state_history", METADATA, Column("seq", SeqId, primary_key=True, autoincrement=True),
                     *_risk_columns(), Index("ix_risk_state_history_ts", "ts"))

AUDIT = Table(
    "audit", METADATA,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("limit_value", Text, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_audit_ts", "ts"),
    Index("ix_audit_order_id", "order_id"),
)

# Actions a person took (issue 16): kill, reset, flatten, cancel..., by channel (control-api, cli, dashboard, telegram).
MANUAL_ACTIONS = Table(
    "manual_actions", METADATA,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    Column("channel", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("result", Text, nullable=False),
    Index("ix_manual_actions_ts", "ts"),
)
