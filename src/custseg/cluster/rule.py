"""The rule that recommends k from measured candidates, and its explanation.

:func:`apply_rule` is the one recommendation rule: every engine that sweeps k (the local
sweep of :mod:`custseg.cluster.selection`, the Spark engine) measures its
:class:`KCandidate` its own way and recommends with it. The rule, and why it is what it
is, are described in :mod:`custseg.cluster.selection` and ``docs/choosing_k.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .indices import Measured, index, registered_indices, voting_indices

if TYPE_CHECKING:
    from .stability import StabilityResult

__all__ = [
    "BEST_AVAILABLE_TOLERANCE",
    "KCandidate",
    "RULE",
    "STABILITY_NOISE",
    "VOTE_MARGIN",
    "apply_rule",
    "close_calls",
]

BEST_AVAILABLE_TOLERANCE = 0.02
VOTE_MARGIN = 0.05
# Stabilities (median ARI) this close are not told apart: the target half-width of the
# per-segment stability, and about the spread of a median of 20 refits on a stable k.
STABILITY_NOISE = 0.03

RULE = (
    "1. A k is stable when its bootstrap stability (median adjusted Rand index) is >= "
    "min_stability; if no k is, the k within 0.02 of the best stability count as "
    "stable. 2. A stable k is eligible when its smallest segment holds >= min_share "
    "of the rows; if no stable k is, the stable k with the largest smallest segment "
    "are eligible. 3. k = 2 stays eligible only when no k >= 3 is: a two-way split is "
    "rarely actionable. 4. Among the eligible k, every registered index that votes "
    "(by default the best silhouette, best Calinski-Harabasz and best (lowest) "
    "Davies-Bouldin) and the knee of the inertia curve (Kneedle on log inertia, when "
    "eligible) vote; the k with most votes is "
    "recommended, a tie going to the knee if it is tied, otherwise to the best "
    "silhouette; tied k whose silhouettes are within 5% of the best are within noise and "
    "the smallest of them is recommended."
)


@dataclass(frozen=True)
class KCandidate:
    """The indices of one ``k``.

    Attributes
    ----------
    k : int
        Number of segments.
    inertia : float
        Within-segment sum of squared distances.
    indices : dict of str to float
        Value of every registered index (:func:`custseg.cluster.indices.registered_indices`):
        silhouette, Calinski-Harabasz, Davies-Bouldin; NaN when not measurable.
    stability_ari : float
        Median adjusted Rand index to the bootstrap refits (1 = perfectly stable).
    stability_min : float
        Worst adjusted Rand index among the refits.
    stability_mean : float
        Mean adjusted Rand index to the refits.
    stability_resamples : int
        Refits behind the stability figures.
    min_share : float
        Share of the rows in the smallest segment.
    sizes : list of int
        Rows per segment, canonical order (largest first).
    details : dict
        What an index reports beside its value (``silhouette_exact``,
        ``silhouette_ci`` of an estimated silhouette).
    eligible : bool
        Whether the rule kept this ``k``.
    excluded_because : str or None
        Why the rule set this ``k`` aside.
    votes : list of str
        Index names that voted for this ``k`` (registered indices and ``knee``).
    """

    k: int
    inertia: float
    indices: dict[str, float]
    stability_ari: float
    stability_min: float
    min_share: float
    sizes: list[int]
    details: dict[str, Any] = field(default_factory=dict)
    eligible: bool = False
    excluded_because: str | None = None
    votes: list[str] = field(default_factory=list)
    stability_mean: float = float("nan")
    stability_resamples: int = 0

    def value(self, name: str) -> float:
        """The value of the registered index ``name`` (NaN when it was not measured)."""
        return float(self.indices.get(name, float("nan")))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KCandidate:
        """Rebuild a candidate written by :meth:`to_dict` (``None`` back to NaN)."""
        names = {entry.name for entry in registered_indices()}
        own = {f.name for f in fields(cls)} - {"indices", "details"}

        def number(value: Any) -> float:
            return float("nan") if value is None else float(value)

        return cls(
            k=int(data["k"]),
            inertia=data["inertia"],
            indices={name: number(data[name]) for name in data if name in names},
            details={key: v for key, v in data.items() if key not in own and key not in names},
            stability_ari=number(data["stability_ari"]),
            stability_min=number(data["stability_min"]),
            stability_mean=number(data["stability_mean"]),
            stability_resamples=data["stability_resamples"],
            min_share=data["min_share"],
            sizes=list(data["sizes"]),
            eligible=data["eligible"],
            excluded_because=data["excluded_because"],
            votes=list(data["votes"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: one key per registered index, then its details."""
        out: dict[str, Any] = {"k": self.k, "inertia": self.inertia}
        for entry in registered_indices():
            out[entry.name] = _finite_or_none(self.value(entry.name))
        out.update(self.details)
        out.update(
            {
                "stability_ari": _finite_or_none(self.stability_ari),
                "stability_min": _finite_or_none(self.stability_min),
                "stability_mean": _finite_or_none(self.stability_mean),
                "stability_resamples": self.stability_resamples,
                "min_share": self.min_share,
                "sizes": list(self.sizes),
                "eligible": self.eligible,
                "excluded_because": self.excluded_because,
                "votes": list(self.votes),
            }
        )
        return out


def measured_candidates(
    ks: Sequence[int],
    inertias: Sequence[float],
    sizes: Sequence[Sequence[int]],
    n_rows: int,
    measured: Mapping[str, Sequence[Measured]],
    stability: Sequence[StabilityResult],
) -> list[KCandidate]:
    """One :class:`KCandidate` per k from what a sweep measured, before the rule.

    Every sequence is in the order of ``ks``; ``measured`` maps each registered index
    to its values; ``n_rows`` is the number of rows the sizes count.
    """
    return [
        KCandidate(
            k=int(k),
            inertia=float(inertias[i]),
            indices={name: values[i].value for name, values in measured.items()},
            details={
                key: value
                for values in measured.values()
                for key, value in values[i].details.items()
            },
            stability_ari=stability[i].value,
            stability_min=stability[i].low,
            stability_mean=stability[i].mean,
            stability_resamples=stability[i].n_resamples,
            min_share=min(sizes[i]) / n_rows,
            sizes=[int(n) for n in sizes[i]],
        )
        for i, k in enumerate(ks)
    ]


def _finite_or_none(value: float) -> float | None:
    """JSON has no NaN: an index that could not be measured becomes ``None``."""
    return float(value) if np.isfinite(value) else None


def _fmt_k(ks: list[int]) -> str:
    return ", ".join(str(k) for k in ks) if ks else "none"


def apply_rule(
    candidates: list[KCandidate],
    knee: int | None,
    *,
    min_share: float,
    min_stability: float,
    stability_measured: bool,
    two_as_last_resort: bool = True,
    vote_margin: float = VOTE_MARGIN,
) -> tuple[list[KCandidate], int, str]:
    """Apply :data:`RULE` to measured candidates: the one recommendation rule.

    Every engine that sweeps k (the local sweep here, the Spark engine) measures the
    candidates its own way and recommends with this function.

    ``two_as_last_resort=False`` keeps k = 2 eligible beside larger k (step 3 of the
    rule off), for callers who want two segments judged like any other k.
    ``vote_margin`` is the relative difference under which an index's best k and its
    runner-up are not told apart (the index then abstains); 0 lets every index vote.

    Returns
    -------
    (list of KCandidate, int, str)
        The candidates annotated with ``eligible``, ``excluded_because`` and ``votes``,
        the recommended k and the explanation paragraph.
    """
    by_k = {c.k: c for c in candidates}
    reasons: dict[int, str] = {}
    notes: list[str] = []
    stable = _stable(candidates, by_k, min_stability, stability_measured, reasons, notes)
    eligible = _eligible(by_k, stable, min_share, two_as_last_resort, reasons, notes)
    votes = _votes(by_k, eligible, knee, vote_margin, notes)
    recommended, tie_note = _recommend(by_k, eligible, votes, knee, vote_margin)
    decided = [
        replace(
            c,
            eligible=c.k in eligible,
            excluded_because=reasons.get(c.k),
            votes=votes.get(c.k, []),
        )
        for c in candidates
    ]
    explanation = _explain(
        by_k, recommended, eligible, reasons, votes, knee, tie_note, notes, min_share, min_stability
    )
    return decided, recommended, explanation


# The steps of the rule write why a k is set aside into ``reasons`` and what the reader
# should know into ``notes``: both end in the explanation.


def _stable(
    candidates: list[KCandidate],
    by_k: dict[int, KCandidate],
    min_stability: float,
    measured: bool,
    reasons: dict[int, str],
    notes: list[str],
) -> list[int]:
    """Step 1: the stable k (the most stable ones when none reaches the threshold)."""
    if not measured:
        notes.append("Stability was not measured (n_resamples=0), so every k counts as stable.")
        return list(by_k)
    stable = [k for k, c in by_k.items() if c.stability_ari >= min_stability]
    if not stable:
        best = max(c.stability_ari for c in candidates)
        stable = [k for k, c in by_k.items() if c.stability_ari >= best - BEST_AVAILABLE_TOLERANCE]
        notes.append(
            f"No k reached the stability threshold {min_stability:.2f}; the most stable "
            f"(ARI {best:.2f}) were kept."
        )
    for k, c in by_k.items():
        if k not in stable:
            reasons[k] = f"stability {_below(c.stability_ari, min_stability)}"
    return stable


def _eligible(
    by_k: dict[int, KCandidate],
    stable: list[int],
    min_share: float,
    two_as_last_resort: bool,
    reasons: dict[int, str],
    notes: list[str],
) -> list[int]:
    """Steps 2 and 3: the stable k whose smallest segment is large enough, k = 2 last."""
    eligible = [k for k in stable if by_k[k].min_share >= min_share]
    for k in stable:
        if k not in eligible:
            reasons[k] = f"smallest segment {by_k[k].min_share:.1%} < {min_share:.1%}"
    if not eligible:
        largest = max(by_k[k].min_share for k in stable)
        eligible = [k for k in stable if by_k[k].min_share >= largest]
        for k in eligible:
            reasons.pop(k, None)
        notes.append(
            f"No stable k had every segment >= {min_share:.1%}; the stable k with the "
            f"largest smallest segment ({largest:.1%}) were kept."
        )
    # 3. two segments only when nothing larger is eligible
    if two_as_last_resort and 2 in eligible and any(k >= 3 for k in eligible):
        eligible.remove(2)
        reasons[2] = "two segments are rarely actionable and k >= 3 is eligible"
    return eligible


def _votes(
    by_k: dict[int, KCandidate],
    eligible: list[int],
    knee: int | None,
    vote_margin: float,
    notes: list[str],
) -> dict[int, list[str]]:
    """Step 4's votes: each voting index, then the knee, for its best eligible k.

    An index that barely separates its best k from the runner-up abstains instead of
    voting on a difference within its noise.
    """
    votes: dict[int, list[str]] = {k: [] for k in eligible}
    if len(eligible) == 1:
        return votes  # nothing to vote on: the only eligible k beats no other
    for entry in voting_indices():
        values = {k: by_k[k].value(entry.name) for k in eligible}
        winner = entry.best(values)
        if winner is None:
            continue
        runner_up = entry.best({k: v for k, v in values.items() if k != winner})
        if runner_up is not None and _close(values[winner], values[runner_up], vote_margin):
            notes.append(
                f"{_capitalised(_vote_words(entry.name))} does not separate k = {winner} and"
                f" k = {runner_up} ({_fmt_index(values[winner])} and"
                f" {_fmt_index(values[runner_up])}, within {vote_margin:.0%}): no vote."
            )
            continue
        votes[winner].append(entry.name)
    if knee is not None and knee in votes:
        votes[knee].append("knee")
    return votes


def _recommend(
    by_k: dict[int, KCandidate],
    eligible: list[int],
    votes: dict[int, list[str]],
    knee: int | None,
    vote_margin: float = VOTE_MARGIN,
) -> tuple[int, str]:
    """Step 4's choice: most votes; a tie to the knee, else to the best silhouette.

    Tied k whose silhouettes are within ``vote_margin`` of the best are within the
    noise of the criteria: the smaller of them is recommended, whatever the seed.
    """
    most = max(len(v) for v in votes.values())
    tied = [k for k in eligible if len(votes[k]) == most]
    if knee in tied:
        return int(knee), "the tie goes to the knee" if len(tied) > 1 else ""
    best = max(tied, key=lambda k: _or_low(by_k[k].value("silhouette")))
    close = close_calls(by_k, best, tied, vote_margin)
    if close:
        return min([best, *close]), _close_note(by_k, sorted([best, *close]), vote_margin)
    return best, "the tie goes to the best silhouette" if len(tied) > 1 else ""


def close_calls(
    by_k: Mapping[int, KCandidate],
    best: int,
    tied: Sequence[int],
    vote_margin: float = VOTE_MARGIN,
) -> list[int]:
    """The ``tied`` k (other than ``best``) whose silhouette is within the margin of ``best``'s.

    Such k are not told apart by the votes nor by the silhouette: a difference of a
    few thousandths, which another seed may reverse.
    """
    top = by_k[best].value("silhouette")
    if not np.isfinite(top):
        return [k for k in tied if k != best]
    return [
        k
        for k in tied
        if k != best
        and np.isfinite(by_k[k].value("silhouette"))
        and (
            by_k[k].value("silhouette") == top
            or _close(top, by_k[k].value("silhouette"), vote_margin)
        )
    ]


def _close_note(by_k: dict[int, KCandidate], close: list[int], vote_margin: float) -> str:
    """The close call in words: which k, their silhouettes and stabilities, the rule."""
    names = _join([f"k = {k}" for k in close])
    figures = _join([_fmt_index(by_k[k].value("silhouette")) for k in close])
    figures = f"silhouette {figures}, within {vote_margin:.0%}"
    aris = [by_k[k].stability_ari for k in close]
    criteria = "silhouette"
    if all(np.isfinite(a) for a in aris):
        figures += "; stability ARI " + _join([f"{a:.2f}" for a in aris])
        if max(aris) - min(aris) <= STABILITY_NOISE:
            criteria = "stability and silhouette"
    return (
        f"{names} are within noise on {criteria} ({figures}) and tie on votes: the"
        f" smaller k is recommended, a rule that does not depend on the seed."
    )


_KNEE_WORDS = "the knee of the inertia curve"


def _vote_words(name: str) -> str:
    return _KNEE_WORDS if name == "knee" else index(name).words


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _close(best: float, runner_up: float, margin: float) -> bool:
    """Whether two index values differ by less than ``margin`` of the larger magnitude."""
    scale = max(abs(best), abs(runner_up))
    return scale > 0 and abs(best - runner_up) < margin * scale


def _or_low(value: float) -> float:
    return value if np.isfinite(value) else -np.inf


def _explain(
    by_k: dict[int, KCandidate],
    recommended: int,
    eligible: list[int],
    reasons: dict[int, str],
    votes: dict[int, list[str]],
    knee: int | None,
    tie_note: str,
    notes: list[str],
    min_share: float,
    min_stability: float,
) -> str:
    chosen = by_k[recommended]
    stability = (
        f"stability ARI {chosen.stability_ari:.2f}"
        if np.isfinite(chosen.stability_ari)
        else "stability not measured"
    )
    figures = ", ".join(
        f"{entry.label} {_fmt_index(chosen.value(entry.name))}" for entry in registered_indices()
    )
    parts = [
        f"Recommended k = {recommended}: {figures}, {stability}, smallest "
        f"segment {chosen.min_share:.1%} of customers."
    ]
    parts.append(
        f"Eligible (stability >= {min_stability:.2f} and every segment >= {min_share:.1%}): "
        f"k = {_fmt_k(eligible)}."
    )
    if reasons:
        parts.append(
            "Set aside: " + "; ".join(f"k = {k} ({reasons[k]})" for k in sorted(reasons)) + "."
        )
    parts.extend(notes)
    won = votes.get(recommended, [])
    close_call = tie_note.startswith("k = ")
    if len(eligible) == 1:
        parts.append(_only_eligible(recommended, notes, min_share))
    elif won:
        parts.append(
            f"Among the eligible, k = {recommended} has "
            + _join([_vote_words(v) for v in won])
            + (f" ({tie_note})" if tie_note and not close_call else "")
            + "."
        )
    if close_call:
        parts.append(tie_note)
    others = [
        f"{_vote_words(v)} points to k = {k}"
        for k, vs in sorted(votes.items())
        if k != recommended
        for v in vs
    ]
    if others:
        parts.append("Against it, " + _join(others) + ".")
    if recommended == 2 and any(k >= 3 for k in by_k):
        parts.append(
            "Two segments are recommended only because no k >= 3 is eligible (see the"
            " reasons above); a two-way split is rarely actionable, so read the figures"
            " of the larger k before using it."
        )
    if knee is None:
        parts.append("The inertia curve has no clear knee.")
    elif knee not in eligible:
        parts.append(f"The knee of the inertia curve is at k = {knee}, which is not eligible.")
    return " ".join(parts)


def _only_eligible(k: int, notes: list[str], min_share: float) -> str:
    """Why the recommended k is the only candidate, without praising it over others."""
    if any(note.startswith("No ") for note in notes):
        return f"k = {k} is the only eligible k (see above)."
    if any(note.startswith("Stability was not measured") for note in notes):
        return f"k = {k} is the only k with segments of at least {_pct(min_share)}."
    return f"k = {k} is the only k that is stable with segments of at least {_pct(min_share)}."


def _below(value: float, threshold: float) -> str:
    """``"0.84 < 0.90"``, with a third decimal where two would read ``"0.90 < 0.90"``."""
    digits = 2 if round(value, 2) < round(threshold, 2) else 3
    return f"{value:.{digits}f} < {threshold:.2f}"


def _pct(share: float) -> str:
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _fmt_index(value: float) -> str:
    if not np.isfinite(value):
        return "not measured"
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
