"""The preparation plan: from checked customer rows to the matrix K-means clusters.

:meth:`PreparationPlan.fit` learns every parameter from the training rows (imputation
values, winsorising bounds, skew transforms, scaling statistics, one-hot levels,
optional PCA) and records each choice in plain words. :meth:`PreparationPlan.transform`
applies the same arithmetic with numpy to any frame with the input columns; it never
returns NaN or infinities. :meth:`PreparationPlan.to_dict` is the declarative form read
by scoring, the service and the SQL export; the steps for one numeric column are::

    v = COALESCE(x, impute)                      -- gap indicator: x IS NULL -> 1.0 else 0.0
    v = LEAST(GREATEST(v, clip[0]), clip[1])     -- when clip is set
    t = LN(1 + GREATEST(v, 0))                   -- "log1p": negatives are clipped to 0 first
      | yeo_johnson(v, lambda)                   -- "yeo-johnson"
      | v                                        -- "none"
    z = LEAST(GREATEST((t - center) / scale, -output_bound), output_bound)

and for a categorical column ``c = COALESCE(c, impute)``, ``c`` becomes ``other`` when it
is not one of ``levels``, then one 0/1 column per level (scaled by ``center``/``scale``).
Missing indicators and one-hot columns stay 0/1 so that a rare gap or a rare level does
not dominate the distances.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import numpy as np
import pandas as pd

from .domain import (
    CREDIT_CARD_RECIPE,
    DomainFeature,
    check_recipe_names,
    compute_domain_feature,
)
from .exceptions import ConfigError, DataError, ModelError, SchemaError
from .schema import ColumnInfo, TableSchema, _plain_label, check_rows

__all__ = ["PrepConfig", "PreparationPlan", "NumericStep", "CategoricalStep", "OUTPUT_BOUND"]

PLAN_VERSION = 1
OUTPUT_BOUND = 1e6
"""Prepared coordinates are clipped to +-this many (scaled) units; only absurd inputs reach it."""
MISSING_LEVEL = "__missing__"
OTHER_LEVEL = "__other__"
# Yeo-Johnson powers outside this range send ordinary amounts to astronomically
# large numbers (e.g. lambda 19.8 on TENURE 6..12): the estimate is bounded.
_LAMBDA_BOUNDS = (-3.0, 3.0)
# Rows used to estimate a Yeo-Johnson lambda: a strided subset keeps the estimate
# deterministic and fast on millions of rows.
_LAMBDA_SAMPLE = 200_000


@dataclass(frozen=True)
class PrepConfig:
    """Settings of the preparation plan.

    Parameters
    ----------
    domain_features : bool, default True
        Derive the credit-card recipe features whose source columns are present.
    impute : {"median", "mean"}, default "median"
        Value that fills the gaps of a numeric column.
    indicator_threshold : float, default 0.05
        Add a 0/1 missing-indicator column when a column's share of gaps exceeds this.
    skew : {"log1p", "yeo-johnson", "none"}, default "log1p"
        Treatment of skewed columns. ``log1p`` applies to non-negative columns with
        skewness above ``skew_threshold`` (right tails); ``yeo-johnson`` to any column
        with ``|skewness|`` above it, with lambda estimated on the training rows.
    skew_threshold : float, default 1.0
        Skewness beyond which a column is transformed.
    winsorize : float or None, default None
        Clip each numeric column at its ``winsorize`` and ``1 - winsorize`` training
        quantiles (e.g. 0.01), before the skew transform.
    scaling : {"standard", "robust"}, default "standard"
        Mean and standard deviation, or median and interquartile range.
    pca : int, float or None, default None
        Number of principal components to keep, or the share of variance (0-1].
    rare_level_share : float, default 0.01
        Categorical levels rarer than this share are grouped into ``"__other__"``.
    clustering_domain_features : tuple of str or None, default None
        Derived features that enter the clustering; ``None`` uses the recipe's
        defaults (see ``docs/preparation.md``), ``()`` makes them all profile-only.
    """

    domain_features: bool = True
    impute: Literal["median", "mean"] = "median"
    indicator_threshold: float = 0.05
    skew: Literal["log1p", "yeo-johnson", "none"] = "log1p"
    skew_threshold: float = 1.0
    winsorize: float | None = None
    scaling: Literal["standard", "robust"] = "standard"
    pca: int | float | None = None
    rare_level_share: float = 0.01
    clustering_domain_features: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _choice("impute", self.impute, ("median", "mean"))
        _choice("skew", self.skew, ("log1p", "yeo-johnson", "none"))
        _choice("scaling", self.scaling, ("standard", "robust"))
        if not isinstance(self.domain_features, bool):
            raise ConfigError(f"domain_features={self.domain_features!r} should be true or false")
        _share("indicator_threshold", self.indicator_threshold, low=0.0, high=1.0)
        _share("rare_level_share", self.rare_level_share, low=0.0, high=0.5)
        if not _is_number(self.skew_threshold) or self.skew_threshold < 0:
            raise ConfigError(f"skew_threshold={self.skew_threshold!r} should be a number >= 0")
        if self.winsorize is not None and (
            not _is_number(self.winsorize) or not 0 < self.winsorize < 0.5
        ):
            raise ConfigError(
                f"winsorize={self.winsorize!r} should be None or a share in (0, 0.5), e.g. 0.01"
            )
        if self.pca is not None:
            bad_int = isinstance(self.pca, int) and not isinstance(self.pca, bool) and self.pca < 1
            bad_float = isinstance(self.pca, float) and not 0 < self.pca <= 1
            if not _is_number(self.pca) or bad_int or bad_float:
                raise ConfigError(
                    f"pca={self.pca!r} should be None, a number of components >= 1 or a"
                    " share of variance in (0, 1]"
                )
        if self.clustering_domain_features is not None:
            names = check_recipe_names(
                self.clustering_domain_features, "clustering_domain_features"
            )
            object.__setattr__(self, "clustering_domain_features", names)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data."""
        out = asdict(self)
        if self.clustering_domain_features is not None:
            out["clustering_domain_features"] = list(self.clustering_domain_features)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrepConfig:
        """Settings from plain data (unknown keys are an error).

        Raises
        ------
        ConfigError
            If a key is unknown or a value is not valid.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown preparation settings {unknown}; valid: {sorted(known)}")
        values = dict(data)
        cdf = values.get("clustering_domain_features")
        if isinstance(cdf, list):
            values["clustering_domain_features"] = tuple(cdf)
        return cls(**values)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _choice(option: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{option}={value!r} should be one of {', '.join(allowed)}")


def _share(option: str, value: object, *, low: float, high: float) -> None:
    if not _is_number(value) or not low <= float(value) <= high:  # type: ignore[arg-type]
        raise ConfigError(f"{option}={value!r} should be a share between {low} and {high}")


@dataclass(frozen=True)
class NumericStep:
    """Fitted preparation of one numeric column (raw or derived)."""

    column: str
    impute: float
    indicator: str | None
    clip: tuple[float, float] | None
    transform: Literal["log1p", "yeo-johnson", "none"]
    lambda_: float | None
    center: float
    scale: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "impute": self.impute,
            "indicator": self.indicator,
            "clip": None if self.clip is None else [self.clip[0], self.clip[1]],
            "transform": self.transform,
            "lambda": self.lambda_,
            "center": self.center,
            "scale": self.scale,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NumericStep:
        clip = d["clip"]
        lam = d["lambda"]
        if d["transform"] not in ("log1p", "yeo-johnson", "none"):
            raise ModelError(f"unknown transform {d['transform']!r} for column {d['column']!r}")
        return cls(
            column=str(d["column"]),
            impute=float(d["impute"]),
            indicator=None if d["indicator"] is None else str(d["indicator"]),
            clip=None if clip is None else (float(clip[0]), float(clip[1])),
            transform=d["transform"],
            lambda_=None if lam is None else float(lam),
            center=float(d["center"]),
            scale=float(d["scale"]),
        )


@dataclass(frozen=True)
class CategoricalStep:
    """Fitted one-hot encoding of one categorical column (raw or derived)."""

    column: str
    levels: tuple[str, ...]
    impute: str
    other: str
    center: tuple[float, ...]
    scale: tuple[float, ...]

    def output_names(self) -> list[str]:
        return [f"{self.column}={level}" for level in self.levels]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "levels": list(self.levels),
            "impute": self.impute,
            "other": self.other,
            "center": list(self.center),
            "scale": list(self.scale),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CategoricalStep:
        levels = tuple(str(v) for v in d["levels"])
        center = tuple(float(v) for v in d["center"])
        scale = tuple(float(v) for v in d["scale"])
        if not len(levels) == len(center) == len(scale):
            raise ModelError(f"column {d['column']!r}: levels, center and scale differ in length")
        return cls(str(d["column"]), levels, str(d["impute"]), str(d["other"]), center, scale)


class PreparationPlan:
    """Fitted, declarative preparation of customer rows into a float64 matrix.

    Build it with :meth:`fit` (or :meth:`from_dict`); the constructor only stores
    fitted parts.

    Attributes
    ----------
    config : PrepConfig
        The settings it was fitted with.
    input_columns : list of str
        Raw columns required by :meth:`transform` (numeric then categorical).
    domain_features : list of DomainFeature
        Derived features available in :meth:`derive`, with their ``clustering`` flag.
    numeric_steps, categorical_steps : list
        Fitted steps, in output order.
    pca : dict or None
        ``mean``, ``components`` (rows), ``explained_variance_ratio`` and
        ``input_names`` when PCA is used.
    feature_names : list of str
        Columns of the :meth:`transform` output.
    decisions : list of str
        Every choice, in plain words.
    """

    def __init__(
        self,
        *,
        config: PrepConfig,
        input_numeric: list[str],
        input_categorical: list[str],
        domain_features: list[DomainFeature],
        numeric_steps: list[NumericStep],
        categorical_steps: list[CategoricalStep],
        pca: dict[str, Any] | None,
        decisions: list[str],
    ) -> None:
        self.config = config
        self.input_numeric = list(input_numeric)
        self.input_categorical = list(input_categorical)
        self.domain_features = list(domain_features)
        self.numeric_steps = list(numeric_steps)
        self.categorical_steps = list(categorical_steps)
        self.pca = pca
        self.decisions = list(decisions)
        self._pca_arrays = _pca_arrays(pca)

    # ------------------------------------------------------------------ properties

    @property
    def input_columns(self) -> list[str]:
        """Raw columns required at scoring, numeric then categorical."""
        return self.input_numeric + self.input_categorical

    @property
    def prepared_names(self) -> list[str]:
        """Columns before PCA: numeric steps (each followed by its indicator), then one-hots."""
        names: list[str] = []
        for step in self.numeric_steps:
            names.append(step.column)
            if step.indicator is not None:
                names.append(step.indicator)
        for cat in self.categorical_steps:
            names.extend(cat.output_names())
        return names

    @property
    def feature_names(self) -> list[str]:
        """Columns of the :meth:`transform` output."""
        if self.pca is not None:
            return [f"PC{i + 1}" for i in range(len(self.pca["components"]))]
        return self.prepared_names

    @property
    def clustering_domain_features(self) -> list[str]:
        """Derived features that enter the clustering."""
        return [f.name for f in self.domain_features if f.clustering]

    def __repr__(self) -> str:
        return (
            f"PreparationPlan(inputs={len(self.input_columns)},"
            f" features={len(self.feature_names)}, derived={len(self.domain_features)})"
        )

    # ------------------------------------------------------------------ fitting

    @classmethod
    def fit(
        cls, frame: pd.DataFrame, schema: TableSchema, config: PrepConfig | None = None
    ) -> PreparationPlan:
        """Learn the preparation from training rows.

        Parameters
        ----------
        frame : pandas.DataFrame
            Training rows with the schema's feature columns (any order, extra
            columns ignored).
        schema : TableSchema
            Roles of the columns (from :func:`custseg.schema.infer_schema`).
        config : PrepConfig, optional
            Settings; ``PrepConfig()`` by default.

        Returns
        -------
        PreparationPlan

        Raises
        ------
        DataError
            If the schema has no feature, there are fewer than 2 rows, a value is
            not a number or infinite (name, example and count in the message; filter
            rows with :func:`custseg.schema.check_rows` first), or a feature has no
            value at all.
        SchemaError
            If a feature column is missing from ``frame``.
        """
        plan, _ = cls._fit(frame, schema, config)
        return plan

    @classmethod
    def fit_transform(
        cls, frame: pd.DataFrame, schema: TableSchema, config: PrepConfig | None = None
    ) -> tuple[PreparationPlan, np.ndarray]:
        """Fit the plan and return it with the prepared training matrix.

        The matrix is built from the intermediate values of the fit itself; it is
        identical to ``plan.transform(frame)``.
        """
        return cls._fit(frame, schema, config)

    @classmethod
    def _fit(
        cls, frame: pd.DataFrame, schema: TableSchema, config: PrepConfig | None
    ) -> tuple[PreparationPlan, np.ndarray]:
        config = PrepConfig() if config is None else config
        if not isinstance(config, PrepConfig):
            raise ConfigError(
                f"config should be a PrepConfig, got {type(config).__name__}; build it with"
                " PrepConfig(...)"
            )
        if not isinstance(schema, TableSchema):
            raise SchemaError(
                f"schema should be a TableSchema, got {type(schema).__name__}; build it with"
                " infer_schema(frame)"
            )
        if not schema.features:
            ignored = "; ".join(f"{c.name}: {c.reason}" for c in schema.columns[:5])
            raise DataError(
                f"the table has no usable feature column ({ignored}); pass features=[...]"
                " to infer_schema or add behavioural columns"
            )
        checked = check_rows(frame, schema, require_id=False)
        checked.raise_if_rejected()
        n = len(checked.frame)
        if n < 2:
            raise DataError(f"n_rows={n} should be >= 2 to fit a preparation plan")
        fitter = _Fitter(config, checked.frame, schema)
        return fitter.run(cls)

    # ------------------------------------------------------------------ applying

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Prepare rows with the fitted parameters.

        Parameters
        ----------
        frame : pandas.DataFrame
            Rows with the :attr:`input_columns` (any order; extra columns ignored).
            Gaps are imputed; unseen categories go to ``"__other__"`` (all-zero when
            the column has no such level).

        Returns
        -------
        numpy.ndarray
            Float64 of shape ``(n_rows, len(feature_names))``, always finite.

        Raises
        ------
        SchemaError
            If an input column is missing.
        DataError
            If a value is not a number or infinite; filter such rows first with
            :func:`custseg.schema.check_rows` (``RowCheck.accepted()``).
        """
        columns = self._checked_columns(frame)
        parts: list[np.ndarray] = []
        for step in self.numeric_steps:
            x = columns[step.column]
            parts.append(_apply_numeric(x, step))
            if step.indicator is not None:
                parts.append(np.isnan(x).astype(np.float64))
        for cat in self.categorical_steps:
            parts.append(_apply_categorical(columns[cat.column], cat))
        matrix = _stack(parts, len(frame))
        return self._project(matrix)

    def derive(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The input rows plus every derived feature, in original units.

        Numeric input columns are returned as float64; derived ratios are NaN where
        their denominator is <= 0 or a source is missing (profiles see the truth,
        the clustering sees imputed values).

        Raises
        ------
        SchemaError
            If an input column is missing.
        DataError
            If a value is not a number or infinite.
        """
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"derive expects a pandas DataFrame, got {type(frame).__name__}")
        checked = self._check(frame)
        out = frame.copy()
        lookup = {str(c).replace("\ufeff", "").strip(): c for c in frame.columns}
        for name in self.input_numeric:
            out[lookup[name]] = checked[name].to_numpy()
        arrays = {name: checked[name].to_numpy() for name in self.input_numeric}
        for spec in self.domain_features:
            out[spec.name] = compute_domain_feature(spec, arrays)
        return out

    def _check(self, frame: pd.DataFrame) -> pd.DataFrame:
        checked = check_rows(frame, self._input_schema(), require_id=False)
        if checked.n_rejected:
            bad = checked.reasons.loc[~checked.usable]
            row = _plain_label(bad.index[0])
            raise DataError(
                f"{checked.n_rejected} rows cannot be prepared (e.g. row {row!r}:"
                f" {bad.iloc[0]}); filter them with check_rows(...).accepted() first"
            )
        return checked.frame

    def _checked_columns(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"transform expects a pandas DataFrame, got {type(frame).__name__}")
        checked = self._check(frame)
        columns: dict[str, np.ndarray] = {}
        for name in self.input_numeric:
            columns[name] = checked[name].to_numpy(dtype=np.float64)
        for name in self.input_categorical:
            columns[name] = checked[name].to_numpy(dtype=object)
        for spec in self.domain_features:
            if spec.clustering:
                columns[spec.name] = compute_domain_feature(spec, columns)
        return columns

    def _input_schema(self) -> TableSchema:
        infos = [
            ColumnInfo(name, "numeric", "float64", "input of the preparation plan")
            for name in self.input_numeric
        ] + [
            ColumnInfo(name, "categorical", "object", "input of the preparation plan")
            for name in self.input_categorical
        ]
        return TableSchema(columns=tuple(infos))

    def _project(self, matrix: np.ndarray) -> np.ndarray:
        if self._pca_arrays is None:
            return matrix
        mean, components = self._pca_arrays
        return np.asarray((matrix - mean) @ components.T, dtype=np.float64)

    # ------------------------------------------------------------------ plain data

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready plain data (the layout of ``docs/architecture.md``)."""
        return {
            "version": PLAN_VERSION,
            "config": self.config.to_dict(),
            "input_columns": {
                "numeric": list(self.input_numeric),
                "categorical": list(self.input_categorical),
            },
            "domain_features": [f.to_dict() for f in self.domain_features],
            "numeric": [s.to_dict() for s in self.numeric_steps],
            "categorical": [s.to_dict() for s in self.categorical_steps],
            "output_bound": OUTPUT_BOUND,
            "pca": None if self.pca is None else _copy_pca(self.pca),
            "feature_names": self.feature_names,
            "decisions": list(self.decisions),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PreparationPlan:
        """Rebuild a plan written by :meth:`to_dict` (after a JSON round trip too).

        Raises
        ------
        ModelError
            If the data is not a plan of a known version or is inconsistent.
        """
        if not isinstance(data, Mapping) or data.get("version") != PLAN_VERSION:
            version = data.get("version") if isinstance(data, Mapping) else type(data).__name__
            raise ModelError(
                f"the preparation plan has version {version!r} but this custseg reads"
                f" version {PLAN_VERSION}; refit the model with this version of custseg"
            )
        try:
            bound = float(data.get("output_bound", OUTPUT_BOUND))
            if bound != OUTPUT_BOUND:
                raise ModelError(f"output_bound={bound} differs from {OUTPUT_BOUND}")
            plan = cls(
                config=PrepConfig.from_dict(data["config"]),
                input_numeric=[str(c) for c in data["input_columns"]["numeric"]],
                input_categorical=[str(c) for c in data["input_columns"]["categorical"]],
                domain_features=[DomainFeature.from_dict(d) for d in data["domain_features"]],
                numeric_steps=[NumericStep.from_dict(d) for d in data["numeric"]],
                categorical_steps=[CategoricalStep.from_dict(d) for d in data["categorical"]],
                pca=None if data.get("pca") is None else _copy_pca(data["pca"]),
                decisions=[str(d) for d in data.get("decisions", [])],
            )
        except (KeyError, TypeError, ValueError, ConfigError) as exc:
            raise ModelError(
                f"the preparation plan is malformed ({type(exc).__name__}: {exc}); refit the model"
            ) from exc
        names = data.get("feature_names")
        if names is not None and list(names) != plan.feature_names:
            raise ModelError(
                "the preparation plan's feature_names do not match its steps; refit the model"
            )
        return plan


# ---------------------------------------------------------------------- arithmetic
# The same helpers serve fit and transform, so that both produce identical bits.


def _impute(x: np.ndarray, value: float) -> np.ndarray:
    return np.where(np.isnan(x), value, x)


def _clip(v: np.ndarray, clip: tuple[float, float] | None) -> np.ndarray:
    return v if clip is None else np.clip(v, clip[0], clip[1])


def _skew_transform(v: np.ndarray, kind: str, lam: float | None) -> np.ndarray:
    if kind == "log1p":
        # Scoring rows may hold negatives (refunds) in a column that was
        # non-negative in training: they are clipped to 0 so that log1p is defined.
        return np.log1p(np.maximum(v, 0.0))
    if kind == "yeo-johnson":
        assert lam is not None
        return _yeo_johnson(v, lam)
    return v


def _yeo_johnson(v: np.ndarray, lam: float) -> np.ndarray:
    out = np.empty_like(v)
    pos = v >= 0
    with np.errstate(over="ignore", invalid="ignore"):
        if lam == 0.0:
            out[pos] = np.log1p(v[pos])
        else:
            out[pos] = (np.power(v[pos] + 1.0, lam) - 1.0) / lam
        if lam == 2.0:
            out[~pos] = -np.log1p(-v[~pos])
        else:
            out[~pos] = -(np.power(1.0 - v[~pos], 2.0 - lam) - 1.0) / (2.0 - lam)
    return out


def _scale(t: np.ndarray, center: float, scale: float) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        z = (t - center) / scale
    # Overflowed values (+-inf) are pinned to the bound; they only arise from absurd inputs.
    return np.clip(z, -OUTPUT_BOUND, OUTPUT_BOUND)


def _apply_numeric(x: np.ndarray, step: NumericStep) -> np.ndarray:
    v = _clip(_impute(x, step.impute), step.clip)
    return _scale(_skew_transform(v, step.transform, step.lambda_), step.center, step.scale)


def _category_codes(values: np.ndarray, step: CategoricalStep) -> np.ndarray:
    """Index into ``step.levels`` per row, -1 for a level without a column."""
    filled = pd.Series(values, dtype=object).fillna(step.impute)
    codes = pd.Index(list(step.levels), dtype=object).get_indexer(pd.Index(filled))
    if step.other in step.levels:
        codes[codes < 0] = step.levels.index(step.other)
    return codes


def _apply_categorical(values: np.ndarray, step: CategoricalStep) -> np.ndarray:
    codes = _category_codes(values, step)
    onehot = (codes[:, None] == np.arange(len(step.levels))[None, :]).astype(np.float64)
    return (onehot - np.asarray(step.center)) / np.asarray(step.scale)


def _stack(parts: list[np.ndarray], n: int) -> np.ndarray:
    cols = [p.reshape(n, -1) for p in parts]
    return np.hstack(cols) if cols else np.empty((n, 0))


def _skewness(v: np.ndarray) -> float:
    """Sample skewness (biased, like pandas' moment estimator without correction)."""
    mean = float(v.mean())
    d = v - mean
    sd = math.sqrt(float(np.mean(d * d)))
    # Spread at rounding level (or none) is a constant column: no skew to treat.
    if not math.isfinite(sd) or sd <= 1e-12 * max(1.0, abs(mean)):
        return 0.0
    z = d / sd
    value = float(np.mean(z * z * z))  # z * z * z: a float power is 10x slower
    return value if math.isfinite(value) else 0.0


def _pca_arrays(pca: Mapping[str, Any] | None) -> tuple[np.ndarray, np.ndarray] | None:
    if pca is None:
        return None
    mean = np.asarray(pca["mean"], dtype=np.float64)
    components = np.asarray(pca["components"], dtype=np.float64).reshape(-1, mean.size)
    return mean, components


def _copy_pca(pca: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "input_names": [str(n) for n in pca["input_names"]],
        "mean": [float(v) for v in pca["mean"]],
        "components": [[float(v) for v in row] for row in pca["components"]],
        "explained_variance_ratio": [float(v) for v in pca["explained_variance_ratio"]],
    }


def _g(x: float) -> str:
    return f"{x:.4g}"


class _Fitter:
    """One fit: learns the steps and builds the training matrix on the way."""

    def __init__(self, config: PrepConfig, checked: pd.DataFrame, schema: TableSchema) -> None:
        self.config = config
        self.frame = checked
        self.schema = schema
        self.n = len(checked)
        self.decisions: list[str] = []

    def run(self, cls: type[PreparationPlan]) -> tuple[PreparationPlan, np.ndarray]:
        numeric = list(self.schema.numeric)
        categorical = list(self.schema.categorical)
        columns: dict[str, np.ndarray] = {
            name: self.frame[name].to_numpy(dtype=np.float64) for name in numeric
        }
        for name in categorical:
            columns[name] = self.frame[name].to_numpy(dtype=object)
        specs = self._domain_specs(numeric, set(numeric) | set(categorical))
        for spec in specs:
            columns[spec.name] = compute_domain_feature(spec, columns)
        specs = [self._usable_derived(spec, columns[spec.name]) for spec in specs]

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
        parts: list[np.ndarray] = []
        numeric_steps: list[NumericStep] = []
        for name in num_cols:
            step, z = self._fit_numeric(name, columns[name])
            numeric_steps.append(step)
            parts.append(z)
            if step.indicator is not None:
                parts.append(np.isnan(columns[name]).astype(np.float64))
        categorical_steps: list[CategoricalStep] = []
        for name in cat_cols:
            cat = self._fit_categorical(name, columns[name])
            categorical_steps.append(cat)
            parts.append(_apply_categorical(columns[name], cat))
        matrix = _stack(parts, self.n)
        plan = cls(
            config=self.config,
            input_numeric=numeric,
            input_categorical=categorical,
            domain_features=specs,
            numeric_steps=numeric_steps,
            categorical_steps=categorical_steps,
            pca=None,
            decisions=self.decisions,
        )
        if self.config.pca is not None:
            plan.pca = self._fit_pca(matrix, plan.prepared_names)
            plan._pca_arrays = _pca_arrays(plan.pca)
            plan.decisions = self.decisions
        return plan, plan._project(matrix)

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

    def _fit_numeric(self, name: str, x: np.ndarray) -> tuple[NumericStep, np.ndarray]:
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
        clip = None
        if cfg.winsorize is not None:
            lo, hi = np.quantile(present, [cfg.winsorize, 1 - cfg.winsorize])
            clip = (float(lo), float(hi))
            self.decisions.append(
                f"{name}: clipped to [{_g(clip[0])}, {_g(clip[1])}]"
                f" (training quantiles {cfg.winsorize:g} and {1 - cfg.winsorize:g})"
            )
        v = _clip(_impute(x, fill), clip)
        kind, lam = self._choose_transform(name, v)
        t = _skew_transform(v, kind, lam)
        center, scale = self._scaling(name, t)
        step = NumericStep(name, fill, indicator, clip, kind, lam, center, scale)
        return step, _scale(t, center, scale)

    def _choose_transform(self, name: str, v: np.ndarray) -> tuple[Any, float | None]:
        cfg = self.config
        if cfg.skew == "none":
            self.decisions.append(f"{name}: no transform (skew='none')")
            return "none", None
        skew = _skewness(v)
        thr = cfg.skew_threshold
        if cfg.skew == "log1p":
            if skew > thr and v.min() >= 0:
                after = _skewness(np.log1p(v))
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
        after = _skewness(_yeo_johnson(v, lam))
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

    # -- PCA

    def _fit_pca(self, matrix: np.ndarray, names: list[str]) -> dict[str, Any]:
        d = matrix.shape[1]
        want = self.config.pca
        if isinstance(want, int) and want > d:
            raise ConfigError(f"pca={want} should be <= the number of prepared columns {d}")
        mean = matrix.mean(axis=0)
        centred = matrix - mean
        cov = centred.T @ centred / self.n
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
            keep = int(want)  # type: ignore[arg-type]
        components = eigvec[:, :keep].T
        # Sign convention: the largest loading of each component is positive, so that
        # refits on the same data give the same axes.
        big = np.argmax(np.abs(components), axis=1)
        signs = np.sign(components[np.arange(keep), big])
        signs[signs == 0] = 1.0
        components = components * signs[:, None]
        kept = float(ratio[:keep].sum())
        self.decisions.append(f"PCA: kept {keep} of {d} components ({kept:.1%} of the variance)")
        return {
            "input_names": list(names),
            "mean": [float(v) for v in mean],
            "components": [[float(v) for v in row] for row in components],
            "explained_variance_ratio": [float(v) for v in ratio[:keep]],
        }


def _estimate_lambda(v: np.ndarray) -> float:
    from scipy import stats  # scipy is only needed for Yeo-Johnson fits

    sample = v[:: max(1, v.size // _LAMBDA_SAMPLE)]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # scipy warns when a trial power overflows during the search; the search
        # moves on to smaller powers, so the warning carries no information here.
        warnings.simplefilter("ignore", RuntimeWarning)
        lam = float(stats.yeojohnson_normmax(sample))
    return lam if math.isfinite(lam) else 1.0
