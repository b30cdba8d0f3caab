"""The expression language: parsing, error positions, no eval, streaming equals batch for any expression."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.features.helpers import random_ohlcv
from tradingsystem.features import INDICATORS, ExprError, Plan, parse
from tradingsystem.features.expr_parse import Binary, Call, Name, Num

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")

COLUMNS = ("open", "high", "low", "close", "volume", "session", "cvd")


def _cols(n: int, seed: int) -> dict[str, np.ndarray]:
    c = random_ohlcv(n, seed)
    c["session"] = np.repeat(np.arange(4.0), n // 4 + 1)[:n]
    c["cvd"] = np.cumsum(np.random.default_rng(seed).integers(-50, 50, n)).astype(np.float64)
    return c


def _check(exprs: dict[str, str], cols: dict[str, np.ndarray]) -> None:
    plan = Plan(exprs, COLUMNS)
    batch = plan.batch(cols)
    prog = plan.stream()
    rows = np.array([prog.update([float(cols[c][i]) for c in COLUMNS]) for i in range(len(cols["close"]))])
    rows = rows.reshape(len(cols["close"]), len(exprs))
    for k, name in enumerate(plan.names):
        assert np.array_equal(rows[:, k], batch[name], equal_nan=True), (name, exprs[name])


def test_issue_examples() -> None:
    cols = _cols(400, 1)
    _check(
        {
            "a": "ema(close, 9) - ema(close, 21)",
            "b": "zscore(cvd, 300)",
            "c": "crossover(a, ema(close, 30))",
            "d": "crossunder(ema(close, 5), sma(close, 20))",
            "e": "macd_hist(close, 12, 26, 9) > 0 and rsi(close) < 70 or not (close > open)",
            "f": "bb_upper(close, period=20, nbdev=2.5) - bb_lower(close, 20, 2.5)",
            "g": "where(volume > 0, (close - vwap()) / atr(14), 0)",
            "h": "diff(close, 1) / lag(close, 1) + cumsum(sign(close - open))",
            "i": "log(close) - sqrt(abs(close - open)) + exp(-1) * max(a, 0) - min(high, 1e9)",
            "j": "stoch_k(5, 3, 3) + stochrsi_d(close) + aroon_up(14) - keltner_lower() + donchian_middle(10)",
        },
        cols,
    )


def test_shared_subexpressions_are_computed_once() -> None:
    plan = Plan({"a": "ema(close, 9) - ema(close, 21)", "b": "ema(close, 9) + 1"}, COLUMNS)
    kinds = [op.kind for op in plan.ops]
    assert kinds.count("ind") == 2
    macd = Plan({"m": "macd(close)", "s": "macd_signal(close)"}, COLUMNS)
    assert [op.kind for op in macd.ops].count("ind") == 1


@pytest.mark.parametrize(
    ("text", "pos", "words"),
    [
        ("ema(close, 9) -", 15, "found end of text"),
        ("emaa(close, 9)", 0, "unknown function 'emaa' (did you mean 'ema'?)"),
        ("ema(clse, 9)", 4, "unknown name 'clse'"),
        ("ema(close 9)", 10, "expected ',' or ')'"),
        ("1 + $", 4, "unexpected character '$'"),
        ("ema(close, 9.5)", 11, "whole number"),
        ("rsi(close, period=0)", 18, "whole number"),
        ("ema(close, 9", 12, "expected ',' or ')'"),
        ("(close + 1", 10, "expected ')'"),
        ("close close", 6, "unexpected 'close'"),
        ("__import__('os')", 11, "unexpected character"),
        ("lag(close)", 0, "takes 2 arguments"),
        ("atr(close, 14)", 0, "takes 3 series"),
        ("ema(close, foo=3)", 15, "no parameter 'foo'"),
        ("", 0, "empty expression"),
        ("ema(close, 1e999)", 11, "whole number"),
        ("lag(close, 1e999)", 11, "whole number"),
        ("sar(high, low, -1, 0.2)", 0, "invalid parameters"),
    ],
)
def test_errors_point_at_the_position(text: str, pos: int, words: str) -> None:
    with pytest.raises(ExprError) as info:
        Plan({"f": text}, COLUMNS)
    assert info.value.pos == pos, str(info.value)
    assert words in str(info.value)
    assert str(info.value).splitlines()[-1].index("^") - 2 == pos


def test_no_python_evaluation() -> None:
    for text in ("close.__class__", "open('x')", "exec", "lambda: 1"):
        with pytest.raises(ExprError):
            Plan({"f": text}, COLUMNS)
    assert parse("a and not b") == Binary("and", Name("a", 0), parse("not b").__class__("not", Name("b", 10), 6), 2)
    assert isinstance(parse("f(1, x=2)"), Call)
    assert parse("-3") == Num(-3.0, 0)


def test_division_by_zero_and_domain_errors_are_nan_in_both_forms() -> None:
    cols = _cols(30, 2)
    cols["volume"][:] = 0.0
    _check({"a": "close / volume", "b": "log(volume)", "c": "sqrt(volume - 1)", "d": "exp(close * 100)"}, cols)
    out = Plan({"a": "close / volume"}, COLUMNS).batch(cols)["a"]
    assert np.isnan(out).all()


# ---- random expressions --------------------------------------------------------------------------
SINGLE = sorted(n for n, s in INDICATORS.items() if s.inputs == ("close",))
MULTI = sorted(n for n, s in INDICATORS.items() if s.inputs != ("close",))


def _leaf() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(COLUMNS),
        st.floats(-50, 50, allow_nan=False).map(lambda v: repr(round(v, 2))),
    )


def _not_number(text: str) -> bool:
    return not isinstance(parse(text), Num)


def _expr(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    period = st.integers(2, 12).map(str)
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", ">", "<=", "==", "and", "or"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(SINGLE), children.filter(_not_number), period).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(st.sampled_from(MULTI), period).map(
            lambda t: f"{t[0]}({t[1]})" if INDICATORS[t[0]].params else f"{t[0]}()"
        ),
        st.tuples(st.sampled_from(["abs", "sign", "log", "sqrt", "cumsum"]), children).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
        st.tuples(st.sampled_from(["-", "not "]), children).map(  # unary operators bind looser than +: wrap
            lambda t: f"({t[0]}({t[1]}))"
        ),
        st.tuples(st.sampled_from(["max", "min", "crossover", "crossunder"]), children, children).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(st.sampled_from(["lag", "diff"]), children, st.integers(1, 4)).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(children, children, children).map(lambda t: f"where({t[0]}, {t[1]}, {t[2]})"),
    )


expressions = st.recursive(_leaf(), _expr, max_leaves=6)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=expressions, n=st.integers(0, 70), seed=st.integers(0, 1000), holes=st.integers(0, 3))
def test_any_expression_streams_like_batch(text: str, n: int, seed: int, holes: int) -> None:
    cols = _cols(n, seed)
    rng = np.random.default_rng(seed)
    for _ in range(holes if n else 0):
        cols["close"][rng.integers(0, n)] = [math.nan, math.inf, -math.inf][rng.integers(0, 3)]
    _check({"f": text}, cols)
