"""Run a query on a registered warehouse and get its rows as a DataFrame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import pandas as pd
import pyarrow as pa

from .._utils.progress import NO_PROGRESS, Progress
from ..exceptions import ConfigError, SourceError
from ._frames import arrow_to_frame, check_unique_names
from ._urls import mask_url
from ._warehouse import Notify
from .datasource import DataSource
from .options import DEFAULT_MAX_COLUMNS, check_max_columns, check_width
from .registry import claiming_warehouse

__all__ = ["Extract", "SourceKind", "describe_warehouse", "extract"]

SourceKind: TypeAlias = str
"""The ``kind`` of a registered warehouse (``"duckdb"``, ``"bigquery"``, ``"sqlalchemy"``),
or ``"file"`` for a snapshot read from a file."""


@dataclass(frozen=True)
class Extract:
    """The result of :func:`extract`.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows: ids and text as strings, numbers as ``float64``.
    query : str
        The query as given.
    warehouse : str
        The warehouse, without password or secrets (safe to print and store).
    source_kind : str
        Which kind of warehouse answered: ``"duckdb"``, ``"bigquery"`` or
        ``"sqlalchemy"`` (the ``kind`` of its entry in
        :data:`custseg.sources.registry.WAREHOUSES`).
    bytes_processed : int or None
        Bytes BigQuery processed; ``None`` for other warehouses.
    """

    frame: pd.DataFrame
    query: str
    warehouse: str
    source_kind: SourceKind
    bytes_processed: int | None = None


def describe_warehouse(warehouse: str | None) -> str:
    """A printable description of a warehouse URL: passwords and secrets masked.

    Parameters
    ----------
    warehouse : str or None
        Warehouse URL, ``None`` for the embedded warehouse.

    Returns
    -------
    str
        What :attr:`Extract.warehouse` holds for this URL; a URL no warehouse claims
        is masked all the same (this function never raises for a string).
    """
    entry = claiming_warehouse(warehouse)
    return mask_url(str(warehouse)) if entry is None else entry.describe(warehouse)


def extract(
    sql: str | DataSource,
    warehouse: str | None = None,
    *,
    progress: Progress = NO_PROGRESS,
    notify: Notify | None = None,
    max_columns: int | None = DEFAULT_MAX_COLUMNS,
    **options: Any,
) -> Extract:
    """Run a query on a warehouse and return its rows as a DataFrame.

    Parameters
    ----------
    sql : str or DataSource
        The query (on the embedded warehouse, e.g.
        ``SELECT * FROM credit_card_customers WHERE TENURE = 12``), or a
        :class:`~custseg.sources.DataSource` of a query, already checked, which then
        brings its warehouse and options.
    warehouse : str, optional
        With a query text: ``None`` (embedded DuckDB with the bundled sample),
        ``duckdb:///file.duckdb``, ``bigquery://PROJECT[/DATASET]`` or a SQLAlchemy
        URL such as ``sqlite:///file.db`` (see
        :data:`custseg.sources.registry.WAREHOUSES`).
    progress : Progress, default NO_PROGRESS
        Receives the query and fetch stages.
    notify : callable, optional
        Receives one-line messages meant for the user before long work (the
        BigQuery dry-run estimate).
    max_columns : int or None, default 5000
        Refuse a result with more columns than this before it becomes a DataFrame;
        ``None``: no limit.
    **options
        With a query text: the warehouse's own options, as
        :class:`~custseg.sources.DataSource` takes them (BigQuery: ``credentials``,
        ``max_bytes_billed``, ``client_factory``).

    Returns
    -------
    Extract

    Raises
    ------
    ConfigError
        As :class:`~custseg.sources.DataSource` (empty query, unknown warehouse, an
        option of another warehouse...); a ``DataSource`` of a file, or one given
        with a warehouse or options; a ``max_columns`` that is not a positive integer.
    SourceError
        The warehouse cannot be reached or rejects the query, or the query returns
        no rows or no columns, two columns with one name, or more than ``max_columns``.
    """
    source = _query_source(sql, warehouse, options)
    limit = check_max_columns(max_columns)
    return _run_query(source, progress=progress, notify=notify, max_columns=limit)


def _query_source(
    sql: str | DataSource, warehouse: str | None, options: dict[str, Any]
) -> DataSource:
    if not isinstance(sql, DataSource):
        return DataSource(sql=sql, warehouse=warehouse, **options)
    if warehouse is not None or any(value is not None for value in options.values()):
        raise ConfigError(
            "a DataSource brings its own warehouse and options; give them to DataSource(...),"
            " not to extract"
        )
    if sql.entry is None:
        raise ConfigError(
            f"extract runs a query, and {sql!r} is a file; read it with load_data or read_table"
        )
    return sql


def _run_query(
    source: DataSource, *, progress: Progress, notify: Notify | None, max_columns: int | None
) -> Extract:
    """:func:`extract` on a checked query source and a checked column limit."""
    entry = source.entry
    assert entry is not None and source.sql is not None
    result = entry.run(source.sql, source.warehouse, source.options, progress, notify)
    return Extract(
        frame=_result_frame(result.table, max_columns),
        query=source.sql,
        warehouse=source.describe(),
        source_kind=entry.kind,
        bytes_processed=result.bytes_processed,
    )


def _result_frame(table: pa.Table, max_columns: int | None) -> pd.DataFrame:
    if table.num_columns == 0:
        raise SourceError(
            "the query returned no result set; give a query that returns rows (SELECT ...)"
        )
    check_width(table.num_columns, max_columns, "the query result")
    check_unique_names(table.column_names, "the query result")
    if table.num_rows == 0:
        raise SourceError(
            "the query returned no rows; check its WHERE clause and the table it reads"
        )
    return arrow_to_frame(table)
