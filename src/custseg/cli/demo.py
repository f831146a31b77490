"""``custseg demo``: extract → fit → report on the bundled sample."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._utils.text import count
from . import app
from ._common import STATE, info, print_json, rich_progress
from .fit import MetricsJsonOption, NoReportOption, fit_summary, print_fit_summary

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
    no_report: NoReportOption = False,
    json_output: MetricsJsonOption = False,
) -> None:
    """Run custseg end to end on the bundled sample of 8,950 credit-card holders."""
    from dataclasses import replace

    from .._utils.folders import atomic_folder, check_folder_kind, read_folder_run, write_run_marker
    from ..config import FitConfig
    from ..pipeline import fit_to_folder
    from ..sources import DataSource, describe_source, extract
    from ._data import save_extract

    # A demo folder is a fit folder with the snapshot it was fitted on: written whole,
    # it replaces an earlier demo or fit and refuses another command's folder at once.
    check_folder_kind(out, "fit")
    with atomic_folder(out, "fit") as staging:
        snapshot = staging / "customers.csv"
        with rich_progress() as progress:
            result = extract(DEMO_QUERY, progress=progress, notify=info)
            manifest = save_extract(result, snapshot, progress=progress)
        info(
            f"Extracted {count(manifest['rows'], 'customer')} from {result.warehouse}"
            f" into {out / snapshot.name}"
        )
        # The model is trained on the snapshot, which records the query in its manifest.
        training = {**describe_source(DataSource(input=snapshot)), "query": DEMO_QUERY}
        training["source"] = str(out / snapshot.name)  # where it will be, not the staging
        with rich_progress() as progress:
            output = fit_to_folder(
                result.frame,
                staging,
                config=FitConfig(random_state=seed),
                training=training,
                report=not no_report,
                progress=progress,
            )
        # The snapshot is not listed among the run's outputs: it describes itself (its
        # manifest), and a later `custseg fit --input demo-output/customers.csv --out
        # demo-output` must carry its own input over rather than drop it.
        fitted = read_folder_run(staging)
        names = [*(fitted.files if fitted is not None else output.files)]
        write_run_marker(staging, "fit", names, command="demo")
    output = replace(output, files={name: out / name for name in output.files})
    summary = fit_summary(output)
    if json_output:
        print_json(summary)
        return
    print_fit_summary(output.model, summary)
    if not no_report and not STATE.quiet:
        report = output.files["report.html"].resolve()
        info(f"\nOpen the report: [bold]{report.as_uri()}[/bold]")
