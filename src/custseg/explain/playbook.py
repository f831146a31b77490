"""The editable playbook: its types, loading it from TOML and validating it.

A playbook (TOML, see ``docs/playbook.md``; the credit-card one ships as
``custseg/playbooks/credit_card.toml``) lists the segment types a business knows, each
with trait rules over profile statistics (``lift of CASH_ADVANCE >= 2``), a priority,
a description template and strategies. It also gives human labels for column names and
the description and strategies of segments that fit no entry.

Loading validates every field: each problem raises one :class:`ConfigError` of one line
that names the entry and the field, says what is wrong and how to fix it. Matching a
playbook to segments is the job of :mod:`custseg.explain.naming`.
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

from ..exceptions import ConfigError

__all__ = [
    "Trait",
    "PlaybookEntry",
    "Playbook",
    "load_playbook",
    "parse_playbook",
    "STATS",
    "OPERATORS",
]

STATS = ("mean", "median", "lift", "effect_size")
"""Profile statistics a trait can test."""
OPERATORS = (">=", "<=", ">", "<")
"""Comparison operators of traits."""

# Fields a description template may use besides ``{FEATURE.stat}``.
_TEMPLATE_STATS = (*STATS, "population_mean", "population_median")
_TEMPLATE_NAMES = ("size", "share", "name", "traits")
_DEFAULT_FALLBACK_DESCRIPTION = "Customers distinguished by {traits}."
_DEFAULT_FALLBACK_STRATEGIES = (
    "Review this segment's profile with the business before designing an offer.",
    "Test any offer on a small share of the segment against a control group first.",
)


@dataclass(frozen=True)
class Trait:
    """One rule over a profile statistic: ``stat`` of ``feature`` ``op`` ``value``.

    Attributes
    ----------
    feature : str
        Column of the profiled table; an entry reading an absent column never matches.
    stat : str
        Profile statistic tested, one of :data:`STATS`.
    op : str
        Comparison, one of :data:`OPERATORS`.
    value : float
        Threshold, in the units of the statistic.
    weight : float, default 1.0
        Weight of the trait in the matching score (positive).
    required : bool, default True
        Whether the entry matches only when the trait holds; optional traits only add
        to the score.
    """

    feature: str
    stat: str
    op: str
    value: float
    weight: float = 1.0
    required: bool = True


@dataclass(frozen=True)
class PlaybookEntry:
    """One segment type of a playbook.

    Attributes
    ----------
    key : str
        Short id of the entry (the TOML table name ``[segments.<key>]``).
    name : str
        Name given to a segment matching the entry; unique in the playbook.
    description : str
        One-sentence template (``{size}``, ``{share}``, ``{name}``, ``{traits}`` and
        ``{FEATURE.stat}`` fields, with optional format specs).
    strategies : tuple of str
        Suggested actions, for people to review.
    traits : tuple of Trait
        Rules over the profile; at least one is required.
    priority : float, default 0.0
        From 0 to 100; ``priority / 100`` is added to the entry's matching score
        (see :mod:`custseg.explain.naming`).
    """

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
        """Human label of a feature.

        Parameters
        ----------
        feature : str
            A column name.

        Returns
        -------
        str
            The label from :attr:`labels`, else the column name in lower case with
            spaces for underscores (``"CASH_ADVANCE"`` -> ``"cash advance"``).
        """
        return self.labels.get(feature, feature.replace("_", " ").strip().lower())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for storing alongside a model)."""
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
        The validated playbook; :attr:`Playbook.source` is ``path``.

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
    """Validate a playbook given as TOML text (see :func:`load_playbook`).

    Parameters
    ----------
    text : str
        The playbook, in TOML.
    source : str, default "<string>"
        Where the text comes from; quoted in error messages and kept as
        :attr:`Playbook.source`.

    Returns
    -------
    Playbook
        The validated playbook.

    Raises
    ------
    ConfigError
        If the text is not valid TOML (the message gives the line) or an entry is
        invalid (the message names the entry and the field).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"playbook {source} is not valid TOML: {exc}; fix the syntax there"
        ) from exc
    return _Validator(source).playbook(data)


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
