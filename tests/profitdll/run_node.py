"""``tradingsystem run`` in a process of its own against the ProfitDLL double, as a broker would serve it: the
account (orders, positions) lives in ``--account`` across processes, market orders fill, trades stream.

python -m tests.profitdll.run_node --dll PATH --account FILE [--seed-position SYM:EXCH:QTY:AVG]
    [--seed-order SYM:EXCH:SIDE:QTY:PRICE] -- run --feed profitdll ...
"""

from __future__ import annotations

import argparse
import sys
import threading

from tests.profitdll.helpers import Double


def main() -> None:
    argv = sys.argv[1:]
    cut = argv.index("--")
    ap = argparse.ArgumentParser()
    ap.add_argument("--dll", required=True)
    ap.add_argument("--account", required=True)
    ap.add_argument("--seed-position", action="append", default=[])
    ap.add_argument("--seed-order", action="append", default=[])
    args = ap.parse_args(argv[:cut])
    double = Double(args.dll)
    double.define_all()
    double.TestSetAutoFill(1)
    double.TestSetAccountFile(args.account.encode())
    for spec in args.seed_position:
        sym, exch, qty, avg = spec.split(":")
        double.TestSeedPosition(sym, exch, int(qty), float(avg))
    for spec in args.seed_order:
        sym, exch, side, qty, price = spec.split(":")
        double.TestSeedOrder(sym, exch, int(side), int(qty), float(price))

    def stream() -> None:
        while True:
            double.TestStream(5)
            threading.Event().wait(0.02)

    threading.Thread(target=stream, daemon=True).start()
    from tradingsystem.runtime.cli import app

    sys.argv = ["tradingsystem", *argv[cut + 1:]]
    app()


if __name__ == "__main__":
    main()
