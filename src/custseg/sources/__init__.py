"""Data sources: run SQL on a warehouse or read a file, and get a pandas DataFrame.

The warehouse is chosen by the scheme of a URL:

- ``None``: the embedded DuckDB warehouse, where the bundled sample is the table
  ``credit_card_customers``;
- ``duckdb:///path/file.duckdb``: the user's DuckDB file, read-only;
- ``bigquery://PROJECT[/DATASET][?location=EU]``: Google BigQuery, with a dry run and
  an optional byte limit;
- any other SQLAlchemy URL (``sqlite:///file.db``, ``postgresql://user@host/db``...).

Every source goes through Arrow and the same type rules (ids as text, numbers as
``float64``), so a query, its snapshot and a file read back alike.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa

from .._utils.progress import NO_PROGRESS, Progress
from ..exceptions import ConfigError, SourceError
from . import bigquery as _bigquery
from ._frames import arrow_to_frame, check_unique_names, is_id_like
from ._urls import mask_url, url_scheme
from .duckdb import SAMPLE_TABLE, run_duckdb, sample_path
from .files import file_format, iter_table, read_table, table_row_count
from .snapshot import manifest_path, save_snapshot, verify_snapshot
from .sqlalchemy_url import KNOWN_DIALECTS, run_sqlalchemy

__all__ = [
    "Extract",
    "SourceKind",
    "SAMPLE_TABLE",
    "extract",
    "load_data",
    "describe_warehouse",
    "read_table",
    "iter_table",
    "table_row_count",
    "file_format",
    "save_snapshot",
    "verify_snapshot",
    "manifest_path",
    "sample_path",
    "is_id_like",
    "mask_url",
]

SourceKind = Literal["duckdb", "bigquery", "sqlalchemy", "file"]
EMBEDDED = f"embedded DuckDB (bundled sample as table {SAMPLE_TABLE})"


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
    source_kind : {"duckdb", "bigquery", "sqlalchemy"}
        Which kind of warehouse answered.
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
    """
    if _is_embedded(warehouse):
        return EMBEDDED
    return mask_url(str(warehouse))


def extract(
    sql: str,
    warehouse: str | None = None,
    *,
    credentials: str | os.PathLike[str] | None = None,
    max_bytes_billed: int | None = None,
    progress: Progress = NO_PROGRESS,
    notify: Callable[[str], None] | None = None,
    client_factory: _bigquery.ClientFactory | None = None,
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
        URL such as ``sqlite:///file.db``.
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

    Returns
    -------
    Extract

    Raises
    ------
    ConfigError
        Empty query, unknown warehouse scheme, or a BigQuery-only option given for
        another warehouse.
    SourceError
        The warehouse cannot be reached or rejects the query, or the query returns
        no rows or no columns, or two columns with one name.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise ConfigError(
            f"sql={sql!r} should be a query, e.g. SELECT * FROM {SAMPLE_TABLE} WHERE TENURE = 12"
        )
    if warehouse is not None and not isinstance(warehouse, str):
        raise ConfigError(f"warehouse={warehouse!r} should be a URL string or None")
    kind = _warehouse_kind(warehouse)
    if kind != "bigquery":
        for name, value in (("credentials", credentials), ("max_bytes_billed", max_bytes_billed)):
            if value is not None:
                raise ConfigError(
                    f"{name}={value!r} applies to bigquery:// warehouses only, not to "
                    f"{describe_warehouse(warehouse)}; leave it out"
                )
    if max_bytes_billed is not None and (
        isinstance(max_bytes_billed, bool)
        or not isinstance(max_bytes_billed, int)
        or max_bytes_billed < 1
    ):
        raise ConfigError(
            f"max_bytes_billed={max_bytes_billed!r} should be a positive number of bytes, "
            "e.g. 10000000000 for 10 GB"
        )
    bytes_processed: int | None = None
    if kind == "bigquery":
        assert warehouse is not None
        target = _bigquery.parse_bigquery_url(warehouse)
        description = target.describe()
        table, bytes_processed = _bigquery.run_bigquery(
            sql,
            target,
            credentials=credentials,
            max_bytes_billed=max_bytes_billed,
            client_factory=client_factory or _bigquery.default_client_factory,
            notify=notify,
            progress=progress,
        )
    elif kind == "duckdb":
        description = describe_warehouse(warehouse)
        table = run_duckdb(sql, _duckdb_path(warehouse), progress=progress)
    else:
        assert warehouse is not None
        description = describe_warehouse(warehouse)
        table = run_sqlalchemy(warehouse, sql, progress=progress)
    return Extract(
        frame=_result_frame(table),
        query=sql,
        warehouse=description,
        source_kind=kind,
        bytes_processed=bytes_processed,
    )


def load_data(
    *,
    input: str | os.PathLike[str] | None = None,
    sql: str | None = None,
    warehouse: str | None = None,
    credentials: str | os.PathLike[str] | None = None,
    max_bytes_billed: int | None = None,
    progress: Progress = NO_PROGRESS,
    notify: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The customer table for a task, from a file or from a query.

    Give exactly one of ``input`` (a CSV or Parquet file, read with
    :func:`read_table`) and ``sql`` (run with :func:`extract`).

    Parameters
    ----------
    input : path-like, optional
        CSV or Parquet file.
    sql : str, optional
        Query to run on ``warehouse``.
    warehouse, credentials, max_bytes_billed, progress, notify
        As :func:`extract`; only with ``sql``.

    Returns
    -------
    pandas.DataFrame
        At least one row.

    Raises
    ------
    ConfigError
        Both or neither of ``input`` and ``sql``, or warehouse options with ``input``.
    SourceError
        As :func:`read_table` and :func:`extract`; also a file without data rows.
    """
    if (input is None) == (sql is None):
        given = "both input and sql" if input is not None else "neither input nor sql"
        raise ConfigError(
            f"{given} given; give exactly one: input='customers.csv' (--input) or "
            "sql='SELECT ...' (--sql)"
        )
    if input is not None:
        for name, value in (
            ("warehouse", warehouse),
            ("credentials", credentials),
            ("max_bytes_billed", max_bytes_billed),
        ):
            if value is not None:
                raise ConfigError(
                    f"{name}={value!r} applies to sql queries only, not to input={str(input)!r}; "
                    "leave it out"
                )
        with progress.stage(f"Reading {Path(input).name}"):
            frame = read_table(input)
        if frame.empty:
            raise SourceError(f"{str(input)!r} has no data rows; give a file with customers")
        return frame
    assert sql is not None
    return extract(
        sql,
        warehouse,
        credentials=credentials,
        max_bytes_billed=max_bytes_billed,
        progress=progress,
        notify=notify,
    ).frame


def _is_embedded(warehouse: str | None) -> bool:
    return warehouse is None or warehouse.strip() in ("", "duckdb://", "duckdb:///:memory:")


def _warehouse_kind(warehouse: str | None) -> Literal["duckdb", "bigquery", "sqlalchemy"]:
    if _is_embedded(warehouse):
        return "duckdb"
    assert warehouse is not None
    scheme = url_scheme(warehouse)
    if scheme == "duckdb":
        return "duckdb"
    if scheme == "bigquery":
        return "bigquery"
    if scheme in KNOWN_DIALECTS or (scheme and _sqlalchemy_has_dialect(warehouse)):
        return "sqlalchemy"
    raise ConfigError(_unknown_scheme(warehouse, scheme))


def _unknown_scheme(warehouse: str, scheme: str) -> str:
    masked = mask_url(warehouse)
    if not scheme:
        lowered = warehouse.lower()
        if lowered.endswith((".duckdb", ".ddb")):
            hint = f"; for a DuckDB file write duckdb:///{warehouse}"
        elif lowered.endswith((".db", ".sqlite", ".sqlite3")):
            hint = f"; for a SQLite file write sqlite:///{warehouse}"
        elif lowered.endswith((".csv", ".parquet", ".csv.gz", ".tsv")):
            hint = (
                f"; to query a file leave the warehouse out and write SELECT * FROM '{warehouse}'"
            )
        else:
            hint = "; use duckdb:///file.duckdb, bigquery://PROJECT or sqlite:///file.db"
        return f"warehouse {masked!r} has no scheme{hint}"
    return (
        f"unknown warehouse scheme {scheme!r} in {masked!r}; use duckdb:///file.duckdb, "
        "bigquery://PROJECT[/DATASET] or a SQLAlchemy URL such as sqlite:///file.db or "
        "postgresql://user@host/db"
    )


def _sqlalchemy_has_dialect(warehouse: str) -> bool:
    """Whether an installed SQLAlchemy plugin (snowflake, trino, ...) knows the scheme."""
    try:
        import sqlalchemy.exc
        from sqlalchemy.engine import make_url
    except ImportError:
        return False
    try:
        make_url(warehouse).get_dialect()
    except (sqlalchemy.exc.NoSuchModuleError, sqlalchemy.exc.ArgumentError, ValueError):
        return False
    except ImportError:
        return True  # the dialect exists; its driver is missing, reported when connecting
    return True


def _duckdb_path(warehouse: str | None) -> Path | None:
    if _is_embedded(warehouse):
        return None
    assert warehouse is not None
    path = warehouse.partition("://")[2]
    # duckdb:///relative.duckdb and duckdb:////absolute.duckdb, as SQLAlchemy spells files.
    path = path.removeprefix("/").split("?", 1)[0]
    return Path(path)


def _result_frame(table: pa.Table) -> pd.DataFrame:
    if table.num_columns == 0:
        raise SourceError(
            "the query returned no result set; give a query that returns rows (SELECT ...)"
        )
    check_unique_names(table.column_names, "the query result")
    if table.num_rows == 0:
        raise SourceError(
            "the query returned no rows; check its WHERE clause and the table it reads"
        )
    return arrow_to_frame(table)
