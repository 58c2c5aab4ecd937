"""Small statistics with stated methods: binomial confidence intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

CI_METHODS = ("wald", "wilson", "clopper_pearson")


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float

    def as_list(self) -> list[float]:
        return [self.low, self.high]


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wald_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """The normal-approximation interval (the study's), clipped to [0, 1]."""
    p = successes / n
    half = _z(confidence) * math.sqrt(p * (1 - p) / n)
    return Interval(max(0.0, p - half), min(1.0, p + half))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson's score interval: good coverage for small n and proportions near 0 or 1."""
    p = successes / n
    z = _z(confidence)
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def clopper_pearson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """The 'exact' interval from beta quantiles: never below nominal coverage, conservative."""
    from scipy.special import betaincinv  # imported here: only this interval needs scipy

    alpha = 1 - confidence
    low = 0.0 if successes == 0 else float(betaincinv(successes, n - successes + 1, alpha / 2))
    high = 1.0 if successes == n else float(
        betaincinv(successes + 1, n - successes, 1 - alpha / 2))
    return Interval(low, high)


def proportion_intervals(successes: int, n: int, confidence: float = 0.95
                         ) -> dict[str, Interval]:
    if n <= 0:
        raise ValueError("a proportion needs at least one observation")
    return {
        "wald": wald_interval(successes, n, confidence),
        "wilson": wilson_interval(successes, n, confidence),
        "clopper_pearson": clopper_pearson_interval(successes, n, confidence),
    }
