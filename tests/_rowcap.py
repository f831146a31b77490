"""A warehouse added from outside custseg, with an option of its own: ``--row-limit``.

``rowcap:///path/file.db`` runs a query on a SQLite file, read-only, and keeps its
first ``row_limit`` rows. It is everything adding a warehouse takes: this module and
one line, ``register_warehouse(WAREHOUSE)`` (or one entry in ``WAREHOUSES`` for a
warehouse that ships with custseg).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from custseg.sources.registry import QueryResult, Warehouse, warehouse_option


def _row_limit(value: int | str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("should be a whole number of rows, e.g. 1000")
    if value < 1:
        raise ValueError("should be at least 1 row")
    return value


@dataclass(frozen=True)
class RowCapOptions:
    """The warehouse's own option."""

    row_limit: int | None = warehouse_option(
        "--row-limit", help="rowcap: keep at most this many rows of the query.", check=_row_limit
    )


def _run(
    sql: str, url: str | None, options: RowCapOptions, progress: Any, notify: Any
) -> QueryResult:
    path = Path(str(url).partition("://")[2].removeprefix("/"))
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as database:
        cursor = database.execute(sql)
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchmany(options.row_limit) if options.row_limit else cursor.fetchall()
    if notify is not None and options.row_limit is not None:
        notify(f"rowcap: kept {len(rows)} rows (--row-limit {options.row_limit})")
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return QueryResult(pa.table([pa.array(list(c)) for c in columns], names=names))


WAREHOUSE = Warehouse(
    kind="rowcap",
    label="rowcap://",
    claims=lambda url: url is not None and url.startswith("rowcap://"),
    run=_run,
    example="rowcap:///file.db",
    options=RowCapOptions,
)


def write_bank(path: Path, rows: int = 10) -> Path:
    """A SQLite file with a table ``customers`` of ``rows`` customers C0, C1..."""
    with closing(sqlite3.connect(path)) as database:
        database.execute("CREATE TABLE customers (CUST_ID TEXT, BALANCE REAL)")
        database.executemany(
            "INSERT INTO customers VALUES (?, ?)", [(f"C{i}", 10.0 * i) for i in range(rows)]
        )
        database.commit()
    return path
