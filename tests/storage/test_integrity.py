"""Catalog integrity: a corrupted part is never served as data; it is quarantined with a warning naming it,
the rest stays readable, and ``compact`` never rewrites or deletes a source that fails verification."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradingsystem.adapters.storage import Catalog, StorageError, compact_partition
from tradingsystem.adapters.storage.parts import check_part, list_parts
from tradingsystem.adapters.storage.schema import b3_ns
from tradingsystem.runtime.cli_data import data_app

from .helpers import DAY, config, record, ticks

runner = CliRunner()


def _two_days(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    nxt = DAY + timedelta(days=1)
    record(config(data), ticks(n=300) + ticks(n=300, seed=5, start_id=10_000, t0=b3_ns(nxt, 10, 0)))
    return data


def _flip_a_bit(path: Path) -> None:
    """Flip one bit inside a data page (the first offset whose flip the page CRC catches)."""
    raw = bytearray(path.read_bytes())
    for off in range(8, len(raw) // 2):
        raw[off] ^= 0x10
        path.write_bytes(bytes(raw))
        try:
            check_part(path)
        except StorageError:
            return
        raw[off] ^= 0x10
    raise AssertionError("no flip detected")


def _sum_seq(data: Path) -> tuple[int, str]:
    res = runner.invoke(data_app, ["query", "SELECT count(*) AS n FROM trades", "--format", "json",
                                   "--data-dir", str(data)])
    assert res.exit_code == 0, res.output
    return int(res.stdout.strip().splitlines()[-1].split(":")[1].strip(" }")), res.output


def test_a_flipped_bit_is_quarantined_with_a_warning_and_the_rest_is_served(tmp_path):
    data = _two_days(tmp_path)
    parts = list(list_parts(data, "trades"))
    assert len(parts) == 2
    _flip_a_bit(parts[0])
    n, out = _sum_seq(data)
    assert n == 300  # the good day only: the corrupted rows are never served
    assert "warning:" in out and parts[0].name in " ".join(out.split())
    assert not parts[0].exists() and list((data / "_quarantine" / "parts").rglob(parts[0].name))
    assert _sum_seq(data)[0] == 300  # quarantined once; later reads just skip it


def test_an_unreadable_part_does_not_take_the_whole_kind_down(tmp_path):
    data = _two_days(tmp_path)
    parts = list(list_parts(data, "trades"))
    parts[1].write_bytes(b"not parquet at all")
    cat = Catalog(data)
    assert cat.query("SELECT count(*) AS n FROM trades").to_pylist() == [{"n": 300}]
    assert len(cat.warnings) == 1 and parts[1].name in cat.warnings[0]


def test_compact_verifies_sources_and_never_deletes_one_that_fails(tmp_path):
    data = tmp_path / "data"
    cfg = config(data)
    record(cfg, ticks(n=200))
    record(cfg, ticks(n=200, seed=9, start_id=5000, t0=b3_ns(DAY, 12, 0)))  # a second part, same day
    parts = list(list_parts(data, "trades"))
    assert len(parts) == 2
    _flip_a_bit(parts[1])
    with pytest.raises(StorageError, match="nothing compacted or deleted"):
        compact_partition(data, "trades", parts[1].parent)
    assert all(p.exists() for p in parts)
    # through the command: the failing source is moved aside, never rewritten with fresh checksums
    res = runner.invoke(data_app, ["compact", "--before", (DAY + timedelta(days=1)).isoformat(),
                                   "--data-dir", str(data)])
    assert res.exit_code == 0, res.output
    assert list((data / "_quarantine" / "parts").rglob(parts[1].name))
    res = runner.invoke(data_app, ["verify", "--data-dir", str(data)])
    assert res.exit_code == 0 and Catalog(data).query("SELECT count(*) AS n FROM trades").to_pylist() == [
        {"n": 200}]
