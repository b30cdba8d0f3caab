"""Compile expressions to one DAG, evaluated either over arrays (batch) or one step at a time (stream).

Both forms run the same operations in the same order, so a stream fed row by row reproduces the batch
columns. Semantics, identical in both forms:

* arithmetic follows IEEE floats, except ``x / 0`` which is NaN;
* comparisons, ``and``, ``or``, ``not`` give 1.0 or 0.0, or NaN when an operand is NaN;
* ``log`` of x <= 0 and ``sqrt`` of x < 0 are NaN; ``max``/``min``/``where`` propagate NaN;
* indicators skip non-finite inputs (see :mod:`tradingsystem.features.core`), so ``ema(rsi(close, 14), 9)``
  starts once the RSI is ready;
* ``lag(x, n)`` is the value n steps ago, ``diff(x, n) = x - lag(x, n)``, ``cumsum(x)`` skips non-finite
  steps, ``crossover(a, b)`` is 1.0 on the step where ``a`` goes from ``<= b`` to ``> b`` (NaN while either
  is NaN; 0.0 when the previous step was NaN); ``crossunder`` mirrors it.
"""

from __future__ import annotations

import difflib
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from math import isfinite
from typing import Any

import numpy as np

from tradingsystem.features.core import NAN, FloatArray, TalibIndicator, carry_forward
from tradingsystem.features.expr_parse import Binary, Call, ExprError, Name, Node, Num, Unary, parse
from tradingsystem.features.registry import INDICATORS, IndicatorSpec

__all__ = ["BUILTINS", "Plan", "StreamProgram"]

#: Built-in functions: name -> (number of series arguments, number of integer parameters).
BUILTINS: dict[str, tuple[int, int]] = {
    "abs": (1, 0), "sign": (1, 0), "log": (1, 0), "sqrt": (1, 0), "exp": (1, 0),
    "max": (2, 0), "min": (2, 0), "where": (3, 0), "lag": (1, 1), "diff": (1, 1), "cumsum": (1, 0),
    "crossover": (2, 0), "crossunder": (2, 0),
}  # fmt: skip
_MAX_PARAM = 100_000


@dataclass(frozen=True, slots=True)
class Op:
    kind: str
    slot: int
    args: tuple[int, ...] = ()
    const: tuple[float, ...] = ()
    spec: IndicatorSpec | None = None
    name: str = ""


class Plan:
    """Compiled expressions over named input columns; later expressions may name earlier ones."""

    def __init__(self, exprs: Mapping[str, str], columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self.n_slots = len(self.columns)
        self.ops: list[Op] = []
        self.consts: dict[int, float] = {}
        self._keys: dict[tuple[Any, ...], int] = {}
        self._scope: dict[str, int] = {c: i for i, c in enumerate(self.columns)}
        self.outputs: dict[str, int] = {}
        for name, text in exprs.items():
            if name in self._scope:
                raise ExprError(f"feature name {name!r} is already a column or feature", name, 0)
            self._text = text
            slot = self._compile(parse(text))
            self.outputs[name] = slot
            self._scope[name] = slot

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.outputs)

    # ---- compilation -------------------------------------------------------------------------------
    def _err(self, msg: str, pos: int) -> ExprError:
        return ExprError(msg, self._text, pos)

    def _add(self, key: tuple[Any, ...], make: Callable[[int], Op | None]) -> int:
        slot = self._keys.get(key)
        if slot is None:
            slot = self.n_slots
            self.n_slots += 1
            op = make(slot)
            if op is not None:
                self.ops.append(op)
            self._keys[key] = slot
        return slot

    def _const(self, value: float) -> int:
        def make(s: int) -> None:
            self.consts[s] = value

        return self._add(("num", value), make)

    def _compile(self, node: Node) -> int:
        if isinstance(node, Num):
            return self._const(node.value)
        if isinstance(node, Name):
            slot = self._scope.get(node.id)
            if slot is None:
                near = difflib.get_close_matches(node.id, list(self._scope), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise self._err(f"unknown name {node.id!r}{hint}", node.pos)
            return slot
        if isinstance(node, Unary):
            a = self._compile(node.arg)
            kind = "neg" if node.op == "-" else "not"
            return self._add((kind, a), lambda s: Op(kind, s, (a,)))
        if isinstance(node, Binary):
            a = self._compile(node.left)
            b = self._compile(node.right)
            op = node.op
            return self._add(("bin", op, a, b), lambda s: Op("bin", s, (a, b), name=op))
        return self._call(node)

    def _int_param(self, node: Node, what: str) -> int:
        if not isinstance(node, Num) or not 1 <= node.value <= _MAX_PARAM or node.value != int(node.value):
            raise self._err(f"{what} must be a whole number from 1 to {_MAX_PARAM}", node.pos)
        return int(node.value)

    def _call(self, node: Call) -> int:
        fn = node.fn
        if fn in BUILTINS:
            n_series, n_int = BUILTINS[fn]
            if node.kwargs:
                raise self._err(f"{fn}() takes no keyword arguments", node.kwargs[0][1].pos)
            if len(node.args) != n_series + n_int:
                raise self._err(f"{fn}() takes {n_series + n_int} arguments, got {len(node.args)}", node.pos)
            args = tuple(self._compile(a) for a in node.args[:n_series])
            ints = tuple(float(self._int_param(a, f"{fn}() period")) for a in node.args[n_series:])
            if fn == "diff":
                lag = self._add(("fn", "lag", args, ints), lambda s: Op("fn", s, args, ints, name="lag"))
                return self._add(("bin", "-", args[0], lag), lambda s: Op("bin", s, (args[0], lag), name="-"))
            return self._add(("fn", fn, args, ints), lambda s: Op("fn", s, args, ints, name=fn))
        spec = INDICATORS.get(fn)
        if spec is None:
            near = difflib.get_close_matches(fn, [*BUILTINS, *INDICATORS], n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise self._err(f"unknown function {fn!r}{hint}", node.pos)
        return self._indicator(node, spec)

    def _indicator(self, node: Call, spec: IndicatorSpec) -> int:
        series = [a for a in node.args if not isinstance(a, Num)]
        nums = [a for a in node.args if isinstance(a, Num)]
        first_num = next((i for i, a in enumerate(node.args) if isinstance(a, Num)), len(node.args))
        if any(not isinstance(a, Num) for a in node.args[first_num:]):
            raise self._err(f"{spec.name}(): series arguments must come before numbers", node.pos)
        if series and len(series) != len(spec.inputs):
            want = ", ".join(spec.inputs)
            raise self._err(f"{spec.name}() takes {len(spec.inputs)} series ({want}) or none", node.pos)
        if len(nums) > len(spec.params):
            raise self._err(f"{spec.name}() takes at most {len(spec.params)} numbers", nums[-1].pos)
        values: dict[str, float] = {p: d for p, d in spec.params}
        where: dict[str, int] = {p: node.pos for p, _ in spec.params}
        given = [p for p, _ in spec.params[: len(nums)]]
        for p, a in zip(given, nums, strict=True):
            values[p] = a.value
            where[p] = a.pos
        for key, val in node.kwargs:
            if key not in values:
                raise self._err(f"{spec.name}() has no parameter {key!r}", val.pos)
            if key in given:
                raise self._err(f"{spec.name}() got {key!r} twice", val.pos)
            if not isinstance(val, Num):
                raise self._err(f"{spec.name}(): {key} must be a number", val.pos)
            values[key] = val.value
            where[key] = val.pos
        params: list[float] = []
        for p, default in spec.params:
            if isinstance(default, int):
                v = values[p]
                if not 1 <= v <= _MAX_PARAM or v != int(v):
                    raise self._err(f"{spec.name}(): {p} must be a whole number from 1 to {_MAX_PARAM}", where[p])
                params.append(int(v))
            else:
                params.append(float(values[p]))
        try:  # let TA-Lib reject bad parameters now, with the position, not at the first bar
            spec.stream(*params)
            spec.batch(*[np.ones(3)] * len(spec.inputs), *params)
        except Exception as exc:
            raise self._err(f"{spec.name}(): invalid parameters {params}: {exc}", node.pos) from exc
        if series:
            args = tuple(self._compile(a) for a in series)
        else:
            args = tuple(self._compile(Name(c, node.pos)) for c in spec.inputs)
        pt = tuple(float(p) for p in params)
        ikey = ("ind", spec.stream, args, pt)
        ind = self._add(ikey, lambda s: Op("ind", s, args, pt, spec=spec))
        if spec.n_outputs == 1:
            return ind
        k = spec.output
        return self._add(("out", ind, k), lambda s: Op("out", s, (ind,), (float(k),)))

    # ---- evaluation --------------------------------------------------------------------------------
    def batch(self, columns: Mapping[str, Any]) -> dict[str, FloatArray]:
        """Evaluate every expression over whole columns; returns one float64 array per output."""
        n = len(next(iter(columns.values()))) if columns else 0
        vals: list[Any] = [None] * self.n_slots
        for i, c in enumerate(self.columns):
            if c not in columns:
                raise KeyError(f"missing input column {c!r}")
            vals[i] = np.asarray(columns[c], dtype=np.float64)
        for s, v in self.consts.items():
            vals[s] = np.full(n, v)
        with np.errstate(all="ignore"):
            for op in self.ops:
                vals[op.slot] = _batch_op(op, vals)
        return {name: vals[s] for name, s in self.outputs.items()}

    def stream(self) -> StreamProgram:
        return StreamProgram(self)


def _shift(a: FloatArray, n: int) -> FloatArray:
    out = np.full(len(a), NAN)
    if n < len(a):
        out[n:] = a[: len(a) - n]
    return out


def _batch_op(op: Op, v: list[Any]) -> Any:
    k = op.kind
    a: Any = v[op.args[0]] if op.args else None
    if k == "neg":
        return -a
    if k == "not":
        return np.where(np.isnan(a), NAN, (a == 0).astype(np.float64))
    if k == "out":
        return v[op.args[0]][int(op.const[0])]
    if k == "ind":
        assert op.spec is not None
        params = [int(p) if isinstance(d, int) else p for p, (_, d) in zip(op.const, op.spec.params, strict=True)]
        return op.spec.batch(*[v[i] for i in op.args], *params)
    b: Any = v[op.args[1]] if len(op.args) > 1 else None
    name = op.name
    if k == "bin":
        if name == "+":
            return a + b
        if name == "-":
            return a - b
        if name == "*":
            return a * b
        if name == "/":
            return np.where(b == 0, NAN, a / b)
        bad = np.isnan(a) | np.isnan(b)
        if name in ("and", "or"):
            r = ((a != 0) & (b != 0)) if name == "and" else ((a != 0) | (b != 0))
        else:
            r = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[name]
        return np.where(bad, NAN, r.astype(np.float64))
    if name == "abs":
        return np.abs(a)
    if name == "sign":
        return np.sign(a)
    if name == "log":
        return np.where(a > 0, np.log(a), NAN)
    if name == "sqrt":
        return np.where(a >= 0, np.sqrt(a), NAN)
    if name == "exp":
        return np.exp(a)
    if name in ("max", "min"):
        return np.maximum(a, b) if name == "max" else np.minimum(a, b)
    if name == "where":
        c = v[op.args[2]]
        return np.where(np.isnan(a), NAN, np.where(a != 0, b, c))
    if name == "lag":
        return _shift(a, int(op.const[0]))
    if name == "cumsum":
        ok = np.isfinite(a)
        return carry_forward(np.cumsum(a[ok]), ok)
    if name in ("crossover", "crossunder"):
        pa, pb = _shift(a, 1), _shift(b, 1)
        hit = (pa <= pb) & (a > b) if name == "crossover" else (pa >= pb) & (a < b)
        return np.where(np.isnan(a) | np.isnan(b), NAN, hit.astype(np.float64))
    raise AssertionError(op)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


_CMP: dict[str, Callable[[float, float], bool]] = {
    "<": lambda x, y: x < y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y, "==": lambda x, y: x == y, "!=": lambda x, y: x != y,
    "and": lambda x, y: x != 0 and y != 0, "or": lambda x, y: x != 0 or y != 0,
}  # fmt: skip


def _stream_op(op: Op, v: list[Any]) -> Callable[[], None]:
    o = op.slot
    k = op.kind
    name = op.name
    a = op.args[0] if op.args else 0
    b = op.args[1] if len(op.args) > 1 else 0
    if k == "neg":

        def f() -> None:
            v[o] = -v[a]
    elif k == "not":

        def f() -> None:
            x = v[a]
            v[o] = NAN if x != x else float(x == 0)
    elif k == "out":
        idx = int(op.const[0])

        def f() -> None:
            v[o] = v[a][idx]
    elif k == "ind":
        assert op.spec is not None
        params = [int(p) if isinstance(d, int) else p for p, (_, d) in zip(op.const, op.spec.params, strict=True)]
        ind = op.spec.stream(*params)
        upd = ind.update
        args = op.args
        if isinstance(ind, TalibIndicator) and len(args) <= 3:
            f = _talib_op(ind, v, o, args)
        elif len(args) == 1:

            def f() -> None:
                v[o] = upd(v[a])
        elif len(args) == 2:

            def f() -> None:
                v[o] = upd(v[a], v[b])
        else:

            def f() -> None:
                v[o] = upd(*[v[i] for i in args])
    elif k == "bin" and name in ("+", "-", "*", "/"):
        if name == "+":

            def f() -> None:
                v[o] = v[a] + v[b]
        elif name == "-":

            def f() -> None:
                v[o] = v[a] - v[b]
        elif name == "*":

            def f() -> None:
                v[o] = v[a] * v[b]
        else:

            def f() -> None:
                y = v[b]
                v[o] = v[a] / y if y != 0 else NAN
    elif k == "bin":
        cmp = _CMP[name]

        def f() -> None:
            x = v[a]
            y = v[b]
            v[o] = NAN if x != x or y != y else float(cmp(x, y))
    else:
        f = _stream_fn(op, v)
    return f


def _talib_op(ind: TalibIndicator, v: list[Any], o: int, args: tuple[int, ...]) -> Callable[[], None]:
    """Fast path: once warm, call the TA-Lib stream handle directly (same skip rule as ``update``)."""
    upd = ind.update
    a = args[0]
    if len(args) == 1:

        def f() -> None:
            h = ind._handle
            x = v[a]
            if h is not None and isfinite(x):
                v[o] = ind.value = h.update(x)
            else:
                v[o] = upd(x)
    elif len(args) == 2:
        b = args[1]

        def f() -> None:
            h = ind._handle
            x, y = v[a], v[b]
            if h is not None and isfinite(x + y):
                v[o] = ind.value = h.update(x, y)
            else:
                v[o] = upd(x, y)
    else:
        b, c = args[1], args[2]

        def f() -> None:
            h = ind._handle
            x, y, z = v[a], v[b], v[c]
            if h is not None and isfinite(x + y + z):
                v[o] = ind.value = h.update(x, y, z)
            else:
                v[o] = upd(x, y, z)

    return f


def _stream_fn(op: Op, v: list[Any]) -> Callable[[], None]:
    o = op.slot
    name = op.name
    a = op.args[0]
    b = op.args[1] if len(op.args) > 1 else 0
    one: dict[str, Callable[[float], float]] = {
        "abs": abs,
        "sign": lambda x: x if x != x else float((x > 0) - (x < 0)),
        "log": lambda x: math.log(x) if x > 0 else NAN,
        "sqrt": lambda x: math.sqrt(x) if x >= 0 else NAN,
        "exp": _exp,
    }
    if name in one:
        g = one[name]

        def f() -> None:
            v[o] = g(v[a])
    elif name in ("max", "min"):
        h = max if name == "max" else min

        def f() -> None:
            x = v[a]
            y = v[b]
            v[o] = NAN if x != x or y != y else h(x, y)
    elif name == "where":
        c = op.args[2]

        def f() -> None:
            x = v[a]
            v[o] = NAN if x != x else (v[b] if x != 0 else v[c])
    elif name == "lag":
        n = int(op.const[0])
        buf: deque[float] = deque(maxlen=n + 1)

        def f() -> None:
            buf.append(v[a])
            v[o] = buf[0] if len(buf) > n else NAN
    elif name == "cumsum":
        acc = [0.0, 0.0]  # running sum, seen-any flag

        def f() -> None:
            x = v[a]
            if math.isfinite(x):
                acc[0] += x
                acc[1] = 1.0
            v[o] = acc[0] if acc[1] else NAN
    else:  # crossover / crossunder
        prev = [NAN, NAN]
        up = name == "crossover"

        def f() -> None:
            x = v[a]
            y = v[b]
            px, py = prev
            prev[0] = x
            prev[1] = y
            if x != x or y != y:
                v[o] = NAN
            elif up:
                v[o] = 1.0 if (px <= py and x > y) else 0.0
            else:
                v[o] = 1.0 if (px >= py and x < y) else 0.0

    return f


class StreamProgram:
    """The streaming form of a :class:`Plan`: ``update(row)`` takes one value per input column."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._n_in = len(plan.columns)
        self._out = list(plan.outputs.values())
        self.reset()

    def reset(self) -> None:
        v: list[Any] = [NAN] * self.plan.n_slots
        for s, c in self.plan.consts.items():
            v[s] = c
        self._v = v
        self._ops = [_stream_op(op, v) for op in self.plan.ops]

    def update(self, row: Sequence[float]) -> list[float]:
        """Advance one step; returns the outputs in the plan's order (NaN where not ready)."""
        v = self._v
        v[: self._n_in] = row
        for f in self._ops:
            f()
        return [v[s] for s in self._out]

    @property
    def values(self) -> dict[str, float]:
        return {n: self._v[s] for n, s in self.plan.outputs.items()}
