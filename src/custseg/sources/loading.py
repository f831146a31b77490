"""The customer table of a task: from a file or from a query, never both."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._utils.io import sha256_bytes, sha256_file
from .._utils.progress import NO_PROGRESS, Progress
from ..exceptions import ConfigError, SourceError
from ._warehouse import Notify
from .datasource import DataSource
from .files import read_table
from .options import DEFAULT_MAX_COLUMNS, check_max_columns
from .query import extract
from .snapshot import manifest_path

__all__ = ["describe_source", "load_data"]


def load_data(
    source: DataSource,
    *,
    progress: Progress = NO_PROGRESS,
    notify: Notify | None = None,
    max_columns: int | None = DEFAULT_MAX_COLUMNS,
) -> pd.DataFrame:
    """The customer table for a task, from a file or from a query.

    Parameters
    ----------
    source : DataSource
        A file (read with :func:`~custseg.sources.read_table`) or a query (run with
        :func:`~custseg.sources.extract`): ``DataSource(input="customers.csv")``,
        ``DataSource(sql="SELECT ...", warehouse="sqlite:///bank.db")``.
    progress : Progress, default NO_PROGRESS
        Receives the reading, query and fetch stages.
    notify : callable, optional
        As :func:`~custseg.sources.extract`.
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
        ``source`` is not a :class:`DataSource`, or ``max_columns`` is not a positive
        integer.
    SourceError
        As :func:`~custseg.sources.read_table` and :func:`~custseg.sources.extract`;
        also a file without data rows.
    """
    _check_source(source)
    limit = check_max_columns(max_columns)
    if source.input is None:
        return extract(source, progress=progress, notify=notify, max_columns=limit).frame
    with progress.stage(f"Reading {source.input.name}"):
        frame = read_table(source.input, max_columns=limit)
    if frame.empty:
        raise SourceError(f"{str(source.input)!r} has no data rows; give a file with customers")
    return frame


def describe_source(source: DataSource) -> dict[str, Any]:
    """What a table was read from, to store with a model trained on it.

    Parameters
    ----------
    source : DataSource
        The file or the query the table came from.

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
        ``source`` is not a :class:`DataSource`.
    """
    _check_source(source)
    if source.input is None:
        assert source.sql is not None
        described = {
            "source": source.describe(),
            "query": source.sql,
            "query_sha256": sha256_bytes(source.sql.encode("utf-8")),
        }
        if source.query_file is not None:
            described["query_file"] = source.query_file.name
        return described
    description: dict[str, Any] = {
        "source": str(source.input),
        "data_sha256": sha256_file(source.input),
    }
    manifest = manifest_path(source.input)
    if manifest.is_file():
        description["manifest_sha256"] = sha256_file(manifest)
    return description


def _check_source(source: object) -> None:
    if not isinstance(source, DataSource):
        raise ConfigError(
            f"source should be a custseg.sources.DataSource, got {type(source).__name__}; e.g."
            " DataSource(input='customers.csv') or DataSource(sql='SELECT ...')"
        )
