"""ML-signal follower: trades the signals a model publishes on the message bus.

It subscribes to the bus topic ``topic`` (default ``"signals"``). A signal is any object (or dict) with
``symbol`` and ``value`` (a score, e.g. an expected return or a probability centred on 0); the ML
pipeline publishes them live, and a backtest replays recorded ones (``backtest.signals.SignalReplay``).
Target: ``+quantity`` when value > ``threshold``, ``-quantity`` when value < -``threshold``, flat in
between when ``flat_inside`` (else hold). Without signals it never trades.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradingsystem.strategies.targets import TargetStrategy

__all__ = ["MlSignalConfig", "MlSignalFollower"]


class MlSignalConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = "WINFUT"
    topic: str = "signals"
    threshold: float = Field(default=0.0, ge=0)
    quantity: int = Field(default=1, gt=0)
    flat_inside: bool = True


class MlSignalFollower(TargetStrategy):
    def __init__(self, config: MlSignalConfig, strategy_id: str = "ml_signal") -> None:
        super().__init__(strategy_id, config.symbol)
        self.cfg = config
        self.signals = 0

    def on_start(self) -> None:
        self.kernel.bus.subscribe(self.cfg.topic, self.on_signal)

    def on_signal(self, signal: Any) -> None:
        if isinstance(signal, dict):
            symbol, value = signal.get("symbol"), signal.get("value")
        else:
            symbol, value = getattr(signal, "symbol", None), getattr(signal, "value", None)
        if symbol != self.symbol:
            return
        value = float(value or 0.0)
        self.signals += 1
        cfg = self.cfg
        if value > cfg.threshold:
            self.set_target(cfg.quantity)
        elif value < -cfg.threshold:
            self.set_target(-cfg.quantity)
        elif cfg.flat_inside:
            self.set_target(0)

    def on_stop(self) -> None:
        self.kernel.bus.unsubscribe(self.cfg.topic, self.on_signal)
