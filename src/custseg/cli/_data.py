"""Data options shared by the commands that read customers (extract, fit, score, drift).

A command takes them with :func:`data_source_options` and receives one checked
:class:`~custseg.sources.DataSource` in its ``source`` parameter::

    @app.command("drift")
    @data_source_options()
    def drift(model: ModelOption, source: DataSource, max_columns: MaxColumnsOption = None):
        frame = load_input(source, max_columns=max_columns)

The options are ``--input`` (unless the command runs queries only), ``--sql``,
``--warehouse`` and the options each registered warehouse declares for itself
(BigQuery's ``--credentials`` and ``--max-bytes-billed``, from
:data:`custseg.sources.registry.WAREHOUSES`), shown together in the help's "Data
source" panel. Nothing heavy is imported here: pandas and the drivers load when data
is read.
"""

from __future__ import annotations

import contextlib
import inspect
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..config import DEFAULT_MAX_COLUMNS
from ..exceptions import SourceError
from ..sources.datasource import DataSource
from ..sources.registry import command_line_options
from ._common import gathered_options, info, learn_secrets, rich_progress

if TYPE_CHECKING:
    import pandas as pd

    from .._utils.progress import Progress
    from ..prepare.grain import RowsEvidence
    from ..sources import Extract

__all__ = [
    "MaxColumnsOption",
    "column_limit",
    "data_source_options",
    "load_input",
    "save_extract",
]

_PANEL = "Data source"
_SQL_HELP = (
    "SQL query, or @file.sql to read it from a file. Without --warehouse it runs on an "
    "embedded DuckDB where the bundled sample is the table credit_card_customers."
)
_WAREHOUSE_HELP = (
    "Where --sql runs: duckdb:///file.duckdb (read-only), bigquery://PROJECT\\[/DATASET], or a "
    "SQLAlchemy URL such as sqlite:///file.db or postgresql://user@host/db. Default: the "
    "embedded DuckDB with the bundled sample."
)
_INPUT_HELP = "Customer table: a .csv (or .csv.gz, .tsv) or .parquet file. Or use --sql."

MaxColumnsOption = Annotated[
    int | None,
    typer.Option(
        "--max-columns",
        help=f"Refuse a table with more columns than this (default {DEFAULT_MAX_COLUMNS}),"
        " from the file's header or schema before its rows are read.",
        show_default=False,
        rich_help_panel=_PANEL,
    ),
]


def _option(annotation: Any, *flags: str, help: str) -> Any:
    return Annotated[
        annotation, typer.Option(*flags, help=help, show_default=False, rich_help_panel=_PANEL)
    ]


def _data_parameters(files: bool) -> list[inspect.Parameter]:
    """--input (with ``files``), --sql, --warehouse and the warehouses' own options."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    sql_default = None if files else inspect.Parameter.empty
    parameters = [
        inspect.Parameter(
            "sql",
            keyword,
            default=sql_default,
            annotation=_option(str | None if files else str, "--sql", help=_SQL_HELP),
        ),
        inspect.Parameter(
            "warehouse",
            keyword,
            default=None,
            annotation=_option(str | None, "--warehouse", "-w", help=_WAREHOUSE_HELP),
        ),
    ]
    if files:
        input_option = _option(Path | None, "--input", "-i", help=_INPUT_HELP)
        parameters.insert(
            0, inspect.Parameter("input", keyword, default=None, annotation=input_option)
        )
    for name, spec in command_line_options().items():
        assert spec.flag is not None
        annotation = _option(spec.text | None, spec.flag, help=spec.help)
        parameters.append(inspect.Parameter(name, keyword, default=None, annotation=annotation))
    return parameters


def data_source_options(
    *, files: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the data options, and its ``source`` parameter one checked DataSource.

    Parameters
    ----------
    files : bool, default True
        Offer ``--input``; without it ``--sql`` is required (``custseg extract``).

    Returns
    -------
    callable
        The decorator, placed under ``@app.command(...)``. The options stand where
        ``source`` stands in the command's parameters. A warehouse's own options are
        read from the registry when the command module is imported.
    """

    return gathered_options("source", _data_parameters(files), _source)


def _source(
    input: Path | None = None, sql: str | None = None, warehouse: str | None = None, **options: Any
) -> DataSource:
    """The command's DataSource, checked once; ``--sql @file.sql`` is read here."""
    query_file = None
    if sql is not None and input is None and sql.startswith("@"):
        query_file = Path(sql[1:])
        sql = _read_sql_file(query_file)
    source = DataSource(input, sql, warehouse, query_file=query_file, **options)
    learn_secrets(source.secrets)
    return source


def _read_sql_file(path: Path) -> str:
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


def column_limit(max_columns: int | None) -> int:
    """The column limit of ``--max-columns``: its value, or the default when not given."""
    return DEFAULT_MAX_COLUMNS if max_columns is None else max_columns


def load_input(
    source: DataSource, *, progress: Progress | None = None, max_columns: int | None = None
) -> pd.DataFrame:
    """Read the customer table of ``source``.

    Parameters
    ----------
    source : DataSource
        The command's data source (see :func:`data_source_options`).
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
        Any source error (see :func:`custseg.sources.load_data`).
    """
    from ..sources import load_data

    limit = column_limit(max_columns)
    if progress is not None:
        return load_data(source, progress=progress, notify=info, max_columns=limit)
    with rich_progress() as own:
        return load_data(source, progress=own, notify=info, max_columns=limit)


def save_extract(
    result: Extract, out: Path, *, progress: Progress, query_file: Path | None = None
) -> dict[str, Any]:
    """Save a query's rows as a snapshot beside its manifest; returns the manifest."""
    from ..sources import save_snapshot

    return save_snapshot(
        result.frame,
        out,
        query=result.query,
        warehouse=result.warehouse,
        source_kind=result.source_kind,
        bytes_processed=result.bytes_processed,
        query_file=query_file,
        progress=progress,
    )


@contextlib.contextmanager
def customer_rows_hint(source: DataSource, then: str) -> Iterator[None]:
    """Turn a refusal of transaction lines into the commands that roll them up first.

    Parameters
    ----------
    source : DataSource
        The data the command read.
    then : str
        What to run on the rolled-up customers, e.g. ``"fit on"`` or ``"score"``.
    """
    from ..exceptions import TransactionsError

    try:
        yield
    except TransactionsError as exc:
        evidence: RowsEvidence = exc.evidence
        customers = _rolled_up_name(source)
        command = ["custseg", "features", *_source_args(source)]
        if evidence.customer_column is not None:
            command += ["--customer", evidence.customer_column]
        command += ["--out", customers]
        raise TransactionsError(
            f"{source.describe()} has {evidence.describe()}: it holds transactions, not"
            f" customers; roll them up to one row per customer first: {shlex.join(command)},"
            f" then {then} --input {shlex.quote(customers)} (or add --segment-rows to"
            " segment the rows themselves)",
            evidence=evidence,
        ) from exc


def _source_args(source: DataSource) -> list[str]:
    if source.input is not None:
        return ["--input", str(source.input)]
    from .._utils.masking import mask_url

    args = ["--sql", str(source.sql)]
    if source.warehouse is not None:
        # The password stays out of the message: the user types it again.
        args += ["--warehouse", mask_url(source.warehouse)]
    return args


def _rolled_up_name(source: DataSource) -> str:
    """``sales-customers.parquet`` beside ``sales.csv``; ``customers.parquet`` for a query."""
    if source.input is None:
        return "customers.parquet"
    path = Path(source.input)
    return str(path.with_name(f"{path.stem}-customers.parquet"))
