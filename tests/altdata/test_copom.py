"""The Copom meeting calendar: built-in years, a user's file, the ``copom_next_days`` feature without
lookahead, and ``tradingsystem altdata copom``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tradingsystem.domain.copom import DECISIONS, PUBLISHED, CopomCalendar, Meeting, parse_calendar
from tradingsystem.features import FeatureSet
from tradingsystem.features.altdata import DAY_NS, copom_next_days
from tradingsystem.runtime.altdata import with_altdata
from tradingsystem.runtime.cli import app

runner = CliRunner()
CAL = CopomCalendar()
LO, HI = CAL.meetings[0].known_ns - 400 * DAY_NS, CAL.meetings[-1].decision_ns + 30 * DAY_NS


def test_built_in_years_are_eight_wednesdays_published_before_the_first():
    for year, days in DECISIONS.items():
        assert len(days) == 8 and all(d.weekday() == 2 and d.year == year for d in days)
        assert PUBLISHED[year] < days[0]
    m = Meeting(date(2026, 12, 9), PUBLISHED[2026])
    assert m.decision_ns == 1_796_851_800_000_000_000  # 2026-12-09 18:30 B3 = 21:30 UTC


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(LO, HI), min_size=1, max_size=30))
def test_next_decision_uses_only_calendars_published_by_then(ts: list[int]) -> None:
    bar_ts = np.array(sorted(ts), dtype=np.int64)
    got = copom_next_days(bar_ts, CAL)
    for t, g in zip(bar_ts, got, strict=True):
        known = [m.decision_ns for m in CAL.meetings if m.known_ns <= t < m.decision_ns]
        if not known:
            assert np.isnan(g)
            continue
        assert g == (min(known) - int(t)) / DAY_NS and g > 0
        nxt = CAL.next_after(int(t))
        assert nxt is not None and nxt.decision_ns == min(known) and nxt.known_ns <= t


def test_a_year_not_published_yet_is_unknown_not_guessed():
    # mid-2019: the 2019 calendar is not built in and the 2020 one came out on 2019-06-24
    before = Meeting(date(2019, 6, 1), date(2019, 6, 1)).known_ns
    after = Meeting(date(2019, 6, 25), date(2019, 6, 25)).known_ns
    got = copom_next_days(np.array([before, after], dtype=np.int64), CAL)
    assert np.isnan(got[0])
    assert got[1] == (Meeting(date(2020, 2, 5), PUBLISHED[2020]).decision_ns - after) / DAY_NS


def test_a_users_file_adds_years_and_bad_lines_are_named():
    extra = parse_calendar("day,published\n2027-01-27,2026-06-22  # from the BCB page\n2027-03-17\n", "mine.csv")
    cal = CopomCalendar(extra)
    assert [m.day for m in cal.meetings[-2:]] == [date(2027, 1, 27), date(2027, 3, 17)]
    assert cal.meetings[-1].known_from == date(2026, 6, 30) and cal.meetings[-1].source == "mine.csv"
    for bad, why in (("2027-13-01", "not YYYY-MM-DD"), ("2027-01-27,2027-02-01", "published before")):
        try:
            parse_calendar(bad, "mine.csv")
        except ValueError as exc:
            assert "mine.csv line 1" in str(exc) and why in str(exc)
        else:
            raise AssertionError(f"{bad!r} accepted")


def test_feature_on_real_bars_and_the_cli(real_data: Path, tmp_path: Path):
    from tests.ml.helpers import mt5_path
    from tradingsystem.adapters.storage.mt5 import parse_mt5

    bars = parse_mt5(mt5_path("PETR4").read_text().splitlines()[:2000], 2, None, "b3", "PETR4_M1.csv").columns
    fs = FeatureSet.from_mapping({"name": "c", "timeframe": "1m", "features": {"to_copom": "copom_next_days"}})
    cols = with_altdata(fs, bars, "PETR4", tmp_path)
    days = cols["copom_next_days"]
    decision = Meeting(date(2020, 5, 6), PUBLISHED[2020]).decision_ns
    first = np.asarray(bars["ts_event"])[0]
    assert days[0] == (decision - first) / DAY_NS  # the first real bar, 2020-05-04, waits for 6 May 18:00
    assert np.all(np.isfinite(days)) and np.all(np.diff(days[np.asarray(bars["ts_event"]) < decision]) < 0)
    res = runner.invoke(app, ["altdata", "copom", "--data-dir", str(tmp_path), "--as-of", "2026-12-04T15:00:00"])
    assert res.exit_code == 0, res.output
    assert "next decision 2026-12-09T18:30:00-03:00, in 5.1 days" in res.output
    (tmp_path / "altdata").mkdir(exist_ok=True)
    (tmp_path / "altdata" / "copom_calendar.csv").write_text("2027-13-01\n")
    res = runner.invoke(app, ["altdata", "copom", "--data-dir", str(tmp_path)])
    assert res.exit_code == 2 and "line 1" in res.output and "Traceback" not in res.output
