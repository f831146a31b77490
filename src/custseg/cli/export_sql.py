"""``custseg export-sql``: one SQL query that scores a table inside the warehouse."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ..scoring.dialects import DIALECTS
from . import app
from ._common import info


@app.command(
    "export-sql",
    epilog=(
        "Example: custseg export-sql --model out/model.json --dialect bigquery"
        " --table project.dataset.customers --out score.sql"
    ),
)
def export_sql_command(
    model: Path = typer.Option(..., "--model", "-m", help="Model file written by `custseg fit`."),
    dialect: str = typer.Option(
        ..., "--dialect", "-d", help=f"SQL dialect: {', '.join(DIALECTS)}."
    ),
    table: str = typer.Option(
        ..., "--table", "-t", help="Table to score; dots separate qualifiers (dataset.table)."
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
    from ..scoring.sqlexport import export_sql

    check_distinct_paths({"the model (--model)": model, "out (--out)": out})
    if out is not None:
        from ._outputs import check_output_file

        check_output_file("--out", out)

    query = export_sql(load_model(model), dialect=dialect, table=table)
    if out is None:
        sys.stdout.write(query)
        sys.stdout.flush()
        return
    write_text_atomic(out, query)
    info(f"Wrote the {dialect} scoring query for table {table} to {out}")
