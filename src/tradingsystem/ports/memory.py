"""In-memory fakes of the ports, for tests and for runs that need no durability."""

from __future__ import annotations

from tradingsystem.domain.records import AuditRecord, FillRecord, ManualActionRecord, OrderRecord, RiskStateRecord

_CLOSED = {3, 5, 6, 7}  # REJECTED, FILLED, CANCELLED, EXPIRED


class MemoryStateStore:
    """A ``StateStore`` that keeps everything in dicts and lists."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderRecord] = {}
        self.fills: dict[str, FillRecord] = {}
        self.risk: RiskStateRecord | None = None
        self.audit: list[AuditRecord] = []
        self.manual: list[ManualActionRecord] = []

    def save_order(self, record: OrderRecord) -> None:
        self.orders[record.order_id] = record

    def save_fill(self, record: FillRecord) -> None:
        self.fills.setdefault(record.fill_id, record)

    def save_risk_state(self, record: RiskStateRecord) -> None:
        self.risk = record

    def save_audit(self, records: list[AuditRecord]) -> None:
        self.audit.extend(records)

    def save_manual_action(self, record: ManualActionRecord) -> None:
        self.manual.append(record)

    def flush(self) -> None:
        pass

    def load_orders(self, open_only: bool = False) -> list[OrderRecord]:
        return [o for o in self.orders.values() if not open_only or o.status not in _CLOSED]

    def load_fills(self, since_ts: int = 0) -> list[FillRecord]:
        return sorted((f for f in self.fills.values() if f.ts >= since_ts), key=lambda f: (f.ts, f.fill_id))

    def load_risk_state(self) -> RiskStateRecord | None:
        return self.risk

    def load_audit(self, limit: int = 1000) -> list[AuditRecord]:
        return self.audit[-limit:]

    def load_manual_actions(self, limit: int = 100) -> list[ManualActionRecord]:
        return self.manual[-limit:]

    def close(self) -> None:
        pass
