"""Key traits of a segment: numeric columns and decisive levels on one scale.

What :mod:`custseg.explain.naming` reads of a segment's profile to phrase its traits
and its descriptive name (see that module for the rules): the matching context, the
numeric traits (largest |effect size|, near-repeats skipped), the decisive levels of
categorical columns (:mod:`custseg.explain.levels`) and how each reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._utils.labels import abbreviate
from .levels import LevelProfiles, level_phrase
from .playbook import MAX_NAME_LENGTH, Playbook
from .profiles import SegmentProfiles

__all__ = [
    "NAME_LABEL_LENGTH",
    "STRATEGY_LABEL_LENGTH",
    "TRAIT_LABEL_LENGTH",
    "TRAIT_MIN_EFFECT",
    "Candidate",
    "NamingContext",
    "distinct_top",
    "lift_text",
    "name_candidates",
    "ranked_traits",
    "short_number",
    "trait_phrases",
]

TRAIT_MIN_EFFECT = 0.3
"""Features whose |effect size| is below this do not describe a segment."""
NAME_LABEL_LENGTH = 28
"""Longest label of a feature inside a descriptive name, abbreviated beyond it; a name
whose phrases do not fit MAX_NAME_LENGTH together keeps fewer of them."""
TRAIT_LABEL_LENGTH = 40
"""Longest label of a feature inside a trait phrase."""
STRATEGY_LABEL_LENGTH = 80
"""Longest label of a feature inside a strategy: a sentence has room for the column's
words as written ("raises their low number of visits to physical branch locations")."""
NAME_LEVEL_LENGTH = 30
"""Longest level phrase inside a name ("Bank transfer (automatic)")."""


@dataclass(frozen=True)
class NamingContext:
    """What matching reads: the profiles, the playbook and its groups' columns."""

    profiles: SegmentProfiles
    playbook: Playbook
    groups: dict[str, list[str]]
    features: frozenset[str]
    levels: LevelProfiles | None = None
    descriptors: frozenset[str] = field(default_factory=frozenset)

    def stat(self, sid: int, feature: str, stat: str) -> float:
        """A statistic of a column, or the mean of it over a group's columns (``@g``)."""
        if not feature.startswith("@"):
            return self.profiles.value(sid, feature, stat)
        values = [self.profiles.value(sid, c, stat) for c in self.groups.get(feature[1:], [])]
        finite = [v for v in values if math.isfinite(v)]
        return float(np.mean(finite)) if finite else math.nan

    def has(self, feature: str) -> bool:
        if feature.startswith("@"):
            return bool(self.groups.get(feature[1:]))
        return feature in self.features

    def label(self, feature: str, limit: int) -> str:
        # Abbreviated, never cut in the middle: "first… answered" hid what differed.
        return abbreviate(self.playbook.label(feature), limit)

    def quoted(self, sid: int, feature: str, stat: str) -> float:
        """What a description quotes: a group reads as its column that sets the segment
        apart most, the figure its key traits quote too."""
        if not feature.startswith("@"):
            return self.profiles.value(sid, feature, stat)
        members = self.groups.get(feature[1:], [])
        effects = [abs(self.profiles.value(sid, c, "effect_size")) for c in members]
        ranked = [(e, -i) for i, e in enumerate(effects) if math.isfinite(e)]
        if not ranked:
            return self.stat(sid, feature, stat)
        return self.profiles.value(sid, members[-max(ranked)[1]], stat)


def _words(label: str) -> tuple[str, ...]:
    # "purchase" and "purchases" are the same word for telling near-repeats apart.
    return tuple(w.removesuffix("s") for w in label.casefold().split())


def _repeats(words: tuple[str, ...], earlier: tuple[str, ...]) -> bool:
    """Whether one label is the other one continued ("cash advance frequency" after
    "cash advance", "purchases" after "purchase frequency")."""
    n = min(len(words), len(earlier))
    return n > 0 and words[:n] == earlier[:n]


def distinct_top(ctx: NamingContext, sid: int) -> list[tuple[str, Any]]:
    """Top features by |effect size|, skipping near-repeats in the same direction
    ("cash advance frequency" after "cash advance")."""
    profiles = ctx.profiles
    rows = profiles.top_features(sid, len(profiles.features), min_abs_effect=TRAIT_MIN_EFFECT)
    picked: list[tuple[str, Any]] = []
    seen: list[tuple[tuple[str, ...], bool]] = []
    for feature, row in rows.iterrows():
        words = _words(ctx.playbook.label(str(feature)))
        up = bool(row["effect_size"] > 0)
        if any(up == side and _repeats(words, other) for other, side in seen):
            continue
        seen.append((words, up))
        picked.append((str(feature), row))
    return picked


@dataclass(frozen=True)
class Candidate:
    """A key trait: a numeric column or a decisive level, with how it reads."""

    feature: str
    effect: float  # Cohen's d, the one scale numeric columns and levels compete on
    trait: str  # "tenure 0.45× average", "No internet service (100% vs 22% overall)"
    name_words: str  # "low tenure", "Month-to-month contract"
    descriptor: bool


def ranked_traits(ctx: NamingContext, sid: int) -> list[Candidate]:
    """Numeric and level traits of a segment, the largest |effect size| first."""
    found = [
        Candidate(
            feature,
            float(row["effect_size"]),
            _numeric_trait(ctx, feature, row),
            f"{'high' if row['effect_size'] > 0 else 'low'}"
            f" {abbreviate(ctx.playbook.label(feature), NAME_LABEL_LENGTH)}",
            feature in ctx.descriptors,
        )
        for feature, row in distinct_top(ctx, sid)
    ]
    found += _level_traits(ctx, sid)
    found.sort(key=lambda c: -abs(c.effect))
    seen: set[str] = set()
    out = []
    for candidate in found:
        # Six add-on columns share the level "No internet service": it is said once.
        key = candidate.name_words.casefold()
        if key not in seen:
            seen.add(key)
            out.append(candidate)
    return out


def _level_traits(ctx: NamingContext, sid: int) -> list[Candidate]:
    if ctx.levels is None:
        return []
    out = []
    for row in ctx.levels.decisive(sid).to_dict(orient="records"):
        if row["role"] == "outcome" or not abs(row["effect_size"]) >= TRAIT_MIN_EFFECT:
            continue
        feature, level = str(row["feature"]), str(row["level"])
        label = ctx.playbook.label(feature)
        figures = f"({row['share']:.0%} vs {row['population_share']:.0%} overall)"
        out.append(
            Candidate(
                feature,
                float(row["effect_size"]),
                f"{level_phrase(abbreviate(label, TRAIT_LABEL_LENGTH), level)} {figures}",
                abbreviate(level_phrase(label, level, in_name=True), NAME_LEVEL_LENGTH),
                feature in ctx.descriptors or row["role"] == "descriptor",
            )
        )
    return out


def _numeric_trait(ctx: NamingContext, feature: str, row: Any) -> str:
    label = ctx.label(feature, TRAIT_LABEL_LENGTH)
    lift, mean, pop = row["lift"], row["mean"], row["population_mean"]
    if np.isfinite(lift) and pop > 0 and lift >= 1.5:
        return f"{label} {lift_text(lift)}× average"
    if np.isfinite(lift) and pop > 0 and 0 <= lift <= 0.67:
        # The figure a description quotes ("0.45×"), and how far below it is.
        return f"{label} {lift_text(lift)}× average ({1 - lift:.0%} below)"
    return f"{label} {short_number(mean)} vs {short_number(pop)} average"


def lift_text(lift: float) -> str:
    """A lift as descriptions and traits both quote it: "2.5", "0.45", "0.04"."""
    return f"{lift:.1f}" if lift >= 0.95 else f"{lift:.2g}"


def trait_phrases(ctx: NamingContext, sid: int) -> list[str]:
    return [c.trait for c in ranked_traits(ctx, sid)[:4]]


def name_candidates(ctx: NamingContext, sid: int) -> list[tuple[str, ...]]:
    """Descriptive names (as trait phrases) from the top traits, shortest first.

    Descriptors name a segment only when no behaviour trait sets it apart; every
    candidate fits :data:`MAX_NAME_LENGTH` without cutting a word.
    """
    ranked = ranked_traits(ctx, sid)
    behaviour = [c for c in ranked if not c.descriptor]
    words = tuple(c.name_words for c in (behaviour or ranked)[:4])
    if not words:
        return [("average profile",)]
    options = [words[:n] for n in range(min(2, len(words)), len(words) + 1)]
    fitting = [o for o in options if len(", ".join(o)) <= MAX_NAME_LENGTH]
    return fitting or [words[:1]]


def short_number(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        # No separator below 10,000: years and codes (1961) read as they are written.
        return f"{value:.0f}"
    return f"{value:.2g}" if abs(value) < 1 else f"{value:.3g}"
