"""Binomial confidence intervals, checked by hand and against statsmodels (independent code)."""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint

from itb.analysis.stats import (
    clopper_pearson_interval,
    proportion_intervals,
    wald_interval,
    wilson_interval,
)

STATSMODELS_METHOD = {"wald": "normal", "wilson": "wilson", "clopper_pearson": "beta"}


def test_wald_reproduces_the_study_interval() -> None:
    interval = wald_interval(7, 43)
    assert interval.low == pytest.approx(0.052447, abs=1e-6)
    assert interval.high == pytest.approx(0.273134, abs=1e-6)


def test_wilson_by_hand() -> None:
    # p = 0.5, n = 4, z = 1.959964: centre 0.5, half-width 0.3743 (Wilson 1927).
    interval = wilson_interval(2, 4)
    assert interval.low == pytest.approx(0.1500, abs=1e-4)
    assert interval.high == pytest.approx(0.8500, abs=1e-4)


@pytest.mark.parametrize(("successes", "n"), [(7, 43), (0, 10), (10, 10), (1, 2), (37, 1000),
                                              (500, 1000), (3, 17)])
@pytest.mark.parametrize("method", sorted(STATSMODELS_METHOD))
def test_intervals_agree_with_statsmodels(method: str, successes: int, n: int) -> None:
    ours = proportion_intervals(successes, n)[method]
    low, high = proportion_confint(successes, n, alpha=0.05, method=STATSMODELS_METHOD[method])
    assert ours.low == pytest.approx(max(0.0, low), abs=1e-9)
    assert ours.high == pytest.approx(min(1.0, high), abs=1e-9)


def test_clopper_pearson_edges_are_exact_zero_and_one() -> None:
    assert clopper_pearson_interval(0, 20).low == 0.0
    assert clopper_pearson_interval(20, 20).high == 1.0


def test_wald_is_clipped_to_the_unit_interval() -> None:
    assert wald_interval(1, 3).low >= 0.0
    assert wald_interval(2, 3).high <= 1.0


def test_no_observations_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        proportion_intervals(0, 0)
