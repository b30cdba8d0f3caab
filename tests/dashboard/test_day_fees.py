"""The overview's fees column is the day's: the fees of today's fills per instrument, 0 again when the B3 day
changes (the position's P&L keeps every fee it paid)."""

from __future__ import annotations

import time
from decimal import Decimal

from tests.dashboard.conftest import LiveNode
from tradingsystem.engine.session_gate import DAY_NS, OFFSET_NS, day_of


def test_fees_column_is_todays_and_resets_at_the_day_change(live: LiveNode) -> None:
    ctl = live.handle.controller
    deadline = time.monotonic() + 60
    while not live.on_engine(lambda: [f for f in ctl.collector.fills if Decimal(f["fee"])]):
        assert time.monotonic() < deadline, "no fill with a fee in 60 s of simulated trading"
        time.sleep(0.2)

    def read() -> tuple[dict[str, str], dict[str, str], dict[str, Decimal], dict[str, str]]:
        k = live.kernel
        ts = k.now()
        next_day = (ts - OFFSET_NS) // DAY_NS * DAY_NS + OFFSET_NS + DAY_NS  # 00:00 B3 of the next day
        today = {s: ctl._instrument_row(s, ts)["fees_brl"] for s in k.instruments}
        tomorrow = {s: ctl._instrument_row(s, next_day)["fees_brl"] for s in k.instruments}
        fills: dict[str, Decimal] = {}
        for f in ctl.collector.fills:
            if day_of(f["ts"]) == day_of(ts):
                fills[f["symbol"]] = fills.get(f["symbol"], Decimal(0)) + Decimal(f["fee"])
        pnl = {s: ctl._instrument_row(s, next_day)["pnl_brl"] for s in k.instruments}
        assert pnl == {s: ctl._instrument_row(s, ts)["pnl_brl"] for s in k.instruments}
        return today, tomorrow, fills, pnl

    today, tomorrow, fills, _ = live.on_engine(read)
    assert fills and all(Decimal(today[s]) == v.quantize(Decimal("0.01")) for s, v in fills.items())
    assert set(tomorrow.values()) == {"0.00"}
