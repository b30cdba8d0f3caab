"""CLI commands that talk to a running node's control API: risk, orders, positions, flatten, strategies."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer

risk_app = typer.Typer(help="Risk state and the kill switch of a running node.", no_args_is_help=True)
strategies_app = typer.Typer(help="Instruments taken from the strategies by a manual trade: list, resume.",
                             no_args_is_help=True)

DataDir = Annotated[Path, typer.Option(help="the node's data directory (holds node.json)",
                                       envvar="TRADINGSYSTEM_DATA_DIR")]


def _call(data_dir: Path, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
    node_file = data_dir / "node.json"
    if not node_file.exists():
        typer.echo(f"error: no running node found ({node_file} does not exist); start one with "
                   "`tradingsystem run`", err=True)
        raise typer.Exit(2)
    info = json.loads(node_file.read_text())
    req = urllib.request.Request(info["url"] + route, method=method,
                                 data=json.dumps(body or {}).encode() if method == "POST" else None,
                                 headers={"Authorization": f"Bearer {info['token']}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        typer.echo(f"error: {exc.code} {exc.read().decode(errors='replace')}", err=True)
        raise typer.Exit(1) from None
    except (urllib.error.URLError, ConnectionError) as exc:
        typer.echo(f"error: the node at {info['url']} does not answer ({exc}); is it still running?", err=True)
        raise typer.Exit(2) from None


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True))


@risk_app.command("status")
def risk_status(data_dir: DataDir = Path("data")) -> None:
    """Trading state, kill switch, breakers and today's P&L."""
    _print(_call(data_dir, "GET", "/risk"))


@risk_app.command("kill")
def risk_kill(reason: Annotated[str, typer.Option(help="why (kept in the audit and alerts)")],
              flatten: Annotated[bool, typer.Option(help="also flatten every position")] = False,
              data_dir: DataDir = Path("data")) -> None:
    """Engage the kill switch: halt, cancel all working orders, optionally flatten."""
    _print(_call(data_dir, "POST", "/risk/kill", {"reason": reason, "flatten": flatten, "who": "cli"}))


@risk_app.command("reset")
def risk_reset(data_dir: DataDir = Path("data")) -> None:
    """Clear the kill switch and latched breaches (a person's decision)."""
    _print(_call(data_dir, "POST", "/risk/reset", {"who": "cli"}))


Symbol = Annotated[str | None, typer.Argument(help="one instrument (default: all)", show_default=False)]


def flatten(symbol: Symbol = None, data_dir: DataDir = Path("data")) -> None:
    """Close positions (one instrument or all) and pause the strategies there until `strategies resume`."""
    _print(_call(data_dir, "POST", "/flatten", {"symbol": symbol, "who": "cli"}))


@strategies_app.command("paused")
def strategies_paused(data_dir: DataDir = Path("data")) -> None:
    """Instruments the strategies may not trade now, why and by whom."""
    _print(_call(data_dir, "GET", "/risk").get("paused", {}))


@strategies_app.command("resume")
def strategies_resume(symbol: Symbol = None, data_dir: DataDir = Path("data")) -> None:
    """Hand an instrument (default: every paused one) back to the strategies, with its position as it is."""
    _print(_call(data_dir, "POST", "/strategies/resume", {"symbol": symbol, "who": "cli"}))


def orders(data_dir: DataDir = Path("data")) -> None:
    """Working orders of the running node."""
    _print(_call(data_dir, "GET", "/orders"))


def positions(data_dir: DataDir = Path("data")) -> None:
    """Positions and P&L of the running node."""
    _print(_call(data_dir, "GET", "/positions"))


def audit(data_dir: DataDir = Path("data"),
          limit: Annotated[int, typer.Option(min=1, help="how many of the latest actions")] = 50,
          state_url: Annotated[str | None, typer.Option(help="the state database (default: DATA_DIR/state.db)")]
          = None) -> None:
    """Manual actions (kill, reset, flatten, cancel...) from the node's state store: when, who, what, result."""
    from datetime import UTC, datetime

    from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig, StoreError

    url = state_url or f"sqlite:///{data_dir / 'state.db'}"
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        typer.echo(f"error: no state database at {url} (a node with persist on writes it)", err=True)
        raise typer.Exit(2)
    try:
        store = SqlStateStore(SqlStoreConfig(url=url, migrate=False))
    except StoreError as exc:
        typer.echo(f"error: cannot read {url}: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        rows = store.load_manual_actions(limit)
    finally:
        store.close()
    if not rows:
        typer.echo("no manual actions recorded")
    for r in rows:
        when = datetime.fromtimestamp(r.ts / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        typer.echo(f"{when}  {r.channel:<24} {r.action:<10} {r.detail}  -> {r.result}".rstrip())
