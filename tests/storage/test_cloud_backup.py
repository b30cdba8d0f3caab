"""`data backup|verify|restore` against a real local S3 server (moto) and an rclone WebDAV remote.

A node run records a catalog and a state database; the backup goes out encrypted, a byte flipped
on the remote is caught by `verify`, and `restore` into an empty folder gives back the same catalog and
the same state tables.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradingsystem.adapters.storage import Catalog, Sealer
from tradingsystem.runtime.cli_data import data_app

KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # base64 of bytes 0..31
CLI = [sys.executable, "-m", "tradingsystem.runtime.cli"]
pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    for _ in range(400):  # bounded: about 20 s
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@pytest.fixture(scope="module")
def node_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real node's data directory: catalog parts and a state database with orders and fills."""
    root = tmp_path_factory.mktemp("node") / "data"
    proc = subprocess.run([*CLI, "run", "--duration", "600", "--speed", "max", "--seed", "5", "--no-status",
                           "--no-dashboard", "--no-control", "--data-dir", str(root)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (root / "state.db").exists() and any((root / "trades").rglob("*.parquet"))
    return root


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _wait_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, s3_endpoint: str) -> str:
    for k, v in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                 "TRADINGSYSTEM_BACKUP_KEY": KEY}.items():
        monkeypatch.setenv(k, v)
    import boto3

    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket="ts-backups")
    return s3_endpoint


@pytest.fixture
def webdav(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`rclone serve webdav` on a local folder, reachable as the rclone remote `dav:`."""
    exe = shutil.which("rclone")
    assert exe is not None, "rclone is installed by make test (SYSTEM_PACKAGES)"
    served = tmp_path / "served"
    served.mkdir()
    port = _free_port()
    proc = subprocess.Popen([exe, "serve", "webdav", str(served), "--addr", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, proc)
        monkeypatch.setenv("RCLONE_CONFIG_DAV_TYPE", "webdav")
        monkeypatch.setenv("RCLONE_CONFIG_DAV_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("TRADINGSYSTEM_BACKUP_KEY", KEY)
        yield served
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(data_app, list(args))
    return result.exit_code, result.output


def _tables(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db) as con:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}


def _same_catalog(a: Path, b: Path) -> None:
    q = "SELECT instrument, count(*) n, sum(size) s, min(seq) lo, max(seq) hi FROM trades GROUP BY 1 ORDER BY 1"
    assert Catalog(a).query(q).to_pylist() == Catalog(b).query(q).to_pylist()


def _round_trip(node_data: Path, target: str, tmp_path: Path, *extra: str) -> None:
    code, out = _cli("backup", "--to", target, "--data-dir", str(node_data), *extra)
    assert code == 0, out
    sent = json.loads(out.strip().splitlines()[-1])
    assert sent["copied"] > 1 and sent["problems"] == 0
    code, out = _cli("backup", "--to", target, "--data-dir", str(node_data), *extra)
    again = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and again["copied"] == 0 and again["skipped"] == sent["copied"]  # incremental
    code, out = _cli("verify", "--backup", target, *extra)
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["ok"], out
    new = tmp_path / "restored"
    code, out = _cli("restore", "--from", target, "--data-dir", str(new), *extra)
    assert code == 0, out
    _same_catalog(node_data, new)
    assert _tables(new / "state.db") == _tables(node_data / "state.db")
    fills = _tables(new / "state.db").get("fills", [])
    assert fills, "the node's fills came back"


def test_s3_backup_round_trip_and_a_flipped_byte_is_caught(node_data: Path, aws_env: str, tmp_path: Path) -> None:
    target = "s3://ts-backups/node-1"
    _round_trip(node_data, target, tmp_path, "--endpoint-url", aws_env)
    import boto3

    s3 = boto3.client("s3", endpoint_url=aws_env)
    key = next(o["Key"] for o in s3.list_objects_v2(Bucket="ts-backups", Prefix="node-1/objects/")["Contents"])
    body = bytearray(s3.get_object(Bucket="ts-backups", Key=key)["Body"].read())
    assert not Sealer(None).on and body.startswith(b"TSB1")  # sealed on the client
    body[len(body) // 2] ^= 0x01
    s3.put_object(Bucket="ts-backups", Key=key, Body=bytes(body))
    code, out = _cli("verify", "--backup", target, "--endpoint-url", aws_env)
    assert code == 1 and "corrupt:" in out and "fails authentication" in out


def test_rclone_backup_round_trip_and_a_flipped_byte_is_caught(node_data: Path, webdav: Path,
                                                               tmp_path: Path) -> None:
    target = "rclone:dav:ts/node-1"
    _round_trip(node_data, target, tmp_path)
    victim = next(p for p in (webdav / "ts" / "node-1" / "objects").rglob("*") if p.is_file())
    raw = bytearray(victim.read_bytes())
    raw[-1] ^= 0x01
    victim.write_bytes(bytes(raw))
    code, out = _cli("verify", "--backup", target)
    assert code == 1 and "corrupt:" in out
    code, out = _cli("restore", "--from", target, "--data-dir", str(tmp_path / "again"))
    assert code == 1 and "not restored" in out


def test_bad_targets_are_one_line_errors(tmp_path: Path) -> None:
    code, out = _cli("backup", "--to", "ftp://x/y", "--data-dir", str(tmp_path))
    assert code == 2 and "unknown backup target" in out and "Traceback" not in out
    code, out = _cli("backup", "--data-dir", str(tmp_path))
    assert code == 2 and "no backup target" in out


def test_the_node_backs_itself_up_on_its_schedule(tmp_path: Path) -> None:
    bak, data = tmp_path / "bak", tmp_path / "data"
    cfg = tmp_path / "node.yaml"
    cfg.write_text(f"data_dir: {data}\nbackup:\n  to: {bak}\n  every_s: 300\n  keep_daily: 3\n", encoding="utf-8")
    proc = subprocess.run([*CLI, "run", "--config", str(cfg), "--duration", "900", "--speed", "max", "--seed", "2",
                           "--no-status", "--no-dashboard", "--no-control"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads((bak / "manifest").read_text())
    assert manifest["snapshots"] and "state.db" in manifest["snapshots"][-1]["files"]
    code, out = _cli("restore", "--from", str(bak), "--data-dir", str(tmp_path / "back"))
    assert code == 0, out
    assert (tmp_path / "back" / "state.db").exists()


def test_a_postgresql_state_store_goes_into_the_backup_through_pg_dump(postgres_url: str, tmp_path: Path) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    from tests.sqlstore.pg import create_database

    conninfo = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as con:
        con.execute("CREATE TABLE fills (id text primary key, qty int)")
        con.execute("INSERT INTO fills VALUES ('a', 1), ('b', 2), ('c', 3)")
    data, bak, back = tmp_path / "data", tmp_path / "bak", tmp_path / "back"
    data.mkdir()
    code, out = _cli("backup", "--to", str(bak), "--data-dir", str(data), "--state-url", postgres_url)
    assert code == 0, out
    code, out = _cli("restore", "--from", str(bak), "--data-dir", str(back))
    assert code == 0 and "pg_restore" in out, out
    dump = back / "state.pgdump"
    target = create_database(postgres_url, "ts_restored")
    dsn = make_url(target).set(drivername="postgresql").render_as_string(hide_password=False)
    proc = subprocess.run(["pg_restore", "--no-owner", "--dbname", dsn, str(dump)], capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with psycopg.connect(dsn) as con:
        assert con.execute("SELECT id, qty FROM fills ORDER BY id").fetchall() == [("a", 1), ("b", 2), ("c", 3)]
