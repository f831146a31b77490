"""Rows of a chunk on their way through the scorer, as arrays.

:class:`PreparedRows` are checked and prepared rows waiting for assignment (what
``Scorer.prepare_*`` return); :class:`ScoredRows` the outcome of assigning them
(``Scorer.assign_prepared``), which :mod:`custseg.scoring.outputs` and
:mod:`custseg.scoring.records` turn into tables and JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import DataError
from ..prepare.rows import unusable_rows_message

__all__ = ["PreparedRows", "ScoredRows"]


@dataclass(frozen=True)
class ScoredRows:
    """Outcome of scoring ``n`` rows, as arrays (no per-row Python objects).

    ``ok`` marks the scored rows; ``labels``, ``distance``, ``runner_up`` and ``margin``
    hold one entry per scored row, ``reasons`` one per rejected row.
    """

    ok: np.ndarray  # bool (n,): True for scored rows
    ids: Any  # every row's identifier (Series, Arrow or numpy array); None without id column
    values: Mapping[str, np.ndarray]  # checked float64 numeric inputs of every row
    labels: np.ndarray  # int64 (n_ok,)
    distance: np.ndarray  # float64 (n_ok,)
    runner_up: np.ndarray  # int64 (n_ok,)
    margin: np.ndarray  # float64 (n_ok,)
    reasons: np.ndarray  # object (n - n_ok,): reason of each rejected row
    percentile: np.ndarray | None  # float64 (n_ok,): distance_percentile (None: not yet)
    flags: np.ndarray  # int64 (n_ok,): flag mask (contract.FlagCodes)
    counts: Mapping[str, int]  # missing_id, unseen_level, out_of_profile (+ duplicate_id)

    @property
    def all_ok(self) -> bool:
        return bool(self.ok.all())


@dataclass(frozen=True)
class PreparedRows:
    """Checked and prepared rows, waiting for assignment.

    Attributes
    ----------
    ok : numpy.ndarray of bool
        ``True`` for the usable rows, one entry per input row.
    ids : pandas.Series, pyarrow.ChunkedArray, numpy.ndarray or None
        Identifier of every input row (``None`` without an identifier column).
    values : mapping of str to numpy.ndarray
        Checked float64 numeric inputs of every row (NaN for gaps and unusable cells).
    X : numpy.ndarray
        The prepared usable rows, shape ``(ok.sum(), n_features)``.
    reasons : numpy.ndarray or None
        Reason of every row (``None`` where usable), or ``None`` when all are usable.
    unseen : numpy.ndarray or None
        Flag mask of every row's unseen category levels (one bit per categorical
        input, see :class:`~custseg.scoring.contract.FlagCodes`), ``None`` when no
        row has one.
    levels : mapping of str to numpy.ndarray
        Checked category values of every row, by categorical input (for reasons).
    """

    ok: np.ndarray
    ids: Any
    values: Mapping[str, np.ndarray]
    X: np.ndarray
    reasons: np.ndarray | None
    unseen: np.ndarray | None = None
    levels: Mapping[str, np.ndarray] | None = None

    @property
    def n_rejected(self) -> int:
        """Rows that cannot be scored."""
        return int((~self.ok).sum())

    def raise_if_rejected(self, *, fix: str) -> None:
        """Raise a :class:`~custseg.exceptions.DataError` when a row cannot be scored."""
        if self.reasons is None or bool(self.ok.all()):
            return
        first = int(np.flatnonzero(~self.ok)[0])
        raise DataError(
            unusable_rows_message(self.n_rejected, len(self.ok), first, self.reasons[first], fix)
        )
