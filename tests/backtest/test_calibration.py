"""Calibration on a scripted session: latency from market orders, the ack latency from when the engine got
each order's acknowledgement, the queue factor from a limit order."""

from __future__ import annotations

from tests.backtest.helpers import MS, T0, level, trade, weekdays
from tradingsystem.backtest.calibration import calibrate
from tradingsystem.backtest.queue_venue import QueueVenueConfig
from tradingsystem.backtest.shadow import RecordedFill, RecordedOrder
from tradingsystem.domain import b3
from tradingsystem.domain.sessions import Phase


def session() -> list:
    return [level(1, 125_000, 30, T0), level(2, 125_005, 40, T0),
            *[trade(125_000, 10, 2, T0 + (4 + i) * MS) for i in range(1, 6)]]  # prints at 5..9 ms


def test_calibration_fits_latency_and_queue_position() -> None:
    inst = {"WINZ26": b3.instrument("WINZ26", weekdays)}
    # acks reach the engine 5 ms after sending: 3 ms there and 2 ms back
    orders = [RecordedOrder("M", "WINZ26", 1, 1, 2, 0, T0 + 100, ts_ack=T0 + 100 + 5 * MS),  # filled 3 ms later
              RecordedOrder("L", "WINZ26", 1, 2, 5, 125_000, T0 + 200, ts_ack=T0 + 200 + 5 * MS)]  # behind 30 lots
    fills = [RecordedFill("M", 2, 125_005, T0 + 100 + 3 * MS),
             RecordedFill("L", 5, 125_000, T0 + 6 * MS)]  # really filled on the 2nd print: 15 lots were ahead
    fit = calibrate(inst, session_sources, orders, fills, QueueVenueConfig())
    p = fit.params[("WINZ26", int(Phase.CONTINUOUS))]
    assert p.latency_ns == 3 * MS and p.slippage_ticks == 0 and p.queue_factor == 0.5
    assert p.ack_latency_ns == 2 * MS
    assert fit.as_settings()["WINZ26"]["continuous"]["latency_ms"] == 3.0
    assert fit.as_settings()["WINZ26"]["continuous"]["ack_latency_ms"] == 2.0


def session_sources() -> list:
    return [session()]
