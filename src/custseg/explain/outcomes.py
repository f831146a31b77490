"""Outcome columns per segment: churn rate, response rate, mean score by segment.

Outcome columns and model outputs are not clustered on (see
:mod:`custseg.prepare.outcomes`), but what a bank wants most from a segmentation is
often exactly their value per segment: "segment 3 churns at 41%, 2.3 times the
average". :func:`profile_outcomes` computes the mean of every outcome column (the rate
of a 0/1 flag) in the whole population and in each segment, on every training row;
gaps are skipped. Beside each figure (``stats``):

- its **95% interval**: the Wilson score interval for the rate of a 0/1 flag, the
  t interval for the mean of anything else;
- its **lift**: the segment's figure ÷ the population's;
- whether the segment is **significantly above or below** the rest of the customers: a
  two-proportion z-test (rates) or Welch's t-test (means) of the segment against all
  other customers, two-sided, with Holm's correction over the segments of the outcome
  (the adjusted p-value must stay below 0.05): a ten-segment model does not find a
  "significant" segment by chance;
- how strongly the segments **separate** the outcome: Cramér's V of the segment ×
  outcome table for a flag, η² (the share of the variance between segments) for a
  mean, in words after Cohen's bounds (V: 0.1 / 0.3 / 0.5, η²: 0.01 / 0.06 / 0.14
  for weakly / moderately / strongly; "barely" below).

Strategies read these (:mod:`custseg.explain.advice`): only a significant difference
gets an outcome strategy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import _outcome_stats as st
from ._inputs import numeric_feature_columns, numeric_matrix, validate_labels

__all__ = ["ALPHA", "profile_outcomes"]

ALPHA = 0.05
"""A segment differs significantly from the rest when its Holm-adjusted p-value is below
this."""


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
        "values": {column: mean}}], "details": {column: {...}}, "stats": {column:
        {...}}}``; a mean is ``None`` when the column has no value in the segment.
        ``stats[column]`` holds ``measure`` (``"rate"`` for a 0/1 column, else
        ``"mean"``), ``n`` (customers with a value), ``separation`` (``measure``:
        ``"cramers_v"`` or ``"eta_squared"``, ``value``, ``strength``: barely, weakly,
        moderately or strongly) and ``segments``: per segment ``id``, ``n``,
        ``value``, ``low`` and ``high`` (the 95% interval), ``lift``, ``p_value``,
        ``p_adjusted`` (Holm) and ``direction`` (``"above"``, ``"below"`` or ``None``
        when not significant); undefined numbers are ``None``.

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
            "stats": {},
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
    measured = {name: _column_stats(values[:, j], codes, ids) for j, name in enumerate(names)}
    return {
        "columns": list(names),
        "population": population,
        "segments": segments,
        "details": kept,
        "stats": measured,
    }


def _mean(total: float, count: float) -> float | None:
    return float(total / count) if count > 0 else None


def _plain(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _column_stats(column: np.ndarray, codes: np.ndarray, ids: np.ndarray) -> dict[str, Any]:
    """Intervals, lifts, tests against the rest and the separation of one outcome."""
    present = np.isfinite(column)
    values, where = column[present], codes[present]
    rate = bool(values.size) and bool(np.isin(values, (0.0, 1.0)).all())
    overall = float(values.mean()) if values.size else math.nan
    rows: list[dict[str, Any]] = []
    for sid in ids:
        inside = values[where == sid]
        rest = values[where != sid]
        mean = float(inside.mean()) if inside.size else math.nan
        if rate:
            low, high = st.wilson_interval(float(inside.sum()), inside.size)
            p = st.proportion_test(float(inside.sum()), inside.size, float(rest.sum()), rest.size)
        else:
            sd = float(inside.std(ddof=1)) if inside.size > 1 else math.nan
            low, high = st.mean_interval(mean, sd, inside.size)
            p = st.welch_test(inside, rest)
        rest_mean = float(rest.mean()) if rest.size else math.nan
        rows.append(
            {
                "id": int(sid),
                "n": int(inside.size),
                "value": mean,
                "low": low,
                "high": high,
                "p_value": p,
                "rest": rest_mean,
            }
        )
    adjusted = st.holm([r["p_value"] for r in rows])
    for row, p_adj in zip(rows, adjusted, strict=True):
        row["p_adjusted"] = p_adj
        row["lift"] = row["value"] / overall if overall and np.isfinite(overall) else math.nan
        significant = np.isfinite(p_adj) and p_adj < ALPHA
        row["direction"] = (
            ("above" if row["value"] > row["rest"] else "below") if significant else None
        )
        del row["rest"]
    if rate:
        k = int(ids.max()) + 1
        successes = np.bincount(where, values, k)[ids]
        counts = np.bincount(where, minlength=k)[ids].astype(np.float64)
        measure, strength = "cramers_v", st.cramers_v(successes, counts)
    else:
        measure, strength = "eta_squared", st.eta_squared(values, where)
    return {
        "measure": "rate" if rate else "mean",
        "n": int(values.size),
        "separation": {
            "measure": measure,
            "value": _plain(strength),
            "strength": st.separation_words(measure, strength) if np.isfinite(strength) else None,
        },
        "segments": [
            {key: (_plain(v) if isinstance(v, float) else v) for key, v in row.items()}
            for row in rows
        ],
    }
