"""The silhouette coefficient: exact and fast up to tens of thousands of rows, estimated
with an interval above.

For row ``i`` of segment ``c``, ``a(i)`` is its mean distance to the other rows of
``c`` and ``b(i)`` the smallest mean distance to the rows of another segment;
``s(i) = (b - a) / max(a, b)``. Rows of one-row segments get ``s = 0`` (scikit-learn's
convention). The score is the mean of ``s`` over rows.

Exact computation (``n <= max_exact``) needs every pairwise distance, ``O(n^2)``. It is
done in square blocks of the distance matrix, with BLAS and no Python loop over rows:

* the block of squared distances is one matrix product of augmented rows,
  ``[x, |x|^2, 1] . [-2y, 1, |y|^2] = |x - y|^2`` (columns are centred first to limit
  cancellation), clamped at 0 before the square root;
* per-segment distance sums are a second product with a one-hot matrix of the labels
  (float64 accumulation), so several labelings (one per ``k``) share one pass over the
  distances; with a single labeling the rows are first sorted by segment, so that most
  blocks hold one segment and need only plain row and column sums;
* the matrix is symmetric, so only blocks on and above the diagonal are computed; each
  feeds both its rows and its columns;
* blocks are small enough to stay in the CPU cache (``_BLOCK_BYTES`` per thread), and
  two threads share the blocks, each with its own accumulator, so memory is
  ``O(n * (d + segments))`` plus one block per thread, never ``O(n^2)``.

Above ``max_exact`` rows the score is estimated on a sample stratified by segment:
proportional allocation with at least ``min_per_segment`` rows per segment (small
segments are never missed), silhouettes computed exactly within the sample, the overall
value re-weighted by the true segment shares, and a percentile bootstrap interval
(resampling within each segment) reported with the sample size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

import numpy as np

from .._utils.checks import check_int
from .._utils.numeric import (
    RandomState,
    as_labels,
    as_matrix,
    generator,
    n_workers,
    parallel_map,
    single_threaded_blas,
    strided,
)
from .._utils.sampling import stratified_sample
from ..exceptions import ConfigError, DataError

__all__ = [
    "SilhouetteResult",
    "silhouette",
    "silhouette_many",
    "SilhouetteOptions",
    "silhouette_samples_exact",
    "DEFAULT_MAX_EXACT",
    "DEFAULT_SAMPLE_SIZE",
]

DEFAULT_MAX_EXACT = 50_000
DEFAULT_SAMPLE_SIZE = 20_000
DEFAULT_N_BOOTSTRAP = 200
DEFAULT_MIN_PER_SEGMENT = 100
# One block of float64 distances per thread; 2 MiB (512 x 512) stays in a core's L2
# cache, which measured faster than larger blocks (bench/README.md).
_BLOCK_BYTES = 2 << 20
# The distance sums are split into this many parts whatever the number of threads (at
# most this many run at once): the silhouettes are the same on every machine.
_PARTS = 8


@dataclass(frozen=True)
class SilhouetteResult:
    """The silhouette of a segmentation, exact or estimated.

    Attributes
    ----------
    value : float
        Mean silhouette over all rows (estimated: re-weighted by segment shares).
    per_segment : list of float or None
        Mean silhouette of each segment; index = segment label; ``None`` for a label
        with no row.
    exact : bool
        ``True`` when every row was used.
    sample_size : int
        Rows the value was computed on (``n_rows`` when exact).
    n_rows : int
        Rows of the data.
    ci_low, ci_high : float or None
        Percentile bootstrap interval of ``value`` (``None`` when exact).
    confidence : float or None
        Level of the interval, e.g. 0.95 (``None`` when exact).
    n_bootstrap : int or None
        Bootstrap resamples behind the interval (``None`` when exact).
    segment_sample_sizes : list of int
        Rows of each segment in the sample (the segment sizes when exact).
    samples : numpy.ndarray or None
        Per-row silhouettes when exact, ``None`` when estimated. Not part of
        :meth:`to_dict`.
    """

    value: float
    per_segment: list[float | None]
    exact: bool
    sample_size: int
    n_rows: int
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None
    n_bootstrap: int | None = None
    segment_sample_sizes: list[int] = field(default_factory=list)
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (without the per-row ``samples``)."""
        return {
            "value": self.value,
            "per_segment": list(self.per_segment),
            "exact": self.exact,
            "sample_size": self.sample_size,
            "n_rows": self.n_rows,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence": self.confidence,
            "n_bootstrap": self.n_bootstrap,
            "segment_sample_sizes": list(self.segment_sample_sizes),
        }


def silhouette_samples_exact(X: Any, labels: Any, *, chunk_size: int | None = None) -> np.ndarray:
    """Exact silhouette of every row, like ``sklearn.metrics.silhouette_samples``.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        Prepared numeric matrix (no NaN/inf).
    labels : array-like of shape (n_rows,)
        Segment of each row (any values: integers, strings, ...).
    chunk_size : int, optional
        Side of the square blocks of the distance matrix; by default chosen so a
        block of float64 distances takes 2 MiB (512 rows). Memory is bounded by
        one block per thread.

    Returns
    -------
    numpy.ndarray of shape (n_rows,)
        Silhouette of each row, float64; 0 for rows of one-row segments.

    Raises
    ------
    DataError
        If ``X`` is not a finite matrix, ``labels`` do not match it, or there are
        fewer than 2 or more than ``n_rows - 1`` distinct labels.
    """
    matrix = as_matrix(X)
    raw = np.asarray(labels)
    if raw.ndim != 1 or raw.shape[0] != matrix.shape[0]:
        raise DataError(
            f"labels has shape {raw.shape} but X has {matrix.shape[0]} rows; pass one label per row"
        )
    _, compact = np.unique(raw, return_inverse=True)
    compact = compact.reshape(-1).astype(np.int64)
    _check_segment_count(int(compact.max(initial=-1)) + 1, matrix.shape[0])
    block = _block_size(chunk_size)
    return _exact_samples(matrix, [compact], block)[0]


class SilhouetteOptions(TypedDict, total=False):
    """The options of :func:`silhouette` and :func:`silhouette_many` (see the former)."""

    max_exact: int
    sample_size: int
    n_bootstrap: int
    confidence: float
    min_per_segment: int
    random_state: RandomState
    chunk_size: int | None


def silhouette(X: Any, labels: Any, **options: Unpack[SilhouetteOptions]) -> SilhouetteResult:
    """Silhouette of a segmentation: exact up to ``max_exact`` rows, estimated above.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        Prepared numeric matrix (no NaN/inf).
    labels : array-like of int, shape (n_rows,)
        Segment of each row, integers ``>= 0`` (``per_segment`` is indexed by them).
    max_exact : int, default 50_000
        Largest number of rows computed exactly (time grows with the square of it:
        2 to 4 s at 50,000 rows on two shared cores, bench/README.md).
    sample_size : int, default 20_000
        Target rows of the stratified sample above ``max_exact``.
    n_bootstrap : int, default 200
        Bootstrap resamples for the interval of an estimate.
    confidence : float, default 0.95
        Level of the percentile interval.
    min_per_segment : int, default 100
        Rows every segment contributes to the sample (all of its rows if it has
        fewer), so small segments are represented.
    random_state : int, numpy.random.Generator or None, default None
        Seed of the sample and of the bootstrap.
    chunk_size : int or None, default None
        Block side of the exact computation (see :func:`silhouette_samples_exact`).

    Returns
    -------
    SilhouetteResult

    Raises
    ------
    DataError
        If ``X`` or ``labels`` are not valid or hold fewer than 2 (or more than
        ``n_rows - 1``) segments.
    ConfigError
        If an option is out of range.
    """
    return silhouette_many(X, [labels], **options)[0]


def silhouette_many(
    X: Any,
    labelings: Sequence[Any],
    *,
    max_exact: int = DEFAULT_MAX_EXACT,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
    confidence: float = 0.95,
    min_per_segment: int = DEFAULT_MIN_PER_SEGMENT,
    random_state: RandomState = None,
    chunk_size: int | None = None,
) -> list[SilhouetteResult]:
    """Silhouettes of several segmentations of the same rows (e.g. one per ``k``).

    When exact, all labelings share one pass over the pairwise distances, which is
    far cheaper than one pass each. Parameters are those of :func:`silhouette`.

    Returns
    -------
    list of SilhouetteResult
        One per labeling, in order.
    """
    matrix = as_matrix(X)
    n_rows = matrix.shape[0]
    max_exact = check_int(max_exact, "max_exact", minimum=2)
    sample_size = check_int(sample_size, "sample_size", minimum=2)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", minimum=1)
    min_per_segment = check_int(min_per_segment, "min_per_segment", minimum=1)
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence={confidence!r} should be between 0 and 1, e.g. 0.95")
    if isinstance(labelings, np.ndarray) and labelings.ndim == 1:
        raise DataError("labelings should be a list of label arrays; use silhouette() for one")
    checked = [as_labels(labels, n_rows) for labels in labelings]
    for labels in checked:
        _check_segment_count(int(np.count_nonzero(np.bincount(labels))), n_rows)
    block = _block_size(chunk_size)
    rng = generator(random_state)

    if n_rows <= max_exact or sample_size >= n_rows:
        compact = [_compact(labels) for labels in checked]
        all_samples = _exact_samples(matrix, [c for c, _ in compact], block)
        return [
            _exact_result(samples, labels)
            for samples, labels in zip(all_samples, checked, strict=True)
        ]
    return [
        _estimate(matrix, labels, sample_size, min_per_segment, n_bootstrap, confidence, rng, block)
        for labels in checked
    ]


# --------------------------------------------------------------------------- helpers


def _check_segment_count(n_segments: int, n_rows: int) -> None:
    if not 2 <= n_segments <= n_rows - 1:
        raise DataError(
            f"the labels hold {n_segments} segment(s) for n_rows={n_rows}; the silhouette "
            "needs 2 <= segments <= n_rows - 1"
        )


def _block_size(chunk_size: int | None) -> int:
    if chunk_size is None:
        return int(math.isqrt(_BLOCK_BYTES // 8))
    return check_int(chunk_size, "chunk_size", minimum=1)


def _compact(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels renumbered 0..m-1 over the present segments, and the present ids."""
    present, compact = np.unique(labels, return_inverse=True)
    return compact.reshape(-1).astype(np.int64), present


def _exact_samples(X: np.ndarray, labelings: list[np.ndarray], block: int) -> list[np.ndarray]:
    """Per-row silhouettes for each labeling (labels compact 0..m-1), one distance pass."""
    n = X.shape[0]
    centred = np.asarray(X, dtype=np.float64)
    centred = centred - centred.mean(axis=0)
    if len(labelings) == 1:
        # One labeling: rows sorted by segment make most blocks single-segment, whose
        # per-segment sums are plain row/column sums instead of a one-hot product.
        labels = labelings[0]
        order = np.argsort(labels, kind="stable")
        sorted_labels = labels[order]
        sums = _distance_sums(centred[order], _onehot([sorted_labels]), block, sorted_labels)
        values = np.empty(n)
        values[order] = _from_sums(sums, sorted_labels)
        return [values]
    widths = [int(labels.max()) + 1 for labels in labelings]
    offsets = np.concatenate([[0], np.cumsum(widths)])
    sums = _distance_sums(centred, _onehot(labelings), block, None)
    return [
        _from_sums(sums[:, offsets[j] : offsets[j + 1]], labels)
        for j, labels in enumerate(labelings)
    ]


def _onehot(labelings: list[np.ndarray]) -> np.ndarray:
    """Side-by-side one-hot matrices of the labelings (rows x total segments)."""
    n = labelings[0].shape[0]
    widths = [int(labels.max()) + 1 for labels in labelings]
    onehot = np.zeros((n, int(sum(widths))))
    rows = np.arange(n)
    offset = 0
    for labels, width in zip(labelings, widths, strict=True):
        onehot[rows, offset + labels] = 1.0
        offset += width
    return onehot


def _distance_sums(
    X: np.ndarray, onehot: np.ndarray, block: int, sorted_labels: np.ndarray | None
) -> np.ndarray:
    """``S[i, c] = sum_j |x_i - x_j| * onehot[j, c]`` over the upper block triangle.

    With ``sorted_labels`` (one labeling, rows sorted by it), a block whose rows all
    belong to one segment adds plain sums to that segment's column.
    """
    n = X.shape[0]
    squared = np.einsum("ij,ij->i", X, X)
    ones = np.ones((n, 1))
    left = np.hstack([X, squared[:, None], ones])
    right = np.hstack([-2.0 * X, ones, squared[:, None]])
    n_blocks = -(-n // block)
    pairs = [(i, j) for i in range(n_blocks) for j in range(i, n_blocks)]
    uniform = [-1] * n_blocks  # segment of a single-segment block, else -1
    if sorted_labels is not None:
        for b in range(n_blocks):
            first, last = sorted_labels[b * block], sorted_labels[min(n, (b + 1) * block) - 1]
            uniform[b] = int(first) if first == last else -1

    def work(task: tuple[Sequence[tuple[int, int]], np.ndarray]) -> np.ndarray:
        assigned, total = task
        total.fill(0.0)
        for i, j in assigned:
            r0, r1 = i * block, min(n, (i + 1) * block)
            c0, c1 = j * block, min(n, (j + 1) * block)
            dist = left[r0:r1] @ right[c0:c1].T
            np.maximum(dist, 0.0, out=dist)
            np.sqrt(dist, out=dist)
            if i == j:
                # a row's distance to itself is 0, not a rounding residue
                dist.flat[:: dist.shape[1] + 1] = 0.0
            # rows of block i: distances to the segments of block j
            if uniform[j] >= 0:
                total[r0:r1, uniform[j]] += dist.sum(axis=1)
            else:
                total[r0:r1] += dist @ onehot[c0:c1]
            if i == j:
                continue
            # rows of block j: the same distances, seen from the other side
            if uniform[i] >= 0:
                total[c0:c1, uniform[i]] += dist.sum(axis=0)
            else:
                total[c0:c1] += dist.T @ onehot[r0:r1]
        return total

    # A fixed split, added in part order whatever the thread count: float addition is
    # not associative, and the sums must not depend on the machine's cores. The parts
    # run a wave of `workers` at a time, each thread summing into a buffer of its own.
    parts = list(strided(pairs, _PARTS))
    workers = min(n_workers(), _PARTS)
    buffers = [np.empty_like(onehot) for _ in range(workers)]
    result = np.zeros_like(onehot)
    with single_threaded_blas():
        for start in range(0, _PARTS, workers):
            wave = list(zip(parts[start : start + workers], buffers, strict=False))
            for total in parallel_map(work, wave, workers):
                result += total
    return result


def _from_sums(sums: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Silhouettes from per-segment distance sums (labels compact 0..m-1)."""
    n = labels.shape[0]
    rows = np.arange(n)
    counts = np.bincount(labels).astype(np.float64)
    own_count = counts[labels]
    a = sums[rows, labels] / np.maximum(own_count - 1.0, 1.0)
    means = sums / counts
    means[rows, labels] = np.inf
    b = means.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    # identical rows give 0/0; one-row segments have no a(i): both are 0 by convention
    s[own_count == 1] = 0.0
    return np.nan_to_num(s, nan=0.0, posinf=0.0, neginf=0.0)


def _segment_means(values: np.ndarray, labels: np.ndarray, n_labels: int) -> list[float | None]:
    counts = np.bincount(labels, minlength=n_labels)
    totals = np.bincount(labels, weights=values, minlength=n_labels)
    return [float(totals[c] / counts[c]) if counts[c] else None for c in range(n_labels)]


def _exact_result(samples: np.ndarray, labels: np.ndarray) -> SilhouetteResult:
    n_labels = int(labels.max()) + 1
    return SilhouetteResult(
        value=float(samples.mean()),
        per_segment=_segment_means(samples, labels, n_labels),
        exact=True,
        sample_size=int(labels.shape[0]),
        n_rows=int(labels.shape[0]),
        segment_sample_sizes=[int(c) for c in np.bincount(labels, minlength=n_labels)],
        samples=samples,
    )


def _estimate(
    X: np.ndarray,
    labels: np.ndarray,
    sample_size: int,
    min_per_segment: int,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
    block: int,
) -> SilhouetteResult:
    n_labels = int(labels.max()) + 1
    index = stratified_sample(labels, sample_size, rng, min_per_segment=min_per_segment)
    sample_labels = labels[index]
    compact, present = _compact(sample_labels)
    values = _exact_samples(X[index], [compact], block)[0]

    # stratified estimator: each segment's mean weighted by its share of all rows
    shares = np.bincount(labels, minlength=n_labels)[present] / labels.shape[0]
    taken = np.bincount(compact)
    means = np.bincount(compact, weights=values) / taken
    value = float(np.dot(shares, means))

    # percentile bootstrap, resampling rows within each segment of the sample
    order = np.argsort(compact, kind="stable")
    starts = np.concatenate([[0], np.cumsum(taken)])
    boot = np.zeros(n_bootstrap)
    for c in range(present.shape[0]):
        segment_values = values[order[starts[c] : starts[c + 1]]]
        draws = rng.integers(
            0, segment_values.shape[0], size=(n_bootstrap, segment_values.shape[0])
        )
        boot += shares[c] * segment_values[draws].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])

    per_segment: list[float | None] = [None] * n_labels
    segment_sizes = [0] * n_labels
    for c, label in enumerate(present):
        per_segment[int(label)] = float(means[c])
        segment_sizes[int(label)] = int(taken[c])
    return SilhouetteResult(
        value=value,
        per_segment=per_segment,
        exact=False,
        sample_size=int(index.shape[0]),
        n_rows=int(labels.shape[0]),
        ci_low=float(low),
        ci_high=float(high),
        confidence=float(confidence),
        n_bootstrap=n_bootstrap,
        segment_sample_sizes=segment_sizes,
        samples=None,
    )
