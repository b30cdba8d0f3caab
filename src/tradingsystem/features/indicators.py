"""TA-Lib-backed indicators: a streaming class and a batch function each, equal by construction.

Each class wraps a ``talib.stream`` handle (see :class:`TalibIndicator` for the bad-input policy); each
function runs TA-Lib's batch form under the same policy. Multi-output classes return tuples.
"""

from __future__ import annotations

from tradingsystem.features.core import FloatArray, TalibIndicator, talib_batch

__all__ = [
    "ADX",
    "ATR",
    "CCI",
    "DEMA",
    "EMA",
    "KAMA",
    "MACD",
    "MFI",
    "NATR",
    "OBV",
    "ROC",
    "RSI",
    "SAR",
    "SMA",
    "TEMA",
    "TRIX",
    "WMA",
    "Aroon",
    "BBands",
    "Donchian",
    "Keltner",
    "Max",
    "Min",
    "MinusDI",
    "Momentum",
    "PlusDI",
    "StdDev",
    "Stoch",
    "StochRSI",
    "Sum",
    "UltOsc",
    "WillR",
    "adx",
    "aroon",
    "atr",
    "bbands",
    "cci",
    "dema",
    "donchian",
    "ema",
    "kama",
    "keltner",
    "macd",
    "mfi",
    "minus_di",
    "mom",
    "natr",
    "obv",
    "plus_di",
    "roc",
    "rolling_max",
    "rolling_min",
    "rolling_sum",
    "rsi",
    "sar",
    "sma",
    "stddev",
    "stoch",
    "stochrsi",
    "tema",
    "trix",
    "ultosc",
    "willr",
    "wma",
]


class SMA(TalibIndicator):
    """Simple moving average. ``update(x)``."""

    def __init__(self, period: int = 30) -> None:
        super().__init__("SMA", 1, timeperiod=period)


def sma(x: FloatArray, period: int = 30) -> FloatArray:
    """Batch SMA."""
    return talib_batch("SMA", [x], {"timeperiod": period})[0]


class EMA(TalibIndicator):
    """Exponential moving average, seeded with the SMA of the first ``period`` values. ``update(x)``."""

    def __init__(self, period: int = 30) -> None:
        super().__init__("EMA", 1, timeperiod=period)


def ema(x: FloatArray, period: int = 30) -> FloatArray:
    """Batch EMA."""
    return talib_batch("EMA", [x], {"timeperiod": period})[0]


class WMA(TalibIndicator):
    """Linearly weighted moving average. ``update(x)``."""

    def __init__(self, period: int = 30) -> None:
        super().__init__("WMA", 1, timeperiod=period)


def wma(x: FloatArray, period: int = 30) -> FloatArray:
    """Batch WMA."""
    return talib_batch("WMA", [x], {"timeperiod": period})[0]


class DEMA(TalibIndicator):
    """Double exponential moving average. ``update(x)``."""

    def __init__(self, period: int = 30) -> None:
        super().__init__("DEMA", 1, timeperiod=period)


def dema(x: FloatArray, period: int = 30) -> FloatArray:
    """Batch DEMA."""
    return talib_batch("DEMA", [x], {"timeperiod": period})[0]


class TEMA(TalibIndicator):
    """Triple exponential moving average. ``update(x)``."""

    def __init__(self, period: int = 30) -> None:
        super().__init__("TEMA", 1, timeperiod=period)


def tema(x: FloatArray, period: int = 30) -> FloatArray:
    """Batch TEMA."""
    return talib_batch("TEMA", [x], {"timeperiod": period})[0]


class KAMA(TalibIndicator):
    """Kaufman adaptive moving average. ``update(x)``."""

    def __init__(self, period: int = 30) -> None:
        super().__init__("KAMA", 1, timeperiod=period)


def kama(x: FloatArray, period: int = 30) -> FloatArray:
    """Batch KAMA."""
    return talib_batch("KAMA", [x], {"timeperiod": period})[0]


class TRIX(TalibIndicator):
    """One-bar rate of change (%) of a triple-smoothed EMA. ``update(x)``."""

    def __init__(self, period: int = 30) -> None:
        super().__init__("TRIX", 1, timeperiod=period)


def trix(x: FloatArray, period: int = 30) -> FloatArray:
    """Batch TRIX."""
    return talib_batch("TRIX", [x], {"timeperiod": period})[0]


class MACD(TalibIndicator):
    """MACD line, signal line and histogram.

    Outputs: macd, macdsignal, macdhist. ``update(x)``.
    """

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        super().__init__("MACD", 1, fastperiod=fast, slowperiod=slow, signalperiod=signal)


def macd(x: FloatArray, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Batch MACD."""
    r = talib_batch("MACD", [x], {"fastperiod": fast, "slowperiod": slow, "signalperiod": signal})
    return r[0], r[1], r[2]


class BBands(TalibIndicator):
    """Bollinger bands (upper, middle, lower) at ``nbdev`` population standard deviations.

    Outputs: upperband, middleband, lowerband. ``update(x)``.
    """

    def __init__(self, period: int = 20, nbdev: float = 2.0) -> None:
        super().__init__("BBANDS", 1, timeperiod=period, nbdevup=nbdev, nbdevdn=nbdev)


def bbands(x: FloatArray, period: int = 20, nbdev: float = 2.0) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Batch BBands."""
    r = talib_batch("BBANDS", [x], {"timeperiod": period, "nbdevup": nbdev, "nbdevdn": nbdev})
    return r[0], r[1], r[2]


class StdDev(TalibIndicator):
    """Rolling population standard deviation. ``update(x)``."""

    def __init__(self, period: int = 5) -> None:
        super().__init__("STDDEV", 1, timeperiod=period)


def stddev(x: FloatArray, period: int = 5) -> FloatArray:
    """Batch StdDev."""
    return talib_batch("STDDEV", [x], {"timeperiod": period})[0]


class Sum(TalibIndicator):
    """Rolling sum. ``update(x)``."""

    def __init__(self, period: int = 30) -> None:
        super().__init__("SUM", 1, timeperiod=period)


def rolling_sum(x: FloatArray, period: int = 30) -> FloatArray:
    """Batch Sum."""
    return talib_batch("SUM", [x], {"timeperiod": period})[0]


class Max(TalibIndicator):
    """Rolling maximum. ``update(x)``."""

    def __init__(self, period: int = 30) -> None:
        super().__init__("MAX", 1, timeperiod=period)


def rolling_max(x: FloatArray, period: int = 30) -> FloatArray:
    """Batch Max."""
    return talib_batch("MAX", [x], {"timeperiod": period})[0]


class Min(TalibIndicator):
    """Rolling minimum. ``update(x)``."""

    def __init__(self, period: int = 30) -> None:
        super().__init__("MIN", 1, timeperiod=period)


def rolling_min(x: FloatArray, period: int = 30) -> FloatArray:
    """Batch Min."""
    return talib_batch("MIN", [x], {"timeperiod": period})[0]


class RSI(TalibIndicator):
    """Wilder's relative strength index (0-100). ``update(x)``."""

    def __init__(self, period: int = 14) -> None:
        super().__init__("RSI", 1, timeperiod=period)


def rsi(x: FloatArray, period: int = 14) -> FloatArray:
    """Batch RSI."""
    return talib_batch("RSI", [x], {"timeperiod": period})[0]


class StochRSI(TalibIndicator):
    """Stochastic RSI (fast %K, fast %D).

    Outputs: fastk, fastd. ``update(x)``.
    """

    def __init__(self, period: int = 14, k: int = 5, d: int = 3) -> None:
        super().__init__("STOCHRSI", 1, timeperiod=period, fastk_period=k, fastd_period=d)


def stochrsi(x: FloatArray, period: int = 14, k: int = 5, d: int = 3) -> tuple[FloatArray, FloatArray]:
    """Batch StochRSI."""
    r = talib_batch("STOCHRSI", [x], {"timeperiod": period, "fastk_period": k, "fastd_period": d})
    return r[0], r[1]


class ROC(TalibIndicator):
    """Rate of change in percent. ``update(x)``."""

    def __init__(self, period: int = 10) -> None:
        super().__init__("ROC", 1, timeperiod=period)


def roc(x: FloatArray, period: int = 10) -> FloatArray:
    """Batch ROC."""
    return talib_batch("ROC", [x], {"timeperiod": period})[0]


class Momentum(TalibIndicator):
    """Momentum: x[t] - x[t - period]. ``update(x)``."""

    def __init__(self, period: int = 10) -> None:
        super().__init__("MOM", 1, timeperiod=period)


def mom(x: FloatArray, period: int = 10) -> FloatArray:
    """Batch Momentum."""
    return talib_batch("MOM", [x], {"timeperiod": period})[0]


class ATR(TalibIndicator):
    """Wilder's average true range. ``update(high, low, close)``."""

    def __init__(self, period: int = 14) -> None:
        super().__init__("ATR", 3, timeperiod=period)


def atr(high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14) -> FloatArray:
    """Batch ATR."""
    return talib_batch("ATR", [high, low, close], {"timeperiod": period})[0]


class NATR(TalibIndicator):
    """ATR as a percentage of close. ``update(high, low, close)``."""

    def __init__(self, period: int = 14) -> None:
        super().__init__("NATR", 3, timeperiod=period)


def natr(high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14) -> FloatArray:
    """Batch NATR."""
    return talib_batch("NATR", [high, low, close], {"timeperiod": period})[0]


class ADX(TalibIndicator):
    """Average directional index. ``update(high, low, close)``."""

    def __init__(self, period: int = 14) -> None:
        super().__init__("ADX", 3, timeperiod=period)


def adx(high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14) -> FloatArray:
    """Batch ADX."""
    return talib_batch("ADX", [high, low, close], {"timeperiod": period})[0]


class PlusDI(TalibIndicator):
    """Plus directional indicator (+DI). ``update(high, low, close)``."""

    def __init__(self, period: int = 14) -> None:
        super().__init__("PLUS_DI", 3, timeperiod=period)


def plus_di(high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14) -> FloatArray:
    """Batch PlusDI."""
    return talib_batch("PLUS_DI", [high, low, close], {"timeperiod": period})[0]


class MinusDI(TalibIndicator):
    """Minus directional indicator (-DI). ``update(high, low, close)``."""

    def __init__(self, period: int = 14) -> None:
        super().__init__("MINUS_DI", 3, timeperiod=period)


def minus_di(high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14) -> FloatArray:
    """Batch MinusDI."""
    return talib_batch("MINUS_DI", [high, low, close], {"timeperiod": period})[0]


class Stoch(TalibIndicator):
    """Slow stochastic oscillator (%K, %D).

    Outputs: slowk, slowd. ``update(high, low, close)``.
    """

    def __init__(self, k: int = 5, slow_k: int = 3, d: int = 3) -> None:
        super().__init__("STOCH", 3, fastk_period=k, slowk_period=slow_k, slowd_period=d)


def stoch(
    high: FloatArray, low: FloatArray, close: FloatArray, k: int = 5, slow_k: int = 3, d: int = 3
) -> tuple[FloatArray, FloatArray]:
    """Batch Stoch."""
    r = talib_batch("STOCH", [high, low, close], {"fastk_period": k, "slowk_period": slow_k, "slowd_period": d})
    return r[0], r[1]


class CCI(TalibIndicator):
    """Commodity channel index. ``update(high, low, close)``."""

    def __init__(self, period: int = 14) -> None:
        super().__init__("CCI", 3, timeperiod=period)


def cci(high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14) -> FloatArray:
    """Batch CCI."""
    return talib_batch("CCI", [high, low, close], {"timeperiod": period})[0]


class WillR(TalibIndicator):
    """Williams %R (-100..0). ``update(high, low, close)``."""

    def __init__(self, period: int = 14) -> None:
        super().__init__("WILLR", 3, timeperiod=period)


def willr(high: FloatArray, low: FloatArray, close: FloatArray, period: int = 14) -> FloatArray:
    """Batch WillR."""
    return talib_batch("WILLR", [high, low, close], {"timeperiod": period})[0]


class UltOsc(TalibIndicator):
    """Ultimate oscillator. ``update(high, low, close)``."""

    def __init__(self, p1: int = 7, p2: int = 14, p3: int = 28) -> None:
        super().__init__("ULTOSC", 3, timeperiod1=p1, timeperiod2=p2, timeperiod3=p3)


def ultosc(high: FloatArray, low: FloatArray, close: FloatArray, p1: int = 7, p2: int = 14, p3: int = 28) -> FloatArray:
    """Batch UltOsc."""
    return talib_batch("ULTOSC", [high, low, close], {"timeperiod1": p1, "timeperiod2": p2, "timeperiod3": p3})[0]


class Keltner(TalibIndicator):
    """Keltner channels (upper, middle, lower).

    Outputs: upperband, middleband, lowerband. ``update(high, low, close)``.
    """

    def __init__(self, period: int = 20, atr_period: int = 10, nbdev: float = 2.0) -> None:
        super().__init__("KC", 3, timeperiod=period, atrperiod=atr_period, nbdev=nbdev)


def keltner(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    period: int = 20,
    atr_period: int = 10,
    nbdev: float = 2.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Batch Keltner."""
    r = talib_batch("KC", [high, low, close], {"timeperiod": period, "atrperiod": atr_period, "nbdev": nbdev})
    return r[0], r[1], r[2]


class Aroon(TalibIndicator):
    """Aroon (down, up).

    Outputs: aroondown, aroonup. ``update(high, low)``.
    """

    def __init__(self, period: int = 14) -> None:
        super().__init__("AROON", 2, timeperiod=period)


def aroon(high: FloatArray, low: FloatArray, period: int = 14) -> tuple[FloatArray, FloatArray]:
    """Batch Aroon."""
    r = talib_batch("AROON", [high, low], {"timeperiod": period})
    return r[0], r[1]


class Donchian(TalibIndicator):
    """Donchian channels (upper, middle, lower).

    Outputs: upperband, middleband, lowerband. ``update(high, low)``.
    """

    def __init__(self, period: int = 20) -> None:
        super().__init__("DONCHIAN", 2, timeperiod=period)


def donchian(high: FloatArray, low: FloatArray, period: int = 20) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Batch Donchian."""
    r = talib_batch("DONCHIAN", [high, low], {"timeperiod": period})
    return r[0], r[1], r[2]


class SAR(TalibIndicator):
    """Parabolic SAR. ``update(high, low)``."""

    def __init__(self, acceleration: float = 0.02, maximum: float = 0.2) -> None:
        super().__init__("SAR", 2, acceleration=acceleration, maximum=maximum)


def sar(high: FloatArray, low: FloatArray, acceleration: float = 0.02, maximum: float = 0.2) -> FloatArray:
    """Batch SAR."""
    return talib_batch("SAR", [high, low], {"acceleration": acceleration, "maximum": maximum})[0]


class OBV(TalibIndicator):
    """On-balance volume. ``update(close, volume)``."""

    def __init__(self) -> None:
        super().__init__("OBV", 2)


def obv(close: FloatArray, volume: FloatArray) -> FloatArray:
    """Batch OBV."""
    return talib_batch("OBV", [close, volume], {})[0]


class MFI(TalibIndicator):
    """Money flow index (0-100). ``update(high, low, close, volume)``."""

    def __init__(self, period: int = 14) -> None:
        super().__init__("MFI", 4, timeperiod=period)


def mfi(high: FloatArray, low: FloatArray, close: FloatArray, volume: FloatArray, period: int = 14) -> FloatArray:
    """Batch MFI."""
    return talib_batch("MFI", [high, low, close, volume], {"timeperiod": period})[0]
