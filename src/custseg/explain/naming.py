"""Segment names, descriptions and strategies from a playbook of trait rules.

A playbook (TOML, see ``docs/playbook.md``; the credit-card one ships as
``custseg/playbooks/credit_card.toml``) lists the segment types a business knows, each
with trait rules over profile statistics (``lift of CASH_ADVANCE >= 2``), a priority,
a description template and strategies.

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
import os
import re
import string
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..exceptions import ConfigError
from .profiles import SegmentProfiles

__all__ = [
    "Trait",
    "PlaybookEntry",
    "Playbook",
    "SegmentNaming",
    "load_playbook",
    "parse_playbook",
    "name_segments",
    "STATS",
    "OPERATORS",
]

STATS = ("mean", "median", "lift", "effect_size")
"""Profile statistics a trait can test."""
OPERATORS = (">=", "<=", ">", "<")
"""Comparison operators of traits."""

_TEMPLATE_STATS = (*STATS, "population_mean", "population_median")
_TEMPLATE_NAMES = ("size", "share", "name", "traits")
# A trait's strength saturates here (2 standard deviations, or a lift 4x the threshold):
# beyond it, a segment is not "more" of a type in any useful sense.
_STRENGTH_CAP = 2.0
# Features whose |effect size| is below this do not describe a segment.
_TRAIT_MIN_EFFECT = 0.3
_DEFAULT_FALLBACK_DESCRIPTION = "Customers distinguished by {traits}."
_DEFAULT_FALLBACK_STRATEGIES = (
    "Review this segment's profile with the business before designing an offer.",
    "Test any offer on a small share of the segment against a control group first.",
)


@dataclass(frozen=True)
class Trait:
    """One rule over a profile statistic: ``stat`` of ``feature`` ``op`` ``value``."""

    feature: str
    stat: str
    op: str
    value: float
    weight: float = 1.0
    required: bool = True


@dataclass(frozen=True)
class PlaybookEntry:
    """One segment type of a playbook."""

    key: str
    name: str
    description: str
    strategies: tuple[str, ...]
    traits: tuple[Trait, ...]
    priority: float = 0.0


@dataclass(frozen=True)
class Playbook:
    """A validated playbook.

    Attributes
    ----------
    name : str
        Title of the playbook.
    entries : tuple of PlaybookEntry
        Segment types, in file order.
    labels : dict of str to str
        Human labels of features used in traits and descriptive names.
    fallback_description : str
        Description template of segments that fit no entry.
    fallback_strategies : tuple of str
        Strategies of segments that fit no entry.
    source : str
        Where the playbook was read from.
    """

    name: str
    entries: tuple[PlaybookEntry, ...]
    labels: dict[str, str] = field(default_factory=dict)
    fallback_description: str = _DEFAULT_FALLBACK_DESCRIPTION
    fallback_strategies: tuple[str, ...] = _DEFAULT_FALLBACK_STRATEGIES
    source: str = "<memory>"

    def label(self, feature: str) -> str:
        """Human label of a feature ("CASH_ADVANCE" -> "cash advance" by default)."""
        return self.labels.get(feature, feature.replace("_", " ").strip().lower())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for storing alongside a model)."""
        return asdict(self)


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


def load_playbook(path: str | os.PathLike[str] | None = None) -> Playbook:
    """Read and validate a playbook.

    Parameters
    ----------
    path : str or path-like, optional
        A TOML playbook. Default: the credit-card playbook shipped with custseg.

    Returns
    -------
    Playbook

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML (the message gives the line) or an
        entry is invalid (the message names the entry and the field).
    """
    if path is None:
        resource = resources.files("custseg").joinpath("playbooks/credit_card.toml")
        return parse_playbook(resource.read_text(encoding="utf-8"), source="credit_card.toml")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"playbook file {p} does not exist; pass a TOML playbook (see docs/playbook.md)"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read playbook file {p} ({exc}); pass a UTF-8 TOML file") from exc
    return parse_playbook(text, source=str(p))


def parse_playbook(text: str, *, source: str = "<string>") -> Playbook:
    """Validate a playbook given as TOML text (see :func:`load_playbook`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"playbook {source} is not valid TOML: {exc}; fix the syntax there"
        ) from exc
    return _Validator(source).playbook(data)


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


# --------------------------------------------------------------------------- validation

_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")


class _Validator:
    """Turns parsed TOML into a Playbook, one clear error per problem."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(f"playbook {self.source}: {where} {problem}; {fix}")

    def playbook(self, data: dict[str, Any]) -> Playbook:
        self.known(data, "the file", {"playbook", "labels", "fallback", "segments"})
        head = self.table(data.get("playbook", {}), "[playbook]")
        self.known(head, "[playbook]", {"name", "description", "version"})
        title = self.text(head.get("name", "playbook"), "[playbook].name")
        labels = self.table(data.get("labels", {}), "[labels]")
        for feature, label in labels.items():
            self.text(label, f"[labels].{feature}")
        fallback = self.table(data.get("fallback", {}), "[fallback]")
        self.known(fallback, "[fallback]", {"description", "strategies"})
        fallback_description = self.template(
            fallback.get("description", _DEFAULT_FALLBACK_DESCRIPTION), "[fallback].description"
        )
        fallback_strategies = (
            self.strategies(fallback["strategies"], "[fallback].strategies")
            if "strategies" in fallback
            else _DEFAULT_FALLBACK_STRATEGIES
        )
        segments = self.table(data.get("segments"), "[segments]")
        if not segments:
            raise self.fail(
                "[segments]", "is missing or empty", "add at least one [segments.<key>] table"
            )
        entries = tuple(self.entry(key, value) for key, value in segments.items())
        names: dict[str, str] = {}
        for e in entries:
            other = names.setdefault(e.name.casefold(), e.key)
            if other != e.key:
                raise self.fail(
                    f"segments.{e.key}.name",
                    f"{e.name!r} is also the name of segments.{other}",
                    "give every entry its own name",
                )
        return Playbook(
            name=title,
            entries=entries,
            labels={str(k): str(v) for k, v in labels.items()},
            fallback_description=fallback_description,
            fallback_strategies=fallback_strategies,
            source=self.source,
        )

    def entry(self, key: str, value: Any) -> PlaybookEntry:
        where = f"segments.{key}"
        if not _KEY.match(key):
            raise self.fail(where, "has a key with spaces or symbols", "use letters, digits, _")
        body = self.table(value, where)
        self.known(body, where, {"name", "description", "strategies", "traits", "priority"})
        for required in ("name", "description", "strategies", "traits"):
            if required not in body:
                raise self.fail(where, f"has no `{required}`", f"add `{required} = ...`")
        priority = body.get("priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, (int, float)):
            raise self.fail(f"{where}.priority", f"is {priority!r}", "use a number from 0 to 100")
        if not 0 <= priority <= 100:
            raise self.fail(f"{where}.priority", f"is {priority!r}", "use a number from 0 to 100")
        traits = body["traits"]
        if not isinstance(traits, list) or not traits:
            raise self.fail(
                f"{where}.traits", "is empty or not a list", "list at least one trait table"
            )
        parsed = tuple(self.trait(t, f"{where}.traits[{i}]") for i, t in enumerate(traits))
        if not any(t.required for t in parsed):
            raise self.fail(
                f"{where}.traits", "has no required trait", "make at least one trait required"
            )
        return PlaybookEntry(
            key=key,
            name=self.text(body["name"], f"{where}.name"),
            description=self.template(body["description"], f"{where}.description"),
            strategies=self.strategies(body["strategies"], f"{where}.strategies"),
            traits=parsed,
            priority=float(priority),
        )

    def trait(self, value: Any, where: str) -> Trait:
        body = self.table(value, where)
        self.known(body, where, {"feature", "stat", "op", "value", "weight", "required"})
        for required in ("feature", "stat", "op", "value"):
            if required not in body:
                raise self.fail(where, f"has no `{required}`", f"add `{required} = ...`")
        feature = self.text(body["feature"], f"{where}.feature")
        stat, op = body["stat"], body["op"]
        if stat not in STATS:
            raise self.fail(f"{where}.stat", f"is {stat!r}", f"use one of {', '.join(STATS)}")
        if op not in OPERATORS:
            raise self.fail(f"{where}.op", f"is {op!r}", f"use one of {', '.join(OPERATORS)}")
        number = body["value"]
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise self.fail(f"{where}.value", f"is {number!r}", "use a number")
        if not math.isfinite(number):
            raise self.fail(f"{where}.value", f"is {number!r}", "use a finite number")
        weight = body.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise self.fail(f"{where}.weight", f"is {weight!r}", "use a positive number")
        required = body.get("required", True)
        if not isinstance(required, bool):
            raise self.fail(f"{where}.required", f"is {required!r}", "use true or false")
        return Trait(feature, str(stat), str(op), float(number), float(weight), required)

    def strategies(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "is empty or not a list", "list 2-3 strategies as strings")
        if len(value) > 5:
            raise self.fail(where, f"has {len(value)} strategies", "keep at most 5")
        return tuple(self.text(s, f"{where}[{i}]") for i, s in enumerate(value))

    def template(self, value: Any, where: str) -> str:
        text = self.text(value, where)
        try:
            fields = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise self.fail(where, f"is not a valid template ({exc})", "balance { and }") from exc
        for _, name, spec, conversion in fields:
            if name is None:
                continue
            if conversion:
                raise self.fail(where, f"uses !{conversion} in {{{name}}}", "remove it")
            if name not in _TEMPLATE_NAMES:
                feature, _, stat = name.rpartition(".")
                if not feature or stat not in _TEMPLATE_STATS:
                    raise self.fail(
                        where,
                        f"has field {{{name}}}",
                        "use {size}, {share}, {name}, {traits} or {FEATURE.stat} with stat"
                        f" one of {', '.join(_TEMPLATE_STATS)}",
                    )
            sample: Any = "x" if name in ("name", "traits") else (1 if name == "size" else 0.5)
            try:
                format(sample, spec or "")
            except ValueError as exc:
                raise self.fail(
                    where, f"has format {spec!r} in {{{name}}} ({exc})", "use e.g. :.0% or :,.0f"
                ) from exc
        return text

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"is {value!r}", "use a non-empty string")
        return value.strip()

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, f"is {type(value).__name__}", "make it a table")
        return value

    def known(self, body: dict[str, Any], where: str, allowed: set[str]) -> None:
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise self.fail(
                where,
                f"has unknown field {unknown[0]!r}",
                f"use only {', '.join(sorted(allowed))}",
            )
