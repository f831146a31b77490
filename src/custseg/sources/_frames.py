"""Arrow tables to pandas frames with the same column types whatever the source.

Every source (CSV, Parquet, DuckDB, SQLAlchemy, BigQuery) hands its rows over as an
Arrow table and :func:`arrow_to_frame` turns it into pandas with one set of rules, so
that a query and the snapshot written from it read back alike:

- numbers (integers, decimals, floats) become ``float64``, gaps ``NaN``;
- identifiers stay text: a column named like an id (``CUST_ID``, ``customer_id``,
  ``AccountNumber``...) or listed in ``text_columns`` is read as strings, so that
  ``"C10001"`` and ``"00123"`` are never parsed as numbers;
- text stays pandas' string dtype, dates and timestamps become ``datetime64``;
- booleans stay booleans; anything else (binary, nested) is left as Arrow converts it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

import pyarrow as pa

from .._utils.lazy import lazy_module
from ..exceptions import SourceError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

# pyarrow.compute builds its docstrings on import (40 ms): loaded when first used.
if TYPE_CHECKING:
    import pyarrow.compute as pc
else:
    pc = lazy_module("pyarrow.compute")

__all__ = [
    "arrow_to_frame",
    "normalise_table",
    "normalised_to_frame",
    "is_id_like",
    "check_unique_names",
]

# Last word of a column name that marks an identifier rather than a measure.
_ID_WORDS = frozenset({"id", "ids", "uuid", "guid", "key", "code", "no", "nr", "number"})
_ID_NAMES = frozenset({"zip", "zipcode", "postcode", "postalcode", "phone", "iban", "msisdn"})
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def is_id_like(name: str) -> bool:
    """Whether a column name reads like an identifier (``CUST_ID``, ``clientId``, ``zip``)."""
    words = [word.lower() for word in _WORDS.findall(name)]
    if not words:
        return False
    return words[-1] in _ID_WORDS or "".join(words) in _ID_NAMES


def check_unique_names(names: Iterable[str], where: str) -> None:
    """Raise :class:`SourceError` when ``names`` holds a name twice."""
    counts = Counter(names)
    duplicated = sorted(name for name, count in counts.items() if count > 1)
    if duplicated:
        raise SourceError(
            f"{where} has duplicate column name {duplicated[0]!r}; give every column a "
            "unique name (alias it with AS in SQL, rename it in the file)"
        )


def arrow_to_frame(table: pa.Table, *, text_columns: Collection[str] = ()) -> pd.DataFrame:
    """Convert an Arrow table to pandas with the package's column-type rules."""
    return normalised_to_frame(normalise_table(table, text_columns=text_columns))


def normalised_to_frame(table: pa.Table) -> pd.DataFrame:
    """The pandas frame of a table :func:`normalise_table` gave (not normalised again)."""
    # date_as_object=False: dates become datetime64 like timestamps, not Python objects.
    return table.to_pandas(date_as_object=False)


def normalise_table(table: pa.Table, *, text_columns: Collection[str] = ()) -> pa.Table:
    """The Arrow table with the package's column types (ids as text, numbers as float64).

    :func:`arrow_to_frame` is this, then pandas; applying it twice changes nothing.
    """
    columns = [
        _normalise(name, table.column(i), name in text_columns or is_id_like(name))
        for i, name in enumerate(table.column_names)
    ]
    return pa.table(columns, names=table.column_names)


def _normalise(name: str, column: pa.ChunkedArray, as_text: bool) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if as_text:
        return _as_text(column)
    if pa.types.is_null(kind) or pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        return column.cast(pa.float64())
    if pa.types.is_floating(kind) and kind != pa.float64():
        return column.cast(pa.float64())
    return column


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_floating(kind):
        # An id stored as a float (a warehouse INT64 with gaps) must read "123", not "123.0".
        valid = pc.drop_null(column)
        if len(valid) and pc.all(pc.equal(pc.floor(valid), valid)).as_py():
            try:
                return column.cast(pa.int64()).cast(pa.string())
            except pa.ArrowInvalid:  # beyond the int64 range: keep the float spelling
                pass
    return column.cast(pa.string())
