"""SQL databases reached through a SQLAlchemy URL (``sqlite:///x.db``, ``postgresql://...``).

SQLAlchemy is an optional extra (``pip install 'custseg[sql]'``) imported only when a
URL is used. The query text goes to the database driver unchanged, as a database
console would send it. SQLite files are opened read-only and must exist (SQLite
would otherwise create an empty database). Passwords never appear in messages: the
URL is shown masked, driver messages lose every secret of the URL (raw and decoded),
and the exception chained to a ``SourceError`` (shown by ``--verbose``) is a masked
copy of the driver's. A URL whose password SQLAlchemy would cut at an unencoded ``@``
is refused before connecting: the rest of the password would be sent as a host name.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._utils.checks import is_number
from .._utils.masking import mask_text, url_secrets
from .._utils.progress import NO_PROGRESS, Progress
from ..exceptions import SourceError
from ._urls import mask_url, url_scheme
from ._warehouse import Notify, QueryResult, Warehouse

if TYPE_CHECKING:
    import pyarrow as pa

# Arrow, sqlite3 and decimal are imported when a query runs: the command line reads
# WAREHOUSE when it starts.

__all__ = ["KNOWN_DIALECTS", "WAREHOUSE", "run_sqlalchemy"]

# Dialects bundled with SQLAlchemy; others come from plugins (snowflake, redshift, trino...).
KNOWN_DIALECTS = frozenset(
    {"sqlite", "postgresql", "postgres", "mysql", "mariadb", "mssql", "oracle"}
)
_PARTITION_ROWS = 50_000
_ENCODE_HINT = (
    "; percent-encode the user name and password (urllib.parse.quote(password, safe=''): "
    "'@' as %40, ':' as %3A, '/' as %2F, '%' as %25)"
)
_SQLITE_MAGIC = b"SQLite format 3\x00"
_DRIVER_PACKAGES = {
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "pymysql": "pymysql",
    "MySQLdb": "mysqlclient",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
    "oracledb": "oracledb",
}


def run_sqlalchemy(url: str, sql: str, *, progress: Progress = NO_PROGRESS) -> pa.Table:
    """Run ``sql`` on the database at ``url`` and return the rows as an Arrow table.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL. ``postgres://`` is read as ``postgresql://``.
    sql : str
        The query, sent to the driver as written.
    progress : Progress, default NO_PROGRESS
        Receives a "fetching rows" stage advanced by partitions of rows.

    Returns
    -------
    pyarrow.Table

    Raises
    ------
    SourceError
        SQLAlchemy or the driver is missing, the URL is invalid, the database cannot
        be reached, or it rejects the query (syntax, unknown table...).
    """
    try:
        import sqlalchemy
        import sqlalchemy.exc
    except ImportError as exc:
        raise SourceError(
            f"{url_scheme(url)}:// warehouses need SQLAlchemy, which is not installed; "
            "pip install 'custseg[sql]'"
        ) from exc
    if url_scheme(url) == "postgres":
        url = "postgresql" + url[len("postgres") :]
    scrub = _Scrubber(url)
    engine = _engine(sqlalchemy, url, scrub)
    try:
        try:
            connection = engine.connect()
        except sqlalchemy.exc.DBAPIError as exc:
            raise SourceError(
                f"cannot connect to {mask_url(url)}: {scrub(exc.orig)}; check the host, port, "
                "database name and credentials"
            ) from scrub.cause(exc)
        with connection:
            return _fetch(sqlalchemy, connection, sql, scrub, progress)
    finally:
        engine.dispose()


def _engine(sqlalchemy: Any, url: str, scrub: _Scrubber) -> Any:
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError as exc:
        raise SourceError(
            f"invalid database URL {mask_url(url)!r}: {scrub(exc)}; write it as "
            f"dialect://user:password@host:port/database{_ENCODE_HINT}"
        ) from scrub.cause(exc)
    except ValueError:
        # The port is not a number: often the end of a password holding "@" and ":",
        # which int()'s message would quote: nothing of it is chained.
        raise SourceError(
            f"invalid database URL {mask_url(url)!r}: the port SQLAlchemy reads in it is not "
            "a number (is there an unencoded '@' or ':' in the password?); write it as "
            f"dialect://user:password@host:port/database{_ENCODE_HINT}"
        ) from None
    if _password_cut_short(url, parsed.password):
        # SQLAlchemy ends the password at its first "@": the rest would become the host.
        raise SourceError(
            f"the password in {mask_url(url)!r} holds an '@' that SQLAlchemy reads as the end "
            f"of the password{_ENCODE_HINT}"
        )
    import sqlite3

    try:
        if parsed.get_backend_name() == "sqlite":
            database = _sqlite_file(parsed.database, url)
            # Read-only: extracting must never write, and never create an empty database.
            return sqlalchemy.create_engine(
                "sqlite://",
                creator=lambda: sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True),
            )
        return sqlalchemy.create_engine(parsed)
    except sqlalchemy.exc.NoSuchModuleError as exc:
        # extract() sends only the schemes SQLAlchemy knows; a direct call may not.
        raise SourceError(
            f"SQLAlchemy knows no database {url_scheme(url)!r} in {mask_url(url)!r}; check "
            "the URL's scheme, or install the SQLAlchemy dialect package for that database"
        ) from exc
    except ModuleNotFoundError as exc:
        module = (exc.name or "").split(".")[0]
        package = _DRIVER_PACKAGES.get(module, module)
        raise SourceError(
            f"the database driver {module!r} for {url_scheme(url)}:// URLs is not installed; "
            f"pip install {package}"
        ) from exc


def _password_cut_short(url: str, password: str | None) -> bool:
    """Whether SQLAlchemy ended the password at an "@" that belongs to the password.

    After that "@" SQLAlchemy reads the host, port, database and query: an "@" there
    that is not inside a query parameter's value is the rest of an unencoded password.
    """
    if password is None:
        return False
    rest = url.partition("://")[2]
    at = rest.find("@", rest.find(":") + 1)
    before_query, _, query = rest[at + 1 :].partition("?")
    return "@" in before_query or any("@" in pair.partition("=")[0] for pair in query.split("&"))


def _sqlite_file(database: str | None, url: str) -> Path:
    if not database or database == ":memory:":
        raise SourceError(
            f"{mask_url(url)!r} names no SQLite file; write sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db"
        )
    path = Path(database).resolve()
    if not path.is_file():
        raise SourceError(
            f"SQLite database not found: {database!r}; check the path (sqlite:///relative.db, "
            "sqlite:////absolute/path.db)"
        )
    with path.open("rb") as handle:
        if handle.read(16) != _SQLITE_MAGIC:
            raise SourceError(
                f"{database!r} is not a SQLite database file; give a SQLite file (use "
                "duckdb:///file.duckdb for DuckDB; give CSV and Parquet files as "
                "input='customers.csv' (--input))"
            )
    return path


def _fetch(
    sqlalchemy: Any, connection: Any, sql: str, scrub: _Scrubber, progress: Progress
) -> pa.Table:
    import pyarrow as pa

    from ._frames import check_unique_names

    try:
        with progress.stage("Running the query") as stage:
            result = connection.execution_options(
                stream_results=True, no_parameters=True
            ).exec_driver_sql(sql)
            stage.advance()
        if not result.returns_rows:
            return pa.table({})
        names = list(result.keys())
        check_unique_names(names, "the query result")
        rows: list[Sequence[Any]] = []
        with progress.stage("Fetching rows") as stage:
            for part in result.partitions(_PARTITION_ROWS):
                rows.extend(part)
                stage.advance(len(part))
    except sqlalchemy.exc.DBAPIError as exc:
        raise _query_error(scrub(exc.orig)) from scrub.cause(exc)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise SourceError(f"the query failed: {scrub(exc)}; check the query") from scrub.cause(exc)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table([_to_arrow(values) for values in columns], names=names)


def _query_error(message: str) -> SourceError:
    lowered = message.lower()
    if "syntax" in lowered:
        return SourceError(f"SQL syntax error: {message}; fix the query")
    if "no such column" in lowered:
        return SourceError(f"unknown column: {message}; check the column names in the query")
    if "no such table" in lowered:
        return SourceError(f"unknown table: {message}; check the table name in the query")
    if any(marker in lowered for marker in ("does not exist", "doesn't exist", "invalid object")):
        return SourceError(f"unknown table or column: {message}; check the names in the query")
    if "readonly" in lowered or "read-only" in lowered:
        return SourceError(
            f"the warehouse is opened read-only: {message}; extract runs queries that read "
            "(SELECT ...)"
        )
    return SourceError(f"the database rejected the query: {message}; check the query")


def _to_arrow(values: Sequence[Any]) -> pa.Array:
    """One result column as Arrow; mixed Python types fall back to numbers, then text."""
    from decimal import Decimal

    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        present = [value for value in values if value is not None]
        if all(is_number(value, finite=False) or isinstance(value, Decimal) for value in present):
            return pa.array([None if value is None else float(value) for value in values])
        return pa.array([None if value is None else str(value) for value in values], pa.string())


class _DriverError(Exception):
    """A driver's or SQLAlchemy's exception, its message masked: the cause ``--verbose`` shows."""


class _Scrubber:
    """Turns an exception into one message line that never shows the URL's secrets."""

    def __init__(self, url: str) -> None:
        self._secrets = url_secrets(url)

    def __call__(self, exc: BaseException | None) -> str:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        text = lines[0] if lines else type(exc).__name__
        return mask_text(text, self._secrets)

    def cause(self, exc: BaseException) -> _DriverError:
        """A masked copy of ``exc`` and of the exceptions chained to it, with its traceback.

        Chained as the cause of a ``SourceError`` instead of ``exc`` itself, whose text
        (or its own cause's) may quote a connection string.
        """
        parts, seen = [], set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            parts.append(f"{type(current).__module__}.{type(current).__qualname__}: {current}")
            current = current.__cause__ or current.__context__
        copy = _DriverError(mask_text("\ncaused by ".join(parts), self._secrets))
        return copy.with_traceback(exc.__traceback__)


# ------------------------------------------------------------------------- the entry


def _claims(url: str | None) -> bool:
    if url is None:
        return False
    scheme = url_scheme(url)
    return scheme in KNOWN_DIALECTS or (bool(scheme) and _has_dialect(url))


def _has_dialect(url: str) -> bool:
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


def _run(
    sql: str, url: str | None, options: Any, progress: Progress, notify: Notify | None
) -> QueryResult:
    return QueryResult(run_sqlalchemy(str(url), sql, progress=progress))


WAREHOUSE = Warehouse(
    kind="sqlalchemy",
    label="SQLAlchemy",
    claims=_claims,
    run=_run,
    example="a SQLAlchemy URL such as sqlite:///file.db or postgresql://user@host/db",
    file_suffixes=(".db", ".sqlite", ".sqlite3"),
    file_hint="for a SQLite file write sqlite:///{path}",
)
"""Any SQLAlchemy URL (``sqlite:///file.db``, ``postgresql://...``, installed plugins)."""
