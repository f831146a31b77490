"""The editable playbook: its types, loading it from TOML and validating it.

A playbook (TOML, see ``docs/playbook.md``; three ship in ``custseg/playbooks/``:
``credit_card``, ``retail`` and ``neutral``) lists the segment types a business knows,
each with trait rules over profile statistics (``lift of CASH_ADVANCE >= 2``), a
priority, a description template and strategies. It also gives human labels for column
names, groups of columns found by name patterns (``@spend`` = every ``Mnt*`` column),
the signals that tell whether a table is of its domain (``[match]``), the words the
report uses for its customers and its caveats, and the description and strategies of
segments that fit no entry.

Loading validates every field: each problem raises one :class:`ConfigError` of one line
that names the entry and the field, says what is wrong and how to fix it. Matching a
playbook to segments is the job of :mod:`custseg.explain.naming`; choosing the
playbook that fits a table is :mod:`custseg.explain.choice`.
"""

from __future__ import annotations

import functools
import math
import os
import re
import string
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .._utils.checks import is_int, is_number
from .._utils.patterns import columns_matching
from .._utils.text import readable_name
from ..exceptions import ConfigError
from ._fields import FieldChecks
from .advice import Advice, parse_advice

__all__ = [
    "Trait",
    "PlaybookEntry",
    "MatchSignal",
    "Playbook",
    "columns_matching",
    "load_playbook",
    "parse_playbook",
    "DEFAULT_WORDING",
    "GROUP_STATS",
    "MAX_NAME_LENGTH",
    "SHIPPED_PLAYBOOKS",
    "STATS",
    "OPERATORS",
]

STATS = ("mean", "median", "lift", "effect_size")
"""Profile statistics a trait can test."""
OPERATORS = (">=", "<=", ">", "<")
"""Comparison operators of traits."""
GROUP_STATS = ("lift", "effect_size")
"""Statistics a trait or a template can read of a column group (``@name``)."""
MAX_NAME_LENGTH = 60
"""Longest segment name, in characters (entry names and descriptive names)."""
SHIPPED_PLAYBOOKS = ("credit_card", "retail", "neutral")
"""The playbooks shipped with custseg (``custseg/playbooks/<key>.toml``), in the order
that breaks ties when two fit a table equally well; ``neutral`` fits any table."""

# Fields a description template may use besides ``{FEATURE.stat}``.
_TEMPLATE_STATS = (*STATS, "population_mean", "population_median")
_TEMPLATE_NAMES = ("size", "share", "name", "traits")
# Fallback strategies may also name the segment's strongest traits; a strategy whose
# field the segment lacks (no trait above average, say) is left out for that segment.
_STRATEGY_NAMES = (*_TEMPLATE_NAMES, "high", "low", "who")
_DEFAULT_FALLBACK_DESCRIPTION = "Customers distinguished by {traits}."
_DEFAULT_FALLBACK_STRATEGIES = (
    "Find out what lies behind their high {high} before designing an offer around it.",
    "Test whether an offer raises their low {low}, on a small share of the segment"
    " against a control group.",
    "Review this segment's profile with the people who know these customers before acting.",
)
DEFAULT_WORDING = {
    "customers": "customers who behave alike in this table's columns",
    "practice": "general customer-management practice",
    "review": "your organisation's policies and regulations",
}
"""The report's words when a playbook gives none of its own: ``customers`` (who the
segments are made of), ``practice`` (where strategies come from), ``review`` (what to
check them against)."""


@dataclass(frozen=True)
class Trait:
    """One rule over a profile statistic: ``stat`` of ``feature`` ``op`` ``value``.

    Attributes
    ----------
    feature : str
        Column of the profiled table, or ``@group`` for a column group of the playbook
        (the statistic is then averaged over the group's columns); an entry reading an
        absent column or a group without columns never matches.
    stat : str
        Profile statistic tested, one of :data:`STATS` (:data:`GROUP_STATS` for a
        group).
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
class MatchSignal:
    """One sign that a table belongs to a playbook's domain: columns named like these.

    Attributes
    ----------
    name : str
        What the signal is, in words ("spend by product category").
    columns : tuple of str
        Column names or patterns (``*`` and ``?``), compared without case, spaces,
        underscores or hyphens: ``"Num*Purchases"`` matches ``num_web_purchases``.
    min_columns : int, default 1
        How many of the table's columns must match for the signal to count.
    weight : float, default 1.0
        Weight of the signal in the playbook's match score.
    """

    name: str
    columns: tuple[str, ...]
    min_columns: int = 1
    weight: float = 1.0


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
    key : str
        Short id: the shipped playbook's key (``"retail"``) or the file's stem.
    domain : str
        The business the playbook speaks for ("retail"); empty for a neutral one.
    wording : dict of str to str
        Words of the report and the summary: ``customers`` (who the segments are made
        of), ``practice`` (where the strategies come from) and ``review`` (what to check
        them against).
    groups : dict of str to tuple of str
        Column groups by name: column names or patterns (see :class:`MatchSignal`);
        traits and templates read a group as ``@name``.
    signals : tuple of MatchSignal
        What a table of the playbook's domain has (``[match]``); empty for a playbook
        that does not claim a domain.
    minimum : float
        Share (weighted) of the signals a table must show for the playbook to be chosen
        for it from its columns.
    advice : Advice
        Levers, outcome strategies and guards (:mod:`custseg.explain.advice`).
    """

    name: str
    entries: tuple[PlaybookEntry, ...]
    labels: dict[str, str] = field(default_factory=dict)
    fallback_description: str = _DEFAULT_FALLBACK_DESCRIPTION
    fallback_strategies: tuple[str, ...] = _DEFAULT_FALLBACK_STRATEGIES
    source: str = "<memory>"
    key: str = ""
    domain: str = ""
    wording: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_WORDING))
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    signals: tuple[MatchSignal, ...] = ()
    minimum: float = 0.5
    advice: Advice = field(default_factory=Advice)

    def label(self, feature: str) -> str:
        """Human label of a feature.

        Parameters
        ----------
        feature : str
            A column name, or ``@group``.

        Returns
        -------
        str
            The label from :attr:`labels`, else the column name as words
            (:func:`custseg._utils.text.readable_name`: ``"CASH_ADVANCE"`` ->
            ``"cash advance"``, ``"NumStorePurchases"`` -> ``"num store purchases"``);
            a group reads as its name in words.
        """
        if feature in self.labels:
            return self.labels[feature]
        return readable_name(feature.removeprefix("@"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for storing alongside a model)."""
        return asdict(self)


def load_playbook(path: str | os.PathLike[str] | None = None) -> Playbook:
    """Read and validate a playbook.

    Parameters
    ----------
    path : str or path-like, optional
        A TOML playbook file, or the key of a shipped playbook
        (:data:`SHIPPED_PLAYBOOKS`: ``"credit_card"``, ``"retail"``, ``"neutral"``).
        A shipped key always means the shipped playbook, even when the working
        folder holds a file or folder of that name: write ``./retail`` or
        ``retail.toml`` for a local file. Default: the credit-card playbook. To
        choose the playbook that fits a table from its columns, use
        :func:`custseg.explain.choose_playbook`.

    Returns
    -------
    Playbook
        The validated playbook; :attr:`Playbook.source` is ``path`` (the file name for
        a shipped playbook).

    Raises
    ------
    ConfigError
        If the file is missing or a folder, is not valid TOML (the message gives the
        line) or an entry is invalid (the message names the entry and the field).
    """
    if path is None:
        return _shipped("credit_card")
    # A shipped key wins over a file or folder of that name in the working folder (a folder
    # `retail` made every fit fail); `./retail` or `retail.toml` still reach a local file.
    if os.fspath(path) in SHIPPED_PLAYBOOKS:
        return _shipped(os.fspath(path))
    p = Path(path)
    if p.is_dir():
        raise ConfigError(
            f"playbook file {os.fspath(path)} is a folder; pass a TOML playbook file"
            f" (see docs/playbook.md) or a shipped one: {', '.join(SHIPPED_PLAYBOOKS)}"
        )
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"playbook file {p} does not exist; pass a TOML playbook (see docs/playbook.md)"
            f" or a shipped one: {', '.join(SHIPPED_PLAYBOOKS)}"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read playbook file {p} ({exc}); pass a UTF-8 TOML file") from exc
    return parse_playbook(text, source=str(p), key=p.stem)


@functools.cache
def _shipped(key: str) -> Playbook:
    resource = resources.files("custseg").joinpath(f"playbooks/{key}.toml")
    return parse_playbook(resource.read_text(encoding="utf-8"), source=f"{key}.toml", key=key)


def parse_playbook(text: str, *, source: str = "<string>", key: str = "") -> Playbook:
    """Validate a playbook given as TOML text (see :func:`load_playbook`).

    Parameters
    ----------
    text : str
        The playbook, in TOML.
    source : str, default "<string>"
        Where the text comes from; quoted in error messages and kept as
        :attr:`Playbook.source`.
    key : str, default ""
        Short id kept as :attr:`Playbook.key`.

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
    return _Validator(source).playbook(data, key)


# --------------------------------------------------------------------------- validation

_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")
_ADVICE_TABLES = ("levers", "outcomes", "guards")


class _Validator(FieldChecks):
    """Turns parsed TOML into a Playbook, one clear error per problem."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.groups: dict[str, tuple[str, ...]] = {}

    def playbook(self, data: dict[str, Any], key: str) -> Playbook:
        self.known(
            data,
            "the file",
            {"playbook", "labels", "groups", "match", "fallback", "segments", *_ADVICE_TABLES},
        )
        head = self.table(data.get("playbook", {}), "[playbook]")
        self.known(
            head, "[playbook]", {"name", "description", "version", "domain", *DEFAULT_WORDING}
        )
        title = self.text(head.get("name", "playbook"), "[playbook].name")
        domain = self.text(head["domain"], "[playbook].domain") if "domain" in head else ""
        wording = {
            word: self.text(head.get(word, default), f"[playbook].{word}")
            for word, default in DEFAULT_WORDING.items()
        }
        labels = self.table(data.get("labels", {}), "[labels]")
        for feature, label in labels.items():
            self.text(label, f"[labels].{feature}")
        groups = self.table(data.get("groups", {}), "[groups]")
        self.groups = {
            str(name): self.patterns(patterns, f"[groups].{name}")
            for name, patterns in groups.items()
        }
        for name in self.groups:
            if not _KEY.match(name):
                raise self.fail(
                    f"[groups].{name}", "has spaces or symbols", "use letters, digits, _"
                )
        signals, minimum = self.match(self.table(data.get("match", {}), "[match]"))
        fallback = self.table(data.get("fallback", {}), "[fallback]")
        self.known(fallback, "[fallback]", {"description", "strategies"})
        fallback_description = self.template(
            fallback.get("description", _DEFAULT_FALLBACK_DESCRIPTION), "[fallback].description"
        )
        fallback_strategies = (
            self.strategies(fallback["strategies"], "[fallback].strategies", templates=True)
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
            key=key,
            domain=domain,
            wording=wording,
            groups=dict(self.groups),
            signals=signals,
            minimum=minimum,
            advice=parse_advice(data, self),
        )

    def match(self, body: dict[str, Any]) -> tuple[tuple[MatchSignal, ...], float]:
        self.known(body, "[match]", {"minimum", "signals"})
        minimum = body.get("minimum", 0.5)
        if not is_number(minimum, finite=False) or not 0 < minimum <= 1:
            raise self.fail("[match].minimum", f"is {minimum!r}", "use a share from 0 to 1")
        raw = body.get("signals", [])
        if not isinstance(raw, list):
            raise self.fail("[match].signals", "is not a list", "list signal tables")
        signals = []
        for i, value in enumerate(raw):
            where = f"[match].signals[{i}]"
            item = self.table(value, where)
            self.known(item, where, {"name", "columns", "min_columns", "weight"})
            for required in ("name", "columns"):
                if required not in item:
                    raise self.fail(where, f"has no `{required}`", f"add `{required} = ...`")
            least = item.get("min_columns", 1)
            if not is_int(least) or least < 1:
                raise self.fail(f"{where}.min_columns", f"is {least!r}", "use an integer >= 1")
            weight = item.get("weight", 1.0)
            if not is_number(weight, finite=False) or not weight > 0:
                raise self.fail(f"{where}.weight", f"is {weight!r}", "use a positive number")
            signals.append(
                MatchSignal(
                    name=self.text(item["name"], f"{where}.name"),
                    columns=self.patterns(item["columns"], f"{where}.columns"),
                    min_columns=least,
                    weight=float(weight),
                )
            )
        return tuple(signals), float(minimum)

    def entry(self, key: str, value: Any) -> PlaybookEntry:
        where = f"segments.{key}"
        if not _KEY.match(key):
            raise self.fail(where, "has a key with spaces or symbols", "use letters, digits, _")
        body = self.table(value, where)
        self.known(body, where, {"name", "description", "strategies", "traits", "priority"})
        for required in ("name", "description", "strategies", "traits"):
            if required not in body:
                raise self.fail(where, f"has no `{required}`", f"add `{required} = ...`")
        name = self.text(body["name"], f"{where}.name")
        if len(name) > MAX_NAME_LENGTH:
            raise self.fail(
                f"{where}.name",
                f"has {len(name)} characters",
                f"keep names to {MAX_NAME_LENGTH} characters at most",
            )
        priority = body.get("priority", 0)
        if not is_number(priority, finite=False):
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
            name=name,
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
        self.group_reference(feature, str(stat), f"{where}.feature")
        number = body["value"]
        if not is_number(number, finite=False):
            raise self.fail(f"{where}.value", f"is {number!r}", "use a number")
        if not math.isfinite(number):
            raise self.fail(f"{where}.value", f"is {number!r}", "use a finite number")
        weight = body.get("weight", 1.0)
        if not is_number(weight, finite=False) or not weight > 0:
            raise self.fail(f"{where}.weight", f"is {weight!r}", "use a positive number")
        required = body.get("required", True)
        if not isinstance(required, bool):
            raise self.fail(f"{where}.required", f"is {required!r}", "use true or false")
        return Trait(feature, str(stat), str(op), float(number), float(weight), required)

    def group_reference(self, feature: str, stat: str, where: str) -> None:
        """A ``@group`` must be defined in [groups] and read with a group statistic."""
        if not feature.startswith("@"):
            return
        if feature[1:] not in self.groups:
            known = ", ".join(f"@{g}" for g in self.groups) or "none is defined"
            raise self.fail(where, f"reads group {feature!r}", f"define it in [groups] ({known})")
        if stat not in GROUP_STATS:
            raise self.fail(
                where,
                f"reads {stat!r} of group {feature!r}",
                f"a group has {' and '.join(GROUP_STATS)} only; read a column for {stat}",
            )

    def strategies(self, value: Any, where: str, *, templates: bool = False) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "is empty or not a list", "list 2-3 strategies as strings")
        if len(value) > 5:
            raise self.fail(where, f"has {len(value)} strategies", "keep at most 5")
        if templates:
            return tuple(
                self.template(s, f"{where}[{i}]", names=_STRATEGY_NAMES)
                for i, s in enumerate(value)
            )
        return tuple(self.text(s, f"{where}[{i}]") for i, s in enumerate(value))

    def template(self, value: Any, where: str, *, names: tuple[str, ...] = _TEMPLATE_NAMES) -> str:
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
            if name not in names:
                feature, _, stat = name.rpartition(".")
                if not feature or stat not in _TEMPLATE_STATS:
                    raise self.fail(
                        where,
                        f"has field {{{name}}}",
                        f"use {', '.join('{' + n + '}' for n in names)} or {{FEATURE.stat}}"
                        f" with stat one of {', '.join(_TEMPLATE_STATS)}",
                    )
                self.group_reference(feature, stat, where)
            text_fields = ("name", "traits", "high", "low", "who")
            sample: Any = "x" if name in text_fields else (1 if name == "size" else 0.5)
            try:
                format(sample, spec or "")
            except ValueError as exc:
                raise self.fail(
                    where, f"has format {spec!r} in {{{name}}} ({exc})", "use e.g. :.0% or :,.0f"
                ) from exc
        return text
