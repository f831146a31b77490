"""Write a report to a folder: the HTML page, its figures, a summary and the profiles.

:func:`write_report` writes the folder as a whole (a fresh folder replaces an earlier
report at once, and a folder holding another run's outputs is refused);
:func:`write_report_files` writes the files into a folder its caller owns (the staging
folder of ``custseg fit``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypedDict, Unpack

import pandas as pd

from .._utils.folders import atomic_folder, check_folder_kind, write_run_marker
from .._utils.io import atomic_path, write_bytes_atomic, write_text_atomic
from .._utils.progress import NO_PROGRESS, Progress
from .._utils.text import neutralise_formulas
from ..exceptions import SourceError
from ..model import SegmentationModel
from .data import build_report_data
from .render import render_report

__all__ = ["ReportOptions", "write_report", "write_report_files"]


class ReportOptions(TypedDict, total=False):
    """How a report is computed: see :func:`write_report`."""

    progress: Progress
    random_state: int


def write_report(
    model: SegmentationModel,
    frame: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    model_sha256: str | None = None,
    **options: Unpack[ReportOptions],
) -> dict[str, Path]:
    """Build the report of ``model`` on ``frame`` and write it to the folder ``out_dir``.

    The folder is written as a whole: the files go to a staging folder that replaces
    ``out_dir`` in one rename, so a failure leaves the previous report untouched and a
    new report never sits beside files of an earlier one. An earlier report in
    ``out_dir`` is replaced (files custseg did not write are kept); a folder holding
    another run's outputs (a ``custseg fit`` folder, a migration) is refused before
    anything is computed. The folder's ``.custseg-report.json`` lists the files.

    Parameters
    ----------
    model : SegmentationModel
        A fitted model.
    frame : pandas.DataFrame
        The raw customer table to report on (usually the training table).
    out_dir : str or path-like
        Destination folder, created if needed.
    model_sha256 : str or None, default=None
        sha256 of the model file the report describes, recorded in the marker: a fit
        that later replaces that model in the folder above drops this report rather
        than keep a report of a model that is gone.
    progress : Progress, default=NO_PROGRESS
        Receives the progress of the three stages (data, figures, files).
    random_state : int, default=0
        Seed of the samples drawn for the figures (see :func:`build_report_data`).

    Returns
    -------
    dict of str to pathlib.Path
        Written files keyed by their path relative to ``out_dir``: ``report.html`` (one
        self-contained page), ``summary.md``, ``profiles.csv`` and ``figures/<name>.png``.

    Raises
    ------
    SourceError
        If ``out_dir`` exists and is not a folder, or cannot be created.
    ConfigError
        If ``out_dir`` holds the outputs of another kind of run (e.g. a fit), or another
        process is writing it.
    ModelError, DataError, SchemaError, ConfigError
        As :func:`build_report_data`.
    """
    folder = Path(out_dir)
    _check_folder(folder)
    hint = os.fspath(folder / "report")
    check_folder_kind(folder, "report", hint=hint)  # before the work, not only after it
    with atomic_folder(folder, "report", hint=hint) as staging:
        written = write_report_files(model, frame, staging, **options)
        write_run_marker(staging, "report", list(written), model_sha256=model_sha256)
    return {name: folder / name for name in written}


def write_report_files(
    model: SegmentationModel,
    frame: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    progress: Progress = NO_PROGRESS,
    random_state: int = 0,
) -> dict[str, Path]:
    """Write the report's files into ``out_dir``, a folder the caller owns.

    Each file is written atomically, the page last; files of an earlier report are
    not removed. Callers that write a folder as a whole (``custseg fit`` into its
    staging folder) use it; others use :func:`write_report`.

    Parameters and returns are those of :func:`write_report`.
    """
    folder = Path(out_dir)
    _check_folder(folder)
    with progress.stage("Computing the report data", total=None):
        data = build_report_data(model, frame, random_state=random_state)
    with progress.stage("Drawing the figures", total=None):
        rendered = render_report(data)
    written: dict[str, Path] = {}
    with progress.stage("Writing the report", total=len(rendered.figures) + 3) as stage:
        for name, png in rendered.figures.items():
            key = f"figures/{name}.png"
            written[key] = write_bytes_atomic(folder / key, png)
            stage.advance()
        written["profiles.csv"] = folder / "profiles.csv"
        with atomic_path(written["profiles.csv"]) as tmp:
            # Names from the data stay text in a spreadsheet ("=..." gets a quote).
            neutralise_formulas(rendered.profiles).to_csv(tmp, index=False)
        stage.advance()
        written["summary.md"] = write_text_atomic(folder / "summary.md", rendered.summary_markdown)
        stage.advance()
        # The page last: once it exists, everything it describes is in place.
        written["report.html"] = write_text_atomic(folder / "report.html", rendered.html)
        stage.advance()
    return written


def _check_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise SourceError(
            f"the output path {folder} is a file, not a folder; pass a folder (out_dir, --out)"
        )
