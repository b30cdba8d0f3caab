"""WebSocket hub: one loop reads the engine every ``interval`` and pushes the latest state to each page.

Updates are coalesced twice: the loop reads the engine at most every ``interval`` seconds, and a slow
client gets only the newest message (one pending slot per client, never a growing queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from tradingsystem.interfaces.web.controller import DashboardController, EngineUnavailable
from tradingsystem.interfaces.web.ticket import fmt_raw
from tradingsystem.interfaces.web.views import TIMEFRAMES, aggregate

__all__ = ["Client", "PushHub"]

log = logging.getLogger("tradingsystem.dashboard")


class Client:
    """One open page: what it watches and the newest message it has not been sent yet."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.symbol: str | None = None
        self.tf = "1m"
        self.seq = 0
        self.latest: str | None = None
        self.ready = asyncio.Event()

    def offer(self, text: str) -> None:
        self.latest = text  # a newer state replaces one not yet sent
        self.ready.set()

    async def sender(self) -> None:
        while True:
            await self.ready.wait()
            self.ready.clear()
            text, self.latest = self.latest, None
            if text is not None:
                await self.ws.send_text(text)


class PushHub:
    """Keeps the clients and runs the push loop while at least one is connected."""

    def __init__(self, controller: DashboardController, interval_s: float = 0.1) -> None:
        self.controller = controller
        self.interval_s = interval_s
        self.clients: set[Client] = set()
        self.pushes = 0
        self.engine_ms_last = 0.0
        self._wake = asyncio.Event()

    async def serve(self, ws: WebSocket) -> None:
        client = Client(ws)
        self.clients.add(client)
        self._wake.set()
        sender = asyncio.create_task(client.sender())
        try:
            while True:
                msg = json.loads(await ws.receive_text())
                if isinstance(msg, dict) and "watch" in msg:
                    symbol = msg.get("watch")
                    client.symbol = symbol if isinstance(symbol, str) else None
                    tf = msg.get("tf")
                    client.tf = tf if tf in TIMEFRAMES else "1m"
                    client.seq = int(msg.get("seq") or 0)
        except (WebSocketDisconnect, RuntimeError, ValueError):
            pass
        finally:
            self.clients.discard(client)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    async def run(self) -> None:
        """The push loop (a task for the app's lifetime)."""
        while True:
            if not self.clients:
                self._wake.clear()
                await self._wake.wait()
            started = time.perf_counter()
            try:
                await self.push_once()
            except EngineUnavailable:
                await asyncio.sleep(0.5)
            except Exception:  # a bad state must not kill the loop
                log.exception("dashboard push failed")
                await asyncio.sleep(0.5)
            await asyncio.sleep(max(0.0, self.interval_s - (time.perf_counter() - started)))

    async def push_once(self) -> None:
        watch: dict[str, int] = {}
        for c in self.clients:
            if c.symbol:
                watch[c.symbol] = min(watch.get(c.symbol, c.seq), c.seq)
        ctl = self.controller
        t0 = time.perf_counter()
        state = await ctl.call(lambda: ctl.state(watch, push=True))
        self.engine_ms_last = (time.perf_counter() - t0) * 1000
        symbols: dict[str, Any] = state.pop("symbols")
        state["type"] = "state"
        for c in list(self.clients):
            msg = dict(state)
            part = symbols.get(c.symbol or "")
            if part is not None:
                msg["symbol"] = self._symbol_part(c, part)
            msg["srv"] = time.time() * 1000
            c.offer(json.dumps(msg, separators=(",", ":"), default=str))
        self.pushes += 1

    @staticmethod
    def _symbol_part(c: Client, part: dict[str, Any]) -> dict[str, Any]:
        scale = part["scale"]
        tf_s = TIMEFRAMES.get(c.tf, 60)
        tape = [t for t in part["tape"] if t[0] > c.seq]
        if tape:
            c.seq = tape[-1][0]
        candles = aggregate(part["bars"], tf_s, scale)[-2:]
        return {  # prices as exact strings with the instrument's decimals; candles stay numbers for the chart
            "symbol": c.symbol, "tf": c.tf, "candles": candles, "scale": scale, "tick": fmt_raw(part["tick"], scale),
            "bids": [[fmt_raw(p, scale), q] for p, q in part["bids"]],
            "asks": [[fmt_raw(p, scale), q] for p, q in part["asks"]],
            "tape": [{"seq": s, "ts": ts, "price": fmt_raw(p, scale), "size": q, "aggressor": a}
                     for s, ts, p, q, a in tape],
            "fills": [{**f, "price": fmt_raw(f["price"], scale)} for f in part["fills"]],
        }
