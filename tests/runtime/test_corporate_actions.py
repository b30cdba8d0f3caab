"""Stock research bars adjusted for splits and dividends, on real COTAHIST daily bars (unadjusted at source).

CSNA3 went ex a 100% share bonus (a 2-for-1 split) on 2010-03-26: the COTAHIST distribution number steps from
236 to 237 and the specification gains ``EB`` that day, and the open (34.65) is half the previous close
(68.50) to within 1.2%. With that split in a corporate-action file the adjusted daily returns have no jump
there; the unadjusted ones fall 49%.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.ml.helpers import mt5_path, real_data_dir
from tradingsystem.runtime.cli import app
from tradingsystem.runtime.cli_ml import ml_app
from tradingsystem.runtime.corporate_actions import CorporateAction, adjust_bars, read_corporate_actions

SPLIT = "2010-03-26"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ca")
    src = real_data_dir() / "b3_daily_cotahist" / "CSNA3.csv"
    raw = pd.read_csv(src)
    i = int(raw.index[raw.dia == SPLIT][0])
    assert (raw.dis_mes[i - 1], raw.dis_mes[i]) == (236, 237) and "EB" in raw.especi[i]
    assert round(raw.pre_ult[i - 1] / raw.pre_abe[i]) == 2
    res = CliRunner().invoke(app, ["data", "import", str(src), "--format", "cotahist", "--data-dir",
                                   str(root / "cat")])
    assert res.exit_code == 0, res.output
    (root / "actions.csv").write_text(f"date,symbol,kind,value\n{SPLIT},CSNA3,split,2\n")
    return root


def _bars(root: Path, *extra: str) -> pd.DataFrame:
    out = root / f"bars{len(extra)}.csv"
    res = CliRunner().invoke(app, ["data", "bars", "--instrument", "CSNA3", "--timeframe", "1d", "--data-dir",
                                   str(root / "cat"), "--out", str(out), *extra])
    assert res.exit_code == 0, res.output
    return pd.read_csv(out)


def test_data_bars_adjusted_for_a_real_split_has_no_jump(catalog: Path) -> None:
    raw = _bars(catalog)
    adj = _bars(catalog, "--adjust", "ratio", "--corporate-actions", str(catalog / "actions.csv"))
    assert len(adj) == len(raw) == 1979  # every COTAHIST row kept
    day = raw.time_open.str[:10]
    i = int(np.flatnonzero(day == SPLIT)[0])
    r_raw, r_adj = raw.close.pct_change(), adj.close.pct_change()
    assert r_raw[i] < -0.45 and abs(r_adj[i]) < 0.05
    assert abs(r_adj[i] - (34.79 / (68.50 / 2) - 1)) < 1e-9
    assert (adj.close[i:] == raw.close[i:]).all() and np.allclose(adj.close[:i], raw.close[:i] / 2)
    assert set(adj.adjustment[:i]) == {0.5} and set(adj.adjustment[i:]) == {1.0}
    big = lambda r: int((r.abs() > 0.3).sum())  # noqa: E731
    assert big(r_raw) >= 1 and big(r_adj) == 0


def test_train_and_evaluate_take_the_corporate_action_file(tmp_path: Path) -> None:
    """Labels stay inside a session, so ``train`` runs on intraday bars: real PETR4 1-minute bars with a
    dividend (an illustrative amount, not a real one) going ex inside the training period."""
    (tmp_path / "actions.csv").write_text("date,symbol,kind,value\n2020-05-15,PETR4,dividend,0.50\n")
    (tmp_path / "rets.yaml").write_text(yaml.safe_dump({"name": "rets", "timeframe": "1m", "features": {
        "ret_5": "roc(close, 5)", "ret_30": "roc(close, 30)", "ret_120": "roc(close, 120)"}}))
    cfg = {"name": "petr4_adj", "instrument": "PETR4", "input": str(mt5_path("PETR4")), "start": "2020-05-04",
           "end": "2020-05-29", "feature_set": "rets.yaml", "corporate_actions": "actions.csv",
           "label": {"kind": "direction", "horizon": 15}, "model": {"kind": "logistic", "members": ["logistic"]},
           "walk_forward": {"mode": "expanding", "n_splits": 2}, "registry": "models"}
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(ml_app, ["train", "--config", str(tmp_path / "train.yaml")])
    assert res.exit_code == 0, res.output
    card = json.loads(next((tmp_path / "models").rglob("card.json")).read_text())
    assert card["data"]["corporate_actions"] == str((tmp_path / "actions.csv").resolve())
    ev = ["evaluate", "--model", "petr4_adj", "--start", "2020-06-01", "--end", "2020-06-05", "--out",
          str(tmp_path / "ev"), "--registry", str(tmp_path / "models")]
    res = CliRunner().invoke(ml_app, ev)
    assert res.exit_code == 0, res.output
    (tmp_path / "bad.csv").write_text("date,symbol,kind,value\n2020-06-02,PETR4,split,0\n")
    res = CliRunner().invoke(ml_app, [*ev, "--corporate-actions", str(tmp_path / "bad.csv")])
    assert res.exit_code != 0 and "bad.csv:2: value 0 must be a positive number" in res.output
    # a futures config with a corporate-action file is refused in one line
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({**cfg, "instrument": "WINJ26", "name": "bad"}))
    res = CliRunner().invoke(ml_app, ["train", "--config", str(tmp_path / "bad.yaml")])
    assert res.exit_code != 0 and "corporate_actions applies to stocks" in res.output


@pytest.mark.parametrize(("text", "why"), [
    ("day,symbol,kind,value\n", ":1: the header"),
    ("date,symbol,kind,value\n2010-13-01,CSNA3,split,2\n", ":2: date"),
    ("date,symbol,kind,value\n2010-03-26,CSN,split,2\n", "not a B3 stock code"),
    ("date,symbol,kind,value\n2010-03-26,CSNA3,merger,2\n", "use split or dividend"),
    ("date,symbol,kind,value\n2010-03-26,CSNA3,split,-2\n", "positive"),
    ("date,symbol,kind,value\n2010-03-26,CSNA3,split,1\n", "changes nothing"),
    ("date,symbol,kind,value\n2010-03-26,CSNA3,dividend,abc\n", "not a number"),
    ("date,symbol,kind,value\n2010-03-26,CSNA3,split,2\n2010-03-26,CSNA3,split,2\n", ":3: a second split"),
    ("date,symbol,kind,value\n2010-03-26,CSNA3,dividend,500\n", "not below the close"),
])
def test_a_bad_corporate_action_file_is_one_line_and_exit_nonzero(catalog: Path, text: str, why: str) -> None:
    bad = catalog / "bad_actions.csv"
    bad.write_text(text)
    res = CliRunner().invoke(app, ["data", "bars", "--instrument", "CSNA3", "--timeframe", "1d", "--data-dir",
                                   str(catalog / "cat"), "--adjust", "ratio", "--corporate-actions", str(bad)])
    assert res.exit_code != 0 and why in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(100, 10_000), min_size=4, max_size=30), st.data())
def test_adjusted_returns_equal_real_returns_across_actions(closes: list[int], data: st.DataObject) -> None:
    """Adjusted day-to-day returns are the real ones, except across an ex date, where the split factor or the
    dividend is taken out; bars from the last action on keep their real prices."""
    n = len(closes)
    ts = np.array([(date(2020, 1, 1).toordinal() + k - 719_163) * 86_400 * 10**9 + 13 * 3600 * 10**9
                   for k in range(n)], dtype=np.int64)
    k = data.draw(st.integers(1, n - 1))
    split = data.draw(st.sampled_from([Decimal(2), Decimal(10), Decimal("0.1"), Decimal(3)]))
    day = date.fromordinal(date(2020, 1, 1).toordinal() + k)
    c = np.array(closes, dtype=np.int64)
    bars = {"ts_open": ts, "open": c, "high": c, "low": c, "close": c}
    out = adjust_bars(bars, [CorporateAction(day, "PETR4", "split", split)], "PETR4")
    real, adj = c[1:] / c[:-1], out["close"][1:] / out["close"][:-1]
    expect = real.copy()
    expect[k - 1] *= float(split)
    assert np.allclose(adj, expect) and (out["close"][k:] == c[k:]).all()


def test_reader_sorts_by_date(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    with open(p, "w", newline="") as fh:
        csv.writer(fh).writerows([["date", "symbol", "kind", "value"], ["2016-05-02", "petr4", "dividend", "0.35"],
                                  ["2010-03-26", "CSNA3", "split", "2"]])
    got = read_corporate_actions(p)
    assert [(a.day, a.symbol, a.kind, a.value) for a in got] == [
        (date(2010, 3, 26), "CSNA3", "split", Decimal(2)), (date(2016, 5, 2), "PETR4", "dividend", Decimal("0.35"))]
