"""Manual controls for remote channels, run on the engine thread through ``call_soon_threadsafe``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from tradingsystem.engine.kernel import Kernel

__all__ = ["KernelControl"]

T = TypeVar("T")


class KernelControl:
    """``TradingControl`` over a kernel. Reads and the kill switch run on the engine thread; a caller
    waits at most ``timeout`` seconds for the answer (a queued kill still runs when the engine drains)."""

    def __init__(self, kernel: Kernel, timeout: float = 5.0) -> None:
        self.kernel = kernel
        self.timeout = timeout

    def _ask(self, fn: Callable[[], T]) -> tuple[bool, T | None]:
        done = threading.Event()
        box: list[Any] = []

        def task() -> None:
            try:
                box.append(fn())
            except Exception as exc:  # report, never raise on the engine thread
                box.append(exc)
            done.set()

        self.kernel.call_soon_threadsafe(task)
        if not done.wait(self.timeout):
            return False, None
        if isinstance(box[0], Exception):
            raise box[0]
        return True, box[0]

    def status(self) -> str:
        ok, snap = self._ask(self._status_text)
        return snap if ok and snap is not None else f"The engine did not answer within {self.timeout:g}s."

    def pnl(self) -> str:
        ok, text = self._ask(self._pnl_text)
        return text if ok and text is not None else f"The engine did not answer within {self.timeout:g}s."

    def kill(self, reason: str) -> str:
        k = self.kernel
        ok, result = self._ask(lambda: k.manual_action("telegram", "kill", reason, lambda: k.guard.kill(reason)))
        if not ok or result is None:
            return "Kill switch queued: the engine has not run it yet."
        return (f"Kill switch engaged: {reason}. Cancelled {result['cancelled']} order(s), "
                f"sent {result['flatten_orders']} flatten order(s).")

    def resume(self, symbol: str | None) -> str:
        k = self.kernel
        try:
            ok, result = self._ask(lambda: k.manual_action("telegram", "resume", f"symbol={symbol or 'all'}",
                                                           lambda: k.resume_strategies(symbol, "telegram")))
        except KeyError as exc:
            return f"Not resumed: {exc.args[0]}."
        if not ok or result is None:
            return "Resume queued: the engine has not run it yet."
        if result["resumed"] == "none":
            return "Nothing was paused" + (f" on {symbol}." if symbol else ".")
        return f"Strategies resumed on {result['resumed']}."

    # --- engine thread -------------------------------------------------------------------------
    def _status_text(self) -> str:
        g = self.kernel.guard.status()
        summary = self.kernel.summary()
        lines = [f"state: {g['trading_state']}" + (f" ({g['reason']})" if g["reason"] else "")]
        if g["kill_switch"]:
            lines.append(f"kill switch: {g['kill_reason']}")
        breakers = g["breakers"]
        if isinstance(breakers, dict):
            lines += [f"breaker {n}: {b['state']} {b['reason']}".rstrip() for n, b in breakers.items()
                      if b["state"] != "closed"]
        paused = g.get("paused")
        if isinstance(paused, dict) and paused:
            lines += [f"strategies paused on {sym}: {why} (/resume {sym})" for sym, why in paused.items()]
        positions = {s: q for s, q in summary["positions"].items() if q}
        lines.append(f"positions: {positions or 'flat'}")
        lines.append(f"working orders: {len(self.kernel.cache.open_orders)}")
        lines.append(f"day P&L R$ {g['day_pnl_brl']}")
        return "\n".join(lines)

    def _pnl_text(self) -> str:
        s = self.kernel.summary()
        snap = self.kernel.snapshot()
        lines = [f"net R$ {s['net_pnl_brl']} (realised {s['realized_pnl_brl']}, unrealised "
                 f"{s['unrealized_pnl_brl']}, fees {s['fees_brl']})", f"fills: {s['fills']}"]
        lines += [f"{r['symbol']}: pos {r['position']}, P&L R$ {r['pnl_brl']}" for r in snap["instruments"]
                  if r["position"] or r["pnl_brl"] not in ("0", "0.00")]
        return "\n".join(lines)
