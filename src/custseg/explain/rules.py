"""Short human-readable rules that describe each segment in original units.

For each segment a shallow one-vs-rest decision tree (scikit-learn
``DecisionTreeClassifier``, ``class_weight="balanced"``, depth <= ``max_depth``) is fitted
on the original columns, with gaps imputed by medians, on a sample stratified by segment
when the table is large. The path from the root to any node of the tree is a
conjunction of threshold conditions; the rule of a segment is the path (or the union
of at most two paths) that best describes it (highest F1 of precision and coverage),
with its thresholds rounded to 2-3 significant digits and conditions on the same
feature merged (``0.2 ≤ X < 0.5``).

The reported precision (share of the customers matched by the rule who are in the
segment) and coverage (share of the segment matched by the rule) are measured by
evaluating the rendered rule, rounded thresholds included, on every row of the table:
they are what a reader of the rule would observe, not what the tree believed. A missing
value never satisfies a condition.

Overall agreement assigns each customer to the first segment whose rule matches, in a
fixed precedence (highest precision first, then segment id), customers matched by no
rule to none, and reports the share whose assignment equals their label.

This module holds the rule types, :func:`segment_rules` and the measuring and wording
of rules; finding a segment's clauses in its tree is ``custseg.explain._rule_search``,
and the conditions rules are made of are :mod:`custseg.explain.conditions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._utils.checks import check_int
from .._utils.numeric import n_workers, parallel_map
from .._utils.sampling import stratified_sample
from .._utils.text import plain
from ..exceptions import DataError, SchemaError
from ._inputs import numeric_feature_columns, numeric_matrix, reading, validate_labels
from ._rule_search import ObservedValues, choose_clauses, tree_paths
from .conditions import Condition, Operator, evaluate_clauses

__all__ = ["Condition", "SegmentRule", "RuleSet", "segment_rules"]

_SYMBOL = {">=": "≥", "<": "<"}
_MIN_TREE_ROWS = 1_000


@dataclass(frozen=True)
class SegmentRule:
    """The rule of one segment and how well it describes it.

    Attributes
    ----------
    segment_id : int
        The segment described.
    clauses : tuple of tuple of Condition
        The rule matches a customer when all the conditions of any clause hold. Empty
        when no rule was found; one empty clause means "every customer" (one segment).
    text : str
        The rule as a reader sees it, e.g. ``"PURCHASES_FREQUENCY ≥ 0.83 and
        CASH_ADVANCE < 120"``.
    precision : float or None
        Share of matched customers who are in the segment; ``None`` if none matches.
    coverage : float
        Share of the segment's customers matched by the rule.
    n_matched : int
        Customers matched by the rule.
    n_segment : int
        Customers in the segment.
    """

    segment_id: int
    clauses: tuple[tuple[Condition, ...], ...]
    text: str
    precision: float | None
    coverage: float
    n_matched: int
    n_segment: int

    @property
    def features(self) -> list[str]:
        """Features the rule reads, in order of first use."""
        seen: dict[str, None] = {}
        for clause in self.clauses:
            for c in clause:
                seen.setdefault(c.feature, None)
        return list(seen)

    def matches(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows of ``frame`` that satisfy the rule.

        Parameters
        ----------
        frame : pandas.DataFrame
            Customers in original units, with every column the rule reads.

        Returns
        -------
        numpy.ndarray
            Boolean ``(len(frame),)``; a missing value never satisfies a condition.

        Raises
        ------
        SchemaError
            If ``frame`` lacks a column the rule reads.
        """
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise SchemaError(
                f"the rule of segment {self.segment_id} reads column {missing[0]!r}, absent"
                " from the table; pass a table with the columns the rules were fitted on"
            )
        features = self.features
        values = numeric_matrix(frame, features) if features else np.empty((len(frame), 0))
        return evaluate_clauses(self.clauses, values, {f: j for j, f in enumerate(features)})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; ``conditions`` is a list of clauses, each a list of conditions."""
        return {
            "segment_id": self.segment_id,
            "text": self.text,
            "conditions": [[c.to_dict() for c in clause] for clause in self.clauses],
            "precision": self.precision,
            "coverage": self.coverage,
            "n_matched": self.n_matched,
            "n_segment": self.n_segment,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentRule:
        """Rebuild a rule from :meth:`to_dict` output."""
        with reading("rule", "SegmentRule.to_dict()"):
            clauses = tuple(
                tuple(
                    Condition(str(c["feature"]), _operator(c["op"]), float(c["value"]))
                    for c in clause
                )
                for clause in data["conditions"]
            )
            precision = data["precision"]
            return cls(
                segment_id=int(data["segment_id"]),
                clauses=clauses,
                text=str(data["text"]),
                precision=None if precision is None else float(precision),
                coverage=float(data["coverage"]),
                n_matched=int(data["n_matched"]),
                n_segment=int(data["n_segment"]),
            )


@dataclass(frozen=True)
class RuleSet:
    """Rules of every segment and how well they agree with the labels together.

    Attributes
    ----------
    rules : list of SegmentRule
        One rule per segment, in segment id order.
    agreement : float
        Share of customers whose rule-based assignment equals their label.
    unmatched_share : float
        Share of customers matched by no rule.
    precedence : list of int
        Segment ids in the order rules are tried when assigning customers.
    n_rows : int
        Customers on which precision, coverage and agreement were measured.
    fit_rows : int
        Customers on which the trees were fitted (a stratified sample when smaller
        than ``n_rows``).
    max_depth : int
        Depth limit of the trees.
    """

    rules: list[SegmentRule]
    agreement: float
    unmatched_share: float
    precedence: list[int]
    n_rows: int
    fit_rows: int
    max_depth: int

    def rule(self, segment_id: int) -> SegmentRule:
        """The rule of one segment.

        Raises
        ------
        DataError
            If there is no such segment.
        """
        for r in self.rules:
            if r.segment_id == segment_id:
                return r
        raise DataError(
            f"segment_id={plain(segment_id)!r} has no rule; use one of"
            f" {[r.segment_id for r in self.rules]}"
        )

    def for_segment(self, segment_id: int) -> dict[str, Any]:
        """The rule of one segment as a JSON-ready dict (``SegmentRule.to_dict()``)."""
        return self.rule(segment_id).to_dict()

    def assign(self, frame: pd.DataFrame) -> np.ndarray:
        """Segment of each row by the rules (first match in :attr:`precedence`), -1 if none.

        ``frame`` is read as by :meth:`SegmentRule.matches`; the answer is an int64
        array of ``len(frame)`` segment ids, -1 where no rule matches.

        Raises
        ------
        SchemaError
            If ``frame`` lacks a column a rule reads.
        """
        assigned = np.full(len(frame), -1, dtype=np.int64)
        by_id = {r.segment_id: r for r in self.rules}
        for sid in self.precedence:
            free = assigned == -1
            assigned[free & by_id[sid].matches(frame)] = sid
        return assigned

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; round-trips through :meth:`from_dict`."""
        return {
            "agreement": self.agreement,
            "unmatched_share": self.unmatched_share,
            "precedence": list(self.precedence),
            "n_rows": self.n_rows,
            "fit_rows": self.fit_rows,
            "max_depth": self.max_depth,
            "rules": [r.to_dict() for r in self.rules],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleSet:
        """Rebuild a rule set from :meth:`to_dict` output."""
        with reading("rule set", "RuleSet.to_dict()"):
            return cls(
                rules=[SegmentRule.from_dict(r) for r in data["rules"]],
                agreement=float(data["agreement"]),
                unmatched_share=float(data["unmatched_share"]),
                precedence=[int(s) for s in data["precedence"]],
                n_rows=int(data["n_rows"]),
                fit_rows=int(data["fit_rows"]),
                max_depth=int(data["max_depth"]),
            )


def segment_rules(
    frame: pd.DataFrame,
    labels: Sequence[int] | np.ndarray | pd.Series,
    *,
    max_depth: int = 3,
    columns: Sequence[str] | None = None,
    sample_size: int = 50_000,
    random_state: int | np.random.Generator | None = None,
) -> RuleSet:
    """Describe each segment by a short rule over the original columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        Customers in original units (raw and derived columns); gaps allowed.
    labels : array-like of int
        Segment of each row (non-negative integers).
    max_depth : int, default 3
        Depth of the one-vs-rest trees, hence the most conditions per clause (1 to 5).
    columns : sequence of str, optional
        Columns the rules may use. Default: every numeric or boolean column.
    sample_size : int, default 50_000
        Trees are fitted on a sample of this many rows, stratified by segment, when the
        table is larger; precision, coverage and agreement always use every row.
    random_state : int, numpy Generator or None, default None
        Seed of the sample and of the trees' tie-breaking.

    Returns
    -------
    RuleSet
        One :class:`SegmentRule` per segment, the precedence and the overall agreement.

    Raises
    ------
    ConfigError
        If ``max_depth`` or ``sample_size`` is out of range.
    DataError, SchemaError
        If the table or the labels cannot be used (see :func:`profile_segments`).
    """
    max_depth = check_int(
        max_depth,
        "max_depth",
        minimum=1,
        maximum=5,
        hint="rules deeper than 5 conditions are not readable",
    )
    sample_size = check_int(sample_size, "sample_size", minimum=100)
    features = numeric_feature_columns(frame, columns)
    codes = validate_labels(labels, len(frame))
    values = numeric_matrix(frame, features)
    rng = np.random.default_rng(random_state)
    return _rule_set(values, features, codes, max_depth, sample_size, rng)


def _rule_set(
    values: np.ndarray,
    features: list[str],
    codes: np.ndarray,
    max_depth: int,
    sample_size: int,
    rng: np.random.Generator,
) -> RuleSet:
    ids = np.unique(codes)
    # Each segment keeps its share of the sample but at least 1,000 rows (or all of
    # them): a tree cannot describe a segment it has barely seen.
    rows = stratified_sample(codes, sample_size, rng, min_per_segment=_MIN_TREE_ROWS)
    fit_values = values[rows]
    medians = np.nanmedian(np.where(np.isnan(fit_values).all(axis=0), 0.0, fit_values), axis=0)
    imputed = np.where(np.isnan(fit_values), medians, fit_values)
    index = {f: j for j, f in enumerate(features)}
    grid = ObservedValues(imputed, index)

    # One seed per fitted tree, drawn in segment order: the rules do not depend on the
    # order in which the segments' trees are fitted (two at a time, see below).
    targets = [codes[rows] == sid for sid in ids]
    seeds = [
        int(rng.integers(2**31 - 1)) if len(ids) > 1 and t.any() and not t.all() else 0
        for t in targets
    ]

    def describe(position: int) -> SegmentRule:
        target = targets[position]
        if len(ids) == 1:
            clauses: tuple[tuple[Condition, ...], ...] = ((),)
        else:
            paths = tree_paths(imputed, target, features, max_depth, seeds[position])
            clauses = choose_clauses(paths, fit_values, target, index, grid)
        return _measure(int(ids[position]), clauses, values, codes, index)

    # scikit-learn builds a tree without the GIL: two segments' trees at a time.
    rules = parallel_map(describe, list(range(len(ids))), n_workers())

    # Precedence: most precise rules first so that they claim their customers before
    # broader ones; rules that match nobody go last; ties by segment id.
    precedence = [
        r.segment_id for r in sorted(rules, key=lambda r: (-(r.precision or -1.0), r.segment_id))
    ]
    assigned = np.full(len(codes), -1, dtype=np.int64)
    by_id = {r.segment_id: r for r in rules}
    for sid in precedence:
        free = assigned == -1
        assigned[free & evaluate_clauses(by_id[sid].clauses, values, index)] = sid
    return RuleSet(
        rules=rules,
        agreement=float(np.mean(assigned == codes)),
        unmatched_share=float(np.mean(assigned == -1)),
        precedence=precedence,
        n_rows=len(codes),
        fit_rows=len(rows),
        max_depth=max_depth,
    )


def _measure(
    segment_id: int,
    clauses: tuple[tuple[Condition, ...], ...],
    values: np.ndarray,
    codes: np.ndarray,
    index: dict[str, int],
) -> SegmentRule:
    in_segment = codes == segment_id
    mask = evaluate_clauses(clauses, values, index)
    matched = int(np.count_nonzero(mask))
    hits = int(np.count_nonzero(mask & in_segment))
    size = int(np.count_nonzero(in_segment))
    return SegmentRule(
        segment_id=segment_id,
        clauses=clauses,
        text=_render(clauses),
        precision=hits / matched if matched else None,
        coverage=hits / size,
        n_matched=matched,
        n_segment=size,
    )


def _render(clauses: tuple[tuple[Condition, ...], ...]) -> str:
    if not clauses:
        return "no simple rule separates this segment"
    parts = [_render_clause(c) for c in clauses]
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({p})" if " and " in p else p for p in parts)


def _render_clause(clause: tuple[Condition, ...]) -> str:
    if not clause:
        return "all customers"
    bounds: dict[str, dict[str, float]] = {}
    for c in clause:
        bounds.setdefault(c.feature, {})[c.op] = c.value
    pieces = []
    for feature, b in bounds.items():
        if ">=" in b and "<" in b:
            pieces.append(f"{_fmt(b['>='])} ≤ {feature} < {_fmt(b['<'])}")
        else:
            op = ">=" if ">=" in b else "<"
            pieces.append(f"{feature} {_SYMBOL[op]} {_fmt(b[op])}")
    return " and ".join(pieces)


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.12g}"


def _operator(op: Any) -> Operator:
    if op == ">=":
        return ">="
    if op == "<":
        return "<"
    raise ValueError(f"unknown operator {op!r}")
