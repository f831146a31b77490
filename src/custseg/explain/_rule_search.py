"""Finding the clauses of one segment's rule from a shallow one-vs-rest decision tree.

Three steps, on the fitting sample (gaps imputed by medians):

1. :func:`tree_paths` fits the tree and lists every root-to-node path
   (:data:`TreePath`), a conjunction of raw tree thresholds.
2. Each path is turned into a clause: conditions on the same feature are merged and each
   threshold is replaced by the roundest number that splits the observed values as the
   tree did (:class:`ObservedValues` gives the values around a threshold), else rounded
   to 2 or 3 significant digits.
3. :func:`choose_clauses` keeps the clause, or the union of two, with the best F1 of
   precision and coverage; a second clause must raise F1 by at least 0.03.

Measuring the chosen rule on every row and writing it out is :mod:`custseg.explain.rules`.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from .conditions import Condition, Operator, evaluate_clauses

__all__ = ["TreePath", "tree_paths", "ObservedValues", "choose_clauses"]

TreePath = list[tuple[str, Operator, float]]
"""A root-to-node path of a tree: ``(feature, op, threshold)`` conditions, all required."""

_MAX_CLAUSES = 2
# A second path is added to a rule only when it improves F1 by at least this much:
# a longer rule must earn its length.
_MIN_F1_GAIN = 0.03


def tree_paths(
    imputed: np.ndarray,
    target: np.ndarray,
    features: list[str],
    max_depth: int,
    seed: int,
) -> list[TreePath]:
    """Every root-to-node path of a one-vs-rest tree (the root excluded).

    Parameters
    ----------
    imputed : numpy.ndarray
        Fitting sample ``(n, d)`` without gaps.
    target : numpy.ndarray
        Boolean ``(n,)``: the rows in the segment.
    features : list of str
        Name of each column of ``imputed``.
    max_depth : int
        Depth of the tree, hence the longest path.
    seed : int
        Seed of the tree's tie-breaking.

    Returns
    -------
    list of TreePath
        Empty when ``target`` is all true or all false.
    """
    if target.all() or not target.any():
        return []
    tree = DecisionTreeClassifier(
        max_depth=max_depth,
        class_weight="balanced",
        # Leaves of a handful of customers make rules that describe noise.
        min_samples_leaf=max(5, len(target) // 500),
        random_state=seed,
    ).fit(imputed, target)
    t = tree.tree_
    paths: list[TreePath] = []
    stack: list[tuple[int, TreePath]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        if path:
            paths.append(path)
        left, right = int(t.children_left[node]), int(t.children_right[node])
        if left == -1:
            continue
        name, threshold = features[int(t.feature[node])], float(t.threshold[node])
        # scikit-learn sends x <= threshold left; thresholds sit between observed values,
        # so "<" and ">=" describe the same split.
        stack.append((left, [*path, (name, "<", threshold)]))
        stack.append((right, [*path, (name, ">=", threshold)]))
    return paths


class ObservedValues:
    """Sorted distinct values of each fitting column, computed when first needed.

    Parameters
    ----------
    imputed : numpy.ndarray
        Fitting sample ``(n, d)`` without gaps.
    index : dict of str to int
        Column of ``imputed`` of each feature.
    """

    def __init__(self, imputed: np.ndarray, index: dict[str, int]) -> None:
        self._imputed = imputed
        self._index = index
        self._cache: dict[str, np.ndarray] = {}

    def around(self, feature: str, threshold: float) -> tuple[float, float] | None:
        """The observed values just below and just above a tree threshold.

        ``None`` when the threshold is not between two observed values.
        """
        values = self._cache.get(feature)
        if values is None:
            values = np.unique(self._imputed[:, self._index[feature]])
            self._cache[feature] = values
        i = int(np.searchsorted(values, threshold, side="right"))
        if i == 0 or i == len(values):
            return None
        return float(values[i - 1]), float(values[i])


def choose_clauses(
    paths: list[TreePath],
    values: np.ndarray,
    target: np.ndarray,
    index: dict[str, int],
    grid: ObservedValues,
) -> tuple[tuple[Condition, ...], ...]:
    """The rounded path, or union of two, with the best F1 on the fitting sample.

    Parameters
    ----------
    paths : list of TreePath
        Candidate paths from :func:`tree_paths`.
    values : numpy.ndarray
        Fitting sample ``(n, d)``, gaps as NaN (a gap never matches).
    target : numpy.ndarray
        Boolean ``(n,)``: the rows in the segment.
    index : dict of str to int
        Column of ``values`` of each feature.
    grid : ObservedValues
        Observed values of the fitting sample, for rounding thresholds.

    Returns
    -------
    tuple of tuple of Condition
        One or two clauses; empty when there is no path.
    """
    candidates = []
    for path in paths:
        clause = _round_clause(path, values, target, index, grid)
        mask = evaluate_clauses((clause,), values, index)
        candidates.append((clause, mask))
    if not candidates:
        return ()
    scored = sorted(
        ((_f1(mask, target), -len(clause), i) for i, (clause, mask) in enumerate(candidates)),
        reverse=True,
    )
    best_f1, _, first = scored[0]
    chosen = [candidates[first]]
    union = candidates[first][1]
    for _ in range(_MAX_CLAUSES - 1):
        trials = [
            (_f1(union | mask, target), -len(clause), i)
            for i, (clause, mask) in enumerate(candidates)
            if all(clause != c for c, _ in chosen)
        ]
        if not trials:
            break
        gain_f1, _, i = max(trials)
        if gain_f1 < best_f1 + _MIN_F1_GAIN:
            break
        chosen.append(candidates[i])
        union = union | candidates[i][1]
        best_f1 = gain_f1
    return tuple(clause for clause, _ in chosen)


def _round_clause(
    path: TreePath,
    values: np.ndarray,
    target: np.ndarray,
    index: dict[str, int],
    grid: ObservedValues,
) -> tuple[Condition, ...]:
    """Merge the path's conditions per feature and give each a short threshold.

    A tree threshold ``t`` sits between two observed values ``a < t < b``; every ``c`` in
    ``(a, b]`` splits the fitting rows exactly as ``t`` does. The roundest such ``c`` with
    at most 2 significant digits is used ("PURCHASES_TRX ≥ 8", "CREDIT_LIMIT ≥ 1600").
    Where the values are too dense for that, ``t`` is rounded to 2 significant digits, or
    3 when that describes the segment better (F1 on the fitting sample).
    """
    lower: dict[str, float] = {}
    upper: dict[str, float] = {}
    order: list[str] = []
    for feature, op, threshold in path:
        if feature not in order:
            order.append(feature)
        if op == ">=":
            lower[feature] = max(threshold, lower.get(feature, -math.inf))
        else:
            upper[feature] = min(threshold, upper.get(feature, math.inf))

    exact: dict[tuple[str, float], float | None] = {}
    for f in order:
        for t in (lower.get(f), upper.get(f)):
            if t is not None:
                gap = grid.around(f, t)
                exact[(f, t)] = None if gap is None else _roundest_between(*gap, t)

    def build(digits: int) -> tuple[Condition, ...]:
        conditions = []
        for f in order:
            lo, hi = lower.get(f), upper.get(f)
            d = digits
            # Rounding must not make a two-sided interval empty: add digits until it is not.
            while (
                lo is not None
                and hi is not None
                and _short_threshold(f, lo, d, exact) >= _short_threshold(f, hi, d, exact)
                and d < 12
            ):
                d += 1
            if lo is not None:
                conditions.append(Condition(f, ">=", _short_threshold(f, lo, d, exact)))
            if hi is not None:
                conditions.append(Condition(f, "<", _short_threshold(f, hi, d, exact)))
        return tuple(conditions)

    short, longer = build(2), build(3)
    if short == longer:
        return short
    f_short = _f1(evaluate_clauses((short,), values, index), target)
    f_long = _f1(evaluate_clauses((longer,), values, index), target)
    return longer if f_long > f_short + 0.005 else short


def _short_threshold(
    feature: str, threshold: float, digits: int, exact: dict[tuple[str, float], float | None]
) -> float:
    nice = exact.get((feature, threshold))
    return nice if nice is not None else _round_sig(threshold, digits)


def _roundest_between(below: float, above: float, threshold: float) -> float | None:
    """The number in ``(below, above]`` with the fewest significant digits (at most 2),
    nearest to ``threshold`` among equally round ones; ``None`` if there is none."""
    magnitude = math.floor(math.log10(max(abs(below), abs(above))))
    for power in range(magnitude, magnitude - 2, -1):
        step = 10.0**power
        first = math.floor(below / step) + 1
        last = math.floor(above / step)
        if first <= last:
            best = min(range(first, last + 1), key=lambda m: abs(m * step - threshold))
            return float(round(best * step, max(0, -power)))
    return None


def _round_sig(value: float, digits: int) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return float(round(value, decimals))


def _f1(mask: np.ndarray, target: np.ndarray) -> float:
    hits = int(np.count_nonzero(mask & target))
    if hits == 0:
        return 0.0
    return 2 * hits / (int(np.count_nonzero(mask)) + int(np.count_nonzero(target)))
