"""Spark MLlib K-means (k-means||) on a Spark DataFrame, with per-segment sums of all rows.

The prepared features are columns of a Spark DataFrame (``cs_f0``, ``cs_f1``...); they
never leave the cluster.

1. **fit**: :class:`pyspark.ml.clustering.KMeans` with k-means|| seeding (two init
   steps) and up to ``max_iter`` Lloyd iterations, on all rows; ``n_init`` starts with
   different seeds, the one of lowest cost kept;
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
from .._utils.numeric import (
    RandomState,
    generator,
    seed_from,
)
from ..exceptions import ConfigError
from .summaries import (
    SegmentSummary,
    canonical_permutation,
)

__all__ = [
    "SparkKMeansFit",
    "fit_kmeans_spark",
    "with_vector",
    "FEATURE_PREFIX",
    "MAX_ITER",
]

FEATURE_PREFIX = "cs_f"
"""Prepared feature ``j`` is the column ``cs_f{j}``."""
MAX_ITER = 100
_VECTOR = "cs_vector"
_LABEL = "cs_segment"


@dataclass(frozen=True)
class SparkKMeansFit:
    """A Spark MLlib K-means fit in canonical order, with its all-row summary.

    Attributes
    ----------
    centroids : numpy.ndarray, shape (k, d)
        Segment ``i`` is row ``i``; segment 0 is the largest.
    summary : SegmentSummary
        Sizes, means, within sums, spreads and inertia of all rows, canonical order.
    n_iter : int
        Lloyd iterations MLlib ran.
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


def with_vector(df: Any) -> Any:
    """``df`` with its ``cs_f*`` columns assembled into MLlib's vector column."""
    from pyspark.ml.feature import VectorAssembler

    return VectorAssembler(inputCols=_feature_names(df), outputCol=_VECTOR).transform(df)


def fit_kmeans_spark(
    df: Any,
    k: int,
    *,
    n_init: int = 4,
    random_state: RandomState = None,
    max_iter: int = MAX_ITER,
    tol: float = 1e-4,
) -> SparkKMeansFit:
    """Fit Spark MLlib K-means on the prepared rows of ``df``.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        Prepared rows: double columns ``cs_f0..cs_f{d-1}`` (from
        :func:`with_vector`, or assembled here when the vector column is absent).
    k : int
        Number of segments, ``>= 1``.
    n_init : int, default 4
        k-means|| starts (different seeds); the one with the lowest within-segment sum
        of squares is kept, as the local engine keeps the best of its k-means++ starts.
    random_state : int, numpy.random.Generator or None
        Seed of the starts.
    max_iter : int, default 100
        Largest number of Lloyd iterations.
    tol : float, default 1e-4
        MLlib's convergence threshold on centroid moves.

    Returns
    -------
    SparkKMeansFit
    """
    k = check_int(k, "k", minimum=1)
    n_init = check_int(n_init, "n_init", minimum=1)
    rng = generator(random_state)
    rows = df if _VECTOR in df.columns else with_vector(df)
    started = time.perf_counter()
    # One start after the other: concurrent MLlib fits were measured up to 13x slower
    # than sequential ones on two cores (four k-means|| seedings compete for the heap).
    best: tuple[Any, float] | None = None
    for seed in [seed_from(rng) for _ in range(n_init)]:
        model = _mllib_kmeans(k, seed, max_iter, tol).fit(rows)
        cost = float(model.summary.trainingCost)
        if best is None or cost < best[1]:  # ties keep the first start
            best = (model, cost)
    assert best is not None
    model = best[0]
    names = _feature_names(rows)
    raw = np.asarray(model.clusterCenters(), dtype=np.float64).reshape(-1, len(names))
    summary = _summarise(model.transform(rows), raw, names)
    order = canonical_permutation(raw, summary.sizes)
    return SparkKMeansFit(
        centroids=np.ascontiguousarray(raw[order]),
        summary=summary.permuted(order),
        n_iter=int(model.summary.numIter) if model.hasSummary else 0,
        seconds=time.perf_counter() - started,
    )


def _mllib_kmeans(k: int, seed: int, max_iter: int, tol: float) -> Any:
    from pyspark.ml.clustering import KMeans

    return KMeans(
        k=k,
        featuresCol=_VECTOR,
        predictionCol=_LABEL,
        initMode="k-means||",
        initSteps=2,
        maxIter=max_iter,
        tol=tol,
        seed=seed,
    )


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
