"""Outcome columns per segment: churn rate, response rate, mean score by segment.

Outcome columns and model outputs are not clustered on (see
:mod:`custseg.prepare.outcomes`), but what a bank wants most from a segmentation is
often exactly their value per segment: "segment 3 churns at 41%, three times the
average". :func:`profile_outcomes` computes the mean of every outcome column (the rate
of a 0/1 flag) in the whole population and in each segment, on every training row;
gaps are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._inputs import numeric_feature_columns, numeric_matrix, validate_labels

__all__ = ["profile_outcomes"]


def profile_outcomes(
    frame: pd.DataFrame,
    labels: Sequence[int] | np.ndarray | pd.Series,
    *,
    columns: Sequence[str] | None = None,
    details: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The mean of every outcome column, in the population and in every segment.

    Parameters
    ----------
    frame : pandas.DataFrame
        Outcome columns as numbers (0/1 for flags; gaps as NaN), one row per customer.
    labels : array-like of int
        Segment of each row.
    columns : sequence of str, optional
        Columns to profile; default every numeric column of ``frame``. An empty list
        gives an empty profile.
    details : mapping of str to mapping, optional
        Per column, what to store beside the means (for instance ``{"kind":
        "outcome flag: churn", "positive": "Yes"}``).

    Returns
    -------
    dict
        ``{"columns": [names], "population": {column: mean}, "segments": [{"id": int,
        "values": {column: mean}}], "details": {column: {...}}}``; a mean is ``None``
        when the column has no value in the segment.

    Raises
    ------
    DataError
        If ``labels`` do not match ``frame``.
    SchemaError
        If a column is missing or not numeric.
    """
    codes = validate_labels(labels, len(frame))
    names: list[str] = []
    if columns is None or list(columns):
        names = numeric_feature_columns(frame, columns)
    ids = np.unique(codes)
    if not names:
        return {
            "columns": [],
            "population": {},
            "segments": [{"id": int(i), "values": {}} for i in ids],
            "details": {},
        }
    values = numeric_matrix(frame, names)
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    # One pass: per-segment sums and counts of the present values.
    k = int(ids.max()) + 1
    sums = np.column_stack([np.bincount(codes, filled[:, j], k) for j in range(len(names))])
    counts = np.column_stack(
        [np.bincount(codes, present[:, j].astype(np.float64), k) for j in range(len(names))]
    )
    population = {name: _mean(sums[:, j].sum(), counts[:, j].sum()) for j, name in enumerate(names)}
    segments = [
        {
            "id": int(i),
            "values": {name: _mean(sums[i, j], counts[i, j]) for j, name in enumerate(names)},
        }
        for i in ids
    ]
    kept = {name: dict(details[name]) for name in names if details and name in details}
    return {"columns": list(names), "population": population, "segments": segments, "details": kept}


def _mean(total: float, count: float) -> float | None:
    return float(total / count) if count > 0 else None
