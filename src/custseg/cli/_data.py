"""Data options shared by the commands that read customers (extract, fit, score).

A command declares the options with the ``Annotated`` aliases below and hands the
values to :func:`load_input`::

    @app.command("fit")
    def fit(
        input: InputOption = None,
        sql: SqlOption = None,
        warehouse: WarehouseOption = None,
        credentials: CredentialsOption = None,
        max_bytes_billed: MaxBytesBilledOption = None,
    ) -> None:
        frame = load_input(input=input, sql=sql, warehouse=warehouse,
                           credentials=credentials, max_bytes_billed=max_bytes_billed)

Nothing heavy is imported here: pandas and the sources load when data is read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..config import DEFAULT_MAX_COLUMNS
from ..exceptions import ConfigError, SourceError
from ._common import info, rich_progress

if TYPE_CHECKING:
    import pandas as pd

    from .._utils.progress import Progress

__all__ = [
    "InputOption",
    "SqlOption",
    "WarehouseOption",
    "CredentialsOption",
    "MaxBytesBilledOption",
    "MaxColumnsOption",
    "SQL_HELP",
    "column_limit",
    "WAREHOUSE_HELP",
    "read_sql_argument",
    "parse_byte_size",
    "load_input",
]

SQL_HELP = (
    "SQL query, or @file.sql to read it from a file. Without --warehouse it runs on an "
    "embedded DuckDB where the bundled sample is the table credit_card_customers."
)
WAREHOUSE_HELP = (
    "Where --sql runs: duckdb:///file.duckdb (read-only), bigquery://PROJECT\\[/DATASET], or a "
    "SQLAlchemy URL such as sqlite:///file.db or postgresql://user@host/db. Default: the "
    "embedded DuckDB with the bundled sample."
)

InputOption = Annotated[
    Path | None,
    typer.Option(
        "--input",
        "-i",
        help="Customer table: a .csv (or .csv.gz, .tsv) or .parquet file. Or use --sql.",
        show_default=False,
    ),
]
SqlOption = Annotated[str | None, typer.Option("--sql", help=SQL_HELP, show_default=False)]
WarehouseOption = Annotated[
    str | None, typer.Option("--warehouse", "-w", help=WAREHOUSE_HELP, show_default=False)
]
CredentialsOption = Annotated[
    Path | None,
    typer.Option(
        "--credentials",
        help="BigQuery: service-account key file (JSON). Default: Application Default Credentials.",
        show_default=False,
    ),
]
MaxBytesBilledOption = Annotated[
    str | None,
    typer.Option(
        "--max-bytes-billed",
        help="BigQuery: refuse a query whose dry run processes more than this, e.g. "
        "10000000000, 10GB or 2GiB.",
        show_default=False,
    ),
]

MaxColumnsOption = Annotated[
    int | None,
    typer.Option(
        "--max-columns",
        help=f"Refuse a table with more columns than this (default {DEFAULT_MAX_COLUMNS}),"
        " from the file's header or schema before its rows are read.",
        show_default=False,
    ),
]

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgtp]i?b|b|bytes)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "bytes": 1}
for _exponent, _letter in enumerate("kmgtp", start=1):
    _UNITS[f"{_letter}b"] = 1000**_exponent
    _UNITS[f"{_letter}ib"] = 1024**_exponent


def parse_byte_size(text: str | None) -> int | None:
    """``"10GB"`` -> ``10_000_000_000``; ``"2GiB"`` -> ``2 * 1024**3``; ``None`` stays."""
    if text is None:
        return None
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ConfigError(
            f"--max-bytes-billed={text!r} is not a size; write bytes (10000000000) or a size "
            "with a unit (10GB, 500MiB)"
        )
    size = int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])
    if size < 1:
        raise ConfigError(f"--max-bytes-billed={text!r} should be at least 1 byte")
    return size


def column_limit(max_columns: int | None) -> int:
    """The column limit of ``--max-columns``: its value, or the default when not given."""
    return DEFAULT_MAX_COLUMNS if max_columns is None else max_columns


def read_sql_argument(value: str) -> str:
    """The query of ``--sql``: the text itself, or the content of ``@file.sql``."""
    if not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise SourceError(
            f"SQL file not found: {str(path)!r}; give --sql @path/to/query.sql or the query"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(
            f"cannot read the SQL file {str(path)!r}: {exc}; give a UTF-8 text file"
        ) from exc


def load_input(
    *,
    input: Path | None,
    sql: str | None,
    warehouse: str | None = None,
    credentials: Path | None = None,
    max_bytes_billed: str | int | None = None,
    progress: Progress | None = None,
    max_columns: int | None = None,
) -> pd.DataFrame:
    """Read the customer table from ``--input`` or ``--sql`` (with warehouse options).

    Parameters
    ----------
    input, sql, warehouse, credentials, max_bytes_billed
        The values of the shared options; ``max_bytes_billed`` may be a size text.
    progress : Progress, optional
        The command's progress display, when it already shows one; otherwise this
        function shows its own while the data loads.
    max_columns : int, optional
        The value of ``--max-columns``; ``None``: the default limit.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    CustsegError
        Both or neither of --input and --sql, warehouse options with --input (see
        :func:`custseg.sources.check_data_options`), or any source error (see
        :func:`custseg.sources.load_data`).
    """
    from ..sources import check_data_options, load_data

    # Checked on the option texts, before --max-bytes-billed is parsed: a byte limit
    # given with --input is refused for being there, whatever its spelling.
    check_data_options(
        input=input,
        sql=sql,
        warehouse=warehouse,
        credentials=credentials,
        max_bytes_billed=max_bytes_billed,
    )
    limit = (
        max_bytes_billed if isinstance(max_bytes_billed, int) else parse_byte_size(max_bytes_billed)
    )
    options: dict[str, Any] = {
        "input": input,
        "sql": read_sql_argument(sql) if sql is not None else None,
        "warehouse": warehouse,
        "credentials": credentials,
        "max_bytes_billed": limit,
        "notify": info,
        "max_columns": column_limit(max_columns),
    }
    if progress is not None:
        return load_data(progress=progress, **options)
    with rich_progress() as own:
        return load_data(progress=own, **options)
