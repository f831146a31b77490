"""Choosing the number of segments ``k``.

For every ``k`` of the range, :func:`choose_n_clusters` fits K-means once (``n_init``
k-means++ starts) and measures:

* **inertia** (within-segment sum of squares), and the **knee** of the inertia curve:
  Kneedle (:mod:`custseg.cluster.knee`) on ``log(inertia)``, so that each extra segment is
  judged by the share of the remaining within-segment variance it removes (the
  ratio ``W(k) / W(k+1)`` of Hartigan's rule). On raw inertia, Kneedle stops one
  ``k`` early whenever the first splits remove most of the variance: on blobs whose
  true ``k`` is 5 or 6 it answered ``k - 1`` for several seeds, on the log scale
  never;
* **silhouette** (exact, :mod:`custseg.cluster.silhouette`; all ``k`` share one pass over the
  pairwise distances; estimated with an interval on big data);
* **Calinski-Harabasz** (higher is better) and **Davies-Bouldin** (lower is better);
* **bootstrap stability** (:mod:`custseg.cluster.stability`): the median adjusted Rand
  index (ARI) between the segmentation fitted on all rows and segmentations refitted on
  bootstrap resamples with the same ``n_init`` starts, all assigned to the same rows
  (the rows used, or a fixed evaluation sample of 20,000 of them): three refits, more
  while the ones that reach 0.9 and the ones that do not are within three of each
  other, fifteen at most. 1 means the resampled customers always get the same segments;
  below 0.9, segments are partly an accident of the sample. A refit of lower inertia
  than the fit replaces it (the refits double as extra starts);
* the **sizes** of the segments and the **smallest share**.

Every ``k`` draws its randomness from its own generator, seeded with ``(seed, k)``: a
k's fit and stability do not depend on which other k are tried (``--k-range``), and
the k are measured two at a time on two threads with the same results.

The rule (also in :data:`RULE` and ``KSelection.rule``)::

    1. A k is stable when its stability ARI >= min_stability (0.9). If no k is, the
       k within 0.02 of the best stability count as stable (the best available).
    2. A stable k is eligible when its smallest segment holds >= min_share (3%) of
       the rows. If no stable k is, the stable k with the largest smallest segment
       are eligible.
    3. k = 2 stays eligible only when no k >= 3 is: a two-way split (often high versus
       low spend) is rarely actionable. When two segments are recommended, the
       explanation says that no larger k was eligible, and why.
    4. Among the eligible k, every registered voting index votes for its best k (the
       built-in ones: the best silhouette, Calinski-Harabasz and Davies-Bouldin), and
       so does the knee of the inertia curve (Kneedle on log inertia; when the knee is
       eligible). An index whose best k is
       within 5% of its runner-up abstains (the explanation says so). The k with most
       votes is recommended; a tie goes to the knee if it is among the tied k,
       otherwise to the best silhouette, or, when the tied silhouettes are within 5%
       of the best, to the smallest of those k.

Why votes and not one index: each index alone errs on some well-separated data. The
silhouette and Davies-Bouldin prefer ``k - 1`` when two of the groups sit closer
together than the rest (they merge the pair), Calinski-Harabasz and the knee do not;
on other data the knee is the one that wavers. Restricted to stable segmentations,
the vote with the knee as tie-breaker found the true ``k`` of all 100 blob data sets
measured (``make_blobs(5000, 8 features, k = 3..6 centres, 25 seeds each)``; the
knee alone, or the silhouette alone, missed several). A missing knee is simply one
vote fewer.

Close calls. When the votes tie and the knee is not among the tied k, the tied k whose
silhouettes lie within 5% of the best are within the noise of the criteria (a few
thousandths, which another seed reverses): the explanation says so, and the smallest
of them is recommended, whatever the seed. More resamples where they decide: the
recommended k, and the k within noise of it, get their refits continued to at least
20 (:func:`custseg.cluster.decision.decide_with_more_refits`) and the rule decides again
on the firmer figures; the recommended k's refits also give every segment its own
stability (:meth:`KSelection.segment_stability`).

Why this stability and these votes: measured over seeds 0-9 on CC_GENERAL and on
synthetic tables shaped like public banking, retail and telecom tables
(``bench/robust_k.py``, ``bench/k_over_seeds.py``); the figures and the methods tried are
in ``docs/choosing_k.md``.
On big data, selection runs on a random sample (``sample_size``, by default 20,000
rows when there are more) and says so in the explanation.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .._utils.checks import check_int, is_int
from .._utils.numeric import (
    RandomState,
    as_matrix,
    generator,
    library_threads,
    n_workers,
    seed_from,
    single_threaded_blas,
)
from .._utils.progress import NO_PROGRESS, Progress
from ..exceptions import ConfigError, DataError
from .decision import Decision, decide_k, decide_with_more_refits, inertia_knee
from .indices import KIndex, Measured, registered_indices
from .kmeans import KMeansFit, fit_kmeans
from .knee import KneeResult
from .rule import BEST_AVAILABLE_TOLERANCE, RULE, VOTE_MARGIN, KCandidate, apply_rule
from .silhouette import DEFAULT_MAX_EXACT
from .stability import (
    SegmentStability,
    StabilityResult,
    evaluation_rows,
    more_refits,
    resample_stability,
    segment_stability,
)

__all__ = [
    "BEST_AVAILABLE_TOLERANCE",
    "KCandidate",
    "KSelection",
    "RULE",
    "VOTE_MARGIN",
    "choose_n_clusters",
    "apply_rule",
    "Decision",
    "decide_k",
    "inertia_knee",
    "DEFAULT_SELECTION_SAMPLE",
]

DEFAULT_SELECTION_SAMPLE = 20_000
DEFAULT_MAX_RESAMPLES = 15
# Below this many rows K-means runs on one thread per k and two k run at once; above
# it each fit uses scikit-learn's own threads, one k at a time.
_PARALLEL_ROWS = 100_000


@dataclass(frozen=True)
class KSelection:
    """The sweep over ``k`` and its recommendation.

    Attributes
    ----------
    candidates : list of KCandidate
        One per ``k``, increasing.
    knee : int or None
        Knee of the inertia curve, Kneedle on ``log(inertia)`` (``None`` when the
        curve has none).
    recommended_k : int
        The ``k`` the rule recommends.
    explanation : str
        One paragraph naming the figures behind the recommendation.
    rule : str
        The rule, in words.
    n_rows : int
        Rows of the data.
    rows_used : int
        Rows the sweep ran on (``n_rows`` unless sampled).
    sampled : bool
        Whether the sweep ran on a random sample.
    n_init, n_resamples, max_resamples : int
        k-means++ starts per ``k``, bootstrap refits per ``k`` at first and at most.
    min_share, min_stability : float
        Thresholds of the rule.
    knee_result : KneeResult
        The Kneedle curves behind ``knee`` (computed on ``log(inertia)``).
    timings : dict of str to float
        Seconds spent fitting, in stability, silhouette and the other indices.
    fits : dict of int to KMeansFit
        The fit of every ``k`` on the rows used (not in :meth:`to_dict`); reuse
        ``fits[recommended_k]`` instead of fitting again when ``sampled`` is False.
    measured : dict of int to dict of str to Measured
        Every registered index of every ``k`` as measured on the fit (not in
        :meth:`to_dict`): ``evaluate_segmentation(..., measured=measured[k])`` reuses
        them for ``fits[k]``.
    refits : dict of int to StabilityResult
        The bootstrap refits of every ``k`` (not in :meth:`to_dict`): the per-segment
        stability of the final fit is read from them (:meth:`segment_stability`).
    """

    candidates: list[KCandidate]
    knee: int | None
    recommended_k: int
    explanation: str
    rule: str
    n_rows: int
    rows_used: int
    sampled: bool
    n_init: int
    n_resamples: int
    min_share: float
    min_stability: float
    knee_result: KneeResult
    timings: dict[str, float] = field(default_factory=dict)
    fits: dict[int, KMeansFit] = field(default_factory=dict, repr=False, compare=False)
    measured: dict[int, dict[str, Measured]] = field(
        default_factory=dict, repr=False, compare=False
    )
    max_resamples: int = 0
    refits: dict[int, StabilityResult] = field(default_factory=dict, repr=False, compare=False)

    def segment_stability(self, k: int, centroids: np.ndarray) -> SegmentStability | None:
        """Each segment's stability (mean Jaccard of its best match in the refits of ``k``).

        ``centroids`` are the final fit's, in its numbering: the sweep's compared rows
        are assigned to them (:func:`custseg.cluster.stability.segment_stability`). The
        refits of ``k`` are continued first when fewer than 20 (a k given by the user
        rather than recommended). ``None`` when ``k`` was not swept, stability was not
        measured, or the refits were dropped (a selection read back from a model).
        """
        result = self.refits.get(k)
        if result is None:
            return None
        result = more_refits(result)
        self.refits[k] = result
        return segment_stability(result, centroids)

    def candidate(self, k: int) -> KCandidate:
        """The candidate of ``k``."""
        for candidate in self.candidates:
            if candidate.k == k:
                return candidate
        raise ConfigError(f"k={k} was not part of the sweep {[c.k for c in self.candidates]}")

    def stability_for(self, k: int) -> float | None:
        """Stability ARI of ``k``, or ``None`` when ``k`` was not swept or not measured."""
        for candidate in self.candidates:
            if candidate.k == k:
                value = candidate.stability_ari
                return float(value) if np.isfinite(value) else None
        return None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KSelection:
        """Rebuild a selection written by :meth:`to_dict` (a model's ``k_selection``)."""
        return cls(
            candidates=[KCandidate.from_dict(c) for c in data["candidates"]],
            knee=data["knee"],
            recommended_k=data["recommended_k"],
            explanation=data["explanation"],
            rule=data["rule"],
            n_rows=data["n_rows"],
            rows_used=data["rows_used"],
            sampled=data["sampled"],
            n_init=data["n_init"],
            n_resamples=data["n_resamples"],
            max_resamples=data["max_resamples"],
            min_share=data["min_share"],
            min_stability=data["min_stability"],
            knee_result=KneeResult.from_dict(data["knee_result"]),
            timings=dict(data["timings"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (without the fits)."""
        return {
            "candidates": [c.to_dict() for c in self.candidates],
            "knee": self.knee,
            "recommended_k": self.recommended_k,
            "explanation": self.explanation,
            "rule": self.rule,
            "n_rows": self.n_rows,
            "rows_used": self.rows_used,
            "sampled": self.sampled,
            "n_init": self.n_init,
            "n_resamples": self.n_resamples,
            "max_resamples": self.max_resamples,
            "min_share": self.min_share,
            "min_stability": self.min_stability,
            "knee_result": self.knee_result.to_dict(),
            "timings": dict(self.timings),
        }


def choose_n_clusters(
    X: Any,
    k_range: Iterable[int] = range(2, 11),
    *,
    n_init: int = 4,
    n_resamples: int = 3,
    random_state: RandomState = None,
    progress: Progress = NO_PROGRESS,
    sample_size: int | Literal["auto"] | None = "auto",
    min_share: float = 0.03,
    min_stability: float = 0.9,
    silhouette_max_exact: int = DEFAULT_MAX_EXACT,
    max_resamples: int | None = None,
) -> KSelection:
    """Sweep ``k``, measure every index and recommend a number of segments.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        Prepared numeric matrix (no NaN/inf).
    k_range : iterable of int, default range(2, 11)
        Values of ``k`` to try, each ``>= 2``.
    n_init : int, default 4
        k-means++ starts per ``k``.
    n_resamples : int, default 3
        Bootstrap refits per ``k`` at first, for the stability (0 skips stability:
        every ``k`` then counts as stable and the explanation says so).
    random_state : int, numpy.random.Generator or None
        Seed of everything random (sample, starts, resamples). Each ``k`` draws from
        its own generator, seeded by ``(seed, k)``: the figures of a ``k`` do not
        depend on which other ``k`` are tried.
    progress : Progress, default NO_PROGRESS
        Progress seam; advances one step per ``k``.
    sample_size : int, "auto" or None, default "auto"
        Run the sweep on a random sample of this many rows. ``"auto"`` samples
        20,000 rows when there are more; ``None`` uses all rows.
    min_share : float, default 0.03
        Smallest acceptable segment share.
    min_stability : float, default 0.9
        Smallest acceptable stability ARI.
    silhouette_max_exact : int, default 50_000
        Rows up to which the silhouette is exact (the sweep's rows are at most
        ``sample_size`` when sampling, so it is exact by default).
    max_resamples : int or None, default None
        Refits per ``k`` at most: while neither the refits that reach
        ``min_stability`` nor those that do not lead by three, one more is drawn, up
        to this many. ``None`` is 15 (or ``n_resamples`` when larger).

    Returns
    -------
    KSelection

    Raises
    ------
    DataError
        If ``X`` is not a finite matrix or has too few rows for the largest ``k``.
    ConfigError
        If ``k_range`` or another option is out of range.
    """
    matrix = as_matrix(X)
    n_rows = matrix.shape[0]
    ks = _check_k_range(k_range, n_rows)
    n_init = check_int(n_init, "n_init", minimum=1)
    n_resamples = check_int(n_resamples, "n_resamples", minimum=0)
    if max_resamples is None:
        max_resamples = DEFAULT_MAX_RESAMPLES
    max_resamples = max(n_resamples, check_int(max_resamples, "max_resamples", minimum=0))
    if not 0 <= min_share < 1:
        raise ConfigError(f"min_share={min_share!r} should be between 0 and 1, e.g. 0.03")
    if not 0 <= min_stability <= 1:
        raise ConfigError(f"min_stability={min_stability!r} should be between 0 and 1")
    rng = generator(random_state)
    # An integer seed is the base of every k's own stream; a generator gives one.
    base_seed = check_int(random_state, "random_state") if is_int(random_state) else seed_from(rng)

    rows, sampled = _sweep_rows(matrix, sample_size, ks, rng)
    indices = registered_indices()  # read now: an index registered since import counts
    timings = {"fit": 0.0, "stability": 0.0, **{entry.name: 0.0 for entry in indices}}
    fits, stability = _fit_every_k(
        rows,
        ks,
        base_seed,
        evaluation_rows(rows.shape[0], rng),
        progress,
        timings,
        n_init=n_init,
        n_resamples=n_resamples,
        max_resamples=max_resamples,
        min_stability=min_stability,
    )
    labelings = [fits[k].labels for k in ks]
    measured = _measure_indices(
        indices,
        rows,
        labelings,
        np.random.default_rng([base_seed, 0]),
        silhouette_max_exact,
        timings,
    )
    started = time.perf_counter()
    decision = decide_with_more_refits(
        ks,
        fits,
        measured,
        stability,
        rows.shape[0],
        min_share=min_share,
        min_stability=min_stability,
        stability_measured=n_resamples > 0,
    )
    timings["stability"] += time.perf_counter() - started
    explanation = decision.explanation
    if sampled:
        explanation += (
            f" The sweep ran on a random sample of {rows.shape[0]:,} of the {n_rows:,} rows."
        )
    return KSelection(
        candidates=decision.candidates,
        knee=decision.knee,
        recommended_k=decision.recommended_k,
        explanation=explanation,
        rule=RULE,
        n_rows=n_rows,
        rows_used=int(rows.shape[0]),
        sampled=sampled,
        n_init=n_init,
        n_resamples=n_resamples,
        min_share=float(min_share),
        min_stability=float(min_stability),
        knee_result=decision.knee_result,
        timings={name: round(seconds, 4) for name, seconds in timings.items()},
        fits=fits,
        measured={
            k: {name: values[i] for name, values in measured.items()} for i, k in enumerate(ks)
        },
        max_resamples=max_resamples if n_resamples else 0,
        refits=dict(stability),
    )


def _sweep_rows(
    matrix: np.ndarray,
    sample_size: int | Literal["auto"] | None,
    ks: list[int],
    rng: np.random.Generator,
) -> tuple[np.ndarray, bool]:
    """The rows the sweep runs on (a random sample of ``sample_size`` rows, or all)."""
    n_rows = matrix.shape[0]
    if sample_size == "auto":
        sample_size = DEFAULT_SELECTION_SAMPLE if n_rows > DEFAULT_SELECTION_SAMPLE else None
    elif sample_size is not None:
        sample_size = check_int(sample_size, "sample_size", minimum=2)
        if sample_size <= max(ks):
            raise ConfigError(f"sample_size={sample_size} should be > the largest k={max(ks)}")
    sampled = sample_size is not None and sample_size < n_rows
    if sampled:
        rows = matrix[np.sort(rng.choice(n_rows, size=sample_size, replace=False))]
    else:
        rows = matrix
    return np.asarray(rows, dtype=np.float64), sampled


def _fit_every_k(
    rows: np.ndarray,
    ks: list[int],
    base_seed: int,
    evaluation: np.ndarray | None,
    progress: Progress,
    timings: dict[str, float],
    **settings: Any,
) -> tuple[dict[int, KMeansFit], dict[int, StabilityResult]]:
    """The fit and the stability of every k (``settings``: those of :func:`_fit_and_measure`)."""
    fits: dict[int, KMeansFit] = {}
    stability: dict[int, StabilityResult] = {}

    def measure(k: int) -> tuple[int, KMeansFit, StabilityResult, dict[str, float]]:
        spent = {"fit": 0.0, "stability": 0.0}
        fit, result = _fit_and_measure(
            rows,
            k,
            np.random.default_rng([base_seed, k]),
            evaluation=evaluation,
            timings=spent,
            **settings,
        )
        return k, fit, result, spent

    # Every k draws from its own generator, so the k can be measured in any order and
    # on several threads (scikit-learn's Lloyd releases the GIL) with the same results.
    # Largest k first: the longest jobs start first.
    workers = min(n_workers(), len(ks)) if rows.shape[0] < _PARALLEL_ROWS else 1
    order = sorted(ks, reverse=True)
    with (
        progress.stage("Choosing the number of segments", total=len(ks)) as stage,
        library_threads(1 if workers > 1 else None),
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        for done in as_completed([pool.submit(measure, k) for k in order]):
            k, fits[k], stability[k], spent = done.result()
            for name, seconds in spent.items():
                timings[name] += seconds
            stage.advance(1)
    return fits, stability


def _measure_indices(
    indices: Sequence[KIndex],
    rows: np.ndarray,
    labelings: list[np.ndarray],
    rng: np.random.Generator,
    max_exact: int,
    timings: dict[str, float],
) -> dict[str, list[Measured]]:
    """Every index of every labeling of ``rows``, timed."""
    measured: dict[str, list[Measured]] = {}
    for entry in indices:
        started = time.perf_counter()
        # The sweep's rows are few (<= 20,000 by default): one BLAS thread is faster
        # than a busy-waiting pool on a shared machine.
        with single_threaded_blas():
            measured[entry.name] = entry.measure(rows, labelings, rng, max_exact)
        timings[entry.name] = time.perf_counter() - started
    return measured


def _fit_and_measure(
    rows: np.ndarray,
    k: int,
    rng: np.random.Generator,
    *,
    n_init: int,
    n_resamples: int,
    max_resamples: int,
    min_stability: float,
    evaluation: np.ndarray | None,
    timings: dict[str, float],
) -> tuple[KMeansFit, StabilityResult]:
    """The fit of one ``k`` and its stability; a refit of lower inertia replaces the fit."""
    started = time.perf_counter()
    fit = fit_kmeans(rows, k, n_init=n_init, random_state=rng, engine="lloyd")
    timings["fit"] += time.perf_counter() - started
    started = time.perf_counter()
    stability = resample_stability(
        rows,
        fit.labels,
        fit.assignment.distance,
        k,
        rng,
        n_resamples=n_resamples,
        max_resamples=max_resamples,
        threshold=min_stability,
        evaluation=evaluation,
        starts=n_init,
    )
    if stability.better is not None:
        # A refit found a better optimum than the starts of the fit: polish it on
        # every row and test that segmentation instead.
        polished = fit_kmeans(rows, k, init=stability.better, random_state=rng, engine="lloyd")
        if polished.inertia < fit.inertia:
            fit, stability = polished, stability.against(polished.labels, evaluation)
    timings["stability"] += time.perf_counter() - started
    return fit, stability


# --------------------------------------------------------------------------- helpers


def _check_k_range(k_range: Iterable[int], n_rows: int) -> list[int]:
    try:
        values = list(k_range)
    except TypeError as exc:
        raise ConfigError(f"k_range={k_range!r} should be an iterable of integers") from exc
    if not values:
        raise ConfigError("k_range is empty; pass at least one k, e.g. range(2, 11)")
    for value in values:
        if not is_int(value):
            raise ConfigError(f"k_range holds {value!r}; every k should be an integer")
        if value < 2:
            raise ConfigError(
                f"k_range holds k={value}; every k should be >= 2 (indices compare segments)"
            )
    ks = sorted({int(v) for v in values})
    if ks[-1] >= n_rows:
        raise DataError(f"n_rows={n_rows} should be > the largest k={ks[-1]}; use fewer segments")
    return ks
