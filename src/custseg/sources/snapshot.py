"""Snapshots: an extracted table written to CSV or Parquet, with a manifest beside it.

``customers.csv`` gets ``customers.manifest.json``: the query, the warehouse (never
its password), when (UTC), the row and column counts, the column names and types,
the sha256 of the written file and the custseg version. Both files are written
atomically: a failed write leaves no partial file and keeps a previous version.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from .._utils.checks import check_frame
from .._utils.io import atomic_path, sha256_bytes, sha256_file, write_text_atomic
from .._utils.progress import NO_PROGRESS, Progress
from .._utils.text import neutralise_formulas_arrow
from .._version import __version__
from ..exceptions import ConfigError, SourceError

__all__ = ["MANIFEST_FORMAT", "manifest_path", "save_snapshot", "verify_snapshot"]

MANIFEST_FORMAT = "custseg-snapshot"
MANIFEST_VERSION = 1
_SNAPSHOT_SUFFIXES = {".csv": "csv", ".parquet": "parquet"}
_BATCH_ROWS = 100_000


def manifest_path(path: str | os.PathLike[str]) -> Path:
    """The manifest of a snapshot: ``customers.csv`` -> ``customers.manifest.json``."""
    target = Path(path)
    return target.with_name(f"{target.stem}.manifest.json")


def save_snapshot(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    query: str,
    warehouse: str,
    source_kind: str | None = None,
    bytes_processed: int | None = None,
    query_file: str | os.PathLike[str] | None = None,
    progress: Progress = NO_PROGRESS,
) -> dict[str, Any]:
    """Write ``frame`` to ``path`` (CSV or Parquet) and its manifest next to it.

    Parameters
    ----------
    frame : pandas.DataFrame
        The extracted table.
    path : str or path-like
        ``.csv`` or ``.parquet`` file; folders are created as needed.
    query : str
        The query the table came from, recorded as is.
    warehouse : str
        Description of the warehouse, without credentials (``Extract.warehouse``).
    source_kind : str, optional
        ``"duckdb"``, ``"bigquery"``, ``"sqlalchemy"`` or ``"file"``.
    bytes_processed : int, optional
        Bytes the warehouse processed (BigQuery).
    query_file : path-like, optional
        The file the query was read from (``--sql @query.sql``); its name is recorded
        as ``query_file`` beside ``query_sha256``.
    progress : Progress, default NO_PROGRESS
        Receives a "writing" stage counting rows.

    Returns
    -------
    dict
        The manifest, as written to ``<stem>.manifest.json``.

    Raises
    ------
    DataError
        ``frame`` is not a DataFrame.
    ConfigError
        ``query``/``warehouse`` are not strings.
    SourceError
        Unsupported extension, duplicate or non-text column names, a column that
        cannot be written, or an unwritable destination.
    """
    check_frame(frame)
    if not isinstance(query, str) or not isinstance(warehouse, str):
        raise ConfigError("query and warehouse should be strings (the query text and the URL)")
    target = Path(path)
    kind = _SNAPSHOT_SUFFIXES.get(target.suffix.lower())
    if kind is None:
        raise SourceError(
            f"cannot write a snapshot to {os.fspath(path)!r}: unsupported extension "
            f"{target.suffix or '(none)'!r}; use .csv or .parquet"
        )
    if target.is_dir():
        raise SourceError(f"{os.fspath(path)!r} is a folder; give a file name ending in .{kind}")
    names = [str(name) for name in frame.columns]
    if len(set(names)) != len(names) or any(not isinstance(c, str) for c in frame.columns):
        raise SourceError(
            f"cannot write a snapshot with duplicate or non-text column names {names[:10]}; "
            "rename the columns"
        )
    table = _to_arrow(frame)
    if kind == "csv":
        _check_flat(table)
    with atomic_path(target) as tmp:
        with progress.stage(f"Writing {target.name}", total=len(frame)) as stage:
            _write(table, tmp, kind, stage.advance)
        manifest: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "format_version": MANIFEST_VERSION,
            "file": target.name,
            "file_format": kind,
            "sha256": sha256_file(tmp),
            "bytes": tmp.stat().st_size,
            "rows": len(frame),
            "columns": len(names),
            "schema": [
                {"name": name, "type": str(dtype)}
                for name, dtype in zip(names, frame.dtypes, strict=True)
            ],
            "query": query,
            "query_sha256": sha256_bytes(query.encode("utf-8")),
            "query_file": Path(query_file).name if query_file is not None else None,
            "warehouse": warehouse,
            "source_kind": source_kind,
            "bytes_processed": bytes_processed,
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "custseg_version": __version__,
        }
        write_text_atomic(manifest_path(target), json.dumps(manifest, indent=2) + "\n")
    return manifest


def verify_snapshot(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Check a snapshot against its manifest and return the manifest.

    Parameters
    ----------
    path : str or path-like
        The snapshot file (not the manifest).

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    SourceError
        The snapshot or its manifest is missing or unreadable, or the file's sha256
        differs from the manifest's (the file changed since it was extracted).
    """
    target = Path(path)
    manifest_file = manifest_path(target)
    for needed in (target, manifest_file):
        if not needed.is_file():
            raise SourceError(f"file not found: {str(needed)!r}; extract the snapshot again")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(
            f"cannot read the manifest {str(manifest_file)!r}: {exc}; extract the snapshot again"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise SourceError(f"{str(manifest_file)!r} is not a custseg snapshot manifest")
    if manifest.get("file") != target.name:
        # customers.csv and customers.parquet share customers.manifest.json: the last wins.
        raise SourceError(
            f"{str(manifest_file)!r} describes {manifest.get('file')!r}, not {target.name!r}; "
            "extract the snapshot again"
        )
    actual = sha256_file(target)
    if actual != manifest.get("sha256"):
        raise SourceError(
            f"{str(target)!r} changed since it was extracted (sha256 {actual[:12]}... differs "
            f"from the manifest's {str(manifest.get('sha256'))[:12]}...); extract it again"
        )
    return manifest


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        failed = _failed_column(frame)
        if failed is None:
            raise SourceError(
                f"cannot write the table: {str(exc).splitlines()[0]}; give each column values "
                "of one type"
            ) from exc
        name, detail = failed
        raise SourceError(
            f"cannot write the table: column {name!r}: {detail}; give it values of one simple"
            f" type (cast it in the query, e.g. CAST({name} AS VARCHAR)) or leave it out"
        ) from exc


def _failed_column(frame: pd.DataFrame) -> tuple[str, str] | None:
    """The first column Arrow cannot convert, and why (pandas' error names no column)."""
    for name in frame.columns:
        try:
            pa.array(frame[name], from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            return str(name), str(exc).splitlines()[0]
    return None


def _check_flat(table: pa.Table) -> None:
    """Refuse list, struct and map columns before a CSV file is started: CSV has no such values."""
    for schema_field in table.schema:
        kind = schema_field.type
        if pa.types.is_nested(kind):
            word = (
                "map"
                if pa.types.is_map(kind)
                else "struct"
                if pa.types.is_struct(kind)
                else "list"
                if pa.types.is_list(kind)
                or pa.types.is_large_list(kind)
                or pa.types.is_fixed_size_list(kind)
                else "nested"
            )
            name = schema_field.name
            raise SourceError(
                f"column {name!r} holds {word} values ({kind}), which a CSV file cannot hold; "
                f"write a .parquet file instead, cast the column to text in the query "
                f"(CAST({name} AS VARCHAR)) or leave it out"
            )


def _write(table: pa.Table, tmp: Path, kind: str, advance: Any) -> None:
    try:
        if kind == "csv":
            # Text starting like a spreadsheet formula gets a leading quote; Parquet
            # keeps values exactly (docs/report.md, "Text from your data").
            table = neutralise_formulas_arrow(table)
            options = pcsv.WriteOptions(quoting_style="needed")
            with pcsv.CSVWriter(str(tmp), table.schema, write_options=options) as writer:
                for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
                    writer.write_batch(batch)
                    advance(batch.num_rows)
        else:
            with pq.ParquetWriter(str(tmp), table.schema) as writer:
                for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
                    writer.write_batch(batch)
                    advance(batch.num_rows)
    except pa.ArrowNotImplementedError as exc:
        raise SourceError(
            f"cannot write {kind.upper()}: {str(exc).splitlines()[0]}; write a .parquet file "
            "or leave that column out of the query"
        ) from exc
