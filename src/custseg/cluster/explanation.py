"""The words of a recommendation: why :func:`custseg.cluster.selection.apply_rule` chose k.

Kept apart from the rule itself so that the rule reads as the numbered steps it
implements; the paragraph names the recommended k's figures, the eligible k, every k set
aside and why, and the vote of each index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .indices import INDICES, index

__all__ = ["explain_recommendation"]


def _fmt_k(ks: list[int]) -> str:
    return ", ".join(str(k) for k in ks) if ks else "none"


_KNEE_WORDS = "the knee of the inertia curve"


def _vote_words(name: str) -> str:
    return _KNEE_WORDS if name == "knee" else index(name).words


def explain_recommendation(
    by_k: dict[int, Any],
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
    """The paragraph that explains a recommendation of :func:`apply_rule`, naming the figures."""
    chosen = by_k[recommended]
    stability = (
        f"stability ARI {chosen.stability_ari:.2f}"
        if np.isfinite(chosen.stability_ari)
        else "stability not measured"
    )
    figures = ", ".join(
        f"{entry.label} {_fmt_index(chosen.value(entry.name))}" for entry in INDICES
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
    if won:
        parts.append(
            f"Among the eligible, k = {recommended} has "
            + _join([_vote_words(v) for v in won])
            + (f" ({tie_note})" if tie_note else "")
            + "."
        )
    others = [
        f"{_vote_words(v)} points to k = {k}"
        for k, vs in sorted(votes.items())
        if k != recommended
        for v in vs
    ]
    if others:
        parts.append("Against it, " + _join(others) + ".")
    if knee is None:
        parts.append("The inertia curve has no clear knee.")
    elif knee not in eligible:
        parts.append(f"The knee of the inertia curve is at k = {knee}, which is not eligible.")
    return " ".join(parts)


def _fmt_index(value: float) -> str:
    if not np.isfinite(value):
        return "not measured"
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
