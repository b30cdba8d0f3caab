"""Storage adapter: the recorder (write-ahead log to hive-partitioned Parquet), the DuckDB catalog,
importers of B3 files and incremental backups."""

from tradingsystem.adapters.storage.backup import (
    BackupReport,
    VerifyReport,
    backup,
    restore,
    verify_backup,
    verify_catalog,
)
from tradingsystem.adapters.storage.catalog import Catalog, compact_partition
from tradingsystem.adapters.storage.config import StorageConfig
from tradingsystem.adapters.storage.importers import FORMATS, ImportReport, import_file
from tradingsystem.adapters.storage.ingest import RecoveryReport, recover
from tradingsystem.adapters.storage.recorder import Recorder, RecorderStats
from tradingsystem.adapters.storage.schema import SCHEMA_VERSION, SCHEMAS, StorageError

__all__ = [
    "FORMATS", "SCHEMAS", "SCHEMA_VERSION", "BackupReport", "Catalog", "ImportReport",
    "Recorder", "RecorderStats", "RecoveryReport", "StorageConfig", "StorageError",
    "VerifyReport", "backup", "compact_partition", "import_file", "recover",
    "restore", "verify_backup", "verify_catalog",
]
