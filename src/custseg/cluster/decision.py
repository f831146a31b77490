"""The decision on measured candidates: the knee, the rule, and more refits where they decide.

Shared by every engine that sweeps k (the local sweep of
:mod:`custseg.cluster.selection`, used by every engine on the rows it holds in memory):
they differ only in how they measure. :func:`decide_k` applies the rule once;
:func:`decide_with_more_refits` continues the refits of the k the decision rests on
(the recommended k, the k within noise of it, and the knee of the inertia curve when it is
set aside only for a stability just below the threshold) before deciding again, so that the
recommended k's stability, and every one of its segments', rests on at least 20 refits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .indices import Measured
from .kmeans import KMeansFit
from .knee import KneeResult, find_knee
from .rule import KCandidate, apply_rule, close_calls, measured_candidates
from .stability import StabilityResult, more_refits

__all__ = ["Decision", "decide_k", "decide_with_more_refits", "inertia_knee"]


class Decision(NamedTuple):
    """The rule's outcome on measured candidates (see :func:`decide_k`)."""

    candidates: list[KCandidate]
    knee_result: KneeResult
    knee: int | None
    recommended_k: int
    explanation: str


def decide_k(
    ks: list[int],
    inertias: list[float],
    sizes: Sequence[Sequence[int]],
    n_rows: int,
    measured: Mapping[str, Sequence[Measured]],
    stability: Sequence[StabilityResult],
    *,
    min_share: float,
    min_stability: float,
    stability_measured: bool,
) -> Decision:
    """Knee, candidates and the rule's choice from what a sweep measured.

    Shared by every engine that sweeps k (the local sweep here, the Spark engine), so
    that they differ only in how they measure.
    """
    knee_result = inertia_knee(ks, inertias)
    knee = int(knee_result.knee) if knee_result.knee is not None else None
    candidates = measured_candidates(ks, inertias, sizes, n_rows, measured, stability)
    decided, recommended, explanation = apply_rule(
        candidates,
        knee,
        min_share=min_share,
        min_stability=min_stability,
        stability_measured=stability_measured,
    )
    return Decision(decided, knee_result, knee, recommended, explanation)


def inertia_knee(ks: list[int], inertias: list[float]) -> KneeResult:
    """The knee of the inertia curve: Kneedle on ``log(inertia)`` (see the module docstring).

    Shared by every engine that sweeps k (the local sweep here, the Spark engine).
    """
    values = np.asarray(inertias, dtype=np.float64)
    floor = max(float(values.max()) * 1e-12, np.finfo(np.float64).tiny)
    return find_knee(ks, np.log(np.maximum(values, floor)))


def decide_with_more_refits(
    ks: list[int],
    fits: dict[int, KMeansFit],
    measured: Mapping[str, Sequence[Measured]],
    stability: dict[int, StabilityResult],
    n_rows: int,
    **rule: Any,
) -> Decision:
    """The rule's decision after more refits of the k that decide it.

    The recommended k, and the k within noise of it (:func:`close_calls`), get their
    refits continued to at least 20 (``SEGMENT_MIN_RESAMPLES``; more while a segment's
    stability is wider than ±0.03, see :func:`more_refits`); the rule then decides
    again on the firmer figures, until the recommended k is one so measured. Every k
    draws from its own generator, so this adds no dependence on the seed's order.
    ``stability`` is updated in place.
    """
    extended: set[int] = set()
    while True:
        decision = decide_k(
            ks,
            [fits[k].inertia for k in ks],
            [fits[k].sizes for k in ks],
            n_rows,
            measured,
            [stability[k] for k in ks],
            **rule,
        )
        if not rule["stability_measured"]:
            return decision
        chosen = decision.recommended_k
        knee = _knee_near_threshold(decision, rule["min_stability"])
        todo = sorted({chosen, *_contenders(decision), *knee} - extended)
        if not todo:
            return decision
        for k in todo:
            stability[k] = more_refits(stability[k])
            extended.add(k)


def _contenders(decision: Decision) -> list[int]:
    """The k tied with the recommended one and within noise of it on the silhouette.

    Empty when the knee broke the tie (a property of the inertia curve, not of the
    refits) or nothing was tied.
    """
    by_k = {c.k: c for c in decision.candidates}
    chosen = by_k[decision.recommended_k]
    tied = [c.k for c in decision.candidates if c.eligible and len(c.votes) == len(chosen.votes)]
    if decision.knee in tied:
        return []
    best = max(tied, key=lambda k: _finite_or_low(by_k[k].value("silhouette")))
    return [k for k in [best, *close_calls(by_k, best, tied)] if k != chosen.k]


# A knee set aside this close below the stability threshold gets its refits continued:
# on CC_GENERAL the knee k = 5 read 0.889 after 15 refits with one seed and 0.954 after
# 40 with another, and the recommendation flipped between k = 3 and k = 5 with the seed.
_KNEE_MARGIN = 0.05


def _knee_near_threshold(decision: Decision, min_stability: float) -> list[int]:
    """The knee, when only its stability, just below the threshold, sets it aside."""
    by_k = {c.k: c for c in decision.candidates}
    knee = by_k.get(decision.knee) if decision.knee is not None else None
    if knee is None or knee.eligible:
        return []
    ari = knee.stability_ari
    if not np.isfinite(ari) or not (min_stability - _KNEE_MARGIN <= ari < min_stability):
        return []
    return [knee.k]


def _finite_or_low(value: float) -> float:
    return value if np.isfinite(value) else -np.inf
