"""Helpers for the ProfitDLL double tests: ctypes access to the Test* controls, sinks, pumping."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import threading
from collections.abc import Iterable
from ctypes import c_double, c_int32, c_int64, c_wchar_p
from datetime import date
from pathlib import Path

from tradingsystem.adapters.profitdll import ProfitDLLConfig
from tradingsystem.domain.commands import OrderEvent
from tradingsystem.domain.events import BookDelta, TradeTick

# Tickers the double knows: (symbol, exchange, base price, tick, lot)
TICKERS = [
    ("WINZ26", "F", 120000.0, 5.0, 1), ("WDOZ26", "F", 5000.0, 0.5, 1), ("INDZ26", "F", 120000.0, 5.0, 5),
    ("DOLZ26", "F", 5000.0, 0.5, 5), ("WING27", "F", 121000.0, 5.0, 1), ("WDOF27", "F", 5010.0, 0.5, 1),
    ("PETR4", "B", 38.5, 0.01, 100), ("VALE3", "B", 61.37, 0.01, 100), ("ITUB4", "B", 33.21, 0.01, 100),
    ("BBDC4", "B", 14.07, 0.01, 100), ("ABEV3", "B", 12.93, 0.01, 100), ("BBAS3", "B", 27.45, 0.01, 100),
]


DOUBLE_DIR = Path(__file__).parent / "double"


def build_double(out: Path, hide: Iterable[str] = (), version: tuple[int, int, int, int] | None = None) -> Path:
    """Compile the C double to ``out``; ``hide`` leaves those exports out (a linker version script), ``version``
    is the file version it reports (default 4.0.0.42)."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise RuntimeError("gcc not found: the ProfitDLL double cannot be built")
    cmd = [cc, "-O2", "-Wall", "-shared", "-fPIC", "-pthread", "-o", str(out)]
    hide = list(hide)
    if hide:
        script = out.with_suffix(".map")
        script.write_text("{ global: *; local: " + " ".join(f"{n};" for n in hide) + " };\n")
        cmd.append(f"-Wl,--version-script={script}")
    if version is not None:
        a, b, c, d = version
        cmd += [f"-DDLL_VERSION_MS=(({a}u<<16)|{b}u)", f"-DDLL_VERSION_LS=(({c}u<<16)|{d}u)"]
    cmd += [str(p) for p in sorted(DOUBLE_DIR.glob("*.c"))]
    subprocess.run([*cmd, "-lm"], check=True, capture_output=True, text=True)
    return out


def weekdays(d: date) -> bool:
    return d.weekday() < 5


class Double:
    """The double's test-only exports (same library handle as the binding's)."""

    def __init__(self, path: str) -> None:
        self.path = path
        lib = self.lib = ctypes.CDLL(path)
        sig = {
            "TestSetLoginResult": [c_int32, c_int32], "TestSetLoginHang": [c_int32],
            "TestSetBacklogThreshold": [c_int64], "TestSetNanEvery": [c_int64],
            "TestDefineTicker": [c_wchar_p, c_wchar_p, c_double, c_double, c_int32],
            "TestStream": [c_int64], "TestStreamPaced": [c_int64, c_double], "TestAdvance": [c_int64],
            "TestDisconnect": [], "TestReconnect": [], "TestInjectState": [c_int32, c_int32],
            "TestSetHealth": [c_int32], "TestRejectNext": [c_wchar_p], "TestFill": [c_int64, c_int64, c_double],
            "TestDepth": [c_wchar_p, c_int32, c_int32, c_int32, c_double, c_int64, c_int32],
            "TestSeedOrder": [c_wchar_p, c_wchar_p, c_int32, c_int64, c_double],
            "TestSeedPosition": [c_wchar_p, c_wchar_p, c_int64, c_double], "TestWaitIdle": [],
            "TestSetAccountFile": [ctypes.c_char_p], "TestSetAutoFill": [c_int32],
            "TestStat": [c_int32], "TestResetStats": [], "TestEdit": [c_wchar_p, c_int64],
            "TestOffer": [c_wchar_p, c_int32, c_int32, c_int32, c_int64, c_int32, c_int64, c_double, c_int32],
            "TestOfferFull": [c_wchar_p, c_int32, c_int32], "TestOfferCount": [c_wchar_p, c_int32],
            "TestSetOfferEditMode": [c_int32], "TestOfferStream": [c_wchar_p, c_int64, c_int64],
            "TestSetLoginSequence": [c_int32, ctypes.POINTER(c_int32), ctypes.POINTER(c_int32)],
            "TestOfferGet": [c_wchar_p, c_int32, c_int32, ctypes.POINTER(c_double), ctypes.POINTER(c_int64),
                             ctypes.POINTER(c_int32), ctypes.POINTER(c_int64)],
        }
        for name, args in sig.items():
            getattr(lib, name).argtypes = args
        lib.TestStat.restype = c_int64
        lib.TestSeedOrder.restype = c_int64

    def __getattr__(self, name: str):  # Test* passthrough
        return getattr(self.lib, name)

    def define_all(self, tickers=TICKERS) -> None:
        for sym, exch, base, tick, lot in tickers:
            self.lib.TestDefineTicker(sym, exch, base, tick, lot)

    def stat(self, which: str) -> int:
        names = ["delivered", "max_backlog", "md6", "violations", "history", "callbacks", "accessor_errors",
                 "offer_arrays", "offer_frees", "offer_bad_frees", "offer_leaks", "offer_events"]
        return int(self.lib.TestStat(names.index(which)))


    def login_sequence(self, states: list[tuple[int, int]]) -> None:
        """The (type, result) states the double plays at login, in this order."""
        n = len(states)
        types, results = (c_int32 * n)(*(s[0] for s in states)), (c_int32 * n)(*(s[1] for s in states))
        self.lib.TestSetLoginSequence(n, types, results)

    def offer_script(self, ticker: str, events: list[tuple[int, int, int, int, int, int, float]]) -> None:
        """Queue offer events (action, pos, side, qty, agent, offer id, price); the double's thread sends them."""
        for action, pos, side, qty, agent, oid, price in events:
            assert self.lib.TestOffer(ticker, action, pos, side, qty, agent, oid, price, 1) == 0

    def offer_book(self, ticker: str, side: int) -> list[tuple[int, float, int, int]]:
        """The double's own offers of one side by DLL position: (offer id, price, qty, agent)."""
        out = []
        for pos in range(self.lib.TestOfferCount(ticker, side)):
            px, qty, agent, oid = c_double(), c_int64(), c_int32(), c_int64()
            assert self.lib.TestOfferGet(ticker, side, pos, ctypes.byref(px), ctypes.byref(qty), ctypes.byref(agent),
                                         ctypes.byref(oid)) == 0
            out.append((oid.value, px.value, qty.value, agent.value))
        return out


def gen_price(base: float, tick: float, n: int) -> float:
    """The double's price for trade n (same formula as profitdll_double.c)."""
    return base + tick * float((n * 7919) % 41 - 20)


def config(path: str, **kw: object) -> ProfitDLLConfig:
    base: dict[str, object] = {
        "dll_path": path, "activation_key": "ACT-KEY-SECRET", "user": "tester",
        "password": "pw-SECRET", "login_timeout_s": 20.0,
    }
    base.update(kw)
    return ProfitDLLConfig(**base)  # type: ignore[arg-type]


class Sink:
    """A DataSink + ExecutionSink that records what it gets and on which thread."""

    def __init__(self) -> None:
        self.trades: list[TradeTick] = []
        self.deltas: list[BookDelta] = []
        self.orders: list[OrderEvent] = []
        self.threads: set[int] = set()

    def on_trade(self, tick: TradeTick) -> None:
        self.threads.add(threading.get_ident())
        self.trades.append(tick)

    def on_book_delta(self, delta: BookDelta) -> None:
        self.threads.add(threading.get_ident())
        self.deltas.append(delta)

    def on_book_snapshot(self, snapshot: object) -> None:  # pragma: no cover
        pass

    def on_bar(self, bar: object) -> None:  # pragma: no cover
        pass

    def on_order_event(self, event: OrderEvent) -> None:
        self.threads.add(threading.get_ident())
        self.orders.append(event)

    def by_symbol(self) -> dict[str, list[TradeTick]]:
        out: dict[str, list[TradeTick]] = {}
        for t in self.trades:
            out.setdefault(t.symbol, []).append(t)
        return out


def _queued(src: object) -> int:
    session = src.session  # type: ignore[attr-defined]
    return len(session.orders) if hasattr(src, "submit") else session.depth()


def settle(double: Double, *sources: object) -> None:
    """Run the 'engine loop' until the double is idle and nothing is queued for these sources."""
    while True:
        double.TestWaitIdle()
        moved = 0
        for src in sources:
            while src.next_ts() is not None:  # type: ignore[attr-defined]
                src.step()  # type: ignore[attr-defined]
                moved += 1
        if not moved and not any(_queued(src) for src in sources):
            double.TestWaitIdle()
            if not any(_queued(src) for src in sources):
                return
