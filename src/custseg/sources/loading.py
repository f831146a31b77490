"""The customer table of a task: from a file or from a query, never both."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .._utils.io import sha256_bytes, sha256_file
from .._utils.progress import NO_PROGRESS, Progress
from ..exceptions import SourceError
from .files import read_table
from .options import DEFAULT_MAX_COLUMNS, check_data_options, check_max_columns
from .query import describe_warehouse, extract
from .snapshot import manifest_path

__all__ = ["check_data_options", "describe_source", "load_data"]


def load_data(
    *,
    input: str | os.PathLike[str] | None = None,
    sql: str | None = None,
    warehouse: str | None = None,
    credentials: str | os.PathLike[str] | None = None,
    max_bytes_billed: int | None = None,
    progress: Progress = NO_PROGRESS,
    notify: Callable[[str], None] | None = None,
    max_columns: int | None = DEFAULT_MAX_COLUMNS,
) -> pd.DataFrame:
    """The customer table for a task, from a file or from a query.

    Give exactly one of ``input`` (a CSV or Parquet file, read with
    :func:`~custseg.sources.read_table`) and ``sql`` (run with
    :func:`~custseg.sources.extract`); see :func:`check_data_options`.

    Parameters
    ----------
    input : path-like, optional
        CSV or Parquet file.
    sql : str, optional
        Query to run on ``warehouse``.
    warehouse, credentials, max_bytes_billed, progress, notify
        As :func:`~custseg.sources.extract`; only with ``sql``.
    max_columns : int or None, default 5000
        Refuse a wider table, from the file's header or schema before its rows are
        read (:func:`~custseg.sources.read_table`); ``None``: no limit.

    Returns
    -------
    pandas.DataFrame
        At least one row.

    Raises
    ------
    ConfigError
        Both or neither of ``input`` and ``sql``, warehouse options with ``input``, or
        a ``max_columns`` that is not a positive integer.
    SourceError
        As :func:`~custseg.sources.read_table` and :func:`~custseg.sources.extract`;
        also a file without data rows.
    """
    check_data_options(
        input=input,
        sql=sql,
        warehouse=warehouse,
        credentials=credentials,
        max_bytes_billed=max_bytes_billed,
    )
    limit = check_max_columns(max_columns)
    if input is not None:
        with progress.stage(f"Reading {Path(input).name}"):
            frame = read_table(input, max_columns=limit)
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
        max_columns=limit,
    ).frame


def describe_source(
    *,
    input: str | os.PathLike[str] | None = None,
    sql: str | None = None,
    warehouse: str | None = None,
    query_file: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """What a table was read from, to store with a model trained on it.

    Parameters
    ----------
    input : path-like, optional
        The CSV or Parquet file read, if the table came from a file.
    sql : str, optional
        The query run, if the table came from a query.
    warehouse : str, optional
        Where ``sql`` ran (``None``: the embedded warehouse).
    query_file : path-like, optional
        The file ``sql`` was read from (``--sql @query.sql``); its name is recorded.

    Returns
    -------
    dict
        For a file: ``source`` (the path), ``data_sha256`` (of the file) and, when a
        snapshot manifest lies beside it, ``manifest_sha256``. For a query: ``source``
        (the warehouse, secrets masked, see :func:`~custseg.sources.describe_warehouse`),
        ``query`` (the text), ``query_sha256`` (of its UTF-8 text) and, when it came
        from a file, ``query_file`` (the file's name).

    Raises
    ------
    ConfigError
        As :func:`check_data_options`.
    """
    check_data_options(input=input, sql=sql, warehouse=warehouse)
    if input is None:
        assert sql is not None
        described = {
            "source": describe_warehouse(warehouse),
            "query": sql,
            "query_sha256": sha256_bytes(sql.encode("utf-8")),
        }
        if query_file is not None:
            described["query_file"] = Path(query_file).name
        return described
    description: dict[str, Any] = {"source": str(input), "data_sha256": sha256_file(input)}
    manifest = manifest_path(input)
    if manifest.is_file():
        description["manifest_sha256"] = sha256_file(manifest)
    return description
