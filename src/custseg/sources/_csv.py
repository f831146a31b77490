"""CSV reading with Arrow: dialect sniffing, column types from the first block, streaming.

The layout of a file (delimiter, decimal mark, header, column types) is decided once
from its head; the whole file is then parsed by Arrow's multi-threaded reader with
those types fixed. Arrow's own type inference looks at the first block only and
fails on a later block that does not fit, so here a column whose later values are
not numbers is switched to text and the read restarts (see :func:`stream_csv`).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pcsv

from .._utils.lazy import lazy_module
from ..exceptions import SourceError
from ._frames import check_unique_names, is_id_like
from .options import check_width

# pyarrow.compute builds its docstrings on import (40 ms): loaded when first used.
if TYPE_CHECKING:
    import pyarrow.compute as pc
else:
    pc = lazy_module("pyarrow.compute")

__all__ = [
    "CsvLayout",
    "sniff_csv",
    "sniff_names",
    "stream_csv",
    "read_csv",
    "count_csv_rows",
    "NULL_VALUES",
]

NULL_VALUES = ["", "NA", "N/A", "#N/A", "NaN", "nan", "NULL", "null", "None"]
_DELIMITERS = (",", ";", "\t", "|")
_HEAD_BYTES = 1 << 16
_SNIFF_LINES = 50
# A head this long stops at two lines (the header and a row): the lines of a file of a
# million columns are megabytes each, and the column limit is checked on the header.
_WIDE_HEAD_BYTES = 1 << 23
# The delimiter is sniffed from about this much text, at least two rows.
_SNIFF_BYTES = 1 << 20
_BLOCK_SIZE = 1 << 20
# Arrow's streaming reader parses about 32 blocks ahead of the consumer: small blocks
# keep that window near 10 MB, whatever the size of the file.
_STREAM_BLOCK_SIZE = 1 << 18
# Rows per block at least, for wide files: Arrow keeps one array per column and block,
# so 1 MB blocks of 40 rows of 4,000 columns made 240 chunks per column (a million
# arrays for 10,000 rows) and tripled the memory and time of a read.
_TABLE_BLOCK_ROWS = 512
_STREAM_BLOCK_ROWS = 64
_FAILED_COLUMN = re.compile(r"In CSV column #(\d+)")
# "00123" is a code, not the number 123; "0", "0.5" and "-0.25" are numbers.
_LEADING_ZERO = r"^[+-]?0\d"


@dataclass(frozen=True)
class CsvLayout:
    """How to parse one CSV file."""

    path: Path
    delimiter: str
    decimal_point: str
    names: tuple[str, ...]
    types: dict[str, pa.DataType] = field(default_factory=dict)
    #: Smallest block that holds a whole row of the head, four times over: Arrow needs
    #: every row (a long header, a 1 MB text field) inside one block.
    min_block: int = 0
    #: Mean length of the head's lines: blocks grow with it (see ``_TABLE_BLOCK_ROWS``).
    row_bytes: int = 0


def sniff_names(path: Path, max_columns: int | None = None) -> CsvLayout:
    """The delimiter and column names of ``path``, without column types (read from its head).

    ``max_columns`` is checked on the header, before any row is parsed.
    """
    head = _head_text(path)
    # Python's csv module refuses fields over 128 KiB by default: the head is the limit.
    csv.field_size_limit(max(csv.field_size_limit(), len(head) + 1))
    delimiter = _sniff_delimiter(head)
    names = _header(head, delimiter, path, max_columns)
    lines = head.splitlines()
    longest = max((len(line) for line in lines), default=0)
    mean = sum(len(line) + 1 for line in lines) // max(len(lines), 1)
    return CsvLayout(path, delimiter, ".", names, {}, 4 * (longest + 1), mean)


def sniff_csv(
    path: Path, text_columns: Collection[str] = (), max_columns: int | None = None
) -> CsvLayout:
    """Decide the delimiter, decimal mark, column names and column types of ``path``.

    A header wider than ``max_columns`` is refused before any row is parsed.
    """
    named = sniff_names(path, max_columns)
    delimiter, names, min_block = named.delimiter, named.names, named.min_block
    decimal_point, inferred = _infer(path, delimiter, names, min_block)
    as_text = _read_block(
        path, delimiter, names, decimal_point, dict.fromkeys(names, pa.string()), min_block
    )
    types: dict[str, pa.DataType] = {}
    numeric: list[str] = []
    for name, kind in zip(names, inferred.schema.types, strict=True):
        if name in text_columns or is_id_like(name):
            types[name] = pa.string()
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind):
            numeric.append(name)
        elif pa.types.is_boolean(kind) or pa.types.is_temporal(kind):
            types[name] = kind
        else:
            types[name] = pa.string()
    codes = _has_codes(as_text, numeric)
    types.update((name, pa.string() if code else pa.float64()) for name, code in codes.items())
    # In the header's order, as Arrow and the tests expect.
    types = {name: types[name] for name in names}
    return CsvLayout(path, delimiter, decimal_point, names, types, min_block, named.row_bytes)


def _has_codes(as_text: pa.Table, names: list[str]) -> dict[str, bool]:
    """Whether each column holds a value with a leading zero ("00123": a code, not 123).

    One regular-expression pass over the columns laid end to end, not one per column:
    for thousands of columns the per-call cost was most of the sniffing time.
    """
    if not names or as_text.num_rows == 0:
        return dict.fromkeys(names, False)
    values = pa.concat_arrays([as_text.column(name).combine_chunks() for name in names])
    matched = pc.fill_null(pc.match_substring_regex(values, _LEADING_ZERO), False)
    grid = matched.to_numpy(zero_copy_only=False).reshape(len(names), as_text.num_rows)
    return dict(zip(names, grid.any(axis=1).tolist(), strict=True))


def _straddles(exc: pa.ArrowInvalid) -> bool:
    """Whether Arrow failed for a row longer than its block (then a larger block reads it)."""
    return "straddl" in str(exc)


def stream_csv(
    layout: CsvLayout, columns: Sequence[str] | None, chunk_size: int
) -> Iterator[pa.Table]:
    """Yield Arrow tables of exactly ``chunk_size`` rows (the last one may be shorter).

    Memory holds one chunk plus Arrow's read-ahead window. When a value deep in the file does
    not fit its column's type (text in a column of numbers), the column is read as
    text from there on: the reader restarts after the rows already yielded, so the
    chunks that follow carry that column as strings.
    """
    types = dict(layout.types)
    yielded = 0
    block = max(_STREAM_BLOCK_SIZE, layout.min_block, _STREAM_BLOCK_ROWS * layout.row_bytes)
    while True:
        try:
            reader = _open(layout, columns, types, skip=yielded, block_size=block)
            pending: list[pa.RecordBatch] = []
            n_pending = 0
            for batch in reader:
                pending.append(batch)
                n_pending += batch.num_rows
                while n_pending >= chunk_size:
                    table = pa.Table.from_batches(pending, schema=reader.schema)
                    yield table.slice(0, chunk_size)
                    yielded += chunk_size
                    pending = table.slice(chunk_size).to_batches()
                    n_pending -= chunk_size
            if n_pending or yielded == 0:
                yield pa.Table.from_batches(pending, schema=reader.schema)
            return
        except pa.ArrowInvalid as exc:
            if _straddles(exc):
                block *= 4  # a row longer than the block: read again with larger blocks
                continue
            failed = _failed_column(exc, layout)
            if failed is None or types[failed] == pa.string():
                raise _csv_error(exc, layout.path) from exc
            types[failed] = pa.string()


def read_csv(layout: CsvLayout, columns: Sequence[str] | None) -> pa.Table:
    """Read the whole file into one Arrow table."""
    types = dict(layout.types)
    block = max(_BLOCK_SIZE, layout.min_block, _TABLE_BLOCK_ROWS * layout.row_bytes)
    while True:
        try:
            # The table reader converts blocks in parallel: faster than streaming.
            options = _options(layout, columns, types, 0, block)
            return pcsv.read_csv(str(layout.path), **options)
        except pa.ArrowInvalid as exc:
            if _straddles(exc):
                block *= 4
                continue
            failed = _failed_column(exc, layout)
            if failed is None or types[failed] == pa.string():
                raise _csv_error(exc, layout.path) from exc
            types[failed] = pa.string()


def count_csv_rows(layout: CsvLayout) -> int:
    """Count the data rows by parsing one column (quoted line breaks counted right)."""
    first = layout.names[0]
    block = max(4 * _BLOCK_SIZE, layout.min_block)
    while True:
        try:
            reader = _open(layout, [first], {first: pa.string()}, skip=0, block_size=block)
            return sum(batch.num_rows for batch in reader)
        except pa.ArrowInvalid as exc:
            if not _straddles(exc):
                raise _csv_error(exc, layout.path) from exc
            block *= 4


def _open(
    layout: CsvLayout,
    columns: Sequence[str] | None,
    types: dict[str, pa.DataType],
    *,
    skip: int,
    block_size: int = _BLOCK_SIZE,
) -> pcsv.CSVStreamingReader:
    return pcsv.open_csv(str(layout.path), **_options(layout, columns, types, skip, block_size))


def _options(
    layout: CsvLayout,
    columns: Sequence[str] | None,
    types: dict[str, pa.DataType],
    skip: int,
    block_size: int,
) -> dict[str, Any]:
    return {
        "read_options": pcsv.ReadOptions(
            column_names=list(layout.names),
            # The header is skipped as a parsed row, not as a line: a quoted name may
            # hold a line break (skip_rows counts lines).
            skip_rows_after_names=1 + skip,
            block_size=block_size,
        ),
        "parse_options": pcsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=True),
        "convert_options": pcsv.ConvertOptions(
            column_types=types,
            null_values=NULL_VALUES,
            strings_can_be_null=True,
            decimal_point=layout.decimal_point,
            include_columns=list(columns) if columns is not None else None,
        ),
    }


def _head_text(path: Path) -> str:
    """The first lines of the file, decoded (UTF-8, with or without byte-order mark).

    At least 64 KiB and the header plus ``_SNIFF_LINES`` lines, however long they are
    (a header of 10,000 columns, a field of a megabyte): no limit short of memory.
    """
    raw = b""
    try:
        with pa.input_stream(str(path), compression="detect") as stream:
            while True:
                part = stream.read(max(_HEAD_BYTES, len(raw)))
                raw += part
                if not part or (len(raw) > _HEAD_BYTES and _n_lines(raw) > _SNIFF_LINES):
                    break
                if len(raw) > _WIDE_HEAD_BYTES and _n_lines(raw) >= 2:
                    break
    except (OSError, pa.ArrowException) as exc:
        raise SourceError(
            f"cannot read {path}: {str(exc).splitlines()[0]}; check that it is a readable CSV file"
        ) from exc
    whole = not part
    raw = raw.removeprefix(codecs.BOM_UTF8)
    # Cut after the last whole line, ended by LF, CRLF or a lone CR (old Mac files).
    end = max(raw.rfind(b"\n"), raw.rfind(b"\r"))
    if not whole and end >= 0:
        raw = raw[: end + 1]
    if not raw.strip():
        raise SourceError(f"{path} is empty; give a CSV file with a header row and data rows")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, raw[exc.start]) from exc


def _n_lines(raw: bytes) -> int:
    """Line ends in ``raw``: LF (also of CRLF) or, in a file without LF, CR."""
    return raw.count(b"\n") or raw.count(b"\r")


def _lines(head: str) -> io.StringIO:
    """The head as lines for the csv module: split at LF, CRLF and a lone CR alike.

    ``newline=""`` is what the csv module asks for: line ends are recognised in all
    three spellings and left in the text, so a line break inside a quoted field stays.
    """
    return io.StringIO(head, newline="")


def _not_utf8(path: Path, byte: int | None = None) -> SourceError:
    seen = f" (byte 0x{byte:02x})" if byte is not None else ""
    return SourceError(
        f"{path} is not UTF-8 text{seen}; save it as UTF-8 (for example 'CSV UTF-8' in "
        "a spreadsheet) and try again"
    )


def _sniff_delimiter(head: str) -> str:
    """The candidate that splits the first lines into the most, equally wide, fields."""
    best, best_score = ",", (False, 1)
    # Fewer rows when they are long: parsing 50 rows of a million fields four times over
    # took seconds before the header's width could be checked.
    mean = len(head) // max(head.count("\n") or head.count("\r"), 1)
    n_rows = max(2, min(_SNIFF_LINES, _SNIFF_BYTES // max(mean, 1)))
    for delimiter in _DELIMITERS:
        rows = itertools.islice(csv.reader(_lines(head), delimiter=delimiter), n_rows)
        widths = [len(row) for row in rows if row]
        if not widths:
            continue
        consistent = all(width == widths[0] for width in widths)
        score = (consistent, widths[0])
        if widths[0] > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def _header(
    head: str, delimiter: str, path: Path, max_columns: int | None = None
) -> tuple[str, ...]:
    first = next(csv.reader(_lines(head), delimiter=delimiter))
    check_width(len(first), max_columns, str(path))
    names = tuple(name.strip() or f"column_{i + 1}" for i, name in enumerate(first))
    check_unique_names(names, str(path))
    return names


def _infer(
    path: Path, delimiter: str, names: tuple[str, ...], min_block: int
) -> tuple[str, pa.Table]:
    """Arrow's types for the first block; decimal commas win if they make more numbers."""
    with_point = _read_block(path, delimiter, names, ".", {}, min_block)
    if delimiter == ",":
        return ".", with_point
    with_comma = _read_block(path, delimiter, names, ",", {}, min_block)
    if _n_floats(with_comma) > _n_floats(with_point):
        return ",", with_comma
    return ".", with_point


def _n_floats(table: pa.Table) -> int:
    return sum(pa.types.is_floating(kind) for kind in table.schema.types)


def _read_block(
    path: Path,
    delimiter: str,
    names: tuple[str, ...],
    decimal_point: str,
    types: dict[str, pa.DataType],
    min_block: int = 0,
) -> pa.Table:
    layout = CsvLayout(path, delimiter, decimal_point, names, types, min_block)
    block = max(_BLOCK_SIZE, min_block)
    while True:
        try:
            reader = _open(layout, None, types, skip=0, block_size=block)
            batch = reader.read_next_batch()
        except StopIteration:
            return pa.table({name: pa.array([], types.get(name, pa.null())) for name in names})
        except pa.ArrowInvalid as exc:
            if _straddles(exc):
                block *= 4
                continue
            raise _csv_error(exc, path) from exc
        return pa.Table.from_batches([batch])


def _failed_column(exc: pa.ArrowInvalid, layout: CsvLayout) -> str | None:
    match = _FAILED_COLUMN.search(str(exc))
    if match is None or "conversion error" not in str(exc):
        return None
    index = int(match.group(1))
    return layout.names[index] if index < len(layout.names) else None


def _csv_error(exc: pa.ArrowInvalid, path: Path) -> SourceError:
    message = str(exc).splitlines()[0]
    if "invalid UTF8" in message:
        return _not_utf8(path)
    if "Expected" in message and "columns, got" in message:
        detail = message.split("CSV parse error:", 1)[-1].strip()
        return SourceError(
            f"{path}: a row does not match the header ({detail}); check the delimiter and "
            "quote the fields that contain it"
        )
    return SourceError(f"cannot read {path}: {message}; check that it is a valid CSV file")
