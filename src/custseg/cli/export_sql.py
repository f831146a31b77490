"""``custseg export-sql``: one SQL query that scores a table inside the warehouse."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ..exceptions import ConfigError
from ..scoring.dialects import DIALECTS
from . import app
from ._common import info


@app.command(
    "export-sql",
    epilog=(
        "Examples: custseg export-sql --model out/model.json --dialect bigquery"
        " --table project.dataset.customers --out score.sql;"
        " custseg export-sql --model out/model.json --dialect postgres --from-transactions"
        " --table sales.invoice_lines --out score.sql"
    ),
)
def export_sql_command(
    model: Path = typer.Option(..., "--model", "-m", help="Model file written by `custseg fit`."),
    dialect: str = typer.Option(
        ..., "--dialect", "-d", help=f"SQL dialect: {', '.join(DIALECTS)}."
    ),
    table: str | None = typer.Option(
        None,
        "--table",
        "-t",
        help="Table to score; dots separate qualifiers (dataset.table). With"
        " --from-transactions: the raw transaction table (default: transactions).",
    ),
    from_transactions: bool = typer.Option(
        False,
        "--from-transactions",
        help="The table holds raw transaction lines: the query rolls them up to customers as"
        " the model's training lines were (a model fitted with --transactions), then scores.",
    ),
    statements_table: str | None = typer.Option(
        None, "--statements-table", help="With --from-transactions: the card statements table."
    ),
    accounts_table: str | None = typer.Option(
        None, "--accounts-table", help="With --from-transactions: the card accounts table."
    ),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="With --from-transactions: the as-of date (YYYY-MM-DD; the window ends the day"
        " before). Default: the day after the table's last transaction, computed in SQL.",
    ),
    as_of_today: bool = typer.Option(
        False, "--as-of-today", help="With --from-transactions: the as-of date is the query's day."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write the query to this file instead of stdout."
    ),
) -> None:
    """Write the SQL query that prepares the table's rows and assigns their segments.

    The query returns the identifier, segment_id, segment_name and distance for every row.
    """
    from .._utils.io import check_distinct_paths, write_text_atomic
    from ..model import load_model
    from ..scoring.sqlexport import export_sql, export_sql_from_transactions

    _check_options(table, from_transactions, statements_table, accounts_table, as_of, as_of_today)
    check_distinct_paths({"the model (--model)": model, "out (--out)": out})
    if out is not None:
        from ._outputs import check_output_file

        check_output_file("--out", out)

    loaded = load_model(model)
    if from_transactions:
        table = table or "transactions"
        query = export_sql_from_transactions(
            loaded,
            dialect=dialect,
            table=table,
            statements_table=statements_table,
            accounts_table=accounts_table,
            as_of="today" if as_of_today else as_of,
        )
        what = f"query from the transactions of {table} to segments"
    else:
        assert table is not None
        query = export_sql(loaded, dialect=dialect, table=table)
        what = f"scoring query for table {table}"
    if out is None:
        sys.stdout.write(query)
        sys.stdout.flush()
        return
    write_text_atomic(out, query)
    info(f"Wrote the {dialect} {what} to {out}")


def _check_options(
    table: str | None,
    from_transactions: bool,
    statements_table: str | None,
    accounts_table: str | None,
    as_of: str | None,
    as_of_today: bool,
) -> None:
    """Options that only make sense together, refused with the fix."""
    if from_transactions:
        if as_of is not None and as_of_today:
            raise ConfigError("--as-of and --as-of-today both set the as-of date; keep one")
        return
    if table is None:
        raise ConfigError(
            "--table is missing: name the customer table to score (or the transaction table"
            " with --from-transactions)"
        )
    given = [
        name
        for name, value in (
            ("--statements-table", statements_table),
            ("--accounts-table", accounts_table),
            ("--as-of", as_of),
            ("--as-of-today", as_of_today or None),
        )
        if value is not None
    ]
    if given:
        raise ConfigError(
            f"{given[0]} applies to the roll-up of raw transactions; add --from-transactions"
            " (the model must be fitted with custseg fit --transactions)"
        )
