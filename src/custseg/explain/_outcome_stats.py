"""The statistics of outcome profiles: intervals, tests against the rest, separation.

Computed on valid input (finite values, counts >= 0); :mod:`custseg.explain.outcomes`
validates and documents what they mean for a reader.

- **Rates** (a 0/1 flag): the Wilson score interval (Wilson 1927), which keeps its
  95% coverage near 0% and 100% and for small segments where the normal
  approximation does not; a two-proportion z-test of the segment against the rest of
  the customers (pooled variance); Cramér's V of the segment × outcome table.
- **Means** (a score): the t interval of the mean; Welch's t-test of the segment
  against the rest; η² (between-segment share of the variance).
- **Many segments**: Holm's step-down correction of the p-values over the segments of
  one outcome, so that a model of 10 segments does not find one "significant" by
  chance one time in two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

__all__ = [
    "LEVEL",
    "cramers_v",
    "eta_squared",
    "holm",
    "mean_interval",
    "proportion_test",
    "separation_words",
    "welch_test",
    "wilson_interval",
]

LEVEL = 0.95
"""Confidence level of the intervals; tests are two-sided at 1 - LEVEL."""
_Z = float(stats.norm.ppf(0.5 + LEVEL / 2))  # 1.959963984540054

# Conventional bounds of a small, medium and large association (Cohen 1988): Cramér's
# V of a two-column table (w), and η² of a one-way analysis of variance.
_V_BOUNDS = (0.1, 0.3, 0.5)
_ETA_BOUNDS = (0.01, 0.06, 0.14)
_STRENGTH = ("barely", "weakly", "moderately", "strongly")


def wilson_interval(successes: float, n: float) -> tuple[float, float]:
    """The 95% Wilson score interval of ``successes / n`` (``(nan, nan)`` when n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    p = successes / n
    z2 = _Z * _Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(mean: float, sd: float, n: float) -> tuple[float, float]:
    """The 95% t interval of a mean (``(nan, nan)`` below two values)."""
    if n < 2 or not math.isfinite(sd):
        return math.nan, math.nan
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def proportion_test(k1: float, n1: float, k2: float, n2: float) -> float:
    """Two-sided p-value of the two-proportion z-test (pooled), ``nan`` if undefined."""
    if n1 <= 0 or n2 <= 0:
        return math.nan
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0  # every customer has the same value: no difference to test
    z = (k1 / n1 - k2 / n2) / se
    return float(2 * stats.norm.sf(abs(z)))


def welch_test(values: np.ndarray, rest: np.ndarray) -> float:
    """Two-sided p-value of Welch's t-test of two samples, ``nan`` if undefined."""
    if values.size < 2 or rest.size < 2:
        return math.nan
    v1, v2 = float(values.var(ddof=1)), float(rest.var(ddof=1))
    se2 = v1 / values.size + v2 / rest.size
    if se2 == 0:
        return 1.0 if float(values.mean()) == float(rest.mean()) else 0.0
    t = (float(values.mean()) - float(rest.mean())) / math.sqrt(se2)
    # Welch-Satterthwaite degrees of freedom.
    df = se2**2 / (
        (v1 / values.size) ** 2 / (values.size - 1) + (v2 / rest.size) ** 2 / (rest.size - 1)
    )
    return float(2 * stats.t.sf(abs(t), df))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (undefined ones stay ``nan``, not counted)."""
    order = [i for i in np.argsort(p_values) if math.isfinite(p_values[i])]
    m = len(order)
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def cramers_v(successes: np.ndarray, counts: np.ndarray) -> float:
    """Cramér's V of the segment × (event, no event) table; ``nan`` if undefined."""
    table = np.column_stack([successes, counts - successes])
    table = table[counts > 0]
    n = float(table.sum())
    if table.shape[0] < 2 or n == 0 or (table.sum(axis=0) == 0).any():
        return math.nan
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    # min(rows - 1, columns - 1) = 1 for a two-column table.
    return math.sqrt(chi2 / n)


def eta_squared(values: np.ndarray, codes: np.ndarray) -> float:
    """η²: the share of the variance of ``values`` between the segments ``codes``."""
    if values.size < 2:
        return math.nan
    total = float(((values - values.mean()) ** 2).sum())
    if total == 0:
        return math.nan
    k = int(codes.max()) + 1
    sums = np.bincount(codes, values, k)
    counts = np.bincount(codes, minlength=k)
    held = counts > 0
    between = float((sums[held] ** 2 / counts[held]).sum() - values.sum() ** 2 / values.size)
    return min(1.0, max(0.0, between / total))


def separation_words(measure: str, value: float) -> str:
    """``"barely"``, ``"weakly"``, ``"moderately"`` or ``"strongly"`` (Cohen's bounds)."""
    bounds = _V_BOUNDS if measure == "cramers_v" else _ETA_BOUNDS
    return _STRENGTH[sum(value >= b for b in bounds)]
