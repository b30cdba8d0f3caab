"""The ``tradingsystem`` command line.

Each command's module is imported when that command runs (``cli_lazy``): ``tradingsystem risk kill`` must
answer in well under a second, and the research commands import pandas, pyarrow, torch and scikit-learn.
A new command goes in ``_Root.lazy`` with its module and one-line help.
"""

from __future__ import annotations

import json
import sys

import typer

from tradingsystem import __version__
from tradingsystem.runtime.cli_errors import run_cli
from tradingsystem.runtime.cli_lazy import LazyGroup

_M = "tradingsystem.runtime."


class _Root(LazyGroup):
    lazy = {
        "orders": (_M + "cli_control", "orders", "Working orders of the running node."),
        "positions": (_M + "cli_control", "positions", "Positions and P&L of the running node."),
        "flatten": (_M + "cli_control", "flatten",
                    "Close positions (one instrument or all) and pause the strategies there until "
                    "`strategies resume`."),
        "strategies": (_M + "cli_control", "strategies_app",
                       "Instruments taken from the strategies by a manual trade: list, resume."),
        "audit": (_M + "cli_control", "audit",
                  "Manual actions (kill, reset, flatten, cancel...) from the node's state store: "
                  "when, who, what, result."),
        "capture": (_M + "cli_data", "capture",
                    "Capture-only node: record a feed into the catalog until the duration ends."),
        "train": (_M + "cli_ml", "train_cmd",
                  "Walk-forward train and evaluate a model from a config file, then store it in the registry."),
        "evaluate": (_M + "cli_ml", "evaluate_cmd",
                     "Evaluate a stored model on a period: evaluation.json and an HTML report in OUT."),
        "backtest": (_M + "cli_backtest", "backtest_command",
                     "Replay history through the engine and write the report."),
        "optimize": (_M + "cli_backtest", "optimize_command",
                     "Parameter sweep with overfitting checks (PBO, deflated Sharpe) and walk-forward optimisation."),
        "shadow": (_M + "cli_shadow", "shadow_command",
                   "Replay a live session's strategies through the backtest venue and compare order by order."),
        "calibrate": (_M + "cli_shadow", "calibrate_command", "Fit venue latency, slippage and queue parameters "
                      "from a live session; write them into the backtest config."),
        "gateway": (_M + "cli_ops", "gateway", "Run the gateway of a split deployment: publish market data and "
                    "order events to Redis, execute commands."),
        "soak": (_M + "cli_ops", "soak", "Run N simulated sessions with faults injected (feed disconnects, "
                 "venue rejects, a restart per session)."),
        "run": (_M + "cli_run", "run",
                "Run the trading node: the market, the strategies, risk and portfolio, with a live status view."),
        "follow": (_M + "cli_run", "follow",
                   "Follower mode: mirror a leader's signed signals with our own sizing, through our own risk engine."),
        "risk": (_M + "cli_control", "risk_app", "Risk state and the kill switch of a running node."),
        "data": (_M + "cli_data", "data_app",
                 "The market-data catalog: ls, query, bars, import, backup, verify, restore."),
        "ml": (_M + "cli_ml", "ml_app", "Train, evaluate and list ML signal models."),
        "features": (_M + "cli_features", "features_app", "Indicators and feature sets: list and compute."),
        "portfolio": (_M + "cli_portfolio", "portfolio_app",
                      "Correlation, optimisation, rebalancing, risk, attribution."),
        "tax": (_M + "cli_tax", "tax_app", "The Brazilian tax report (DARF) from fills."),
        "sim": (_M + "cli_sim", "sim_app",
                "The simulated market: calibrate on real bars, compare stylised facts."),
        "altdata": (_M + "cli_altdata", "altdata_app", "Economic series, news and sentiment, point in time."),
    }


app = typer.Typer(cls=_Root, help="Automated trading on B3: capture, research, backtest and trade on one engine.",
                  no_args_is_help=True, add_completion=False)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


share_app = typer.Typer(help="Signal sharing: keys for signing the signals followers verify.",
                        no_args_is_help=True, add_completion=False)
app.add_typer(share_app, name="share")


@share_app.command("keygen")
def share_keygen() -> None:
    """Print a new Ed25519 key pair: the private key goes in TRADINGSYSTEM_SHARE_KEY on the leader,
    the public key in follow.public_key on each follower."""
    from tradingsystem.adapters.sharing import new_keypair

    private, public = new_keypair()
    typer.echo(json.dumps({"private_key": private, "public_key": public}))


def main() -> None:
    """The console script: every error ends as one line on stderr and a non-zero exit (``cli_errors``)."""
    sys.exit(run_cli(app))


if __name__ == "__main__":
    main()
