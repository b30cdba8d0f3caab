"""Write a backtest's report: ``summary.json``, ``trades.parquet``, ``equity.parquet``, ``report.html``.

The HTML is self-contained (inline SVG, no JavaScript, no CDN): equity, drawdown, and candles with
the fills marked. BRL columns in Parquet are exact ``decimal128(20, 2)``.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tradingsystem.backtest.results import BacktestResult, Trade, metrics, round_trips
from tradingsystem.domain.sessions import B3_TZ

__all__ = ["write_report"]

_BRL = pa.decimal128(20, 2)
_PX = pa.decimal128(20, 6)


def write_report(result: BacktestResult, out_dir: Path, deterministic: bool = False,
                 title: str = "Backtest", benchmark: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the four files into ``out_dir`` and return the summary (``benchmark``: see ``backtest.benchmark``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = metrics(result, deterministic)
    if benchmark is not None:
        summary["benchmark"] = benchmark
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    trades = round_trips(result.fills, result.instruments)
    pq.write_table(pa.table({
        "symbol": pa.array([t.symbol for t in trades], pa.string()),
        "direction": pa.array([t.direction for t in trades], pa.int8()),
        "quantity": pa.array([t.quantity for t in trades], pa.int64()),
        "entry_ts": pa.array([t.entry_ts for t in trades], pa.timestamp("ns", "UTC")),
        "exit_ts": pa.array([t.exit_ts for t in trades], pa.timestamp("ns", "UTC")),
        "entry_price": pa.array([t.entry_price for t in trades], _PX),
        "exit_price": pa.array([t.exit_price for t in trades], _PX),
        "pnl_brl": pa.array([t.pnl_brl for t in trades], _BRL),
        "fees_brl": pa.array([t.fees_brl for t in trades], _BRL),
        "net_brl": pa.array([t.net_brl for t in trades], _BRL),
    }), out_dir / "trades.parquet")
    peak = Decimal(0)
    dd = []
    for _, v in result.equity:
        peak = max(peak, v)
        dd.append(v - peak)
    pq.write_table(pa.table({
        "ts": pa.array([t for t, _ in result.equity], pa.timestamp("ns", "UTC")),
        "equity_brl": pa.array([v.quantize(Decimal("0.01")) for _, v in result.equity], _BRL),
        "drawdown_brl": pa.array([d.quantize(Decimal("0.01")) for d in dd], _BRL),
    }), out_dir / "equity.parquet")
    (out_dir / "report.html").write_text(_html(result, summary, dd, title, trades))
    return summary


# --- HTML ----------------------------------------------------------------------------------------
_W, _H = 960, 220


def _scale(values: list[float], lo: float, hi: float, size: float, invert: bool = True) -> list[float]:
    span = (hi - lo) or 1.0
    return [(size - (v - lo) / span * size) if invert else (v - lo) / span * size for v in values]


def _thin(xs: list[int], ys: list[float], buckets: int = 1000) -> tuple[list[int], list[float]]:
    """At most ~2 points per bucket (its min and max, in time order): the shape survives, the file stays small."""
    n = len(xs)
    if n <= 2 * buckets:
        return xs, ys
    ox: list[int] = []
    oy: list[float] = []
    step = n / buckets
    for b in range(buckets):
        lo, hi = int(b * step), min(n, int((b + 1) * step))
        seg = range(lo, hi)
        i_min = min(seg, key=ys.__getitem__)
        i_max = max(seg, key=ys.__getitem__)
        for i in sorted({i_min, i_max}):
            ox.append(xs[i])
            oy.append(ys[i])
    if ox[-1] != xs[-1]:  # keep the last point
        ox.append(xs[-1])
        oy.append(ys[-1])
    return ox, oy


def _line_svg(xs: list[int], ys: list[float], color: str, fill: bool = False) -> str:
    xs, ys = _thin(xs, ys)
    if not xs:
        return "<svg width='960' height='40'><text x='10' y='25'>no data</text></svg>"
    px = _scale([float(x) for x in xs], xs[0], xs[-1], _W - 20, invert=False)
    lo, hi = min([*ys, 0.0]), max([*ys, 0.0])
    py = _scale(ys, lo, hi, _H - 20)
    pts = " ".join(f"{x + 10:.1f},{y + 10:.1f}" for x, y in zip(px, py, strict=True))
    zero = _scale([0.0], lo, hi, _H - 20)[0] + 10
    shape = (f"<polygon points='10,{zero:.1f} {pts} {px[-1] + 10:.1f},{zero:.1f}' fill='{color}' opacity='0.4'/>"
             if fill else f"<polyline points='{pts}' fill='none' stroke='{color}' stroke-width='1.2'/>")
    return (f"<svg width='{_W}' height='{_H}' style='background:#fafafa'>"
            f"<line x1='10' x2='{_W - 10}' y1='{zero:.1f}' y2='{zero:.1f}' stroke='#bbb'/>{shape}"
            f"<text x='12' y='14' font-size='11'>max {max(ys):,.2f}</text>"
            f"<text x='12' y='{_H - 4}' font-size='11'>min {min(ys):,.2f}</text></svg>{_time_axis(xs)}")


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1e9, tz=B3_TZ).strftime("%Y-%m-%d")


def _time_axis(xs: list[int], ticks: int = 5) -> str:
    """Dates under a chart: first, last and evenly spaced between (B3 local)."""
    if not xs:
        return ""
    n = max(1, ticks - 1)
    labels = []
    for i in range(ticks):
        x = 10 + (_W - 20) * i / n
        ts = xs[0] + (xs[-1] - xs[0]) * i // n
        anchor = "start" if i == 0 else ("end" if i == n else "middle")
        labels.append(f"<text x='{x:.0f}' y='12' font-size='11' text-anchor='{anchor}'>{_day(ts)}</text>")
    return f"<svg width='{_W}' height='16'>{''.join(labels)}</svg>"


def _trades_table(trades: list[Trade], limit: int = 500) -> str:
    """The round trips, newest last (the first ``limit``; the rest are in trades.parquet)."""
    if not trades:
        return "<h3>Trades</h3><p>no round trips</p>"
    rows = "".join(
        f"<tr><td>{html.escape(t.symbol)}</td><td>{'long' if t.direction > 0 else 'short'}</td>"
        f"<td class=n>{t.quantity}</td><td>{_stamp(t.entry_ts)}</td><td class=n>{t.entry_price.normalize():f}</td>"
        f"<td>{_stamp(t.exit_ts)}</td><td class=n>{t.exit_price.normalize():f}</td><td class=n>{t.pnl_brl}</td>"
        f"<td class=n>{t.fees_brl}</td><td class=n>{t.net_brl}</td></tr>" for t in trades[:limit])
    more = f"<p>{len(trades) - limit} more in trades.parquet</p>" if len(trades) > limit else ""
    return ("<h3>Trades</h3><table><tr><th>symbol</th><th>side</th><th>qty</th><th>entry (BRT)</th><th>price</th>"
            "<th>exit (BRT)</th><th>price</th><th>P&amp;L R$</th><th>fees R$</th><th>net R$</th></tr>"
            f"{rows}</table>{more}")


def _stamp(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1e9, tz=B3_TZ).strftime("%Y-%m-%d %H:%M")


def _candles_svg(result: BacktestResult) -> str:
    parts = []
    for symbol, c in sorted(result.candles.items()):
        n = len(c.get("close", []))
        if not n:
            continue
        inst = result.instruments[symbol]
        lo, hi = min(c["low"]), max(c["high"])
        t0, t1 = c["ts"][0], c["ts"][-1] if n > 1 else c["ts"][0] + 1
        w = (_W - 20) / n
        h = 320

        def y(p: int, lo: int = lo, hi: int = hi, h: int = h) -> float:
            return 10 + (h - 20) * (1 - (p - lo) / ((hi - lo) or 1))

        svg = [f"<h3>{html.escape(symbol)}: candles and fills</h3><svg width='{_W}' height='{h}' "
               "style='background:#fafafa'>"]
        for i in range(n):
            o, hh, ll, cl = c["open"][i], c["high"][i], c["low"][i], c["close"][i]
            x = 10 + i * w + w / 2
            color = "#2a7" if cl >= o else "#c33"
            svg.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{y(hh):.1f}' y2='{y(ll):.1f}' stroke='{color}'/>")
            top, bot = y(max(o, cl)), y(min(o, cl))
            svg.append(f"<rect x='{x - w * 0.35:.1f}' y='{top:.1f}' width='{max(w * 0.7, 0.5):.1f}' "
                       f"height='{max(bot - top, 0.5):.1f}' fill='{color}'/>")
        for f in result.fills:
            if f.symbol != symbol or not (t0 <= f.ts <= t1):
                continue
            x = 10 + (f.ts - t0) / ((t1 - t0) or 1) * (_W - 20)
            yy = y(f.price)
            pts = (f"{x:.1f},{yy + 7:.1f} {x - 5:.1f},{yy + 15:.1f} {x + 5:.1f},{yy + 15:.1f}" if f.side > 0
                   else f"{x:.1f},{yy - 7:.1f} {x - 5:.1f},{yy - 15:.1f} {x + 5:.1f},{yy - 15:.1f}")
            svg.append(f"<polygon points='{pts}' fill='{'#06c' if f.side > 0 else '#e80'}'>"
                       f"<title>{'buy' if f.side > 0 else 'sell'} {f.quantity} @ {inst.to_price(f.price)}</title>"
                       "</polygon>")
        svg.append("</svg>")
        parts.append("".join(svg))
    return "".join(parts) or "<p>No candle data.</p>"


_NO_BENCHMARK = ("<h3>Benchmark</h3><p>No benchmark was asked for (the config's <code>benchmark.enabled</code> "
                 "is false).</p>")


def _pct(fraction: str) -> str:
    return f"{Decimal(fraction) * 100:.2f}%"


def _benchmark_html(bench: dict[str, Any] | None) -> str:
    """Strategy vs CDI and Ibovespa over the same days; a row says why a series is missing."""
    if bench is None:
        return _NO_BENCHMARK
    if "strategy_return" not in bench:
        return f"<h3>Benchmark</h3><p class=note>{html.escape(bench.get('note', 'unavailable'))}</p>"
    rows = [f"<tr><td>strategy</td><td class=n>{_pct(bench['strategy_return'])}</td><td></td><td></td>"
            f"<td>net P&amp;L on R$ {html.escape(bench['capital_brl'])} of capital</td></tr>"]
    for key, label in (("cdi", "CDI"), ("ibovespa", "Ibovespa")):
        b = bench.get(key)
        if b is None:
            continue
        if not b["available"]:
            rows.append(f"<tr><td>{label}</td><td colspan=4 class=note>unavailable: {html.escape(b['note'])}"
                        "</td></tr>")
            continue
        extra = (f"{b['days']} business days" if key == "cdi"
                 else f"{b['from']} close {b['start']} to {b['to']} close {b['end']}; beta {b['beta']}")
        rows.append(f"<tr><td>{label}</td><td class=n>{_pct(b['return'])}</td><td class=n>R$ {b['pnl_brl']}</td>"
                    f"<td class=n>{_pct(b['excess_return'])}</td><td>{html.escape(extra)} "
                    f"({html.escape(b['source'])})</td></tr>")
    return (f"<h3>Benchmark ({bench['from']} to {bench['to']})</h3><table><tr><th></th><th>return</th>"
            f"<th>same capital</th><th>strategy minus it</th><th></th></tr>{''.join(rows)}</table>")


def _html(result: BacktestResult, summary: dict[str, Any], dd: list[Decimal], title: str,
          trades: list[Trade] | None = None) -> str:
    xs = [t for t, _ in result.equity]
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in sorted(summary.items()) if k != "benchmark")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:20px}}"
        "td{padding:2px 10px;border-bottom:1px solid #eee}td.n{text-align:right}.note{color:#a50}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><table>{rows}</table>"
        f"<h3>Equity (BRL, net of fees)</h3>{_line_svg(xs, [float(v) for _, v in result.equity], '#06c')}"
        f"<h3>Drawdown (BRL)</h3>{_line_svg(xs, [float(d) for d in dd], '#c33', fill=True)}"
        f"{_candles_svg(result)}{_benchmark_html(summary.get('benchmark'))}{_trades_table(trades or [])}"
        "</body></html>\n"
    )
