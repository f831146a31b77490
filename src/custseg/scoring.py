"""Assign new customers to the segments of a saved model, in memory or streaming.

Every input row ends up in exactly one place: scored (with its segment, the distance to
that segment's centroid, the runner-up segment and the margin between the two) or
rejected (with its row number, identifier and the reason). Rows are prepared by the
model's own preparation plan, so gaps are imputed exactly as in training, and assigned
by :func:`custseg.segmenter.assign`, the one function that maps rows to segments.

:func:`score_file` streams: it reads the input in chunks, scores each chunk and appends
it to a temporary output file that replaces the destination only when everything has
succeeded, so memory does not grow with the input and a failure leaves no partial file.
"""

from __future__ import annotations

import itertools
import operator
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._chunkwriter import ChunkWriter, output_format
from ._io import atomic_path
from ._prepsteps import _apply_categorical, _apply_numeric, _stack
from ._progress import NO_PROGRESS, Progress
from .domain import compute_domain_feature
from .exceptions import ConfigError, DataError, ScoringError
from .features import PreparationPlan
from .model import SegmentationModel
from .schema import MAX_ABS_VALUE, TableSchema, check_rows, clean_column_name
from .segmenter import assign

__all__ = [
    "SCORE_COLUMNS",
    "Scorer",
    "ScoreResult",
    "ScoreSummary",
    "score_customers",
    "score_file",
]

#: Columns added to every scored row, in this order.
SCORE_COLUMNS: tuple[str, ...] = (
    "segment_id",
    "segment_name",
    "distance",
    "runner_up_id",
    "margin",
)

#: Rows per chunk of :func:`score_file`: large enough to amortise per-chunk overhead,
#: small enough that a chunk of 20 float64 columns stays around 30 MB.
DEFAULT_CHUNK_SIZE = 200_000

#: Columns of the rejects table: the row number (from 1), the identifier, the reason.
REJECT_ROW_COLUMN = "row"
REJECT_REASON_COLUMN = "reason"

# Python types of JSON numbers and null: values the row check would take as they are.
_PLAIN_TYPES = frozenset({int, float, type(None)})

# Without an identifier column, scored rows carry their input row number instead.
_NO_ID_ROW_COLUMN = "row"


@dataclass(frozen=True)
class ScoreResult:
    """Scored and rejected rows of one table.

    Attributes
    ----------
    scored : pandas.DataFrame
        One row per usable input row, in input order: the identifier (or ``row`` when
        the model has no identifier), the input columns when asked for, then
        ``segment_id``, ``segment_name``, ``distance``, ``runner_up_id`` and ``margin``.
    rejects : pandas.DataFrame
        One row per unusable input row: ``row`` (position in the input, counting from 1),
        the identifier and ``reason``.
    """

    scored: pd.DataFrame
    rejects: pd.DataFrame


@dataclass(frozen=True)
class ScoreSummary:
    """What :func:`score_file` did.

    Attributes
    ----------
    rows_in : int
        Rows read from the input.
    scored : int
        Rows written to ``out``.
    rejected : int
        Rows written to ``rejects``; ``scored + rejected == rows_in``.
    out : pathlib.Path
        The scored file.
    rejects : pathlib.Path
        The rejects file (written even when empty, so that a stale one never survives).
    """

    rows_in: int
    scored: int
    rejected: int
    out: Path
    rejects: Path

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return {
            "rows_in": self.rows_in,
            "scored": self.scored,
            "rejected": self.rejected,
            "out": str(self.out),
            "rejects": str(self.rejects),
        }

    def line(self) -> str:
        """One human line, e.g. ``8950 rows: 8949 scored, 1 rejected (see x.rejects.csv)``."""
        return (
            f"{self.rows_in} rows: {self.scored} scored, {self.rejected} rejected"
            f" -> {self.out} (rejects: {self.rejects})"
        )


@dataclass(frozen=True)
class _Chunk:
    """Outcome of scoring one frame, as arrays (no per-row Python objects)."""

    checked: pd.DataFrame | None  # coerced id and feature columns (None for plain records)
    ok: np.ndarray  # bool (n,): True for scored rows
    labels: np.ndarray  # int64 (n_ok,)
    distance: np.ndarray  # float64 (n_ok,)
    runner_up: np.ndarray  # int64 (n_ok,)
    margin: np.ndarray  # float64 (n_ok,)
    reasons: np.ndarray  # object (n - n_ok,): reason of each rejected row


class Scorer:
    """A model made ready to score: plan rebuilt and centroids as an array, once.

    Build one per model and reuse it (the service builds one at start-up); building it
    validates that the model's schema and preparation plan can be read.

    Parameters
    ----------
    model : SegmentationModel
        A model from :func:`custseg.model.load_model` or :func:`custseg.fit_segments`.

    Raises
    ------
    ModelError
        If the model's schema or preparation plan cannot be read.
    """

    def __init__(self, model: SegmentationModel) -> None:
        if not isinstance(model, SegmentationModel):
            raise ConfigError(
                f"model should be a SegmentationModel, got {type(model).__name__};"
                " load one with custseg.load_model(path)"
            )
        self.model = model
        self.schema = TableSchema.from_dict(model.schema)
        self.plan = PreparationPlan.from_dict(model.preparation)
        self.centroids = model.centroid_array
        self.names = np.asarray(model.segment_names(), dtype=object)
        self.id_column: str | None = self.schema.id_column
        self.required: list[str] = list(self.plan.input_columns)

    @property
    def id_header(self) -> str:
        """Header of the identifier in outputs: the id column, or ``row`` without one."""
        return self.id_column if self.id_column is not None else _NO_ID_ROW_COLUMN

    def check_columns(self, frame: pd.DataFrame) -> None:
        """Raise :class:`SchemaError` when a column the model needs is absent from ``frame``.

        Parameters
        ----------
        frame : pandas.DataFrame
            The input (only its columns are looked at).
        """
        # The row checker owns the column rules (names cleaned of BOMs and spaces,
        # "did you mean" hints); on zero rows it checks the columns and nothing else.
        check_rows(frame.iloc[:0], self.schema)

    def score_frame(self, frame: pd.DataFrame) -> _Chunk:
        """Score a frame with a positional index; rows are judged one by one."""
        checked = check_rows(frame, self.schema)
        reasons = checked.reasons.to_numpy(dtype=object)
        ok = pd.isna(checked.reasons).to_numpy()
        usable = checked.frame if bool(ok.all()) else checked.frame.loc[ok]
        columns: dict[str, np.ndarray] = {
            name: usable[name].to_numpy(dtype=np.float64) for name in self.plan.input_numeric
        }
        for name in self.plan.input_categorical:
            columns[name] = usable[name].to_numpy(dtype=object)
        return self._assign(checked.frame, ok, reasons, columns, len(usable))

    def _assign(
        self,
        checked: pd.DataFrame | None,
        ok: np.ndarray,
        reasons: np.ndarray,
        columns: dict[str, np.ndarray],
        n_usable: int,
    ) -> _Chunk:
        """Prepare the usable rows (already checked) and assign them."""
        if n_usable == 0:
            empty_i = np.empty(0, dtype=np.int64)
            empty_f = np.empty(0, dtype=np.float64)
            return _Chunk(checked, ok, empty_i, empty_f, empty_i, empty_f, reasons[~ok])
        X = _prepare_checked(self.plan, columns, n_usable)
        finite = np.isfinite(X).all(axis=1)
        if not bool(finite.all()):
            # The plan promises finite output; a row that still breaks it is rejected
            # rather than given a meaningless segment.
            bad = np.flatnonzero(ok)[~finite]
            ok = ok.copy()
            ok[bad] = False
            reasons = reasons.copy()
            reasons[bad] = "a value could not be prepared (not finite); check the row"
            X = X[finite]
        result = assign(X, self.centroids)
        return _Chunk(
            checked=checked,
            ok=ok,
            labels=np.asarray(result.labels, dtype=np.int64),
            distance=np.asarray(result.distance, dtype=np.float64),
            runner_up=np.asarray(result.runner_up, dtype=np.int64),
            margin=np.asarray(result.margin, dtype=np.float64),
            reasons=reasons[~ok],
        )

    def _score_plain_records(self, records: Sequence[Mapping[str, Any]]) -> _Chunk | None:
        """Score records whose features are all JSON numbers or nulls, without pandas.

        Such values need no coercion: the row check would turn them into the same
        float64 numbers and find nothing wrong when all are finite and within range.
        Anything else (text, categorical inputs, extreme values) returns ``None`` so
        that the caller takes the general path with its exact rejection reasons.
        """
        if self.plan.input_categorical:
            return None
        names = self.plan.input_numeric
        if len(names) < 2:
            return None  # itemgetter of one name returns a value, not a tuple
        try:
            rows = list(map(operator.itemgetter(*names), records))
        except (KeyError, TypeError):
            return None
        # Exact types: bool (a subclass of int) and text take the general path.
        if not set(map(type, itertools.chain.from_iterable(rows))) <= _PLAIN_TYPES:
            return None
        matrix = np.array(rows, dtype=np.float64).reshape(len(rows), len(names))
        with np.errstate(invalid="ignore"):
            within = np.abs(matrix) <= MAX_ABS_VALUE
        if not bool((within | np.isnan(matrix)).all()):
            return None
        n = len(records)
        columns = {name: matrix[:, j] for j, name in enumerate(names)}
        ok = np.ones(n, dtype=bool)
        return self._assign(None, ok, np.full(n, None, dtype=object), columns, n)

    def score_records(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Score JSON-like records; one result per record, in order.

        Each result has ``index`` (position in ``records``), ``id``, ``status``
        (``"scored"`` or ``"rejected"``), the score columns (``None`` when rejected)
        and ``reason`` (``None`` when scored).

        Raises
        ------
        SchemaError
            If a record lacks a field the model needs.
        """
        chunk = self._score_plain_records(records)
        if chunk is None:
            fields = ([self.id_column] if self.id_column is not None else []) + self.required
            frame = pd.DataFrame.from_records(list(records), columns=fields)
            chunk = self.score_frame(frame)
        if self.id_column is not None:
            ids = [_json_id(record.get(self.id_column)) for record in records]
        else:
            ids = [None] * len(records)
        labels = chunk.labels.tolist()
        names = self.names[chunk.labels].tolist()
        distance = chunk.distance.tolist()
        runner_up: list[Any] = chunk.runner_up.tolist()
        margin: list[Any] = chunk.margin.tolist()
        if len(self.names) == 1:
            # One segment has no runner-up (-1) and an infinite margin: JSON says null.
            runner_up = margin = [None] * len(labels)
        reasons = chunk.reasons.tolist()
        out: list[dict[str, Any]] = []
        i_ok = i_bad = 0
        for index, (identifier, usable) in enumerate(zip(ids, chunk.ok.tolist(), strict=True)):
            if usable:
                out.append(
                    {
                        "index": index,
                        "id": identifier,
                        "status": "scored",
                        "segment_id": labels[i_ok],
                        "segment_name": names[i_ok],
                        "distance": distance[i_ok],
                        "runner_up_id": runner_up[i_ok],
                        "margin": margin[i_ok],
                        "reason": None,
                    }
                )
                i_ok += 1
            else:
                out.append(
                    {
                        "index": index,
                        "id": identifier,
                        "status": "rejected",
                        "segment_id": None,
                        "segment_name": None,
                        "distance": None,
                        "runner_up_id": None,
                        "margin": None,
                        "reason": reasons[i_bad],
                    }
                )
                i_bad += 1
        return out

    def _frames(
        self, frame: pd.DataFrame, chunk: _Chunk, *, first_row: int, keep_columns: bool
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Scored and rejects frames of one chunk; ``first_row`` numbers its first row."""
        ok = chunk.ok
        assert chunk.checked is not None
        rows = np.arange(first_row, first_row + len(frame), dtype=np.int64)
        ids = chunk.checked[self.id_column].to_numpy() if self.id_column is not None else rows
        scored = pd.DataFrame({self.id_header: ids[ok]})
        if keep_columns:
            numeric = set(self.schema.numeric)
            for label in frame.columns:
                name = clean_column_name(label)
                if name == self.id_column or name in SCORE_COLUMNS:
                    continue
                # Numeric features are written as the checked float64 values (the same
                # numbers, gaps as NaN) so that every chunk has the same column types.
                source = chunk.checked[name] if name in numeric else frame[label]
                scored[label] = source.to_numpy()[ok]
        scored["segment_id"] = chunk.labels
        scored["segment_name"] = pd.array(self.names[chunk.labels].tolist(), dtype="str")
        scored["distance"] = chunk.distance
        scored["runner_up_id"] = chunk.runner_up
        scored["margin"] = chunk.margin
        rejects = pd.DataFrame({REJECT_ROW_COLUMN: rows[~ok]})
        if self.id_column is not None:
            rejects[self.id_column] = ids[~ok]
        rejects[REJECT_REASON_COLUMN] = pd.array(list(chunk.reasons), dtype="str")
        return scored, rejects


def _prepare_checked(
    plan: PreparationPlan, columns: dict[str, np.ndarray], n_rows: int
) -> np.ndarray:
    """``plan.transform`` on rows that were already checked, without checking them again.

    Scoring checks every row once (to reject the bad ones) and prepares the usable
    ones; ``transform`` would check them a second time. This runs the plan's own
    arithmetic helpers in the same order as ``PreparationPlan.transform``, so the
    result is bit-for-bit the same (the tests compare both).
    """
    columns = dict(columns)
    for spec in plan.domain_features:
        if spec.clustering:
            columns[spec.name] = compute_domain_feature(spec, columns)
    parts: list[np.ndarray] = []
    for step in plan.numeric_steps:
        x = columns[step.column]
        parts.append(_apply_numeric(x, step))
        if step.indicator is not None:
            parts.append(np.isnan(x).astype(np.float64))
    for cat in plan.categorical_steps:
        parts.append(_apply_categorical(columns[cat.column], cat))
    return plan._project(_stack(parts, n_rows))


def _json_id(value: Any) -> Any:
    """An identifier as a JSON value (numpy scalars and NaN become Python values)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def score_customers(
    model: SegmentationModel | Scorer, frame: pd.DataFrame, *, keep_columns: bool = False
) -> ScoreResult:
    """Assign each customer of ``frame`` to a segment of ``model``.

    Parameters
    ----------
    model : SegmentationModel or Scorer
        The model (a :class:`Scorer` built from it avoids rebuilding the plan).
    frame : pandas.DataFrame
        One row per customer with the identifier and the model's input columns; gaps
        are allowed and imputed as in training, extra columns are ignored.
    keep_columns : bool, default=False
        Copy every input column into the scored table (the score columns replace input
        columns of the same names).

    Returns
    -------
    ScoreResult
        ``scored`` (identifier, optional input columns, ``segment_id``, ``segment_name``,
        ``distance``, ``runner_up_id``, ``margin``) and ``rejects`` (``row`` counted
        from 1, identifier, ``reason``); together they hold every input row once.

    Raises
    ------
    SchemaError
        If a column the model needs is absent from ``frame``.
    DataError
        If ``frame`` is not a DataFrame or has no rows.
    """
    scorer = model if isinstance(model, Scorer) else Scorer(model)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"frame should be a pandas DataFrame, got {type(frame).__name__};"
            " read files with custseg.sources.read_table"
        )
    if len(frame) == 0:
        raise DataError("the input has no rows; check the query or the input file")
    scorer.check_columns(frame)
    frame = frame.reset_index(drop=True)
    chunk = scorer.score_frame(frame)
    scored, rejects = scorer._frames(frame, chunk, first_row=1, keep_columns=keep_columns)
    return ScoreResult(scored=scored, rejects=rejects)


def default_rejects_path(out: str | os.PathLike[str]) -> Path:
    """``<out stem>.rejects.csv`` next to ``out``."""
    target = Path(out)
    return target.with_name(f"{target.stem}.rejects.csv")


def score_file(
    model: SegmentationModel | Scorer,
    input: Any,
    out: str | os.PathLike[str],
    *,
    rejects: str | os.PathLike[str] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    keep_columns: bool = False,
    progress: Progress = NO_PROGRESS,
) -> ScoreSummary:
    """Score a file or a query result chunk by chunk into a CSV or Parquet file.

    Parameters
    ----------
    model : SegmentationModel or Scorer
        The model.
    input : str, path-like or pandas.DataFrame
        A CSV or Parquet file, read in chunks with :func:`custseg.sources.iter_table`,
        or a table already in memory (e.g. a query result from
        :func:`custseg.sources.load_data`), scored in chunks.
    out : str or path-like
        Scored file; ``.csv`` or ``.parquet`` (``.pq``) decides the format.
    rejects : str, path-like or None, default=None
        Rejects file (CSV); ``<out stem>.rejects.csv`` next to ``out`` when ``None``.
    chunk_size : int, default=200000
        Rows read, scored and written at a time; memory grows with it, not with the input.
    keep_columns : bool, default=False
        Copy every input column into the scored file.
    progress : Progress, default=NO_PROGRESS
        Receives the number of rows done.

    Returns
    -------
    ScoreSummary
        Counts (``scored + rejected == rows_in``) and the two paths.

    Raises
    ------
    ConfigError
        If ``out`` has an unknown suffix or ``chunk_size`` is not positive.
    SchemaError
        If a column the model needs is absent (raised before anything is written).
    DataError
        If the input has no rows.
    ScoringError
        If no row at all could be scored (the input is likely of the wrong kind).
    """
    scorer = model if isinstance(model, Scorer) else Scorer(model)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ConfigError(f"chunk_size={chunk_size!r} should be a positive integer")
    out_path = Path(out)
    fmt = output_format(out_path)
    rejects_path = Path(rejects) if rejects is not None else default_rejects_path(out_path)
    if rejects_path.resolve() == out_path.resolve():
        raise ConfigError(
            f"the rejects file {rejects_path} is the output file; choose another --rejects path"
        )

    chunks = _chunks(input, chunk_size)
    first = next(chunks, None)
    if first is None or len(first) == 0:
        what = "the input table" if isinstance(input, pd.DataFrame) else f"the input {input}"
        raise DataError(f"{what} has no rows; check the query or the input file")
    scorer.check_columns(first)

    rows_in = n_scored = 0
    first_reason: str | None = None
    with (
        progress.stage("Scoring customers", total=None) as stage,
        atomic_path(out_path) as tmp_out,
        atomic_path(rejects_path) as tmp_rejects,
    ):
        writer = ChunkWriter(tmp_out, fmt)
        rejects_writer = ChunkWriter(tmp_rejects, "csv")
        try:
            frame: pd.DataFrame | None = first
            while frame is not None:
                if len(frame):
                    frame = frame.reset_index(drop=True)
                    chunk = scorer.score_frame(frame)
                    scored, rejected = scorer._frames(
                        frame, chunk, first_row=rows_in + 1, keep_columns=keep_columns
                    )
                    writer.write(scored)
                    rejects_writer.write(rejected)
                    rows_in += len(frame)
                    n_scored += len(scored)
                    if first_reason is None and len(rejected):
                        first_reason = str(rejected[REJECT_REASON_COLUMN].iloc[0])
                    stage.advance(len(frame))
                frame = next(chunks, None)
            if n_scored == 0:
                raise ScoringError(
                    f"none of the {rows_in} input rows could be scored (first reason:"
                    f" {first_reason}); check that the input has the model's columns and types"
                )
        finally:
            writer.close()
            rejects_writer.close()
    return ScoreSummary(
        rows_in=rows_in,
        scored=n_scored,
        rejected=rows_in - n_scored,
        out=out_path,
        rejects=rejects_path,
    )


def _chunks(input: Any, chunk_size: int) -> Iterator[pd.DataFrame]:
    """The input as frames of at most ``chunk_size`` rows."""
    if isinstance(input, pd.DataFrame):
        if len(input) == 0:
            yield input
        for start in range(0, len(input), chunk_size):
            yield input.iloc[start : start + chunk_size]
        return
    from .sources import iter_table

    yield from iter_table(input, chunk_size=chunk_size)
