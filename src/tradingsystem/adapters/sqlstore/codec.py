"""Record <-> row conversion (flat dicts keyed by column name)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from tradingsystem.domain.orders import CLOSED
from tradingsystem.domain.records import AuditRecord, FillRecord, OrderRecord, RiskStateRecord

__all__ = [
    "FILL_FIELDS",
    "ORDER_FIELDS",
    "audit_from_row",
    "audit_row",
    "fill_row",
    "fills_from_tuples",
    "order_row",
    "orders_from_tuples",
    "risk_from_row",
    "risk_row",
]

_CLOSED = frozenset(int(s) for s in CLOSED)
ORDER_FIELDS: tuple[str, ...] = OrderRecord.__struct_fields__
FILL_FIELDS: tuple[str, ...] = FillRecord.__struct_fields__
_ORDER_FIELDS, _FILL_FIELDS = ORDER_FIELDS, FILL_FIELDS
assert ORDER_FIELDS[-1] == "tags"
_json = msgspec.json.Encoder()
_tags = msgspec.json.Decoder(tuple[str, ...])
_breakers = msgspec.json.Decoder(dict[str, str])


def order_row(r: OrderRecord) -> dict[str, Any]:
    row = {f: getattr(r, f) for f in _ORDER_FIELDS}
    row["tags"] = _json.encode(list(r.tags)).decode()
    row["is_open"] = r.status not in _CLOSED
    return row


def orders_from_tuples(rows: Iterable[Sequence[Any]]) -> list[OrderRecord]:
    """Rows selected in ``OrderRecord`` field order (``tags`` last): the fast path of a reload."""
    dec = _tags.decode
    out = []
    for r in rows:
        vals = list(r)
        vals[-1] = dec(vals[-1])
        out.append(OrderRecord(*vals))
    return out


def fills_from_tuples(rows: Iterable[Sequence[Any]]) -> list[FillRecord]:
    """Rows selected in ``FillRecord`` field order."""
    return [FillRecord(*r) for r in rows]


def fill_row(r: FillRecord) -> dict[str, Any]:
    return {f: getattr(r, f) for f in _FILL_FIELDS}


def risk_row(r: RiskStateRecord) -> dict[str, Any]:
    return {
        "trading_state": r.trading_state, "kill_switch": r.kill_switch, "kill_reason": r.kill_reason, "ts": r.ts,
        "breakers": _json.encode(dict(sorted(r.breakers.items()))).decode(), "day": r.day,
        "day_start_equity_brl": r.day_start_equity_brl, "peak_equity_brl": r.peak_equity_brl,
        "paused": _json.encode(dict(sorted(r.paused.items()))).decode(),
    }


def risk_from_row(row: Mapping[Any, Any]) -> RiskStateRecord:
    return RiskStateRecord(
        trading_state=row["trading_state"], kill_switch=bool(row["kill_switch"]), kill_reason=row["kill_reason"],
        ts=row["ts"], breakers=_breakers.decode(row["breakers"]), day=row["day"],
        day_start_equity_brl=row["day_start_equity_brl"], peak_equity_brl=row["peak_equity_brl"],
        paused=_breakers.decode(row["paused"]),
    )


def audit_row(r: AuditRecord) -> dict[str, Any]:
    return {"ts": r.ts, "order_id": r.order_id, "rule": r.rule, "value": r.value, "limit_value": r.limit,
            "passed": r.passed, "detail": r.detail}


def audit_from_row(row: Mapping[Any, Any]) -> AuditRecord:
    return AuditRecord(ts=row["ts"], order_id=row["order_id"], rule=row["rule"], value=row["value"],
                       limit=row["limit_value"], passed=bool(row["passed"]), detail=row["detail"])
