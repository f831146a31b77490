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

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._utils.checks import check_frame
from .._utils.lazy import lazy_module
from ..config import PrepConfig
from ..exceptions import ConfigError, DataError, ModelError, SchemaError
from .recipes import DomainFeature, check_recipe_names, compute_domain_feature
from .redundancy import RedundancyGroup
from .rows import RowCheck, check_rows
from .schema import ColumnInfo, TableSchema
from .steps import (
    MISSING_LEVEL,
    OTHER_LEVEL,
    OUTPUT_BOUND,
    CategoricalStep,
    NumericStep,
    apply_categorical,
    apply_numeric_into,
    check_pca,
    copy_pca,
    pca_arrays,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "PreparationPlan",
    "NumericStep",
    "CategoricalStep",
    "OUTPUT_BOUND",
    "MISSING_LEVEL",
    "OTHER_LEVEL",
]

PLAN_VERSION = 1

# The fix when derive or transform gets something else than rows.
_TABLE_OR_ROW_CHECK = "pass the table itself, or the RowCheck of check_rows"


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
    redundancy : list of RedundancyGroup
        Groups of columns that encode one fact, each clustered once (numeric columns
        set aside stay in ``input_numeric``: profiled, read at scoring, not prepared).
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
        redundancy: list[RedundancyGroup] | None = None,
    ) -> None:
        self.config = config
        self.input_numeric = list(input_numeric)
        self.input_categorical = list(input_categorical)
        self.domain_features = list(domain_features)
        self.numeric_steps = list(numeric_steps)
        self.categorical_steps = list(categorical_steps)
        self.pca = pca
        self.decisions = list(decisions)
        self.redundancy = list(redundancy or [])
        self._pca_arrays = pca_arrays(pca)

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
        if config.clustering_domain_features is not None:
            check_recipe_names(config.clustering_domain_features, "clustering_domain_features")
        from .fitter import fit_pca, fit_steps  # fitting only: scoring never loads it

        steps = fit_steps(config, checked.frame, schema)
        plan = cls(
            config=config,
            input_numeric=list(schema.numeric),
            input_categorical=list(schema.categorical),
            domain_features=steps.domain_features,
            numeric_steps=steps.numeric_steps,
            categorical_steps=steps.categorical_steps,
            pca=None,
            decisions=steps.decisions,
            redundancy=steps.redundancy,
        )
        # The training matrix comes from the very function that prepares rows at
        # scoring time: the same bits by construction, built in one buffer.
        matrix = np.ascontiguousarray(plan.transform_checked(steps.columns, n))
        if config.pca is None:
            return plan, matrix
        pca, decision = fit_pca(matrix, plan.prepared_names, config.pca)
        plan.pca = pca
        plan._pca_arrays = pca_arrays(pca)
        plan.decisions.append(decision)
        return plan, plan._project(matrix)

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

    def transform_checked(
        self,
        columns: Mapping[str, np.ndarray],
        n_rows: int,
        *,
        gap_free: Collection[str] = (),
    ) -> np.ndarray:
        """Prepare columns that were already checked, without checking them again.

        For callers that check rows themselves (scoring rejects bad rows first).

        Parameters
        ----------
        columns : mapping of str to numpy.ndarray
            Every input column: float64 arrays with NaN for gaps (numeric), object
            arrays (categorical). Derived clustering features are computed here.
        n_rows : int
            Length of every array.
        gap_free : collection of str, default=()
            Input columns the caller knows hold no NaN (their gaps are not looked for).

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
            gaps = None if step.column in gap_free else np.isnan(x)
            apply_numeric_into(out[j], x, gaps, step)
            j += 1
            if step.indicator is not None:
                out[j] = 0.0 if gaps is None else gaps
                j += 1
        for cat in self.categorical_steps:
            onehot = apply_categorical(available[cat.column], cat)
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
        if not isinstance(frame, RowCheck):
            check_frame(frame, hint=_TABLE_OR_ROW_CHECK)
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
        checked.raise_if_rejected()
        return checked.frame

    def _checked_columns(self, frame: pd.DataFrame | RowCheck) -> dict[str, np.ndarray]:
        if not isinstance(frame, RowCheck):
            check_frame(frame, hint=_TABLE_OR_ROW_CHECK)
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
            "pca": None if self.pca is None else copy_pca(self.pca),
            "feature_names": self.feature_names,
            "decisions": list(self.decisions),
            "redundancy": [g.to_dict() for g in self.redundancy],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PreparationPlan:
        """Rebuild a plan written by :meth:`to_dict` (after a JSON round trip too).

        Raises
        ------
        ModelError
            If the data is not a plan of a known version, is inconsistent, or holds a
            number no fit writes (naming the column and the number): one beyond
            :data:`~custseg.prepare.steps.MAX_STEP_NUMBER`, a scale below
            :data:`~custseg.prepare.steps.MIN_SCALE` (0, negative, subnormal), reversed
            clip bounds, a Yeo-Johnson lambda beyond
            :data:`~custseg.prepare.steps.LAMBDA_BOUNDS`, a one-hot center beyond 0..1,
            or a PCA component beyond +-1.
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
                pca=None if data.get("pca") is None else copy_pca(data["pca"]),
                decisions=[str(d) for d in data.get("decisions", [])],
                redundancy=[RedundancyGroup.from_dict(g) for g in data.get("redundancy", [])],
            )
            if plan.pca is not None:
                check_pca(plan.pca)
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
