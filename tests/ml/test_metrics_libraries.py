"""Our scores against statsmodels and scikit-learn on the same input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, log_loss
from statsmodels.stats.proportion import proportion_confint

from tradingsystem.ml.metrics import log_loss_brier, wilson


@pytest.mark.parametrize(("hits", "n"), [(0, 10), (1, 10), (531, 1000), (9_170, 17_198), (17_198, 17_198)])
def test_wilson_equals_statsmodels(hits: int, n: int) -> None:
    low, high = proportion_confint(hits, n, alpha=0.05, method="wilson")
    ours = wilson(hits, n)
    assert ours == pytest.approx((low, high), abs=1e-12)


def test_log_loss_and_brier_equal_sklearn() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 2_000)
    p = np.clip(rng.beta(2, 2, 2_000), 1e-6, 1 - 1e-6)
    ll, brier = log_loss_brier(y, p)
    assert ll == pytest.approx(log_loss(y, p), rel=1e-12)
    assert brier == pytest.approx(brier_score_loss(y, p), rel=1e-12)
