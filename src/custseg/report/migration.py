"""Write a migration to a folder: transitions, one-sided customers, summary and heatmap."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .._utils.io import write_bytes_atomic, write_text_atomic
from .._utils.text import neutralise_formulas
from ..exceptions import ConfigError, SourceError
from ..scoring.migration import Migration
from ._format import displayed
from .figures.migration import migration_figure

__all__ = ["MIGRATION_FILES", "write_migration"]

MIGRATION_FILES = (
    "transitions.csv",
    "only_old.csv",
    "only_new.csv",
    "migration.png",
    "migration.json",
)
"""Files :func:`write_migration` writes, in writing order (the summary last)."""


def write_migration(migration: Migration, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the files of a migration into ``out_dir``.

    ``transitions.csv`` (from_segment, from_name, to_segment, to_name, customers,
    share_of_from), ``only_old.csv`` and ``only_new.csv`` (customers of one table only),
    ``migration.png`` (the heatmap) and ``migration.json`` (counts, segments, largest
    flows, the explanation and the transitions). Everything is rendered in memory
    first, then each file is written atomically, the summary last; every run writes
    all five, so the folder never mixes two runs.

    Returns
    -------
    dict of str to pathlib.Path
        The written files by name.

    Raises
    ------
    ConfigError
        If ``out_dir`` is a file.
    SourceError
        If the folder or a file cannot be written.
    """
    if not isinstance(migration, Migration):
        raise ConfigError(
            f"migration should be a Migration, got {type(migration).__name__}; build it with"
            " custseg.scoring.compare_scored"
        )
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} (--out) is a file; give a folder such as migration/")
    summary = migration.summary
    contents: dict[str, str | bytes] = {
        # Segment names and identifiers come from the data: a spreadsheet must show
        # "=..." or "@..." as text (a leading quote), never run it.
        "transitions.csv": neutralise_formulas(migration.transitions).to_csv(index=False),
        "only_old.csv": neutralise_formulas(migration.only_old).to_csv(index=False),
        "only_new.csv": neutralise_formulas(migration.only_new).to_csv(index=False),
        "migration.png": migration_figure(
            migration.matrix, displayed(summary["segments_old"]), displayed(summary["segments_new"])
        ),
        "migration.json": json.dumps(migration.to_dict(), indent=2, allow_nan=False) + "\n",
    }
    written: dict[str, Path] = {}
    for name in MIGRATION_FILES:
        content = contents[name]
        try:
            if isinstance(content, bytes):
                written[name] = write_bytes_atomic(folder / name, content)
            else:
                written[name] = write_text_atomic(folder / name, content)
        except OSError as exc:
            raise SourceError(
                f"cannot write {folder / name}: {exc.strerror}; choose a folder you can write"
                " to (--out)"
            ) from exc
    return written
