"""``custseg extract``: run SQL on a warehouse and save the result as a snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._utils.text import count
from ..exceptions import SourceError
from ..sources.datasource import DataSource
from . import app
from ._common import info, print_json, rich_progress
from ._data import MaxColumnsOption, column_limit, data_source_options, save_extract

EPILOG = """\
Examples:

  custseg extract --sql "SELECT * FROM credit_card_customers WHERE TENURE = 12" --out customers.csv

  custseg extract --sql @query.sql --warehouse duckdb:///warehouse.duckdb --out customers.parquet

  custseg extract --sql "SELECT * FROM customers" --warehouse sqlite:///bank.db --out customers.csv

  custseg extract --sql "SELECT * FROM cards.customers" --warehouse bigquery://my-project
  --max-bytes-billed 10GB --out customers.parquet --json

The snapshot gets a manifest next to it (customers.manifest.json): query, warehouse
(password masked), time, rows, columns and types, sha256.
"""


@app.command("extract", epilog=EPILOG)
@data_source_options(files=False)
def extract_command(
    source: DataSource,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Snapshot file to write: .csv or .parquet.", show_default=False
        ),
    ],
    max_columns: MaxColumnsOption = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the manifest as JSON on stdout.")
    ] = False,
) -> None:
    """Run a SQL query on a warehouse and save the rows as a snapshot with a manifest."""
    from ..sources import extract, manifest_path

    if out.suffix.lower() not in (".csv", ".parquet"):
        # Checked before the query runs: a long or billed query must not be wasted.
        raise SourceError(
            f"cannot write a snapshot to {str(out)!r}: unsupported extension "
            f"{out.suffix or '(none)'!r}; use --out customers.csv or customers.parquet"
        )
    if out.is_dir():
        raise SourceError(f"--out {str(out)!r} is a folder; give a file name such as {out}/c.csv")
    from ._outputs import check_snapshot_target

    check_snapshot_target(out)  # before the query: its manifest must not orphan another file
    with rich_progress() as progress:
        result = extract(
            source, progress=progress, notify=info, max_columns=column_limit(max_columns)
        )
        manifest = save_extract(result, out, progress=progress, query_file=source.query_file)
    if json_output:
        print_json(manifest)
    else:
        info(
            f"Wrote {count(manifest['rows'], 'row')} x {count(manifest['columns'], 'column')} from "
            f"{result.warehouse} to {out} (manifest: {manifest_path(out)})"
        )
