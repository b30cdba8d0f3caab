"""Inputs and outputs of ``tradingsystem portfolio``: close loaders (COTAHIST CSVs, the catalog) and
self-contained HTML with inline SVG charts (no CDN)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ALIGNED_10",
    "bars_svg",
    "dendrogram_svg",
    "heatmap_svg",
    "html_page",
    "line_svg",
    "load_catalog_closes",
    "load_cotahist_closes",
    "table_html",
    "write_json",
]

ALIGNED_10 = ("BBAS3", "BTOW3", "CSNA3", "ITUB4", "LAME4", "NATU3", "PETR4", "SANB11", "USIM5", "VALE3")
"""The ten stocks of ``b3_daily_cotahist`` with all 1,979 sessions of 2010-2017."""


def load_cotahist_closes(folder: Path, symbols: Sequence[str], start: date | None = None,
                         end: date | None = None) -> pd.DataFrame:
    """Unadjusted closes (``pre_ult`` / ``fat_cot``) of COTAHIST per-stock CSVs, one column per symbol."""
    cols = {}
    for s in symbols:
        path = folder / f"{s}.csv"
        if not path.exists():
            raise FileNotFoundError(f"no COTAHIST CSV for {s} in {folder}")
        df = pd.read_csv(path, usecols=["dia", "pre_ult", "fat_cot"], parse_dates=["dia"])
        cols[s] = (df["pre_ult"] / df["fat_cot"]).set_axis(df["dia"])
    out = pd.DataFrame(cols).sort_index()
    if start:
        out = out[out.index >= pd.Timestamp(start)]
    if end:
        out = out[out.index <= pd.Timestamp(end)]
    return out


def load_catalog_closes(data_dir: Path, symbols: Sequence[str], start: date | None = None,
                        end: date | None = None) -> pd.DataFrame:
    """Daily closes from the Parquet catalog (``data import --format cotahist`` or any captured data)."""
    from tradingsystem.adapters.storage import Catalog

    cat = Catalog(data_dir)
    cols = {}
    try:
        for s in symbols:
            t = cat.bars(s, "1d", start, end).to_pandas()
            if t.empty:
                raise FileNotFoundError(f"no daily bars for {s} in the catalog at {data_dir}")
            days = pd.to_datetime(t["ts_open"], utc=True).dt.tz_convert("America/Sao_Paulo").dt.normalize()
            cols[s] = pd.Series((t["close"] / 10.0 ** t["scale"]).to_numpy(), index=days.dt.tz_localize(None))
    finally:
        cat.close()
    return pd.DataFrame(cols).sort_index()


def _default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (pd.Timestamp, date)):
        return o.isoformat()
    return str(o)


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2, default=_default, allow_nan=False) + "\n")


# --- SVG ---------------------------------------------------------------------------------------
def _color(v: float) -> str:
    """-1 blue, 0 white, +1 red."""
    v = max(-1.0, min(1.0, v))
    if v >= 0:
        return f"rgb(255,{int(255 * (1 - v))},{int(255 * (1 - v))})"
    return f"rgb({int(255 * (1 + v))},{int(255 * (1 + v))},255)"


def heatmap_svg(matrix: np.ndarray, labels: Sequence[str], cell: int = 34) -> str:
    n = len(labels)
    pad = 70
    size = pad + n * cell
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" font-size="10">']
    for i in range(n):
        parts.append(f'<text x="{pad - 4}" y="{pad + i * cell + cell / 2 + 3}" text-anchor="end">'
                     f'{html.escape(labels[i])}</text>')
        parts.append(f'<text x="{pad + i * cell + cell / 2}" y="{pad - 6}" text-anchor="middle">'
                     f'{html.escape(labels[i])}</text>')
        for j in range(n):
            v = float(matrix[i, j])
            parts.append(f'<rect x="{pad + j * cell}" y="{pad + i * cell}" width="{cell}" height="{cell}" '
                         f'fill="{_color(v)}"><title>{labels[i]}/{labels[j]} {v:.2f}</title></rect>')
            parts.append(f'<text x="{pad + j * cell + cell / 2}" y="{pad + i * cell + cell / 2 + 3}" '
                         f'text-anchor="middle">{v:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def dendrogram_svg(linkage: np.ndarray, labels: Sequence[str], width: int = 520, height: int = 260) -> str:
    from scipy.cluster.hierarchy import dendrogram

    d = dendrogram(linkage, labels=list(labels), no_plot=True)
    xs = [x for xs in d["icoord"] for x in xs]
    ys = [y for ys in d["dcoord"] for y in ys]
    xmax, ymax = float(max(xs)) + 5, float(max(ys)) or 1.0
    pad = 40

    def px(x: float) -> float:
        return pad + x / xmax * (width - 2 * pad)

    def py(y: float) -> float:
        return height - pad - y / ymax * (height - 2 * pad)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="10">']
    for ic, dc in zip(d["icoord"], d["dcoord"], strict=True):
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(ic, dc, strict=True))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#333"/>')
    for k, lab in enumerate(d["ivl"]):
        parts.append(f'<text x="{px(5 + 10 * k):.1f}" y="{height - pad + 14}" text-anchor="middle">'
                     f'{html.escape(str(lab))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_svg(series: Mapping[str, tuple[Sequence[float], Sequence[float]]], width: int = 560, height: int = 280,
             xlabel: str = "", ylabel: str = "") -> str:
    """One polyline per named (x, y) series, with a legend."""
    allx = [float(v) for xs, _ in series.values() for v in xs]
    ally = [float(v) for _, ys in series.values() for v in ys]
    if not allx:
        return ""
    x0, x1, y0, y1 = min(allx), max(allx), min(ally), max(ally)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    pad = 45
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="10">',
             f'<text x="{width / 2}" y="{height - 5}" text-anchor="middle">{html.escape(xlabel)}</text>',
             f'<text x="10" y="{height / 2}" transform="rotate(-90 10 {height / 2})" text-anchor="middle">'
             f'{html.escape(ylabel)}</text>',
             f'<text x="{pad}" y="{height - pad + 14}">{x0:.3g}</text>',
             f'<text x="{width - pad}" y="{height - pad + 14}" text-anchor="end">{x1:.3g}</text>',
             f'<text x="{pad - 3}" y="{height - pad}" text-anchor="end">{y0:.3g}</text>',
             f'<text x="{pad - 3}" y="{pad}" text-anchor="end">{y1:.3g}</text>']
    for k, (name, (xs, ys)) in enumerate(series.items()):
        c = palette[k % len(palette)]
        pts = " ".join(f"{pad + (float(x) - x0) / (x1 - x0) * (width - 2 * pad):.1f},"
                       f"{height - pad - (float(y) - y0) / (y1 - y0) * (height - 2 * pad):.1f}"
                       for x, y in zip(xs, ys, strict=True))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.5"/>')
        parts.append(f'<text x="{width - pad + 2 - 120}" y="{pad + 12 * k}" fill="{c}">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(values: Mapping[str, float], width: int = 560, bar: int = 18) -> str:
    """Horizontal bars around zero (attribution, weights)."""
    items = list(values.items())
    if not items:
        return ""
    m = max(abs(float(v)) for _, v in items) or 1.0
    m = float(m)
    label_w, pad = 110, 10
    half = (width - label_w - 2 * pad) / 2
    zero = label_w + pad + half
    height = pad * 2 + bar * len(items)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="10">',
             f'<line x1="{zero}" y1="0" x2="{zero}" y2="{height}" stroke="#999"/>']
    for k, (name, v) in enumerate(items):
        fv = float(v)
        w = abs(fv) / m * half
        x = zero if fv >= 0 else zero - w
        y = pad + k * bar
        parts.append(f'<text x="{label_w}" y="{y + bar * 0.7}" text-anchor="end">{html.escape(str(name))}</text>')
        parts.append(f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{bar - 4}" '
                     f'fill="{"#2ca02c" if fv >= 0 else "#d62728"}"><title>{name}: {v}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def table_html(rows: Mapping[str, Mapping[str, Any]]) -> str:
    if not rows:
        return ""
    cols = list(next(iter(rows.values())).keys())
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = "".join(
        "<tr><th>" + html.escape(str(k)) + "</th>"
        + "".join(f"<td>{v:.4f}</td>" if isinstance(v, float) else f"<td>{html.escape(str(v))}</td>"
                  for v in r.values()) + "</tr>"
        for k, r in rows.items())
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


def html_page(title: str, sections: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<h2>{html.escape(h)}</h2>{content}" for h, content in sections)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>\n")
