"""Per-segment sums of all rows, for tables that are never in memory.

The bounded-memory fit streams its rows and the Spark engine aggregates them where they
live; both hand over one :class:`SegmentSummary`: per segment its size, the mean of its
rows, the sum of squared distances to that mean, the mean euclidean distance to it and
the sum of squared distances to the segment's centroid.

:func:`evaluation_from_summary` turns it into the evaluation of the fit: sizes, shares
and inertia come from the sums, and so does every registered index that can compute
itself from them (``KIndex.from_summary``: Calinski–Harabasz and Davies–Bouldin, the
definitions of scikit-learn's, of all rows, not approximations). The other indices (the
silhouette, an added index without ``from_summary``) are measured on a uniform sample
of rows brought to memory, the silhouette estimated above ``max_exact`` rows on a sample
stratified by segment exactly as :func:`~custseg.cluster.evaluation.evaluate_segmentation`
does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.numeric import RandomState, generator
from .evaluation import evaluate_segmentation
from .indices import Measured, registered_indices

__all__ = [
    "SegmentSummary",
    "SegmentAccumulator",
    "evaluation_from_summary",
    "canonical_permutation",
]


@dataclass(frozen=True)
class SegmentSummary:
    """Per-segment statistics of all rows of a segmentation (``k`` segments, ``d`` features).

    Attributes
    ----------
    sizes : numpy.ndarray of int64, shape (k,)
    means : numpy.ndarray, shape (k, d)
        Mean of each segment's rows (zeros for an empty segment).
    within : numpy.ndarray, shape (k,)
        Sum of squared distances of each segment's rows to its mean.
    spread : numpy.ndarray, shape (k,)
        Mean euclidean distance of each segment's rows to its mean (0 when empty).
    inertia : numpy.ndarray, shape (k,)
        Sum of squared distances of each segment's rows to its centroid.
    """

    sizes: np.ndarray
    means: np.ndarray
    within: np.ndarray
    spread: np.ndarray
    inertia: np.ndarray

    @property
    def n_rows(self) -> int:
        return int(self.sizes.sum())

    def permuted(self, order: np.ndarray) -> SegmentSummary:
        """The summary with segment ``i`` taken from ``order[i]``."""
        return SegmentSummary(
            self.sizes[order],
            self.means[order],
            self.within[order],
            self.spread[order],
            self.inertia[order],
        )


def canonical_permutation(centroids: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Segment order of :mod:`custseg.cluster.kmeans`: largest first, ties by coordinates."""
    keys = [centroids[:, j] for j in range(centroids.shape[1] - 1, -1, -1)]
    return np.lexsort([*keys, -np.asarray(sizes)])


class SegmentAccumulator:
    """Builds a :class:`SegmentSummary` from chunks of prepared rows and their labels.

    Two passes: :meth:`add` (sizes, means, within sums, inertia) over every chunk, then,
    once the means are final, :meth:`add_spread` over every chunk again.
    """

    def __init__(self, centroids: np.ndarray) -> None:
        self.centroids = np.asarray(centroids, dtype=np.float64)
        k, d = self.centroids.shape
        self.sizes = np.zeros(k, dtype=np.int64)
        self.means = np.zeros((k, d))
        self.within = np.zeros(k)
        self.inertia = np.zeros(k)
        self.distance_sums = np.zeros(k)

    def add(self, X: np.ndarray, labels: np.ndarray, distance: np.ndarray) -> None:
        """Add prepared rows, their segments and their distances to the centroids."""
        k = self.centroids.shape[0]
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros_like(self.means)
        np.add.at(sums, labels, X)
        present = counts > 0
        chunk_means = np.zeros_like(self.means)
        chunk_means[present] = sums[present] / counts[present, None]
        deviation = X - chunk_means[labels]
        chunk_within = np.bincount(
            labels, weights=np.einsum("ij,ij->i", deviation, deviation), minlength=k
        )
        # Pairwise merge per segment (Chan et al.): no cancellation of large sums.
        total = self.sizes + counts
        safe = np.maximum(total, 1)
        delta = chunk_means - self.means
        self.within += chunk_within + np.einsum("ij,ij->i", delta, delta) * (
            self.sizes * counts / safe
        )
        self.means += delta * (counts / safe)[:, None]
        self.sizes = total
        self.inertia += np.bincount(labels, weights=distance * distance, minlength=k)

    def add_spread(self, X: np.ndarray, labels: np.ndarray) -> None:
        """Second pass: distances of the rows to their segment's (final) mean."""
        deviation = X - self.means[labels]
        distance = np.sqrt(np.einsum("ij,ij->i", deviation, deviation))
        self.distance_sums += np.bincount(
            labels, weights=distance, minlength=self.centroids.shape[0]
        )

    def summary(self) -> SegmentSummary:
        spread = np.where(self.sizes > 0, self.distance_sums / np.maximum(self.sizes, 1), 0.0)
        return SegmentSummary(
            self.sizes.copy(), self.means.copy(), self.within.copy(), spread, self.inertia.copy()
        )


def evaluation_from_summary(
    summary: SegmentSummary,
    centroids: np.ndarray,
    sample_X: np.ndarray,
    sample_labels: np.ndarray,
    *,
    random_state: RandomState = None,
    max_exact: int,
    stability: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """The dictionary of :func:`evaluate_segmentation` for a table summarised by segment.

    Sizes, shares, inertia and every registered index with ``from_summary``
    (Calinski–Harabasz, Davies–Bouldin) are those of all rows (``summary``); the
    silhouette and every other registered index are measured on the uniform sample
    ``sample_X`` (labels ``sample_labels``), as the local evaluation does on the rows it
    is given. ``evaluated_on`` says which figure comes from where.
    """
    rng = generator(random_state)
    indices = registered_indices()
    of_all_rows = {
        entry.name: entry.from_summary(summary)
        for entry in indices
        if entry.from_summary is not None
    }
    result = evaluate_segmentation(
        sample_X,
        sample_labels,
        centroids,
        random_state=rng,
        max_exact=max_exact,
        stability=stability,
        # Known already: not measured again on the sample.
        measured={
            name: Measured(float("nan") if value is None else float(value))
            for name, value in of_all_rows.items()
        },
    )
    n = summary.n_rows
    k = centroids.shape[0]
    sizes = summary.sizes
    result["n_rows"] = n
    result["inertia"] = float(summary.inertia.sum())
    result.update(of_all_rows)
    result["sizes"] = [int(s) for s in sizes]
    result["shares"] = [float(s / n) for s in sizes]
    for c, segment in enumerate(result["segments"]):
        segment["size"] = int(sizes[c])
        segment["share"] = float(sizes[c] / n)
        segment["inertia"] = float(summary.inertia[c])
        segment["mean_distance"] = (
            float(np.sqrt(summary.inertia[c] / sizes[c])) if sizes[c] else None
        )
    result["evaluated_on"] = {
        "all_rows": ["sizes", "shares", "inertia", *of_all_rows],
        "sample_rows": int(sample_X.shape[0]),
        "sample": [entry.name for entry in indices if entry.name not in of_all_rows],
    }
    assert len(result["segments"]) == k
    return result
