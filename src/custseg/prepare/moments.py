"""A preparation plan learnt without holding the table: exact moments and a uniform sample.

The bounded-memory fit (``custseg fit --engine stream``) and the Spark engine cannot keep
every value of every column. They gather, in one pass over all rows,

* per numeric column (raw, and derived ratios): the number of rows and of gaps, and the
  exact count, mean, second and third central moments, minimum and maximum of the
  present values ``x`` and of ``log1p(max(x, 0))`` (:class:`Moments`, merged chunk by
  chunk with the pairwise formulas of Chan et al. and Pébay);
* per categorical column: the rows of every level;
* a uniform random sample of rows.

Once the imputation value is known, the moments of the imputed column follow exactly:
the gaps are ``n_gaps`` copies of that value, one more :class:`Moments` to merge. So the
plan's default steps (median or mean imputation, the ``log1p`` decision on skewness,
standard scaling) use exact statistics of all rows. What depends on order statistics or
on a fitted parameter comes from the sample: the median used to fill gaps (unless the
engine gives a better one), winsorising bounds, the Yeo-Johnson lambda and the moments
after it, robust scaling, and PCA. A uniform sample of 200,000 rows puts a sample
quantile within 0.0034 of the intended rank with 99.7% probability
(``3 * sqrt(q (1 - q) / n)`` at ``q = 0.5``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import PrepConfig
from .fitter import (
    ColumnStats,
    ImputedArray,
    ImputedStats,
    domain_specs,
    fit_pca,
    fit_steps_from_stats,
    level_counts,
    without_redundancy,
)
from .plan import PreparationPlan
from .recipes import DomainFeature, compute_domain_feature
from .schema import TableSchema
from .steps import clip_values, impute

__all__ = ["Moments", "MomentStats", "StatisticsAccumulator", "plan_from_statistics"]


@dataclass(frozen=True)
class Moments:
    """Count, mean, central sums of squares and cubes, minimum and maximum of values.

    ``m2 = sum((x - mean) ** 2)`` and ``m3 = sum((x - mean) ** 3)``; an empty set has
    ``n = 0``.
    """

    n: int
    mean: float
    m2: float
    m3: float
    minimum: float
    maximum: float

    @classmethod
    def empty(cls) -> Moments:
        return cls(0, 0.0, 0.0, 0.0, math.inf, -math.inf)

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        """Moments of finite values (no NaN)."""
        n = int(values.shape[0])
        if n == 0:
            return cls.empty()
        mean = float(values.mean())
        d = values - mean
        d2 = d * d
        return cls(
            n,
            mean,
            float(d2.sum()),
            float((d2 * d).sum()),
            float(values.min()),
            float(values.max()),
        )

    @classmethod
    def constant(cls, value: float, count: int) -> Moments:
        """``count`` copies of ``value``."""
        if count == 0:
            return cls.empty()
        return cls(int(count), float(value), 0.0, 0.0, float(value), float(value))

    @classmethod
    def from_summary(
        cls, n: int, mean: float, var_pop: float, skew: float | None, lo: float, hi: float
    ) -> Moments:
        """From a count, mean, population variance and skewness (a SQL aggregate's)."""
        if n == 0:
            return cls.empty()
        m2 = max(float(var_pop), 0.0) * n
        m3 = 0.0 if skew is None or not math.isfinite(skew) else skew * (m2 / n) ** 1.5 * n
        return cls(int(n), float(mean), m2, m3, float(lo), float(hi))

    def merge(self, other: Moments) -> Moments:
        """The moments of both sets together (pairwise update, numerically stable)."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        na, nb = self.n, other.n
        n = na + nb
        delta = other.mean - self.mean
        mean = self.mean + delta * nb / n
        m2 = self.m2 + other.m2 + delta * delta * na * nb / n
        m3 = (
            self.m3
            + other.m3
            + delta**3 * na * nb * (na - nb) / (n * n)
            + 3.0 * delta * (na * other.m2 - nb * self.m2) / n
        )
        return Moments(
            n, mean, m2, m3, min(self.minimum, other.minimum), max(self.maximum, other.maximum)
        )

    @property
    def std(self) -> float:
        """Population standard deviation (``numpy.std``)."""
        return math.sqrt(max(self.m2, 0.0) / self.n) if self.n else math.nan

    @property
    def skewness(self) -> float:
        """Biased sample skewness, as :func:`custseg._utils.numeric.skewness` (0 if constant)."""
        sd = self.std
        if not math.isfinite(sd) or sd <= 1e-12 * max(1.0, abs(self.mean)):
            return 0.0
        value = (self.m3 / self.n) / sd**3
        return value if math.isfinite(value) else 0.0


def _log_values(present: np.ndarray) -> np.ndarray:
    return np.log1p(np.maximum(present, 0.0))


class MomentStats:
    """:class:`~custseg.prepare.fitter.ColumnStats` from exact moments and a sample.

    Parameters
    ----------
    n, n_gaps : int
        Rows, and rows without a value, among all rows.
    present, present_log : Moments
        Of the present values ``x`` and of ``log1p(max(x, 0))``, over all rows.
    sample : numpy.ndarray
        The column in a uniform sample of rows (float64, NaN for gaps).
    median : float or None
        The median of the present values when the engine computed it over all rows
        (Spark's ``percentile_approx``); otherwise the sample's.
    """

    def __init__(
        self,
        n: int,
        n_gaps: int,
        present: Moments,
        present_log: Moments,
        sample: np.ndarray,
        median: float | None = None,
    ) -> None:
        self.n = int(n)
        self.n_gaps = int(n_gaps)
        self.present = present
        self.present_log = present_log
        self.sample = np.asarray(sample, dtype=np.float64)
        self._median = median

    def _sample_present(self) -> np.ndarray:
        present = self.sample[~np.isnan(self.sample)]
        # A sample without a value of a sparse column: the overall mean stands in.
        return present if present.size else np.array([self.present.mean])

    def fill(self, how: str) -> float:
        if how == "mean":
            return float(self.present.mean)
        if self._median is not None:
            return float(self._median)
        return float(np.median(self._sample_present()))

    def quantiles(self, qs: list[float]) -> list[float]:
        return [float(q) for q in np.quantile(self._sample_present(), qs)]

    def flag_share(self) -> float | None:
        m = self.present
        if m.n == 0 or m.minimum != 0.0 or m.maximum != 1.0:
            return None
        # Values in [0, 1] with mean p have a variance of at most p(1 - p), reached only
        # when every value is 0 or 1: the exact moments tell a flag without the values.
        p = m.mean
        bernoulli = p * (1.0 - p)
        return (
            float(p)
            if abs(m.m2 / m.n - bernoulli) <= 1e-9 * max(bernoulli, 1e-12) + 1e-12
            else None
        )

    def imputed(self, fill: float, clip: tuple[float, float] | None) -> ImputedStats:
        v_sample = clip_values(impute(self.sample, fill), clip)
        if clip is not None:
            return _ImputedMoments(None, None, v_sample)
        gaps = self.n_gaps
        values = self.present.merge(Moments.constant(fill, gaps))
        logs = self.present_log.merge(Moments.constant(math.log1p(max(fill, 0.0)), gaps))
        return _ImputedMoments(values, logs, v_sample)


class _ImputedMoments:
    """Exact moments where known (no clipping, transforms none/log1p), else the sample."""

    def __init__(self, values: Moments | None, logs: Moments | None, sample: np.ndarray) -> None:
        self.values = values
        self.logs = logs
        self.sampled = ImputedArray(sample)

    def _exact(self, kind: str) -> Moments | None:
        return {"none": self.values, "log1p": self.logs}.get(kind)

    def minimum(self) -> float:
        if self.values is not None:
            return self.values.minimum
        return self.sampled.minimum()

    def skewness(self, kind: str, lam: float | None) -> float:
        exact = self._exact(kind)
        return exact.skewness if exact is not None else self.sampled.skewness(kind, lam)

    def yeo_johnson_lambda(self) -> float:
        return self.sampled.yeo_johnson_lambda()

    def mean_std(self, kind: str, lam: float | None) -> tuple[float, float]:
        exact = self._exact(kind)
        if exact is not None:
            return exact.mean, exact.std
        return self.sampled.mean_std(kind, lam)

    def quartiles(self, kind: str, lam: float | None) -> tuple[float, float, float]:
        return self.sampled.quartiles(kind, lam)


class StatisticsAccumulator:
    """Gathers, chunk by chunk, what :func:`plan_from_statistics` needs.

    Parameters
    ----------
    schema : TableSchema
        Roles of the columns.
    config : PrepConfig
        Preparation settings (they decide the derived features).

    Feed it the checked frames of every chunk (:meth:`update`), then call :meth:`plan`
    with the checked rows of a uniform sample.
    """

    def __init__(self, schema: TableSchema, config: PrepConfig) -> None:
        self.schema = schema
        self.config = config
        numeric = list(schema.numeric)
        categorical = list(schema.categorical)
        self.decisions: list[str] = []
        self.specs = domain_specs(config, numeric, set(numeric) | set(categorical), self.decisions)
        self.numeric = numeric + [s.name for s in self.specs if not s.is_categorical]
        self.categorical = categorical + [s.name for s in self.specs if s.is_categorical]
        self.n_rows = 0
        self.gaps = dict.fromkeys(self.numeric, 0)
        self.present = {name: Moments.empty() for name in self.numeric}
        self.present_log = {name: Moments.empty() for name in self.numeric}
        self.counts: dict[str, pd.Series] = {
            name: pd.Series(dtype=np.int64) for name in self.categorical
        }

    def columns(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """The input and derived columns of a checked frame."""
        columns: dict[str, np.ndarray] = {
            name: frame[name].to_numpy(dtype=np.float64) for name in self.schema.numeric
        }
        for name in self.schema.categorical:
            columns[name] = frame[name].to_numpy(dtype=object)
        for spec in self.specs:
            columns[spec.name] = compute_domain_feature(spec, columns)
        return columns

    def update(self, frame: pd.DataFrame) -> None:
        """Add the rows of one checked chunk (``check_rows(...).frame``, no rejects)."""
        columns = self.columns(frame)
        self.n_rows += len(frame)
        for name in self.numeric:
            x = columns[name]
            present = x[~np.isnan(x)]
            self.gaps[name] += int(x.shape[0] - present.shape[0])
            self.present[name] = self.present[name].merge(Moments.of(present))
            self.present_log[name] = self.present_log[name].merge(Moments.of(_log_values(present)))
        for name in self.categorical:
            self.counts[name] = self.counts[name].add(level_counts(columns[name]), fill_value=0)

    def to_state(self) -> dict[str, Any]:
        """What was gathered, as plain JSON-ready data (to merge partial results)."""

        def moments(m: Moments) -> list[float]:
            return [m.n, m.mean, m.m2, m.m3, m.minimum, m.maximum]

        return {
            "n_rows": self.n_rows,
            "gaps": dict(self.gaps),
            "present": {name: moments(m) for name, m in self.present.items()},
            "present_log": {name: moments(m) for name, m in self.present_log.items()},
            "counts": {
                name: {str(level): int(n) for level, n in counts.items()}
                for name, counts in self.counts.items()
            },
        }

    def merge_state(self, state: Mapping[str, Any]) -> None:
        """Add the rows summarised by another accumulator's :meth:`to_state`."""

        def moments(values: list[float]) -> Moments:
            n, mean, m2, m3, lo, hi = values
            return Moments(int(n), float(mean), float(m2), float(m3), float(lo), float(hi))

        self.n_rows += int(state["n_rows"])
        for name in self.numeric:
            self.gaps[name] += int(state["gaps"][name])
            self.present[name] = self.present[name].merge(moments(state["present"][name]))
            self.present_log[name] = self.present_log[name].merge(
                moments(state["present_log"][name])
            )
        for name in self.categorical:
            counts = pd.Series(state["counts"][name], dtype=np.int64)
            self.counts[name] = self.counts[name].add(counts, fill_value=0)

    def plan(self, sample: pd.DataFrame) -> PreparationPlan:
        """The plan from the gathered statistics and the checked rows of a uniform sample."""
        sample_columns = self.columns(sample)
        stats = {
            name: MomentStats(
                self.n_rows,
                self.gaps[name],
                self.present[name],
                self.present_log[name],
                sample_columns[name],
            )
            for name in self.numeric
        }
        counts = {name: self.counts[name].astype(np.int64) for name in self.categorical}
        return plan_from_statistics(
            self.config,
            self.schema,
            self.specs,
            list(self.decisions),
            stats,
            counts,
            self.n_rows,
            sample,
        )


def plan_from_statistics(
    config: PrepConfig,
    schema: TableSchema,
    specs: list[DomainFeature],
    decisions: list[str],
    stats: Mapping[str, ColumnStats],
    counts: Mapping[str, pd.Series],
    n_rows: int,
    sample: pd.DataFrame,
) -> PreparationPlan:
    """A :class:`PreparationPlan` from column statistics (see the module docstring).

    ``sample`` (checked rows of a uniform sample) is only used for PCA, which is fitted
    on the prepared sample.
    """
    steps = fit_steps_from_stats(
        config, schema, specs, decisions, stats.__getitem__, counts.__getitem__, n_rows
    )
    # Columns that repeat another's fact are found on the sample (they need rows).
    arrays = {name: sample[name].to_numpy(dtype=np.float64) for name in schema.numeric}
    for name in schema.categorical:
        arrays[name] = sample[name].to_numpy(dtype=object)
    for spec in steps.domain_features:
        arrays[spec.name] = compute_domain_feature(spec, arrays)
    steps = without_redundancy(config, schema, steps, arrays)
    parts: dict[str, Any] = {
        "config": config,
        "input_numeric": list(schema.numeric),
        "input_categorical": list(schema.categorical),
        "domain_features": steps.domain_features,
        "numeric_steps": steps.numeric_steps,
        "categorical_steps": steps.categorical_steps,
        "redundancy": steps.redundancy,
    }
    plan = PreparationPlan(**parts, pca=None, decisions=steps.decisions)
    if config.pca is None:
        return plan
    columns = {name: sample[name].to_numpy(dtype=np.float64) for name in schema.numeric}
    for name in schema.categorical:
        columns[name] = sample[name].to_numpy(dtype=object)
    matrix = np.ascontiguousarray(plan.transform_checked(columns, len(sample)))
    pca, decision = fit_pca(matrix, plan.prepared_names, config.pca)
    return PreparationPlan(
        **parts, pca=pca, decisions=[*steps.decisions, decision + " (on the sample)"]
    )
