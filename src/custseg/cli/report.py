"""``custseg report``: rebuild the HTML report of a saved model on a data file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from . import app
from ._common import info, print_json, rich_progress

if TYPE_CHECKING:
    import pandas as pd


@app.command(
    "report",
    epilog=(
        "Example: custseg report out/model.json --data customers.csv --out out/report\n\n"
        "Then open out/report/report.html in a browser (it works offline)."
    ),
)
def report(
    model: Path = typer.Argument(
        ..., metavar="MODEL", help="Model file written by `custseg fit` (model.json)."
    ),
    data: Path = typer.Option(
        ...,
        "--data",
        "--input",
        "-d",
        "-i",
        help="Customer table to report on: a .csv (or .csv.gz, .tsv) or .parquet file.",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Output folder. \\[default: a 'report' folder next to the model file]",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the samples drawn for the figures."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the written files as JSON on stdout."
    ),
) -> None:
    """Write report.html (one self-contained page), figures/, summary.md and profiles.csv.

    Rows with unusable values are counted in the report and set aside. The folder is
    written whole: an earlier report there is replaced, a folder written by another
    command (a fit folder) is refused.
    """
    from ..exceptions import ConfigError
    from ..model import load_model
    from ..report import write_report

    if seed < 0:
        raise ConfigError(f"--seed {seed} should be an integer >= 0, e.g. --seed 0")
    from .._utils.folders import check_folder_kind
    from .._utils.io import check_distinct_paths, sha256_file

    folder = out if out is not None else _default_folder(model)
    for name in ("report.html", "summary.md", "profiles.csv"):
        check_distinct_paths({"the data (--data)": data, f"out (--out) {name}": folder / name})
        check_distinct_paths({"the model": model, f"out (--out) {name}": folder / name})
    # Before the model and the table are read: a fit folder (the model's own included)
    # is refused at once; an earlier report folder is replaced whole.
    check_folder_kind(folder, "report", hint=str(folder / "report"))
    loaded = load_model(model)
    frame = _read_table(data)
    with rich_progress() as progress:
        written = write_report(
            loaded,
            frame,
            folder,
            progress=progress,
            random_state=seed,
            model_sha256=sha256_file(model) if model.is_file() else None,
        )
    if as_json:
        print_json({name: str(path) for name, path in written.items()})
    else:
        info(f"Report written to {written['report.html']}")
        info(f"Summary: {written['summary.md']}; profiles: {written['profiles.csv']}")


def _default_folder(model: Path) -> Path:
    base = model if model.is_dir() else model.parent
    return base / "report"


def _read_table(path: Path) -> pd.DataFrame:
    from ..sources import read_table

    return read_table(path)
