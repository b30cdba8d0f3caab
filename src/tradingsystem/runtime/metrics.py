"""Prometheus metrics of a running node: event counts, queue depths, latency, P&L, risk state.

Rendered by ``prometheus_client`` from a collector that reads the kernel at scrape time (call on the
engine thread for a consistent view). Counters end in ``_total``; rates come from Prometheus
(``rate(tradingsystem_market_events_total[1m])``). Extra sources (the Redis link, ...) add
``name -> value`` gauges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tradingsystem.engine.kernel import Kernel

__all__ = ["MetricSource", "render_metrics"]

MetricSource = Callable[[], dict[str, float]]
_STATES = ("ACTIVE", "REDUCING", "HALTED")
_P = "tradingsystem_"


def _gauge(name: str, help_: str, value: Any) -> GaugeMetricFamily:
    return GaugeMetricFamily(_P + name, help_, value=float(value))


def _counter(name: str, help_: str, value: Any) -> CounterMetricFamily:
    return CounterMetricFamily(_P + name, help_, value=float(value))


class _NodeCollector(Collector):
    def __init__(self, kernel: Kernel, sources: Iterable[MetricSource], response_s: float | None) -> None:
        self.kernel, self.sources, self.response_s = kernel, list(sources), response_s

    def collect(self) -> Iterator[Metric]:
        k = self.kernel
        pf = k.portfolio
        events = CounterMetricFamily(_P + "market_events", "Market data events handled by the engine.",
                                     labels=["kind"])
        events.add_metric(["trade"], k.data.trades_seen)
        events.add_metric(["book"], k.data.book_events)
        yield events
        yield _counter("orders_submitted", "Orders sent to the venue.", k.orders.submitted)
        yield _counter("fills", "Fills received.", k.orders.fills)
        yield _counter("risk_denials", "Orders denied by risk.", k.risk.denials)
        yield _gauge("working_orders", "Orders working now.", len(k.cache.open_orders))
        yield _gauge("inbox_depth", "Calls from other threads waiting for the engine thread.", len(k._inbox))
        yield _gauge("event_time_seconds", "The engine's clock (event time, UTC seconds).", k.clock.now() / 1e9)
        if self.response_s is not None:
            yield _gauge("engine_response_seconds", "Time the engine thread took to answer this scrape "
                         "(loop latency).", self.response_s)
        yield _gauge("realized_pnl_brl", "Realized P&L, BRL.", pf.realized_brl())
        yield _gauge("unrealized_pnl_brl", "Unrealized P&L, BRL.", pf.unrealized_brl())
        yield _gauge("fees_brl", "Fees paid, BRL.", pf.fees_brl())
        yield _gauge("gross_exposure_brl", "Gross exposure, BRL.", k.gross_exposure_brl())
        pos = GaugeMetricFamily(_P + "position", "Net position by instrument (contracts or shares).",
                                labels=["symbol"])
        for symbol, p in sorted(pf.positions.items()):
            pos.add_metric([symbol], p.quantity)
        yield pos
        state = str(k.risk.state.value).upper()
        st = GaugeMetricFamily(_P + "trading_state", "1 for the current risk state.", labels=["state"])
        for s in _STATES:
            st.add_metric([s], 1 if state == s else 0)
        yield st
        yield _gauge("kill_switch", "1 while engaged.", 1 if k.guard.kill_switch else 0)
        for source in self.sources:
            for name, value in sorted(source().items()):
                yield _gauge(name, name.replace("_", " ") + ".", value)


def render_metrics(kernel: Kernel, sources: Iterable[MetricSource] = (), response_s: float | None = None) -> str:
    """The node's metrics in Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_NodeCollector(kernel, sources, response_s))
    return generate_latest(registry).decode()
