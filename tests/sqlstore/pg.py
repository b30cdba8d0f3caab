"""Start a throwaway PostgreSQL server for tests and benchmarks.

``start_postgres()`` is a context manager yielding a SQLAlchemy URL. It runs ``initdb`` and ``pg_ctl``
from the Debian ``postgresql-15`` package (or ``$TRADINGSYSTEM_PG_BIN``) in a fresh temp folder, on a
free port of 127.0.0.1 with its unix socket in that folder, and stops and deletes it at the end. The
server refuses to run as root, so as root it runs as the ``postgres`` user (``nobody`` if absent).
Raises ``PostgresUnavailable`` when the server binaries are missing (the fixture turns it into a skip).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["PostgresUnavailable", "create_database", "find_pg_bin", "postgres_server", "postgres_url", "start_postgres"]

PG_APT_PACKAGES = "postgresql-15 (or postgresql) and util-linux (runuser)"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries (initdb, pg_ctl) on this machine."""


def find_pg_bin() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: $TRADINGSYSTEM_PG_BIN, the PATH, or /usr/lib/postgresql/N/bin."""
    env = os.environ.get("TRADINGSYSTEM_PG_BIN")
    candidates = [env] if env else []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    raise PostgresUnavailable(f"PostgreSQL server binaries not found (install {PG_APT_PACKAGES}, "
                              "or set TRADINGSYSTEM_PG_BIN)")


def _version_key(path: str) -> int:
    part = Path(path).parent.name
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> str | None:
    """The unprivileged user to run the server as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and no unprivileged user (postgres, nobody) to run the server as")


def _run(user: str | None, argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv] if shutil.which("runuser") else \
            ["su", user, "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in argv)]
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]


@contextmanager
def start_postgres(base: str | Path | None = None, fsync: bool = False) -> Iterator[str]:
    """Run a private PostgreSQL server; yield ``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``.

    ``base`` is the parent of the server's temp folder (default: the system temp dir); as root it must be
    traversable by the server user, which pytest's ``tmp_path`` is not. ``fsync=False`` (tests) trades
    durability against an OS crash for speed; the benchmark passes ``fsync=True``.
    """
    bindir = find_pg_bin()
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="ts-pg-", dir=str(base) if base else None))
    data, sock, log = root / "data", root / "sock", root / "server.log"
    sock.mkdir()
    if user is not None:
        pw = pwd.getpwnam(user)
        os.chmod(root, 0o755)
        for p in (root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    started = False
    try:
        r = _run(user, [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-sync", "--no-instructions"])
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stdout}\n{r.stderr}")
        port = _free_port()
        opts = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c max_connections=50 "
                f"-c fsync={'on' if fsync else 'off'} -c full_page_writes={'on' if fsync else 'off'}")
        r = _run(user, [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60",
                        "start"])
        if r.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {r.stdout}\n{r.stderr}\n{tail}")
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            _run(user, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server at ``server_url``; return its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY')  # type: ignore[arg-type]
    return url.set(database=name).render_as_string(hide_password=False)


_db_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server for the whole session: ``$TRADINGSYSTEM_TEST_PG_URL`` if set, else a
    private server started here (the test skips when the server binaries are missing)."""
    env = os.environ.get("TRADINGSYSTEM_TEST_PG_URL")
    if env:
        yield env
        return
    try:
        find_pg_bin()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    with start_postgres() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the session's server (one per test)."""
    return create_database(postgres_server, f"ts_test_{os.getpid()}_{next(_db_counter)}")
