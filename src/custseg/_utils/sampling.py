"""The one stratified sampler: rows drawn per segment, so small segments are never missed.

Used wherever a computation on all rows would be too slow and a plain random sample
could miss a small segment: the silhouette estimate, the rule trees, profile medians
and the report's figures.
"""

from __future__ import annotations

import numpy as np

__all__ = ["stratified_sample"]


def stratified_sample(
    labels: np.ndarray, size: int, rng: np.random.Generator, *, min_per_segment: int = 0
) -> np.ndarray:
    """Sorted row indices: about ``size`` rows, each segment keeping its share.

    Allocation is proportional (rounded to the nearest row) with at least
    ``min_per_segment`` rows per segment, or all of a segment's rows when it has fewer;
    the rounding (half a row per segment at most) and that floor can take the total a
    little above ``size``. With ``size`` rows or fewer in
    all, every row is returned.

    Parameters
    ----------
    labels : numpy.ndarray of int
        Segment of each row, non-negative integers.
    size : int
        Target sample size.
    rng : numpy.random.Generator
        Source of the draws (rows are drawn without replacement within a segment).
    min_per_segment : int, default 0
        Floor per segment.

    Returns
    -------
    numpy.ndarray of int64
        Increasing row indices.
    """
    n = int(labels.shape[0])
    if n <= size:
        return np.arange(n)
    sizes = np.bincount(labels)
    wanted = np.maximum(np.rint(size * sizes / n), min_per_segment)
    take = np.minimum(wanted, sizes).astype(np.int64)
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    chosen = [
        order[starts[c] + rng.choice(int(sizes[c]), size=int(take[c]), replace=False)]
        for c in range(sizes.shape[0])
        if take[c]
    ]
    return np.sort(np.concatenate(chosen))
