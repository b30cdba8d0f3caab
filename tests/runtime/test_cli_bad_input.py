"""Every subcommand with bad input: one line `error: ...` on stderr, a non-zero exit, never a traceback.

The cases cover every leaf command of the CLI (the test fails when a command is added without one).
Commands run in-process through ``run_cli``, the console script's entry point.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from tradingsystem.runtime.cli import app
from tradingsystem.runtime.cli_errors import run_cli


def _leaf_commands() -> set[str]:
    root = typer.main.get_command(app)
    ctx = typer.Context(root)  # type: ignore[arg-type]
    out: set[str] = set()

    def walk(cmd: object, path: list[str]) -> None:
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(ctx):  # type: ignore[attr-defined]
                walk(cmd.get_command(ctx, name), [*path, name])  # type: ignore[attr-defined]
        else:
            out.add(" ".join(path))

    walk(root, [])
    return out


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bad")
    (d / "latin1.yaml").write_bytes("data_dir: dados\n# configura\u00e7\u00e3o\n".encode("latin-1"))
    (d / "negfee.yaml").write_text('fees:\n  stock_day_trade_bps: "-1"\n')
    (d / "limits.yaml").write_text("risk:\n  max_position_by_symbol: {PETR4: 0}\n")
    (d / "badurl.yaml").write_text(f'data_dir: {d}\nrecord: false\nstate_url: "nosuchdb://x"\n')
    (d / "pgdown.yaml").write_text(f'data_dir: {d}\nrecord: false\n'
                                   'state_url: "postgresql+psycopg://u:p@127.0.0.1:1/db"\n')
    (d / "telegram.yaml").write_text(f"data_dir: {d}\nrecord: false\npersist: false\n"
                                     "alerts:\n  telegram: {chat_ids: [123]}\n")
    (d / "empty.csv").write_text("")
    return d


def cases(d: Path) -> dict[str, list[list[str]]]:
    nodir = str(d / "no-node")
    quick = ["--duration", "1", "--no-dashboard", "--no-status", "--no-control"]
    return {
        "version": [["version", "--bogus"]],
        "run": [["run", "--config", str(d / "latin1.yaml")], ["run", "--config", str(d / "negfee.yaml")],
                ["run", "--config", str(d / "limits.yaml")], ["run", "--date", "2026-02-30"],
                ["run", "--date", "garbage"], ["run", "--speed", "fast"],
                ["run", "--config", str(d / "badurl.yaml"), *quick],
                ["run", "--config", str(d / "pgdown.yaml"), *quick],
                ["run", "--config", str(d / "telegram.yaml"), *quick],
                ["run", "--feed", "profitdll", "--config", str(d / "telegram.yaml"), *quick],
                ["run", "--host", "256.1.1.1", "--no-status", "--data-dir", str(d)], ["run", "--port", "70000"]],
        "capture": [["capture", "--date", "garbage", "--data-dir", nodir],
                    ["capture", "--date", "2026-02-30", "--data-dir", nodir],
                    ["capture", "--feed", "profitdll", "--duration", "1", "--data-dir", nodir]],
        "orders": [["orders", "--data-dir", nodir]],
        "positions": [["positions", "--data-dir", nodir]],
        "risk status": [["risk", "status", "--data-dir", nodir]],
        "risk kill": [["risk", "kill", "--reason", "x", "--data-dir", nodir]],
        "risk reset": [["risk", "reset", "--data-dir", nodir]],
        "flatten": [["flatten", "WINFUT", "--data-dir", nodir]],
        "strategies paused": [["strategies", "paused", "--data-dir", nodir]],
        "strategies resume": [["strategies", "resume", "--data-dir", nodir]],
        "gateway": [["gateway", "--config", str(d / "latin1.yaml")]],
        "soak": [["soak", "--sessions", "0"]],
        "backtest": [["backtest", "--config", str(d / "latin1.yaml"), "--out", str(d / "bt")]],
        "optimize": [["optimize", "--config", str(d / "missing.yaml"), "--out", str(d / "bt")]],
        "train": [["train", "--config", str(d / "missing.yaml")]],
        "evaluate": [["evaluate", "--model", "nope", "--start", "2026-01-01", "--end", "garbage", "--out", nodir]],
        "ml train": [["ml", "train", "--config", str(d / "latin1.yaml")]],
        "ml evaluate": [["ml", "evaluate", "--model", "nope", "--start", "2026-13-01", "--end", "2026-01-02",
                         "--out", nodir]],
        "ml compare": [["ml", "compare", "--config", str(d / "missing.yaml")]],
        "ml models": [["ml", "models", "--bogus"]],
        "data ls": [["data", "ls", "--format", "xml", "--data-dir", nodir]],
        "data query": [["data", "query", "select * from nowhere", "--data-dir", nodir]],
        "data bars": [["data", "bars", "--instrument", "PETR4", "--start", "garbage", "--data-dir", nodir]],
        "data import": [["data", "import", str(d / "missing.csv"), "--format", "mt5", "--data-dir", nodir]],
        "data backup": [["data", "backup", "--to", str(d / "bk"), "--data-dir", nodir]],
        "data verify": [["data", "verify", "--data-dir", nodir]],
        "data restore": [["data", "restore", "--from", nodir, "--data-dir", str(d / "rs")]],
        "data backup-key": [["data", "backup-key", "--bogus"]],
        "follow": [["follow", "--config", str(d / "latin1.yaml")], ["follow", "--config", str(d / "negfee.yaml")]],
        "audit": [["audit", "--data-dir", str(d / "no-such-dir")]],
        "altdata fetch": [["altdata", "fetch", "--config", str(d / "latin1.yaml")]],
        "altdata ls": [["altdata", "ls", "--format", "xml", "--data-dir", nodir]],
        "altdata show": [["altdata", "show", "nosuchseries", "--as-of", "garbage", "--data-dir", nodir]],
        "altdata copom": [["altdata", "copom", "--as-of", "garbage", "--data-dir", nodir]],
        "altdata report": [["altdata", "report", "--config", str(d / "missing.yaml")]],
        "shadow": [["shadow", "--date", "2026-02-30", "--data-dir", nodir]],
        "calibrate": [["calibrate", "--date", "garbage", "--backtest", str(d / "missing.yaml"), "--data-dir", nodir]],
        "share keygen": [["share", "keygen", "--bogus"]],
        "sim facts": [["sim", "facts", "--data-dir", nodir]],
        "sim calibrate": [["sim", "calibrate", "--from", str(d / "missing.csv"), "--out", str(d / "m.yaml")]],
        "data compact": [["data", "compact", "--before", "garbage", "--data-dir", nodir]],
        "features list": [["features", "list", "--bogus"]],
        "features compute": [["features", "compute", "--set", "nope", "--instrument", "PETR4", "--start", "2026-01-01",
                              "--end", "2025-01-01", "--out", str(d / "f.parquet")]],
        "portfolio correlate": [["portfolio", "correlate", "--csv-dir", nodir]],
        "portfolio optimize": [["portfolio", "optimize", "--csv-dir", nodir]],
        "portfolio risk": [["portfolio", "risk", "--csv-dir", nodir]],
        "portfolio rebalance": [["portfolio", "rebalance", "--weights", str(d / "missing.json"), "--equity", "1000"]],
        "portfolio attribution": [["portfolio", "attribution", "--fills", str(d / "missing.csv"),
                                   "--marks", str(d / "missing.csv")]],
        "tax report": [["tax", "report", "--year", "1999", "--out", str(d / "tax")],
                       ["tax", "report", "--year", "2026", "--out", str(d / "tax"), "--db", "nosuchdb://x"]],
    }


def test_every_subcommand_has_a_bad_input_case(bad: Path) -> None:
    assert set(cases(bad)) == _leaf_commands()


def test_bad_input_gives_one_line_and_non_zero_exit(bad: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problems = []
    for runs in cases(bad).values():
        for args in runs:
            code = run_cli(app, args)
            err = capsys.readouterr().err.strip().splitlines()
            if code == 0 or len(err) != 1 or not err[0].startswith("error: ") or "Traceback" in err[0]:
                problems.append(f"{' '.join(args)} -> exit {code}: {err}")
            elif "<class" in err[0] or "unexpected" in err[0]:
                problems.append(f"{' '.join(args)}: not a readable message: {err[0]}")
    assert not problems, "\n".join(problems)
