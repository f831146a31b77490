"""Append pandas chunks to one CSV or Parquet file with a schema fixed by the first chunk.

The caller gives a path (normally the temporary path of :func:`custseg._utils.io.atomic_path`)
and writes frames one after another; nothing is held in memory between chunks.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from .._utils.lazy import lazy_module
from .._utils.text import neutralise_formulas_arrow
from ..exceptions import ConfigError, ScoringError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["ChunkWriter", "OutputFormat", "output_format"]

OutputFormat = Literal["csv", "parquet"]

_SUFFIXES: dict[str, OutputFormat] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def output_format(path: Path) -> OutputFormat:
    """The format implied by the suffix of ``path``."""
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(
            f"cannot tell the output format of {str(path)!r} from its suffix; end it with"
            " .csv or .parquet"
        )
    return fmt


def _settle(schema: pa.Schema) -> pa.Schema:
    """Give all-null columns of the first chunk a concrete type (string) for later chunks."""
    fields = [
        pa.field(f.name, pa.large_string()) if pa.types.is_null(f.type) else f for f in schema
    ]
    return pa.schema(fields)


def _plain_columns(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns decoded to their values (CSV has no dictionaries)."""
    if not any(pa.types.is_dictionary(f.type) for f in table.schema):
        return table
    columns = [
        column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
        for column in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def _check_flat(schema: pa.Schema) -> None:
    """Refuse list, struct and map columns (kept input columns) before a CSV file starts."""
    for field in schema:
        if pa.types.is_nested(field.type):
            raise ConfigError(
                f"column {field.name!r} holds nested values ({field.type}), which a CSV file"
                " cannot hold; write a .parquet file (--out scored.parquet) or leave"
                " --keep-columns out"
            )


class ChunkWriter:
    """Write frames of identical columns to ``path``, one after another.

    Parameters
    ----------
    path : pathlib.Path
        Destination: a new or empty file, such as the temporary path of
        :func:`custseg._utils.io.atomic_path` (created by the first write or by
        :meth:`close`, never truncated).
    fmt : {"csv", "parquet"}
        File format.
    """

    def __init__(self, path: Path, fmt: OutputFormat) -> None:
        self.path = path
        self.fmt = fmt
        self._schema: pa.Schema | None = None
        self._writer: pq.ParquetWriter | pa_csv.CSVWriter | None = None
        self._sink: pa.NativeFile | None = None
        self._columns: list[str] | None = None

    def write(self, data: pd.DataFrame | pa.Table) -> None:
        """Append a frame or an Arrow table; its columns must be those of the first one."""
        # Tested on the Arrow side: asking pandas would import it for Arrow-only runs.
        if isinstance(data, pa.Table):
            table = data
        else:
            table = pa.Table.from_pandas(data, preserve_index=False)
        table = table.replace_schema_metadata(None)
        if self.fmt == "csv":
            # A spreadsheet runs a text cell starting with "=", "+", "-" or "@": such cells
            # get a leading quote (docs/inference.md); Parquet keeps values exactly.
            # Neutralised before decoding, a dictionary column is checked on its levels.
            table = _plain_columns(neutralise_formulas_arrow(table))
        if self._schema is None:
            self._open(table)
        assert self._schema is not None and self._writer is not None
        if table.schema != self._schema:
            table = self._conform(table)
        self._writer.write_table(table)

    def _open(self, table: pa.Table) -> None:
        if self.fmt == "csv":
            _check_flat(table.schema)
        self._schema = _settle(table.schema)
        self._columns = list(table.column_names)
        # Opened for appending, not truncated: on ext4, closing a file that was opened
        # with O_TRUNC forces its blocks to be allocated at once (the "replace by
        # truncate" safeguard), which took 40 ms for 110 MB. The path is a new, empty
        # temporary file (see custseg._utils.io.atomic_path) or written only by us.
        if self.path.exists() and self.path.stat().st_size:
            raise ValueError(f"{self.path} is not empty; ChunkWriter appends to a new file")
        self._sink = pa.OSFile(str(self.path), mode="a")
        if self.fmt == "parquet":
            self._writer = pq.ParquetWriter(
                self._sink,
                self._schema,
                compression="snappy",
                # Dictionary pages pay off for segment ids and names; for unique
                # customer ids and distances they are built and thrown away.
                use_dictionary=[
                    f.name
                    for f in self._schema
                    if pa.types.is_dictionary(f.type) or pa.types.is_integer(f.type)
                ],
            )
        else:
            self._writer = pa_csv.CSVWriter(self._sink, self._schema)

    def _conform(self, table: pa.Table) -> pa.Table:
        assert self._schema is not None
        if list(table.column_names) != self._columns:
            raise ScoringError(
                f"a chunk has columns {table.column_names} instead of {self._columns};"
                " the input changed shape while it was read"
            )
        arrays = []
        for field, column in zip(self._schema, table.columns, strict=True):
            if column.type == field.type:
                arrays.append(column)
                continue
            try:
                arrays.append(column.cast(field.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ScoringError(
                    f"column {field.name!r} changed type from {field.type} to {column.type}"
                    " between chunks; give the input a fixed schema (Parquet) or a larger"
                    " chunk size"
                ) from exc
        return pa.Table.from_arrays(arrays, schema=self._schema)

    def close(self) -> None:
        """Finish the file; an empty file (header only for CSV) if nothing was written."""
        if self._writer is None:
            # No chunk: still write a valid, empty file so that a stale one never survives.
            self._open(pa.table({}))
        assert self._writer is not None and self._sink is not None
        self._writer.close()
        self._sink.close()
