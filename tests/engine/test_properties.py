"""Property tests over random order sequences: zero limit violations, positions equal fills,
P&L reconciles with cash, no OCO pair fills beyond its quantity."""

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.fuzz import run_session

EXAMPLES = int(os.environ.get("TS_PROPERTY_EXAMPLES", "200"))
SWEEP = int(os.environ.get("TS_FUZZ_SESSIONS", "2000"))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**32))
def test_random_sessions_keep_every_invariant(seed):
    out = run_session(seed)
    assert out.violations == []


def test_seeded_sweep_of_sessions():
    """A plain seeded sweep (TS_FUZZ_SESSIONS=100000 runs the full release sweep)."""
    orders = fills = 0
    for seed in range(SWEEP):
        out = run_session(seed)
        assert out.violations == [], (seed, out.violations[:3])
        orders += out.orders
        fills += out.fills
    assert orders > SWEEP and fills > SWEEP  # the sessions really trade
