"""Incremental, content-addressed backup to a folder, encryption, retention, verification, restore."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from tradingsystem.adapters.storage import (
    Catalog,
    Sealer,
    Sources,
    StorageError,
    backup,
    open_remote,
    prune,
    restore,
    verify_backup,
    verify_catalog,
)
from tradingsystem.adapters.storage.snapshot import kept_snapshots, object_key
from tradingsystem.runtime.cli_data import data_app

from .helpers import config, record, ticks

AT = datetime(2026, 11, 26, 19, tzinfo=UTC)


def _backup(data, target, key=None, extra=None, at=AT):
    return backup(Sources(data, extra or {}), open_remote(str(target)), Sealer(key), at)


def test_second_backup_sends_only_new_content_and_verify_names_a_corrupt_one(tmp_path):
    data, bak = tmp_path / "data", tmp_path / "bak"
    record(config(data), ticks(n=300))
    first = _backup(data, bak)
    assert len(first.copied) == 1 and first.skipped == 0
    record(config(data), ticks("PETR4", n=100, base=3750, tick=1))
    second = _backup(data, bak)
    assert len(second.copied) == 1 and second.skipped == 1
    assert second.copied[0].startswith("trades/instrument=PETR4/")
    remote = open_remote(str(bak))
    assert verify_backup(remote, Sealer(None)).ok
    manifest = json.loads((bak / "manifest").read_text())
    sha = manifest["snapshots"][-1]["files"][second.copied[0]]
    assert manifest["objects"][sha]["rows"] == 100 and len(sha) == 64 and len(manifest["snapshots"]) == 2
    victim = bak / object_key(sha)
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    victim.write_bytes(bytes(raw))
    rep = verify_backup(remote, Sealer(None))
    assert not rep.ok and rep.problems == [f"corrupt: {second.copied[0]} (sha256 differs from the manifest)"]
    result = CliRunner().invoke(data_app, ["verify", "--backup", str(bak), "--data-dir", str(data)])
    assert result.exit_code == 1 and second.copied[0] in result.output
    first_sha = manifest["snapshots"][0]["files"][first.copied[0]]
    (bak / object_key(first_sha)).unlink()
    assert f"missing: {first.copied[0]}" in verify_backup(remote, Sealer(None)).problems


def test_restore_brings_the_catalog_back(tmp_path):
    data, bak, new = tmp_path / "data", tmp_path / "bak", tmp_path / "new"
    record(config(data), ticks(n=300) + ticks("PETR4", n=50, base=3750, tick=1))
    _backup(data, bak)
    remote = open_remote(str(bak))
    rep = restore(remote, new, Sealer(None))
    assert len(rep.copied) == 2 and not rep.problems
    q = "SELECT instrument, count(*) n, sum(size) s FROM trades GROUP BY 1 ORDER BY 1"
    assert Catalog(new).query(q).to_pylist() == Catalog(data).query(q).to_pylist()
    assert verify_catalog(new).ok
    again = restore(remote, new, Sealer(None))
    assert again.skipped == 2 and not again.copied


def test_encrypted_backup_hides_content_and_refuses_a_wrong_key(tmp_path):
    data, bak, new = tmp_path / "data", tmp_path / "bak", tmp_path / "new"
    record(config(data), ticks(n=200))
    key = bytes(range(32))
    _backup(data, bak, key)
    part = next((data / "trades").rglob("*.parquet")).read_bytes()
    stored = [p.read_bytes() for p in (bak / "objects").rglob("*") if p.is_file()]
    assert len(stored) == 1 and part[:64] not in stored[0] and b"PAR1" not in stored[0][:8]
    assert b"snapshots" not in (bak / "manifest").read_bytes()
    remote = open_remote(str(bak))
    assert verify_backup(remote, Sealer(key)).ok
    with pytest.raises(StorageError, match="encrypted; give the backup key"):
        verify_backup(remote, Sealer(None))
    with pytest.raises(StorageError, match="fails authentication"):
        restore(remote, new, Sealer(bytes(32)))
    with pytest.raises(StorageError, match="encrypted; give the backup key"):
        _backup(data, bak)
    assert len(restore(remote, new, Sealer(key)).copied) == 1


def test_retention_keeps_daily_and_monthly_snapshots_and_drops_unreferenced_objects(tmp_path):
    data, bak = tmp_path / "data", tmp_path / "bak"
    record(config(data), ticks(n=50))
    state = tmp_path / "state.db"
    stamps = [datetime(2026, m, d, 19, tzinfo=UTC) for m, d in ((9, 30), (10, 30), (11, 2), (11, 3), (11, 4),
                                                                (11, 4))]
    for i, at in enumerate(stamps):
        state.write_bytes(f"state {i}".encode())  # a new state snapshot each run
        _backup(data, bak, extra={"state.db": state}, at=at)
    remote = open_remote(str(bak))
    assert len(remote.keys("objects")) == 7
    rep = prune(remote, Sealer(None), keep_daily=2, keep_monthly=2)
    manifest = json.loads((bak / "manifest").read_text())
    kept = [s["at"][:10] for s in manifest["snapshots"]]
    assert kept == ["2026-10-30", "2026-11-03", "2026-11-04"]
    assert rep.snapshots_removed == 3 and rep.objects_removed == 3 and len(remote.keys("objects")) == 4
    assert verify_backup(remote, Sealer(None)).ok


def test_kept_snapshots_always_keeps_the_newest():
    stamps = ["2026-11-01T10:00:00", "2026-11-01T11:00:00"]
    assert kept_snapshots(stamps, 1, 0) == {1}
    assert kept_snapshots([], 3, 3) == set()


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
