"""A self-contained HTML report of an evaluation: tables and inline SVG plots, no scripts, no CDN."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["html_report"]

W, H, PAD = 560, 220, 40


def _fmt(v: Any, pct: bool = False) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        return f"{v:.1%}" if pct else f"{v:.4g}"
    return html.escape(str(v))


def _svg(body: str, title: str) -> str:
    return (f'<figure><figcaption>{html.escape(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" '
            f'width="{W}" height="{H}" viewBox="0 0 {W} {H}" style="background:#fafafa;border:1px solid #ddd">'
            f"{body}</svg></figure>")  # fmt: skip


def _line(ys: Sequence[float], title: str) -> str:
    if len(ys) < 2:
        return _svg(f'<text x="{PAD}" y="{H / 2}">not enough trades</text>', title)
    lo, hi = min(0.0, min(ys)), max(0.0, max(ys))
    span = (hi - lo) or 1.0

    def xy(i: int, v: float) -> str:
        return f"{PAD + i * (W - 2 * PAD) / (len(ys) - 1):.1f},{H - PAD - (v - lo) * (H - 2 * PAD) / span:.1f}"

    pts = " ".join(xy(i, v) for i, v in enumerate(ys))
    zero = H - PAD - (0 - lo) * (H - 2 * PAD) / span
    body = (f'<line x1="{PAD}" x2="{W - PAD}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#999"/>'
            f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{pts}"/>'
            f'<text x="4" y="{PAD - 8}" font-size="11">{hi:.0f} bps</text>'
            f'<text x="4" y="{H - PAD + 14}" font-size="11">{lo:.0f} bps ({len(ys)} trades)</text>')  # fmt: skip
    return _svg(body, title)


def _bars(labels: Sequence[str], rates: Sequence[float], lows: Sequence[float], highs: Sequence[float],
          title: str, refs: Sequence[float] = (0.5, 0.55, 0.65)) -> str:  # fmt: skip
    n = max(len(labels), 1)
    bw = (W - 2 * PAD) / n

    def y(v: float) -> float:
        return H - PAD - v * (H - 2 * PAD)

    parts = []
    for r in refs:
        parts.append(f'<line x1="{PAD}" x2="{W - PAD}" y1="{y(r):.1f}" y2="{y(r):.1f}" stroke="#c33" '
                     f'stroke-dasharray="4 3"/><text x="{W - PAD + 2}" y="{y(r) + 4:.1f}" '
                     f'font-size="10">{r:.0%}</text>')
    for i, (lab, r, lo, hi) in enumerate(zip(labels, rates, lows, highs, strict=True)):
        x = PAD + i * bw
        if not math.isnan(r):
            parts.append(f'<rect x="{x + 2:.1f}" y="{y(r):.1f}" width="{bw - 4:.1f}" height="{y(0) - y(r):.1f}" '
                         f'fill="#8fb8de"/>')
        if not (math.isnan(lo) or math.isnan(hi)):
            cx = x + bw / 2
            parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(lo):.1f}" y2="{y(hi):.1f}" stroke="#333"/>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{H - PAD + 14}" font-size="9" text-anchor="middle">'
                     f"{html.escape(lab)}</text>")
    parts.append(f'<line x1="{PAD}" x2="{PAD}" y1="{y(0)}" y2="{y(1)}" stroke="#999"/>'
                 f'<text x="4" y="{y(1) + 4}" font-size="10">100%</text>'
                 f'<text x="4" y="{y(0)}" font-size="10">0%</text>')
    return _svg("".join(parts), title)


def _calibration(rows: Sequence[dict[str, Any]], title: str) -> str:
    def pt(px: float, py: float) -> str:
        return f"{PAD + px * (W - 2 * PAD):.1f},{H - PAD - py * (H - 2 * PAD):.1f}"

    body = f'<polyline fill="none" stroke="#999" stroke-dasharray="4 3" points="{pt(0, 0)} {pt(1, 1)}"/>'
    if rows:
        body += '<polyline fill="none" stroke="#1f77b4" points="' + " ".join(
            pt(r["mean_p"], r["up_rate"]) for r in rows) + '"/>'
        for r in rows:
            x, yy = pt(r["mean_p"], r["up_rate"]).split(",")
            body += f'<circle cx="{x}" cy="{yy}" r="3" fill="#1f77b4"><title>n={r["n"]}</title></circle>'
    body += f'<text x="{W / 2}" y="{H - 8}" font-size="10">predicted P(up)</text>'
    return _svg(body, title)


def html_report(ev: dict[str, Any], title: str) -> str:
    """Render an ``evaluation.json`` document as one HTML page."""
    keys = ("hit_rate", "hit_rate_ci_low", "hit_rate_ci_high", "n_predictions", "coverage", "baseline_hit_rate",
            "test_majority_hit_rate", "persistence_hit_rate", "log_loss", "brier", "cost_bps_round_trip")
    rows = "".join(f"<tr><th>{k}</th><td>{_fmt(ev.get(k), 'rate' in k or 'ci' in k or k == 'coverage')}</td></tr>"
                   for k in keys)  # fmt: skip
    pnl = ev.get("pnl_after_costs", {})
    pnl_rows = "".join(f"<tr><th>{k}</th><td>{_fmt(v)}</td></tr>" for k, v in pnl.items() if k != "cumulative_net_bps")
    b = ev.get("confidence_buckets", [])
    hours = ev.get("hit_rate_by_hour", {})
    figs = [
        _bars([x["bucket"] for x in b], [x["hit_rate"] for x in b], [x["ci_low"] for x in b],
              [x["ci_high"] for x in b], "Hit rate by confidence bucket (95% Wilson whiskers)"),
        _bars(list(hours), [v["hit_rate"] for v in hours.values()], [v["ci_low"] for v in hours.values()],
              [v["ci_high"] for v in hours.values()], "Hit rate by session hour (B3 local)"),
        _calibration(ev.get("calibration", []), "Calibration: predicted vs realised up-rate"),
        _line(pnl.get("cumulative_net_bps", []), "Cumulative P&L after B3 costs (bps, one position at a time)"),
    ]  # fmt: skip
    bucket_rows = "".join(f"<tr><td>{html.escape(x['bucket'])}</td><td>{x['n']}</td><td>{_fmt(x['coverage'], True)}"
                          f"</td><td>{_fmt(x['hit_rate'], True)}</td><td>{_fmt(x['ci_low'], True)} – "
                          f"{_fmt(x['ci_high'], True)}</td></tr>" for x in b)  # fmt: skip
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}}td,th{{padding:2px 8px;text-align:left}}
table{{border-collapse:collapse}}tr:nth-child(even){{background:#f3f3f3}}.v{{font-size:1.1em;font-weight:bold}}</style>
</head><body><h1>{html.escape(title)}</h1>
<p class="v">55%: {html.escape(str(ev.get("statement_55", "")))}</p>
<p class="v">65%: {html.escape(str(ev.get("statement_65", "")))}</p>
<h2>Summary (out of sample)</h2><table>{rows}</table>
<h2>Confidence buckets</h2><table><tr><th>bucket</th><th>n</th><th>coverage</th><th>hit rate</th><th>95% CI</th></tr>
{bucket_rows}</table>
<h2>P&amp;L after B3 costs</h2><table>{pnl_rows}</table>
<h2>Plots</h2>{"".join(figs)}
</body></html>
"""
