"""Storage adapter: the recorder (write-ahead log to hive-partitioned Parquet), the DuckDB catalog,
bars, importers of B3 files and incremental backups."""

from tradingsystem.adapters.storage.backup import (
    BackupReport,
    VerifyReport,
    backup,
    restore,
    verify_backup,
    verify_catalog,
)
from tradingsystem.adapters.storage.bars import BarBuilder, Timeframe, bars_from_trades, resample_bars
from tradingsystem.adapters.storage.catalog import Catalog, compact_partition
from tradingsystem.adapters.storage.config import StorageConfig
from tradingsystem.adapters.storage.importers import FORMATS, ImportReport, import_file
from tradingsystem.adapters.storage.ingest import RecoveryReport, recover
from tradingsystem.adapters.storage.recorder import Recorder, RecorderStats
from tradingsystem.adapters.storage.schema import SCHEMA_VERSION, SCHEMAS, StorageError

__all__ = [
    "FORMATS", "SCHEMAS", "SCHEMA_VERSION", "BackupReport", "BarBuilder", "Catalog", "ImportReport",
    "Recorder", "RecorderStats", "RecoveryReport", "StorageConfig", "StorageError", "Timeframe",
    "VerifyReport", "backup", "bars_from_trades", "compact_partition", "import_file", "recover",
    "resample_bars", "restore", "verify_backup", "verify_catalog",
]
