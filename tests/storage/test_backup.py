"""Incremental backup, verification of catalog and backup, restore."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tradingsystem.adapters.storage import Catalog, backup, restore, verify_backup, verify_catalog
from tradingsystem.runtime.cli_data import data_app

from .helpers import config, record, ticks


def test_second_backup_copies_only_new_files_and_verify_names_a_corrupt_one(tmp_path):
    data, bak = tmp_path / "data", tmp_path / "bak"
    record(config(data), ticks(n=300))
    first = backup(data, bak)
    assert len(first.copied) == 1 and first.skipped == 0
    record(config(data), ticks("PETR4", n=100, base=3750, tick=1))
    second = backup(data, bak)
    assert len(second.copied) == 1 and second.skipped == 1
    assert second.copied[0].startswith("trades/instrument=PETR4/")
    assert verify_backup(bak).ok
    manifest = json.loads((bak / "manifest.json").read_text())
    entry = manifest["files"][second.copied[0]]
    assert entry["rows"] == 100 and len(entry["sha256"]) == 64 and len(manifest["snapshots"]) == 2
    victim = bak / second.copied[0]
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    victim.write_bytes(bytes(raw))
    rep = verify_backup(bak)
    assert not rep.ok and rep.problems == [f"corrupt: {second.copied[0]} (sha256 differs from the manifest)"]
    result = CliRunner().invoke(data_app, ["verify", "--backup", str(bak), "--data-dir", str(data)])
    assert result.exit_code == 1 and second.copied[0] in result.output
    (bak / first.copied[0]).unlink()
    assert f"missing: {first.copied[0]}" in verify_backup(bak).problems


def test_restore_brings_the_catalog_back(tmp_path):
    data, bak, new = tmp_path / "data", tmp_path / "bak", tmp_path / "new"
    record(config(data), ticks(n=300) + ticks("PETR4", n=50, base=3750, tick=1))
    backup(data, bak)
    rep = restore(bak, new)
    assert len(rep.copied) == 2 and not rep.problems
    q = "SELECT instrument, count(*) n, sum(size) s FROM trades GROUP BY 1 ORDER BY 1"
    assert Catalog(new).query(q).to_pylist() == Catalog(data).query(q).to_pylist()
    assert verify_catalog(new).ok
    again = restore(bak, new)
    assert again.skipped == 2 and not again.copied


def test_verify_catalog_finds_corrupt_parts_and_duplicate_trade_numbers(tmp_path):
    data = tmp_path / "data"
    record(config(data), ticks(n=300))
    assert verify_catalog(data).ok
    part = next((data / "trades").rglob("*.parquet"))
    part.with_name("part-00000000000000000001-0000.parquet").write_bytes(part.read_bytes())  # a stray copy
    rep = verify_catalog(data)
    assert not rep.ok and any("duplicate trade number" in p for p in rep.problems)
    part.with_name("part-00000000000000000001-0000.parquet").unlink()
    part.write_bytes(part.read_bytes()[:-100])
    rep = verify_catalog(data)
    assert not rep.ok and str(part) in rep.problems[0]


def test_backup_refuses_a_destination_inside_the_catalog(tmp_path):
    record(config(tmp_path), ticks(n=5))
    result = CliRunner().invoke(data_app, ["backup", "--to", str(tmp_path / "x"), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "outside the data directory" in result.output
