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
   less to another segment that needs it. When the strongest fits taken first (greedy)
   reach the same total within :data:`_TIE` (0.02), they win: a tie between two
   assignments is broken by a refit's noise otherwise. On CC_GENERAL two assignments
   differed by 0.001 in total, and the same segments were named "Premium high
   spenders" and "Transactors" with one seed, "Transactors" and "Instalment shoppers"
   with another.
3. Segments left without an entry get a descriptive name built from their most
   distinguishing features ("High cash advance, low purchases", "No internet service,
   low monthly charges"), the playbook's fallback strategies written for those
   features ("Find out what lies behind their high cash advance ..."), and a suffix
   when two descriptive names would be equal.

Key traits and descriptive names draw on numeric columns and on the decisive levels
of categorical columns (:mod:`custseg.explain.levels`: at least 60% of the segment
holds the level, 1.5× its share among all customers) on one scale: the absolute
effect size, Cohen's d (a level's is that of its 0/1 indicator). A level reads in the
table's own words: the level itself when it says what it is ("Fiber optic", "No
internet service"), its column for a yes/no level ("paperless billing", "no online
security"), else column and level ("Contract: Month-to-month"; "Month-to-month
contract" in a name). Descriptor columns (who a customer is: age, gender...) may be
key traits, but a name uses them only when no behaviour trait sets the segment apart;
outcome columns are never traits or names.

Traits may read a column group of the playbook (``@spend``: every column matching its
patterns); the group's statistic is the mean of its columns' statistics. A description
quotes the figures of the key traits: a lift reads the same way in both ("2.5×",
"0.45×"), and a group quoted in a description reads as its column that sets the segment
apart most (its first key trait), not as the group's mean. Names are at most
:data:`~custseg.explain.playbook.MAX_NAME_LENGTH` characters and never cut a word in
its middle: long labels are abbreviated (:func:`custseg._utils.labels.abbreviate`: "days
since first purc."; a 130-character label keeps its leading words, which the report lists
with the full name), and a name too long for all its traits keeps fewer of them.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from .._utils.labels import abbreviate
from .._utils.patterns import columns_matching
from ..exceptions import ConfigError
from ._traits import STRATEGY_LABEL_LENGTH as _STRATEGY_LABEL_LENGTH
from ._traits import NamingContext as _Context
from ._traits import distinct_top as _distinct_top
from ._traits import lift_text as _lift_text
from ._traits import name_candidates as _name_candidates
from ._traits import ranked_traits as _ranked_traits
from ._traits import trait_phrases as _trait_phrases
from .advice import UNTARGETED_STRATEGY, compose_strategies, is_descriptor, lever_columns
from .choice import choose_playbook
from .levels import LevelProfiles
from .playbook import MAX_NAME_LENGTH, Playbook, PlaybookEntry, Trait
from .profiles import SegmentProfiles

__all__ = ["SegmentNaming", "name_segments"]

# A trait's strength saturates here (2 standard deviations, or a lift 4x the threshold):
# beyond it, a segment is not "more" of a type in any useful sense.
_STRENGTH_CAP = 2.0
# Two assignments of names whose total scores are this close are a tie (see step 2).
_TIE = 0.02
_UNTARGETED_STRATEGY = UNTARGETED_STRATEGY


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
    profiles: SegmentProfiles | dict[str, Any],
    *,
    playbook: Playbook | None = None,
    levels: LevelProfiles | dict[str, Any] | None = None,
    outcomes: Mapping[str, Any] | None = None,
    descriptors: Collection[str] = (),
) -> list[SegmentNaming]:
    """Name every segment, describe it and suggest strategies.

    Strategies follow the playbook's ``[levers]``, ``[outcomes]`` and ``[[guards]]``
    (:mod:`custseg.explain.advice`): a segment significantly above or below the
    population on an outcome gets that outcome's strategies first; fallback strategies
    only change lever columns, never a descriptor.

    Parameters
    ----------
    profiles : SegmentProfiles or dict
        Output of :func:`custseg.explain.profiles.profile_segments` (or its ``to_dict()``).
    playbook : Playbook, optional
        Default: the shipped playbook that fits the profiled columns
        (:func:`custseg.explain.choose_playbook`: credit cards, retail, or the neutral
        playbook when no domain fits).
    levels : LevelProfiles or dict, optional
        Level profiles of the categorical columns
        (:func:`custseg.explain.profile_levels`, or its ``to_dict()``): their decisive
        levels become traits and name words. Default: numeric traits only.
    outcomes : mapping, optional
        Output of :func:`custseg.explain.profile_outcomes` with ``details[column]
        ["family"]`` (churn, response, default, complaint) for the outcomes that have
        strategies; default: no outcome strategies.
    descriptors : collection of str, default ()
        Columns that describe who a customer is (role ``"descriptor"``; columns named
        like one, such as age, gender, income or tenure, count too): traits may quote
        them, names only when no behaviour trait sets the segment apart, and strategies
        never try to change them.

    Returns
    -------
    list of SegmentNaming
        One per segment, in segment id order; names are unique.

    Raises
    ------
    ConfigError
        If ``profiles`` is not profiles, ``playbook`` is not a :class:`Playbook` or
        ``levels`` not level profiles.
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
        playbook = choose_playbook(profiles.features).playbook
    elif not isinstance(playbook, Playbook):
        raise ConfigError(
            f"playbook should be a Playbook, got {type(playbook).__name__}; use load_playbook(path)"
        )
    if isinstance(levels, dict):
        levels = LevelProfiles.from_dict(levels)
    if levels is not None and not isinstance(levels, LevelProfiles):
        raise ConfigError(
            f"levels must be LevelProfiles, got {type(levels).__name__};"
            " pass the output of profile_levels()"
        )
    if outcomes is not None and not isinstance(outcomes, Mapping):
        raise ConfigError(
            f"outcomes should be a mapping, got {type(outcomes).__name__};"
            " pass the output of profile_outcomes()"
        )
    if isinstance(descriptors, str):
        descriptors = [descriptors]
    described = frozenset(str(d) for d in descriptors)
    namings = _name(profiles, playbook, levels, described)
    advise = functools.partial(
        compose_strategies,
        profiles=profiles,
        advice=playbook.advice,
        label=playbook.label,
        outcomes=outcomes,
        descriptors=described,
    )
    return [
        replace(n, strategies=advise(n.strategies, segment_id=n.segment_id, name=n.name))
        for n in namings
    ]


# --------------------------------------------------------------------------- matching


def _name(
    profiles: SegmentProfiles,
    playbook: Playbook,
    levels: LevelProfiles | None = None,
    descriptors: frozenset[str] = frozenset(),
) -> list[SegmentNaming]:
    groups = {g: columns_matching(p, profiles.features) for g, p in playbook.groups.items()}
    ctx = _Context(profiles, playbook, groups, frozenset(profiles.features), levels, descriptors)
    ids = profiles.segment_ids
    scores = np.array(
        [[_score(ctx, sid, entry) for entry in playbook.entries] for sid in ids],
        dtype=np.float64,
    ).reshape(len(ids), len(playbook.entries))
    chosen: dict[int, tuple[PlaybookEntry, float]] = {}
    if scores.size and (scores > 0).any():
        rows, cols = _assignment(scores)
        for r, c in zip(rows, cols, strict=True):
            if scores[r, c] > 0:
                chosen[ids[r]] = (playbook.entries[c], float(scores[r, c]))

    taken = {entry.name.casefold() for entry, _ in chosen.values()}
    namings = []
    descriptive: dict[int, list[tuple[str, ...]]] = {}
    for sid in ids:
        traits = _trait_phrases(ctx, sid)
        if sid in chosen:
            entry, score = chosen[sid]
            namings.append(
                SegmentNaming(
                    segment_id=sid,
                    name=entry.name,
                    description=_render(entry.description, ctx, sid, entry.name, traits),
                    strategies=list(entry.strategies),
                    traits=traits,
                    playbook_key=entry.key,
                    score=round(score, 6),
                )
            )
        else:
            descriptive[sid] = _name_candidates(ctx, sid)
            namings.append(
                SegmentNaming(
                    segment_id=sid,
                    name="",
                    description="",
                    strategies=[],
                    traits=traits,
                    playbook_key=None,
                )
            )
    names = _unique_descriptive(descriptive, taken)
    result = []
    for n in namings:
        if n.playbook_key is None:
            name = names[n.segment_id]
            description = _render(playbook.fallback_description, ctx, n.segment_id, name, n.traits)
            strategies = _fallback_strategies(ctx, n.segment_id, name, n.traits)
            n = SegmentNaming(n.segment_id, name, description, strategies, n.traits, None)
        result.append(n)
    return result


def _assignment(scores: np.ndarray) -> tuple[list[int], list[int]]:
    """The optimal one-to-one assignment, or the greedy one when it is as good."""
    rows, cols = linear_sum_assignment(scores, maximize=True)
    best = float(scores[rows, cols].sum())
    greedy_rows: list[int] = []
    greedy_cols: list[int] = []
    # Strongest fits first; ties in order of segment then entry, never of the seed.
    for flat in np.lexsort((np.arange(scores.size), -scores.ravel())):
        r, c = divmod(int(flat), scores.shape[1])
        if scores[r, c] > 0 and r not in greedy_rows and c not in greedy_cols:
            greedy_rows.append(r)
            greedy_cols.append(c)
    if float(scores[greedy_rows, greedy_cols].sum()) >= best - _TIE:
        return greedy_rows, greedy_cols
    return [int(r) for r in rows], [int(c) for c in cols]


def _score(ctx: _Context, sid: int, entry: PlaybookEntry) -> float:
    # An entry reading a feature the table does not have cannot describe it.
    if any(not ctx.has(t.feature) for t in entry.traits):
        return 0.0
    total = weight = 0.0
    for t in entry.traits:
        margin = _margin(ctx, sid, t)
        holds = margin is not None and (margin > 0 if t.op in (">", "<") else margin >= 0)
        if t.required and not holds:
            return 0.0
        strength = min(max(margin or 0.0, 0.0), _STRENGTH_CAP) / _STRENGTH_CAP if holds else 0.0
        total += t.weight * strength
        weight += t.weight
    return 1.0 + total / weight + entry.priority / 100.0


def _margin(ctx: _Context, sid: int, trait: Trait) -> float | None:
    """How far the statistic is beyond the threshold, signed so that >= 0 means it holds."""
    value = ctx.stat(sid, trait.feature, trait.stat)
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
    std = ctx.profiles.population_value(trait.feature, "std")
    diff = value - trait.value
    if not std > 0:
        return sign * (math.copysign(math.inf, diff) if diff else 0.0)
    return sign * diff / std


# ------------------------------------------------------------------- descriptive names


def _unique_descriptive(
    candidates: dict[int, list[tuple[str, ...]]], taken: set[str]
) -> dict[int, str]:
    """Shortest candidate name that no other segment could also take; else a suffix.

    Names are compared as sets of phrases ("high a, high b" equals "high b, high a").
    A name offered to two segments is given to neither: both move on to their longer,
    more specific names, so that no segment looks like it lacks a trait of another.
    Every name is at most MAX_NAME_LENGTH characters, the suffix included.
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
        text = [_as_name(o) for o in free]
        name = next((t for t in text if t.casefold() not in used), None)
        if name is None:
            suffix = f" (segment {sid})"
            name = _as_name(options[0], MAX_NAME_LENGTH - len(suffix)) + suffix
        used.add(name.casefold())
        names[sid] = name
    return names


def _as_name(words: tuple[str, ...], limit: int = MAX_NAME_LENGTH) -> str:
    # Fewer phrases rather than a phrase cut in the middle.
    kept = list(words)
    while len(kept) > 1 and len(", ".join(kept)) > limit:
        kept.pop()
    return _capitalise(abbreviate(", ".join(kept), limit))


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fallback_strategies(ctx: _Context, sid: int, name: str, traits: list[str]) -> list[str]:
    """The fallback strategies written for this segment's strongest traits.

    ``{high}`` is the label of its most distinguishing lever above the average, ``{low}``
    of its most distinguishing lever to raise below it (the playbook's ``[levers]``;
    never a descriptor: a strategy does not try to change a customer's age), ``{who}``
    its key trait when the one that sets it apart most is a descriptor ("customer age
    68 vs 47.6 average", for tailoring the message); a strategy reading one the segment
    lacks is left out.
    """
    top = _distinct_top(ctx, sid)
    levers, to_raise = lever_columns(ctx.playbook.advice, ctx.features, ctx.descriptors)
    sides = {
        "high": next((f for f, row in top if row["effect_size"] > 0 and f in levers), None),
        "low": next((f for f, row in top if row["effect_size"] < 0 and f in to_raise), None),
    }
    words = {k: ctx.label(f, _STRATEGY_LABEL_LENGTH) for k, f in sides.items() if f is not None}
    ranked = _ranked_traits(ctx, sid)
    if ranked and (ranked[0].descriptor or is_descriptor(ranked[0].feature)):
        words["who"] = ranked[0].trait  # the figure its key traits quote
    out = []
    for template in ctx.playbook.fallback_strategies:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
        if any(f in ("high", "low", "who") and f not in words for f in fields):
            continue
        out.append(_render(template, ctx, sid, name, traits, words))
    # A segment without marked traits still gets the advice that needs none.
    return out or [_UNTARGETED_STRATEGY]


# ---------------------------------------------------------------------------- templates


def _render(
    template: str,
    ctx: _Context,
    sid: int,
    name: str,
    traits: list[str],
    words: dict[str, str] | None = None,
) -> str:
    profiles = ctx.profiles
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
        elif words is not None and field_name in words:
            value = words[field_name]
        else:
            feature, stat = field_name.rsplit(".", 1)
            value = ctx.quoted(sid, feature, stat) if ctx.has(feature) else math.nan
            if stat == "lift" and math.isfinite(value) and spec in ("", ".1f", ".2f"):
                # A lift reads as the key traits quote it ("0.45", not "0.5").
                value, spec = _lift_text(value), ""
        if isinstance(value, float) and math.isnan(value):
            out.append("n/a")
        else:
            out.append(format(value, spec or ""))
    return "".join(out)
