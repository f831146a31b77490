"""``custseg migrate``: where did each segment's customers go between two scorings?"""

from __future__ import annotations

from pathlib import Path

import typer

from . import app
from ._common import STATE, err_console, info, print_json

EPILOG = """\
Examples:

  custseg migrate --old scored-q1.csv --new scored-q2.parquet --out migration/

  custseg migrate --old q1.parquet --new q2.parquet --out migration/ --id-column ACCOUNT_NO --json

Writes migration/transitions.csv (from_segment, from_name, to_segment, to_name,
customers, share_of_from), only_old.csv and only_new.csv (customers in one file only),
migration.json (counts, largest flows, one paragraph explaining them) and migration.png
(a heatmap). The transitions add up to the customers found in both files.
"""


@app.command("migrate", epilog=EPILOG)
def migrate(
    old: Path = typer.Option(
        ..., "--old", help="Scored file of the earlier period (.csv or .parquet)."
    ),
    new: Path = typer.Option(
        ..., "--new", help="Scored file of the later period (.csv or .parquet)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    id_column: str | None = typer.Option(
        None,
        "--id-column",
        help="Identifier to match customers on (default: the first column both files share).",
        show_default=False,
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print migration.json's summary as JSON on stdout."
    ),
) -> None:
    """Match two scored files on the customer id and count the moves between segments."""
    from .._utils.folders import (
        atomic_folder,
        check_folder_kind,
        check_not_run_output,
        write_run_marker,
    )
    from ..exceptions import ConfigError
    from ..report.migration import MIGRATION_FILES, write_migration
    from ..scoring.migration import compare_scored_files
    from ._outputs import check_outputs

    check_outputs(
        [(f"--out {out / name}", out / name) for name in MIGRATION_FILES],
        [("--old", old), ("--new", new)],
        check_runs=False,  # the folder as a whole is checked below
    )
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder such as migration/")
    # The folder is written whole: an earlier migration there is replaced, another
    # command's folder (a fit folder) is refused before the files are read.
    check_not_run_output(out)
    hint = str(out / "migration")
    check_folder_kind(out, "migration", hint=hint)
    migration = compare_scored_files(old, new, id_column=id_column)
    with atomic_folder(out, "migration", hint=hint) as staging:
        staged = write_migration(migration, staging)
        write_run_marker(staging, "migration", list(staged))
    written = {name: out / name for name in staged}
    summary = migration.summary
    if as_json:
        print_json(migration.to_dict())
    if STATE.quiet:
        return
    from rich.markup import escape
    from rich.table import Table

    info(
        f"{summary['matched']:,} customers in both files: {summary['stayed']:,} stayed,"
        f" {summary['moved']:,} moved; {summary['only_old']:,} only in {old},"
        f" {summary['only_new']:,} only in {new}"
    )
    if summary["largest_flows"]:
        table = Table(title="Largest moves", show_lines=False)
        for column in ("from", "to", "customers", "share of from"):
            table.add_column(column, justify="right" if column[0] in "cs" else "left")
        for flow in summary["largest_flows"][:5]:
            table.add_row(
                escape(f"{flow['from_segment']} {flow['from_name']}"),
                escape(f"{flow['to_segment']} {flow['to_name']}"),
                f"{flow['customers']:,}",
                f"{flow['share_of_from']:.1%}",
            )
        err_console.print(table)
    info(escape(summary["explanation"]))
    for note in summary["notes"]:
        info(f"note: {escape(note)}")
    info(f"written: {', '.join(str(path) for path in written.values())}")
