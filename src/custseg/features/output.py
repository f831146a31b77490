"""Saving a roll-up: the customer table beside its manifest.

The table is written as a snapshot (:func:`custseg.sources.save_snapshot`: atomic, the
sha256 of the file, the columns and types) whose query is the roll-up SQL, and the
manifest gains a ``features`` block: the recipe, the window and its as-of date, the
columns read, the date format and its proof, and the rows left out by reason. Secrets
never reach it: the SQL is masked as every message is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._utils.io import check_distinct_paths, write_text_atomic
from .._utils.masking import mask_text
from .._utils.progress import NO_PROGRESS, Progress
from ..exceptions import ConfigError
from ..sources.snapshot import manifest_path, save_snapshot
from .build import FeatureResult

__all__ = ["write_features"]


def write_features(
    result: FeatureResult,
    out: str | os.PathLike[str],
    *,
    inputs: dict[str, str | os.PathLike[str] | None] | None = None,
    secrets: tuple[str, ...] = (),
    progress: Progress = NO_PROGRESS,
) -> dict[str, Any]:
    """Write ``result.frame`` to ``out`` (.csv or .parquet) and its manifest beside it.

    Parameters
    ----------
    result : FeatureResult
    out : path-like
        The customer table to write; never one of ``inputs``.
    inputs : dict, optional
        Role -> input file (``{"input (--input)": "lines.csv"}``), refused as ``out``.
    secrets : tuple of str
        Strings masked wherever they appear (a warehouse password).
    progress : Progress, default NO_PROGRESS

    Returns
    -------
    dict
        The manifest as written (``<stem>.manifest.json``).

    Raises
    ------
    ConfigError
        ``out`` is an input, or ``result`` is not a FeatureResult.
    SourceError
        An unsupported extension or an unwritable destination.
    """
    if not isinstance(result, FeatureResult):
        raise ConfigError(f"result={type(result).__name__} should be what build_features returns")
    check_distinct_paths({**(inputs or {}), "out (--out)": out})
    sql = mask_text(result.sql, secrets)
    manifest = save_snapshot(
        result.frame,
        out,
        query=sql,
        warehouse=mask_text(result.source, secrets),
        source_kind=result.source_kind,
        progress=progress,
    )
    block = json.loads(mask_text(json.dumps(result.to_dict()), secrets))
    manifest["features"] = block
    write_text_atomic(manifest_path(Path(out)), json.dumps(manifest, indent=2) + "\n")
    return manifest
