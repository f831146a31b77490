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
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..exceptions import ConfigError, DataError, ModelError, SchemaError
from .fitter import _Fitter
from .recipes import DomainFeature, check_recipe_names, compute_domain_feature
from .schema import ColumnInfo, RowCheck, TableSchema, _plain_label, check_rows
from .steps import (
    MISSING_LEVEL,
    OTHER_LEVEL,
    OUTPUT_BOUND,
    CategoricalStep,
    NumericStep,
    _apply_categorical,
    _apply_numeric_into,
    _copy_pca,
    _pca_arrays,
)

__all__ = [
    "PrepConfig",
    "PreparationPlan",
    "NumericStep",
    "CategoricalStep",
    "OUTPUT_BOUND",
    "MISSING_LEVEL",
    "OTHER_LEVEL",
]

PLAN_VERSION = 1


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
        cls, frame: pd.DataFrame | RowCheck, schema: TableSchema, config: PrepConfig | None = None
    ) -> PreparationPlan:
        """Learn the preparation from training rows.

        Parameters
        ----------
        frame : pandas.DataFrame or RowCheck
            Training rows with the schema's feature columns (any order, extra
            columns ignored), or the :class:`RowCheck` of rows already checked
            against ``schema`` (they are not checked again).
        schema : TableSchema
            Roles of the columns (from :func:`custseg.prepare.schema.infer_schema`).
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
            rows with :func:`custseg.prepare.schema.check_rows` first), or a feature has no
            value at all.
        SchemaError
            If a feature column is missing from ``frame``.
        """
        plan, _ = cls._fit(frame, schema, config)
        return plan

    @classmethod
    def fit_transform(
        cls, frame: pd.DataFrame | RowCheck, schema: TableSchema, config: PrepConfig | None = None
    ) -> tuple[PreparationPlan, np.ndarray]:
        """Fit the plan and return it with the prepared training matrix.

        The matrix is built from the intermediate values of the fit itself; it is
        identical to ``plan.transform(frame)``.
        """
        return cls._fit(frame, schema, config)

    @classmethod
    def _fit(
        cls, frame: pd.DataFrame | RowCheck, schema: TableSchema, config: PrepConfig | None
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
        if isinstance(frame, RowCheck):
            checked = frame
        else:
            checked = check_rows(frame, schema, require_id=False)
        checked.raise_if_rejected()
        n = len(checked.frame)
        if n < 2:
            raise DataError(f"n_rows={n} should be >= 2 to fit a preparation plan")
        fitter = _Fitter(config, checked.frame, schema)
        return fitter.run(cls)

    # ------------------------------------------------------------------ applying

    def transform(self, frame: pd.DataFrame | RowCheck) -> np.ndarray:
        """Prepare rows with the fitted parameters.

        Parameters
        ----------
        frame : pandas.DataFrame or RowCheck
            Rows with the :attr:`input_columns` (any order; extra columns ignored),
            or the :class:`RowCheck` of rows already checked (not checked again).
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
            :func:`custseg.prepare.schema.check_rows` (``RowCheck.accepted()``).
        """
        columns = self._checked_columns(frame)
        n_rows = len(frame.frame) if isinstance(frame, RowCheck) else len(frame)
        return np.ascontiguousarray(self.transform_checked(columns, n_rows))

    def transform_checked(self, columns: Mapping[str, np.ndarray], n_rows: int) -> np.ndarray:
        """Prepare columns that were already checked, without checking them again.

        For callers that check rows themselves (scoring rejects bad rows first).

        Parameters
        ----------
        columns : mapping of str to numpy.ndarray
            Every input column: float64 arrays with NaN for gaps (numeric), object
            arrays (categorical). Derived clustering features are computed here.
        n_rows : int
            Length of every array.

        Returns
        -------
        numpy.ndarray
            Float64 of shape ``(n_rows, len(feature_names))``, column-major (each
            feature is filled in place in one contiguous row of a transposed buffer);
            the same values as :meth:`transform`, bit for bit.
        """
        available = dict(columns)
        for spec in self.domain_features:
            if spec.clustering:
                available[spec.name] = compute_domain_feature(spec, available)
        out = np.empty((len(self.prepared_names), n_rows), dtype=np.float64)
        j = 0
        for step in self.numeric_steps:
            x = available[step.column]
            gaps = np.isnan(x)
            _apply_numeric_into(out[j], x, gaps, step)
            j += 1
            if step.indicator is not None:
                out[j] = gaps
                j += 1
        for cat in self.categorical_steps:
            onehot = _apply_categorical(available[cat.column], cat)
            out[j : j + onehot.shape[1]] = onehot.T
            j += onehot.shape[1]
        matrix = out.T
        if self._pca_arrays is None:
            return matrix
        # The projection's rounding depends on the memory layout: project row-major
        # rows, as the fit did.
        return self._project(np.ascontiguousarray(matrix))

    def derive(self, frame: pd.DataFrame | RowCheck) -> pd.DataFrame:
        """The input rows plus every derived feature, in original units.

        Numeric input columns are returned as float64; derived ratios are NaN where
        their denominator is <= 0 or a source is missing (profiles see the truth,
        the clustering sees imputed values). Pass the :class:`RowCheck` of rows that
        were already checked to skip checking them again.

        Raises
        ------
        SchemaError
            If an input column is missing.
        DataError
            If a value is not a number or infinite.
        """
        if not isinstance(frame, pd.DataFrame | RowCheck):
            raise DataError(f"derive expects a pandas DataFrame, got {type(frame).__name__}")
        checked = self._check(frame)
        base = frame.frame if isinstance(frame, RowCheck) else frame
        out = base.copy()
        lookup = {str(c).replace("\ufeff", "").strip(): c for c in base.columns}
        for name in self.input_numeric:
            out[lookup[name]] = checked[name].to_numpy()
        arrays = {name: checked[name].to_numpy() for name in self.input_numeric}
        for spec in self.domain_features:
            out[spec.name] = compute_domain_feature(spec, arrays)
        return out

    def _check(self, frame: pd.DataFrame | RowCheck) -> pd.DataFrame:
        if isinstance(frame, RowCheck):
            # Already checked by the caller: only its verdict and its columns are verified.
            checked = frame
            missing = [c for c in self.input_columns if c not in checked.frame.columns]
            if missing:
                raise SchemaError(
                    f"the checked rows lack the plan's input column(s) {missing}; check them"
                    " against the model's schema"
                )
        else:
            checked = check_rows(frame, self._input_schema(), require_id=False)
        if checked.n_rejected:
            bad = checked.reasons.loc[~checked.usable]
            row = _plain_label(bad.index[0])
            raise DataError(
                f"{checked.n_rejected} rows cannot be prepared (e.g. row {row!r}:"
                f" {bad.iloc[0]}); filter them with check_rows(...).accepted() first"
            )
        return checked.frame

    def _checked_columns(self, frame: pd.DataFrame | RowCheck) -> dict[str, np.ndarray]:
        if not isinstance(frame, pd.DataFrame | RowCheck):
            raise DataError(f"transform expects a pandas DataFrame, got {type(frame).__name__}")
        checked = self._check(frame)
        columns: dict[str, np.ndarray] = {}
        for name in self.input_numeric:
            columns[name] = checked[name].to_numpy(dtype=np.float64)
        for name in self.input_categorical:
            columns[name] = checked[name].to_numpy(dtype=object)
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
