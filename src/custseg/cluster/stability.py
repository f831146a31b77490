"""Bootstrap stability of a K-means segmentation.

Would the customers get the same segments if the data had been a little different?
The segmentation is refitted (the better of two k-means++ starts each) on bootstrap
resamples of the rows; every refit assigns the same rows (all of them, or a fixed
evaluation sample of 20,000 on big data), and each result is compared with the
segmentation under test by the adjusted Rand index (ARI: 1 = the same partition,
about 0 = no better than chance). The stability is the **median** ARI; the mean and the
smallest ARI are reported beside it.

Why the median. A refit lands in the segmentation's own basin (ARI 0.9-1 on every
table measured) or, now and then, in another local optimum of K-means (ARI 0.3-0.7):
with two starts per refit, up to a quarter of the refits of CC_GENERAL's k = 6 do. Those
misses are the optimiser's, not the data's: with eight starts per refit the mean ARI
of k = 6 rises from 0.94 to 0.97, of k = 3 on the bank-churn table from 0.70 to 0.95,
whereas genuinely unstable k stay low (k = 4 of the bank-churn table: 0.40 and 0.49).
The median of two-start refits reads what the mean of many-start refits reads, at a
quarter of the cost, and one unlucky refit no longer moves the recommendation.

How many resamples. ``n_resamples`` refits first, then one at a time until the refits
that reach the rule's threshold (``min_stability``) outnumber those that do not, or the
other way round, by :data:`DECISIVE_LEAD` (3), or ``max_resamples`` are drawn: a
sequential sign test on the median. Clear cases cost the minimum; the borderline ones,
where the choice of k is decided, get up to three times more. The test is symmetric:
stopping as soon as the median of the first five is 0.05 away from the threshold (the
first design) stopped early on the low side far more often than on the high side when
the refits' ARIs were bimodal, and read a stable k as unstable on one seed in two.

A better fit among the refits. The refits double as extra starts: when a refit's
centroids give the rows a lower inertia than the segmentation under test, the caller
can polish them on all rows and test that segmentation instead (see
:meth:`StabilityResult.against`): on CC_GENERAL seed 5 found a k = 6 fit 3% worse than
the one every other seed finds, which read 0.72 against refits that read 0.96 among
themselves.

Resamples are capped at 20,000 rows (a fixed-size bootstrap), so stability costs the
same on a million rows as on the bundled sample. A resample with repeated rows is
fitted as its distinct rows weighted by their multiplicities: the same K-means
problem on about 63% of the rows. Refits stop at a relative tolerance of 1e-3 (the
fits themselves at 1e-4): the last iterations move centroids by less than a customer
and leave the median ARI unchanged to 0.003 (measured on CC_GENERAL, k = 2..10).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._utils.checks import check_int
from .._utils.numeric import RandomState, as_labels, as_matrix, generator
from ..exceptions import DataError
from .kmeans import assign_checked, lloyd

__all__ = [
    "DECISIVE_LEAD",
    "REFIT_STARTS",
    "SEGMENT_HALF_WIDTH",
    "SEGMENT_MAX_RESAMPLES",
    "SEGMENT_MIN_RESAMPLES",
    "STABILITY_ROWS",
    "UNSTABLE_BELOW",
    "SegmentStability",
    "StabilityResult",
    "adjusted_rand",
    "bootstrap_stability",
    "more_refits",
    "resample_stability",
    "segment_jaccard",
    "segment_stability",
    "stability_band",
]

STABILITY_ROWS = 20_000
# Starts per refit by default: the fit's own (``n_init`` of the selection, 4).
REFIT_STARTS = 4
REFIT_TOL = 1e-3
DECISIVE_LEAD = 3


@dataclass(frozen=True)
class StabilityResult:
    """The stability of one segmentation.

    Attributes
    ----------
    value : float
        Median ARI between the segmentation and its refits (NaN without refits).
    mean, low : float
        Mean and smallest ARI.
    n_resamples : int
        Refits behind the figures.
    better : numpy.ndarray or None
        Centroids of the refit with the lowest inertia on the compared rows, when it
        is lower than the segmentation's own; ``None`` otherwise.
    """

    value: float
    mean: float
    low: float
    n_resamples: int
    better: np.ndarray | None = field(default=None, repr=False, compare=False)
    _labels: tuple[np.ndarray, ...] = field(default=(), repr=False, compare=False)
    _best: int | None = field(default=None, repr=False, compare=False)
    _refits: _Refits | None = field(default=None, repr=False, compare=False)

    def against(self, labels: np.ndarray, evaluation: np.ndarray | None) -> StabilityResult:
        """The same refits compared with another segmentation of the same rows.

        Used when ``better`` was polished into the fit under test: the refit it came
        from is left out (it would compare with itself).
        """
        reference = labels if evaluation is None else labels[evaluation]
        if self._refits is not None:
            return self._refits.without(self._best, reference).result()
        kept = [lab for i, lab in enumerate(self._labels) if i != self._best]
        scores = [adjusted_rand(reference, refit) for refit in kept]
        return replace(_summary(scores, kept), better=None)


def bootstrap_stability(
    X: Any,
    labels: Any,
    *,
    n_resamples: int = 5,
    random_state: RandomState = None,
) -> tuple[float, float]:
    """Stability of a segmentation under bootstrap resampling.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        The prepared rows that ``labels`` segment.
    labels : array-like of int, shape (n_rows,)
        The segmentation to assess (segments ``0..k-1``; ``k = labels.max() + 1``).
    n_resamples : int, default 5
        Bootstrap refits.
    random_state : int, numpy.random.Generator or None
        Seed of the resamples and starts.

    Returns
    -------
    (float, float)
        Median and smallest adjusted Rand index (1 = the same segments every time).

    Raises
    ------
    DataError
        If ``X`` or ``labels`` are not valid, or there are fewer rows than segments.
    """
    matrix = np.asarray(as_matrix(X), dtype=np.float64)
    reference = as_labels(labels, matrix.shape[0])
    n_resamples = check_int(n_resamples, "n_resamples", minimum=1)
    k = int(reference.max(initial=0)) + 1
    if matrix.shape[0] < k:
        raise DataError(f"n_rows={matrix.shape[0]} should be >= k={k}")
    rng = generator(random_state)
    evaluation = evaluation_rows(matrix.shape[0], rng)
    result = resample_stability(
        matrix, reference, None, k, rng, n_resamples=n_resamples, evaluation=evaluation
    )
    return result.value, result.low


def evaluation_rows(n_rows: int, rng: np.random.Generator) -> np.ndarray | None:
    """Rows on which segmentations are compared: all (``None``), or a fixed sample."""
    if n_rows <= STABILITY_ROWS:
        return None
    return np.sort(rng.choice(n_rows, size=STABILITY_ROWS, replace=False))


def resample_stability(
    X: np.ndarray,
    labels: np.ndarray,
    distance: np.ndarray | None,
    k: int,
    rng: np.random.Generator,
    *,
    n_resamples: int,
    max_resamples: int | None = None,
    threshold: float | None = None,
    evaluation: np.ndarray | None = None,
    starts: int = REFIT_STARTS,
) -> StabilityResult:
    """Median ARI between ``labels`` and refits on bootstrap resamples of ``X``.

    Parameters
    ----------
    X : numpy.ndarray
        Validated float64 rows.
    labels : numpy.ndarray
        The segmentation under test (one label per row).
    distance : numpy.ndarray or None
        Distance of each row to its centroid in the segmentation under test; with it,
        a refit of lower inertia is returned as ``better``.
    k : int
        Segments.
    rng : numpy.random.Generator
        Source of the resamples and the refits' starts; kept by the result, which
        draws more refits from it (:func:`more_refits`).
    n_resamples : int
        Refits drawn at a time (0: nothing is measured, the result is NaN).
    max_resamples : int, optional
        Up to this many refits while neither the refits above ``threshold`` nor those
        below it lead by :data:`DECISIVE_LEAD`; default ``n_resamples``.
    threshold : float, optional
        The stability the rule compares with.
    evaluation : numpy.ndarray or None
        Rows the segmentations are compared on (``None``: all).
    starts : int, default REFIT_STARTS
        k-means++ starts per refit.
    """
    if n_resamples <= 0:
        nan = float("nan")
        return StabilityResult(nan, nan, nan, 0)
    limit = max(n_resamples, max_resamples or n_resamples)
    reference = labels if evaluation is None else labels[evaluation]
    refits = _Refits(X, evaluation, reference, k, rng, starts)
    batch = n_resamples
    while True:
        refits.draw(batch)
        scores = refits.scores
        above = sum(score >= threshold for score in scores) if threshold is not None else 0
        decided = threshold is None or abs(2 * above - len(scores)) >= DECISIVE_LEAD
        if decided or len(scores) >= limit:
            break
        batch = 1
    result = refits.result()
    if distance is None:
        return result
    own = distance if evaluation is None else distance[evaluation]
    best = int(np.argmin(refits.inertias))
    if refits.inertias[best] < float(np.dot(own, own)) * (1 - 1e-9):
        return replace(result, better=refits.centroids[best], _best=best)
    return result


class _Refits:
    """The bootstrap refits of one k, compared with one segmentation; more on demand.

    Every refit draws a resample of ``X`` (at most :data:`STABILITY_ROWS` rows), fits
    K-means on it and assigns the compared rows (``X[evaluation]``); its labels are
    kept, so that the same refits can be compared with another segmentation of those
    rows (the final fit's, in its numbering: :func:`segment_stability`).
    """

    def __init__(
        self,
        X: np.ndarray,
        evaluation: np.ndarray | None,
        reference: np.ndarray,
        k: int,
        rng: np.random.Generator,
        starts: int,
    ) -> None:
        self.X, self.k, self.rng, self.starts = X, k, rng, starts
        self.rows = X if evaluation is None else X[evaluation]
        self.reference = reference
        self.size = min(X.shape[0], STABILITY_ROWS)
        self.scores: list[float] = []
        self.labels: list[np.ndarray] = []
        self.jaccard: list[np.ndarray] = []
        self.inertias: list[float] = []
        self.centroids: list[np.ndarray] = []

    def draw(self, n: int) -> None:
        """Draw ``n`` more refits."""
        for _ in range(n):
            drawn = self.rng.integers(0, self.X.shape[0], size=self.size)
            distinct, counts = np.unique(drawn, return_counts=True)
            fitted, _ = lloyd(
                self.X[distinct],
                min(self.k, distinct.shape[0]),
                self.starts,
                self.rng,
                tol=REFIT_TOL,
                sample_weight=counts.astype(np.float64),
            )
            assignment = assign_checked(self.rows, fitted)
            refit = assignment.labels.astype(np.int32)
            self.labels.append(refit)
            self.inertias.append(float(np.dot(assignment.distance, assignment.distance)))
            self.centroids.append(fitted)
            self.scores.append(adjusted_rand(self.reference, refit))
            self.jaccard.append(segment_jaccard(self.reference, refit, self.k))

    def without(self, index: int | None, reference: np.ndarray) -> _Refits:
        """The same refits (but ``index``) compared with another segmentation."""
        other = _Refits.__new__(_Refits)
        other.__dict__.update(self.__dict__)
        other.reference = reference
        other.labels = [lab for i, lab in enumerate(self.labels) if i != index]
        other.centroids = [c for i, c in enumerate(self.centroids) if i != index]
        other.inertias = [v for i, v in enumerate(self.inertias) if i != index]
        other.scores = [adjusted_rand(reference, lab) for lab in other.labels]
        other.jaccard = [segment_jaccard(reference, lab, self.k) for lab in other.labels]
        return other

    def result(self) -> StabilityResult:
        return _summary(self.scores, self.labels, self)


def _summary(
    scores: list[float], refits: list[np.ndarray], source: _Refits | None = None
) -> StabilityResult:
    if not scores:
        nan = float("nan")
        return StabilityResult(nan, nan, nan, 0)
    return StabilityResult(
        value=float(np.median(scores)),
        mean=float(np.mean(scores)),
        low=float(np.min(scores)),
        n_resamples=len(scores),
        _labels=tuple(refits),
        _refits=source,
    )


def adjusted_rand(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index of two labelings (Hubert and Arabie, 1985), from counts."""
    n = a.shape[0]
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    table = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(np.float64)

    def pairs(counts: np.ndarray) -> float:
        return float((counts * (counts - 1.0)).sum() / 2.0)

    index = pairs(table)
    rows, cols = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    total = n * (n - 1.0) / 2.0
    expected = rows * cols / total if total else 0.0
    maximum = (rows + cols) / 2.0
    if maximum == expected:
        # both labelings put everyone together (or everyone apart): identical
        return 1.0
    return float((index - expected) / (maximum - expected))


# --------------------------------------------------------------- per-segment stability

SEGMENT_MIN_RESAMPLES = 20
"""Refits behind a segment's stability at least (those of the sweep count)."""
SEGMENT_MAX_RESAMPLES = 40
"""Refits at most, when a segment's mean Jaccard still varies more than the target: a
refit costs about 0.1 s on CC_GENERAL, and a segment whose refits land in two optima
(Jaccard 0.95 or 0.6) needs about 100 for ±0.03; its figure then says its half-width."""
SEGMENT_HALF_WIDTH = 0.03
"""Target half-width of the 95% interval of every segment's mean Jaccard."""
UNSTABLE_BELOW = 0.6
"""A segment whose mean Jaccard is below this dissolves under resampling: it is marked
and gets no strategies."""


def stability_band(value: float) -> str:
    """The band of a segment's mean Jaccard (Hennig, 2007; see ``docs/choosing_k.md``).

    Below 0.6 ``"unstable"`` (the segment dissolves under resampling), 0.6 up to 0.75
    ``"doubtful"``, 0.75 up to 0.85 ``"fairly stable"`` (the band the issue leaves
    between doubtful and highly stable), above 0.85 ``"highly stable"``.
    """
    if not np.isfinite(value):
        return "not measured"
    if value > 0.85:
        return "highly stable"
    if value >= 0.75:
        return "fairly stable"
    return "doubtful" if value >= UNSTABLE_BELOW else "unstable"


def segment_jaccard(reference: np.ndarray, refit: np.ndarray, k: int) -> np.ndarray:
    """Each reference segment's Jaccard similarity with its best-matching refit segment.

    Hennig's clusterwise stability for one resample: ``|A ∩ B| / |A ∪ B|`` for segment
    ``A`` of the reference and every segment ``B`` of the refit, the largest kept. NaN
    for a segment without rows among the compared ones.
    """
    kb = max(int(refit.max(initial=0)) + 1, 1)
    table = np.bincount(reference * kb + refit, minlength=k * kb)[: k * kb]
    table = table.reshape(k, kb).astype(np.float64)
    union = table.sum(axis=1)[:, None] + table.sum(axis=0)[None, :] - table
    best = np.max(table / np.maximum(union, 1.0), axis=1)
    best[table.sum(axis=1) == 0] = np.nan
    return best


def _half_widths(jaccard: list[np.ndarray]) -> np.ndarray:
    """Half-width of the 95% interval of each segment's mean Jaccard (normal approximation)."""
    values = np.vstack(jaccard)
    if values.shape[0] < 2:
        return np.full(values.shape[1], np.inf)
    with np.errstate(invalid="ignore"):
        spread = np.nanstd(values, axis=0, ddof=1)
    return np.nan_to_num(1.96 * spread / np.sqrt(values.shape[0]), nan=0.0)


def more_refits(
    result: StabilityResult,
    *,
    min_resamples: int = SEGMENT_MIN_RESAMPLES,
    half_width: float = SEGMENT_HALF_WIDTH,
    max_resamples: int = SEGMENT_MAX_RESAMPLES,
) -> StabilityResult:
    """The same refits continued, for a per-segment stability within ``half_width``.

    The sweep's refits of a k are kept and more are drawn from the same generator
    (the same resamples as if they had been drawn at once): up to ``min_resamples``,
    then one at a time while a segment's 95% interval is wider than ``±half_width``,
    ``max_resamples`` at most. The ARI figures are recomputed on all the refits. A
    result without refits (stability not measured) is returned as it is.
    """
    refits = result._refits
    if refits is None or not refits.labels:
        return result
    if len(refits.labels) < min_resamples:
        refits.draw(min_resamples - len(refits.labels))
    while len(refits.labels) < max_resamples and np.max(_half_widths(refits.jaccard)) > half_width:
        refits.draw(1)
    return refits.result()


@dataclass(frozen=True)
class SegmentStability:
    """Every segment's stability under resampling (Hennig's clusterwise Jaccard).

    Attributes
    ----------
    jaccard : tuple of float
        Mean Jaccard similarity of each segment with its best match in the refits.
    half_width : tuple of float
        Half-width of the 95% interval of each mean.
    n_resamples : int
        Refits behind the means.
    """

    jaccard: tuple[float, ...]
    half_width: tuple[float, ...]
    n_resamples: int

    @property
    def bands(self) -> tuple[str, ...]:
        """The band of each segment (:func:`stability_band`)."""
        return tuple(stability_band(value) for value in self.jaccard)

    def reordered(self, order: np.ndarray) -> SegmentStability:
        """The figures in another numbering: new segment ``i`` is old ``order[i]``."""
        return SegmentStability(
            tuple(self.jaccard[int(j)] for j in order),
            tuple(self.half_width[int(j)] for j in order),
            self.n_resamples,
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready record per segment (``metrics["segment_stability"]``)."""
        return [
            {
                "segment_id": i,
                "jaccard": round(value, 4) if np.isfinite(value) else None,
                "half_width": round(width, 4) if np.isfinite(width) else None,
                "band": band,
                "resamples": self.n_resamples,
            }
            for i, (value, width, band) in enumerate(
                zip(self.jaccard, self.half_width, self.bands, strict=True)
            )
        ]


def segment_stability(result: StabilityResult, centroids: np.ndarray) -> SegmentStability | None:
    """The stability of each segment of ``centroids`` against the refits of ``result``.

    The compared rows are assigned to ``centroids`` (the final fit, in its own
    numbering: on the stream and Spark engines it is fitted beyond the sweep's rows),
    and each segment is matched in every refit. ``None`` without refits.
    """
    refits = result._refits
    if refits is None or not refits.labels:
        return None
    centres = np.ascontiguousarray(centroids, dtype=np.float64)
    k = centres.shape[0]
    reference = assign_checked(refits.rows, centres).labels
    jaccard = [segment_jaccard(reference, labels, k) for labels in refits.labels]
    with np.errstate(invalid="ignore"):
        means = np.nanmean(np.vstack(jaccard), axis=0) if k else np.empty(0)
    widths = _half_widths(jaccard)
    return SegmentStability(
        tuple(float(v) for v in means), tuple(float(w) for w in widths), len(jaccard)
    )
