"""``custseg demo``: extract → fit → report on the bundled sample."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import app
from ._common import STATE, info, print_json, rich_progress

EPILOG = """\
Example:

  custseg demo --out demo-output

Writes demo-output/customers.csv (+ manifest) extracted from the embedded DuckDB
warehouse, then demo-output/model.json, metrics.json and report.html.
"""

DEMO_QUERY = "SELECT * FROM credit_card_customers"


@app.command("demo", epilog=EPILOG)
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("demo-output"),
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Do not write the HTML report.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the metrics summary as JSON on stdout.")
    ] = False,
) -> None:
    """Run custseg end to end on the bundled sample of 8,950 credit-card holders."""
    from .._utils.io import sha256_file
    from ..config import FitConfig
    from ..sources import extract, manifest_path, save_snapshot
    from .fit import print_fit_summary, run_fit

    snapshot = out / "customers.csv"
    with rich_progress() as progress:
        result = extract(DEMO_QUERY, progress=progress, notify=info)
        manifest = save_snapshot(
            result.frame,
            snapshot,
            query=result.query,
            warehouse=result.warehouse,
            source_kind=result.source_kind,
            progress=progress,
        )
    info(f"Extracted {manifest['rows']:,} customers from {result.warehouse} into {snapshot}")
    training = {
        "source": str(snapshot),
        "query": DEMO_QUERY,
        "data_sha256": manifest["sha256"],
        "manifest_sha256": sha256_file(manifest_path(snapshot)),
    }
    model, summary = run_fit(
        result.frame,
        FitConfig(random_state=seed),
        out,
        training=training,
        report=not no_report,
    )
    if json_output:
        print_json(summary)
        return
    print_fit_summary(model, summary)
    if not no_report and not STATE.quiet:
        report = Path(summary["files"]["report"]).resolve()
        info(f"\nOpen the report: [bold]{report.as_uri()}[/bold]")
