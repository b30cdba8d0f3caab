"""Storage adapter: the recorder (write-ahead log to hive-partitioned Parquet), the DuckDB catalog,
importers of B3 files and incremental, encrypted backups to a folder, S3 or rclone. Bars are built by the
one bar engine, ``features.bars``."""

from tradingsystem.adapters.storage.backup import BackupReport, VerifyReport, verify_catalog
from tradingsystem.adapters.storage.catalog import Catalog, compact_partition
from tradingsystem.adapters.storage.config import StorageConfig
from tradingsystem.adapters.storage.importers import FORMATS, ImportReport, import_file
from tradingsystem.adapters.storage.ingest import RecoveryReport, recover
from tradingsystem.adapters.storage.recorder import Recorder, RecorderStats
from tradingsystem.adapters.storage.remote import Remote, RemoteOptions, open_remote
from tradingsystem.adapters.storage.schema import SCHEMA_VERSION, SCHEMAS, StorageError
from tradingsystem.adapters.storage.snapshot import Sealer, Sources, backup, prune, restore, verify_backup

__all__ = [
    "FORMATS",
    "SCHEMAS",
    "SCHEMA_VERSION",
    "BackupReport",
    "Catalog",
    "ImportReport",
    "Recorder",
    "RecorderStats",
    "RecoveryReport",
    "Remote",
    "RemoteOptions",
    "Sealer",
    "Sources",
    "StorageConfig",
    "StorageError",
    "VerifyReport",
    "backup",
    "compact_partition",
    "import_file",
    "open_remote",
    "prune",
    "recover",
    "restore",
    "verify_backup",
    "verify_catalog",
]
