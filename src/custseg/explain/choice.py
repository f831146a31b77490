"""Which playbook speaks for a table: chosen from its columns, or given by the user.

Every shipped playbook but the neutral one declares the signals of its domain in its
``[match]`` table (the credit-card playbook: balance, purchases, cash advances, credit
limit, payments; the retail one: recency, spend by product category, purchase channels,
deals and campaigns). A signal is found when enough of the table's columns match its
name patterns; a playbook's score is the weighted share of its signals found. The
playbook with the best score at or above its ``minimum`` is chosen (ties go to the
order of :data:`~custseg.explain.playbook.SHIPPED_PLAYBOOKS`); when none reaches its
minimum, the neutral playbook is chosen: it names segments from generic traits
(spend, activity, recency, tenure) found by column patterns, or from the table's own
columns, and suggests strategies that assume no business.

The choice and its evidence (:meth:`PlaybookChoice.to_dict`) are stored in the model and
shown by ``custseg fit``, ``metrics.json`` and the report.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._utils.patterns import columns_matching
from ..exceptions import ConfigError
from .playbook import SHIPPED_PLAYBOOKS, Playbook, load_playbook

__all__ = ["PlaybookChoice", "PlaybookMatch", "choose_playbook", "match_playbook"]

_NEUTRAL = "neutral"
_MAX_SHOWN_COLUMNS = 3  # columns quoted per signal in the summary line


@dataclass(frozen=True)
class PlaybookMatch:
    """How well a table's columns fit a playbook's ``[match]`` signals.

    Attributes
    ----------
    key : str
        The playbook's key.
    name : str
        The playbook's name.
    score : float
        Weighted share of the signals found (0 when the playbook declares none).
    minimum : float
        The share the playbook asks for.
    found : tuple of (str, tuple of str)
        Each signal found, with the columns that showed it.
    missing : tuple of str
        The signals not found.
    """

    key: str
    name: str
    score: float
    minimum: float
    found: tuple[tuple[str, tuple[str, ...]], ...]
    missing: tuple[str, ...]

    @property
    def fits(self) -> bool:
        """Whether the playbook claims a domain and the table shows enough of it."""
        return bool(self.found or self.missing) and self.score >= self.minimum

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "key": self.key,
            "name": self.name,
            "score": round(self.score, 4),
            "minimum": self.minimum,
            "fits": self.fits,
            "found": [{"signal": s, "columns": list(c)} for s, c in self.found],
            "missing": list(self.missing),
        }


def match_playbook(playbook: Playbook, columns: Iterable[str]) -> PlaybookMatch:
    """Measure how well ``columns`` show the signals of ``playbook``'s domain.

    Parameters
    ----------
    playbook : Playbook
        A playbook; one without ``[match]`` signals scores 0 and never fits.
    columns : iterable of str
        The table's column names.

    Returns
    -------
    PlaybookMatch
        The score and, per signal, the columns that showed it.
    """
    names = [str(c) for c in columns]
    found: list[tuple[str, tuple[str, ...]]] = []
    missing: list[str] = []
    total = weight = 0.0
    for signal in playbook.signals:
        matched = columns_matching(signal.columns, names)
        total += signal.weight
        if len(matched) >= signal.min_columns:
            found.append((signal.name, tuple(matched)))
            weight += signal.weight
        else:
            missing.append(signal.name)
    return PlaybookMatch(
        key=playbook.key,
        name=playbook.name,
        score=weight / total if total else 0.0,
        minimum=playbook.minimum,
        found=tuple(found),
        missing=tuple(missing),
    )


@dataclass(frozen=True)
class PlaybookChoice:
    """The playbook that names a table's segments, and why.

    Attributes
    ----------
    playbook : Playbook
        The chosen playbook.
    chosen_by : str
        ``"columns"`` (chosen from the table's columns) or ``"user"`` (given).
    match : PlaybookMatch
        How the table's columns fit the chosen playbook.
    candidates : tuple of PlaybookMatch
        Every shipped domain playbook measured on the table (empty when given).
    """

    playbook: Playbook
    chosen_by: str
    match: PlaybookMatch
    candidates: tuple[PlaybookMatch, ...] = ()

    def summary(self) -> str:
        """One sentence: which playbook, how it was chosen and on which columns."""
        name = f"{self.playbook.name} playbook"
        if self.chosen_by == "user":
            head = f"{name} ({self.playbook.source}), chosen by the user"
            if self.match.found or self.match.missing:
                head += f"; the columns show {_signals(self.match)}"
            return head + "."
        if self.match.fits:
            return f"{name}, chosen from the columns: {_signals(self.match)}."
        others = ", ".join(
            f"{m.name} {len(m.found)} of {len(m.found) + len(m.missing)} signals"
            for m in self.candidates
        )
        return (
            f"{name}: no domain playbook fits the columns ({others}); segments are named"
            " after generic traits (spend, activity, recency, tenure) or the table's own"
            " columns."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in the model as ``SegmentationModel.playbook``."""
        return {
            "key": self.playbook.key,
            "name": self.playbook.name,
            "domain": self.playbook.domain,
            "source": self.playbook.source,
            "chosen_by": self.chosen_by,
            "summary": self.summary(),
            "wording": dict(self.playbook.wording),
            "match": self.match.to_dict(),
            "candidates": [m.to_dict() for m in self.candidates],
        }


def _signals(match: PlaybookMatch) -> str:
    n_signals = len(match.found) + len(match.missing)
    shown = []
    for signal, columns in match.found:
        listed = ", ".join(columns[:_MAX_SHOWN_COLUMNS])
        more = len(columns) - _MAX_SHOWN_COLUMNS
        shown.append(f"{signal} ({listed}{f' +{more}' if more > 0 else ''})")
    text = f"{len(match.found)} of {n_signals} signals"
    return text + (": " + "; ".join(shown) if shown else "")


def choose_playbook(
    columns: Iterable[str], playbook: Playbook | str | os.PathLike[str] | None = None
) -> PlaybookChoice:
    """Choose the playbook that names a table's segments.

    Parameters
    ----------
    columns : iterable of str
        The table's column names.
    playbook : Playbook, str or path-like, optional
        A playbook given by the user: a :class:`Playbook`, a TOML file or the key of a
        shipped playbook. ``None`` (default) chooses among the shipped playbooks from
        the columns (see the module documentation).

    Returns
    -------
    PlaybookChoice
        The playbook, how it was chosen and the match of every candidate.

    Raises
    ------
    ConfigError
        If ``playbook`` is a file that is missing or not a valid playbook, or is
        neither a playbook nor a path.
    """
    names = [str(c) for c in columns]
    if playbook is not None:
        if isinstance(playbook, (str, os.PathLike)):
            playbook = load_playbook(playbook)
        if not isinstance(playbook, Playbook):
            raise ConfigError(
                f"playbook should be a Playbook, a TOML file or one of"
                f" {', '.join(SHIPPED_PLAYBOOKS)}; got {type(playbook).__name__}"
            )
        return PlaybookChoice(playbook, "user", match_playbook(playbook, names))
    domains = [load_playbook(key) for key in SHIPPED_PLAYBOOKS if key != _NEUTRAL]
    matches = [match_playbook(p, names) for p in domains]
    fitting = [i for i, m in enumerate(matches) if m.fits]
    if fitting:
        # max() keeps the first of equal scores: the order of SHIPPED_PLAYBOOKS.
        best = max(fitting, key=lambda i: matches[i].score)
        return PlaybookChoice(domains[best], "columns", matches[best], tuple(matches))
    neutral = load_playbook(_NEUTRAL)
    return PlaybookChoice(neutral, "columns", match_playbook(neutral, names), tuple(matches))
