"""``custseg drift``: has the population moved since the model was trained?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..sources.datasource import DataSource
from . import app
from ._common import STATE, err_console, info, print_json, rich_progress
from ._data import MaxColumnsOption, data_source_options, load_input
from ._rollup_options import check_rollup_given, lines_hint, replay, rollup_options

#: Exit code when ``--fail-on`` is reached (0 ok, 1 internal error, 2 user error).
EXIT_DRIFT = 3

EPILOG = """\
Examples:

  custseg drift --model segments/model.json --input customers-june.csv

  custseg drift --model segments/model.json --input june.parquet --out drift.json
  --report drift.html --fail-on red

  custseg drift --model segments/model.json --sql "SELECT * FROM customers"
  --warehouse duckdb:///bank.duckdb --json

Per feature: PSI against the training histogram, missing values then and now, and a
status: green below --psi-amber (0.1), amber from it, red from --psi-red (0.25). The
segment shares at training and now get a PSI and a status too. Exit code 0, or 3 with
--fail-on when that status (or worse) is reached: 0 ok, 1 internal error, 2 user error,
3 drift threshold reached.
"""


@app.command("drift", epilog=EPILOG)
@data_source_options()
@rollup_options()
def drift(
    model: Path = typer.Option(..., "--model", "-m", help="Model file written by `custseg fit`."),
    *,
    source: DataSource,
    rollup: dict[str, Any],
    max_columns: MaxColumnsOption = None,
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write the drift document here (.json), atomically."
    ),
    report: Path | None = typer.Option(
        None, "--report", help="Write the drift report here (.html, one self-contained page)."
    ),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        help="amber or red: exit with code 3 when this status or worse is reached.",
        show_default=False,
    ),
    psi_amber: float = typer.Option(0.1, "--psi-amber", help="PSI from which a shift is amber."),
    psi_red: float = typer.Option(0.25, "--psi-red", help="PSI from which a shift is red."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the drift document as JSON on stdout."
    ),
    transactions: bool = typer.Option(
        False,
        "--transactions",
        help="The data is transaction lines: roll them up as the model's training lines were"
        " (its recipe, columns and window), then compare.",
    ),
) -> None:
    """Compare current customers with the model's training population, feature by feature."""
    from ..exceptions import ConfigError
    from ..model import load_model
    from ..scoring.drift import check_drift, check_thresholds, status_reached
    from ..scoring.scorer import Scorer
    from ._outputs import check_outputs

    if fail_on is not None and fail_on not in ("amber", "red"):
        raise ConfigError(f"--fail-on {fail_on!r} should be amber or red")
    check_thresholds(psi_amber, psi_red)
    if out is not None and out.suffix.lower() != ".json":
        raise ConfigError(f"--out {out} should end in .json, e.g. --out drift.json")
    if report is not None and report.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--report {report} should end in .html, e.g. --report drift.html")
    check_outputs(
        [("--out", out), ("--report", report)], [("--model", model), ("--input", source.input)]
    )
    check_rollup_given(rollup, transactions)
    scorer = Scorer(load_model(model), require_id=False)
    customers = (
        replay(source, scorer.model.training.get("transactions"), rollup) if transactions else None
    )
    record = scorer.model.training.get("transactions")
    with rich_progress() as progress, lines_hint(record, transactions):
        frame = (
            customers
            if customers is not None
            else load_input(source, progress=progress, max_columns=max_columns)
        )
        with progress.stage("Comparing with the training population", total=None):
            document = check_drift(scorer, frame, amber=psi_amber, red=psi_red)
        written = _write(document, out, report, progress)
    if as_json:
        print_json(document)
    _print(document, written)
    if fail_on is not None and status_reached(document["status"], fail_on):
        info(f"exit code {EXIT_DRIFT}: the status {document['status']} reaches --fail-on {fail_on}")
        raise typer.Exit(EXIT_DRIFT)


def _write(
    document: dict[str, Any], out: Path | None, report: Path | None, progress: Any
) -> dict[str, Path]:
    import json

    from .._utils.io import write_text_atomic
    from ..exceptions import SourceError

    written: dict[str, Path] = {}
    target = out
    try:
        if out is not None:
            text = json.dumps(document, indent=2, allow_nan=False) + "\n"
            written["drift document"] = write_text_atomic(out, text)
        if report is not None:
            from ..report.drift import write_drift_report

            target = report
            with progress.stage("Writing the drift report", total=None):
                written["drift report"] = write_drift_report(document, report)
    except OSError as exc:
        raise SourceError(
            f"cannot write {target}: {exc.strerror}; choose a path you can write to"
        ) from exc
    return written


def _print(document: dict[str, Any], written: dict[str, Path]) -> None:
    """The verdict, the drifting features and the segment shares, on stderr."""
    from rich.markup import escape
    from rich.table import Table

    if STATE.quiet:
        return
    info(f"[bold]{document['status'].upper()}[/bold] {escape(document['verdict'])}")
    drifting = sorted(
        (f for f in document["features"] if f["status"] != "green"), key=lambda f: -f["psi"]
    )
    if drifting:
        table = Table(title="Drifting features", show_lines=False)
        for column in ("feature", "PSI", "status", "missing then", "missing now"):
            table.add_column(column, justify="left" if column in ("feature", "status") else "right")
        for f in drifting:
            table.add_row(
                escape(f["feature"]),
                f"{f['psi']:.3f}",
                f["status"],
                f"{f['missing_then']:.1%}",
                f"{f['missing_now']:.1%}",
            )
        err_console.print(table)
    shares = Table(
        title=f"Segment shares (PSI {document['segments_psi']:.3f}, {document['segments_status']})"
    )
    for column in ("id", "name", "then", "now"):
        shares.add_column(column, justify="left" if column == "name" else "right")
    for s in document["segments"]:
        shares.add_row(
            str(s["segment_id"]),
            escape(s["name"]),
            f"{s['share_then']:.1%}",
            f"{s['share_now']:.1%}",
        )
    err_console.print(shares)
    for note in document["notes"]:
        info(f"note: {escape(note)}")
    for label, path in written.items():
        info(f"{label}: {path}")
