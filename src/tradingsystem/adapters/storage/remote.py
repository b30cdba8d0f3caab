"""Where backups go: a local folder, any S3-compatible store, or an rclone remote.

Each store holds opaque objects under string keys (``objects/ab/abcd…``, ``manifest``). The three
speak the same five operations so the backup code never knows which one it talks to:
``put`` (a local file), ``write`` (bytes), ``read``, ``keys`` (under a prefix) and ``delete``.

Targets, as the CLI and config spell them:
- ``/path/to/dir`` or ``file:///path``: a local folder;
- ``s3://bucket/prefix``: boto3, credentials from the usual AWS variables or profile, an endpoint
  URL for B2, R2 or MinIO;
- ``rclone:remote:path``: Debian's ``rclone`` binary with the user's rclone configuration
  (Google Drive, OneDrive, SFTP, WebDAV …).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tradingsystem.adapters.storage.parts import fsync_dir
from tradingsystem.adapters.storage.schema import StorageError


class Remote(Protocol):
    """An object store for backups."""

    name: str

    def put(self, key: str, src: Path) -> None: ...
    def write(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes | None: ...
    def keys(self, prefix: str) -> set[str]: ...
    def delete(self, key: str) -> None: ...


class LocalRemote:
    """A folder; writes go through a temporary name, fsync and rename."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.name = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def write(self, key: str, data: bytes) -> None:
        dst = self._path(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
        fsync_dir(dst.parent)

    def put(self, key: str, src: Path) -> None:
        self.write(key, Path(src).read_bytes())

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"{self._path(key)}: unreadable ({exc})") from exc

    def keys(self, prefix: str) -> set[str]:
        base = self._path(prefix)
        if not base.exists():
            return set()
        return {p.relative_to(self.root).as_posix() for p in base.rglob("*")
                if p.is_file() and not p.name.startswith(".")}

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Remote:
    """An S3 bucket and prefix through boto3 (AWS, Backblaze B2, Cloudflare R2, MinIO)."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:  # pragma: no cover - boto3 is a dependency
            raise StorageError("S3 backups need boto3 (pip install boto3)") from exc
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.name = f"s3://{bucket}/{self.prefix}"
        cfg = Config(retries={"max_attempts": 5, "mode": "standard"})
        self._s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region or "us-east-1", config=cfg)
        self._errors = _boto_errors()

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def write(self, key: str, data: bytes) -> None:
        try:
            self._s3.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except self._errors as exc:
            raise StorageError(f"{self.name}: cannot write {key} ({exc})") from exc

    def put(self, key: str, src: Path) -> None:
        self.write(key, Path(src).read_bytes())

    def read(self, key: str) -> bytes | None:
        try:
            obj = self._s3.get_object(Bucket=self.bucket, Key=self._key(key))
            body: bytes = obj["Body"].read()
            return body
        except self._errors as exc:
            if _s3_missing(exc):
                return None
            raise StorageError(f"{self.name}: cannot read {key} ({exc})") from exc

    def keys(self, prefix: str) -> set[str]:
        out: set[str] = set()
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                       Prefix=self._key(prefix))
            for page in pages:
                out.update(o["Key"][strip:] for o in page.get("Contents", []))
        except self._errors as exc:
            raise StorageError(f"{self.name}: cannot list {prefix} ({exc})") from exc
        return out

    def delete(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=self._key(key))
        except self._errors as exc:
            raise StorageError(f"{self.name}: cannot delete {key} ({exc})") from exc


def _boto_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError
    return (BotoCoreError, ClientError)


def _s3_missing(exc: BaseException) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code in ("NoSuchKey", "404", "NotFound")


class RcloneRemote:
    """Any rclone remote (``remote:path``), driven through the ``rclone`` command."""

    def __init__(self, path: str, binary: str = "rclone", extra_args: tuple[str, ...] = ()) -> None:
        if shutil.which(binary) is None:
            raise StorageError(f"rclone backups need the {binary!r} command (apt-get install rclone)")
        self.path, self.binary, self.extra = path.rstrip("/"), binary, extra_args
        self.name = f"rclone:{self.path}"

    def _run(self, *args: str, data: bytes | None = None, ok_missing: bool = False) -> bytes | None:
        cmd = [self.binary, *self.extra, *args]
        proc = subprocess.run(cmd, input=data, capture_output=True, check=False, timeout=600)
        if proc.returncode == 0:
            return proc.stdout
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        if ok_missing and proc.returncode in (3, 4):  # directory / file not found
            return None
        raise StorageError(f"{self.name}: rclone {args[0]} failed ({msg[-1] if msg else proc.returncode})")

    def _remote(self, key: str) -> str:
        return f"{self.path}/{key}"

    def write(self, key: str, data: bytes) -> None:
        self._run("rcat", self._remote(key), data=data)

    def put(self, key: str, src: Path) -> None:
        self._run("copyto", str(src), self._remote(key))

    def read(self, key: str) -> bytes | None:
        return self._run("cat", self._remote(key), ok_missing=True)

    def keys(self, prefix: str) -> set[str]:
        out = self._run("lsf", "-R", "--files-only", self._remote(prefix), ok_missing=True)
        if out is None:
            return set()
        base = prefix.rstrip("/")
        return {f"{base}/{line}" for line in out.decode().splitlines() if line}

    def delete(self, key: str) -> None:
        self._run("deletefile", self._remote(key), ok_missing=True)


@dataclass(frozen=True)
class RemoteOptions:
    """Settings a target string does not carry."""

    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    rclone_binary: str = "rclone"


def open_remote(target: str, options: RemoteOptions | None = None) -> Remote:
    """The store a target string names (see the module docstring)."""
    opts = options or RemoteOptions()
    if target.startswith("s3://"):
        bucket, _, prefix = target[5:].partition("/")
        if not bucket:
            raise StorageError(f"{target}: an S3 target needs a bucket (s3://bucket/prefix)")
        return S3Remote(bucket, prefix, opts.s3_endpoint_url, opts.s3_region)
    if target.startswith("rclone:"):
        path = target[len("rclone:"):]
        if ":" not in path:
            raise StorageError(f"{target}: an rclone target is rclone:REMOTE:PATH")
        return RcloneRemote(path, opts.rclone_binary)
    if "://" in target and not target.startswith("file://"):
        raise StorageError(f"{target}: unknown backup target (a folder, s3://bucket/prefix or rclone:remote:path)")
    return LocalRemote(Path(target.removeprefix("file://")))


def describe(remote: Remote) -> dict[str, Any]:
    return {"remote": remote.name, "kind": type(remote).__name__.removesuffix("Remote").lower()}


__all__ = ["LocalRemote", "RcloneRemote", "Remote", "RemoteOptions", "S3Remote", "describe", "open_remote"]
