"""Fitting a preparation plan: learn each step from the training rows, record why.

The fitter builds the training matrix from its own intermediate values while it learns
the parameters; ``PreparationPlan.transform`` recomputes it from the stored numbers with
the same helpers (``custseg.prepare.steps``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .._utils.lazy import lazy_module
from .._utils.numeric import skewness
from ..config import PrepConfig
from ..exceptions import ConfigError, DataError
from .recipes import CREDIT_CARD_RECIPE, DomainFeature, compute_domain_feature
from .redundancy import RedundancyGroup, find_redundancy, set_aside
from .schema import TableSchema, check_level_texts
from .steps import (
    LAMBDA_BOUNDS,
    MAX_STEP_NUMBER,
    MIN_SCALE,
    MISSING_LEVEL,
    OTHER_LEVEL,
    OUTPUT_BOUND,
    CategoricalStep,
    NumericStep,
    clip_values,
    impute,
    skew_transform,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

# Yeo-Johnson powers outside this range send ordinary amounts to astronomically
# large numbers (e.g. lambda 19.8 on TENURE 6..12): the estimate is bounded (a model
# holding another lambda is refused at load).
_LAMBDA_BOUNDS = LAMBDA_BOUNDS
# Rows used to estimate a Yeo-Johnson lambda: a strided subset keeps the estimate
# deterministic and fast on millions of rows.
_LAMBDA_SAMPLE = 200_000


def _g(x: float) -> str:
    return f"{x:.4g}"


@dataclass
class FittedSteps:
    """What :func:`fit_steps` learnt: the plan's parts, the decisions and the columns.

    ``columns`` holds the checked input columns (float64 numeric, object categorical)
    that the training matrix is built from; ``redundancy`` the groups of columns that
    encode one fact (:mod:`custseg.prepare.redundancy`).
    """

    domain_features: list[DomainFeature]
    numeric_steps: list[NumericStep]
    categorical_steps: list[CategoricalStep]
    decisions: list[str]
    columns: dict[str, np.ndarray]
    redundancy: list[RedundancyGroup] = field(default_factory=list)


def fit_steps(config: PrepConfig, checked: pd.DataFrame, schema: TableSchema) -> FittedSteps:
    """Learn every preparation step from checked training rows, recording each choice."""
    numeric = list(schema.numeric)
    categorical = list(schema.categorical)
    columns: dict[str, np.ndarray] = {
        name: checked[name].to_numpy(dtype=np.float64) for name in numeric
    }
    for name in categorical:
        columns[name] = checked[name].to_numpy(dtype=object)
    decisions: list[str] = []
    specs = domain_specs(config, numeric, set(numeric) | set(categorical), decisions)
    derived: dict[str, np.ndarray] = dict(columns)
    for spec in specs:
        derived[spec.name] = compute_domain_feature(spec, derived)
    cache: dict[str, ArrayStats] = {}

    def stats(name: str) -> ArrayStats:
        if name not in cache:
            cache[name] = ArrayStats(derived[name])
        return cache[name]

    fitter = _Fitter(
        config, schema, len(checked), stats, lambda name: level_counts(derived[name]), decisions
    )
    return without_redundancy(config, schema, fitter.run(specs, columns), derived)


def without_redundancy(
    config: PrepConfig, schema: TableSchema, steps: FittedSteps, arrays: dict[str, np.ndarray]
) -> FittedSteps:
    """The steps once columns that repeat another's fact are set aside (unless kept).

    ``arrays`` holds the training values (or a uniform sample of them) of every stepped
    column, derived ones included.
    """
    order = [c.name for c in schema.columns]
    groups = find_redundancy(arrays, steps.numeric_steps, steps.categorical_steps, order)
    if not groups:
        return steps
    groups, numeric, categorical, said = set_aside(
        groups, steps.numeric_steps, steps.categorical_steps, keep=config.keep_redundant
    )
    decisions = [
        _recount(d, len(steps.numeric_steps), len(numeric)) for d in steps.decisions
    ] + said
    return replace(
        steps,
        numeric_steps=numeric,
        categorical_steps=categorical,
        decisions=decisions,
        redundancy=groups,
    )


def _recount(decision: str, before: int, after: int) -> str:
    """The scaling decision counts the numeric columns that are clustered."""
    if before == after or not decision.startswith("scaling: "):
        return decision
    return decision.replace(f" on {before} numeric columns", f" on {after} numeric columns")


def fit_pca(matrix: np.ndarray, names: list[str], want: int | float) -> tuple[dict[str, Any], str]:
    """Principal components of the prepared training matrix, and the decision in words.

    ``want`` is a number of components or a share of variance in (0, 1].
    """
    n, d = matrix.shape
    if isinstance(want, int) and want > d:
        raise ConfigError(f"pca={want} should be <= the number of prepared columns {d}")
    mean = matrix.mean(axis=0)
    centred = matrix - mean
    cov = centred.T @ centred / n
    eigval, eigvec = np.linalg.eigh(cov)
    order = np.argsort(eigval)[::-1]
    eigval = np.clip(eigval[order], 0.0, None)
    eigvec = eigvec[:, order]
    total = float(eigval.sum())
    ratio = eigval / total if total > 0 else np.zeros_like(eigval)
    if isinstance(want, float):
        keep = int(np.searchsorted(np.cumsum(ratio), want - 1e-12) + 1)
        keep = min(max(keep, 1), d)
    else:
        keep = int(want)
    components = eigvec[:, :keep].T
    # Sign convention: the largest loading of each component is positive, so that
    # refits on the same data give the same axes.
    big = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(keep), big])
    signs[signs == 0] = 1.0
    components = components * signs[:, None]
    kept = float(ratio[:keep].sum())
    pca = {
        "input_names": list(names),
        "mean": [float(v) for v in mean],
        "components": [[float(v) for v in row] for row in components],
        "explained_variance_ratio": [float(v) for v in ratio[:keep]],
    }
    return pca, f"PCA: kept {keep} of {d} components ({kept:.1%} of the variance)"


class ColumnStats(Protocol):
    """What the fitter asks about one numeric column (raw or derived).

    The in-memory fit answers from the column's values (:class:`ArrayStats`); the
    bounded-memory and Spark fits answer from exact moments gathered in one pass and a
    uniform sample (:class:`custseg.prepare.moments.MomentStats`).
    """

    n: int
    n_gaps: int

    def fill(self, how: str) -> float:
        """The median (``how="median"``) or the mean of the present values."""
        ...

    def quantiles(self, qs: list[float]) -> list[float]:
        """Quantiles of the present values."""
        ...

    def imputed(self, fill: float, clip: tuple[float, float] | None) -> ImputedStats:
        """Statistics of the values once gaps are filled with ``fill`` and clipped."""
        ...

    def flag_share(self) -> float | None:
        """Share of ones when the present values are exactly 0 and 1, else ``None``."""
        ...


class ImputedStats(Protocol):
    """Statistics of an imputed (and clipped) column, before and after a transform."""

    def minimum(self) -> float: ...

    def skewness(self, kind: str, lam: float | None) -> float: ...

    def yeo_johnson_lambda(self) -> float: ...

    def mean_std(self, kind: str, lam: float | None) -> tuple[float, float]: ...

    def quartiles(self, kind: str, lam: float | None) -> tuple[float, float, float]: ...


class ArrayStats:
    """:class:`ColumnStats` of a column held in memory (float64, NaN for gaps)."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self.gaps = np.isnan(x)
        self.n = int(x.shape[0])
        self.n_gaps = int(self.gaps.sum())
        self.present = x[~self.gaps]

    def fill(self, how: str) -> float:
        return float(np.median(self.present) if how == "median" else np.mean(self.present))

    def quantiles(self, qs: list[float]) -> list[float]:
        return [float(q) for q in np.quantile(self.present, qs)]

    def imputed(self, fill: float, clip: tuple[float, float] | None) -> ImputedStats:
        return ImputedArray(clip_values(impute(self.x, fill), clip))

    def flag_share(self) -> float | None:
        return float(self.present.mean()) if is_flag(self.present) else None


class ImputedArray:
    """:class:`ImputedStats` of imputed values held in memory."""

    def __init__(self, v: np.ndarray) -> None:
        self.v = v

    def minimum(self) -> float:
        return float(self.v.min())

    def _t(self, kind: str, lam: float | None) -> np.ndarray:
        # log1p is only chosen for non-negative columns: the clip to 0 changes nothing.
        return np.log1p(self.v) if kind == "log1p" else skew_transform(self.v, kind, lam)

    def skewness(self, kind: str, lam: float | None) -> float:
        return skewness(self._t(kind, lam))

    def yeo_johnson_lambda(self) -> float:
        return estimate_lambda(self.v)

    def mean_std(self, kind: str, lam: float | None) -> tuple[float, float]:
        t = skew_transform(self.v, kind, lam)
        return float(np.mean(t)), float(np.std(t))

    def quartiles(self, kind: str, lam: float | None) -> tuple[float, float, float]:
        t = skew_transform(self.v, kind, lam)
        q25, q50, q75 = (float(q) for q in np.quantile(t, [0.25, 0.5, 0.75]))
        return q25, q50, q75


def domain_specs(
    config: PrepConfig, numeric: list[str], present: set[str], decisions: list[str]
) -> list[DomainFeature]:
    """The recipe's derived features this table can have, each decision recorded."""
    if not config.domain_features:
        decisions.append("derived features: off (domain_features=False)")
        return []
    wanted = config.clustering_domain_features
    specs: list[DomainFeature] = []
    for spec in CREDIT_CARD_RECIPE:
        missing = [c for c in spec.source_columns() if c not in numeric]
        if len(missing) == len(spec.source_columns()) and not present & set(missing):
            # None of its columns is in the table (a telecom or retail table): the
            # card feature is not this table's business, so it is not listed at all.
            continue
        if missing:
            decisions.append(f"{spec.name}: not derived (needs numeric column {missing[0]})")
            continue
        if spec.name in present:
            decisions.append(
                f"{spec.name}: not derived (the table already has a column of that name)"
            )
            continue
        if wanted is not None:
            spec = spec.with_clustering(spec.name in wanted)
        role = "clustering feature" if spec.clustering else "profile-only"
        decisions.append(f"{spec.name}: derived as {spec.formula}; {role}")
        specs.append(spec)
    return specs


def fit_steps_from_stats(
    config: PrepConfig,
    schema: TableSchema,
    specs: list[DomainFeature],
    decisions: list[str],
    stats: Callable[[str], ColumnStats],
    level_counts: Callable[[str], pd.Series],
    n_rows: int,
) -> FittedSteps:
    """Learn the steps from column statistics rather than from the columns themselves.

    ``specs`` and ``decisions`` come from :func:`domain_specs`; ``stats(name)``
    answers for every numeric input and numeric derived feature, ``level_counts(name)``
    (rows per level, gaps as :data:`MISSING_LEVEL`) for every categorical one. The
    returned ``columns`` are empty: the caller prepares its rows itself.
    """
    return _Fitter(config, schema, n_rows, stats, level_counts, decisions).run(specs, {})


@dataclass
class _Fitter:
    """One fit: learns the steps from the statistics of the training columns.

    ``n`` is the number of training rows; ``decisions`` collects the fit's
    explanations as it goes.
    """

    config: PrepConfig
    schema: TableSchema
    n: int
    stats: Callable[[str], ColumnStats]
    level_counts: Callable[[str], pd.Series]
    decisions: list[str]

    def run(self, specs: list[DomainFeature], columns: dict[str, np.ndarray]) -> FittedSteps:
        numeric = list(self.schema.numeric)
        categorical = list(self.schema.categorical)
        specs = [self._usable_derived(spec) for spec in specs]

        num_cols = numeric + [s.name for s in specs if s.clustering and not s.is_categorical]
        if num_cols:
            how = (
                "median and interquartile range"
                if self.config.scaling == "robust"
                else "mean and standard deviation"
            )
            self.decisions.append(
                f"scaling: {self.config.scaling} ({how}) on {len(num_cols)} numeric columns;"
                f" coordinates bounded to +-{OUTPUT_BOUND:g}"
            )
        cat_cols = categorical + [s.name for s in specs if s.clustering and s.is_categorical]
        numeric_steps = [self._fit_numeric(name, self.stats(name)) for name in num_cols]
        categorical_steps = [self._fit_categorical(name) for name in cat_cols]
        return FittedSteps(specs, numeric_steps, categorical_steps, self.decisions, columns)

    # -- derived features

    def _usable_derived(self, spec: DomainFeature) -> DomainFeature:
        if spec.clustering and not spec.is_categorical and self.stats(spec.name).n_gaps == self.n:
            self.decisions.append(
                f"{spec.name}: profile-only after all (no row has a usable denominator)"
            )
            return spec.with_clustering(False)
        return spec

    # -- numeric columns

    def _fit_numeric(self, name: str, stats: ColumnStats) -> NumericStep:
        cfg = self.config
        n_gaps = stats.n_gaps
        if n_gaps == self.n:
            raise DataError(
                f"feature {name!r} has no value in the {self.n} training rows;"
                " exclude it (infer_schema(..., exclude=[...]))"
            )
        fill = stats.fill(cfg.impute)
        share = n_gaps / self.n
        indicator = f"{name}__missing" if share > cfg.indicator_threshold else None
        if n_gaps:
            ind = (
                f"indicator {indicator}"
                if indicator
                else f"no indicator ({share:.1%} <= {cfg.indicator_threshold:.0%})"
            )
            self.decisions.append(
                f"{name}: {n_gaps} gaps ({share:.1%}) filled with the {cfg.impute}"
                f" {_g(fill)}; {ind}"
            )
        ones = stats.flag_share()
        if ones is not None:
            # A 0/1 flag keeps its values: its variance p(1 - p) is at most 0.25 (a
            # quarter of a standardised column's), so a rare flag cannot pull a segment
            # of its own around it (docs/preparation.md, "Flags").
            self.decisions.append(
                f"{name}: 0/1 flag (1 on {ones:.1%} of rows): kept as 0/1, no transform,"
                " not standardised"
            )
            return NumericStep(name, fill, indicator, None, "none", None, 0.0, 1.0)
        clip = None
        if cfg.winsorize is not None:
            lo, hi = stats.quantiles([cfg.winsorize, 1 - cfg.winsorize])
            clip = (float(lo), float(hi))
            self.decisions.append(
                f"{name}: clipped to [{_g(clip[0])}, {_g(clip[1])}]"
                f" (training quantiles {cfg.winsorize:g} and {1 - cfg.winsorize:g})"
            )
        v = stats.imputed(fill, clip)
        kind, lam = self._choose_transform(name, v)
        center, scale = self._scaling(name, v, kind, lam)
        return NumericStep(name, fill, indicator, clip, kind, lam, center, scale)

    def _choose_transform(self, name: str, v: ImputedStats) -> tuple[Any, float | None]:
        cfg = self.config
        if cfg.skew == "none":
            self.decisions.append(f"{name}: no transform (skew='none')")
            return "none", None
        skew = v.skewness("none", None)
        thr = cfg.skew_threshold
        if cfg.skew == "log1p":
            if skew > thr and v.minimum() >= 0:
                after = v.skewness("log1p", None)
                self.decisions.append(
                    f"{name}: log1p (skewness {skew:.2f} > {thr:g}; {after:.2f} after)"
                )
                return "log1p", None
            if skew > thr:
                self.decisions.append(
                    f"{name}: no transform (skewness {skew:.2f} > {thr:g} but it has negative"
                    " values; use skew='yeo-johnson', --skew yeo-johnson)"
                )
            elif skew < -thr:
                self.decisions.append(
                    f"{name}: no transform (skewness {skew:.2f} is a left tail; log1p only"
                    " shortens right tails)"
                )
            else:
                self.decisions.append(f"{name}: no transform (skewness {skew:.2f} <= {thr:g})")
            return "none", None
        if abs(skew) <= thr:
            self.decisions.append(f"{name}: no transform (|skewness| {abs(skew):.2f} <= {thr:g})")
            return "none", None
        lam_raw = v.yeo_johnson_lambda()
        lam = float(min(max(lam_raw, _LAMBDA_BOUNDS[0]), _LAMBDA_BOUNDS[1]))
        bounded = f", bounded from {lam_raw:.3g}" if lam != lam_raw else ""
        after = v.skewness("yeo-johnson", lam)
        self.decisions.append(
            f"{name}: yeo-johnson lambda {lam:.4g}{bounded} (skewness {skew:.2f},"
            f" |{skew:.2f}| > {thr:g}; {after:.2f} after)"
        )
        return "yeo-johnson", lam

    def _scaling(
        self, name: str, v: ImputedStats, kind: str, lam: float | None
    ) -> tuple[float, float]:
        if self.config.scaling == "robust":
            q25, center, q75 = v.quartiles(kind, lam)
            scale = q75 - q25
            if not scale > 0:
                scale = v.mean_std(kind, lam)[1]
                if scale > 0:
                    self.decisions.append(
                        f"{name}: interquartile range is 0; scaled by the standard deviation"
                    )
        else:
            center, scale = v.mean_std(kind, lam)
        # The bounds a model's steps are held to at load (MIN_SCALE: not subnormal).
        if not MIN_SCALE <= scale <= MAX_STEP_NUMBER:
            self.decisions.append(f"{name}: constant after preparation; scale 1 (contributes 0)")
            scale = 1.0
        return center, scale

    # -- categorical columns

    def _fit_categorical(self, name: str) -> CategoricalStep:
        counts = self.level_counts(name)
        check_level_texts(name, counts.index)  # every level, the rare ones too (decisions)
        shares = counts / self.n
        keep = sorted(str(v) for v in shares.index[shares >= self.config.rare_level_share])
        rare = [str(v) for v in shares.index[shares < self.config.rare_level_share]]
        levels = keep + ([OTHER_LEVEL] if rare and OTHER_LEVEL not in keep else [])
        if rare:
            shown = ", ".join(repr(r) for r in rare[:5]) + (", ..." if len(rare) > 5 else "")
            grouped = (
                f"; {len(rare)} levels rarer than {self.config.rare_level_share:.0%}"
                f" grouped into {OTHER_LEVEL} ({shown})"
            )
        else:
            grouped = "; unseen levels will score as all zeros"
        self.decisions.append(
            f"{name}: one-hot over {len(levels)} levels ({', '.join(levels)}){grouped};"
            " 0/1 columns, not standardised"
        )
        width = len(levels)
        return CategoricalStep(
            name, tuple(levels), MISSING_LEVEL, OTHER_LEVEL, (0.0,) * width, (1.0,) * width
        )


def level_counts(values: np.ndarray) -> pd.Series:
    """Rows per level of a categorical column, gaps counted as :data:`MISSING_LEVEL`."""
    return pd.Series(values, dtype=object).fillna(MISSING_LEVEL).value_counts()


def is_flag(present: np.ndarray) -> bool:
    """Exactly the values 0 and 1 (gaps aside)."""
    return bool(
        present.size
        and ((present == 0.0) | (present == 1.0)).all()
        and present.min() == 0.0
        and present.max() == 1.0
    )


def estimate_lambda(v: np.ndarray) -> float:
    """Yeo-Johnson lambda by maximum likelihood (scipy) on at most 200,000 rows."""
    from scipy import stats  # scipy is only needed for Yeo-Johnson fits

    sample = v[:: max(1, v.size // _LAMBDA_SAMPLE)]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # scipy warns when a trial power overflows during the search; the search
        # moves on to smaller powers, so the warning carries no information here.
        warnings.simplefilter("ignore", RuntimeWarning)
        lam = float(stats.yeojohnson_normmax(sample))
    return lam if math.isfinite(lam) else 1.0
