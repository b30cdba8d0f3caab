"""A futures position held overnight carries its daily settlement (ajuste) across a restart: the node that
restores it on the next session settles it from the previous day's settlement price, as one that had run
through the night would (b3.md section 1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig
from tradingsystem.engine.portfolio import Ajuste
from tradingsystem.engine.state import SETTLE_KEY, StateKeeper, restore
from tradingsystem.runtime.config import AppConfig
from tradingsystem.runtime.node import build_sim_node

HOUR = 3600 * 10**9


def _config(tmp_path: Path) -> AppConfig:
    return AppConfig.model_validate({
        "data_dir": str(tmp_path), "record": False,
        "sim": {"seed": 11, "start_time": "18:00", "symbols": ["WINFUT"]},
        "risk": {"flatten_before_close_minutes": 0, "daily_loss_limit_brl": "0", "max_drawdown_brl": "0"},
        "strategies": [{"symbol": "WINFUT", "fast": 3, "slow": 8, "quantity": 1}],
    })


def _session(cfg: AppConfig, day: date, store: SqlStateStore, ajustes: list[Ajuste]):
    node = build_sim_node(cfg, session_date=day, run_id=f"R{day:%d}")
    kernel = node.kernel
    keeper = StateKeeper(kernel, store, run_id=f"R{day:%d}")
    report = restore(kernel, store, node.venue_state)
    kernel.bus.subscribe("portfolio.ajuste", ajustes.append)
    kernel.run(until_ts=node.start_ns + HOUR)  # past the 18:30 settlement
    kernel.finish()
    node.market.close()
    keeper.flush()
    return kernel, report


def test_a_position_restored_the_next_day_settles_from_the_previous_settlement(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    store = SqlStateStore(SqlStoreConfig(url=f"sqlite:///{tmp_path}/state.db"))
    first: list[Ajuste] = []
    kernel, _ = _session(cfg, date(2026, 3, 2), store, first)
    (day1,) = first
    carried = kernel.portfolio.quantity(day1.symbol)
    assert carried and day1.quantity == carried  # held through the settlement and the night
    saved = store.load_risk_state()
    assert saved is not None and saved.breakers[SETTLE_KEY + day1.symbol].split()[3] == str(day1.settlement_price)
    fills_day1 = len(store.load_fills())

    second: list[Ajuste] = []
    kernel, report = _session(cfg, date(2026, 3, 3), store, second)
    assert report.positions[day1.symbol] == carried and report.settlements == {day1.symbol: day1.settlement_price}
    (day2,) = second
    inst = kernel.instruments[day1.symbol]
    today = [f for f in store.load_fills()[fills_day1:] if f.symbol == day1.symbol]
    cash = sum((1 if f.side == 1 else -1) * f.quantity * f.price for f in today)
    # AD = M x (position now x PA_t - carried x PA_t-1 - today's trades at their prices)
    expected = inst.brl(day2.quantity * day2.settlement_price - carried * day1.settlement_price - cash)
    assert day2.amount_brl == expected.quantize(Decimal("0.01"))
    store.close()
