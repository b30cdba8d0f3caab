"""The C hand-off of live trades (``handoff.c``): built with the C compiler on first use, then loaded.

The build lands in a cache directory (``TRADINGSYSTEM_CACHE_DIR``, else ``$XDG_CACHE_HOME/tradingsystem``
or ``~/.cache/tradingsystem``) under a name keyed by the source's hash, the compiler and the platform, so
``run`` and the tests need no build step and a changed source rebuilds. The compiler is ``$CC``, else
``gcc``, else ``cc``; without one (or if it fails) ``open_ring`` raises ``HandoffUnavailable`` and the
session keeps the ctypes trampoline.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import struct
import subprocess
import sys
from collections import deque
from ctypes import c_char, c_double, c_int32, c_int64, c_uint32, c_uint64, c_void_p, c_wchar
from pathlib import Path
from typing import Any

from tradingsystem.adapters.profitdll.structs import TRADE_CALLBACK

__all__ = ["GAP", "NO_SYM", "RECORD", "CallbackQueue", "HandoffUnavailable", "Ring", "build", "load", "open_ring"]

# One ring record: the TConnectorTrade that TranslateTrade wrote (``structs.TRADE_LAYOUT``'s 16 fields,
# padded to its C size), then the ticker id, the callback's flags and ``ts_init`` (ns, wall clock).
RECORD = struct.Struct("@B8HIdqdiiB7xIIq")
NO_SYM = 0xFFFFFFFF
GAP = 0x80000000  # in a record's flags: trades of its ticker were dropped just before it (the DLL uses 1, 2)
_SOURCE = Path(__file__).with_name("handoff.c")
_SUFFIX = {"win32": ".dll", "darwin": ".dylib"}.get(sys.platform, ".so")
_LOADED: dict[Path, ctypes.CDLL] = {}


class HandoffUnavailable(RuntimeError):
    """The C hand-off cannot be built or loaded here."""


def cache_dir() -> Path:
    env = os.environ.get("TRADINGSYSTEM_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tradingsystem"


def build() -> Path:
    """The compiled hand-off library, compiling it into the cache if it is not there yet."""
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise HandoffUnavailable("no C compiler: set CC or install gcc")
    source = _SOURCE.read_bytes()
    key = hashlib.sha256(b"\0".join([source, cc.encode(), sys.platform.encode(), platform.machine().encode()]))
    out = cache_dir() / f"profitdll-handoff-{key.hexdigest()[:16]}{_SUFFIX}"
    if out.exists():
        return out
    flags = ["-O2", "-shared"] + ([] if sys.platform == "win32" else ["-fPIC", "-pthread"])
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        done = subprocess.run([cc, *flags, "-o", str(tmp), str(_SOURCE)], capture_output=True, text=True,
                              timeout=120, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise HandoffUnavailable(f"cannot run {cc}: {exc}") from None
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise HandoffUnavailable(f"{cc} failed on {_SOURCE.name}: {why}")
    os.replace(tmp, out)
    return out


def load() -> ctypes.CDLL:
    path = build()
    lib = _LOADED.get(path)
    if lib is not None:
        return lib
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:
        raise HandoffUnavailable(f"cannot load {path}: {exc}") from None
    for name, restype, argtypes in (
        ("handoff_record_size", c_int32, []), ("handoff_slots", c_int32, []),
        ("handoff_open", c_int32, [c_int32, c_uint64, c_void_p]), ("handoff_close", None, [c_int32]),
        ("handoff_free", None, [c_void_p]), ("handoff_ring", c_void_p, [c_int32]),
        ("handoff_drain", c_int64, [c_void_p, c_void_p, c_int64]), ("handoff_stat", c_uint64, [c_void_p, c_int32]),
        ("handoff_symbol", c_int64, [c_void_p, c_uint32, ctypes.c_wchar_p, c_int32]),
        ("handoff_notify", None, [c_void_p]), ("handoff_clear", None, [c_void_p]),
        ("handoff_wait", c_int32, [c_void_p, c_double]),
    ):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    if lib.handoff_record_size() != RECORD.size:
        raise HandoffUnavailable(f"record size {lib.handoff_record_size()} != {RECORD.size} expected")
    _LOADED[path] = lib
    return lib


def open_ring(capacity: int, translate_trade: Any, batch: int = 4096) -> Ring:
    """A ring in a free slot, whose ``callback`` the DLL's SetTradeCallbackV2 takes."""
    lib = load()
    translate = ctypes.cast(translate_trade, c_void_p).value
    for slot in range(lib.handoff_slots()):
        if lib.handoff_open(slot, capacity, translate) == 0:
            return Ring(lib, slot, batch)
    raise HandoffUnavailable(f"all {lib.handoff_slots()} hand-off slots are in use in this process")


class CallbackQueue:
    """The ctypes path's live trades: ``RECORD``-shaped tuples (the ticker itself in the id's place) in a
    deque that the Python trade callback fills, with ``Ring``'s engine-side interface."""

    keys_are_names = True

    def __init__(self, capacity: int, batch: int = 4096) -> None:
        self.records: deque[tuple[Any, ...]] = deque()
        self.capacity = capacity
        self.batch = batch
        self.count = 0  # records queued so far (what a queued event is stamped with)
        self.lost = 0
        self.lost_by_symbol: dict[str, int] = {}
        self.gaps: set[str] = set()  # tickers whose next record follows dropped ones (flagged GAP)

    def drop(self, ticker: str) -> None:
        """DLL thread: the queue is full; count the trade and flag the ticker's next record."""
        self.lost += 1
        self.lost_by_symbol[ticker] = self.lost_by_symbol.get(ticker, 0) + 1
        self.gaps.add(ticker)

    def written(self) -> int:
        return self.count

    def depth(self) -> int:
        return len(self.records)

    def dropped(self) -> int:
        return self.lost

    def accessor_errors(self) -> int:
        return 0

    def drops_by_symbol(self) -> dict[str, int]:
        return dict(self.lost_by_symbol)

    def name(self, key: Any) -> str | None:
        return key if isinstance(key, str) else None

    def drain(self) -> list[tuple[Any, ...]]:
        popleft = self.records.popleft
        return [popleft() for _ in range(min(len(self.records), self.batch))]


class Ring:
    """Engine side of one ring; also the session's wake-up (``set``/``clear``/``wait`` like an Event)."""

    keys_are_names = False
    _freeable = False  # set by close(); read by __del__ even if __init__ failed half way

    def __init__(self, lib: ctypes.CDLL, slot: int, batch: int) -> None:
        self.lib = lib
        self.slot = slot
        self.ptr: int = lib.handoff_ring(slot)
        self.callback = TRADE_CALLBACK(ctypes.cast(getattr(lib, f"handoff_trade_{slot}"), c_void_p).value or 0)
        self.batch = batch
        self.closed = False
        self._head = c_uint64.from_address(self.ptr)  # the C struct's first fields (handoff.c ring_t)
        self._tail = c_uint64.from_address(self.ptr + 64)
        self._dropped = c_uint64.from_address(self.ptr + 128)
        self._buf = (c_char * (RECORD.size * batch))()
        self._view = memoryview(self._buf).cast("B")
        self._names: list[str] = []

    def written(self) -> int:
        """Records written so far (what a queued event is stamped with)."""
        return self._head.value

    def depth(self) -> int:
        return self._head.value - self._tail.value

    def dropped(self) -> int:
        return self._dropped.value

    def accessor_errors(self) -> int:
        return int(self.lib.handoff_stat(self.ptr, 3))

    def drain(self) -> Any:
        """Up to ``batch`` records, oldest first, as ``RECORD`` tuples (valid until the next drain)."""
        n = self.lib.handoff_drain(self.ptr, self._buf, self.batch)
        return RECORD.iter_unpack(self._view[: n * RECORD.size])

    def name(self, sym: int) -> str | None:
        """The ticker of id ``sym`` (None for an unknown id)."""
        while len(self._names) <= sym < NO_SYM:
            out = (c_wchar * 64)()
            if self.lib.handoff_symbol(self.ptr, len(self._names), out, 64) < 0:
                return None
            self._names.append(out.value)
        return self._names[sym] if sym < len(self._names) else None

    def drops_by_symbol(self) -> dict[str, int]:
        out: dict[str, int] = {}
        out_name = (c_wchar * 64)()
        for sym in range(int(self.lib.handoff_stat(self.ptr, 4))):
            n = self.lib.handoff_symbol(self.ptr, sym, out_name, 64)
            if n > 0:
                out[out_name.value] = int(n)
        return out

    # --- wake-up, for ``ProfitDLLFeed.wait`` ----------------------------------------------------
    def set(self) -> None:
        self.lib.handoff_notify(self.ptr)

    def clear(self) -> None:
        self.lib.handoff_clear(self.ptr)

    def wait(self, timeout_s: float) -> bool:
        """Block with the GIL released until a trade or ``set()`` arrives, or ``timeout_s`` passes."""
        return bool(self.lib.handoff_wait(self.ptr, timeout_s))

    def close(self, freeable: bool = True) -> None:
        """Give the slot back (its callback then does nothing); what is in the ring stays readable. Called
        after DLLFinalize; ``freeable`` False keeps the memory for good (a DLL that may still call it)."""
        if not self.closed:
            self.closed = True
            self._freeable = freeable
            self.lib.handoff_close(self.slot)

    def __del__(self) -> None:
        if self._freeable:
            self.lib.handoff_free(self.ptr)
