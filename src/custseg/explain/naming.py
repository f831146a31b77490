"""Segment names, descriptions and strategies from a playbook of trait rules.

The playbook (its format, loading and validation) is :mod:`custseg.explain.playbook`;
this module matches its entries to the profiles of a model's segments.

Matching, in three steps:

1. Every (segment, entry) pair is scored. The entry is eligible when all its required
   traits hold and every feature it reads is profiled; its score is then
   ``1 + strength + priority / 100``, where ``strength`` (0 to 1) is the weighted mean of
   how far each trait goes beyond its threshold (in standard deviations for effect sizes,
   means and medians, in doublings for lifts, saturating at 2), optional traits that do
   not hold counting 0.
2. Names are assigned by an optimal one-to-one assignment of segments to entries
   (``scipy.optimize.linear_sum_assignment`` maximising the total score), so names are
   unique within a model and a segment that fits two entries leaves the one it fits
   less to another segment that needs it.
3. Segments left without an entry get a descriptive name built from their most
   distinguishing features ("High cash advance, low purchases"), generic strategies,
   and a suffix when two descriptive names would be equal.
"""

from __future__ import annotations

import math
import string
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..exceptions import ConfigError
from .playbook import Playbook, PlaybookEntry, Trait, load_playbook
from .profiles import SegmentProfiles

__all__ = ["SegmentNaming", "name_segments"]

# A trait's strength saturates here (2 standard deviations, or a lift 4x the threshold):
# beyond it, a segment is not "more" of a type in any useful sense.
_STRENGTH_CAP = 2.0
# Features whose |effect size| is below this do not describe a segment.
_TRAIT_MIN_EFFECT = 0.3


@dataclass(frozen=True)
class SegmentNaming:
    """Name, description and strategies of one segment.

    Attributes
    ----------
    segment_id : int
        The segment.
    name : str
        Unique name within the model.
    description : str
        One sentence.
    strategies : list of str
        Suggested actions, for people to review.
    traits : list of str
        Short phrases for the most distinguishing features ("cash advance 4.1× average").
    playbook_key : str or None
        Key of the matched playbook entry, ``None`` for a descriptive name.
    score : float or None
        Matching score of the entry (``None`` for a descriptive name).
    """

    segment_id: int
    name: str
    description: str
    strategies: list[str]
    traits: list[str]
    playbook_key: str | None
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def name_segments(
    profiles: SegmentProfiles | dict[str, Any], *, playbook: Playbook | None = None
) -> list[SegmentNaming]:
    """Name every segment, describe it and suggest strategies.

    Parameters
    ----------
    profiles : SegmentProfiles or dict
        Output of :func:`custseg.explain.profiles.profile_segments` (or its ``to_dict()``).
    playbook : Playbook, optional
        Default: the credit-card playbook shipped with custseg.

    Returns
    -------
    list of SegmentNaming
        One per segment, in segment id order; names are unique.

    Raises
    ------
    ConfigError
        If ``profiles`` is not profiles or ``playbook`` is not a :class:`Playbook`.
    DataError
        If ``profiles`` is a dictionary without the fields of
        :meth:`SegmentProfiles.to_dict`.
    """
    if isinstance(profiles, dict):
        profiles = SegmentProfiles.from_dict(profiles)
    if not isinstance(profiles, SegmentProfiles):
        raise ConfigError(
            f"profiles must be SegmentProfiles, got {type(profiles).__name__};"
            " pass the output of profile_segments()"
        )
    if playbook is None:
        playbook = load_playbook()
    elif not isinstance(playbook, Playbook):
        raise ConfigError(
            f"playbook must be a Playbook, got {type(playbook).__name__}; use load_playbook(path)"
        )
    return _name(profiles, playbook)


# --------------------------------------------------------------------------- matching


def _name(profiles: SegmentProfiles, playbook: Playbook) -> list[SegmentNaming]:
    ids = profiles.segment_ids
    scores = np.array(
        [[_score(profiles, sid, entry) for entry in playbook.entries] for sid in ids],
        dtype=np.float64,
    ).reshape(len(ids), len(playbook.entries))
    chosen: dict[int, tuple[PlaybookEntry, float]] = {}
    if scores.size and (scores > 0).any():
        rows, cols = linear_sum_assignment(scores, maximize=True)
        for r, c in zip(rows, cols, strict=True):
            if scores[r, c] > 0:
                chosen[ids[r]] = (playbook.entries[c], float(scores[r, c]))

    taken = {entry.name.casefold() for entry, _ in chosen.values()}
    namings = []
    descriptive: dict[int, list[tuple[str, ...]]] = {}
    for sid in ids:
        traits = _trait_phrases(profiles, sid, playbook)
        if sid in chosen:
            entry, score = chosen[sid]
            namings.append(
                SegmentNaming(
                    segment_id=sid,
                    name=entry.name,
                    description=_render(entry.description, profiles, sid, entry.name, traits),
                    strategies=list(entry.strategies),
                    traits=traits,
                    playbook_key=entry.key,
                    score=round(score, 6),
                )
            )
        else:
            descriptive[sid] = _name_candidates(profiles, sid, playbook)
            namings.append(
                SegmentNaming(
                    segment_id=sid,
                    name="",
                    description="",
                    strategies=list(playbook.fallback_strategies),
                    traits=traits,
                    playbook_key=None,
                )
            )
    names = _unique_descriptive(descriptive, taken)
    result = []
    for n in namings:
        if n.playbook_key is None:
            name = names[n.segment_id]
            description = _render(
                playbook.fallback_description, profiles, n.segment_id, name, n.traits
            )
            n = SegmentNaming(n.segment_id, name, description, n.strategies, n.traits, None)
        result.append(n)
    return result


def _score(profiles: SegmentProfiles, sid: int, entry: PlaybookEntry) -> float:
    available = set(profiles.features)
    # An entry reading a feature the table does not have cannot describe it.
    if any(t.feature not in available for t in entry.traits):
        return 0.0
    total = weight = 0.0
    for t in entry.traits:
        margin = _margin(profiles, sid, t)
        holds = margin is not None and (margin > 0 if t.op in (">", "<") else margin >= 0)
        if t.required and not holds:
            return 0.0
        strength = min(max(margin or 0.0, 0.0), _STRENGTH_CAP) / _STRENGTH_CAP if holds else 0.0
        total += t.weight * strength
        weight += t.weight
    return 1.0 + total / weight + entry.priority / 100.0


def _margin(profiles: SegmentProfiles, sid: int, trait: Trait) -> float | None:
    """How far the statistic is beyond the threshold, signed so that >= 0 means it holds."""
    value = profiles.value(sid, trait.feature, trait.stat)
    if math.isnan(value):
        return None
    sign = 1.0 if trait.op in (">=", ">") else -1.0
    if trait.stat == "lift":
        # Lifts are ratios: compare them in doublings, so 4x vs a threshold of 2 is 1.
        if trait.value <= 0:
            return sign * (value - trait.value)
        if value <= 0:
            return -math.inf * sign
        return sign * math.log2(value / trait.value)
    if trait.stat == "effect_size":
        return sign * (value - trait.value)
    std = profiles.population_value(trait.feature, "std")
    diff = value - trait.value
    if not std > 0:
        return sign * (math.copysign(math.inf, diff) if diff else 0.0)
    return sign * diff / std


# ------------------------------------------------------------------- descriptive names


def _distinct_top(profiles: SegmentProfiles, sid: int, playbook: Playbook) -> list[tuple[str, Any]]:
    """Top features by |effect size|, skipping near-repeats ("cash advance frequency"
    after "cash advance" in the same direction)."""
    rows = profiles.top_features(sid, len(profiles.features), min_abs_effect=_TRAIT_MIN_EFFECT)
    picked: list[tuple[str, Any]] = []
    seen: set[tuple[str, bool]] = set()
    for feature, row in rows.iterrows():
        label = playbook.label(str(feature))
        stem = (label.split(" ")[0], bool(row["effect_size"] > 0))
        if stem in seen:
            continue
        seen.add(stem)
        picked.append((str(feature), row))
    return picked


def _trait_phrases(profiles: SegmentProfiles, sid: int, playbook: Playbook) -> list[str]:
    phrases = []
    for feature, row in _distinct_top(profiles, sid, playbook)[:4]:
        label = playbook.label(feature)
        lift, mean, pop = row["lift"], row["mean"], row["population_mean"]
        if np.isfinite(lift) and pop > 0 and lift >= 1.5:
            phrases.append(f"{label} {lift:.1f}× average")
        elif np.isfinite(lift) and pop > 0 and 0 <= lift <= 0.67:
            phrases.append(f"{label} {1 - lift:.0%} below average")
        else:
            phrases.append(f"{label} {_short(mean)} vs {_short(pop)} average")
    return phrases


def _name_candidates(
    profiles: SegmentProfiles, sid: int, playbook: Playbook
) -> list[tuple[str, ...]]:
    """Descriptive names (as trait phrases) from the top traits, shortest first."""
    words = tuple(
        f"{'high' if row['effect_size'] > 0 else 'low'} {playbook.label(feature)}"
        for feature, row in _distinct_top(profiles, sid, playbook)[:4]
    )
    if not words:
        return [("average profile",)]
    return [words[:n] for n in range(min(2, len(words)), len(words) + 1)]


def _unique_descriptive(
    candidates: dict[int, list[tuple[str, ...]]], taken: set[str]
) -> dict[int, str]:
    """Shortest candidate name that no other segment could also take; else a suffix.

    Names are compared as sets of phrases ("high a, high b" equals "high b, high a").
    A name offered to two segments is given to neither: both move on to their longer,
    more specific names, so that no segment looks like it lacks a trait of another.
    """

    def key(words: tuple[str, ...]) -> frozenset[str]:
        return frozenset(w.casefold() for w in words)

    offered: dict[frozenset[str], int] = {}
    for options in candidates.values():
        for k in {key(o) for o in options}:
            offered[k] = offered.get(k, 0) + 1
    names: dict[int, str] = {}
    used = set(taken)
    for sid, options in candidates.items():
        free = [o for o in options if offered[key(o)] == 1]
        text = [_capitalise(", ".join(o)) for o in free]
        name = next((t for t in text if t.casefold() not in used), None)
        if name is None:
            name = f"{_capitalise(', '.join(options[0]))} (segment {sid})"
        used.add(name.casefold())
        names[sid] = name
    return names


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _short(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2g}" if abs(value) < 1 else f"{value:.3g}"


# ---------------------------------------------------------------------------- templates


def _render(
    template: str, profiles: SegmentProfiles, sid: int, name: str, traits: list[str]
) -> str:
    size_row = profiles.sizes[profiles.sizes["segment_id"] == sid].iloc[0]
    out = []
    for literal, field_name, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if field_name is None:
            continue
        value: Any
        if field_name == "size":
            value = int(size_row["size"])
        elif field_name == "share":
            value = float(size_row["share"])
        elif field_name == "name":
            value = name
        elif field_name == "traits":
            value = ", ".join(traits) if traits else "no marked difference from the average"
        else:
            feature, stat = field_name.rsplit(".", 1)
            value = profiles.value(sid, feature, stat)
        if isinstance(value, float) and math.isnan(value):
            out.append("n/a")
        else:
            out.append(format(value, spec or ""))
    return "".join(out)
