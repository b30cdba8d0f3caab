"""Run as a subprocess by the crash test: save, flush, report, save more, then wait to be killed."""

from __future__ import annotations

import sys
import threading

from tests.sqlstore.helpers import audit, fill, order, risk
from tradingsystem.adapters.sqlstore import SqlStateStore, SqlStoreConfig


def main(url: str, n: int) -> None:
    store = SqlStateStore(SqlStoreConfig(url=url))
    for i in range(n):
        store.save_order(order(f"o{i}", status=4, ts=i, filled=1))
        store.save_fill(fill(f"f{i}", order_id=f"o{i}", ts=i))
    store.save_risk_state(risk(ts=n, state="HALTED", kill=True))
    store.save_audit([audit(ts=i) for i in range(n)])
    store.flush()
    print("flushed", flush=True)
    for i in range(n, 2 * n):  # never flushed: may or may not survive the kill
        store.save_order(order(f"o{i}", ts=i))
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
