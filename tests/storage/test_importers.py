"""Importers against the real B3 samples, malformed input, and re-import without duplicates."""

from __future__ import annotations

import zipfile
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from tradingsystem.adapters.storage import Catalog, StorageError, import_file
from tradingsystem.adapters.storage.importers import local_ns

from .helpers import config

NEG = "b3_neg_sample/NEG_OPCOES_20151126.zip"


def _neg_lines(real_data):
    with zipfile.ZipFile(real_data / NEG) as zf:
        text = zf.read(zf.namelist()[0]).decode("latin-1")
    return [ln for ln in text.splitlines() if ln and not ln.startswith(("RH", "RT"))]


def test_neg_options_file_gives_18302_trades_with_the_files_aggressors(tmp_path, real_data):
    rep = import_file(config(tmp_path), "neg", real_data / NEG)
    assert rep.rows_read == 18_302 and rep.rows_written == 18_302 and not rep.problems
    expected = Counter()
    for ln in _neg_lines(real_data):
        f = ln.split(";")
        expected[1 if f[10].strip() == "1" else 2 if f[14].strip() == "1" else 0] += 1
    cat = Catalog(tmp_path)
    got = {r["aggressor"]: r["n"] for r in cat.query("SELECT aggressor, count(*) n FROM trades GROUP BY 1").to_pylist()}
    assert got == dict(expected)
    first = _neg_lines(real_data)[0].split(";")
    row = cat.query(f"SELECT price, size, buyer, seller, time FROM trades WHERE instrument = '{first[1].strip()}' "
                    f"AND trade_id = {int(first[2])}").to_pylist()[0]
    assert row["price"] == Decimal(first[3].strip()) and row["size"] == int(first[4])
    assert (row["buyer"], row["seller"]) == (int(first[16]), int(first[17]))
    assert row["time"].strftime("%H:%M:%S") == "15:29:05"  # 13:29:05 in Brazil's 2015 summer time (UTC-2)
    again = import_file(config(tmp_path), "neg", real_data / NEG)
    assert again.rows_written == 0 and again.duplicates == 18_302


def test_cotahist_csv_petr4_gives_1979_sessions(tmp_path, real_data):
    rep = import_file(config(tmp_path), "cotahist", real_data / "b3_daily_cotahist" / "PETR4.csv")
    assert rep.rows_written == 1979
    cat = Catalog(tmp_path)
    got = cat.query("SELECT count(DISTINCT date) n FROM bars WHERE instrument='PETR4' AND timeframe='1d'")
    assert got.to_pylist() == [{"n": 1979}]
    first = cat.query("SELECT date, open, close, volume, turnover FROM bars ORDER BY date LIMIT 1").to_pylist()[0]
    assert str(first["date"]) == "2010-01-04" and first["open"] == Decimal("36.95")
    assert first["close"] == Decimal("37.32") and first["volume"] == 13_508_000
    assert first["turnover"] == Decimal("501288505.00")


def test_cotahist_fixed_width_txt(tmp_path, real_data):
    rep = import_file(config(tmp_path), "cotahist", real_data / "b3_daily_cotahist" /
                      "COTAHIST_D04012016_truncated_sample.TXT")
    assert rep.rows_read == 504 and not rep.problems and rep.duplicates == 0
    assert any("1745" in n for n in rep.notes)  # the publisher truncated the file: said, not hidden
    row = Catalog(tmp_path).query("SELECT open, high, date FROM bars WHERE instrument='AAPL34'").to_pylist()[0]
    assert row["open"] == Decimal("41.50") and row["high"] == Decimal("42.20") and str(row["date"]) == "2016-01-04"


def test_mt5_petr4_5m_bars_equal_hand_aggregation_of_1m_rows(tmp_path, real_data):
    path = real_data / "b3_stocks_m1" / "PETR4_M1.csv"
    rep = import_file(config(tmp_path), "mt5", path)
    assert rep.rows_written > 40_000 and not rep.problems
    hand: dict[tuple[str, int, int], list] = defaultdict(list)
    for ln in path.read_text().splitlines()[1:]:
        f = ln.split("\t")
        hh, mm, _ = (int(x) for x in f[1].split(":"))
        hand[(f[0], hh, mm // 5)].append(f)
    expected = []
    for (_, _, _), rows in sorted(hand.items()):
        expected.append((Decimal(rows[0][2]), max(Decimal(r[3]) for r in rows), min(Decimal(r[4]) for r in rows),
                         Decimal(rows[-1][5]), sum(int(r[7]) for r in rows)))
    got = Catalog(tmp_path).bars("PETR4", "5m")
    scale = got.column("scale")[0].as_py()
    rows = [(Decimal(r["open"]).scaleb(-scale), Decimal(r["high"]).scaleb(-scale), Decimal(r["low"]).scaleb(-scale),
             Decimal(r["close"]).scaleb(-scale), r["volume"]) for r in got.to_pylist()]
    assert rows == expected
    first = got.to_pylist()[0]
    d = sorted(hand)[0]
    y, m, dd = (int(x) for x in d[0].split("."))
    from datetime import date
    assert first["ts_open"] == local_ns(date(y, m, dd), d[1], d[2] * 5, 0)


def test_b3_order_messages(tmp_path, real_data):
    rep = import_file(config(tmp_path), "b3-orders", real_data / "b3_neg_sample" /
                      "example_orders_PETR4F_VALE5F_20151103.csv.gz")
    assert rep.rows_written == 20_673 and not rep.problems
    got = Catalog(tmp_path).query("SELECT instrument, count(*) n FROM orders GROUP BY 1 ORDER BY 1").to_pylist()
    assert sum(r["n"] for r in got) == 20_673 and {r["instrument"] for r in got} == {"PETR4F", "VALE5F"}


GOOD = "2015-11-26;ABEVA20 ;0000000010; 000000000000.320000;000000000000000900;13:29:05.765;1;2015-11-26;1;1;2;" \
       "2015-11-26;2;2;1;0;00000114;00000735"


def test_malformed_lines_are_reported_with_file_and_line_and_strict_fails(tmp_path):
    f = tmp_path / "NEG_TEST.TXT"
    f.write_text("RH NEG\n" + GOOD + "\n" + "2015-11-26;ABEVA20;xx\n" + GOOD.replace(";0000000010;", ";0000000020;")
                 .replace("000000000000.320000", "abc") + "\n" + GOOD.replace(";0000000010;", ";0000000030;") + "\n")
    data = tmp_path / "data"
    rep = import_file(config(data), "neg", f)
    assert rep.rows_written == 2
    assert rep.problems[0].startswith(f"{f}:3: expected 18")
    assert rep.problems[1].startswith(f"{f}:4: bad price")
    with pytest.raises(StorageError, match=r"NEG_TEST.TXT:3: .*nothing imported"):
        import_file(config(tmp_path / "strict"), "neg", f, strict=True)
    assert not (tmp_path / "strict" / "trades").exists()


def test_unknown_format_and_wrong_file_are_clear_errors(tmp_path, real_data):
    with pytest.raises(StorageError, match="unknown import format 'xls'"):
        import_file(config(tmp_path), "xls", real_data / NEG)
    with pytest.raises(StorageError, match="no such file"):
        import_file(config(tmp_path), "neg", tmp_path / "nope.zip")
    with pytest.raises(StorageError, match=r"PETR4_M1.csv:1: not the expected CSV header"):
        import_file(config(tmp_path), "cotahist", real_data / "b3_stocks_m1" / "PETR4_M1.csv")


def test_impossible_values_are_malformed_and_a_changed_trade_is_a_conflict(tmp_path, real_data):
    lines = _neg_lines(real_data)
    rows = lines[:3]
    f = rows[0].split(";")

    def with_(i: int, v: str) -> str:
        g = list(f)
        g[i] = v
        return ";".join(g)

    bad = [with_(3, " -000000000000.320000"), with_(4, "000000000000000000"), with_(4, "9" * 30)]
    p = tmp_path / "NEG_BAD.TXT"
    p.write_text("\n".join([*rows, *bad]) + "\n", encoding="latin-1")
    rep = import_file(config(tmp_path / "d"), "neg", p)
    assert rep.rows_written == 3 and len(rep.problems) == 3
    assert "must be positive" in rep.problems[0] and "out of range" in rep.problems[2]
    changed = tmp_path / "NEG_CHANGED.TXT"  # the same trade number with another price
    changed.write_text(with_(3, " 000000000000.330000") + "\n", encoding="latin-1")
    rep = import_file(config(tmp_path / "d"), "neg", changed)
    assert rep.rows_written == 0 and rep.conflicts == 1 and rep.duplicates == 0
    assert "stored" in rep.conflict_details[0] and "price" in rep.conflict_details[0]


def test_empty_zip_and_cotahist_with_high_below_low_are_clear(tmp_path, real_data):
    z = tmp_path / "NEG_EMPTY.zip"
    with zipfile.ZipFile(z, "w"):
        pass
    with pytest.raises(StorageError, match="holds no files"):
        import_file(config(tmp_path / "d"), "neg", z)
    src = (real_data / "b3_daily_cotahist" / "PETR4.csv").read_text().splitlines()
    cols = src[0].split(",")
    row = src[1].split(",")
    row[cols.index("pre_max")], row[cols.index("pre_min")] = "1.00", "2.00"
    p = tmp_path / "PETR4.csv"
    p.write_text("\n".join([src[0], ",".join(row), src[2]]) + "\n")
    rep = import_file(config(tmp_path / "d"), "cotahist", p)
    assert rep.rows_written == 1 and "high/low" in rep.problems[0]
