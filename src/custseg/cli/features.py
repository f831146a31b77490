"""``custseg features``: roll transaction lines up to one row per customer, in SQL."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .._utils.text import count
from ..exceptions import ConfigError
from ..features.dialects import FEATURE_DIALECTS
from ..sources.datasource import DataSource
from . import app
from ._common import STATE, info, print_json, rich_progress
from ._data import data_source_options
from ._rollup_options import rollup_options

EPILOG = """\
Examples:

  custseg features --input invoices.csv --out customers.csv

  custseg features --input invoices.csv --window 12M --as-of 2011-12-01 --out customers.parquet

  custseg features --sql "SELECT * FROM sales.invoice_lines" --warehouse postgresql://me@db/shop
  --out customers.csv

  custseg features --input card_tx.parquet --statements statements.parquet --accounts
  accounts.parquet --recipe card --window 12M --out customers.csv

  custseg features --input invoices.csv --print-sql --dialect bigquery

Then segment the customers: custseg fit --input customers.csv --out segments/
The manifest beside the output (customers.manifest.json) records the recipe, the window,
the as-of date, the SQL and every row left out, by reason.
"""


@app.command("features", epilog=EPILOG)
@data_source_options()
@rollup_options()
def features_command(
    source: DataSource,
    rollup: dict[str, Any],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Customer table to write: .csv or .parquet.", show_default=False
        ),
    ] = None,
    print_sql: Annotated[
        bool, typer.Option("--print-sql", help="Print the roll-up query and stop.")
    ] = False,
    dialect: Annotated[
        str | None,
        typer.Option(
            "--dialect",
            help=f"With --print-sql: {', '.join(FEATURE_DIALECTS)} (reading tables named"
            " transactions, statements, accounts). Default: where the data is.",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the manifest as JSON on stdout.")
    ] = False,
) -> None:
    """Roll transactions up to one row per customer with behavioural features, in SQL."""
    from ..features import build_features, features_sql, write_features

    options: dict[str, Any] = dict(rollup)
    statements, accounts = rollup.get("statements"), rollup.get("accounts")
    if print_sql:
        _print_sql(source, dialect, options, features_sql)
        return
    if dialect is not None:
        raise ConfigError("--dialect goes with --print-sql; leave it out or add --print-sql")
    if out is None:
        raise ConfigError("no --out given; add --out customers.csv (or .parquet), or --print-sql")
    _check_out(out, source, statements, accounts)
    with rich_progress() as progress:
        result = build_features(source, progress=progress, **options)
        inputs: dict[str, str | os.PathLike[str] | None] = {"input (--input)": source.input}
        if source.input is not None:
            inputs.update({"--statements": statements, "--accounts": accounts})
        manifest = write_features(
            result, out, inputs=inputs, secrets=STATE.secrets, progress=progress
        )
    if json_output:
        print_json(manifest)
        return
    from rich.markup import escape

    for line in result.describe():
        info(escape(line))  # column names and levels are the data's: no markup
    info(
        f"Wrote {count(len(result.frame), 'customer')} x {count(len(result.features), 'feature')}"
        f" to {out} (manifest: {out.with_name(out.stem + '.manifest.json')})"
    )


def _print_sql(
    source: DataSource, dialect: str | None, options: dict[str, Any], render: Any
) -> None:
    sql = render(source, dialect=dialect, **options)
    sys.stdout.write(sql + "\n")
    sys.stdout.flush()


def _check_out(out: Path, source: DataSource, *others: str | None) -> None:
    """Refuse a bad output before any query runs: an extension, a folder, an input."""
    from .._utils.io import check_distinct_paths

    if out.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(
            f"cannot write the customers to {str(out)!r}: unsupported extension "
            f"{out.suffix or '(none)'!r}; use --out customers.csv or customers.parquet"
        )
    if out.is_dir():
        raise ConfigError(f"--out {str(out)!r} is a folder; give a file name such as {out}/c.csv")
    paths: dict[str, Any] = {"input (--input)": source.input}
    if source.input is not None:
        paths.update({"--statements": others[0], "--accounts": others[1]})
    check_distinct_paths({**paths, "out (--out)": out})
