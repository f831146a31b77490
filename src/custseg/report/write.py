"""Write a report to a folder: the HTML page, its figures, a summary and the profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .._utils.io import atomic_path, write_bytes_atomic, write_text_atomic
from .._utils.progress import NO_PROGRESS, Progress
from .._utils.text import neutralise_formulas
from ..exceptions import SourceError
from ..model import SegmentationModel
from .data import build_report_data
from .render import render_report

__all__ = ["write_report"]


def write_report(
    model: SegmentationModel,
    frame: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    progress: Progress = NO_PROGRESS,
    random_state: int = 0,
) -> dict[str, Path]:
    """Build the report of ``model`` on ``frame`` and write it to ``out_dir``.

    Every file is written atomically: a reader never sees a half-written file, and a
    failure leaves the previous version of each file in place.

    Parameters
    ----------
    model : SegmentationModel
        A fitted model.
    frame : pandas.DataFrame
        The raw customer table to report on (usually the training table).
    out_dir : str or path-like
        Destination folder, created if needed.
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
    ModelError, DataError, SchemaError, ConfigError
        As :func:`build_report_data`.
    """
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise SourceError(
            f"the output path {folder} is a file, not a folder; pass a folder (out_dir, --out)"
        )
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
