"""Helpers that more than one section of the report data uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["MIN_DRAWN_PER_SEGMENT", "SegmentedRows", "finite_values", "use_log_scale"]

MIN_DRAWN_PER_SEGMENT = 50
"""Every segment keeps at least this many customers in the sampled figures, so it stays visible."""


@dataclass(frozen=True)
class SegmentedRows:
    """The table as the model sees it: the prepared rows and the segment of each.

    Attributes
    ----------
    X : numpy.ndarray of shape (n_rows, n_features)
        The prepared rows.
    labels : numpy.ndarray of int, shape (n_rows,)
        Segment of each row, ``0..k-1``.
    k : int
        Segments of the model (some may be empty on this table).
    """

    X: np.ndarray
    labels: np.ndarray
    k: int

    @property
    def sizes(self) -> np.ndarray:
        """Rows in each of the ``k`` segments."""
        return np.bincount(self.labels, minlength=self.k)


def finite_values(series: pd.Series) -> np.ndarray:
    """The finite values of a numeric column as float64 (gaps and infinities dropped)."""
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return values[np.isfinite(values)]


def use_log_scale(values: np.ndarray, skew: float) -> bool:
    """Whether a figure should show ``values`` on a log axis.

    Parameters
    ----------
    values : numpy.ndarray
        Finite values of one column.
    skew : float
        Their skewness.

    Returns
    -------
    bool
        True for non-negative values above 10 with a long right tail (skewness > 1).
    """
    # A log axis helps long right tails of non-negative amounts and counts; on shares
    # and frequencies (0 to about 1) it would only distort, hence max > 10.
    return bool(values.size and values.min() >= 0 and values.max() > 10 and skew > 1)
