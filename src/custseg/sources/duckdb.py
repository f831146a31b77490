"""DuckDB warehouses: the embedded one holding the bundled sample, or the user's file.

The embedded warehouse is an in-memory database in which the bundled sample is the
table ``credit_card_customers``; DuckDB's own readers also let a query read files
(``SELECT * FROM 'customers.parquet'``). A user's database file is opened read-only:
extracting never changes a warehouse.

Exactly one statement runs, and it must be a query that reads (``SELECT``, ``WITH``,
``FROM``, ``VALUES``...): ``COPY ... TO``, ``ATTACH``, ``INSTALL``/``LOAD``, ``SET``,
``PRAGMA``, ``CALL``, ``EXPORT`` and every statement that creates or changes something
are refused before anything runs. Extension auto-installing and auto-loading are off
and the configuration is locked before the query runs, so a query can neither
download an extension nor switch those settings back on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._utils.progress import NO_PROGRESS, Progress
from ..exceptions import SourceError
from ._urls import url_scheme
from ._warehouse import Notify, QueryResult, Warehouse

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

# DuckDB (and importlib.resources) are imported when a query runs: the command line
# reads the entries below when it starts, and reading a file needs no DuckDB.

__all__ = [
    "EMBEDDED",
    "EMBEDDED_WAREHOUSE",
    "FILE_WAREHOUSE",
    "SAMPLE_TABLE",
    "run_duckdb",
    "sample_path",
]

SAMPLE_TABLE = "credit_card_customers"
EMBEDDED = f"embedded DuckDB (bundled sample as table {SAMPLE_TABLE})"
"""How the embedded warehouse is described in manifests, models and messages."""
_BATCH_ROWS = 100_000
# DuckDB suggests its own catalog tables for unknown names: no help to a user.
_SYSTEM_NAME = re.compile(r'"(?:sqlite_|pg_|duckdb_|information_schema)')
_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
# The first two words of a statement, after comments, blanks and opening parentheses.
_LEADING_WORDS = re.compile(
    r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*([A-Za-z_]+)(?:\s+([A-Za-z_]+))?", re.DOTALL
)
_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


def sample_path() -> Path:
    """Path of the bundled sample ``CC_GENERAL.csv`` (8,950 card holders)."""
    from importlib import resources

    return Path(str(resources.files("custseg") / "data" / "CC_GENERAL.csv"))


def run_duckdb(
    sql: str, database: Path | None = None, *, progress: Progress = NO_PROGRESS
) -> pa.Table:
    """Run ``sql`` on DuckDB and return the rows as an Arrow table.

    Parameters
    ----------
    sql : str
        Exactly one statement, a query that reads (see the module's notes).
    database : pathlib.Path, optional
        A DuckDB database file, opened read-only. ``None`` means the embedded
        warehouse with the bundled sample as ``credit_card_customers``.
    progress : Progress, default NO_PROGRESS
        Receives a "fetching rows" stage advanced by batches of rows.

    Returns
    -------
    pyarrow.Table

    Raises
    ------
    SourceError
        Missing or invalid database file, more than one statement, a statement that
        does not read, SQL syntax error, unknown table or column, or any other error
        DuckDB reports.
    """
    import duckdb
    import pyarrow as pa

    statement = _one_reading_statement(sql, embedded=database is None)
    connection = _embedded() if database is None else _open_file(database)
    try:
        # Locked: the query cannot switch extension downloads (or anything) back on.
        connection.execute("SET lock_configuration = true")
        with progress.stage("Running the query on DuckDB") as stage:
            relation = connection.sql(statement)
            stage.advance()
        if relation is None:  # a statement without rows (SET, CREATE, ...)
            return pa.table({})
        with progress.stage("Fetching rows") as stage:
            reader = relation.to_arrow_reader(_BATCH_ROWS)
            batches = []
            for batch in reader:
                batches.append(batch)
                stage.advance(batch.num_rows)
        return pa.Table.from_batches(batches, schema=reader.schema)
    except duckdb.Error as exc:
        raise _query_error(exc, embedded=database is None) from exc
    finally:
        connection.close()


def _one_reading_statement(sql: str, *, embedded: bool) -> str:
    """``sql`` if it is exactly one statement that reads; a :class:`SourceError` otherwise."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise _query_error(exc, embedded=embedded) from exc
    if len(statements) != 1:
        raise SourceError(
            f"the SQL holds {len(statements)} statements; give exactly one query that reads"
            " (SELECT ...), without other statements before or after it"
        )
    statement = statements[0]
    try:
        kind: duckdb.StatementType | None = statement.type
    except ValueError:  # a kind this duckdb's Python enum lacks (UPDATE EXTENSIONS)
        kind = None
    if kind != duckdb.StatementType.SELECT:
        name = _statement_name(statement.query, kind)
        raise SourceError(
            f"only a query that reads (SELECT ..., WITH ..., FROM ...) runs on a DuckDB"
            f" warehouse, not {_article(name)} {name} statement; extract never writes files,"
            " attaches databases, installs extensions or changes settings"
        )
    return sql


def _statement_name(text: str, kind: duckdb.StatementType | None) -> str:
    """What a user calls the statement: its first keyword (INSTALL, USE, CHECKPOINT...).

    DuckDB's statement types group several keywords (INSTALL is a LOAD statement, USE
    and RESET are SET statements, CHECKPOINT a CALL): the user wrote the keyword, so the
    message names it. A statement that starts with WITH is named by its type (INSERT).
    """
    words = _LEADING_WORDS.match(text)
    first = words.group(1).upper() if words else ""
    if first == "FORCE" and words and words.group(2):
        return f"FORCE {words.group(2).upper()}"
    if first and first != "WITH":
        return first
    if kind is not None:
        return str(kind).rsplit(".", 1)[-1]
    return "unknown"


def _article(word: str) -> str:
    # "an INSERT", "an UPDATE" but "a USE", "a SET".
    return "an" if word[:1] in "AEIO" or (word[:1] == "U" and not word.startswith("USE")) else "a"


def _embedded() -> duckdb.DuckDBPyConnection:
    import duckdb

    connection = duckdb.connect(":memory:", config=_CONFIG)
    _progress_bar_off(connection)
    # Ids must stay text: DuckDB would guess nothing else for "C10001", but say it.
    connection.execute(
        f"CREATE TABLE {SAMPLE_TABLE} AS "
        "SELECT * FROM read_csv(?, header = true, types = {'CUST_ID': 'VARCHAR'})",
        [str(sample_path())],
    )
    return connection


def _open_file(database: Path) -> duckdb.DuckDBPyConnection:
    import duckdb

    if not database.is_file():
        hint = ""
        if not database.is_absolute() and Path("/", database).is_file():
            hint = f" (for the absolute path /{database} write duckdb:////{database})"
        raise SourceError(
            f"DuckDB database not found: {str(database)!r}{hint}; give an existing file as "
            "duckdb:///relative/path.duckdb or duckdb:////absolute/path.duckdb"
        )
    with database.open("rb") as handle:
        magic = handle.read(12)[8:12]
    if magic != _MAGIC:
        raise SourceError(
            f"{str(database)!r} is not a DuckDB database file; give a .duckdb file (use "
            "sqlite:///file.db for SQLite; give CSV and Parquet files as input='customers.csv' "
            "(--input))"
        )
    try:
        connection = duckdb.connect(str(database), read_only=True, config=_CONFIG)
    except duckdb.Error as exc:
        raise SourceError(
            f"cannot open DuckDB database {str(database)!r}: {_first_line(exc)}; check that no "
            "other program holds it open for writing and that the file is a DuckDB database"
        ) from exc
    _progress_bar_off(connection)
    return connection


def _progress_bar_off(connection: duckdb.DuckDBPyConnection) -> None:
    # In a Jupyter kernel without ipywidgets DuckDB starts with its bar off and refuses
    # any change to the setting, even to switch it off: set it only when it is on.
    rows = connection.execute("SELECT current_setting('enable_progress_bar')").fetchall()
    if rows[0][0]:
        connection.execute("SET enable_progress_bar = false")


def _query_error(exc: duckdb.Error, *, embedded: bool) -> SourceError:
    import duckdb

    message = _first_line(exc)
    if isinstance(exc, duckdb.ParserException):
        return SourceError(f"SQL syntax error: {message}; fix the query")
    if isinstance(exc, duckdb.CatalogException):
        where = f" (the embedded warehouse has the table {SAMPLE_TABLE})" if embedded else ""
        return SourceError(f"unknown table or object: {message}; check the name{where}")
    if isinstance(exc, duckdb.BinderException):
        return SourceError(
            f"the query names something that does not exist: {message}; check the column names"
        )
    return SourceError(f"DuckDB could not run the query: {message}; check the query")


def _first_line(exc: BaseException) -> str:
    """DuckDB's message without its source excerpt, keeping a "Did you mean" hint."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    hints = [
        line
        for line in lines[1:2]
        if line.startswith(("Did you mean", "Candidate")) and not _SYSTEM_NAME.search(line)
    ]
    return " ".join([lines[0], *hints])


# ------------------------------------------------------------------ the two entries


def _is_embedded(url: str | None) -> bool:
    return url is None or url.strip() in ("", "duckdb://", "duckdb:///:memory:")


def _run_embedded(
    sql: str, url: str | None, options: Any, progress: Progress, notify: Notify | None
) -> QueryResult:
    return QueryResult(run_duckdb(sql, None, progress=progress))


def _is_file(url: str | None) -> bool:
    return url is not None and url_scheme(url) == "duckdb"


def _run_file(
    sql: str, url: str | None, options: Any, progress: Progress, notify: Notify | None
) -> QueryResult:
    # duckdb:///relative.duckdb and duckdb:////absolute.duckdb, as SQLAlchemy spells files.
    path = str(url).partition("://")[2].removeprefix("/").split("?", 1)[0]
    return QueryResult(run_duckdb(sql, Path(path), progress=progress))


EMBEDDED_WAREHOUSE = Warehouse(
    kind="duckdb",
    label="the embedded DuckDB",
    claims=_is_embedded,
    run=_run_embedded,
    describe=lambda _url: EMBEDDED,
    file_suffixes=(".csv", ".parquet", ".csv.gz", ".tsv"),
    file_hint="to query a file leave the warehouse out and write SELECT * FROM '{path}'",
)
"""The embedded DuckDB with the bundled sample: no URL, ``duckdb://`` or ``duckdb:///:memory:``."""

FILE_WAREHOUSE = Warehouse(
    kind="duckdb",
    label="duckdb://",
    claims=_is_file,
    run=_run_file,
    example="duckdb:///file.duckdb",
    file_suffixes=(".duckdb", ".ddb"),
    file_hint="for a DuckDB file write duckdb:///{path}",
)
"""A user's DuckDB file, read-only: ``duckdb:///file.duckdb``."""
