"""Every indicator: streaming equals batch (hypothesis), TA-Lib agreement, bad input, warm-up."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.features.helpers import load_mt5, random_ohlcv
from tradingsystem.features import INDICATORS, SessionVWAP, session_vwap
from tradingsystem.features.indicators import EMA, MACD, OBV, RSI, ema, macd, mfi, obv
from tradingsystem.features.registry import IndicatorSpec

SPECS = sorted({(s.stream, s.batch, s.inputs, s.params) for s in INDICATORS.values()}, key=lambda t: t[1].__name__)


def _inputs(spec_inputs: tuple[str, ...], cols: dict[str, np.ndarray]) -> list[np.ndarray]:
    out = []
    for name in spec_inputs:
        out.append(cols["session"] if name == "session" else cols[name])
    return out


def _stream(cls, params, arrays) -> np.ndarray:
    ind = cls(*params)
    rows = [ind.update(*[float(a[i]) for a in arrays]) for i in range(len(arrays[0]))]
    k = len(ind.outputs)
    return np.array(rows, dtype=np.float64).reshape(len(arrays[0]), k)


def _batch(fn, params, arrays) -> np.ndarray:
    r = fn(*arrays, *params)
    r = r if isinstance(r, tuple) else (r,)
    return np.column_stack(r).reshape(len(arrays[0]), len(r))


def _small_params(spec_params) -> list:
    return [max(2, d // 3) if isinstance(d, int) else d for _, d in spec_params]


bad = st.sampled_from([math.nan, math.inf, -math.inf])


@st.composite
def series(draw):
    n = draw(st.integers(0, 90))
    seed = draw(st.integers(0, 2**31 - 1))
    cols = random_ohlcv(n, seed)
    cols["session"] = np.repeat(np.arange(3.0), n // 3 + 1)[:n]
    holes = draw(st.lists(st.tuples(st.integers(0, max(n - 1, 0)), st.sampled_from(list(cols)), bad), max_size=4))
    for i, c, v in holes:
        if n and c != "session":
            cols[c][i] = v
    return cols


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s[1].__name__)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cols=series())
def test_stream_equals_batch(spec, cols) -> None:
    cls, fn, inputs, params = spec
    p = _small_params(params)
    arrays = _inputs(inputs, cols)
    s = _stream(cls, p, arrays)
    b = _batch(fn, p, arrays)
    assert s.shape == b.shape
    assert np.array_equal(s, b, equal_nan=True)


def test_catalogue_has_at_least_25_indicators() -> None:
    assert len({s.stream for s in INDICATORS.values()}) >= 25


def _talib_oracle(spec: IndicatorSpec, arrays: list[np.ndarray], params: list) -> tuple[np.ndarray, ...] | None:
    """The TA-Lib call for an indicator, or None where TA-Lib has no such indicator."""
    inst = spec.stream(*params)
    func = getattr(inst, "_func", None)
    if func is None:
        return None
    kwargs = inst._params
    r = getattr(talib, func)(*arrays, **kwargs)
    return r if isinstance(r, tuple) else (r,)


def _agree(ours: np.ndarray, ref: np.ndarray) -> None:
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s[1].__name__)
def test_talib_agreement_random_and_real(spec) -> None:
    cls, fn, inputs, params = spec
    p = [d for _, d in params]
    ispec = next(s for s in INDICATORS.values() if s.stream is cls)
    real = {k: v.astype(np.float64) for k, v in load_mt5("PETR4", rows=6000).items()}
    real["session"] = np.floor((real["ts_open"] / 1e9 - 3 * 3600) / 86400)
    for cols in (random_ohlcv(3000, 7), real):
        cols.setdefault("session", np.zeros(len(cols["close"])))
        arrays = _inputs(inputs, cols)
        ref = _talib_oracle(ispec, arrays, p)
        ours = _batch(fn, p, arrays)
        stream = _stream(cls, p, arrays)
        assert np.array_equal(ours, stream, equal_nan=True)
        if ref is not None:
            for k, r in enumerate(ref):
                _agree(ours[:, k], r)


def test_session_vwap_matches_talib_vwap_within_one_session() -> None:
    cols = random_ohlcv(500, 3)
    ref = talib.VWAP(cols["high"], cols["low"], cols["close"], cols["volume"])
    _agree(session_vwap(cols["high"], cols["low"], cols["close"], cols["volume"]), ref)


def test_session_vwap_resets_each_session_and_waits_for_volume() -> None:
    v = SessionVWAP()
    assert math.isnan(v.update(10, 10, 10, 0, 1))  # no volume yet in the session
    assert not v.ready
    assert v.update(12, 6, 9, 10, 1) == 9.0 and v.ready
    assert v.update(30, 30, 30, 10, 2) == 30.0  # new session starts over


def test_nan_and_inf_are_skipped_not_propagated() -> None:
    x = np.arange(1.0, 41.0)
    dirty = x.copy()
    dirty[[5, 20]] = [np.nan, np.inf]
    e = EMA(5)
    out = [e.update(float(v)) for v in dirty]
    assert e.rejected == 2
    assert not any(math.isnan(o) for o in out[6:])
    assert out[20] == out[19]  # held over the bad step
    clean = ema(x[np.isfinite(dirty)], 5)
    assert out[-1] == clean[-1]


def test_series_shorter_than_warmup() -> None:
    r = RSI(14)
    vals = [r.update(float(v)) for v in range(10)]
    assert not r.ready and all(math.isnan(v) for v in vals)
    assert np.isnan(talib.RSI(np.arange(10.0), 14)).all()
    assert len(ema(np.empty(0), 5)) == 0
    m = macd(np.arange(5.0))
    assert all(np.isnan(a).all() for a in m)
    assert all(math.isnan(v) for v in MACD().value)


def test_zero_volume_is_defined() -> None:
    cols = random_ohlcv(200, 11)
    cols["volume"][:] = 0.0
    assert np.all(obv(cols["close"], cols["volume"]) == 0)
    m = mfi(cols["high"], cols["low"], cols["close"], cols["volume"], 14)
    assert np.all(np.isfinite(m[14:]))
    o = OBV()
    assert o.update(10.0, 0.0) == 0.0 and o.ready


def test_reset_restarts_warmup() -> None:
    e = EMA(3)
    for v in (1.0, 2.0, 3.0, 4.0):
        e.update(v)
    assert e.ready
    e.reset()
    assert not e.ready and math.isnan(e.value)
    assert math.isnan(e.update(1.0)) and not e.ready


@pytest.mark.parametrize("symbol", ["PETR4", "VALE3", "ITUB4", "BBDC4", "BBAS3"])
def test_talib_agreement_on_all_real_b3_bars(symbol: str) -> None:
    cols = {k: v.astype(np.float64) for k, v in load_mt5(symbol).items()}
    assert len(cols["close"]) > 40_000
    for cls, _fn, inputs, params in SPECS:
        ispec = next(s for s in INDICATORS.values() if s.stream is cls)
        if not hasattr(cls(), "_func"):
            continue
        p = [d for _, d in params]
        arrays = _inputs(inputs, cols)
        ref = _talib_oracle(ispec, arrays, p)
        assert ref is not None
        ours = _stream(cls, p, arrays)  # our streaming form against TA-Lib's batch form
        for k, r in enumerate(ref):
            _agree(ours[:, k], r)
