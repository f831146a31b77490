"""Columns that encode one fact: found once, clustered once.

Customer tables often say one thing several times. A telecom's six add-on columns each
have a ``"No internet service"`` level that holds exactly when ``InternetService = No``;
a card table keeps ``Avg_Open_To_Buy`` beside ``Credit_Limit`` (they correlate at 0.99)
and ``PURCHASES`` beside its parts ``ONEOFF_PURCHASES + INSTALLMENTS_PURCHASES``.
Clustered as they come, the repeated fact counts several times in the distances and
pulls the segments around it. :func:`find_redundancy` finds three kinds of groups on the
training rows, in this order:

1. **levels**: one-hot levels of different categorical columns that hold on exactly the
   same rows. The level kept is the one whose text is its own (``InternetService =
   No``; ``"No internet service"``, repeated in six columns, is a "not applicable"
   mark), then the column with the fewest levels, then the first in the table. The
   other columns lose that level's indicator and keep their other levels (a dropped
   level scores all-zero, see :class:`~custseg.prepare.steps.CategoricalStep`); a
   column left without any level is profiled only.
2. **correlated**: numeric columns whose prepared values (after imputation and the
   log or Yeo-Johnson transform: what K-means measures) correlate at ``|r| >= 0.95``
   (Pearson). The column kept is the total of a sum found in step 3 (``Credit_Limit =
   Avg_Open_To_Buy + Total_Revolving_Bal``: the headline figure), else the one with
   fewer gaps, else the first in the table.
3. **sum**: a numeric column equal to the sum of two others on at least 99% of the
   rows where all three are present (``PURCHASES = ONEOFF_PURCHASES +
   INSTALLMENTS_PURCHASES``; a difference ``a = t - b`` is the sum ``t = a + b``),
   unless one of the three is already set aside. The parts are kept and the total is
   profiled: each part says how customers spend, and the total is their sum.
   Products (``TotalCharges ≈ tenure × MonthlyCharges``) are not looked for: they are
   not a repeated direction of the prepared space.

A numeric column set aside keeps its place among the plan's inputs (it is profiled,
scoring still reads it) but gets no preparation step, so it is not clustered.
``PrepConfig(keep_redundant=True)`` keeps every column; the groups are still reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from .steps import (
    MISSING_LEVEL,
    OTHER_LEVEL,
    CategoricalStep,
    NumericStep,
    apply_numeric_into,
    category_codes,
)

__all__ = [
    "CORRELATION_THRESHOLD",
    "SUM_SHARE",
    "Member",
    "RedundancyGroup",
    "find_redundancy",
    "set_aside",
    "set_aside_reasons",
]

CORRELATION_THRESHOLD = 0.95
"""``|r|`` (Pearson, prepared scale) from which two numeric columns say the same thing."""
SUM_SHARE = 0.99
"""Share of rows on which ``total = a + b`` must hold (exports round a few cents away)."""
_ROWS = 20_000
"""Rows the groups are looked for on (an evenly strided subset): deterministic, fast."""
_MAX_SUM_COLUMNS = 60
"""Sums are looked for among at most this many numeric columns (p**3 / 2 triples)."""
_ABS_TOLERANCE = 0.01
"""A sum holds on a row within a cent (amounts exported with two decimals)."""

Kind = Literal["levels", "correlated", "sum"]


@dataclass(frozen=True)
class Member:
    """A column, or one level of a categorical column, in a redundancy group."""

    column: str
    level: str | None = None

    def text(self) -> str:
        return self.column if self.level is None else f"{self.column} = {self.level}"


@dataclass(frozen=True)
class RedundancyGroup:
    """Columns that encode one fact: ``kept`` are clustered, ``repeats`` are set aside.

    Attributes
    ----------
    kind : {"levels", "correlated", "sum"}
        How the group was found (see the module docstring).
    kept : tuple of Member
        What stays clustered: one level or column, or the parts of a sum.
    repeats : tuple of Member
        What repeats it: dropped levels, or numeric columns profiled only.
    evidence : str
        The measure, in words (``"r = 0.99 on the prepared scale"``).
    applied : bool
        ``False`` when every column was kept (``keep_redundant=True``).
    formula : str or None
        The relation of a sum (``"PURCHASES = ONEOFF_PURCHASES + INSTALLMENTS_PURCHASES"``,
        ``"Avg_Open_To_Buy = Credit_Limit - Total_Revolving_Bal"``).
    """

    kind: Kind
    kept: tuple[Member, ...]
    repeats: tuple[Member, ...]
    evidence: str
    applied: bool = True
    formula: str | None = None

    @property
    def columns(self) -> list[str]:
        """Every column of the group, the kept ones first."""
        return list(dict.fromkeys(m.column for m in (*self.kept, *self.repeats)))

    def message(self) -> str:
        """One sentence naming the group and what is clustered."""
        n = len(self.columns)
        kept = " and ".join(m.text() for m in self.kept)
        aside = ", ".join(m.column for m in self.repeats)
        if self.kind == "levels" and len(self.kept) > 1:
            # Every level of the other columns repeats one of the kept column's.
            lead = self.kept[0].column
            head = f"{', '.join(self.columns)} ({n} columns) say the same thing (each level"
            head += f" of {aside_columns(self)} holds exactly when one of {lead} does)"
            done = f"clustered once as {lead}; {aside_columns(self)} profiled, not clustered"
        elif self.kind == "levels":
            said = f"{self.kept[0].text()} and {_levels_text(self.repeats)}"
            head = f"{said} ({n} columns) say the same thing"
            done = f"clustered once as {kept}; the other columns keep their other levels"
        elif self.kind == "sum":
            verb = "say" if len(self.kept) > 1 else "says"
            head = f"{self.formula} ({self.evidence}), so {aside} repeats what {kept} {verb}"
            done = f"clustered as {kept}; {aside} profiled, not clustered"
        else:
            head = f"{', '.join(self.columns)} ({n} columns) say the same thing ({self.evidence})"
            done = f"clustered once as {kept}; {aside} profiled, not clustered"
        if not self.applied:
            done = "every column kept as asked (keep_redundant)"
        return f"{head}: {done}"

    def reason(self) -> str:
        """Why a member is set aside, for the plan's decisions."""
        kept = " and ".join(m.text() for m in self.kept)
        verb = "are" if len(self.kept) > 1 else "is"
        if self.kind == "levels" and len(self.kept) > 1:
            lead = self.kept[0].column
            return (
                f"each of its levels holds exactly when one of {lead}'s does; {lead} is"
                " clustered; keep_redundant=True clusters it too"
            )
        if self.kind == "levels":
            return f"it holds exactly when {kept}, which {verb} clustered; the other levels are"
        fact = self.formula if self.kind == "sum" else f"{self.evidence} with {kept}"
        return f"{fact}; {kept} {verb} clustered; keep_redundant=True clusters it too"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "kept": [_member_dict(m) for m in self.kept],
            "repeats": [_member_dict(m) for m in self.repeats],
            "evidence": self.evidence,
            "applied": self.applied,
            "formula": self.formula,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RedundancyGroup:
        """Rebuild a group written by :meth:`to_dict` (raises ``KeyError``/``ValueError``)."""
        kind = str(data["kind"])
        if kind not in ("levels", "correlated", "sum"):
            raise ValueError(f"unknown redundancy kind {kind!r}")
        return cls(
            kind,  # type: ignore[arg-type]
            tuple(_member(m) for m in data["kept"]),
            tuple(_member(m) for m in data["repeats"]),
            str(data["evidence"]),
            bool(data["applied"]),
            None if data.get("formula") is None else str(data["formula"]),
        )


def aside_columns(group: RedundancyGroup) -> str:
    """The set-aside columns of a group, once each."""
    return ", ".join(dict.fromkeys(m.column for m in group.repeats))


def _member_dict(m: Member) -> dict[str, Any]:
    return {"column": m.column, "level": m.level}


def _member(d: Mapping[str, Any]) -> Member:
    level = d.get("level")
    return Member(str(d["column"]), None if level is None else str(level))


def _levels_text(members: Sequence[Member]) -> str:
    """``the level 'No internet service' of OnlineSecurity, OnlineBackup``."""
    by_level: dict[str, list[str]] = {}
    for m in members:
        by_level.setdefault(str(m.level), []).append(m.column)
    parts = [f"the level '{level}' of {', '.join(cols)}" for level, cols in by_level.items()]
    return " and ".join(parts)


# ---------------------------------------------------------------------- finding


def find_redundancy(
    columns: Mapping[str, np.ndarray],
    numeric_steps: Sequence[NumericStep],
    categorical_steps: Sequence[CategoricalStep],
    order: Sequence[str],
) -> list[RedundancyGroup]:
    """The groups of columns that encode one fact (see the module docstring).

    Parameters
    ----------
    columns : mapping of str to numpy.ndarray
        Training values of every stepped column: float64 with NaN for gaps (numeric),
        object (categorical).
    numeric_steps, categorical_steps : sequence
        The fitted steps (the numeric ones give the prepared scale).
    order : sequence of str
        The table's column order (ties are broken by it).

    Returns
    -------
    list of RedundancyGroup
        Level groups, then correlated groups, then sums.
    """
    position = {name: i for i, name in enumerate(order)}
    n = len(next(iter(columns.values()))) if columns else 0
    rows = np.arange(0, n, max(1, n // _ROWS)) if n else np.arange(0)
    groups = _level_groups(columns, categorical_steps, rows, position)
    numeric = [s for s in numeric_steps if s.column in columns]
    sums = _sums(columns, [s.column for s in numeric], rows)
    groups += _correlated_groups(columns, numeric, rows, position, sums)
    aside = {m.column for g in groups for m in g.repeats if m.level is None}
    for total, a, b, share in sums:
        if not {total, a, b} & aside:
            group = _sum_group(columns, rows, total, a, b, share)
            groups.append(group)
            aside.add(group.repeats[0].column)
    return groups


def _sum_group(
    columns: Mapping[str, np.ndarray], rows: np.ndarray, total: str, a: str, b: str, share: float
) -> RedundancyGroup:
    """``total = a + b``: the total is set aside, unless a part repeats it (raw ``r >= 0.95``).

    The parts say how customers spend (one-off or instalment purchases) and the total
    is their sum. But when one part follows the total (most of a credit limit is open
    to buy), that part is the copy: the total, the headline figure, and the other part
    are clustered.
    """
    where = f"on {share:.1%} of rows" if share < 1 else "on every row"
    values = {name: columns[name][rows] for name in (total, a, b)}
    both = ~(np.isnan(values[total]) | np.isnan(values[a]) | np.isnan(values[b]))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = {p: float(np.corrcoef(values[total][both], values[p][both])[0, 1]) for p in (a, b)}
    part = max((a, b), key=lambda p: abs(r[p]) if np.isfinite(r[p]) else 0.0)
    if np.isfinite(r[part]) and abs(r[part]) >= CORRELATION_THRESHOLD:
        other = b if part == a else a
        evidence = f"{where}; {part} follows {total} at r = {r[part]:.2f}"
        formula = f"{part} = {total} - {other}"
        return RedundancyGroup(
            "sum", (Member(total), Member(other)), (Member(part),), evidence, formula=formula
        )
    formula = f"{total} = {a} + {b}"
    return RedundancyGroup("sum", (Member(a), Member(b)), (Member(total),), where, formula=formula)


def _level_groups(
    columns: Mapping[str, np.ndarray],
    steps: Sequence[CategoricalStep],
    rows: np.ndarray,
    position: Mapping[str, int],
) -> list[RedundancyGroup]:
    """Levels of different columns that hold on exactly the same rows."""
    masks: dict[bytes, list[tuple[Member, int]]] = {}
    for step in steps:
        codes = category_codes(columns[step.column][rows], step)
        for j, level in enumerate(step.levels):
            if level in (MISSING_LEVEL, OTHER_LEVEL):
                continue
            mask = codes == j
            if not mask.any() or mask.all():
                continue
            masks.setdefault(np.packbits(mask).tobytes(), []).append(
                (Member(step.column, level), len(step.levels))
            )
    # Check the coincidence on every row (the masks were compared on the subset).
    groups = []
    for members in masks.values():
        if len({m.column for m, _ in members}) < 2:
            continue
        texts = [m.level for m, _ in members]
        ranked = sorted(
            members,
            key=lambda item: (
                texts.count(item[0].level),
                item[1],
                position.get(item[0].column, len(position)),
            ),
        )
        kept = ranked[0][0]
        same = _same_rows(columns, steps, kept, [m for m, _ in ranked[1:]])
        if same:
            groups.append(RedundancyGroup("levels", (kept,), tuple(same), "on every row"))
    return _merged(groups, position)


def _merged(groups: list[RedundancyGroup], position: Mapping[str, int]) -> list[RedundancyGroup]:
    """One group for columns that repeat each other level for level (``A = B``): the
    first of them in the table is kept."""
    by_columns: dict[tuple[str, frozenset[str]], list[RedundancyGroup]] = {}
    for group in groups:
        key = (group.kept[0].column, frozenset(m.column for m in group.repeats))
        by_columns.setdefault(key, []).append(group)
    out = []
    for same in by_columns.values():
        if len(same) == 1:
            out.append(same[0])
            continue
        members = [m for g in same for m in (*g.kept, *g.repeats)]
        lead = min((m.column for m in members), key=lambda c: position.get(c, len(position)))
        kept = tuple(m for m in members if m.column == lead)
        repeats = tuple(
            sorted(
                (m for m in members if m.column != lead),
                key=lambda m: position.get(m.column, len(position)),
            )
        )
        out.append(RedundancyGroup("levels", kept, repeats, "on every row"))
    return out


def _same_rows(
    columns: Mapping[str, np.ndarray],
    steps: Sequence[CategoricalStep],
    kept: Member,
    others: list[Member],
) -> list[Member]:
    by_column = {s.column: s for s in steps}

    def mask(m: Member) -> np.ndarray:
        step = by_column[m.column]
        assert m.level is not None
        return category_codes(columns[m.column], step) == step.levels.index(m.level)

    reference = mask(kept)
    return [m for m in others if m.column != kept.column and np.array_equal(mask(m), reference)]


def _prepared(values: np.ndarray, step: NumericStep) -> np.ndarray:
    out = np.empty(values.shape[0], dtype=np.float64)
    gaps = np.isnan(values)
    apply_numeric_into(out, values, gaps if gaps.any() else None, step)
    return out


def _correlated_groups(
    columns: Mapping[str, np.ndarray],
    steps: Sequence[NumericStep],
    rows: np.ndarray,
    position: Mapping[str, int],
    sums: Sequence[tuple[str, str, str, float]],
) -> list[RedundancyGroup]:
    """Numeric columns at ``|r| >= 0.95`` with a kept column, on the prepared scale."""
    if len(steps) < 2 or rows.size < 3:
        return []
    prepared = np.vstack([_prepared(columns[s.column][rows], s) for s in steps])
    spread = prepared.std(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.corrcoef(prepared)
    r[~np.isfinite(r)] = 0.0
    names = [s.column for s in steps]
    totals = {total: {a, b} for total, a, b, _ in sums}
    gaps = {name: int(np.isnan(columns[name]).sum()) for name in names}

    def rank(i: int) -> tuple[int, int, int]:
        name = names[i]
        is_total = any(name in totals and names[j] in totals[name] for j in close[i])
        return (0 if is_total else 1, gaps[name], position.get(name, len(position)))

    close = {
        i: [j for j in range(len(names)) if j != i and abs(r[i, j]) >= CORRELATION_THRESHOLD]
        for i in range(len(names))
        if spread[i] > 0
    }
    groups, assigned = [], set()
    for i in sorted((i for i in close if close[i]), key=rank):
        if i in assigned:
            continue
        repeats = [j for j in close[i] if j not in assigned and spread[j] > 0]
        if not repeats:
            continue
        assigned.update([i, *repeats])
        low = min(abs(r[i, j]) for j in repeats)
        evidence = f"|r| {'>= ' if len(repeats) > 1 else '= '}{low:.2f} on the prepared scale"
        groups.append(
            RedundancyGroup(
                "correlated",
                (Member(names[i]),),
                tuple(Member(names[j]) for j in repeats),
                evidence,
            )
        )
    return groups


def _sums(
    columns: Mapping[str, np.ndarray], names: Sequence[str], rows: np.ndarray
) -> list[tuple[str, str, str, float]]:
    """``(total, a, b, share)`` for each ``total = a + b`` holding on >= 99% of rows."""
    if not 3 <= len(names) <= _MAX_SUM_COLUMNS or rows.size < 3:
        return []
    values = np.vstack([columns[name][rows] for name in names])
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    pairs = list(zip(values, present, strict=True))
    spread = np.array([v[p].std() if p.any() else 0.0 for v, p in pairs])
    means = np.array([v[p].mean() if p.any() else np.nan for v, p in pairs])
    found = []
    for t in range(len(names)):
        if not spread[t] > 0:
            continue
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                if t in (a, b) or not (spread[a] > 0 and spread[b] > 0):
                    continue
                # Cheap screen on the means before the rows are compared.
                if abs(means[t] - means[a] - means[b]) > 0.05 * spread[t] + _ABS_TOLERANCE:
                    continue
                share = _sum_share(filled, present, t, a, b)
                if share >= SUM_SHARE:
                    found.append((names[t], names[a], names[b], share))
    return found


def _sum_share(filled: np.ndarray, present: np.ndarray, t: int, a: int, b: int) -> float:
    both = present[t] & present[a] & present[b]
    if both.sum() < 3:
        return 0.0
    y, x1, x2 = filled[t][both], filled[a][both], filled[b][both]
    scale = np.maximum(np.abs(y), np.maximum(np.abs(x1), np.abs(x2)))
    holds = np.abs(y - x1 - x2) <= _ABS_TOLERANCE + 1e-9 * scale
    return float(holds.mean())


def set_aside_reasons(groups: Sequence[RedundancyGroup]) -> dict[str, str]:
    """Column -> why it is (partly) not clustered, for the report's table of roles."""
    out: dict[str, str] = {}
    for group in groups:
        if not group.applied:
            continue
        for m in group.repeats:
            what = "not clustered" if m.level is None else f"level {m.level!r} not encoded"
            if group.kind == "levels" and len(group.kept) > 1:
                what = "not clustered"
            out.setdefault(m.column, f"{what}: {group.reason()}")
    return out


# ---------------------------------------------------------------------- applying


def set_aside(
    groups: Sequence[RedundancyGroup],
    numeric_steps: Sequence[NumericStep],
    categorical_steps: Sequence[CategoricalStep],
    *,
    keep: bool,
) -> tuple[list[RedundancyGroup], list[NumericStep], list[CategoricalStep], list[str]]:
    """Apply the groups to the steps (unless ``keep``) and say so in decisions.

    Returns the groups (``applied`` set), the remaining numeric steps, the categorical
    steps with their dropped levels (a column left without a level is removed), and one
    decision per set-aside column.
    """
    if keep:
        marked = [replace(g, applied=False) for g in groups]
        decisions = [f"redundancy: {g.message()}" for g in marked]
        return marked, list(numeric_steps), list(categorical_steps), decisions
    decisions = []
    numeric_aside: set[str] = set()
    dropped: dict[str, list[str]] = {}
    removed: set[str] = set()
    for group in groups:
        if group.kind == "levels" and len(group.kept) > 1:
            for column in dict.fromkeys(m.column for m in group.repeats):
                removed.add(column)
                decisions.append(f"{column}: profiled, not clustered ({group.reason()})")
            continue
        for m in group.repeats:
            if m.level is None:
                numeric_aside.add(m.column)
                decisions.append(f"{m.column}: profiled, not clustered ({group.reason()})")
            else:
                dropped.setdefault(m.column, []).append(m.level)
                decisions.append(f"{m.column}: level {m.level!r} not encoded ({group.reason()})")
    numeric = [s for s in numeric_steps if s.column not in numeric_aside]
    categorical = []
    for step in categorical_steps:
        if step.column in removed:
            continue
        drop = dropped.get(step.column)
        if not drop:
            categorical.append(step)
            continue
        keep_at = [i for i, level in enumerate(step.levels) if level not in drop]
        if not keep_at or [step.levels[i] for i in keep_at] == [OTHER_LEVEL]:
            decisions.append(f"{step.column}: profiled, not clustered (every level is repeated)")
            continue
        categorical.append(
            CategoricalStep(
                step.column,
                tuple(step.levels[i] for i in keep_at),
                step.impute,
                step.other,
                tuple(step.center[i] for i in keep_at),
                tuple(step.scale[i] for i in keep_at),
                tuple(sorted({*step.dropped, *drop})),
            )
        )
    return list(groups), numeric, categorical, decisions
