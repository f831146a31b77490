"""Data for the "Data overview and exploration" section: rows, columns, gaps, distributions.

Everything here describes the raw table as the model's schema reads it, before
preparation: how many rows were usable, which role each column plays, where values
are missing, how the numeric columns are distributed and how they move together.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..._utils.numeric import skewness
from ..._utils.text import readable_name
from ._common import finite_values, use_log_scale

__all__ = [
    "MAX_DISTRIBUTIONS",
    "column_roles",
    "correlation",
    "distributions",
    "implausible_values",
    "missing_values",
    "table_overview",
]

MAX_DISTRIBUTIONS = 24
"""Numeric columns shown as histograms and in the correlation heatmap, at most."""
_MAX_CORRELATION_ROWS = 50_000  # beyond, rank correlations on a random sample
_MAX_REJECTION_EXAMPLES = 5
_HIST_BINS = 30
_MAX_IMPLAUSIBLE_EXAMPLES = 5
EARLIEST_BIRTH_YEAR = 1900
"""Birth years before this one are flagged (nobody born then is a customer today)."""
OLDEST_AGE = 120
"""Ages above this one (or below 0) are flagged."""
ISOLATION_FACTOR = 3.0
"""An extreme value is isolated when it is more than this many times the next largest."""
ISOLATED_SHARE = 0.001
"""Isolated extremes are at most this share of the rows (at least one row): the top 0.1%."""


def table_overview(
    frame: pd.DataFrame, reasons: pd.Series, schema: Any, n_prepared: int
) -> dict[str, Any]:
    """Counts of rows, columns, usable and rejected rows, and a few rejection reasons.

    Parameters
    ----------
    frame : pandas.DataFrame
        The raw table.
    reasons : pandas.Series
        Per row, why it was rejected (missing for usable rows).
    schema : TableSchema
        The model's schema.
    n_prepared : int
        Number of prepared features the model clusters on.

    Returns
    -------
    dict
        ``n_rows``, ``n_columns``, ``n_usable``, ``n_rejected``, ``rejection_examples``,
        ``n_features_prepared`` and ``id_column``.
    """
    rejected = reasons.dropna()
    examples = [str(r) for r in rejected.astype(str).value_counts().index[:_MAX_REJECTION_EXAMPLES]]
    return {
        "n_rows": len(frame),
        "n_columns": frame.shape[1],
        "n_usable": len(frame) - len(rejected),
        "n_rejected": len(rejected),
        "rejection_examples": examples,
        "n_features_prepared": n_prepared,
        "id_column": schema.id_column,
    }


def column_roles(frame: pd.DataFrame, coerced: pd.DataFrame, schema: Any) -> list[dict[str, Any]]:
    """One row per table column: its role in the model, type, gaps and the reason for the role.

    Parameters
    ----------
    frame : pandas.DataFrame
        The raw table.
    coerced : pandas.DataFrame
        The table after the row checks coerced its values.
    schema : TableSchema
        The model's schema.

    Returns
    -------
    list of dict
        ``name``, ``role``, ``dtype``, ``reason``, ``n_missing``, ``share_missing``,
        ``describes`` (what a descriptor says about the customer: ``"gender"``) and
        ``protected`` (the protected characteristic it records, or ``None``).
    """
    known = {c.name: c for c in schema.columns}
    out = []
    for name in frame.columns:
        info = known.get(str(name))
        # Gaps are counted after coercion so that blanks read from text files count too.
        source = coerced[name] if name in coerced.columns else frame[name]
        n_missing = int(source.isna().sum())
        out.append(
            {
                "name": str(name),
                "role": info.role if info else "ignored",
                "dtype": str(frame[name].dtype),
                "reason": info.reason if info else "not part of the model",
                "n_missing": n_missing,
                "share_missing": n_missing / len(frame),
                "describes": getattr(info, "describes", None),
                "protected": getattr(info, "protected", None),
            }
        )
    return out


def missing_values(coerced: pd.DataFrame, features: list[str]) -> list[dict[str, Any]]:
    """Per feature column of the model: ``column``, ``n_missing`` and ``share``."""
    out = []
    for name in features:
        if name not in coerced.columns:
            continue
        n_missing = int(coerced[name].isna().sum())
        out.append({"column": name, "n_missing": n_missing, "share": n_missing / len(coerced)})
    return out


def distributions(rows: pd.DataFrame, numeric: list[str]) -> list[dict[str, Any]]:
    """A histogram of each of the first :data:`MAX_DISTRIBUTIONS` numeric columns.

    Parameters
    ----------
    rows : pandas.DataFrame
        The usable rows.
    numeric : list of str
        The numeric columns, in schema order.

    Returns
    -------
    list of dict
        ``column``, ``edges``, ``counts``, ``log_scale`` (bins even on a log axis),
        ``skewness`` and ``median``; columns without a finite value are left out.
    """
    out = []
    for name in numeric[:MAX_DISTRIBUTIONS]:
        values = finite_values(rows[name])
        if values.size == 0:
            continue
        skew = skewness(values)
        log = use_log_scale(values, skew)
        lo, hi = float(values.min()), float(values.max())
        if log:
            edges = np.expm1(np.linspace(0.0, math.log1p(hi), _HIST_BINS + 1))
            # expm1(log1p(hi)) can round below hi, which would drop the largest value.
            edges[-1] = hi
        elif hi > lo:
            edges = np.linspace(lo, hi, _HIST_BINS + 1)
        else:
            edges = np.array([lo - 0.5, lo + 0.5])
        counts, _ = np.histogram(values, bins=edges)
        out.append(
            {
                "column": name,
                "edges": edges.tolist(),
                "counts": counts.tolist(),
                "log_scale": log,
                "skewness": skew,
                "median": float(np.median(values)),
            }
        )
    return out


def correlation(rows: pd.DataFrame, numeric: list[str], rng: np.random.Generator) -> dict[str, Any]:
    """Spearman correlations between the first :data:`MAX_DISTRIBUTIONS` numeric columns.

    ``rows`` and ``numeric`` are those of :func:`distributions`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the rows used when there are more than 50,000.

    Returns
    -------
    dict
        ``method`` (``"spearman"``), ``columns`` and ``matrix`` (NaN where a column is
        constant); ``columns`` and ``matrix`` are empty below two numeric columns.
    """
    columns = numeric[:MAX_DISTRIBUTIONS]
    if len(columns) < 2:
        return {"method": "spearman", "columns": [], "matrix": []}
    table = rows[columns]
    if len(table) > _MAX_CORRELATION_ROWS:
        keep = np.sort(rng.choice(len(table), size=_MAX_CORRELATION_ROWS, replace=False))
        table = table.iloc[keep]
    # Spearman = Pearson on ranks; gaps are filled with the column's mean rank so
    # that they add no correlation.
    ranks = table.rank().to_numpy(dtype=np.float64, na_value=np.nan)
    gaps = np.isnan(ranks)
    # The mean rank as nanmean computes it, and 0 for a column without a value (no
    # correlation: NaN below), where nanmean would warn "Mean of empty slice".
    present = (~gaps).sum(axis=0)
    mean_rank = np.where(present > 0, np.nansum(ranks, axis=0) / np.maximum(present, 1), 0.0)
    ranks = np.where(gaps, mean_rank, ranks)
    centred = ranks - ranks.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    defined = norms > 0
    safe = np.where(defined, norms, 1.0)
    matrix = (centred.T @ centred) / np.outer(safe, safe)
    matrix = np.where(np.outer(defined, defined), np.clip(matrix, -1.0, 1.0), np.nan)
    return {"method": "spearman", "columns": list(columns), "matrix": matrix.tolist()}


def implausible_values(
    frame: pd.DataFrame, coerced: pd.DataFrame, schema: Any, *, year: int | None = None
) -> list[dict[str, Any]]:
    """Values a person would question before trusting the segments, one entry per column.

    Three documented rules, each on the numeric columns of the table (the identifier
    excepted):

    - **birth year**: a column named like a birth year (``Year_Birth``, ``birth_year``,
      ``yob``) holding a year before :data:`EARLIEST_BIRTH_YEAR` or after ``year``;
    - **age**: a column named ``age`` (``Age``, ``Customer_Age``) below 0 or above
      :data:`OLDEST_AGE`;
    - **isolated extreme**: in any other column of at least 20 values and 10 distinct
      ones, the largest values - at most :data:`ISOLATED_SHARE` of the rows, at least
      one - that are more than :data:`ISOLATION_FACTOR` times the largest value left
      (which must be above 0): an income of 666,666 where every other stays below
      200,000. A long tail of large values (money amounts) is not isolated.

    Parameters
    ----------
    frame : pandas.DataFrame
        The raw table (its identifier column names the rows).
    coerced : pandas.DataFrame
        The table after the row checks coerced its values (numbers read from text).
    schema : TableSchema
        The model's schema (``id_column``).
    year : int, optional
        The current year (default: today's, in UTC).

    Returns
    -------
    list of dict
        ``column``, ``rule`` (what is implausible, in words), ``count`` (rows) and
        ``examples`` (up to five ``{"id", "value"}``: the row's identifier, or
        ``row N`` without one, and the value as text).
    """
    this_year = datetime.now(UTC).year if year is None else int(year)
    id_column = schema.id_column
    out = []
    for name in frame.columns:
        if name == id_column:
            continue
        source = coerced[name] if name in coerced.columns else frame[name]
        if not pd.api.types.is_numeric_dtype(source.dtype) or pd.api.types.is_bool_dtype(
            source.dtype
        ):
            continue
        values = source.to_numpy(dtype=np.float64, na_value=np.nan)
        found = _implausible_in(str(name), values, this_year)
        if found is None:
            continue
        rule, flagged, as_year = found
        rows = np.flatnonzero(flagged)
        # The most extreme first: the furthest from the column's median.
        order = np.argsort(-np.abs(values[rows] - np.nanmedian(values)), kind="stable")
        examples = [
            {
                "id": _row_name(frame, id_column, int(i)),
                "value": f"{values[i]:.0f}" if as_year else _plain_number(values[i]),
            }
            for i in rows[order][:_MAX_IMPLAUSIBLE_EXAMPLES]
        ]
        out.append({"column": str(name), "rule": rule, "count": len(rows), "examples": examples})
    return out


def _implausible_in(
    name: str, values: np.ndarray, year: int
) -> tuple[str, np.ndarray, bool] | None:
    """``(rule, flagged rows, shown as a year)`` for one column, or None."""
    words = set(readable_name(name).lower().split())
    finite = np.isfinite(values)
    if ({"birth", "year"} <= words) or words & {"yob", "birthyear"}:
        flagged = finite & ((values < EARLIEST_BIRTH_YEAR) | (values > year))
        rule = f"birth year before {EARLIEST_BIRTH_YEAR} or after {year}"
        return (rule, flagged, True) if flagged.any() else None
    if "age" in words:
        flagged = finite & ((values < 0) | (values > OLDEST_AGE))
        rule = f"age below 0 or above {OLDEST_AGE}"
        return (rule, flagged, False) if flagged.any() else None
    present = np.sort(values[finite])[::-1]
    if present.size < 20 or np.unique(present).size < 10:
        return None
    most = max(1, int(ISOLATED_SHARE * present.size))
    # The deepest cut among the top `most` values with a gap of more than 3x below it.
    cut = None
    for j in range(most):
        rest = present[j + 1]
        if rest > 0 and present[j] > ISOLATION_FACTOR * rest:
            cut = j
    if cut is None:
        return None
    rest = float(present[cut + 1])
    flagged = finite & (values > ISOLATION_FACTOR * rest)
    rule = (
        f"isolated extreme: more than {ISOLATION_FACTOR:g}x the next largest value"
        f" ({_plain_number(rest)})"
    )
    return rule, flagged, False


def _row_name(frame: pd.DataFrame, id_column: str | None, position: int) -> str:
    if id_column is not None and id_column in frame.columns:
        value = frame[id_column].iloc[position]
        if not pd.isna(value):
            text = str(value)
            return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text
    return f"row {position + 1}"


def _plain_number(value: float) -> str:
    """1234567.0 -> "1,234,567"; 0.25 -> "0.25": whole numbers without decimals."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.6g}" if abs(value) < 1000 else f"{value:,.2f}"
