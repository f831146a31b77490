"""Files as sources: CSV and Parquet tables read into pandas, whole or in chunks.

Every command that takes ``--input`` reads through these functions, so a file reads
the same way everywhere: identifiers stay text, numbers are ``float64``, gaps are
``NaN`` (see :mod:`custseg.sources._frames` for the rules).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from .._utils.lazy import lazy_module
from .._utils.text import plain
from ..exceptions import ConfigError, SchemaError, SourceError
from ._csv import count_csv_rows, read_csv, sniff_csv, stream_csv
from ._frames import arrow_to_frame, normalise_table, normalised_to_frame

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "CSV_SUFFIXES",
    "PARQUET_SUFFIXES",
    "file_format",
    "read_table",
    "iter_table",
    "iter_arrow",
    "normalised_to_frame",
    "table_row_count",
]

_T = TypeVar("_T")

CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


def file_format(path: str | os.PathLike[str]) -> str:
    """Return ``"csv"`` or ``"parquet"`` from the file name's extension.

    Parameters
    ----------
    path : str or path-like
        A file name such as ``customers.csv``, ``customers.csv.gz`` or ``customers.parquet``.

    Returns
    -------
    str
        ``"csv"`` or ``"parquet"``.

    Raises
    ------
    SourceError
        When the extension is neither.
    """
    name = Path(path).name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    suffix = "".join(Path(path).suffixes) or "(none)"
    raise SourceError(
        f"unsupported file type {suffix!r} for {os.fspath(path)!r}; use a .csv (or .csv.gz, "
        ".tsv) or a .parquet file"
    )


def read_table(
    path: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    *,
    text_columns: Collection[str] = (),
) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    CSV files may be UTF-8 with or without a byte-order mark, delimited by ``,``
    ``;`` tab or ``|`` (sniffed from the first lines), with quoted fields and decimal
    points (decimal commas are recognised in files delimited by something else than
    a comma). Parquet files are read with pyarrow.

    Parameters
    ----------
    path : str or path-like
        ``.csv``, ``.tsv``, ``.csv.gz``, ``.tsv.gz``, ``.parquet`` or ``.pq`` file.
    columns : sequence of str, optional
        Read only these columns, in this order. Default: all columns.
    text_columns : collection of str, default ()
        Columns to keep as text whatever they hold (an id column that the name rule
        does not recognise, a numeric code). Columns named like identifiers
        (``CUST_ID``, ``customer_id``, ``AccountNumber``) and values with leading
        zeros (``00123``) are text anyway.

    Returns
    -------
    pandas.DataFrame
        Numbers as ``float64`` (gaps as ``NaN``), identifiers and text as strings,
        dates and timestamps as ``datetime64``. A file without data rows gives an
        empty frame with its columns.

    Raises
    ------
    SourceError
        Missing or unreadable file, unsupported extension, malformed CSV, not UTF-8.
    SchemaError
        A name in ``columns`` is not a column of the file.
    """
    source, kind = _check_file(path)
    if kind == "parquet":
        parquet = _open_parquet(source)
        wanted = _check_columns(columns, parquet.schema_arrow.names, source)
        table = _parquet_call(source, lambda: parquet.read(columns=wanted))
        return arrow_to_frame(table, text_columns=text_columns)
    layout = sniff_csv(source, text_columns)
    wanted = _check_columns(columns, layout.names, source)
    return arrow_to_frame(read_csv(layout, wanted), text_columns=text_columns)


def iter_table(
    path: str | os.PathLike[str],
    chunk_size: int = 100_000,
    *,
    columns: Sequence[str] | None = None,
    text_columns: Collection[str] = (),
) -> Iterator[pd.DataFrame]:
    """Stream a CSV or Parquet file as DataFrames of ``chunk_size`` rows.

    Memory holds one chunk at a time, whatever the size of the file. Each chunk's
    index continues the previous one's (row ``i`` of the file has index ``i``), so
    rejected rows can be reported by position. Column types follow
    :func:`read_table`; a CSV column of numbers that turns out to hold text further
    down comes as strings in the chunks from there on (row checks then reject the
    offending rows instead of the whole file failing).

    Parameters
    ----------
    path : str or path-like
        CSV or Parquet file (see :func:`read_table`).
    chunk_size : int, default 100_000
        Rows per chunk; the last chunk may be shorter. A file without data rows
        yields one empty chunk.
    columns : sequence of str, optional
        Read only these columns, in this order.
    text_columns : collection of str, default ()
        Columns to keep as text (see :func:`read_table`).

    Yields
    ------
    pandas.DataFrame

    Raises
    ------
    ConfigError
        ``chunk_size`` is not a positive integer.
    SourceError, SchemaError
        As :func:`read_table`.
    """
    offset = 0
    for table in iter_arrow(path, chunk_size, columns=columns, text_columns=text_columns):
        frame = normalised_to_frame(table)
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        offset += len(frame)
        yield frame


def iter_arrow(
    path: str | os.PathLike[str],
    chunk_size: int = 100_000,
    *,
    columns: Sequence[str] | None = None,
    text_columns: Collection[str] = (),
) -> Iterator[pa.Table]:
    """Stream a CSV or Parquet file as Arrow tables of ``chunk_size`` rows, without pandas.

    The tables carry the column types of :func:`iter_table` (ids as text, numbers as
    float64, see :func:`arrow_to_frame`); ``iter_table`` is this, then pandas. Parameters
    and errors are those of :func:`iter_table`.

    Yields
    ------
    pyarrow.Table
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ConfigError(
            f"chunk_size={plain(chunk_size)!r} should be a positive integer, e.g. 100000"
        )
    source, kind = _check_file(path)
    for table in _iter_arrow(source, kind, columns, chunk_size, text_columns):
        yield normalise_table(table, text_columns=text_columns)


def table_row_count(path: str | os.PathLike[str]) -> int:
    """Number of data rows of a CSV or Parquet file.

    Parquet files answer from their metadata. CSV files are counted by parsing one
    column (about 0.5 s per million rows), which counts quoted line breaks right.

    Parameters
    ----------
    path : str or path-like
        CSV or Parquet file.

    Returns
    -------
    int

    Raises
    ------
    SourceError
        As :func:`read_table`.
    """
    source, kind = _check_file(path)
    if kind == "parquet":
        return int(_open_parquet(source).metadata.num_rows)
    return count_csv_rows(sniff_csv(source))


def _iter_arrow(
    source: Path,
    kind: str,
    columns: Sequence[str] | None,
    chunk_size: int,
    text_columns: Collection[str],
) -> Iterator[pa.Table]:
    if kind == "parquet":
        # pre_buffer=True (pyarrow's default) keeps every pre-buffered row group
        # alive until the reader closes, so memory would grow with the file; a
        # buffered stream keeps one row group at a time and reads faster too.
        parquet = _parquet_call(
            source, lambda: pq.ParquetFile(source, pre_buffer=False, buffer_size=1 << 20)
        )
        wanted = _check_columns(columns, parquet.schema_arrow.names, source)
        schema = parquet.schema_arrow
        if wanted is not None:
            schema = pa.schema([schema.field(name) for name in wanted])
        batches = parquet.iter_batches(batch_size=chunk_size, columns=wanted)
        empty = True
        while (batch := _parquet_call(source, lambda: next(batches, None))) is not None:
            empty = False
            yield pa.Table.from_batches([batch])
        if empty:
            yield schema.empty_table()
        return
    layout = sniff_csv(source, text_columns)
    wanted = _check_columns(columns, layout.names, source)
    yield from stream_csv(layout, wanted, chunk_size)


def _check_file(path: str | os.PathLike[str]) -> tuple[Path, str]:
    if not isinstance(path, str | os.PathLike):
        raise ConfigError(f"path={path!r} should be a file path (str or pathlib.Path)")
    source = Path(path)
    kind = file_format(source)
    if not source.exists():
        raise SourceError(f"file not found: {os.fspath(path)!r}; check the path and the name")
    if source.is_dir():
        raise SourceError(f"{os.fspath(path)!r} is a folder, not a file; give the path of a file")
    if not os.access(source, os.R_OK):
        raise SourceError(
            f"cannot read {os.fspath(path)!r}: permission denied; make the file readable"
        )
    return source, kind


def _check_columns(
    columns: Sequence[str] | None, available: Sequence[str], source: Path
) -> list[str] | None:
    if columns is None:
        return None
    if isinstance(columns, str):
        raise ConfigError(f"columns={columns!r} should be a list of names, e.g. [{columns!r}]")
    missing = [name for name in columns if name not in available]
    if missing:
        shown = ", ".join(available[:20]) + (", ..." if len(available) > 20 else "")
        raise SchemaError(
            f"column {missing[0]!r} is not in {source}; choose among its columns: {shown}"
        )
    return list(columns)


def _open_parquet(source: Path) -> pq.ParquetFile:
    return _parquet_call(source, lambda: pq.ParquetFile(source))


def _parquet_call(source: Path, action: Callable[[], _T]) -> _T:
    try:
        return action()
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(
            f"cannot read {source} as Parquet: {str(exc).splitlines()[0]}; check that it "
            "is a valid Parquet file"
        ) from exc
