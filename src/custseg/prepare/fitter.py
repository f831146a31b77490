"""Fitting a preparation plan: learn each step from the training rows, record why.

The fitter builds the training matrix from its own intermediate values while it learns
the parameters; ``PreparationPlan.transform`` recomputes it from the stored numbers with
the same helpers (``custseg.prepare.steps``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._utils.numeric import skewness
from ..config import PrepConfig
from ..exceptions import ConfigError, DataError
from .recipes import CREDIT_CARD_RECIPE, DomainFeature, compute_domain_feature
from .schema import TableSchema
from .steps import (
    MISSING_LEVEL,
    OTHER_LEVEL,
    OUTPUT_BOUND,
    CategoricalStep,
    NumericStep,
    clip_values,
    impute,
    skew_transform,
    yeo_johnson,
)

# Yeo-Johnson powers outside this range send ordinary amounts to astronomically
# large numbers (e.g. lambda 19.8 on TENURE 6..12): the estimate is bounded.
_LAMBDA_BOUNDS = (-3.0, 3.0)
# Rows used to estimate a Yeo-Johnson lambda: a strided subset keeps the estimate
# deterministic and fast on millions of rows.
_LAMBDA_SAMPLE = 200_000


def _g(x: float) -> str:
    return f"{x:.4g}"


@dataclass
class FittedSteps:
    """What :func:`fit_steps` learnt: the plan's parts, the decisions and the columns.

    ``columns`` holds the checked input columns (float64 numeric, object categorical)
    that the training matrix is built from.
    """

    domain_features: list[DomainFeature]
    numeric_steps: list[NumericStep]
    categorical_steps: list[CategoricalStep]
    decisions: list[str]
    columns: dict[str, np.ndarray]


def fit_steps(config: PrepConfig, checked: pd.DataFrame, schema: TableSchema) -> FittedSteps:
    """Learn every preparation step from checked training rows, recording each choice."""
    return _Fitter(config, checked, schema).run()


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


class _Fitter:
    """One fit: learns the steps from the training columns."""

    def __init__(self, config: PrepConfig, checked: pd.DataFrame, schema: TableSchema) -> None:
        self.config = config
        self.frame = checked
        self.schema = schema
        self.n = len(checked)
        self.decisions: list[str] = []

    def run(self) -> FittedSteps:
        numeric = list(self.schema.numeric)
        categorical = list(self.schema.categorical)
        columns: dict[str, np.ndarray] = {
            name: self.frame[name].to_numpy(dtype=np.float64) for name in numeric
        }
        for name in categorical:
            columns[name] = self.frame[name].to_numpy(dtype=object)
        derived: dict[str, np.ndarray] = dict(columns)
        specs = self._domain_specs(numeric, set(numeric) | set(categorical))
        for spec in specs:
            derived[spec.name] = compute_domain_feature(spec, derived)
        specs = [self._usable_derived(spec, derived[spec.name]) for spec in specs]

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
        numeric_steps = [self._fit_numeric(name, derived[name]) for name in num_cols]
        categorical_steps = [self._fit_categorical(name, derived[name]) for name in cat_cols]
        return FittedSteps(specs, numeric_steps, categorical_steps, self.decisions, columns)

    # -- derived features

    def _domain_specs(self, numeric: list[str], present: set[str]) -> list[DomainFeature]:
        if not self.config.domain_features:
            self.decisions.append("derived features: off (domain_features=False)")
            return []
        wanted = self.config.clustering_domain_features
        specs: list[DomainFeature] = []
        for spec in CREDIT_CARD_RECIPE:
            missing = [c for c in spec.source_columns() if c not in numeric]
            if missing:
                self.decisions.append(
                    f"{spec.name}: not derived (needs numeric column {missing[0]})"
                )
                continue
            if spec.name in present:
                self.decisions.append(
                    f"{spec.name}: not derived (the table already has a column of that name)"
                )
                continue
            if wanted is not None:
                spec = spec.with_clustering(spec.name in wanted)
            role = "clustering feature" if spec.clustering else "profile-only"
            self.decisions.append(f"{spec.name}: derived as {spec.formula}; {role}")
            specs.append(spec)
        return specs

    def _usable_derived(self, spec: DomainFeature, values: np.ndarray) -> DomainFeature:
        if spec.clustering and not spec.is_categorical and np.isnan(values).all():
            self.decisions.append(
                f"{spec.name}: profile-only after all (no row has a usable denominator)"
            )
            return spec.with_clustering(False)
        return spec

    # -- numeric columns

    def _fit_numeric(self, name: str, x: np.ndarray) -> NumericStep:
        cfg = self.config
        gaps = np.isnan(x)
        n_gaps = int(gaps.sum())
        if n_gaps == self.n:
            raise DataError(
                f"feature {name!r} has no value in the {self.n} training rows;"
                " exclude it (infer_schema(..., exclude=[...]))"
            )
        present = x[~gaps]
        fill = float(np.median(present) if cfg.impute == "median" else np.mean(present))
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
        if _is_flag(present):
            # A 0/1 flag keeps its values: its variance p(1 - p) is at most 0.25 (a
            # quarter of a standardised column's), so a rare flag cannot pull a segment
            # of its own around it (docs/preparation.md, "Flags").
            share = float(present.mean())
            self.decisions.append(
                f"{name}: 0/1 flag (1 on {share:.1%} of rows): kept as 0/1, no transform,"
                " not standardised"
            )
            return NumericStep(name, fill, indicator, None, "none", None, 0.0, 1.0)
        clip = None
        if cfg.winsorize is not None:
            lo, hi = np.quantile(present, [cfg.winsorize, 1 - cfg.winsorize])
            clip = (float(lo), float(hi))
            self.decisions.append(
                f"{name}: clipped to [{_g(clip[0])}, {_g(clip[1])}]"
                f" (training quantiles {cfg.winsorize:g} and {1 - cfg.winsorize:g})"
            )
        v = clip_values(impute(x, fill), clip)
        kind, lam = self._choose_transform(name, v)
        t = skew_transform(v, kind, lam)
        center, scale = self._scaling(name, t)
        return NumericStep(name, fill, indicator, clip, kind, lam, center, scale)

    def _choose_transform(self, name: str, v: np.ndarray) -> tuple[Any, float | None]:
        cfg = self.config
        if cfg.skew == "none":
            self.decisions.append(f"{name}: no transform (skew='none')")
            return "none", None
        skew = skewness(v)
        thr = cfg.skew_threshold
        if cfg.skew == "log1p":
            if skew > thr and v.min() >= 0:
                after = skewness(np.log1p(v))
                self.decisions.append(
                    f"{name}: log1p (skewness {skew:.2f} > {thr:g}; {after:.2f} after)"
                )
                return "log1p", None
            if skew > thr:
                self.decisions.append(
                    f"{name}: no transform (skewness {skew:.2f} > {thr:g} but it has negative"
                    " values; use skew='yeo-johnson')"
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
        lam_raw = _estimate_lambda(v)
        lam = float(min(max(lam_raw, _LAMBDA_BOUNDS[0]), _LAMBDA_BOUNDS[1]))
        bounded = f", bounded from {lam_raw:.3g}" if lam != lam_raw else ""
        after = skewness(yeo_johnson(v, lam))
        self.decisions.append(
            f"{name}: yeo-johnson lambda {lam:.4g}{bounded} (skewness {skew:.2f},"
            f" |{skew:.2f}| > {thr:g}; {after:.2f} after)"
        )
        return "yeo-johnson", lam

    def _scaling(self, name: str, t: np.ndarray) -> tuple[float, float]:
        if self.config.scaling == "robust":
            q25, center, q75 = (float(q) for q in np.quantile(t, [0.25, 0.5, 0.75]))
            scale = q75 - q25
            if not scale > 0:
                scale = float(np.std(t))
                if scale > 0:
                    self.decisions.append(
                        f"{name}: interquartile range is 0; scaled by the standard deviation"
                    )
        else:
            center = float(np.mean(t))
            scale = float(np.std(t))
        if not (scale > 0 and math.isfinite(scale)):
            self.decisions.append(f"{name}: constant after preparation; scale 1 (contributes 0)")
            scale = 1.0
        return center, scale

    # -- categorical columns

    def _fit_categorical(self, name: str, values: np.ndarray) -> CategoricalStep:
        filled = pd.Series(values, dtype=object).fillna(MISSING_LEVEL)
        counts = filled.value_counts()
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


def _is_flag(present: np.ndarray) -> bool:
    """Exactly the values 0 and 1 (gaps aside)."""
    return bool(
        present.size
        and ((present == 0.0) | (present == 1.0)).all()
        and present.min() == 0.0
        and present.max() == 1.0
    )


def _estimate_lambda(v: np.ndarray) -> float:
    from scipy import stats  # scipy is only needed for Yeo-Johnson fits

    sample = v[:: max(1, v.size // _LAMBDA_SAMPLE)]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # scipy warns when a trial power overflows during the search; the search
        # moves on to smaller powers, so the warning carries no information here.
        warnings.simplefilter("ignore", RuntimeWarning)
        lam = float(stats.yeojohnson_normmax(sample))
    return lam if math.isfinite(lam) else 1.0
