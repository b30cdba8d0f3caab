"""Report files: ``tax.json``, one CSV of operations per month, and a printable HTML report.

Figures in the files are the month's rounded figures (see ``tax.monthly``). Operation lines in the
CSV and HTML are shown rounded to centavos; the month totals are sums of the unrounded lines, so a
column of rounded lines may differ from its total by a centavo or so.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from tradingsystem.domain.instruments import cents
from tradingsystem.tax.model import Bucket
from tradingsystem.tax.monthly import DARF_CODE, MonthResult
from tradingsystem.tax.report import TaxReport

__all__ = ["report_json", "write_html", "write_json", "write_month_csvs", "write_report"]

_CSV_COLUMNS = ("date", "symbol", "class", "bucket", "day_trade", "broker", "quantity", "sales_brl", "cost_brl",
                "proceeds_brl", "result_brl", "gross_brl", "fills", "note")


def _c(value: Decimal | None) -> str:
    return "" if value is None else str(cents(value))


def _p(value: Decimal) -> str:
    """An average price, shown to 1/10000 (display only)."""
    return str(value.quantize(Decimal("0.0001")))


def report_json(report: TaxReport) -> dict[str, Any]:
    """The ``tax.json`` document: per month exactly the keys of issue 12, plus the year view."""
    doc: dict[str, Any] = {"year": report.year, "months": {m.key: m.as_json() for m in report.months}}
    if report.annual is not None:
        a = report.annual
        doc["annual"] = {
            "day_trade_result_brl": str(a.day_trade_result), "common_result_brl": str(a.common_result),
            "fii_result_brl": str(a.fii_result), "exempt_gain_brl": str(a.exempt_gain),
            "tax_paid_brl": str(a.tax_paid), "irrf_brl": str(a.irrf),
            "irrf_credit_for_annual_return_brl": str(a.irrf_credit_for_annual_return),
            "loss_carried_day_trade_brl": str(a.loss_carried[Bucket.DAY_TRADE]),
            "loss_carried_common_brl": str(a.loss_carried[Bucket.COMMON]),
            "loss_carried_fii_brl": str(a.loss_carried[Bucket.FII]),
            "carried_under_minimum_brl": str(a.carried_under_minimum),
            "positions_31_december": [
                {"symbol": p.symbol, "class": p.market_class.value, "quantity": p.quantity,
                 "average_price": _p(p.average_price), "cost_brl": _c(p.cost)}
                for p in report.positions.get(f"{report.year:04d}-12", [])
            ],
        }
    doc["warnings"] = list(report.warnings)
    return doc


def write_json(report: TaxReport, path: Path) -> None:
    path.write_text(json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_month_csvs(report: TaxReport, out: Path) -> list[Path]:
    """``YYYY-MM.csv`` per month: one line per realised operation, with the fills behind it."""
    paths = []
    for m in report.months:
        path = out / f"{m.key}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(_CSV_COLUMNS)
            for r in m.realisations:
                w.writerow([r.day.isoformat(), r.symbol, r.market_class.value, r.bucket.value, int(r.day_trade),
                            r.broker, r.quantity, _c(r.sales), _c(r.cost), _c(r.proceeds), _c(r.result),
                            _c(r.gross), " ".join(r.fill_ids), r.note])
        paths.append(path)
    return paths


def _anchor(fill_id: str) -> str:
    return "fill-" + "".join(ch if ch.isalnum() else "-" for ch in fill_id)


def _table(head: list[str], rows: list[list[str]], raw: bool = False) -> str:
    h = "".join(f"<th>{escape(x)}</th>" for x in head)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _links(ids: tuple[str, ...]) -> str:
    """Links to the fills; an expiry (no fill of its own) is shown as text."""
    return " ".join(escape(i) if i.startswith("expiry:") else f'<a href="#{_anchor(i)}">{escape(i)}</a>' for i in ids)


def _month_html(m: MonthResult, report: TaxReport) -> str:
    names = {Bucket.DAY_TRADE: "Day trade (20%)", Bucket.COMMON: "Common (15%)", Bucket.FII: "FII (20%)"}
    results = {Bucket.DAY_TRADE: m.day_trade_result, Bucket.COMMON: m.common_result, Bucket.FII: m.fii_result}
    steps = [[names[b], str(results[b]), str(m.loss_in[b]), str(m.loss_used[b]), str(m.base[b]), str(m.loss_out[b])]
             for b in Bucket]
    parts = [f'<h2 id="m-{m.key}">{m.key}</h2>',
             _table(["bucket", "result", "loss brought in", "loss used", "taxable base", "loss carried"], steps),
             "<p>Spot-stock common sales: R$ " + escape(str(m.stock_sales))
             + (f" (≤ R$ 20,000: exempt; exempt gain R$ {m.exempt_gain})" if m.exempt_sales or m.exempt_gain
                else " (over R$ 20,000 or none: no exemption)") + ".</p>"]
    calc = [
        ["Tax on the bases", str(m.tax_gross)],
        ["IRRF credit brought in (same year)", str(m.credit_in)],
        ["IRRF withheld this month", str(m.irrf)],
        ["IRRF credit used", str(m.credit_used)],
        ["IRRF credit carried", str(m.credit_out)],
        ["Under-R$10 amount brought in", str(m.under_minimum_in)],
        [f"DARF {DARF_CODE} to pay", str(m.tax_due)],
        ["DARF due date", m.darf_due.isoformat() if m.darf_due else "-"],
        *([["DARF due date note", escape(m.darf_due_note)]] if m.darf_due_note else []),
        ["Carried (under R$ 10)", str(m.carried_under_minimum)],
    ]
    parts.append(_table(["step", "R$"], calc))
    if m.irrf_lines:
        parts.append("<h3>IRRF</h3>" + _table(["what", "broker", "base", "withheld"],
                                              [[w, b, str(base), str(v)] for w, b, base, v in m.irrf_lines]))
    if m.realisations:
        rows = [[escape(r.day.isoformat()), escape(r.symbol), escape(r.market_class.value), escape(r.bucket.value),
                 escape(r.broker), str(r.quantity), _c(r.sales), _c(r.cost), _c(r.proceeds), _c(r.result),
                 _links(r.fill_ids), escape(r.note)] for r in m.realisations]
        parts.append("<h3>Operations</h3>" + _table(
            ["date", "asset", "class", "bucket", "broker", "qty", "sales", "cost", "proceeds", "result", "fills",
             "note"], rows, raw=True))
    positions = report.positions.get(m.key, [])
    if positions:
        parts.append("<h3>Open positions at month end</h3>" + _positions(positions))
    return "\n".join(parts)


def _positions(lines: list[Any]) -> str:
    rows = [[escape(p.symbol), escape(p.market_class.value), str(p.quantity), _p(p.average_price), _c(p.cost),
             _c(p.settlement), _c(p.open_ajustes), _links(p.fill_ids)] for p in lines]
    return _table(["asset", "class", "qty", "average price", "cost with costs", "settlement",
                   "ajustes not yet taxed", "fills"], rows, raw=True)


_STYLE = """body{font-family:sans-serif;font-size:12px;margin:2em}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #999;padding:2px 6px;text-align:right}th{background:#eee}
td:first-child{text-align:left}.warn{color:#a00}@media print{h2{page-break-before:always}}"""


def write_html(report: TaxReport, path: Path) -> None:
    """A self-contained HTML page for a person (print it to PDF from a browser)."""
    title = f"Tax report {report.year}"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{_STYLE}</style>"
             f"</head><body><h1>{title}</h1>",
             "<p>Individual (CPF), B3 variable income. Rules: IN RFB 1585/2015, Lei 9.430/96; see docs/tax.md. "
             "Figures in BRL. Check withheld IRRF against the brokers' notes.</p>"]
    for w in report.warnings:
        parts.append(f"<p class='warn'>Warning: {escape(w)}</p>")
    if report.annual is not None:
        a = report.annual
        keys = list(report.months[0].as_json()) if report.months else []
        rows = [[m.key, *[str(v) if v is not None else "-" for v in m.as_json().values()],
                 str(m.loss_out[Bucket.FII])] for m in report.months]
        parts += ["<h2>Year view</h2>", _table(["month", *keys, "loss_carried_fii_brl"], rows)]
        summary = [["Day-trade result", str(a.day_trade_result)], ["Common result", str(a.common_result)],
                   ["FII result", str(a.fii_result)], ["Exempt stock gains (rendimentos isentos)", str(a.exempt_gain)],
                   ["DARF paid", str(a.tax_paid)], ["IRRF withheld", str(a.irrf)],
                   ["IRRF credit left for the annual return", str(a.irrf_credit_for_annual_return)],
                   ["Day-trade loss carried", str(a.loss_carried[Bucket.DAY_TRADE])],
                   ["Common loss carried", str(a.loss_carried[Bucket.COMMON])],
                   ["FII loss carried", str(a.loss_carried[Bucket.FII])],
                   ["Carried under R$ 10", str(a.carried_under_minimum)]]
        parts.append(_table(["annual total", "R$"], summary))
        parts.append(f"<h3>Positions at 31 December {report.year} (bens e direitos)</h3>"
                     + _positions(report.positions.get(f"{report.year:04d}-12", [])))
    parts += [_month_html(m, report) for m in report.months]
    fill_rows = [[f'<span id="{_anchor(f.fill_id)}">{escape(f.fill_id)}</span>', escape(f.day.isoformat()),
                  escape(f.symbol), escape(f.side.value), str(f.quantity), escape(str(f.price)), escape(f.broker),
                  escape(str(f.fees))] for f in report.fills]
    parts += ["<h2>Fills</h2>", _table(["id", "date", "symbol", "side", "qty", "price", "broker", "costs"],
                                        fill_rows, raw=True), "</body></html>"]
    path.write_text("\n".join(parts), encoding="utf-8")


def write_report(report: TaxReport, out: Path) -> list[Path]:
    """Write ``tax.json``, the monthly CSVs and ``tax.html`` into ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(report, out / "tax.json")
    paths = [out / "tax.json", *write_month_csvs(report, out)]
    write_html(report, out / "tax.html")
    return [*paths, out / "tax.html"]
