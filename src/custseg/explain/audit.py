"""The sensitive-attribute audit: how each segment is made up by protected characteristic.

Segments built on behaviour can still sort customers by sex, age or marital status,
because behaviour follows them (men hold higher limits, older customers pay in full).
Sex/gender, age, marital status, race/ethnicity, religion, nationality and disability
are protected characteristics in credit and pricing decisions (equal-credit and
anti-discrimination rules): a segment that proxies one must be visible to whoever uses
the segments, whether or not the characteristic was clustered on.

:func:`audit_segments` measures, for every protected column:

1. **The composition of each segment**: the share of each level (text and flag
   columns), or for age the mean, the median and the shares of the bands
   :data:`AGE_BANDS` (a year of birth is turned into an age first).
2. **The association over all segments**: Cramér's V of the segment × level table
   with the bias correction of Bergsma (2013), from 0 (every segment has the
   population's mix) to 1 (the segment tells the level).
3. **Flags**: a segment and level whose share ratio (the level's share in the segment
   over its share in the population) lies outside :data:`RATIO_RANGE`, on a level
   holding at least :data:`MIN_POPULATION_SHARE` of the population, on a cell of at
   least :data:`MIN_COUNT` customers (counted, or expected at the population's share,
   whichever is larger), and with a gap beyond chance (binomial z-score of at least
   :data:`MIN_Z`): small cells do not flag noise.

The result is plain data (:meth:`SensitiveAudit.to_dict`) kept in the model
(``model.profiles["audit"]``), read by the report, ``summary.md`` and ``metrics.json``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from .._utils.checks import check_frame, check_int
from ..exceptions import DataError, SchemaError
from ._audit_levels import AGE_BANDS, MAX_LEVELS, read_levels

__all__ = [
    "AGE_BANDS",
    "MAX_LEVELS",
    "MIN_COUNT",
    "MIN_POPULATION_SHARE",
    "MIN_Z",
    "RATIO_RANGE",
    "AuditFlag",
    "CharacteristicAudit",
    "SensitiveAudit",
    "association_strength",
    "audit_segments",
    "audit_summary",
    "audit_warning",
    "cramers_v",
    "flag_text",
]

MIN_POPULATION_SHARE = 0.05
"""A level is flagged only if it holds at least this share of the population."""
MIN_COUNT = 10
"""... on a cell of at least this many customers: counted (a share far above the
population's) or expected at the population's share (a share far below it)."""
RATIO_RANGE = (0.5, 2.0)
"""A share ratio (segment share / population share) outside this range departs strongly."""
MIN_Z = 3.0
"""... and only if the gap is beyond chance: a binomial z-score of at least this size."""

_STRENGTHS = ((0.10, "negligible"), (0.20, "weak"), (0.30, "moderate"))


def association_strength(v: float | None) -> str:
    """Words for Cramér's V: negligible (< 0.10), weak (< 0.20), moderate (< 0.30), strong."""
    if v is None:
        return "not measurable"
    for limit, word in _STRENGTHS:
        if v < limit:
            return word
    return "strong"


@dataclass(frozen=True)
class AuditFlag:
    """A segment whose share of one level departs strongly from the population's."""

    segment_id: int
    column: str
    characteristic: str
    level: str
    share: float
    population_share: float
    ratio: float
    count: int
    expected: float
    band: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "band": self.band,
            "segment_id": self.segment_id,
            "column": self.column,
            "characteristic": self.characteristic,
            "level": self.level,
            "share": self.share,
            "population_share": self.population_share,
            "ratio": self.ratio,
            "count": self.count,
            "expected": self.expected,
        }


@dataclass(frozen=True)
class CharacteristicAudit:
    """The composition of the segments by one protected column.

    Attributes
    ----------
    column, characteristic : str
        The column and the protected characteristic it holds (``"sex/gender"``...).
    kind : {"levels", "age bands", "bands"}
        Levels of a text or flag column, age bands, or value bands of another number.
    clustered : bool
        Whether the segments were formed on this column.
    note : str
        How the values were read (e.g. ages from a year of birth), or ``""``.
    levels : tuple of str
        The levels (or bands) in display order.
    counts : numpy.ndarray of shape (k, n_levels)
        Customers per segment and level.
    cramers_v : float or None
        Bias-corrected Cramér's V (``None`` with one segment or one level).
    ages : dict or None
        For age: ``population`` and ``segments`` (one per segment) with ``mean`` and
        ``median``.
    """

    column: str
    characteristic: str
    kind: str
    clustered: bool
    note: str
    levels: tuple[str, ...]
    counts: np.ndarray = field(repr=False)
    cramers_v: float | None
    ages: dict[str, Any] | None = None

    def to_dict(self, flags: Sequence[AuditFlag] = ()) -> dict[str, Any]:
        """Plain data: levels, population shares, per-segment shares and ratios."""
        total = self.counts.sum(axis=0)
        n = int(total.sum())
        population = total / n if n else np.zeros(len(self.levels))
        segments = []
        for sid, row in enumerate(self.counts):
            size = int(row.sum())
            shares = row / size if size else np.full(len(self.levels), np.nan)
            flagged = {f.level for f in flags if f.segment_id == sid and f.column == self.column}
            ratios = [_ratio(s, p) for s, p in zip(shares, population, strict=True)]
            segments.append(
                {
                    "id": sid,
                    "n": size,
                    "shares": [None if np.isnan(s) else float(s) for s in shares],
                    "ratios": ratios,
                    "flagged": [level in flagged for level in self.levels],
                }
            )
        return {
            "column": self.column,
            "characteristic": self.characteristic,
            "kind": self.kind,
            "clustered": self.clustered,
            "note": self.note,
            "n": n,
            "levels": list(self.levels),
            "population": [float(p) for p in population],
            "cramers_v": self.cramers_v,
            "strength": association_strength(self.cramers_v),
            "segments": segments,
            "ages": self.ages,
        }


@dataclass(frozen=True)
class SensitiveAudit:
    """The audit of every protected column: compositions, Cramér's V and flags."""

    characteristics: tuple[CharacteristicAudit, ...]
    flags: tuple[AuditFlag, ...]
    k: int
    reference_year: int

    @property
    def found(self) -> bool:
        """Whether any protected characteristic was audited."""
        return bool(self.characteristics)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as the model keeps it in ``profiles["audit"]``."""
        return {
            "found": self.found,
            "k": self.k,
            "reference_year": self.reference_year,
            "characteristics": [c.to_dict(self.flags) for c in self.characteristics],
            "flags": [f.to_dict() for f in self.flags],
            "rule": {
                "min_population_share": MIN_POPULATION_SHARE,
                "min_count": MIN_COUNT,
                "ratio_range": list(RATIO_RANGE),
                "min_z": MIN_Z,
                "age_bands": [label for _, _, label in AGE_BANDS],
            },
        }


def audit_segments(
    frame: pd.DataFrame,
    labels: np.ndarray,
    characteristics: Mapping[str, str],
    *,
    k: int | None = None,
    clustered: Iterable[str] = (),
    reference_year: int | None = None,
) -> SensitiveAudit:
    """Audit the segments' composition by protected characteristic.

    Parameters
    ----------
    frame : pandas.DataFrame
        The raw rows (values as the table holds them), in the order of ``labels``.
    labels : numpy.ndarray
        Segment of each row, ``0..k-1``.
    characteristics : mapping of str to str
        Protected column -> the characteristic it holds (``{"Gender": "sex/gender",
        "Customer_Age": "age"}``); an empty mapping gives an audit that found nothing.
    k : int or None, default=None
        Number of segments (segments without a row of ``frame`` count as empty);
        ``labels.max() + 1`` by default.
    clustered : iterable of str, default=()
        The columns the segments were formed on (the audit says which it read).
    reference_year : int or None, default=None
        The year ages are counted at when a column holds years of birth; the current
        year by default.

    Returns
    -------
    SensitiveAudit

    Raises
    ------
    DataError
        If ``frame`` is not a data frame, or ``labels`` do not match its rows.
    SchemaError
        If a column of ``characteristics`` is not in ``frame``.
    """
    check_frame(frame)
    if k is not None:
        k = check_int(k, "k", minimum=1, hint="pass the model's number of segments")
    if reference_year is not None:
        reference_year = check_int(reference_year, "reference_year", minimum=1900, hint="e.g. 2024")
    codes = _checked_labels(labels, len(frame), k)
    n_segments = int(codes.max()) + 1 if k is None else k
    missing = [str(c) for c in characteristics if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"the protected columns {missing} are not in the table; pass the rows the"
            " segments were fitted on, with every column"
        )
    year = datetime.now(UTC).year if reference_year is None else reference_year
    used = set(clustered)
    audits = tuple(
        _audit_column(frame[column], codes, n_segments, str(column), str(label), year, used)
        for column, label in characteristics.items()
    )
    flags = tuple(flag for audit in audits for flag in _flags(audit))
    return SensitiveAudit(characteristics=audits, flags=flags, k=n_segments, reference_year=year)


def _checked_labels(labels: Any, n_rows: int, k: int | None) -> np.ndarray:
    codes = np.asarray(labels)
    if codes.ndim != 1 or codes.shape[0] != n_rows:
        raise DataError(
            f"labels has shape {codes.shape} but the table has {n_rows} rows; pass one"
            " segment per row"
        )
    if n_rows == 0:
        raise DataError("the table has 0 rows; pass the rows the segments were fitted on")
    if not np.issubdtype(codes.dtype, np.integer) or codes.min() < 0:
        raise DataError("labels should be segment numbers 0..k-1; pass the fit's labels")
    if k is not None and codes.max() >= k:
        raise DataError(
            f"k={k} is below the largest segment number {int(codes.max())} + 1; pass the model's k"
        )
    return codes.astype(np.int64)


def _audit_column(
    values: pd.Series,
    codes: np.ndarray,
    k: int,
    column: str,
    characteristic: str,
    year: int,
    clustered: set[str],
) -> CharacteristicAudit:
    kind, note, levels, level_codes, ages = read_levels(values, characteristic, year)
    counts = np.zeros((k, len(levels)), dtype=np.int64)
    np.add.at(counts, (codes, level_codes), 1)
    # A band nobody is in (no customer aged 60 or over) would only add a column of zeros.
    held = counts.sum(axis=0) > 0
    if not held.all() and held.any():
        counts, levels = (
            counts[:, held],
            [level for level, h in zip(levels, held, strict=True) if h],
        )
    age_stats = None
    if ages is not None:
        age_stats = {
            "population": _mean_median(ages),
            "segments": [_mean_median(ages[codes == sid]) for sid in range(k)],
        }
    return CharacteristicAudit(
        column=column,
        characteristic=characteristic,
        kind=kind,
        clustered=column in clustered,
        note=note,
        levels=tuple(levels),
        counts=counts,
        cramers_v=cramers_v(counts),
        ages=age_stats,
    )


def _mean_median(values: np.ndarray) -> dict[str, float | None]:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return {"mean": None, "median": None}
    return {"mean": float(finite.mean()), "median": float(np.median(finite))}


def cramers_v(counts: np.ndarray) -> float | None:
    """Bias-corrected Cramér's V of a contingency table (Bergsma 2013).

    Parameters
    ----------
    counts : numpy.ndarray of shape (r, c)
        Counts; empty rows and columns are dropped first.

    Returns
    -------
    float or None
        Between 0 and 1; ``None`` when fewer than two rows or columns hold counts.
    """
    table = np.asarray(counts, dtype=np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r, c = table.shape
    n = table.sum()
    if r < 2 or c < 2 or n < 2:
        return None
    # 1. Pearson's chi-square against independence of rows and columns.
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    # 2. phi² less its expected value under independence, and the corrected table sizes.
    phi2 = max(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    r_corr = r - (r - 1) ** 2 / (n - 1)
    c_corr = c - (c - 1) ** 2 / (n - 1)
    # 3. V = sqrt(phi² / min(r~ - 1, c~ - 1)).
    scale = min(r_corr - 1, c_corr - 1)
    return float(min(1.0, math.sqrt(phi2 / scale))) if scale > 0 else None


def _ratio(share: float, population: float) -> float | None:
    return None if np.isnan(share) or population <= 0 else float(share / population)


def _flags(audit: CharacteristicAudit) -> list[AuditFlag]:
    """Segment and level cells departing strongly from the population (module docstring)."""
    counts = audit.counts
    n = counts.sum()
    if n == 0:
        return []
    population = counts.sum(axis=0) / n
    low, high = RATIO_RANGE
    flags = []
    for sid, row in enumerate(counts):
        size = int(row.sum())
        for j, p in enumerate(population):
            expected = size * p
            if p < MIN_POPULATION_SHARE or max(row[j], expected) < MIN_COUNT or p >= 1:
                continue
            share = row[j] / size
            z = (row[j] - expected) / math.sqrt(expected * (1 - p))
            if low <= share / p <= high or abs(z) < MIN_Z:
                continue
            flags.append(
                AuditFlag(
                    segment_id=sid,
                    column=audit.column,
                    characteristic=audit.characteristic,
                    level=audit.levels[j],
                    share=float(share),
                    population_share=float(p),
                    ratio=float(share / p),
                    count=int(row[j]),
                    expected=float(expected),
                    band=audit.kind != "levels",
                )
            )
    return flags


def flag_text(flag: Mapping[str, Any], segment_name: str | None = None) -> str:
    """One flag in words.

    E.g. ``segment 1 (Name): Sex = Male is 10% of the segment against 50% of all
    customers (0.20×)``; a band reads ``Customer_Age 30-44 is ...``.

    Parameters
    ----------
    flag : mapping
        A flag as :meth:`AuditFlag.to_dict` gives it.
    segment_name : str or None, default=None
        The segment's name, quoted after its number.
    """
    who = f"segment {flag['segment_id']}"
    if segment_name:
        who += f" ({segment_name})"
    what = (
        f"{flag['column']} {flag['level']}"
        if flag.get("band")
        else (f"{flag['column']} = {flag['level']}")
    )
    return (
        f"{who}: {what} is {_pct(flag['share'])} of the segment against"
        f" {_pct(flag['population_share'])} of all customers ({flag['ratio']:.2f}×)"
    )


def _pct(share: float) -> str:
    return (
        f"{100 * share:.0f}%" if 0.01 <= share <= 0.99 or share in (0, 1) else f"{100 * share:.1f}%"
    )


def audit_warning(audit: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any] | None:
    """The fit's warning when a segment departs strongly on a protected characteristic.

    Parameters
    ----------
    audit : mapping
        The audit as :meth:`SensitiveAudit.to_dict` gives it.
    names : sequence of str
        Segment names in id order.

    Returns
    -------
    dict or None
        ``kind`` ``"protected_composition"``, ``message`` and the flags; ``None``
        without a flag.
    """
    flags = list(audit.get("flags") or [])
    if not flags:
        return None
    strength = {c["column"]: c.get("cramers_v") for c in audit.get("characteristics", [])}
    shown: dict[str, list[str]] = {}
    for flag in flags[:3]:
        name = names[flag["segment_id"]] if flag["segment_id"] < len(names) else None
        shown.setdefault(flag["column"], []).append(flag_text(flag, name))
    parts = []
    for column, texts in shown.items():
        flag = next(f for f in flags if f["column"] == column)
        v = strength.get(column)
        v_text = f"; Cramér's V {v:.2f} over all segments" if v is not None else ""
        parts.append(f"{column} ({flag['characteristic']}{v_text}): " + "; ".join(texts))
    more = f"; and {len(flags) - 3} more in the report's audit" if len(flags) > 3 else ""
    message = (
        "segments differ strongly by a protected characteristic: "
        + "; ".join(parts)
        + f"{more}. Segments can proxy protected characteristics even when not clustered on"
        " them: review them before using them in credit or pricing decisions (equal-credit"
        " and anti-discrimination rules); the report's protected-characteristics audit shows"
        " each segment's composition"
    )
    return {"kind": "protected_composition", "message": message, "flags": flags}


def audit_summary(audit: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The audit in short for ``metrics.json``: per column its V and flags; ``None`` if absent."""
    if not audit:
        return None
    return {
        "found": bool(audit.get("found")),
        "characteristics": [
            {
                "column": c["column"],
                "characteristic": c["characteristic"],
                "clustered": c["clustered"],
                "cramers_v": c["cramers_v"],
                "strength": c["strength"],
                "flagged_segments": sorted(
                    {f["segment_id"] for f in audit["flags"] if f["column"] == c["column"]}
                ),
            }
            for c in audit.get("characteristics", [])
        ],
        "flags": len(audit.get("flags") or []),
    }
