"""What a playbook's strategies may act on: levers, outcomes first, guards.

A playbook (``docs/playbook.md``) declares, besides its segment types:

``[levers]``
    The behaviour the business can influence, as column patterns: ``raise`` (more is
    better: purchases, payments) and ``lower`` (less is better: cash advances,
    inactivity), minus ``exclude``. Fallback strategies name only lever columns, and a
    strategy that raises a value (``{low}``) only a ``raise`` lever. Descriptors (who a
    customer is: age, gender, income, tenure...) are never levers, whatever the
    patterns say (:func:`is_descriptor`).
``[outcomes]``
    Strategy templates per outcome family (churn, response, default, complaint) and
    direction: a segment **significantly** above the population on an outcome
    (:mod:`custseg.explain.outcomes`) gets the ``above`` strategies first, one below
    gets the ``below`` ones (for churn only when the segment is of high value:
    ``value`` columns above average). ``about`` lists the words of strategies about
    the outcome ("leaving"): an entry's strategy with them is dropped for a segment
    that is not significantly above when the table measures that outcome.
    ``drop_when_above`` drops the entry's strategies that would be wrong for such a
    segment ("credit limit" for high default).
``[[guards]]``
    Conditions on a segment's profile (``CREDIT_UTILISATION`` mean ``>= 0.9``) under
    which strategies with some words ("credit limit", "loan") are dropped: no more
    credit for customers who have used up their line.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._utils.checks import is_number
from .._utils.patterns import columns_matching
from .._utils.text import readable_name
from ._fields import FieldChecks
from .profiles import SegmentProfiles

__all__ = [
    "OUTCOME_FAMILIES",
    "OUTCOME_FIELDS",
    "Advice",
    "Guard",
    "OutcomeStrategies",
    "UNTARGETED_STRATEGY",
    "compose_strategies",
    "is_descriptor",
    "lever_columns",
    "parse_advice",
]

OUTCOME_FAMILIES = ("churn", "response", "default", "complaint")
"""Outcome families a playbook's ``[outcomes]`` table may address."""
OUTCOME_FIELDS = ("outcome", "value", "interval", "lift", "average", "name", "share", "size")
"""Fields of an outcome strategy template: ``{outcome}`` (its label), ``{value}`` (the
segment's rate or mean, as text), ``{interval}`` ("95% CI 33.0-41.0%"), ``{lift:.1f}``,
``{average}`` (the population's figure, as text), ``{name}``, ``{share:.0%}``, ``{size}``."""
_TEXT_FIELDS = frozenset({"outcome", "value", "interval", "average", "name"})
_MAX_STRATEGIES = 5
UNTARGETED_STRATEGY = (
    "Review this segment's profile with the people who know these customers before acting."
)
"""The advice that needs no trait, given when no other strategy is left."""
# A segment is "of high value" when its value columns sit this many pooled standard
# deviations above the rest, on average (the threshold of a marked trait in naming).
_HIGH_VALUE_EFFECT = 0.3

# Name tokens of columns that describe who a customer is. The role "descriptor" of the
# schema says it for the columns it knows; these catch the rest by name.
_DESCRIPTOR_TOKENS = frozenset(
    {
        *("age", "birth", "born", "dob", "birthday", "gender", "sex", "marital", "married"),
        *("dependent", "dependents", "children", "kids", "kidhome", "teenhome", "household"),
        *("income", "salary", "education", "degree", "region", "country", "city", "postcode"),
        *("zip", "zipcode", "postal", "nationality", "ethnicity", "race", "religion"),
        *("senior", "disability", "disabled", "tenure", "seniority"),
    }
)
# "stayed with": how data dictionaries describe tenure ("months the customer has stayed
# with the company").
_DESCRIPTOR_RUNS = (
    ("months", "on", "book"),
    ("customer", "since"),
    ("first", "purchase"),
    ("stayed", "with"),
)
_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|[^A-Za-z0-9]+")


def is_descriptor(name: str) -> bool:
    """Whether a column name says who a customer is (age, gender, income, tenure...)."""
    tokens = [t.lower() for t in _SPLIT.split(name.removeprefix("@")) if t]
    if any(t in _DESCRIPTOR_TOKENS for t in tokens):
        return True
    runs = {tuple(tokens[i : i + 3]) for i in range(len(tokens))}
    runs |= {tuple(tokens[i : i + 2]) for i in range(len(tokens))}
    return any(run in runs for run in _DESCRIPTOR_RUNS) or "dt customer" in " ".join(tokens)


@dataclass(frozen=True)
class OutcomeStrategies:
    """The strategies of one outcome family (``[outcomes.<family>]``).

    Attributes
    ----------
    family : str
        One of :data:`OUTCOME_FAMILIES`.
    above, below : tuple of str
        Templates (fields :data:`OUTCOME_FIELDS`) for a segment significantly above or
        below the population.
    below_only_high_value : bool
        Give ``below`` only to segments whose ``value`` columns are above average.
    about : tuple of str
        Words of strategies about this outcome, dropped where it is not significantly
        above.
    drop_when_above : tuple of str
        Words of strategies dropped where it is significantly above.
    """

    family: str
    above: tuple[str, ...] = ()
    below: tuple[str, ...] = ()
    below_only_high_value: bool = False
    about: tuple[str, ...] = ()
    drop_when_above: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guard:
    """Drop strategies with some words where a column's statistic crosses a threshold.

    Attributes
    ----------
    name : str
        What the guard protects against, in words.
    columns : tuple of str
        Column patterns; the first profiled column matching is read.
    stat, op, value
        The condition (``mean >= 0.9``).
    drop : tuple of str
        Words of the strategies dropped (compared without case).
    """

    name: str
    columns: tuple[str, ...]
    stat: str
    op: str
    value: float
    drop: tuple[str, ...]


@dataclass(frozen=True)
class Advice:
    """A playbook's levers, outcome strategies and guards (all optional)."""

    raise_levers: tuple[str, ...] = ("*",)
    lower_levers: tuple[str, ...] = ()
    not_levers: tuple[str, ...] = ()
    value: tuple[str, ...] = ()
    outcomes: tuple[OutcomeStrategies, ...] = ()
    guards: tuple[Guard, ...] = field(default_factory=tuple)


# ------------------------------------------------------------------------------ parsing


def parse_advice(data: Mapping[str, Any], check: FieldChecks) -> Advice:
    """``[levers]``, ``[outcomes]`` and ``[[guards]]`` of a parsed playbook.

    ``check`` is the playbook's validator (``fail``, ``table``, ``known``, ``text``,
    ``patterns``): every problem raises its one-line :class:`ConfigError`.
    """
    levers = check.table(data.get("levers", {}), "[levers]")
    check.known(levers, "[levers]", {"raise", "lower", "exclude"})
    found = {
        key: check.patterns(levers[key], f"[levers].{key}") if key in levers else ()
        for key in ("raise", "lower", "exclude")
    }
    body = check.table(data.get("outcomes", {}), "[outcomes]")
    check.known(body, "[outcomes]", {"value", *OUTCOME_FAMILIES})
    value = check.patterns(body["value"], "[outcomes].value") if "value" in body else ()
    outcomes = tuple(_outcome(f, body[f], check) for f in OUTCOME_FAMILIES if f in body)
    raw = data.get("guards", [])
    if not isinstance(raw, list):
        raise check.fail("[[guards]]", "is not a list of tables", "write [[guards]] tables")
    return Advice(
        raise_levers=found["raise"] if "raise" in levers else (() if levers else ("*",)),
        lower_levers=found["lower"],
        not_levers=found["exclude"],
        value=value,
        outcomes=outcomes,
        guards=tuple(_guard(g, f"guards[{i}]", check) for i, g in enumerate(raw)),
    )


def _outcome(family: str, raw: Any, check: FieldChecks) -> OutcomeStrategies:
    where = f"[outcomes.{family}]"
    body = check.table(raw, where)
    allowed = {"above", "below", "below_only_high_value", "about", "drop_when_above"}
    check.known(body, where, allowed)
    only_high = body.get("below_only_high_value", False)
    if not isinstance(only_high, bool):
        raise check.fail(f"{where}.below_only_high_value", f"is {only_high!r}", "use true or false")
    lists = {
        key: tuple(_template(t, f"{where}.{key}[{i}]", check) for i, t in enumerate(body[key]))
        if key in ("above", "below")
        else check.patterns(body[key], f"{where}.{key}")
        for key in ("above", "below", "about", "drop_when_above")
        if key in body and _is_list(body[key], f"{where}.{key}", check)
    }
    return OutcomeStrategies(family, below_only_high_value=only_high, **lists)


def _is_list(value: Any, where: str, check: FieldChecks) -> bool:
    if not isinstance(value, list) or not value:
        raise check.fail(where, "is empty or not a list", "list strings, or leave the key out")
    return True


def _template(value: Any, where: str, check: FieldChecks) -> str:
    text = str(check.text(value, where))
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise check.fail(where, f"is not a valid template ({exc})", "balance { and }") from exc
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in OUTCOME_FIELDS or conversion:
            known = ", ".join("{" + f + "}" for f in OUTCOME_FIELDS)
            raise check.fail(where, f"has field {{{name}}}", f"use {known}")
        sample: Any = "x" if name in _TEXT_FIELDS else (1 if name == "size" else 0.5)
        try:
            format(sample, spec or "")
        except ValueError as exc:
            raise check.fail(
                where, f"has format {spec!r} in {{{name}}} ({exc})", "use e.g. {lift:.1f}"
            ) from exc
    return text


def _guard(raw: Any, where: str, check: FieldChecks) -> Guard:
    body = check.table(raw, where)
    check.known(body, where, {"name", "columns", "stat", "op", "value", "drop"})
    for required in ("name", "columns", "stat", "op", "value", "drop"):
        if required not in body:
            raise check.fail(where, f"has no `{required}`", f"add `{required} = ...`")
    if body["stat"] not in ("mean", "median", "lift", "effect_size"):
        raise check.fail(f"{where}.stat", f"is {body['stat']!r}", "use mean, median or lift")
    if body["op"] not in (">=", "<=", ">", "<"):
        raise check.fail(f"{where}.op", f"is {body['op']!r}", "use one of >=, <=, >, <")
    if not is_number(body["value"]):
        raise check.fail(f"{where}.value", f"is {body['value']!r}", "use a finite number")
    return Guard(
        name=check.text(body["name"], f"{where}.name"),
        columns=check.patterns(body["columns"], f"{where}.columns"),
        stat=str(body["stat"]),
        op=str(body["op"]),
        value=float(body["value"]),
        drop=check.patterns(body["drop"], f"{where}.drop"),
    )


# ---------------------------------------------------------------------------- applying


def lever_columns(
    advice: Advice, features: Collection[str], descriptors: Collection[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """The profiled columns a strategy may act on: ``(all levers, levers to raise)``."""
    allowed = [f for f in features if f not in descriptors and not is_descriptor(f)]
    excluded = set(columns_matching(advice.not_levers, allowed))
    allowed = [f for f in allowed if f not in excluded]
    lower = set(columns_matching(advice.lower_levers, allowed))
    up = {f for f in columns_matching(advice.raise_levers, allowed) if f not in lower}
    return frozenset(up | lower), frozenset(up)


@dataclass(frozen=True)
class SegmentFacts:
    """What strategies of one segment are composed from."""

    segment_id: int
    name: str
    size: int
    share: float
    descriptors: frozenset[str]
    label: Callable[[str], str]


def compose_strategies(
    base: list[str],
    *,
    segment_id: int,
    name: str,
    profiles: SegmentProfiles,
    advice: Advice,
    label: Callable[[str], str],
    outcomes: Mapping[str, Any] | None,
    descriptors: frozenset[str],
) -> list[str]:
    """Outcome strategies first, then ``base`` without what the segment's facts rule out.

    Returns at most five strategies, without repeats; when nothing is left, the advice
    that needs no trait (review the profile before acting).
    """
    size_row = profiles.sizes[profiles.sizes["segment_id"] == segment_id].iloc[0]
    facts = SegmentFacts(
        segment_id=segment_id,
        name=name,
        size=int(size_row["size"]),
        share=float(size_row["share"]),
        descriptors=descriptors,
        label=label,
    )
    matched, measured = _outcome_matches(facts, advice, profiles, outcomes)
    first = [_render(template, facts, hit) for hit in matched for template in hit["templates"]]
    banned: list[str] = []
    for rule in advice.outcomes:
        above = any(h["family"] == rule.family and h["direction"] == "above" for h in matched)
        if rule.family in measured and not above:
            banned += rule.about
        if above:
            banned += rule.drop_when_above
    banned += [w for g in advice.guards if _guard_holds(g, facts, profiles) for w in g.drop]
    kept = [s for s in base if not any(w.casefold() in s.casefold() for w in banned)]
    out: list[str] = []
    for text in [*first, *kept]:
        if text not in out:
            out.append(text)
    return out[:_MAX_STRATEGIES] or [UNTARGETED_STRATEGY]


def _outcome_matches(
    facts: SegmentFacts,
    advice: Advice,
    profiles: SegmentProfiles,
    outcomes: Mapping[str, Any] | None,
) -> tuple[list[dict[str, Any]], set[str]]:
    """The segment's significant outcomes that have strategies, strongest first."""
    if not outcomes:
        return [], set()
    rules = {r.family: r for r in advice.outcomes}
    details = outcomes.get("details") or {}
    best: dict[tuple[str, str], dict[str, Any]] = {}
    measured: set[str] = set()
    for column, stats in (outcomes.get("stats") or {}).items():
        family = (details.get(column) or {}).get("family")
        # A flag read as a rate; a two-valued code such as 1/2 reads as a mean: no advice.
        if family not in rules or stats.get("measure") != "rate":
            continue
        measured.add(family)
        row = next((r for r in stats["segments"] if r["id"] == facts.segment_id), None)
        if row is None or row["direction"] is None or not row["lift"]:
            continue
        rule, direction = rules[family], row["direction"]
        templates = rule.above if direction == "above" else rule.below
        if direction == "below" and rule.below_only_high_value:
            templates = templates if _high_value(facts, advice, profiles) else ()
        strength = abs(math.log(row["lift"])) if row["lift"] > 0 else math.inf
        hit = {
            "family": family,
            "direction": direction,
            "column": column,
            "row": row,
            "stats": stats,
            "population": outcomes["population"].get(column),
            "kind": (details.get(column) or {}).get("kind", ""),
            "templates": templates,
            "strength": strength,
        }
        key = (family, direction)
        if key not in best or strength > best[key]["strength"]:
            best[key] = hit
    ordered = sorted(best.values(), key=lambda h: (h["direction"] != "above", -h["strength"]))
    return ordered, measured


def _high_value(facts: SegmentFacts, advice: Advice, profiles: SegmentProfiles) -> bool:
    columns = [
        c for c in columns_matching(advice.value, profiles.features) if c not in facts.descriptors
    ]
    effects = [profiles.value(facts.segment_id, c, "effect_size") for c in columns]
    finite = [e for e in effects if math.isfinite(e)]
    return bool(finite) and float(np.mean(finite)) >= _HIGH_VALUE_EFFECT


def _guard_holds(guard: Guard, facts: SegmentFacts, profiles: SegmentProfiles) -> bool:
    columns = columns_matching(guard.columns, profiles.features)
    if not columns:
        return False
    value = profiles.value(facts.segment_id, columns[0], guard.stat)
    if not math.isfinite(value):
        return False
    return {
        ">=": value >= guard.value,
        "<=": value <= guard.value,
        ">": value > guard.value,
        "<": value < guard.value,
    }[guard.op]


def _figure(value: float | None, rate: bool) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if rate:
        return f"{value:.1%}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _render(template: str, facts: SegmentFacts, hit: dict[str, Any]) -> str:
    row, rate = hit["row"], hit["stats"]["measure"] == "rate"
    word = hit["kind"].split(":", 1)[1].strip() if ":" in hit["kind"] else ""
    label = facts.label(hit["column"])
    outcome = label if label != readable_name(hit["column"]) or not word else word
    low, high = _figure(row["low"], rate), _figure(row["high"], rate)
    if rate and low != "n/a":
        low = low.removesuffix("%")
    values: dict[str, Any] = {
        "outcome": outcome,
        "value": _figure(row["value"], rate),
        "interval": f"95% CI {low}–{high}",
        "lift": float(row["lift"]),
        "average": _figure(hit["population"], rate),
        "name": facts.name,
        "share": facts.share,
        "size": facts.size,
    }
    out = []
    for literal, name, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(format(values[name], spec or ""))
    return "".join(out)
