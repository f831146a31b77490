"""The warehouses a query can run on, registered once.

Each :class:`Warehouse` says which URLs it claims, how to print a URL without its
secrets, which warehouse-only options it accepts (BigQuery's ``credentials`` and
``max_bytes_billed``) and how to run a query into an Arrow table.
:func:`custseg.sources.extract`, :func:`custseg.sources.describe_warehouse` and the
hints given for a URL no warehouse claims all read :data:`WAREHOUSES`; adding a
warehouse is one module that runs queries and one entry in :data:`WAREHOUSES`.

Entries are tried in order and the first that claims a URL answers: the embedded
DuckDB comes before DuckDB files, and SQLAlchemy (which also asks installed plugins)
comes last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from .._utils.checks import is_int
from .._utils.progress import Progress
from .._utils.text import plain
from ..exceptions import ConfigError
from . import bigquery
from ._urls import mask_url, url_scheme
from .duckdb import SAMPLE_TABLE, run_duckdb
from .sqlalchemy_url import KNOWN_DIALECTS, run_sqlalchemy

__all__ = [
    "EMBEDDED",
    "WAREHOUSES",
    "QueryResult",
    "QueryRunner",
    "Warehouse",
    "claiming_warehouse",
    "find_warehouse",
    "supported_warehouses",
    "warehouse_options",
]

EMBEDDED = f"embedded DuckDB (bundled sample as table {SAMPLE_TABLE})"
"""How the embedded warehouse is described in manifests, models and messages."""


@dataclass(frozen=True)
class QueryResult:
    """What a warehouse returns for a query.

    Attributes
    ----------
    table : pyarrow.Table
        The rows, as the warehouse typed them.
    bytes_processed : int or None, default None
        Bytes the warehouse reports having processed (BigQuery), else ``None``.
    """

    table: pa.Table
    bytes_processed: int | None = None


class QueryRunner(Protocol):
    """``run(sql, url, *, progress, notify, **options) -> QueryResult``.

    ``url`` is the warehouse URL as the user gave it (``None`` for the embedded
    warehouse); ``options`` holds only the warehouse-only options the user set, among
    those the entry declares.
    """

    def __call__(
        self,
        sql: str,
        url: str | None,
        *,
        progress: Progress,
        notify: Callable[[str], None] | None,
        **options: Any,
    ) -> QueryResult: ...


def _masked(url: str | None) -> str:
    return mask_url(str(url))


@dataclass(frozen=True)
class Warehouse:
    """One registered warehouse.

    Attributes
    ----------
    kind : str
        Stored as the snapshot manifest's ``source_kind`` and as
        :attr:`custseg.sources.Extract.source_kind` (``"duckdb"``, ``"bigquery"``...).
    label : str
        How messages name the warehouse: ``"bigquery://"`` in "applies to bigquery://
        warehouses only".
    claims : callable
        ``(url or None) -> bool``: whether this entry runs queries for the URL.
    run : QueryRunner
        Runs a query and returns its rows as Arrow.
    describe : callable, default mask_url
        ``(url or None) -> str``: the URL without passwords or secrets, safe to print
        and to store in manifests and models.
    example : str or None, default None
        How to write a URL of this warehouse, listed when no entry claims a URL.
    options : tuple of str, default ()
        Warehouse-only keyword options of :func:`custseg.sources.extract` it accepts;
        any other warehouse refuses them.
    file_suffixes : tuple of str, default ()
        File names a user may give instead of a URL of this warehouse...
    file_hint : str, default ""
        ...and what to write instead, with ``{path}`` standing for the file name.
    """

    kind: str
    label: str
    claims: Callable[[str | None], bool]
    run: QueryRunner
    describe: Callable[[str | None], str] = _masked
    example: str | None = None
    options: tuple[str, ...] = ()
    file_suffixes: tuple[str, ...] = ()
    file_hint: str = ""


# ------------------------------------------------------------------- DuckDB, embedded


def _is_embedded(url: str | None) -> bool:
    return url is None or url.strip() in ("", "duckdb://", "duckdb:///:memory:")


def _run_embedded(
    sql: str,
    url: str | None,
    *,
    progress: Progress,
    notify: Callable[[str], None] | None,
    **options: Any,
) -> QueryResult:
    return QueryResult(run_duckdb(sql, None, progress=progress))


# ----------------------------------------------------------------------- DuckDB file


def _is_duckdb_file(url: str | None) -> bool:
    return url is not None and url_scheme(url) == "duckdb"


def _run_duckdb_file(
    sql: str,
    url: str | None,
    *,
    progress: Progress,
    notify: Callable[[str], None] | None,
    **options: Any,
) -> QueryResult:
    assert url is not None
    # duckdb:///relative.duckdb and duckdb:////absolute.duckdb, as SQLAlchemy spells files.
    path = url.partition("://")[2].removeprefix("/").split("?", 1)[0]
    return QueryResult(run_duckdb(sql, Path(path), progress=progress))


# -------------------------------------------------------------------------- BigQuery


def _is_bigquery(url: str | None) -> bool:
    return url is not None and url_scheme(url) == "bigquery"


def _describe_bigquery(url: str | None) -> str:
    try:
        return bigquery.parse_bigquery_url(str(url)).describe()
    except ConfigError:
        return mask_url(str(url))


def _run_bigquery(
    sql: str,
    url: str | None,
    *,
    progress: Progress,
    notify: Callable[[str], None] | None,
    **options: Any,
) -> QueryResult:
    max_bytes_billed = options.get("max_bytes_billed")
    if max_bytes_billed is not None and (not is_int(max_bytes_billed) or max_bytes_billed < 1):
        raise ConfigError(
            f"max_bytes_billed={plain(max_bytes_billed)!r} should be a positive number of bytes, "
            "e.g. 10000000000 for 10 GB"
        )
    target = bigquery.parse_bigquery_url(str(url))
    table, processed = bigquery.run_bigquery(
        sql,
        target,
        credentials=options.get("credentials"),
        max_bytes_billed=max_bytes_billed,
        client_factory=options.get("client_factory") or bigquery.default_client_factory,
        notify=notify,
        progress=progress,
    )
    return QueryResult(table, processed)


# ------------------------------------------------------------------------ SQLAlchemy


def _is_sqlalchemy(url: str | None) -> bool:
    if url is None:
        return False
    scheme = url_scheme(url)
    return scheme in KNOWN_DIALECTS or (bool(scheme) and _sqlalchemy_has_dialect(url))


def _sqlalchemy_has_dialect(url: str) -> bool:
    """Whether an installed SQLAlchemy plugin (snowflake, trino, ...) knows the scheme."""
    try:
        import sqlalchemy.exc
        from sqlalchemy.engine import make_url
    except ImportError:
        return False
    try:
        make_url(url).get_dialect()
    except (sqlalchemy.exc.NoSuchModuleError, sqlalchemy.exc.ArgumentError, ValueError):
        return False
    except ImportError:
        return True  # the dialect exists; its driver is missing, reported when connecting
    return True


def _run_sqlalchemy(
    sql: str,
    url: str | None,
    *,
    progress: Progress,
    notify: Callable[[str], None] | None,
    **options: Any,
) -> QueryResult:
    assert url is not None
    return QueryResult(run_sqlalchemy(url, sql, progress=progress))


# ------------------------------------------------------------------------ the table

WAREHOUSES: tuple[Warehouse, ...] = (
    Warehouse(
        kind="duckdb",
        label="the embedded DuckDB",
        claims=_is_embedded,
        run=_run_embedded,
        describe=lambda _url: EMBEDDED,
        file_suffixes=(".csv", ".parquet", ".csv.gz", ".tsv"),
        file_hint="to query a file leave the warehouse out and write SELECT * FROM '{path}'",
    ),
    Warehouse(
        kind="duckdb",
        label="duckdb://",
        claims=_is_duckdb_file,
        run=_run_duckdb_file,
        example="duckdb:///file.duckdb",
        file_suffixes=(".duckdb", ".ddb"),
        file_hint="for a DuckDB file write duckdb:///{path}",
    ),
    Warehouse(
        kind="bigquery",
        label="bigquery://",
        claims=_is_bigquery,
        run=_run_bigquery,
        describe=_describe_bigquery,
        example="bigquery://PROJECT[/DATASET]",
        options=("credentials", "max_bytes_billed", "client_factory"),
    ),
    Warehouse(
        kind="sqlalchemy",
        label="SQLAlchemy",
        claims=_is_sqlalchemy,
        run=_run_sqlalchemy,
        example="a SQLAlchemy URL such as sqlite:///file.db or postgresql://user@host/db",
        file_suffixes=(".db", ".sqlite", ".sqlite3"),
        file_hint="for a SQLite file write sqlite:///{path}",
    ),
)
"""Every warehouse, in the order they are asked whether they claim a URL."""


def find_warehouse(url: str | None) -> Warehouse:
    """The registered warehouse that runs queries for ``url``.

    Parameters
    ----------
    url : str or None
        Warehouse URL; ``None`` (or ``""``) is the embedded DuckDB warehouse.

    Returns
    -------
    Warehouse

    Raises
    ------
    ConfigError
        No entry claims the URL; the message says how to write a URL that works
        (``duckdb:///bank.duckdb`` for a file named ``bank.duckdb``...).
    """
    warehouse = claiming_warehouse(url)
    if warehouse is None:
        assert url is not None  # the embedded warehouse claims None
        raise ConfigError(_unclaimed(url))
    return warehouse


def claiming_warehouse(url: str | None) -> Warehouse | None:
    """The first registered warehouse that claims ``url``, or ``None``.

    Parameters
    ----------
    url : str or None
        Warehouse URL; ``None`` (or ``""``) is the embedded DuckDB warehouse.

    Returns
    -------
    Warehouse or None
    """
    for warehouse in WAREHOUSES:
        if warehouse.claims(url):
            return warehouse
    return None


def warehouse_options() -> dict[str, tuple[Warehouse, ...]]:
    """Each warehouse-only option and the warehouses that accept it.

    Returns
    -------
    dict of str to tuple of Warehouse
        E.g. ``{"credentials": (<bigquery>,), "max_bytes_billed": (<bigquery>,), ...}``.
    """
    owners: dict[str, tuple[Warehouse, ...]] = {}
    for warehouse in WAREHOUSES:
        for option in warehouse.options:
            owners[option] = (*owners.get(option, ()), warehouse)
    return owners


def supported_warehouses() -> str:
    """``"duckdb:///file.duckdb, bigquery://PROJECT[/DATASET] or a SQLAlchemy URL ..."``.

    The URL spellings of the registered warehouses, for messages that say what to write.
    """
    examples = [w.example for w in WAREHOUSES if w.example]
    if len(examples) == 1:
        return examples[0]
    return ", ".join(examples[:-1]) + " or " + examples[-1]


def _unclaimed(url: str) -> str:
    masked = mask_url(url)
    scheme = url_scheme(url)
    if scheme:
        return f"unknown warehouse scheme {scheme!r} in {masked!r}; use {supported_warehouses()}"
    lowered = url.lower()
    for warehouse in WAREHOUSES:
        if warehouse.file_hint and lowered.endswith(warehouse.file_suffixes):
            hint = warehouse.file_hint.format(path=masked)
            return f"warehouse {masked!r} has no scheme; {hint}"
    return f"warehouse {masked!r} has no scheme; use {supported_warehouses()}"
