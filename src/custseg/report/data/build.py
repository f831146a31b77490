"""Validate the inputs, run the table through the model, and assemble the report data.

:func:`build_report_data` reads a fitted :class:`~custseg.model.SegmentationModel` and a
raw customer table, and returns JSON-ready data (lists, numbers, strings, ``None``):
no figure, no HTML, no file. Rendering (:mod:`custseg.report.render`) only reads it.

The table goes through the scorer (:class:`custseg.scoring.Scorer`: check rows → the
model's preparation plan → assign), the same path as batch scoring and the service, so
the report describes *this* table through the model: on the training table it
reproduces the training segments; on new customers it shows how they fall into the same
segments. The choice of k and the segment rules are read from the model (they describe
the fit).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..._utils.checks import check_frame, check_int
from ..._version import __version__
from ...exceptions import DataError, ModelError
from ...model import SegmentationModel
from ...prepare.redundancy import set_aside_reasons
from .._shared import REPORT_DATA_VERSION
from ._common import SegmentedRows
from .audit import sensitive_audit
from .choice_of_k import k_selection
from .context import fit_warnings, playbook_context, rollup_context
from .evaluation import quality_metrics, silhouette_data
from .lineage import lineage_section
from .outcomes import outcomes_by_segment
from .overview import (
    column_roles,
    correlation,
    distributions,
    implausible_values,
    missing_values,
    table_overview,
)
from .profiles import segment_levels, segment_profiles
from .projection import projection
from .segments import segment_cards, shortened_in_segments

__all__ = ["build_report_data"]


def build_report_data(
    model: SegmentationModel, frame: pd.DataFrame, *, random_state: int = 0
) -> dict[str, Any]:
    """Compute the content of the report as a plain, JSON-ready dictionary.

    Parameters
    ----------
    model : SegmentationModel
        A fitted model (``custseg.fit_segments`` or ``custseg.load_model``).
    frame : pandas.DataFrame
        The raw customer table (the training table, or new customers with the same
        columns). Rows whose values cannot be used are counted and set aside.
    random_state : int, default=0
        Seed of the samples drawn for the figures and of the silhouette estimate on
        large tables; the same inputs and seed give the same report.

    Returns
    -------
    dict
        Keys ``version``, ``title``, ``meta``, ``playbook``, ``warnings``,
        ``overview``, ``columns``, ``implausible``, ``decisions``, ``missing``,
        ``distributions``, ``correlation``, ``k_selection``, ``segments``, ``outcomes``,
        ``audit``, ``projection``,
        ``profiles``, ``lift``, ``feature_boxes``, ``silhouette`` and ``metrics``; see
        ``docs/report.md`` for their layout.

    Raises
    ------
    ModelError
        If ``model`` is not a :class:`SegmentationModel`.
    DataError
        If ``frame`` is not a data frame, is empty or has no usable row.
    SchemaError
        If ``frame`` lacks a column the model needs.
    ConfigError
        If ``random_state`` is not a non-negative integer.
    """
    if not isinstance(model, SegmentationModel):
        raise ModelError(
            f"model should be a SegmentationModel, got {type(model).__name__}; load it with"
            " custseg.load_model('model.json')"
        )
    check_frame(frame)
    if len(frame) == 0:
        raise DataError("the table has 0 rows; pass the customers to report on")
    seed = check_int(random_state, "random_state", minimum=0, hint="e.g. 0")
    return _jsonable(_build(model, frame, seed))


def _build(model: SegmentationModel, frame: pd.DataFrame, seed: int) -> dict[str, Any]:
    from ...prepare import check_rows
    from ...scoring.scorer import Scorer

    # The report names no customer, so a table without the id column is fine.
    scorer = Scorer(model, require_id=False)
    scorer.check_columns(frame)
    checked = check_rows(frame, scorer.schema, require_id=False)
    # Rejected rows are described in the report; only a table with no usable row stops it.
    checked.raise_if_rejected(
        max_share=1.0 - 1.0 / len(frame),
        fix="fix the values or pass the table the model was fitted on",
    )
    prepared = scorer.prepare_checked(checked)
    X = prepared.X
    labels = scorer.assign_prepared(prepared).labels
    rows = checked.frame.loc[prepared.ok]
    derived = scorer.plan.derive(rows)
    schema = scorer.schema
    numeric = [c for c in schema.numeric if c in rows.columns]

    # One generator, drawn from in this order, keeps the samples reproducible.
    rng = np.random.default_rng(seed)
    segmented = SegmentedRows(X, labels, model.k)
    sizes = segmented.sizes
    silhouette = silhouette_data(segmented, rng, seed)
    profiles = segment_profiles(model, derived, labels, schema)
    cards = segment_cards(model, sizes, profiles.top)
    return {
        "version": REPORT_DATA_VERSION,
        "title": "Customer segments report",
        "meta": {
            "custseg_version": __version__,
            "model_version": model.custseg_version,
            "model_created_at": model.created_at,
            "k": model.k,
            "training_rows": model.training["rows"],
            "random_state": seed,
        },
        "playbook": playbook_context(model),
        "warnings": fit_warnings(model),
        "rollup": rollup_context(model),
        "overview": table_overview(frame, checked.reasons, schema, len(model.feature_names)),
        "columns": _with_redundancy(column_roles(frame, checked.frame, schema), model),
        "implausible": implausible_values(frame, checked.frame, schema),
        "decisions": list(model.preparation.decisions),
        "missing": missing_values(checked.frame, schema.features),
        "distributions": distributions(rows, numeric),
        "correlation": correlation(rows, numeric, rng),
        "k_selection": k_selection(model),
        "segments": cards,
        "shortened_in_segments": shortened_in_segments(model, cards),
        "outcomes": outcomes_by_segment(model, frame.loc[rows.index], labels),
        "audit": sensitive_audit(model, frame.loc[rows.index], labels),
        "projection": projection(segmented, model.centroid_array, rng),
        "profiles": profiles.rows,
        "lift": profiles.lift,
        "feature_boxes": profiles.boxes,
        "levels": segment_levels(model, derived, frame.loc[rows.index], labels, schema),
        "silhouette": silhouette,
        "metrics": quality_metrics(model, segmented, silhouette, seed),
        "lineage": lineage_section(model),
    }


def _jsonable(value: Any) -> Any:
    """numpy scalars to Python numbers, non-finite floats to ``None``, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def _with_redundancy(
    columns: list[dict[str, Any]], model: SegmentationModel
) -> list[dict[str, Any]]:
    """The roles table says which columns repeat another's fact and are set aside."""
    reasons = set_aside_reasons(model.preparation.redundancy)
    return [
        {**col, "reason": f"{col['reason']}; {reasons[col['name']]}"}
        if col["name"] in reasons
        else col
        for col in columns
    ]
