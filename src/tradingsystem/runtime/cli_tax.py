"""``tradingsystem tax``: the Brazilian income-tax report (mounted with ``app.add_typer(tax_app, name="tax")``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console

from tradingsystem.domain.errors import TradingSystemError
from tradingsystem.runtime.cli_errors import fail
from tradingsystem.tax import (
    FillImportError,
    MarketClass,
    Opening,
    Side,
    TaxFill,
    build_report,
    read_fills,
    read_settlements,
    write_report,
)

__all__ = ["load_classes", "read_db_fills", "tax_app"]

tax_app = typer.Typer(help="Brazilian income tax on B3 trading (individuals).", no_args_is_help=True,
                      add_completion=False)
console = Console(stderr=True)


@tax_app.callback()
def _tax() -> None:
    """Brazilian income tax on B3 trading (individuals)."""


def read_db_fills(url: str, broker: str = "node") -> Iterable[TaxFill]:
    """The node's own fills from its state database (``sqlite:///data/state.db`` or a PostgreSQL URL)."""
    from tradingsystem.adapters.calendar import BvmfCalendar
    from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig, StoreError
    from tradingsystem.domain import b3
    from tradingsystem.engine.session_gate import day_of

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise TradingSystemError(f"no state database at {url} (a node writes data/state.db when it runs)")
    calendar = BvmfCalendar()
    try:
        store = SqlStateStore(SqlStoreConfig(url=url, migrate=False))
    except StoreError as exc:
        raise TradingSystemError(f"cannot read fills from {url}: {exc}") from None
    try:
        fills = store.load_fills()
    finally:
        store.close()
    instruments: dict[str, object] = {}
    out = []
    for i, f in enumerate(fills):
        inst = instruments.get(f.symbol)
        if inst is None:
            inst = instruments[f.symbol] = b3.instrument(f.symbol, calendar.is_session)
        out.append(TaxFill(day=day_of(f.ts), symbol=f.symbol, side=Side.BUY if f.side == 1 else Side.SELL,
                           quantity=f.quantity, price=inst.to_price(f.price),  # type: ignore[attr-defined]
                           broker=broker, b3_fees=f.fee, ts=f.ts, seq=i, fill_id=f"db:{f.fill_id}"))
    return out


def load_classes(path: Path | None) -> dict[str, MarketClass]:
    """A YAML mapping ``SYMBOL: stock|etf|fii|option|future`` (e.g. ``BOVA11: etf``, ``HGLG11: fii``)."""
    if path is None:
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise TradingSystemError(f"{path}: expected a mapping SYMBOL: class")
    out = {}
    for symbol, cls in data.items():
        try:
            out[str(symbol).strip().upper()] = MarketClass(str(cls).strip().lower())
        except ValueError:
            choices = ", ".join(c.value for c in MarketClass)
            raise TradingSystemError(f"{path}: {symbol}: class {cls!r} is not one of {choices}") from None
    return out


def _money(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"{name} takes an amount in BRL, e.g. 1234.56") from None
    if not value.is_finite() or value < 0:
        raise typer.BadParameter(f"{name} must be a non-negative amount")
    return value


def _is_session(start_year: int, end_year: int) -> Callable[[date], bool]:
    from tradingsystem.adapters.calendar import BvmfCalendar

    return BvmfCalendar(start=date(start_year, 1, 1), end=date(end_year + 1, 12, 31)).is_session


@tax_app.command("report")
def report(
    year: Annotated[int, typer.Option(help="calendar year, e.g. 2026", min=2000, max=2100)],
    out: Annotated[Path, typer.Option(help="output folder for tax.json, YYYY-MM.csv and tax.html")],
    month: Annotated[int | None, typer.Option(help="report only this month (1-12)", min=1, max=12)] = None,
    fills: Annotated[list[Path] | None, typer.Option(help="CSV of trades (repeatable); see docs/tax.md")] = None,
    settlements: Annotated[Path | None, typer.Option(help="CSV of futures settlement prices: symbol,date,price")]
    = None,
    db: Annotated[str | None, typer.Option(help="the node's fills database URL")] = None,
    classes: Annotated[Path | None, typer.Option(help="YAML map SYMBOL: stock|etf|fii|option|future")] = None,
    strict: Annotated[bool, typer.Option(help="fail on any malformed CSV line")] = False,
    loss_day_trade: Annotated[str, typer.Option(help="day-trade loss carried in from before the fills")] = "0",
    loss_common: Annotated[str, typer.Option(help="common loss carried in from before the fills")] = "0",
    loss_fii: Annotated[str, typer.Option(help="FII loss carried in from before the fills")] = "0",
    under_minimum: Annotated[str, typer.Option(help="tax under R$10 carried in from before the fills")] = "0",
) -> None:
    """Monthly and annual tax report: results per bucket, carried losses, IRRF, DARF 6015 and due dates."""
    opening = Opening(loss_day_trade=_money(loss_day_trade, "--loss-day-trade"),
                      loss_common=_money(loss_common, "--loss-common"), loss_fii=_money(loss_fii, "--loss-fii"),
                      under_minimum=_money(under_minimum, "--under-minimum"))
    if not fills and not db:  # the node's own fills, where `tradingsystem run` keeps them by default
        default = Path("data") / "state.db"
        if not default.exists():
            fail("no fills to report: pass --fills CSV (see docs/tax.md) or --db with the node's state store "
                 f"(e.g. --db sqlite:///{default}); {default} does not exist here")
        db = f"sqlite:///{default}"
        console.print(f"reading the node's fills from {db} (pass --fills or --db to choose)")
    all_fills: list[TaxFill] = []
    try:
        for path in fills or []:
            got, problems = read_fills(path, strict=strict)
            for p in problems:
                console.print(f"[yellow]skipped:[/yellow] {p}")
            all_fills += got
        if db:
            all_fills += list(read_db_fills(db))
        table = read_settlements(settlements)[0] if settlements else {}
        class_map = load_classes(classes)
        first_year = min((f.day.year for f in all_fills), default=year)
        tax = build_report(all_fills, year, month, class_map, table, opening,
                           is_session=_is_session(first_year, year))
        paths = write_report(tax, out)
    except FillImportError as exc:
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        fail(f"{exc.problems[0] if exc.problems else exc}{more}")
    except (TradingSystemError, OSError) as exc:
        fail(exc)
    if not any(f.day.year == year for f in all_fills):
        console.print(f"[yellow]warning:[/yellow] no fills in {year}: every amount in this report is zero")
    for w in tax.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    for written in paths:
        typer.echo(str(written))
