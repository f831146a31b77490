"""K-means segments: fitting, canonical numbering and THE assignment of rows to segments.

Engines (``KMeansFit.engine``):

``"lloyd"``
    scikit-learn's Lloyd K-means with k-means++ seeding and ``n_init`` starts, on all
    rows. The default for in-memory data up to ``minibatch_threshold`` rows.
``"minibatch"``
    scikit-learn's MiniBatchKMeans, used only above ``minibatch_threshold`` rows
    (default 500,000) with ``engine="auto"``, or when asked for. It can lose quality
    on small data, so its ``inertia_gap`` is always reported.
``"sample"``
    Lloyd on a uniform random sample of ``sample_size`` rows (``"auto"``: 3,000 rows
    per centroid, at least 10,000), then every row is assigned. A few thousand rows
    per centroid pin the centroids down to within a few percent of inertia at a
    fraction of the cost; the ``inertia_gap`` says how close.

``inertia_gap`` (MiniBatch and sample engines): on an evaluation sample of up to
100,000 rows drawn from all rows, the relative excess of the centroids' inertia over
the inertia after a full Lloyd run on that sample started from them:
``inertia(centroids) / inertia(Lloyd-refined) - 1``. 0 means Lloyd on the sample
cannot improve them.

Segments are numbered canonically: by their size among all rows of ``X`` (also with
the sample engine), largest first, ties broken by the centroid coordinates
(lexicographic), so the same data and seed always give the same numbering. The fitted
labels are exactly ``assign(X, centroids).labels``, recomputed after the renumbering.

:func:`assign` is the one function that maps rows to segments, used by fitting,
scoring, the service and the report. It computes ``|x|^2 - 2 x.c + |c|^2`` in float64
in fixed-size row chunks: the last chunk is zero-padded to the same shape, so every
row gets the bit-identical arithmetic whatever its position and whatever the batch
size (BLAS results otherwise depend on the shape of the product). Ties go to the
lowest segment id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .._utils.checks import check_int
from .._utils.numeric import (
    RandomState,
    as_matrix,
    check_finite,
    generator,
    library_threads,
    n_workers,
    parallel_map,
    seed_from,
    single_threaded_blas,
    strided,
)
from ..exceptions import ConfigError, DataError

__all__ = [
    "Assignment",
    "KMeansFit",
    "assign",
    "fit_kmeans",
    "auto_sample_size",
    "assign_checked",
    "lloyd",
    "DEFAULT_MINIBATCH_THRESHOLD",
]

Engine = Literal["auto", "lloyd", "minibatch"]

DEFAULT_MINIBATCH_THRESHOLD = 500_000
ROWS_PER_CENTROID = 3_000
MIN_AUTO_SAMPLE = 10_000
GAP_SAMPLE_SIZE = 100_000
# Rows per assignment chunk: small enough for the cache, large enough that Python
# overhead per chunk is negligible. Changing it changes the last bits of distances.
_CHUNK_ROWS = 4096
# Below this many rows scikit-learn's K-means runs on one OpenMP thread: threading
# gains little on small data and busy-waiting threads lose a lot on a shared machine.
_SINGLE_THREAD_ROWS = 100_000
_MINIBATCH_BATCH = 4096


@dataclass(frozen=True)
class Assignment:
    """Rows mapped to their nearest centroid.

    Attributes
    ----------
    labels : numpy.ndarray of int64
        Segment of each row (ties go to the lowest id).
    distance : numpy.ndarray of float64
        Euclidean distance of each row to its own centroid.
    runner_up : numpy.ndarray of int64
        The second-nearest segment (``-1`` when there is one segment).
    margin : numpy.ndarray of float64
        Runner-up distance minus own distance, ``>= 0`` (``inf`` with one segment):
        small margins flag customers between two segments.
    """

    labels: np.ndarray
    distance: np.ndarray
    runner_up: np.ndarray
    margin: np.ndarray

    @property
    def n_rows(self) -> int:
        """Number of rows assigned."""
        return int(self.labels.shape[0])

    def to_dict(self) -> dict[str, Any]:
        """Per-row values as plain lists (JSON-ready; ``inf`` margins become ``None``)."""
        margin = [float(m) if np.isfinite(m) else None for m in self.margin]
        return {
            "labels": [int(v) for v in self.labels],
            "distance": [float(v) for v in self.distance],
            "runner_up": [int(v) for v in self.runner_up],
            "margin": margin,
        }


@dataclass(frozen=True)
class KMeansFit:
    """A fitted K-means segmentation in canonical order.

    Attributes
    ----------
    centroids : numpy.ndarray of shape (k, n_features)
        Row ``i`` is segment ``i``; segment 0 is the largest.
    labels : numpy.ndarray of int64
        ``assign(X, centroids).labels`` for the fitted rows.
    inertia : float
        Sum of squared distances of the rows to their centroid.
    n_iter : int
        Lloyd (or MiniBatch) iterations of the retained start.
    engine : str
        ``"lloyd"``, ``"minibatch"`` or ``"sample"``.
    inertia_gap : float or None
        Relative inertia excess over a Lloyd refinement on an evaluation sample
        (MiniBatch and sample engines; ``None`` for Lloyd on all rows).
    sizes : list of int
        Rows per segment.
    n_rows : int
        Rows assigned.
    fit_rows : int
        Rows the centroids were fitted on (``n_rows`` unless sampled).
    n_init : int
        k-means++ starts tried.
    assignment : Assignment
        Distances, runner-up segments and margins of the rows.
    """

    centroids: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    engine: str
    inertia_gap: float | None
    sizes: list[int]
    n_rows: int
    fit_rows: int
    n_init: int
    assignment: Assignment = field(repr=False, compare=False)

    @property
    def k(self) -> int:
        """Number of segments."""
        return int(self.centroids.shape[0])

    @property
    def shares(self) -> list[float]:
        """Share of the rows in each segment."""
        return [size / self.n_rows for size in self.sizes]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (without the per-row labels and distances)."""
        return {
            "k": self.k,
            "centroids": [[float(v) for v in row] for row in self.centroids],
            "sizes": list(self.sizes),
            "shares": self.shares,
            "inertia": self.inertia,
            "n_iter": self.n_iter,
            "engine": self.engine,
            "inertia_gap": self.inertia_gap,
            "n_rows": self.n_rows,
            "fit_rows": self.fit_rows,
            "n_init": self.n_init,
        }


def auto_sample_size(n_rows: int, k: int) -> int:
    """Rows the sample engine fits on by default: 3,000 per centroid, >= 10,000."""
    return min(n_rows, max(MIN_AUTO_SAMPLE, ROWS_PER_CENTROID * k))


def fit_kmeans(
    X: Any,
    k: int,
    *,
    n_init: int = 4,
    random_state: RandomState = None,
    engine: Engine = "auto",
    minibatch_threshold: int = DEFAULT_MINIBATCH_THRESHOLD,
    sample_size: int | Literal["auto"] | None = None,
    max_iter: int = 300,
    tol: float = 1e-4,
    init: Any = None,
) -> KMeansFit:
    """Fit K-means with k-means++ starts and number the segments canonically.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        Prepared numeric matrix (float32 or float64, no NaN/inf).
    k : int
        Number of segments, ``1 <= k <= n_rows``.
    n_init : int, default 4
        k-means++ starts; the one with the lowest inertia is kept.
    random_state : int, numpy.random.Generator or None
        Seed of the starts and samples; the same seed and data give the same fit.
    engine : {"auto", "lloyd", "minibatch"}, default "auto"
        ``"auto"`` is Lloyd up to ``minibatch_threshold`` rows and MiniBatch above.
        Ignored when ``sample_size`` applies.
    minibatch_threshold : int, default 500_000
        Rows above which ``"auto"`` switches to MiniBatch.
    sample_size : int, "auto" or None, default None
        Fit Lloyd on a random sample of this many rows, then assign every row
        (``"auto"``: :func:`auto_sample_size`). ``None`` or a size ``>= n_rows`` fits
        on all rows.
    max_iter : int, default 300
        Lloyd iterations per start.
    tol : float, default 1e-4
        Convergence tolerance on centroid moves, relative to the data variance.
    init : array-like of shape (k, n_features), optional
        Start one Lloyd run on all rows from these centroids instead of k-means++
        starts (to polish centroids found elsewhere, e.g. on a resample).

    Returns
    -------
    KMeansFit

    Raises
    ------
    DataError
        If ``X`` holds NaN/inf, is not 2-D, or has fewer rows than ``k``.
    ConfigError
        If ``k``, ``n_init``, ``engine`` or another option is out of range.
    """
    matrix = as_matrix(X)
    n_rows = matrix.shape[0]
    k = check_int(k, "k", minimum=1)
    if n_rows < k:
        raise DataError(f"n_rows={n_rows} should be >= k={k}; ask for fewer segments")
    n_init = check_int(n_init, "n_init", minimum=1)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    minibatch_threshold = check_int(minibatch_threshold, "minibatch_threshold", minimum=1)
    if engine not in ("auto", "lloyd", "minibatch"):
        raise ConfigError(f"engine={engine!r} is not valid; use 'auto', 'lloyd' or 'minibatch'")
    if not tol >= 0:
        raise ConfigError(f"tol={tol!r} should be >= 0")
    if sample_size == "auto":
        sample_size = auto_sample_size(n_rows, k)
    elif sample_size is not None:
        sample_size = check_int(sample_size, "sample_size", minimum=1)
        if sample_size < k:
            raise ConfigError(f"sample_size={sample_size} should be >= k={k}")
    rng = generator(random_state)

    gap: float | None = None
    if init is not None:
        start = np.asarray(as_matrix(init, name="init"), dtype=np.float64)
        if start.shape != (k, matrix.shape[1]):
            raise ConfigError(
                f"init has shape {start.shape}; it should be (k, n_features) ="
                f" ({k}, {matrix.shape[1]})"
            )
        rows = np.asarray(matrix, dtype=np.float64)
        centroids, n_iter = lloyd(rows, k, 1, rng, max_iter=max_iter, tol=tol, init=start)
        used, fit_rows, n_init = "lloyd", n_rows, 1
    elif sample_size is not None and sample_size < n_rows:
        index = np.sort(rng.choice(n_rows, size=sample_size, replace=False))
        centroids, n_iter = lloyd(matrix[index], k, n_init, rng, max_iter=max_iter, tol=tol)
        used, fit_rows = "sample", sample_size
        gap = _inertia_gap(matrix, centroids, rng, tol=tol)
    elif engine == "minibatch" or (engine == "auto" and n_rows > minibatch_threshold):
        centroids, n_iter = _minibatch(matrix, k, n_init, rng, tol=tol)
        used, fit_rows = "minibatch", n_rows
        gap = _inertia_gap(matrix, centroids, rng, tol=tol)
    else:
        centroids, n_iter = lloyd(matrix, k, n_init, rng, max_iter=max_iter, tol=tol)
        used, fit_rows = "lloyd", n_rows

    centroids = _canonical_order(matrix, centroids)
    assignment = assign_checked(matrix, centroids)
    sizes = np.bincount(assignment.labels, minlength=k)
    return KMeansFit(
        centroids=centroids,
        labels=assignment.labels,
        inertia=float(np.dot(assignment.distance, assignment.distance)),
        n_iter=n_iter,
        engine=used,
        inertia_gap=gap,
        sizes=[int(s) for s in sizes],
        n_rows=n_rows,
        fit_rows=fit_rows,
        n_init=n_init,
        assignment=assignment,
    )


def assign(X: Any, centroids: Any) -> Assignment:
    """Assign every row to its nearest centroid (euclidean), in chunks.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        Prepared numeric matrix (float32 or float64, no NaN/inf).
    centroids : array-like of shape (k, n_features)
        Centroids in segment order (row ``i`` is segment ``i``).

    Returns
    -------
    Assignment
        Labels (ties to the lowest id), distance to the own centroid, runner-up
        segment and margin.

    Raises
    ------
    DataError
        If the shapes disagree or a value is NaN/inf (the message gives its row).
    """
    centres = as_matrix(centroids, name="centroids")
    matrix = as_matrix(X, min_rows=0, check_values=False)
    if matrix.shape[1] != centres.shape[1]:
        raise DataError(
            f"X has {matrix.shape[1]} features but the centroids have {centres.shape[1]}; "
            "prepare X with the preparation plan the centroids were fitted on"
        )
    return assign_checked(matrix, np.asarray(centres, dtype=np.float64), check=True)


# --------------------------------------------------------------------------- assignment


def assign_checked(X: np.ndarray, centroids: np.ndarray, *, check: bool = False) -> Assignment:
    """:func:`assign` for rows and float64 centroids already validated (no input checks).

    ``check=True`` still scans each chunk for NaN/inf (what :func:`assign` does).
    """
    n_rows, n_features = X.shape
    k = centroids.shape[0]
    # A one-column product goes through a different BLAS routine whose rounding
    # depends on the batch; a padding centroid keeps every k on the same path.
    padded = centroids if k >= 2 else np.vstack([centroids, np.zeros_like(centroids)])
    minus_two_c = np.ascontiguousarray(-2.0 * padded.T)
    c_squared = np.einsum("ij,ij->i", padded, padded)

    labels = np.empty(n_rows, dtype=np.int64)
    distance = np.empty(n_rows, dtype=np.float64)
    runner_up = np.empty(n_rows, dtype=np.int64)
    margin = np.empty(n_rows, dtype=np.float64)
    starts = list(range(0, n_rows, _CHUNK_ROWS))

    direct = X.dtype == np.float64 and X.flags.c_contiguous
    width = padded.shape[0]

    def work(chunk_starts: list[int]) -> None:
        buffer = np.zeros((_CHUNK_ROWS, n_features), dtype=np.float64)
        for start in chunk_starts:
            stop = min(n_rows, start + _CHUNK_ROWS)
            m = stop - start
            if check:
                check_finite(X[start:stop], row_offset=start)
            if m == _CHUNK_ROWS and direct:
                rows = X[start:stop]  # same shape and layout as the buffer: same bits
            else:
                buffer[:m] = X[start:stop]
                buffer[m:] = 0.0
                rows = buffer
            partial = rows @ minus_two_c  # (chunk, width): -2 x.c
            partial += c_squared
            x_squared = np.einsum("ij,ij->i", rows[:m], rows[:m])
            # flat indices into the C-ordered partial products, row by row
            flat = partial.reshape(-1)
            row_base = np.arange(0, m * width, width)
            candidates = partial[:m, :k]
            own = candidates.argmin(axis=1)
            labels[start:stop] = own
            dist = distance[start:stop]
            np.add(flat[row_base + own], x_squared, out=dist)
            np.maximum(dist, 0.0, out=dist)
            np.sqrt(dist, out=dist)
            if k == 1:
                runner_up[start:stop] = -1
                margin[start:stop] = np.inf
                continue
            flat[row_base + own] = np.inf
            second = candidates.argmin(axis=1)
            runner_up[start:stop] = second
            gap = flat[row_base + second] + x_squared
            np.maximum(gap, 0.0, out=gap)
            np.sqrt(gap, out=gap)
            np.subtract(gap, dist, out=margin[start:stop])

    workers = n_workers() if len(starts) >= 8 else 1
    with single_threaded_blas():
        parallel_map(work, [list(part) for part in strided(starts, workers)], workers)
    return Assignment(labels=labels, distance=distance, runner_up=runner_up, margin=margin)


def _canonical_order(X: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Centroids reordered by segment size (largest first), ties by coordinates."""
    sizes = np.bincount(assign_checked(X, centroids).labels, minlength=centroids.shape[0])
    # np.lexsort sorts by the last key first: size (descending), then coordinates
    keys = [centroids[:, j] for j in range(centroids.shape[1] - 1, -1, -1)]
    order = np.lexsort([*keys, -sizes])
    return np.ascontiguousarray(centroids[order], dtype=np.float64)


# --------------------------------------------------------------------------- engines


def lloyd(
    X: np.ndarray,
    k: int,
    n_init: int,
    rng: np.random.Generator,
    *,
    max_iter: int = 300,
    tol: float = 1e-4,
    sample_weight: np.ndarray | None = None,
    init: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Centroids and iterations of scikit-learn's Lloyd K-means (best of ``n_init``).

    For callers on validated float64 rows (the sweep, stability refits); ``init``
    starts from given centroids with one run, ``sample_weight`` weights the rows.
    """
    from sklearn.cluster import KMeans

    few = _distinct_rows_if_fewer(X, k)
    if few is not None:
        return _distinct_centroids(few, k), 0
    model = KMeans(
        n_clusters=k,
        init="k-means++" if init is None else init,
        n_init=n_init if init is None else 1,
        max_iter=max_iter,
        tol=tol,
        algorithm="lloyd",
        random_state=seed_from(rng),
    )
    with library_threads(1 if X.shape[0] < _SINGLE_THREAD_ROWS else None):
        model.fit(X, sample_weight=sample_weight)
    return np.asarray(model.cluster_centers_, dtype=np.float64), int(model.n_iter_)


def _minibatch(
    X: np.ndarray, k: int, n_init: int, rng: np.random.Generator, *, tol: float
) -> tuple[np.ndarray, int]:
    from sklearn.cluster import MiniBatchKMeans

    few = _distinct_rows_if_fewer(X, k)
    if few is not None:
        return _distinct_centroids(few, k), 0
    model = MiniBatchKMeans(
        n_clusters=k,
        n_init=n_init,
        batch_size=_MINIBATCH_BATCH,
        compute_labels=False,
        tol=tol,
        random_state=seed_from(rng),
    )
    with library_threads(1):
        model.fit(X)
    return np.asarray(model.cluster_centers_, dtype=np.float64), int(model.n_iter_)


def _distinct_rows_if_fewer(X: np.ndarray, k: int) -> np.ndarray | None:
    """The distinct rows of ``X`` when there are fewer than ``k``, else ``None``.

    Cheap in the usual case: the first rows already hold ``k`` distinct ones.
    """
    if len(np.unique(X[: 64 * k], axis=0)) >= k:
        return None
    distinct = np.unique(X, axis=0)
    return distinct if len(distinct) < k else None


def _distinct_centroids(distinct: np.ndarray, k: int) -> np.ndarray:
    """The K-means optimum when the rows have fewer than ``k`` distinct values.

    Each distinct row is a centroid (inertia 0) and the remaining centroids repeat the
    first, so their segments stay empty: the sweep does not recommend such a k and a
    model of it is refused in one line (``engines.assemble``). scikit-learn would reach
    the same centroids after a ``ConvergenceWarning`` printed for every k of the sweep.
    """
    filler = np.repeat(distinct[:1], k - len(distinct), axis=0)
    return np.ascontiguousarray(np.vstack([distinct, filler]), dtype=np.float64)


def _inertia_gap(
    X: np.ndarray, centroids: np.ndarray, rng: np.random.Generator, *, tol: float
) -> float:
    """Relative inertia excess of ``centroids`` over a Lloyd refinement on a sample."""
    n_rows = X.shape[0]
    if n_rows > GAP_SAMPLE_SIZE:
        sample = X[np.sort(rng.choice(n_rows, size=GAP_SAMPLE_SIZE, replace=False))]
    else:
        sample = X
    sample = np.asarray(sample, dtype=np.float64)
    before = _inertia(sample, centroids)
    refined, _ = lloyd(sample, centroids.shape[0], 1, rng, tol=tol, init=centroids)
    after = _inertia(sample, refined)
    return float(before / after - 1.0) if after > 0 else 0.0


def _inertia(X: np.ndarray, centroids: np.ndarray) -> float:
    distance = assign_checked(X, centroids).distance
    return float(np.dot(distance, distance))
