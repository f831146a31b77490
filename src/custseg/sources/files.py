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

from .._utils.checks import check_int
from .._utils.lazy import lazy_module
from ..exceptions import ConfigError, SchemaError, SourceError
from ._csv import count_csv_rows, read_csv, sniff_csv, sniff_names, stream_csv
from ._frames import arrow_to_frame, normalise_table, normalised_to_frame
from .options import DEFAULT_MAX_COLUMNS, check_max_columns, check_width

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
    max_columns: int | None = DEFAULT_MAX_COLUMNS,
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
    max_columns : int or None, default 5000
        Refuse a file with more columns than this, from its CSV header or Parquet
        footer before any row is read (:data:`~custseg.config.DEFAULT_MAX_COLUMNS`);
        ``None``: no limit.

    Returns
    -------
    pandas.DataFrame
        Numbers as ``float64`` (gaps as ``NaN``), identifiers and text as strings,
        dates and timestamps as ``datetime64``. A file without data rows gives an
        empty frame with its columns.

    Raises
    ------
    ConfigError
        ``max_columns`` is not a positive integer or ``None``.
    SourceError
        Missing or unreadable file, unsupported extension, malformed CSV, not UTF-8,
        more columns than ``max_columns``.
    SchemaError
        A name in ``columns`` is not a column of the file.
    """
    limit = check_max_columns(max_columns)
    source, kind = _check_file(path)
    if kind == "parquet":
        parquet = _open_parquet(source, limit)
        wanted = _check_columns(columns, parquet.schema_arrow.names, source)
        table = _parquet_call(source, lambda: parquet.read(columns=wanted))
        return arrow_to_frame(table, text_columns=text_columns)
    layout = sniff_csv(source, text_columns, limit)
    wanted = _check_columns(columns, layout.names, source)
    return arrow_to_frame(read_csv(layout, wanted), text_columns=text_columns)


def iter_table(
    path: str | os.PathLike[str],
    chunk_size: int = 100_000,
    *,
    columns: Sequence[str] | None = None,
    text_columns: Collection[str] = (),
    max_columns: int | None = DEFAULT_MAX_COLUMNS,
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
    max_columns : int or None, default 5000
        Refuse a wider file before reading rows (see :func:`read_table`).

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
    for table in iter_arrow(
        path, chunk_size, columns=columns, text_columns=text_columns, max_columns=max_columns
    ):
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
    max_columns: int | None = DEFAULT_MAX_COLUMNS,
) -> Iterator[pa.Table]:
    """Stream a CSV or Parquet file as Arrow tables of ``chunk_size`` rows, without pandas.

    The tables carry the column types of :func:`iter_table` (ids as text, numbers as
    float64, see :func:`arrow_to_frame`); ``iter_table`` is this, then pandas. Parameters
    and errors are those of :func:`iter_table`.

    Yields
    ------
    pyarrow.Table
    """
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1, hint="e.g. 100000")
    limit = check_max_columns(max_columns)
    source, kind = _check_file(path)
    for table in _iter_arrow(source, kind, columns, chunk_size, text_columns, limit):
        yield normalise_table(table, text_columns=text_columns)


def table_row_count(path: str | os.PathLike[str], *, max_columns: int | None = None) -> int:
    """Number of data rows of a CSV or Parquet file.

    Parquet files answer from their metadata. CSV files are counted by parsing one
    column (about 0.5 s per million rows), which counts quoted line breaks right.
    The column types are not inferred and one column is read, so no column limit
    applies unless one is given.

    Parameters
    ----------
    path : str or path-like
        CSV or Parquet file.
    max_columns : int or None, default None
        Refuse a wider file from its header or footer, before counting (see
        :func:`read_table`).

    Returns
    -------
    int

    Raises
    ------
    SourceError
        As :func:`read_table`.
    """
    limit = check_max_columns(max_columns)
    source, kind = _check_file(path)
    if kind == "parquet":
        return int(_open_parquet(source, limit).metadata.num_rows)
    return count_csv_rows(sniff_names(source, limit))


def _iter_arrow(
    source: Path,
    kind: str,
    columns: Sequence[str] | None,
    chunk_size: int,
    text_columns: Collection[str],
    max_columns: int | None,
) -> Iterator[pa.Table]:
    if kind == "parquet":
        _check_parquet_width(source, max_columns)
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
    layout = sniff_csv(source, text_columns, max_columns)
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


def _open_parquet(source: Path, max_columns: int | None = None) -> pq.ParquetFile:
    _check_parquet_width(source, max_columns)
    return _parquet_call(source, lambda: pq.ParquetFile(source))


def _check_parquet_width(source: Path, max_columns: int | None) -> None:
    if max_columns is None:
        return
    width = _parquet_width(source)
    if width is None:  # not read from the footer's first bytes: ask pyarrow
        width = len(_parquet_call(source, lambda: pq.read_schema(source)))
    check_width(width, max_columns, str(source))


def _parquet_width(source: Path) -> int | None:
    """Columns of a Parquet file from the first bytes of its footer, or ``None``.

    pyarrow decodes the whole footer to tell the width: for 100,000 columns that is
    1.5 s and 370 MB. The footer (Thrift compact protocol) starts with field 1, the
    format version, then field 2, the list of schema elements, whose header holds its
    length: the root, the columns and any groups of nested columns. A flat file has
    as many columns as elements less one (the root).
    """
    try:
        with source.open("rb") as handle:
            handle.seek(-8, os.SEEK_END)
            tail = handle.read(8)
            length = int.from_bytes(tail[:4], "little")
            if tail[4:] != b"PAR1" or not 0 < length <= handle.tell() - 8:
                return None  # not Parquet, or an encrypted footer ("PARE")
            handle.seek(-8 - length, os.SEEK_END)
            head = handle.read(min(length, 32))
    except OSError:
        return None
    return _schema_length(head)


def _schema_length(head: bytes) -> int | None:
    # Step 1: field 1 (delta 1, type i32 = 5) and its zigzag varint.
    if len(head) < 3 or head[0] != 0x15:
        return None
    position = _skip_varint(head, 1)
    # Step 2: field 2 (delta 1, type list = 9), then the list header: the size in the
    # high nibble with the element type (struct = 12) in the low one, or 15 there and
    # the size as a varint after it.
    if position is None or position + 1 >= len(head) or head[position] != 0x19:
        return None
    header = head[position + 1]
    if header & 0x0F != 12:
        return None
    if header >> 4 != 15:
        size = header >> 4
    else:
        size, shift, position = 0, 0, position + 2
        while position < len(head):
            byte = head[position]
            size |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift, position = shift + 7, position + 1
        else:
            return None
    return size - 1 if size >= 1 else None


def _skip_varint(data: bytes, position: int) -> int | None:
    while position < len(data):
        if not data[position] & 0x80:
            return position + 1
        position += 1
    return None


def _parquet_call(source: Path, action: Callable[[], _T]) -> _T:
    try:
        return action()
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(
            f"cannot read {source} as Parquet: {str(exc).splitlines()[0]}; check that it "
            "is a valid Parquet file"
        ) from exc
