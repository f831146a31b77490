"""The leakage guard: does one input column alone reproduce a segment?

A segment that one column reproduces on its own ("every customer with ``Exited = 1``
and nobody else") is rarely a behavioural discovery: the column is usually an outcome,
a label or a score that should not have been clustered on, or a flag that dominates the
distances. :func:`single_column_rules` finds, for every segment, the best one-column
rule over the clustering's input columns:

* for a numeric column, ``x < t`` or ``x >= t`` at every cut between two consecutive
  distinct values (a gap never matches);
* for a categorical column, ``x = level``;

and keeps it when both its **precision** (share of the matched customers who are in
the segment) and its **coverage** (share of the segment matched) reach the thresholds
(0.98 by default). Columns that encode one fact (``InternetService = No`` and six
add-on columns with a ``"No internet service"`` level) are passed as ``groups``: a rule
on the group's first column wins a tie, and the rule names every column of its group,
so that the advice leaves out the whole group instead of moving the rule to the next
column of it. Every cut is measured exactly, in one sort per column and one
cumulative count per segment; beyond 200,000 rows on a sample stratified by segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .._utils.sampling import stratified_sample
from ..exceptions import ConfigError
from ._inputs import validate_labels

__all__ = ["OneColumnRule", "single_column_rules", "LEAKAGE_THRESHOLD"]

LEAKAGE_THRESHOLD = 0.98
"""Precision and coverage from which one column is said to reproduce a segment."""

_MAX_ROWS = 200_000


@dataclass(frozen=True)
class OneColumnRule:
    """A one-column rule that reproduces a segment.

    Attributes
    ----------
    segment_id : int
        The segment.
    column : str
        The column.
    text : str
        The rule as a reader sees it (``"Exited ≥ 0.5"``, ``"Geography = 'Germany'"``).
    precision, coverage : float
        Measured on every row (or the stratified sample beyond 200,000 rows).
    group : tuple of str
        Every column of the column's group (the group's first column first), or ``()``
        when the column encodes its fact alone.
    """

    segment_id: int
    column: str
    text: str
    precision: float
    coverage: float
    group: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "segment_id": self.segment_id,
            "column": self.column,
            "text": self.text,
            "precision": self.precision,
            "coverage": self.coverage,
            "group": list(self.group),
        }


def single_column_rules(
    frame: pd.DataFrame,
    labels: Sequence[int] | np.ndarray | pd.Series,
    *,
    numeric: Sequence[str] = (),
    categorical: Sequence[str] = (),
    threshold: float = LEAKAGE_THRESHOLD,
    groups: Sequence[Sequence[str]] = (),
) -> list[OneColumnRule]:
    """For every segment, the best one-column rule whose precision and coverage reach ``threshold``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The checked input columns: numeric ones as float64 with NaN for gaps,
        categorical ones as text with ``None`` for gaps.
    labels : array-like of int
        Segment of each row.
    numeric, categorical : sequence of str
        The columns to try.
    threshold : float, default 0.98
        Smallest precision and coverage of a reproducing rule.
    groups : sequence of sequence of str, default=()
        Columns that encode one fact, the column kept for it first: its rule wins a
        tie, and every rule on a column of a group carries the group.

    Returns
    -------
    list of OneColumnRule
        At most one per segment (the rule with the best smaller-of-precision-and-
        coverage), in segment order.

    Raises
    ------
    ConfigError
        If ``threshold`` is not in (0, 1].
    DataError
        If ``labels`` do not match ``frame``.
    """
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold={threshold!r} should be in (0, 1], e.g. 0.98")
    codes = validate_labels(labels, len(frame))
    rows = None
    if codes.shape[0] > _MAX_ROWS:
        rows = stratified_sample(codes, _MAX_ROWS, np.random.default_rng(0))
        codes = codes[rows]
    k = int(codes.max(initial=0)) + 1
    sizes = np.bincount(codes, minlength=k).astype(np.float64)
    group_of = {name: tuple(group) for group in groups for name in group}
    leaders = {group[0] for group in groups if group}
    best: dict[int, OneColumnRule] = {}
    for name in numeric:
        values = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        values = values if rows is None else values[rows]
        for rule in _numeric_rules(name, values, codes, sizes, threshold):
            _keep(best, rule, leaders)
    for name in categorical:
        values = frame[name].to_numpy(dtype=object)
        values = values if rows is None else values[rows]
        for rule in _categorical_rules(name, values, codes, sizes, threshold):
            _keep(best, rule, leaders)
    return [replace(best[g], group=group_of.get(best[g].column, ())) for g in sorted(best)]


def _keep(best: dict[int, OneColumnRule], rule: OneColumnRule, leaders: set[str]) -> None:
    current = best.get(rule.segment_id)
    if current is None:
        best[rule.segment_id] = rule
        return
    new, old = min(rule.precision, rule.coverage), min(current.precision, current.coverage)
    if new > old or (new == old and rule.column in leaders and current.column not in leaders):
        best[rule.segment_id] = rule


def _numeric_rules(
    name: str, values: np.ndarray, codes: np.ndarray, sizes: np.ndarray, threshold: float
) -> list[OneColumnRule]:
    present = ~np.isnan(values)
    order = np.argsort(values[present], kind="stable")
    x = values[present][order]
    m = x.shape[0]
    if m < 2:
        return []
    k = sizes.shape[0]
    seg = codes[present][order]
    # cum[i, g]: customers of segment g among the i smallest values.
    cum = np.zeros((m + 1, k), dtype=np.float64)
    np.cumsum(seg[:, None] == np.arange(k)[None, :], axis=0, out=cum[1:])
    cuts = np.flatnonzero(x[1:] != x[:-1]) + 1  # the first i rows are below the cut
    if not cuts.size:
        return []
    below = cum[cuts]  # (c, k)
    above = cum[m][None, :] - below
    n_below = cuts[:, None].astype(np.float64)
    out = []
    for inside, matched, op in ((below, n_below, "<"), (above, m - n_below, "≥")):
        precision = inside / matched
        coverage = inside / np.maximum(sizes, 1.0)[None, :]
        score = np.minimum(precision, coverage)
        for g in range(k):
            i = int(np.argmax(score[:, g]))
            if score[i, g] >= threshold:
                cut = cuts[i]
                t = _round_between(float(x[cut - 1]), float(x[cut]))
                out.append(
                    OneColumnRule(
                        g, name, f"{name} {op} {t:g}", float(precision[i, g]), float(coverage[i, g])
                    )
                )
    return out


def _categorical_rules(
    name: str, values: np.ndarray, codes: np.ndarray, sizes: np.ndarray, threshold: float
) -> list[OneColumnRule]:
    k = sizes.shape[0]
    series = pd.Series(values, dtype=object)
    out = []
    for level in series.dropna().unique():
        matched = (series == level).to_numpy()
        inside = np.bincount(codes[matched], minlength=k).astype(np.float64)
        precision = inside / max(int(matched.sum()), 1)
        coverage = inside / np.maximum(sizes, 1.0)
        for g in np.flatnonzero(np.minimum(precision, coverage) >= threshold):
            out.append(
                OneColumnRule(
                    int(g),
                    name,
                    f"{name} = {str(level)!r}",
                    float(precision[g]),
                    float(coverage[g]),
                )
            )
    return out


def _round_between(low: float, high: float) -> float:
    """The shortest number in (low, high]: ``0 | 1`` cuts at 0.5 reads better as 1."""
    for digits in range(-6, 12):
        for candidate in (round(high, digits), round((low + high) / 2, digits)):
            if low < candidate <= high:
                return float(candidate)
    return high
