"""The indicator catalogue used by the expression language and feature sets.

Each entry names a streaming class, its batch function, its default input columns, its numeric
parameters with defaults, and which output it yields (multi-output indicators get one name per output).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tradingsystem.features import custom as C
from tradingsystem.features import indicators as I
from tradingsystem.features.core import Indicator

__all__ = ["INDICATORS", "IndicatorSpec"]


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One callable name in the expression language."""

    name: str
    stream: Callable[..., Indicator]
    batch: Callable[..., Any]
    inputs: tuple[str, ...]
    params: tuple[tuple[str, float], ...]
    output: int = 0
    n_outputs: int = 1
    doc: str = ""

    def param_kinds(self) -> tuple[bool, ...]:
        """True where a parameter must be an integer."""
        return tuple(isinstance(d, int) for _, d in self.params)


_X = ("close",)
_HLC = ("high", "low", "close")
_HL = ("high", "low")


def _specs() -> dict[str, IndicatorSpec]:
    table: list[tuple[str, Any, Any, tuple[str, ...], tuple[tuple[str, float], ...], int, int]] = [
        ("sma", I.SMA, I.sma, _X, (("period", 30),), 0, 1),
        ("ema", I.EMA, I.ema, _X, (("period", 30),), 0, 1),
        ("wma", I.WMA, I.wma, _X, (("period", 30),), 0, 1),
        ("dema", I.DEMA, I.dema, _X, (("period", 30),), 0, 1),
        ("tema", I.TEMA, I.tema, _X, (("period", 30),), 0, 1),
        ("kama", I.KAMA, I.kama, _X, (("period", 30),), 0, 1),
        ("trix", I.TRIX, I.trix, _X, (("period", 30),), 0, 1),
        ("rsi", I.RSI, I.rsi, _X, (("period", 14),), 0, 1),
        ("roc", I.ROC, I.roc, _X, (("period", 10),), 0, 1),
        ("mom", I.Momentum, I.mom, _X, (("period", 10),), 0, 1),
        ("stddev", I.StdDev, I.stddev, _X, (("period", 5),), 0, 1),
        ("rolling_sum", I.Sum, I.rolling_sum, _X, (("period", 30),), 0, 1),
        ("rolling_max", I.Max, I.rolling_max, _X, (("period", 30),), 0, 1),
        ("rolling_min", I.Min, I.rolling_min, _X, (("period", 30),), 0, 1),
        ("zscore", C.ZScore, C.zscore, _X, (("period", 20),), 0, 1),
        ("realized_vol", C.RealizedVol, C.realized_vol, _X, (("period", 20),), 0, 1),
        ("atr", I.ATR, I.atr, _HLC, (("period", 14),), 0, 1),
        ("natr", I.NATR, I.natr, _HLC, (("period", 14),), 0, 1),
        ("adx", I.ADX, I.adx, _HLC, (("period", 14),), 0, 1),
        ("plus_di", I.PlusDI, I.plus_di, _HLC, (("period", 14),), 0, 1),
        ("minus_di", I.MinusDI, I.minus_di, _HLC, (("period", 14),), 0, 1),
        ("cci", I.CCI, I.cci, _HLC, (("period", 14),), 0, 1),
        ("willr", I.WillR, I.willr, _HLC, (("period", 14),), 0, 1),
        ("ultosc", I.UltOsc, I.ultosc, _HLC, (("p1", 7), ("p2", 14), ("p3", 28)), 0, 1),
        ("sar", I.SAR, I.sar, _HL, (("acceleration", 0.02), ("maximum", 0.2)), 0, 1),
        ("obv", I.OBV, I.obv, ("close", "volume"), (), 0, 1),
        ("mfi", I.MFI, I.mfi, ("high", "low", "close", "volume"), (("period", 14),), 0, 1),
        ("vwap", C.SessionVWAP, C.session_vwap, ("high", "low", "close", "volume", "session"), (), 0, 1),
    ]
    multi: list[tuple[str, Any, Any, tuple[str, ...], tuple[tuple[str, float], ...], tuple[str, ...]]] = [
        ("macd", I.MACD, I.macd, _X, (("fast", 12), ("slow", 26), ("signal", 9)), ("", "_signal", "_hist")),
        ("bb", I.BBands, I.bbands, _X, (("period", 20), ("nbdev", 2.0)), ("_upper", "_middle", "_lower")),
        ("stochrsi", I.StochRSI, I.stochrsi, _X, (("period", 14), ("k", 5), ("d", 3)), ("_k", "_d")),
        ("stoch", I.Stoch, I.stoch, _HLC, (("k", 5), ("slow_k", 3), ("d", 3)), ("_k", "_d")),
        ("aroon", I.Aroon, I.aroon, _HL, (("period", 14),), ("_down", "_up")),
        ("donchian", I.Donchian, I.donchian, _HL, (("period", 20),), ("_upper", "_middle", "_lower")),
        (
            "keltner",
            I.Keltner,
            I.keltner,
            _HLC,
            (("period", 20), ("atr_period", 10), ("nbdev", 2.0)),
            ("_upper", "_middle", "_lower"),
        ),
    ]
    out: dict[str, IndicatorSpec] = {}
    for name, cls, fn, ins, ps, k, n in table:
        out[name] = IndicatorSpec(name, cls, fn, ins, ps, k, n, (cls.__doc__ or "").split("\n")[0])
    for name, cls, fn, ins, ps, suffixes in multi:
        for k, suf in enumerate(suffixes):
            out[name + suf] = IndicatorSpec(
                name + suf, cls, fn, ins, ps, k, len(suffixes), (cls.__doc__ or "").split("\n")[0]
            )
    return out


INDICATORS: dict[str, IndicatorSpec] = _specs()
