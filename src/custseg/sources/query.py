"""Run a query on a registered warehouse and get its rows as a DataFrame."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import pandas as pd
import pyarrow as pa

from .._utils.progress import NO_PROGRESS, Progress
from .._utils.text import plain
from ..exceptions import ConfigError, SourceError
from . import bigquery as _bigquery
from ._frames import arrow_to_frame, check_unique_names
from ._urls import mask_url
from .duckdb import SAMPLE_TABLE
from .options import DEFAULT_MAX_COLUMNS, check_max_columns, check_width
from .registry import claiming_warehouse, find_warehouse, warehouse_options

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
    sql: str,
    warehouse: str | None = None,
    *,
    credentials: str | os.PathLike[str] | None = None,
    max_bytes_billed: int | None = None,
    progress: Progress = NO_PROGRESS,
    notify: Callable[[str], None] | None = None,
    client_factory: _bigquery.ClientFactory | None = None,
    max_columns: int | None = DEFAULT_MAX_COLUMNS,
) -> Extract:
    """Run a query on a warehouse and return its rows as a DataFrame.

    Parameters
    ----------
    sql : str
        The query. On the embedded warehouse, e.g.
        ``SELECT * FROM credit_card_customers WHERE TENURE = 12``.
    warehouse : str, optional
        ``None`` (embedded DuckDB with the bundled sample),
        ``duckdb:///file.duckdb``, ``bigquery://PROJECT[/DATASET]`` or a SQLAlchemy
        URL such as ``sqlite:///file.db`` (see
        :data:`custseg.sources.registry.WAREHOUSES`).
    credentials : path-like, optional
        BigQuery only: a service-account key file. Default: Application Default
        Credentials.
    max_bytes_billed : int, optional
        BigQuery only: refuse a query whose dry run exceeds this many bytes; also
        set as the job's ``maximum_bytes_billed``.
    progress : Progress, default NO_PROGRESS
        Receives the query and fetch stages.
    notify : callable, optional
        Receives one-line messages meant for the user before long work (the
        BigQuery dry-run estimate).
    client_factory : callable, optional
        BigQuery only: ``(project, credentials) -> client``, to supply a client.
    max_columns : int or None, default 5000
        Refuse a result with more columns than this before it becomes a DataFrame;
        ``None``: no limit.

    Returns
    -------
    Extract

    Raises
    ------
    ConfigError
        Empty query, unknown warehouse scheme, a warehouse-only option given for
        another warehouse (``credentials`` for a SQLite URL...), or a ``max_columns``
        that is not a positive integer.
    SourceError
        The warehouse cannot be reached or rejects the query, or the query returns
        no rows or no columns, two columns with one name, or more than ``max_columns``.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise ConfigError(
            f"sql={sql!r} should be a query, e.g. SELECT * FROM {SAMPLE_TABLE} WHERE TENURE = 12"
        )
    if warehouse is not None and not isinstance(warehouse, str):
        raise ConfigError(f"warehouse={warehouse!r} should be a URL string or None")
    limit = check_max_columns(max_columns)
    entry = find_warehouse(warehouse)
    given = {
        name: value
        for name, value in (
            ("credentials", credentials),
            ("max_bytes_billed", max_bytes_billed),
            ("client_factory", client_factory),
        )
        if value is not None
    }
    owners = warehouse_options()
    for name, value in given.items():
        if name not in entry.options:
            where = " and ".join(owner.label for owner in owners.get(name, ()))
            raise ConfigError(
                f"{name}={plain(value)!r} applies to {where} warehouses only, not to "
                f"{entry.describe(warehouse)}; leave it out"
            )
    result = entry.run(sql, warehouse, progress=progress, notify=notify, **given)
    return Extract(
        frame=_result_frame(result.table, limit),
        query=sql,
        warehouse=entry.describe(warehouse),
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
