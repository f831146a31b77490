"""Training statistics stored in the model, for drift checks on the data scored later.

For every feature column the model keeps a small, plain-data reference: missing share,
mean, standard deviation, quantiles and a histogram (numeric columns), or level shares
(categorical columns). A later drift check (:mod:`custseg.scoring.drift`) compares new
data with it (population stability index per feature) without the training data.

The histogram's bins are the deciles of the values (repeated edges merged), except that
zero, when at least 5% of the rows hold it, is a special value with a bin of its own and
the deciles cut the other values, as credit-risk practice bins special values apart.
Amounts are often zero for half of the customers (no cash advance, no one-off purchase):
plain decile edges collapse there, the zeros and the small amounts share one bin, and the
amounts of the other half could triple with a PSI of 0.2 only (0.34 with the zero bin).
Other repeated values (a frequency of 1.0, 12 months of tenure, round credit limits) keep
plain deciles: an exact-value bin would flag a rounding change as a shift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._utils.lazy import lazy_module
from .schema import TableSchema

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["reference_statistics", "population_stability_index"]

_QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
_BINS = 10
# Zero gets a bin of its own when at least this share of the rows hold it.
_ZERO_MASS = 0.05
_MAX_LEVELS = 50
# Quantiles and histogram edges from 200,000 rows are within a fraction of a percentile
# of the full-data values: plenty for drift checks, and 5x cheaper on a million rows.
_MAX_ROWS = 200_000


def reference_statistics(
    frame: pd.DataFrame, schema: TableSchema, *, random_state: int | None = 0
) -> dict[str, Any]:
    """Per-feature training statistics as plain data.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training rows, feature columns already coerced (``check_rows(...).frame``).
    schema : TableSchema
        The input schema; its numeric and categorical columns are described.
    random_state : int or None, default=0
        Seed of the row sample used above 200,000 rows.

    Returns
    -------
    dict
        ``{"rows": n, "rows_used": m, "numeric": {column: {...}},
        "categorical": {column: {...}}}``.
    """
    rows = frame
    if len(frame) > _MAX_ROWS:
        rows = frame.sample(n=_MAX_ROWS, random_state=random_state)
    numeric = {c: _numeric_reference(rows[c]) for c in schema.numeric if c in rows}
    categorical = {c: _categorical_reference(rows[c]) for c in schema.categorical if c in rows}
    return {
        "rows": int(len(frame)),
        "rows_used": int(len(rows)),
        "numeric": numeric,
        "categorical": categorical,
    }


def _numeric_reference(column: pd.Series) -> dict[str, Any]:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    present = values[np.isfinite(values)]
    missing_share = float(1.0 - present.size / values.size) if values.size else 0.0
    if present.size == 0:
        return {"missing_share": missing_share, "bins": [], "proportions": []}
    quantiles = np.quantile(present, _QUANTILES)
    inner = _histogram_edges(present)
    counts = np.bincount(np.searchsorted(inner, present, side="right"), minlength=inner.size + 1)
    return {
        "missing_share": missing_share,
        "mean": float(present.mean()),
        "std": float(present.std()),
        "quantiles": dict(zip([str(q) for q in _QUANTILES], quantiles.tolist(), strict=True)),
        "bins": inner.tolist(),
        "proportions": (counts / present.size).tolist(),
    }


def _histogram_edges(present: np.ndarray) -> np.ndarray:
    """Inner bin edges (sorted): deciles, with zero in a bin of its own when frequent.

    A bin is ``[edges[i-1], edges[i])``; the outer bins are open so that new extreme
    values still count. The zero bin is ``[0, nextafter(0))``.
    """
    zero = present == 0
    special = bool(zero.mean() >= _ZERO_MASS)
    rest = present[~zero] if special else present
    edges: set[float] = set()
    if rest.size:
        deciles = np.quantile(rest, np.linspace(0.0, 1.0, _BINS + 1))
        # Inner deciles only: the lowest and highest values belong to the open outer bins.
        edges.update(np.unique(deciles)[1:-1].tolist())
    if special:
        edges.update((0.0, float(np.nextafter(0.0, 1.0))))
    return np.asarray(sorted(edges), dtype=np.float64)


def _categorical_reference(column: pd.Series) -> dict[str, Any]:
    shares = (
        column.astype("object")
        .where(column.notna(), None)
        .value_counts(normalize=True, dropna=False)
    )
    top = shares.head(_MAX_LEVELS)
    return {
        "missing_share": float(column.isna().mean()) if len(column) else 0.0,
        "levels": {str(k): float(v) for k, v in top.items()},
    }


def population_stability_index(
    reference: list[float], current: list[float], *, floor: float = 1e-4
) -> float:
    """Population stability index between two binned distributions.

    ``PSI = sum((p_cur - p_ref) * ln(p_cur / p_ref))`` with proportions floored at
    ``floor`` so that an empty bin does not make it infinite. Rules of thumb used in
    credit risk: below 0.1 stable, 0.1-0.25 moderate shift, above 0.25 significant shift.
    """
    ref = np.maximum(np.asarray(reference, dtype=np.float64), floor)
    cur = np.maximum(np.asarray(current, dtype=np.float64), floor)
    return float(np.sum((cur - ref) * np.log(cur / ref)))
