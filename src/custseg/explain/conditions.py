"""Threshold conditions, the atoms of segment rules, and evaluating them on a matrix.

A rule (:class:`~custseg.explain.rules.SegmentRule`) is a disjunction of clauses, each
a conjunction of :class:`Condition` objects; :func:`evaluate_clauses` says which rows of
a matrix it matches. A missing value (NaN) never satisfies a condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = ["Operator", "Condition", "evaluate_clauses"]

Operator = Literal[">=", "<"]
"""Comparison of a condition: ``feature >= value`` or ``feature < value``."""


@dataclass(frozen=True)
class Condition:
    """One threshold condition: ``feature >= value`` or ``feature < value``.

    Attributes
    ----------
    feature : str
        Column of the table, in original units.
    op : {">=", "<"}
        Comparison.
    value : float
        Threshold (rounded to a few significant digits in fitted rules).
    """

    feature: str
    op: Operator
    value: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"feature", "op", "value"}``."""
        return {"feature": self.feature, "op": self.op, "value": self.value}


def evaluate_clauses(
    clauses: tuple[tuple[Condition, ...], ...], values: np.ndarray, index: dict[str, int]
) -> np.ndarray:
    """Rows of ``values`` that satisfy every condition of at least one clause.

    Parameters
    ----------
    clauses : tuple of tuple of Condition
        The rule; no clause matches nobody, one empty clause matches everybody.
    values : numpy.ndarray
        Float matrix ``(n, d)``; NaN for gaps.
    index : dict of str to int
        Column of ``values`` of each feature read by the conditions.

    Returns
    -------
    numpy.ndarray
        Boolean mask of shape ``(n,)``.
    """
    result = np.zeros(len(values), dtype=bool)
    for clause in clauses:
        mask = np.ones(len(values), dtype=bool)
        for c in clause:
            column = values[:, index[c.feature]]
            # Comparisons with NaN are False: a missing value never matches.
            mask &= column >= c.value if c.op == ">=" else column < c.value
        result |= mask
    return result
