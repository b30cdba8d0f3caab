"""Live signals: streaming features into a fitted model, published as :class:`SignalEvent` on the bus.

A :class:`SignalPublisher` subscribes to one instrument's bars, feeds each bar to a feature stream (the
online form of the feature set the model was trained on), and once every input the model needs is
finite, scores the row and publishes a :class:`SignalEvent` on ``topic``. Rows with a NaN input (warm-up)
publish nothing, nor do rows a sequence model answers with None (its window is still
filling). The model scores a single row with the same arithmetic as a batch, so a replay gives
exactly the offline predictions. A feature set that names alternative-data columns gets them from
``alt``, called with each bar's ``ts_event`` (``runtime.altdata.LiveAltData``: the store as of that time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from math import isfinite
from typing import Protocol

import msgspec
import numpy as np

from tradingsystem.domain.events import Bar

__all__ = ["SIGNAL_TOPIC", "FeatureSource", "SignalEvent", "SignalModelLike", "SignalPublisher"]

SIGNAL_TOPIC = "signals"


class SignalEvent(msgspec.Struct, frozen=True, gc=False):
    """A model's call at a bar close: ``direction`` +1 up / -1 down, ``probability`` of up, ``confidence``."""

    symbol: str
    direction: int
    probability: float
    confidence: float
    model_id: str
    ts_event: int
    ts_init: int

    @property
    def value(self) -> float:
        """The score centred on 0, ``probability - 0.5`` (what ``strategies.ml_signal`` reads)."""
        return self.probability - 0.5


class SignalModelLike(Protocol):
    """What the publisher needs from a model (``tradingsystem.ml.SignalModel`` fits)."""

    @property
    def names(self) -> tuple[str, ...]: ...

    def predict_one(self, x: np.ndarray) -> tuple[int, float, float] | None: ...


class FeatureSource(Protocol):
    """A streaming feature set (``tradingsystem.features.FeatureStream`` fits)."""

    def update(self, x: Bar, alt: Mapping[str, float] | None = None) -> dict[str, float] | None: ...


class _Bus(Protocol):
    def publish(self, topic: str, message: object) -> None: ...


class _BarSource(Protocol):
    def subscribe_bars(self, symbol: str, handler: Callable[[Bar], None]) -> None: ...


class SignalPublisher:
    """Bars in, :class:`SignalEvent` out; see the module docstring."""

    def __init__(self, symbol: str, features: FeatureSource, model: SignalModelLike, model_id: str, bus: _Bus,
                 topic: str = SIGNAL_TOPIC, clock: Callable[[], int] | None = None,
                 alt: Callable[[int], Mapping[str, float]] | None = None) -> None:  # fmt: skip
        self.symbol = symbol
        self.alt = alt  # alternative-data values known at a bar's ts_event (the feature set's alt_inputs)
        self.features = features
        self.model = model
        self.model_id = model_id
        self.bus = bus
        self.topic = topic
        self.clock = clock
        self.names: Sequence[str] = tuple(model.names)
        self.published = 0
        self.skipped = 0
        self._x = np.empty(len(self.names), dtype=np.float64)

    def attach(self, data: _BarSource) -> None:
        """Subscribe to ``symbol``'s bars on a data engine (``kernel.data``)."""
        data.subscribe_bars(self.symbol, self.on_bar)

    def on_bar(self, bar: Bar) -> None:
        """Feed one bar of ``symbol``; publish a signal when every model input is ready."""
        if bar.symbol != self.symbol:
            return
        row = self.features.update(bar, self.alt(bar.ts_event)) if self.alt else self.features.update(bar)
        if row is None:
            self.skipped += 1
            return
        event = self.score(row, bar.ts_event)
        if event is None:
            self.skipped += 1
            return
        self.published += 1
        self.bus.publish(self.topic, event)

    def score(self, row: Mapping[str, float], ts_event: int) -> SignalEvent | None:
        """The signal for one feature row, or None if an input is missing or not finite."""
        x = self._x
        for i, name in enumerate(self.names):
            v = row.get(name)
            if v is None or not isfinite(v):
                return None
            x[i] = v
        out = self.model.predict_one(x)
        if out is None:  # a sequence model still filling its window
            return None
        direction, prob, conf = out
        ts_init = self.clock() if self.clock is not None else ts_event
        return SignalEvent(self.symbol, direction, prob, conf, self.model_id, ts_event, ts_init)
