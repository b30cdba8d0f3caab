"""``tradingsystem portfolio``: correlate, optimize, rebalance, risk, attribution (JSON + self-contained HTML).

Mount with ``app.add_typer(portfolio_app, name="portfolio")``. Prices come from a folder of COTAHIST
per-stock CSVs (``--csv-dir``) or the Parquet catalog (``--catalog``); both are split-adjusted here.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console

from tradingsystem.domain import b3
from tradingsystem.engine.rebalance import plan_rebalance
from tradingsystem.portfolio import (
    METHODS,
    Constraints,
    CorporateAction,
    Fill,
    adjust_closes,
    attribute,
    beta,
    cluster,
    compare,
    correlation_regimes,
    cov_to_corr,
    cvar_historical,
    cvar_parametric,
    efficient_frontier,
    exposure_by,
    group_pnl,
    ledoit_wolf,
    optimize,
    simple_returns,
    total_pnl,
    var_backtest,
    var_historical,
    var_parametric,
    walk_forward,
)
from tradingsystem.runtime.portfolio_io import (
    ALIGNED_10,
    bars_svg,
    dendrogram_svg,
    heatmap_svg,
    html_page,
    line_svg,
    load_catalog_closes,
    load_cotahist_closes,
    table_html,
    write_json,
)

__all__ = ["load_returns", "portfolio_app", "read_adjustments"]

portfolio_app = typer.Typer(help="Portfolio analytics: correlation, optimisation, rebalancing, risk, attribution.",
                            no_args_is_help=True, add_completion=False)
console = Console(stderr=True)

CsvDir = Annotated[Path | None, typer.Option("--csv-dir", help="Folder of COTAHIST per-stock CSVs.")]
CatalogDir = Annotated[Path | None, typer.Option("--catalog", help="Parquet catalog data folder.")]
Symbols = Annotated[str, typer.Option(help="Comma-separated symbols.")]
Start = Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")]
End = Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD.")]
Out = Annotated[Path | None, typer.Option("--out", help="Write the JSON result here (else stdout).")]
Html = Annotated[Path | None, typer.Option("--html", help="Write an HTML report with inline SVG charts.")]
Adjust = Annotated[Path | None, typer.Option("--adjustments", help="CSV symbol,day,factor (earlier prices x factor).")]


def _day(text: str | None) -> date | None:
    return datetime.strptime(text, "%Y-%m-%d").date() if text else None


def _default_csv_dir() -> Path:
    return Path(os.environ.get("TRADINGSYSTEM_REAL_DATA", "../shared/data")) / "b3_daily_cotahist"


def read_adjustments(path: Path | None) -> list[CorporateAction]:
    """An adjustment file: CSV with ``symbol,day,factor`` (dividends, splits the detector cannot see)."""
    if path is None:
        return []
    with path.open() as fh:
        return [CorporateAction(r["symbol"].strip().upper(), date.fromisoformat(r["day"].strip()), float(r["factor"]),
                                "file") for r in csv.DictReader(fh)]


def load_returns(csv_dir: Path | None, catalog: Path | None, symbols: list[str], start: str | None = None,
                 end: str | None = None, adjustments: Path | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    """(split-adjusted closes, daily simple returns, corporate actions applied)."""
    if catalog is not None:
        closes = load_catalog_closes(catalog, symbols, _day(start), _day(end))
    else:
        closes = load_cotahist_closes(csv_dir or _default_csv_dir(), symbols, _day(start), _day(end))
    adjusted, actions = adjust_closes(closes.dropna(how="any"), read_adjustments(adjustments))
    acts = [{"symbol": a.symbol, "day": a.day.isoformat(), "factor": a.factor, "source": a.source} for a in actions]
    return adjusted, simple_returns(adjusted), acts


def _emit(payload: dict[str, Any], out: Path | None, html_path: Path | None, title: str,
          sections: list[tuple[str, str]]) -> None:
    if out:
        write_json(out, payload)
        console.print(f"wrote {out}")
    else:
        typer.echo(json.dumps(payload, indent=2, default=str))
    if html_path:
        html_path.write_text(html_page(title, sections))
        console.print(f"wrote {html_path}")


def _symbols(text: str) -> list[str]:
    return [s.strip().upper() for s in text.split(",") if s.strip()]


@portfolio_app.command()
def correlate(csv_dir: CsvDir = None, catalog: CatalogDir = None, symbols: Symbols = ",".join(ALIGNED_10),
              start: Start = None, end: End = None, window: int = 63, clusters: int = 3,
              adjustments: Adjust = None, out: Out = None, html: Html = None) -> None:
    """Correlation (Ledoit-Wolf shrinkage), clusters, correlation regimes."""
    syms = _symbols(symbols)
    _, rets, actions = load_returns(csv_dir, catalog, syms, start, end, adjustments)
    cov, shrink = ledoit_wolf(rets)
    corr = cov_to_corr(cov)
    cl = cluster(rets, clusters)
    _, changes = correlation_regimes(rets, window)
    payload = {"symbols": syms, "days": len(rets), "corporate_actions": actions, "shrinkage": shrink,
               "correlation": {s: dict(zip(syms, map(float, row), strict=True)) for s, row in zip(syms, corr,
                                                                                                   strict=True)},
               "clusters": cl.labels, "order": cl.order,
               "regime_changes": [{"day": c.day, "regime": c.regime, "mean_corr": c.mean_corr} for c in changes]}
    idx = [syms.index(s) for s in cl.order]
    _emit(payload, out, html, "Correlation", [
        ("Shrunk correlation (cluster order)", heatmap_svg(corr[np.ix_(idx, idx)], cl.order)),
        ("Dendrogram", dendrogram_svg(cl.linkage, cl.symbols))])


@portfolio_app.command("optimize")
def optimize_cmd(csv_dir: CsvDir = None, catalog: CatalogDir = None, symbols: Symbols = ",".join(ALIGNED_10),
                 start: Start = None, end: End = None,
                 methods: Annotated[str, typer.Option(help="Comma-separated: " + ",".join(METHODS))] = ",".join(
                     METHODS),
                 lookback: int = 252, every: int = 63, cost_bps: float = 10.0, max_weight: float = 1.0,
                 min_weight: float = 0.0, cash: float = 0.0, adjustments: Adjust = None, out: Out = None,
                 html: Html = None) -> None:
    """Walk-forward out-of-sample comparison against equal weight, latest weights, efficient frontier."""
    syms = _symbols(symbols)
    _, rets, actions = load_returns(csv_dir, catalog, syms, start, end, adjustments)
    cons = Constraints(min_weight=min_weight, max_weight=max_weight, cash=cash)
    ms = [m.strip() for m in methods.split(",") if m.strip()]
    table = compare(rets, ms, cons, lookback, every, cost_bps)
    wf = {str(k): {str(c): v for c, v in r.items()} for k, r in table.to_dict(orient="index").items()}
    latest = {str(m): {str(s): float(v) for s, v in optimize(rets.iloc[-lookback:], str(m), cons).round(6).items()}
              for m in table.index}
    frontier = efficient_frontier(rets.iloc[-lookback:], 12, cons)
    curves = {m: walk_forward(rets, m, cons, lookback, every, cost_bps).returns for m in ("equal_weight", ms[0])}
    payload = {"symbols": syms, "corporate_actions": actions, "walk_forward": wf,
               "latest_weights": latest, "frontier": frontier.to_dict(orient="records"),
               "settings": {"lookback": lookback, "rebalance_every": every, "cost_bps": cost_bps}}
    sections = [("Out of sample vs equal weight", table_html(wf)),
                ("Efficient frontier (last window, annualised)",
                 line_svg({"frontier": (frontier["vol"].tolist(), frontier["ret"].tolist())}, xlabel="vol",
                          ylabel="return")),
                ("Wealth", line_svg({m: (list(range(len(r))), (1 + r).cumprod().tolist())
                                     for m, r in curves.items()}, xlabel="day", ylabel="wealth"))]
    sections += [(f"Weights: {m}", bars_svg(w)) for m, w in latest.items()]
    _emit(payload, out, html, "Portfolio optimisation", sections)


@portfolio_app.command()
def risk(csv_dir: CsvDir = None, catalog: CatalogDir = None, symbols: Symbols = ",".join(ALIGNED_10),
         start: Start = None, end: End = None,
         weights: Annotated[Path | None, typer.Option(help="JSON {symbol: weight}; default equal weight.")] = None,
         level: float = 0.99, window: int = 250, clusters: int = 3,
         market: Annotated[str | None, typer.Option(help="Market proxy symbol; default equal-weight universe.")]
         = None, sectors: Annotated[Path | None, typer.Option(help="JSON {symbol: sector}.")] = None,
         adjustments: Adjust = None, out: Out = None, html: Html = None) -> None:
    """VaR/CVaR (historical, parametric), Kupiec backtest, exposures by instrument, sector and cluster, beta."""
    syms = _symbols(symbols)
    _, rets, _ = load_returns(csv_dir, catalog, syms + ([market] if market and market not in syms else []),
                              start, end, adjustments)
    w = json.loads(weights.read_text()) if weights else {s: 1 / len(syms) for s in syms}
    port = rets[list(w)] @ pd.Series(w)
    mkt = rets[market] if market else rets[syms].mean(axis=1)
    cl = cluster(rets[syms], clusters)
    backtests = {}
    for method in ("historical", "parametric"):
        _, k = var_backtest(port, window, level, method)
        backtests[method] = {"observations": k.observations, "exceptions": k.exceptions,
                             "expected_rate": k.expected_rate, "observed_rate": k.observed_rate,
                             "lr": k.lr, "p_value": k.p_value, "rejected": k.rejected}
    by_cluster = exposure_by(w, cl.labels)
    payload = {"weights": w, "level": level,
               "var_historical": var_historical(port[-window:], level),
               "cvar_historical": cvar_historical(port[-window:], level),
               "var_parametric": var_parametric(port[-window:], level),
               "cvar_parametric": cvar_parametric(port[-window:], level),
               "kupiec": backtests, "exposure_by_instrument": w,
               "exposure_by_cluster": by_cluster,
               "exposure_by_sector": exposure_by(w, json.loads(sectors.read_text())) if sectors else {},
               "beta": beta(port, mkt)}
    _emit(payload, out, html, "Portfolio risk", [("Exposure by cluster", bars_svg(by_cluster)),
                                                ("Kupiec", table_html(backtests))])


@portfolio_app.command("rebalance")
def rebalance_cmd(weights: Annotated[Path, typer.Option(help="JSON {symbol: weight}.")],
                  equity: Annotated[str, typer.Option(help="Portfolio value in BRL.")],
                  positions: Annotated[Path | None, typer.Option(help="JSON {symbol: shares}.")] = None,
                  prices: Annotated[Path | None, typer.Option(help="JSON {symbol: price}; default last close.")]
                  = None, csv_dir: CsvDir = None, no_fractional: bool = False, out: Out = None) -> None:
    """Plan lot-rounded orders (100-share lots + fractional F book) that move positions to the target weights.

    A running node sends such a plan through its order manager and risk engine (``engine.rebalance``).
    """
    w = {k.upper(): float(v) for k, v in json.loads(weights.read_text()).items()}
    pos = {k.upper(): int(v) for k, v in json.loads(positions.read_text()).items()} if positions else {}
    roots = sorted(set(w) | {s.removesuffix("F") if len(s) > 5 and s.endswith("F") else s for s in pos})
    if prices:
        px = {k.upper(): Decimal(str(v)) for k, v in json.loads(prices.read_text()).items()}
    else:
        closes = load_cotahist_closes(csv_dir or _default_csv_dir(), roots).ffill().iloc[-1]
        px = {s: Decimal(str(closes[s])) for s in roots}
    instruments = {}
    for s in roots:
        instruments[s] = b3.instrument(s, lambda d: d.weekday() < 5)
        if not instruments[s].is_future:
            instruments[s + "F"] = b3.stock(s + "F")
    raw = {s: instruments[s].to_raw(px[s]) for s in roots}
    plan = plan_rebalance(w, Decimal(equity), raw, pos, instruments, use_fractional=not no_fractional)
    payload = {"targets": plan.targets, "fees_brl": str(plan.fees_brl),
               "orders": [{"symbol": o.symbol, "side": o.side.name, "quantity": o.quantity,
                           "price": str(instruments[o.symbol].to_price(o.price_raw)),
                           "notional_brl": str(o.notional_brl), "fee_brl": str(o.fee_brl)} for o in plan.orders]}
    _emit(payload, out, None, "Rebalance", [])


@portfolio_app.command()
def attribution(fills: Annotated[Path, typer.Option(help="CSV: ts,symbol,side,quantity,price[,fee,strategy,tag]")],
                marks: Annotated[Path, typer.Option(help="JSON {symbol: mark price}.")],
                out: Out = None, html: Html = None) -> None:
    """P&L by strategy, instrument, model/signal tag, entry hour, long/short; exact BRL."""
    rows = []
    with fills.open() as fh:
        for r in csv.DictReader(fh):
            side = r["side"].strip().upper()
            rows.append(Fill(int(r["ts"]), r["symbol"].strip().upper(), 1 if side in ("1", "BUY", "B") else -1,
                             int(r["quantity"]), Decimal(r["price"]), Decimal(r.get("fee") or 0),
                             r.get("strategy") or "manual", r.get("tag") or ""))
    m = {k.upper(): Decimal(str(v)) for k, v in json.loads(marks.read_text()).items()}
    contribs = attribute(rows, m)
    groups = {k: {g: str(v) for g, v in group_pnl(contribs, k).items()}
              for k in ("strategy", "symbol", "tag", "side", "hour", "kind")}
    payload = {"total_pnl_brl": str(total_pnl(rows, m)), "by": groups}
    _emit(payload, out, html, "Attribution",
          [(f"P&L by {k}", bars_svg({g: float(v) for g, v in d.items()})) for k, d in groups.items()])
