"""Labels net of costs, overlap weights, and purged/embargoed walk-forward splits."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradingsystem.ml import LabelSpec, PurgedWalkForward, make_labels, overlap_weights, round_trip_cost_bps

NS = 1_000_000_000
T0 = np.datetime64("2026-03-02T13:00").astype("datetime64[ns]").astype(np.int64)


def _ts(n: int, day: int = 0) -> np.ndarray:
    return T0 + day * 86_400 * NS + np.arange(1, n + 1) * 60 * NS


def test_threshold_is_the_round_trip_cost() -> None:
    spec = LabelSpec(fee_bps=2.3, spread_bps=5.0)
    assert spec.threshold == round_trip_cost_bps(2.3, 5.0) == 9.6
    assert LabelSpec(threshold_bps=3).threshold == 3


def test_direction_labels_clear_costs_and_stay_in_session() -> None:
    close = np.array([100.0, 100.2, 99.8, 100.05, 100.0, 100.0])
    ts = np.concatenate([_ts(4), _ts(2, day=1)])
    lab = make_labels(ts, close, close, close, LabelSpec(horizon=1, fee_bps=2.3, spread_bps=5.0))
    # +20 bps up, -39.9 bps down, +25.1 bps up; bar 3 is its session's last bar; bar 4 moves 0 bps (inside band)
    assert lab.label.tolist() == [1, 0, 1, -1, -1, -1]
    assert lab.t1.tolist() == [1, 2, 3, -1, 5, -1]
    assert np.isnan(lab.ret_bps[3])


def test_triple_barrier_stop_first_and_timeout() -> None:
    close = np.array([100.0, 100.0, 100.0, 100.0, 100.0])
    high = np.array([100.0, 100.5, 100.0, 100.0, 100.0])
    low = np.array([100.0, 99.8, 99.5, 100.0, 100.0])
    spec = LabelSpec(kind="triple_barrier", horizon=2, take_profit_bps=30, stop_loss_bps=30, threshold_bps=1)
    lab = make_labels(_ts(5), close, high, low, spec)
    assert lab.label[0] == 1 and lab.t1[0] == 1  # take profit on bar 1 (stop not touched)
    assert lab.label[1] == 0 and lab.t1[1] == 2  # stop on bar 2
    assert lab.label[2] == -1 and lab.t1[2] == 4  # timeout, flat: inside the band


def test_overlap_weights_are_average_uniqueness() -> None:
    # labels over bars (0,2], (1,3], (4,5]: bars 1,2,3 covered by 1,2,1 labels; bar 5 by one
    w = overlap_weights(np.array([0, 1, 4]), np.array([2, 3, 5]), 6)
    raw = np.array([(1 + 0.5) / 2, (0.5 + 1) / 2, 1.0])
    assert np.allclose(w, raw / raw.mean())


@settings(max_examples=60, deadline=None)
@given(st.integers(200, 800), st.integers(1, 30), st.integers(0, 20), st.sampled_from(["expanding", "rolling"]),
       st.integers(1, 5), st.integers(0, 10_000))
def test_no_training_label_touches_a_test_window(n: int, h: int, embargo: int, mode: str, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t0 = np.sort(rng.choice(n * 3, size=n, replace=False))
    t1 = t0 + rng.integers(1, h + 1, size=n)
    wf = PurgedWalkForward(n_splits=k, mode=mode, embargo=embargo, min_train=1, train_size=n // 4 if mode == "rolling"
                           else None)  # fmt: skip
    seen = []
    for train, test in wf.split(t0, t1):
        lo, hi = t0[test].min() - embargo, t1[test].max() + embargo
        assert np.all((t1[train] < lo) | (t0[train] > hi))
        assert train.max() < test.min()
        if mode == "rolling":
            assert len(train) <= n // 4
        seen.append(test)
    allt = np.concatenate(seen)
    assert np.array_equal(allt, np.arange(allt[0], n))  # consecutive, non-overlapping windows to the end
