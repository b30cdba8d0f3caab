"""Feature library: indicators (streaming and batch), order flow, book features, bars, multi-timeframe,
the indicator expression language and feature sets. See ``docs/features.md``."""

from tradingsystem.features.bars import (
    BAR_COLUMNS,
    BarBuilder,
    FlowBar,
    TimeBuckets,
    bars_from_trades,
    bars_to_columns,
    parse_timeframe,
    session_ids,
)
from tradingsystem.features.book import BOOK_COLUMNS, BookFeatures, book_features
from tradingsystem.features.core import Indicator, TalibIndicator
from tradingsystem.features.custom import RealizedVol, SessionVWAP, ZScore, realized_vol, session_vwap, zscore
from tradingsystem.features.expr_compile import BUILTINS, Plan, StreamProgram
from tradingsystem.features.expr_parse import ExprError, parse
from tradingsystem.features.featureset import INPUT_COLUMNS, FeatureSet, FeatureSetError, FeatureStream
from tradingsystem.features.guards import BarGuard, TradeGuard, bar_keep_mask, trade_keep_mask
from tradingsystem.features.indicators import *  # noqa: F403
from tradingsystem.features.indicators import __all__ as _indicators_all
from tradingsystem.features.mtf import Resampler, align, align_index, resample_bars
from tradingsystem.features.orderflow import FLOW_COLUMNS, TradeFlow, broker_net_flow, trade_flow
from tradingsystem.features.registry import INDICATORS, IndicatorSpec

__all__ = [
    "BAR_COLUMNS", "BOOK_COLUMNS", "BUILTINS", "FLOW_COLUMNS", "INDICATORS", "INPUT_COLUMNS", "BarBuilder",
    "BarGuard", "BookFeatures", "ExprError", "FeatureSet", "FeatureSetError", "FeatureStream", "FlowBar",
    "Indicator", "IndicatorSpec", "Plan", "RealizedVol", "Resampler", "SessionVWAP", "StreamProgram",
    "TalibIndicator", "TimeBuckets", "TradeFlow", "TradeGuard", "ZScore", "align", "align_index",
    "bar_keep_mask", "bars_from_trades", "bars_to_columns", "book_features", "broker_net_flow", "parse",
    "parse_timeframe", "realized_vol", "resample_bars", "session_ids", "session_vwap", "trade_flow",
    "trade_keep_mask", "zscore", *_indicators_all,
]  # fmt: skip
