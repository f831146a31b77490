"""Per-segment profiles of categorical columns: the share of every level, its lift.

Numeric columns are profiled by their means (:mod:`custseg.explain.profiles`); a
categorical column (a contract type, an internet service, a gender, an attrition flag)
is profiled by the share of each of its levels. For segment ``g``, column ``c`` and
level ``v``:

- ``share`` is the share of the segment's customers holding ``v`` (gaps count as the
  level ``"(missing)"``, so that the shares of a column sum to 1 in every segment);
- ``population_share`` is the same share among all customers;
- ``lift`` is ``share / population_share``;
- ``effect_size`` is Cohen's d of the level's 0/1 indicator between the segment and
  the rest of the customers, computed exactly as :mod:`~custseg.explain.profiles`
  computes it for a numeric column (pooled standard deviation; the population one
  when both sides are constant): a level and a numeric column are compared on one
  scale when traits and names are chosen.

Only the :data:`TOP_LEVELS` most frequent levels of a column (among all customers) are
kept; the others are counted together as :data:`OTHER_LEVEL`.

A level is **decisive** for a segment when it is what sets the segment apart: at least
:data:`DECISIVE_SHARE` (60%) of the segment holds it and its lift is at least
:data:`DECISIVE_LIFT` (1.5: half as frequent again as among all customers).
``"Other"`` and ``"(missing)"`` are never decisive. Decisive levels of clustered and
descriptor columns are candidates for traits and names
(:func:`custseg.explain.name_segments`); those of outcome columns are reported only.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._utils.io import atomic_path
from .._utils.text import display_name, neutralise_formulas
from ..exceptions import DataError, SchemaError
from ._inputs import reading, validate_labels

__all__ = [
    "DECISIVE_LIFT",
    "DECISIVE_SHARE",
    "LEVEL_COLUMNS",
    "LevelProfiles",
    "MISSING_LEVEL",
    "OTHER_LEVEL",
    "TOP_LEVELS",
    "level_phrase",
    "level_roles",
    "profile_levels",
]

TOP_LEVELS = 8
"""Levels kept per column, the most frequent first; the rest are grouped as ``"Other"``."""
OTHER_LEVEL = "Other"
"""The level that stands for every level beyond the :data:`TOP_LEVELS` most frequent."""
MISSING_LEVEL = "(missing)"
"""The level of customers without a value in the column."""
DECISIVE_SHARE = 0.6
"""Smallest share of a segment holding a level for the level to be decisive."""
DECISIVE_LIFT = 1.5
"""Smallest lift (segment share / population share) of a decisive level."""

LEVEL_COLUMNS = [
    "segment_id",
    "feature",
    "level",
    "share",
    "population_share",
    "lift",
    "effect_size",
    "role",
    "decisive",
]
"""Columns of :attr:`LevelProfiles.table`, in order."""

_ROLES = ("categorical", "descriptor", "outcome")
# Levels that need their column to mean anything: "Yes" alone says nothing.
_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0"})
_NUMBER_WORDS = frozenset(
    [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "less",
        "more",
        "than",
    ]
)


@dataclass(frozen=True)
class LevelProfiles:
    """Level shares of every categorical column in every segment.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per segment, column and level, columns :data:`LEVEL_COLUMNS`; within a
        segment and a column, levels come in population order (most frequent first,
        ``"Other"`` and ``"(missing)"`` last).
    roles : dict of str to str
        Role of every profiled column: ``"categorical"`` (clustered), ``"descriptor"``
        or ``"outcome"``.
    segment_ids : list of int
        The profiled segments.
    """

    table: pd.DataFrame
    roles: dict[str, str]
    segment_ids: list[int]

    @property
    def features(self) -> list[str]:
        """Profiled columns, in table order."""
        return list(self.roles)

    def segment(self, segment_id: int) -> pd.DataFrame:
        """Rows of :attr:`table` for one segment (empty when it is not profiled)."""
        return self.table[self.table["segment_id"] == segment_id]

    def decisive(self, segment_id: int) -> pd.DataFrame:
        """The decisive levels of a segment, the largest effect size first."""
        rows = self.segment(segment_id)
        rows = rows[rows["decisive"]]
        return rows.sort_values("effect_size", ascending=False, kind="stable")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (round-trips through :meth:`from_dict`).

        ``{"columns": {name: {"role": ..., "levels": [...], "population": [...]}},
        "segments": [{"id": int, "shares": {name: [...]}, "effect_sizes": {name:
        [...]}}], "decisive": {"share": 0.6, "lift": 1.5}}``: shares and effect sizes
        follow the order of the column's ``levels`` (``None`` where undefined).
        """
        columns: dict[str, Any] = {}
        segments: list[dict[str, Any]] = [
            {"id": sid, "shares": {}, "effect_sizes": {}} for sid in self.segment_ids
        ]
        for feature, rows in self.table.groupby("feature", sort=False):
            first = rows[rows["segment_id"] == self.segment_ids[0]]
            name = str(feature)
            columns[name] = {
                "role": self.roles[name],
                "levels": [str(v) for v in first["level"]],
                "population": [_num(v) for v in first["population_share"]],
            }
            for entry in segments:
                mine = rows[rows["segment_id"] == entry["id"]]
                entry["shares"][name] = [_num(v) for v in mine["share"]]
                entry["effect_sizes"][name] = [_num(v) for v in mine["effect_size"]]
        return {
            "columns": columns,
            "segments": segments,
            "decisive": {"share": DECISIVE_SHARE, "lift": DECISIVE_LIFT},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LevelProfiles:
        """Rebuild level profiles from :meth:`to_dict` output (a model's ``profiles.levels``).

        Raises
        ------
        DataError
            If the dictionary does not have the fields written by :meth:`to_dict`.
        """
        rows: list[dict[str, Any]] = []
        with reading("level profile", "LevelProfiles.to_dict()"):
            roles = {str(name): str(c["role"]) for name, c in data["columns"].items()}
            ids = [int(s["id"]) for s in data["segments"]]
            for seg in data["segments"]:
                for name, column in data["columns"].items():
                    shares = seg["shares"][name]
                    effects = seg["effect_sizes"][name]
                    for level, pop, share, effect in zip(
                        column["levels"], column["population"], shares, effects, strict=True
                    ):
                        rows.append(
                            _row(int(seg["id"]), name, level, _nan(share), _nan(pop), _nan(effect))
                        )
            for row in rows:
                row["role"] = roles[row["feature"]]
        return cls(
            table=_typed(pd.DataFrame(rows, columns=LEVEL_COLUMNS)), roles=roles, segment_ids=ids
        )

    def write_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write :attr:`table` as CSV, atomically (names that look like formulas quoted)."""
        with atomic_path(path) as tmp:
            neutralise_formulas(self.table).to_csv(tmp, index=False)
        return Path(path)


def profile_levels(
    frame: pd.DataFrame,
    labels: Sequence[int] | np.ndarray | pd.Series,
    *,
    columns: Mapping[str, str] | Sequence[str],
    top_levels: int = TOP_LEVELS,
) -> LevelProfiles:
    """Profile the levels of categorical columns in every segment.

    Parameters
    ----------
    frame : pandas.DataFrame
        Customers, one row per customer, holding the columns to profile.
    labels : array-like of int
        Segment of each row of ``frame``.
    columns : mapping of str to str, or sequence of str
        Columns to profile, with their role (``"categorical"``, ``"descriptor"`` or
        ``"outcome"``); a plain list profiles them as ``"categorical"``. An empty one
        gives empty profiles.
    top_levels : int, default 8
        Levels kept per column (most frequent first); the others count as ``"Other"``.

    Returns
    -------
    LevelProfiles
        One row per segment, column and level; ``to_dict()`` is JSON-ready.

    Raises
    ------
    DataError
        If ``labels`` do not match ``frame`` or ``top_levels`` is below 1.
    SchemaError
        If a column is missing or a role unknown.
    """
    roles = dict(columns) if isinstance(columns, Mapping) else dict.fromkeys(columns, "categorical")
    if not isinstance(top_levels, int) or top_levels < 1:
        raise DataError(f"top_levels={top_levels!r} should be an integer >= 1; e.g. 8")
    missing = [c for c in roles if c not in frame.columns]
    if missing:
        raise SchemaError(f"columns {missing} are not in the table; profile columns it has")
    unknown = {r for r in roles.values() if r not in _ROLES}
    if unknown:
        raise SchemaError(f"roles {sorted(unknown)} are not level roles; use one of {_ROLES}")
    codes = validate_labels(labels, len(frame))
    ids, inverse = np.unique(codes, return_inverse=True)
    rows: list[dict[str, Any]] = []
    for name, role in roles.items():
        for row in _column_rows(frame[name], inverse, ids, top_levels):
            rows.append({**row, "feature": name, "role": role})
    table = _typed(pd.DataFrame(rows)) if rows else _typed(pd.DataFrame(columns=LEVEL_COLUMNS))
    # By segment, then column, then level: the order of the numeric profiles.
    table = table.sort_values("segment_id", kind="stable").reset_index(drop=True)
    return LevelProfiles(table=table, roles=roles, segment_ids=[int(i) for i in ids])


_FEW_LEVELS = 12


def level_roles(columns: Iterable[tuple[str, str]], frame: pd.DataFrame) -> dict[str, str]:
    """The columns profiled by level, with their role.

    Parameters
    ----------
    columns : iterable of (str, str)
        ``(name, role)`` of every column of the table (a schema's columns).
    frame : pandas.DataFrame
        The customers, with the columns by name (those absent are skipped).

    Returns
    -------
    dict of str to str
        Every categorical column; descriptor columns holding text or at most 12
        distinct values (gender, income band, a senior flag; not an age); outcome
        columns holding text (``Churn`` Yes/No, ``Attrition_Flag``), in table order.
    """
    out: dict[str, str] = {}
    for name, role in columns:
        if role not in _ROLES or name not in frame.columns:
            continue
        series = frame[name]
        text = not pd.api.types.is_numeric_dtype(series.dtype)
        if role == "descriptor" and not text:
            text = series.nunique(dropna=True) <= _FEW_LEVELS
        if role == "categorical" or text:
            out[name] = role
    return out


def level_phrase(label: str, level: str, *, in_name: bool = False) -> str:
    """A level in the table's own words, with its column when the level alone is unclear.

    Parameters
    ----------
    label : str
        The column as words (``"paperless billing"``, ``"contract"``).
    level : str
        The level's text.
    in_name : bool, default False
        Phrase it for a segment name rather than a trait.

    Returns
    -------
    str
        The column for a yes-like level (``"paperless billing"``), ``"no"`` and the
        column for a no-like one (``"no online security"``); the level alone when it
        says what it is (two words or more without numbers, or a word of the column:
        ``"Fiber optic"``, ``"No internet service"``); else ``"Contract:
        Month-to-month"`` (``"Month-to-month contract"`` in a name).
    """
    key = level.strip().casefold()
    if key in _YES:
        return label
    if key in _NO:
        return f"no {label}"
    words = level.split()
    label_words = {w.casefold() for w in label.split()}
    # "Fiber optic" says what it is; "One year", "$40K - $60K" need their column.
    says_what = len(words) >= 2 and not any(
        w.casefold() in _NUMBER_WORDS or any(ch.isdigit() for ch in w) for w in words
    )
    if says_what or label_words & {w.casefold() for w in words}:
        return level
    if in_name:
        return f"{level} {label}"
    return f"{label[:1].upper() + label[1:]}: {level}"


def _column_rows(
    series: pd.Series, inverse: np.ndarray, ids: np.ndarray, top_levels: int
) -> list[dict[str, Any]]:
    levels = _level_texts(series)
    counts = levels.value_counts(sort=True)
    special = [lv for lv in (MISSING_LEVEL,) if lv in counts.index]
    ordinary = [str(lv) for lv in counts.index if lv not in special]
    if len(ordinary) > top_levels + 1:
        kept = ordinary[:top_levels]
        other = OTHER_LEVEL if OTHER_LEVEL not in kept else f"{OTHER_LEVEL} levels"
        levels = levels.where(levels.isin(kept + special), other)
        ordinary = [*kept, other]
    order = [*ordinary, *special]
    codes = pd.Categorical(levels, categories=order).codes
    k, n_levels = len(ids), len(order)
    # One count per (segment, level) pair.
    table = np.bincount(inverse * n_levels + codes, minlength=k * n_levels).reshape(k, n_levels)
    sizes = table.sum(axis=1).astype(np.float64)
    total = float(sizes.sum())
    share = table / sizes[:, None]
    pop = table.sum(axis=0) / total
    effect = _indicator_effects(table.astype(np.float64), sizes, total, pop)
    return [
        _row(int(ids[g]), "", order[j], share[g, j], pop[j], effect[g, j])
        for g in range(k)
        for j in range(n_levels)
    ]


def _indicator_effects(
    counts: np.ndarray, sizes: np.ndarray, total: float, pop: np.ndarray
) -> np.ndarray:
    """Cohen's d of each level's 0/1 indicator, segment against the rest (NaN: undefined)."""
    n_g = sizes[:, None]
    n_r = total - n_g
    with np.errstate(invalid="ignore", divide="ignore"):
        p_g = counts / n_g
        p_r = (pop * total - counts) / n_r
        # Sums of squares of a 0/1 variable: n p (1 - p) on each side.
        pooled = np.sqrt((n_g * p_g * (1 - p_g) + n_r * p_r * (1 - p_r)) / (total - 2))
        diff = p_g - p_r
        pop_sd = np.sqrt(pop * (1 - pop))
        defined = (n_g >= 2) & (n_r >= 2) & (pooled > 1e-9)
        pure = (n_g >= 2) & (n_r >= 2) & ~defined & (np.abs(diff) > 1e-12) & (pop_sd > 0)
        scale = np.where(defined, pooled, np.where(pure, pop_sd, 1.0))
        return np.where(defined | pure, diff / scale, np.nan)


def _level_texts(series: pd.Series) -> pd.Series:
    """Values as level texts: ``3.0`` reads ``3``, gaps read ``"(missing)"``."""

    def text(value: Any) -> str:
        if isinstance(value, float | np.floating) and float(value).is_integer():
            return str(int(value))
        return display_name(value).strip()

    texts = [text(v) if present else "" for v, present in zip(series, series.notna(), strict=True)]
    return pd.Series([t or MISSING_LEVEL for t in texts], index=series.index, dtype=object)


def _row(sid: int, feature: str, level: str, share: float, pop: float, effect: float) -> dict:
    lift = share / pop if pop > 0 else math.nan
    decisive = (
        level not in (OTHER_LEVEL, MISSING_LEVEL)
        and share >= DECISIVE_SHARE
        and math.isfinite(lift)
        and lift >= DECISIVE_LIFT
    )
    return {
        "segment_id": sid,
        "feature": feature,
        "level": level,
        "share": float(share),
        "population_share": float(pop),
        "lift": float(lift),
        "effect_size": float(effect),
        "decisive": bool(decisive),
    }


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    return table.astype(
        {
            "segment_id": "int64",
            "feature": "object",
            "level": "object",
            "share": "float64",
            "population_share": "float64",
            "lift": "float64",
            "effect_size": "float64",
            "role": "object",
            "decisive": "bool",
        }
    )[LEVEL_COLUMNS].reset_index(drop=True)


def _num(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)
