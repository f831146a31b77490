"""K-means over every prepared row of a Spark DataFrame: Lloyd's iterations as aggregations.

The prepared features are columns of a Spark DataFrame (``cs_f0``, ``cs_f1``...); they
never leave the cluster.

1. **fit** (:func:`fit_kmeans_spark`): Lloyd's iterations from given centroids — the
   k-means++ centroids the Spark engine fits on its uniform sample. Each iteration is
   one aggregation (the nearest centroid by Spark SQL expressions compiled to the JVM;
   the size and mean of every segment); a good start needs a few where MLlib's
   k-means|| seeding and Lloyd steps need tens over the whole table;
2. **per-segment sums**: one aggregation gives each segment's size, mean and within sum
   of squares, a second the mean distance of the rows to their segment's mean: the
   :class:`~custseg.cluster.summaries.SegmentSummary` from which inertia and the
   indices that compute themselves from sums (Calinski-Harabasz, Davies-Bouldin) are
   those of every row, with the local engine's definitions — never Spark's
   ``ClusteringEvaluator`` (whose silhouette uses squared euclidean distances by
   default).

k is chosen before, on the driver's sample, by the sweep every engine shares
(:func:`custseg.engines.fit.select_k`). Segments are numbered as by the local engine:
largest first, ties by coordinates.

pyspark is imported inside the functions: the module loads without it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.checks import check_int
from ..exceptions import ConfigError
from .summaries import (
    SegmentSummary,
    canonical_permutation,
)

__all__ = [
    "SparkKMeansFit",
    "fit_kmeans_spark",
    "FEATURE_PREFIX",
    "MAX_ITER",
]

FEATURE_PREFIX = "cs_f"
"""Prepared feature ``j`` is the column ``cs_f{j}``."""
MAX_ITER = 100
_LABEL = "cs_segment"


@dataclass(frozen=True)
class SparkKMeansFit:
    """A K-means fit over every row in Spark, in canonical order, with its all-row summary.

    Attributes
    ----------
    centroids : numpy.ndarray, shape (k, d)
        Segment ``i`` is row ``i``; segment 0 is the largest.
    summary : SegmentSummary
        Sizes, means, within sums, spreads and inertia of all rows, canonical order.
    n_iter : int
        Lloyd iterations run in Spark.
    seconds : float
        Wall time of the fit and of the two aggregations.
    """

    centroids: np.ndarray
    summary: SegmentSummary
    n_iter: int
    seconds: float

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])

    @property
    def sizes(self) -> list[int]:
        return [int(s) for s in self.summary.sizes]

    @property
    def inertia(self) -> float:
        return float(self.summary.inertia.sum())


def _feature_names(df: Any) -> list[str]:
    names = [
        c for c in df.columns if c.startswith(FEATURE_PREFIX) and c[len(FEATURE_PREFIX) :].isdigit()
    ]
    names.sort(key=lambda c: int(c[len(FEATURE_PREFIX) :]))
    if not names:
        raise ConfigError(f"the DataFrame has no prepared feature column {FEATURE_PREFIX}0")
    return names


def fit_kmeans_spark(
    df: Any,
    centroids: np.ndarray,
    *,
    max_iter: int = MAX_ITER,
    tol: float = 1e-4,
) -> SparkKMeansFit:
    """Lloyd's K-means over every prepared row of ``df``, in Spark, from ``centroids``.

    Each iteration is one aggregation over the rows (assigned to their nearest centroid
    by Spark SQL expressions, compiled to the JVM, no Python worker): the size and mean
    of every segment. The segments then move to their means, until the sum of their
    squared moves is at most ``tol`` or after ``max_iter`` iterations. Seeded with the
    k-means++ centroids of a uniform sample (the Spark engine's), it needs a few
    iterations where MLlib's k-means|| seeding and its Lloyd steps need tens.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        Prepared rows: double columns ``cs_f0..cs_f{d-1}``, best cached.
    centroids : numpy.ndarray of shape (k, d)
        The starting centroids.
    max_iter : int, default 100
        Largest number of Lloyd iterations.
    tol : float, default 1e-4
        Convergence threshold on the sum of the centroids' squared moves, in the units
        of the features (the local engine's criterion is ``1e-4`` times the mean
        variance of the features: pass that).

    Returns
    -------
    SparkKMeansFit
        In canonical order (largest segment first), with the per-segment sums of every
        row. A segment left without rows keeps its centroid.
    """
    start = np.array(centroids, dtype=np.float64, ndmin=2)
    names = _feature_names(df)
    if start.shape[1] != len(names) or not np.isfinite(start).all():
        raise ConfigError(
            f"centroids should be a finite ({start.shape[0]}, {len(names)}) array, one column"
            f" per prepared feature; got shape {start.shape}"
        )
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    started = time.perf_counter()
    current, n_iter = start, 0
    while n_iter < max_iter:
        n_iter += 1
        sizes, means = _sizes_and_means(_labelled(df, names, current), names, current.shape[0])
        moved = np.where(sizes[:, None] > 0, means, current)
        shift = float(((moved - current) ** 2).sum())
        current = moved
        if shift <= tol:
            break
    summary = _summarise(_labelled(df, names, current), current, names)
    order = canonical_permutation(current, summary.sizes)
    return SparkKMeansFit(
        centroids=np.ascontiguousarray(current[order]),
        summary=summary.permuted(order),
        n_iter=n_iter,
        seconds=time.perf_counter() - started,
    )


def _labelled(df: Any, names: list[str], centroids: np.ndarray) -> Any:
    """``df``'s features with the nearest centroid's index (ties: the lowest, as locally).

    The nearest centroid minimises ``|c|^2 - 2 x.c`` (``|x|^2`` is the same for every
    centroid): one multiplication and one addition per feature and centroid, half the
    work of the squared differences.
    """
    from pyspark.sql import functions as F

    scores = []
    for c in centroids:
        score = F.lit(float(c @ c))
        for j, name in enumerate(names):
            score = score - F.col(name) * F.lit(2.0 * float(c[j]))
        scores.append(score)
    if len(scores) == 1:
        return df.select(*names, F.lit(0).alias(_LABEL))
    values = F.array(*scores)
    label = F.array_position(values, F.array_min(values)) - 1
    return df.select(*names, label.cast("int").alias(_LABEL))


def _sizes_and_means(labelled: Any, names: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    from pyspark.sql import functions as F

    rows = (
        labelled.groupBy(_LABEL)
        .agg(F.count(F.lit(1)).alias("n"), *[F.avg(n).alias(f"m{j}") for j, n in enumerate(names)])
        .collect()
    )
    sizes = np.zeros(k, dtype=np.int64)
    means = np.zeros((k, len(names)))
    for row in rows:
        c = int(row[_LABEL])
        sizes[c] = int(row["n"])
        means[c] = [float(row[f"m{j}"]) for j in range(len(names))]
    return sizes, means


def _summarise(predicted: Any, centroids: np.ndarray, names: list[str]) -> SegmentSummary:
    """Two aggregations over all rows: per-segment moments, then spreads."""
    from pyspark.sql import functions as F

    k, d = centroids.shape
    first = [F.count(F.lit(1)).alias("n")]
    for j, name in enumerate(names):
        first += [F.avg(name).alias(f"m{j}"), F.var_pop(name).alias(f"v{j}")]
    # Squared distance to the segment's own centroid (MLlib's prediction).
    own = [
        F.element_at(F.array(*[F.lit(float(c[j])) for c in centroids]), F.col(_LABEL) + 1)
        for j in range(d)
    ]
    to_centroid = sum(((F.col(n) - own[j]) ** 2 for j, n in enumerate(names)), F.lit(0.0))
    first.append(F.sum(to_centroid).alias("inertia"))
    rows = predicted.groupBy(_LABEL).agg(*first).collect()
    sizes = np.zeros(k, dtype=np.int64)
    means = np.zeros((k, d))
    within = np.zeros(k)
    inertia = np.zeros(k)
    for row in rows:
        c = int(row[_LABEL])
        sizes[c] = int(row["n"])
        means[c] = [float(row[f"m{j}"]) for j in range(d)]
        within[c] = sum(float(row[f"v{j}"] or 0.0) for j in range(d)) * sizes[c]
        inertia[c] = float(row["inertia"])
    mean_of = [
        F.element_at(F.array(*[F.lit(float(m[j])) for m in means]), F.col(_LABEL) + 1)
        for j in range(d)
    ]
    distance = F.sqrt(sum(((F.col(n) - mean_of[j]) ** 2 for j, n in enumerate(names)), F.lit(0.0)))
    spread = np.zeros(k)
    for row in predicted.groupBy(_LABEL).agg(F.avg(distance).alias("s")).collect():
        spread[int(row[_LABEL])] = float(row["s"])
    return SegmentSummary(sizes, means, within, spread, inertia)
