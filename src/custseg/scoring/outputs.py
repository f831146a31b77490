"""A scored chunk (:class:`~custseg.scoring.rows.ScoredRows`) as the tables users get.

The scored rows as a pandas frame (the Python API) or an Arrow table (files, without
per-row Python objects), and the rejected rows with their row number and reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from .._utils.arrow import from_numpy, mask_array, string_array
from .._utils.lazy import lazy_module
from ..prepare.schema import clean_column_name
from .contract import FLAGS_COLUMN, PERCENTILE_COLUMN
from .rows import ScoredRows
from .scorer import REJECT_REASON_COLUMN, REJECT_ROW_COLUMN, SCORE_COLUMNS, Scorer

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["both_table", "rejects_frame", "rejects_table", "scored_frame", "scored_table"]


def _kept(scorer: Scorer, frame: pd.DataFrame, chunk: ScoredRows) -> list[tuple[Any, Any]]:
    """Input columns to copy into the output: (label, values of every row)."""
    out = []
    for label in frame.columns:
        name = clean_column_name(label)
        if name == scorer.id_column or name in SCORE_COLUMNS:
            continue
        # Numeric inputs are copied as the checked float64 values (the same numbers,
        # gaps as NaN) so that every chunk has the same column types.
        values = chunk.values[name] if name in chunk.values else frame[label]
        out.append((label, values))
    return out


def scored_frame(
    scorer: Scorer, frame: pd.DataFrame, chunk: ScoredRows, *, first_row: int, keep_columns: bool
) -> pd.DataFrame:
    """The scored rows of a chunk as a pandas frame."""
    ok = chunk.ok
    if scorer.id_column is not None:
        ids = chunk.ids
    else:
        ids = np.arange(first_row, first_row + len(ok), dtype=np.int64)
    scored = pd.DataFrame({scorer.id_header: _rows(ids, ok)})
    if keep_columns:
        for label, values in _kept(scorer, frame, chunk):
            scored[label] = _rows(values, ok)
    scored["segment_id"] = chunk.labels
    scored["segment_name"] = pd.array(scorer.names[chunk.labels].tolist(), dtype="str")
    scored["distance"] = chunk.distance
    scored["runner_up_id"] = chunk.runner_up
    scored["margin"] = chunk.margin
    scored[PERCENTILE_COLUMN] = scorer.percentiles(chunk)
    scored[FLAGS_COLUMN] = pd.array(scorer.flag_codes.texts(chunk.flags), dtype="str")
    return scored


def scored_table(
    scorer: Scorer,
    frame: pd.DataFrame | pa.Table | None,
    chunk: ScoredRows,
    *,
    first_row: int,
    keep_columns: bool,
) -> pa.Table:
    """The scored rows of a chunk as an Arrow table (no per-row Python objects).

    ``frame`` is only read for ``keep_columns`` (``None`` is fine without it).
    """
    mask = None if chunk.all_ok else mask_array(chunk.ok)

    def take(values: Any) -> pa.Array | pa.ChunkedArray:
        array = _to_arrow(values)
        return array if mask is None else array.filter(mask)

    columns: dict[str, Any] = {}
    if scorer.id_column is not None:
        columns[scorer.id_header] = take(chunk.ids)
    else:
        columns[scorer.id_header] = take(
            np.arange(first_row, first_row + len(chunk.ok), dtype=np.int64)
        )
    if keep_columns:
        # Kept columns follow pandas' conversion: callers pass the chunk as a frame.
        assert isinstance(frame, pd.DataFrame), "keep_columns needs the chunk as a frame"
        for label, values in _kept(scorer, frame, chunk):
            columns[str(label)] = take(values)
    columns["segment_id"] = from_numpy(chunk.labels)
    columns["segment_name"] = pa.DictionaryArray.from_arrays(
        from_numpy(chunk.labels.astype(np.int32)), scorer.names_arrow
    )
    columns["distance"] = from_numpy(chunk.distance)
    columns["runner_up_id"] = from_numpy(chunk.runner_up)
    columns["margin"] = from_numpy(chunk.margin)
    columns[PERCENTILE_COLUMN] = from_numpy(scorer.percentiles(chunk))
    columns[FLAGS_COLUMN] = scorer.flag_codes.arrow(chunk.flags)
    return pa.table(columns)


def rejects_frame(scorer: Scorer, chunk: ScoredRows, *, first_row: int) -> pd.DataFrame:
    """The rejected rows of a chunk: row number (from 1), identifier, reason."""
    bad = ~chunk.ok
    rows = np.arange(first_row, first_row + len(bad), dtype=np.int64)
    rejects = pd.DataFrame({REJECT_ROW_COLUMN: rows[bad]})
    if scorer.id_column is not None:
        rejects[scorer.id_column] = _rows(chunk.ids, bad)
    rejects[REJECT_REASON_COLUMN] = pd.array(list(chunk.reasons), dtype="str")
    return rejects


def rejects_table(scorer: Scorer, chunk: ScoredRows, *, first_row: int) -> pa.Table:
    """:func:`rejects_frame` as an Arrow table (for files; no pandas)."""
    bad = ~chunk.ok
    rows = (np.flatnonzero(bad) + first_row).astype(np.int64, copy=False)
    columns: dict[str, Any] = {REJECT_ROW_COLUMN: from_numpy(rows)}
    if scorer.id_column is not None:
        # Most chunks have no reject: convert no identifier then (and no filter, which
        # would load pyarrow.compute).
        columns[scorer.id_column] = (
            _to_arrow(chunk.ids).filter(mask_array(bad)) if len(rows) else _to_arrow(chunk.ids[:0])
        )
    columns[REJECT_REASON_COLUMN] = string_array([str(r) for r in chunk.reasons])
    return pa.table(columns)


def both_table(scorer: Scorer, chunk: ScoredRows, schema: pa.Schema) -> pa.Table:
    """The scored rows then the rejected ones of a chunk in one table (one pass, two outputs).

    The columns of ``schema``: the identifier, those of :func:`scored_table` it names and
    ``reason``, which is null exactly on the scored rows; a rejected row has its
    identifier and reason only. ``schema`` gives the column types the table is cast to
    (Spark's: text as ``string``, identifiers as the input's type). Spark adds what it
    can derive itself (the segment's name), so that fewer columns cross from Python.
    """
    scored = scored_table(scorer, None, chunk, first_row=1, keep_columns=False)
    n_ok = scored.num_rows
    scored = scored.append_column(REJECT_REASON_COLUMN, pa.nulls(n_ok, pa.string()))
    scored = scored.select(schema.names).cast(schema)
    bad = ~chunk.ok
    n_bad = int(bad.sum())
    if not n_bad:
        return scored
    ids = _to_arrow(chunk.ids).filter(mask_array(bad))
    columns = {field.name: pa.nulls(n_bad, field.type) for field in schema}
    columns[scorer.id_header] = ids.cast(schema.field(scorer.id_header).type)
    columns[REJECT_REASON_COLUMN] = pa.array([str(r) for r in chunk.reasons], pa.string())
    rejected = pa.table(columns).select(schema.names).cast(schema)
    return pa.concat_tables([scored, rejected])


def _to_arrow(values: Any) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow; a column of mixed Python types (e.g. 1 and "a") as text."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        # Text as pandas hands it over (large_string), so that the scored file has the
        # same schema whichever way it was read.
        return values.cast(pa.large_string()) if pa.types.is_string(values.type) else values
    if isinstance(values, np.ndarray) and values.dtype == np.int64:
        return from_numpy(values)
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None or v != v else str(v) for v in values], pa.string())


def _rows(values: Any, mask: np.ndarray) -> Any:
    """The masked rows of a Series (its dtype kept, index reset) or of an array."""
    if isinstance(values, pd.Series):
        return values.iloc[np.flatnonzero(mask)].reset_index(drop=True)
    return np.asarray(values)[mask]
