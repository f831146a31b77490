"""Data for the "Data overview and exploration" section: rows, columns, gaps, distributions.

Everything here describes the raw table as the model's schema reads it, before
preparation: how many rows were usable, which role each column plays, where values
are missing, how the numeric columns are distributed and how they move together.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..._utils.numeric import skewness
from ._common import finite_values, use_log_scale

__all__ = [
    "MAX_DISTRIBUTIONS",
    "column_roles",
    "correlation",
    "distributions",
    "missing_values",
    "table_overview",
]

MAX_DISTRIBUTIONS = 24
"""Numeric columns shown as histograms and in the correlation heatmap, at most."""
_MAX_CORRELATION_ROWS = 50_000  # beyond, rank correlations on a random sample
_MAX_REJECTION_EXAMPLES = 5
_HIST_BINS = 30


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
