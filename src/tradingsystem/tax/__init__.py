"""Brazilian income tax on B3 trading for individuals: classification, results, carry-forward, IRRF, DARF.

Pure rules (no configuration or environment reading); the CLI in ``runtime.cli_tax`` passes paths.
"""

from tradingsystem.tax.calendar import bank_holidays, darf_due_date, darf_due_note, is_bank_day, last_bank_day
from tradingsystem.tax.importer import FILL_COLUMNS, FillImportError, read_fills, read_settlements
from tradingsystem.tax.ledger import Ledger, PositionLine, SwingSale, daily_ajustes
from tradingsystem.tax.model import (
    DEFAULT_CLASSES,
    Bucket,
    ClassificationError,
    MarketClass,
    Realisation,
    Side,
    TaxFill,
    asset_key,
    classify,
)
from tradingsystem.tax.monthly import DARF_CODE, MonthResult, Opening, compute_months
from tradingsystem.tax.output import report_json, write_report
from tradingsystem.tax.report import AnnualSummary, TaxReport, build_report

__all__ = [
    "DARF_CODE", "DEFAULT_CLASSES", "FILL_COLUMNS", "AnnualSummary", "Bucket", "ClassificationError",
    "FillImportError", "Ledger", "MarketClass", "MonthResult", "Opening", "PositionLine", "Realisation", "Side",
    "SwingSale", "TaxFill", "TaxReport", "asset_key", "bank_holidays", "build_report", "classify",
    "compute_months", "daily_ajustes", "darf_due_date", "darf_due_note", "is_bank_day", "last_bank_day", "read_fills",
    "read_settlements", "report_json", "write_report",
]
