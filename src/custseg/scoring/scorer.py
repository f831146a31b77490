"""The scoring engine behind :mod:`custseg.scoring.batch` and the service: check, prepare, assign.

A :class:`Scorer` is built once per model. For each chunk of rows it

1. judges every row: the general path is :func:`custseg.prepare.schema.check_rows`; when every
   numeric input is already a float64 column (what the sources produce) the same rule
   is applied with one vectorised test per column and ``check_rows`` only runs on the
   few rows that fail it, to word their reasons;
2. prepares the usable rows with the plan's own step helpers (bit-for-bit
   ``PreparationPlan.transform``, without checking the rows a second time);
3. applies the scoring contract (:mod:`custseg.scoring.contract`): a row without an
   identifier is rejected, and so are repeated identifiers and unseen category levels
   when asked;
4. assigns them with :func:`custseg.cluster.kmeans.assign`, and reads each row's
   ``distance_percentile`` off the model's distance profile
   (:mod:`custseg.cluster.typicality`), flagging ``out_of_profile`` rows.

Files are scored from Arrow tables (:meth:`Scorer.prepare_table`): float64 inputs cross to
numpy through their buffers, so scoring a file imports no pandas unless a row needs its
reason worded or an input is not a number column.

The result is a :class:`ScoredRows` of arrays, turned into a pandas frame for the Python API
or an Arrow table for files by :mod:`custseg.scoring.outputs`, and into dictionaries for
JSON by :mod:`custseg.scoring.records`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from .._utils.arrow import float64_values, string_array
from .._utils.lazy import lazy_module
from ..cluster.kmeans import assign_checked
from ..cluster.typicality import distance_percentiles
from ..exceptions import ConfigError
from ..model import SegmentationModel
from ..prepare.plan import PreparationPlan
from ..prepare.rows import RowCheck, check_columns, check_rows
from ..prepare.schema import MAX_ABS_VALUE, TableSchema, clean_column_name
from ..sources.files import normalised_to_frame
from .contract import (
    BIT_OUT_OF_PROFILE,
    DUPLICATE_ID,
    FLAGS_COLUMN,
    MISSING_ID,
    OUT_OF_PROFILE,
    PERCENTILE_COLUMN,
    UNSEEN_LEVEL,
    FlagCodes,
    SeenIds,
    id_keys,
    json_id,
    missing_ids,
    repeated_rows,
    row_value,
)
from .rows import PreparedRows, ScoredRows

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "Scorer",
    "SCORE_COLUMNS",
    "REJECT_ROW_COLUMN",
    "REJECT_REASON_COLUMN",
]

#: Columns added to every scored row, in this order.
SCORE_COLUMNS: tuple[str, ...] = (
    "segment_id",
    "segment_name",
    "distance",
    "runner_up_id",
    "margin",
    PERCENTILE_COLUMN,
    FLAGS_COLUMN,
)
#: Columns of the rejects table: the row number (from 1), the identifier, the reason.
REJECT_ROW_COLUMN = "row"
REJECT_REASON_COLUMN = "reason"
# Without an identifier column, scored rows carry their input row number instead.
_NO_ID_ROW_COLUMN = "row"
# Python types of JSON numbers and null: values the row check takes as they are.
_PLAIN_TYPES = frozenset({int, float, type(None)})
_NOT_FINITE = "a value could not be prepared (not finite); check the row"


class Scorer:
    """A model made ready to score: centroids and distance tables as arrays, once.

    Build one per model and reuse it (the service builds one at start-up).

    Parameters
    ----------
    model : SegmentationModel
        A model from :func:`custseg.load_model` or :func:`custseg.fit_segments`.
    require_id : bool, default True
        Whether rows must carry the model's identifier column (reports on a table
        without it pass ``False``; outputs then number the rows instead).

    Raises
    ------
    ConfigError
        If ``model`` is not a :class:`~custseg.model.SegmentationModel`.
    """

    def __init__(self, model: SegmentationModel, *, require_id: bool = True) -> None:
        if not isinstance(model, SegmentationModel):
            raise ConfigError(
                f"model should be a SegmentationModel, got {type(model).__name__};"
                " load one with custseg.load_model(path)"
            )
        self.model = model
        self.require_id = require_id
        self.schema: TableSchema = model.schema
        self.plan: PreparationPlan = model.preparation
        self.centroids = model.centroid_array
        self.names = np.asarray(model.segment_names(), dtype=object)
        self.names_arrow = string_array(model.segment_names())
        self.id_column: str | None = self.schema.id_column
        self.required: list[str] = list(self.plan.input_columns)
        self.flag_codes = FlagCodes(self.plan.input_categorical)
        self._percentiles, self._quantiles, self._thresholds = model.distance_profile.arrays()
        steps = {step.column: step for step in self.plan.categorical_steps}
        # Known levels: those with a column and those another column encodes (dropped).
        self._levels = {
            name: pd.Index([*steps[name].levels, *steps[name].dropped], dtype=object)
            for name in self.plan.input_categorical
            if name in steps
        }
        self._numeric_getter = (
            operator.itemgetter(*self.plan.input_numeric)
            if len(self.plan.input_numeric) >= 2 and not self.plan.input_categorical
            else None
        )

    @property
    def id_header(self) -> str:
        """Header of the identifier in outputs: the id column, or ``row`` without one."""
        return self.id_column if self.id_column is not None else _NO_ID_ROW_COLUMN

    def check_columns(self, frame: pd.DataFrame | pa.Table) -> None:
        """Raise :class:`~custseg.exceptions.SchemaError` when a needed column is absent.

        Parameters
        ----------
        frame : pandas.DataFrame or pyarrow.Table
            The input (only its columns are looked at).
        """
        labels = frame.column_names if isinstance(frame, pa.Table) else frame.columns
        check_columns(labels, self.schema, require_id=self.require_id)

    # ------------------------------------------------------------------ frames

    def score_frame(self, frame: pd.DataFrame) -> ScoredRows:
        """Score a frame whose columns were checked; rows are judged one by one."""
        return self.assign_prepared(self.prepare_frame(frame))

    def prepare_frame(self, frame: pd.DataFrame) -> PreparedRows:
        """Check and prepare the rows of a frame (no shared state: any thread may call)."""
        # Columns by position: a label lookup builds a hash table of the column
        # index, which costs more than the lookup on every new chunk.
        position = {clean_column_name(c): i for i, c in enumerate(frame.columns)}
        numeric = self.plan.input_numeric
        dtypes = frame.dtypes.to_numpy()
        if not self.plan.input_categorical and all(
            dtypes[position[name]] == np.float64 for name in numeric
        ):
            values = {
                name: frame.iloc[:, position[name]].to_numpy(dtype=np.float64) for name in numeric
            }
            where = position.get(self.id_column) if self.id_column is not None else None
            ids = frame.iloc[:, where] if where is not None else None
            return self._prepare_floats(values, ids, lambda rows: frame.iloc[rows])
        return self.prepare_checked(check_rows(frame, self.schema, require_id=self.require_id))

    def prepare_table(self, table: pa.Table) -> PreparedRows:
        """Check and prepare the rows of an Arrow table in the sources' column types.

        The table comes from :func:`custseg.sources.files.iter_arrow` (numbers as
        float64, ids as text). Float64 inputs reach numpy through their buffers, without
        pandas; a table with other inputs (text in a number column, categorical inputs)
        goes through pandas and :meth:`prepare_frame`, with the same outcome.
        """
        position = {clean_column_name(c): i for i, c in enumerate(table.column_names)}
        numeric = self.plan.input_numeric
        if self.plan.input_categorical or any(
            table.schema.field(position[name]).type != pa.float64() for name in numeric
        ):
            return self.prepare_frame(normalised_to_frame(table))
        values = {name: float64_values(table.column(position[name])) for name in numeric}
        where = position.get(self.id_column) if self.id_column is not None else None
        ids = table.column(where) if where is not None else None
        return self._prepare_floats(values, ids, lambda rows: normalised_to_frame(table.take(rows)))

    def prepare_checked(self, checked: RowCheck) -> PreparedRows:
        """Prepare rows already checked against the model's schema (not checked again).

        For callers that need the :class:`~custseg.prepare.RowCheck` themselves (the
        report describes the rejected rows); ``prepare_frame`` is this after
        :func:`~custseg.prepare.check_rows`.
        """
        numeric = self.plan.input_numeric
        reasons = checked.reasons.to_numpy(dtype=object)
        ok = pd.isna(checked.reasons).to_numpy()
        values = {name: checked.frame[name].to_numpy(dtype=np.float64) for name in numeric}
        columns = values if bool(ok.all()) else {n: v[ok] for n, v in values.items()}
        levels = {
            name: checked.frame[name].to_numpy(dtype=object) for name in self.plan.input_categorical
        }
        for name, level in levels.items():
            columns[name] = level[ok]
        ids = checked.frame.get(self.id_column) if self.id_column is not None else None
        prepared = self._prepare(ok, ids, values, columns, reasons)
        unseen = self._unseen(levels)
        if unseen is None:
            return prepared
        return PreparedRows(
            prepared.ok, ids, values, prepared.X, prepared.reasons, unseen=unseen, levels=levels
        )

    def _unseen(self, levels: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """Flag mask of the category values the model does not encode (gaps are not)."""
        mask = None
        for i, (name, values) in enumerate(levels.items()):
            known = self._levels.get(name)
            if known is None:
                continue
            new = (known.get_indexer(pd.Index(values, dtype=object)) < 0) & pd.notna(values)
            if new.any():
                if mask is None:
                    mask = np.zeros(len(values), dtype=np.int64)
                mask[new] |= self.flag_codes.level_bit(i)
        return mask

    def _prepare_floats(
        self,
        values: dict[str, np.ndarray],
        ids: Any,
        rows_frame: Callable[[np.ndarray], pd.DataFrame],
    ) -> PreparedRows:
        """Prepare float64 inputs; ``rows_frame(rows)`` gives those rows as a frame."""
        # For float64 columns check_rows rejects exactly the cells with |x| > 1e15
        # (infinities included; NaN is a gap). A column whose minimum and maximum are
        # within the bounds (NaN-free, then) needs no more; others are tested cell by
        # cell, and check_rows words the reasons of the rows that fail.
        n = len(next(iter(values.values())))
        bad = np.zeros(n, dtype=bool)
        magnitude = np.empty(n, dtype=np.float64)
        beyond = np.empty(n, dtype=bool)
        gap_free = []
        with np.errstate(invalid="ignore"):
            for name, v in values.items():
                if n and v.min() >= -MAX_ABS_VALUE and v.max() <= MAX_ABS_VALUE:
                    gap_free.append(name)  # NaN would have made min and max NaN
                    continue
                np.abs(v, out=magnitude)
                np.greater(magnitude, MAX_ABS_VALUE, out=beyond)
                bad |= beyond
        reasons = None
        ok = ~bad
        columns = values
        if bad.any():
            rows = np.flatnonzero(bad)
            worded = check_rows(
                rows_frame(rows), self.schema, require_id=self.require_id
            ).reasons.to_numpy(dtype=object)
            reasons = np.full(n, None, dtype=object)
            reasons[rows] = worded
            columns = {name: v[ok] for name, v in values.items()}
        return self._prepare(ok, ids, values, columns, reasons, gap_free=gap_free)

    def _prepare(
        self,
        ok: np.ndarray,
        ids: Any,
        values: Mapping[str, np.ndarray],
        columns: dict[str, np.ndarray],
        reasons: np.ndarray | None,
        *,
        gap_free: Sequence[str] = (),
    ) -> PreparedRows:
        """Prepare the usable rows (``columns``, already checked).

        ``reasons`` has one entry per row (``None`` for usable ones), or is ``None``
        itself when every row is usable; ``gap_free`` names columns without NaN.
        """
        n_usable = int(ok.sum())
        X = self.plan.transform_checked(columns, n_usable, gap_free=gap_free)
        # One pass without a temporary: a NaN or an infinity makes the sum non-finite
        # (prepared values are bounded, so finite ones cannot overflow it in practice;
        # if they did, the exact test below would simply find every row finite).
        if np.isfinite(X.sum()):
            return PreparedRows(ok, ids, values, X, reasons)
        # Rows of X.T are contiguous: transform_checked returns a column-major matrix.
        finite = np.isfinite(X.T).all(axis=0)
        if not bool(finite.all()):
            # The plan promises finite output; a row that still breaks it is rejected
            # rather than given a meaningless segment.
            bad = np.flatnonzero(ok)[~finite]
            ok = ok.copy()
            ok[bad] = False
            reasons = np.full(len(ok), None, dtype=object) if reasons is None else reasons.copy()
            reasons[bad] = _NOT_FINITE
            X = X[finite]
        return PreparedRows(ok, ids, values, X, reasons)

    def assign_prepared(
        self,
        prepared: PreparedRows,
        *,
        reject: frozenset[str] = frozenset(),
        seen: SeenIds | None = None,
        count_duplicates: bool = False,
        repeated: np.ndarray | None = None,
        percentiles: bool = True,
    ) -> ScoredRows:
        """Apply the scoring contract to prepared rows and assign the kept ones.

        Parameters
        ----------
        prepared : PreparedRows
            Rows from one of the ``prepare_*`` methods.
        reject : frozenset of str, default empty
            Codes of :data:`~custseg.scoring.contract.REJECTABLE` whose rows are
            rejected instead of scored.
        seen : SeenIds or None, default None
            Identifiers of the earlier chunks of the same input (streams); ``None``
            compares the rows of this chunk only.
        count_duplicates : bool, default False
            Count repeated identifiers in ``counts["duplicate_id"]`` even when they
            are not rejected (a stream counts them on its own).
        repeated : numpy.ndarray of bool or None, default None
            The rows whose identifier is on an earlier row, when the caller knows them
            (Spark ranks the rows of each identifier over the whole table).
        percentiles : bool, default True
            Compute ``distance_percentile`` now; ``False`` leaves it to
            :meth:`percentiles` (files compute it in the thread that writes).
        """
        ok, reasons, X = prepared.ok, prepared.reasons, prepared.X
        counts: dict[str, int] = {}
        problems: list[tuple[str, np.ndarray]] = []
        if self.id_column is not None and self.require_id:
            missing = missing_ids(prepared.ids)
            counts[MISSING_ID] = int(missing.sum()) if missing is not None else 0
            if missing is not None:
                problems.append((MISSING_ID, missing))
            if repeated is not None:
                if missing is not None:
                    repeated = repeated & ~missing
                counts[DUPLICATE_ID] = int(repeated.sum())
                if DUPLICATE_ID in reject and counts[DUPLICATE_ID]:
                    problems.append((DUPLICATE_ID, repeated))
            elif DUPLICATE_ID in reject or count_duplicates or seen is not None:
                keys, absent = id_keys(prepared.ids)
                present = ~absent
                repeated = (
                    seen.add(keys, present) if seen is not None else repeated_rows(keys, present)
                )
                counts[DUPLICATE_ID] = int(repeated.sum())
                if DUPLICATE_ID in reject and counts[DUPLICATE_ID]:
                    problems.append((DUPLICATE_ID, repeated))
        unseen = prepared.unseen
        counts[UNSEEN_LEVEL] = int(np.count_nonzero(unseen)) if unseen is not None else 0
        if unseen is not None and UNSEEN_LEVEL in reject:
            problems.append((UNSEEN_LEVEL, unseen != 0))
        if problems:
            ok, reasons, X = self._reject(prepared, problems)
        rejected = reasons[~ok] if reasons is not None else np.empty(0, dtype=object)
        if X.shape[0] == 0:
            none_i = np.empty(0, dtype=np.int64)
            none_f = np.empty(0, dtype=np.float64)
            counts[OUT_OF_PROFILE] = 0
            return ScoredRows(
                ok,
                prepared.ids,
                prepared.values,
                none_i,
                none_f,
                none_i,
                none_f,
                rejected,
                none_f,
                none_i,
                counts,
            )
        # The prepared rows are finite by construction (_prepare rejects the others):
        # the assignment need not scan them again.
        result = assign_checked(X, self.centroids)
        labels = np.asarray(result.labels, dtype=np.int64)
        distance = np.asarray(result.distance, dtype=np.float64)
        percentile = (
            distance_percentiles(distance, labels, self._percentiles, self._quantiles)
            if percentiles
            else None
        )
        beyond = distance > self._thresholds[labels]
        flags = np.where(beyond, BIT_OUT_OF_PROFILE, 0).astype(np.int64)
        if unseen is not None:
            flags |= unseen[ok]
        counts[OUT_OF_PROFILE] = int(np.count_nonzero(beyond))
        return ScoredRows(
            ok=ok,
            ids=prepared.ids,
            values=prepared.values,
            labels=labels,
            distance=distance,
            runner_up=np.asarray(result.runner_up, dtype=np.int64),
            margin=np.asarray(result.margin, dtype=np.float64),
            reasons=rejected,
            percentile=percentile,
            flags=flags,
            counts=counts,
        )

    def percentiles(self, chunk: ScoredRows) -> np.ndarray:
        """``distance_percentile`` of the scored rows of a chunk (computed if not yet)."""
        if chunk.percentile is not None:
            return chunk.percentile
        return distance_percentiles(
            chunk.distance, chunk.labels, self._percentiles, self._quantiles
        )

    def _reject(
        self, prepared: PreparedRows, problems: list[tuple[str, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Reject the usable rows that break the contract; ``(ok, reasons, X)`` after it.

        Rows already rejected keep their reason. Reasons start with their code.
        """
        ok = prepared.ok
        bad = np.zeros(len(ok), dtype=bool)
        for _, rows in problems:
            bad |= rows
        bad &= ok
        if not bad.any():
            return ok, prepared.reasons, prepared.X
        reasons = (
            np.full(len(ok), None, dtype=object)
            if prepared.reasons is None
            else prepared.reasons.copy()
        )
        words: dict[int, list[str]] = {}
        for code, rows in problems:
            for row in np.flatnonzero(rows & bad).tolist():
                words.setdefault(row, []).append(self._reason(code, prepared, row))
        for row, parts in words.items():
            reasons[row] = "; ".join(parts)
        X = prepared.X[~bad[ok]]
        return ok & ~bad, reasons, X

    def _reason(self, code: str, prepared: PreparedRows, row: int) -> str:
        """The reason of one rejected row, starting with its code."""
        if code == MISSING_ID:
            return (
                f"{MISSING_ID}: {self.id_column} is empty; give every row its identifier"
                " so that its score can be joined back"
            )
        if code == DUPLICATE_ID:
            value = json_id(row_value(prepared.ids, row))
            return (
                f"{DUPLICATE_ID}: {self.id_column} {str(value)[:40]!r} is on an earlier row"
                " of this input"
            )
        assert prepared.unseen is not None and prepared.levels is not None
        parts = []
        for i, (name, values) in enumerate(prepared.levels.items()):
            if prepared.unseen[row] & self.flag_codes.level_bit(i):
                parts.append(
                    f"{UNSEEN_LEVEL}: {name} {str(values[row])[:40]!r} was not seen in training"
                )
        return "; ".join(parts)

    # ------------------------------------------------------------------ records

    def score_plain_records(
        self, records: Sequence[Mapping[str, Any]], ids: Any, reject: frozenset[str]
    ) -> ScoredRows | None:
        """Score JSON records whose inputs are all numbers or nulls, without pandas.

        Such values need no coercion: the row check would turn them into the same
        float64 numbers and find nothing wrong when all are within +-1e15. Anything
        else (text, categorical inputs, extreme values) returns ``None`` so that the
        caller takes the general path with its exact rejection reasons.
        """
        if self._numeric_getter is None:
            return None
        try:
            rows = list(map(self._numeric_getter, records))
        except (KeyError, TypeError):
            return None
        # Exact types: bool (a subclass of int) and text take the general path.
        if not set(map(type, chain.from_iterable(rows))) <= _PLAIN_TYPES:
            return None
        names = self.plan.input_numeric
        try:
            matrix = np.array(rows, dtype=np.float64).reshape(len(rows), len(names))
        except OverflowError:
            return None  # an integer beyond the float range: the row check words it
        with np.errstate(invalid="ignore"):
            if bool((np.abs(matrix) > MAX_ABS_VALUE).any()):
                return None
        n = len(records)
        columns = {name: matrix[:, j] for j, name in enumerate(names)}
        return self.assign_prepared(
            self._prepare(np.ones(n, dtype=bool), ids, columns, columns, None),
            reject=reject,
            count_duplicates=True,
        )
