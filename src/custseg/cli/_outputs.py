"""Checks on output paths shared by the commands that write files (cheap to import).

One rule for every command: an output never replaces an input, another output, or a
file that belongs to another run — a file of a folder custseg wrote as a whole (its
run marker lists it), a snapshot described by its manifest, or that manifest. A
manifest or a rejects file is never left describing a file that was replaced.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from .._utils.folders import check_not_run_output
from ..exceptions import ConfigError

__all__ = [
    "check_output_file",
    "check_outputs",
    "check_snapshot_target",
    "check_spark_output_folder",
    "remove_stale_rejects",
]


def check_outputs(
    outputs: Sequence[tuple[str, Path | None]],
    inputs: Iterable[tuple[str, Path | None]],
    *,
    check_runs: bool = True,
) -> None:
    """Refuse an output that would replace an input, another output or another run's file.

    Parameters
    ----------
    outputs, inputs : sequence of (option, path)
        The option that names each path (``"--out"``) and the path (``None`` if unset).
    check_runs : bool, default=True
        Also refuse another run's file (:func:`check_output_file`); ``False`` for the
        files of a folder written whole, whose folder is checked instead.

    Raises
    ------
    ConfigError
        Naming both options and the fix.
    """
    seen: dict[Path, str] = {}
    for option, path in inputs:
        if path is not None:
            seen[path.resolve()] = option
    for option, path in outputs:
        if path is None:
            continue
        where = path.resolve()
        if where in seen:
            raise ConfigError(
                f"{option} {path} is also {seen[where]}; an output never replaces an input or"
                f" another output: choose another path for {option}"
            )
        if path.is_dir():
            raise ConfigError(f"{option} {path} is a folder; give a file name")
        if check_runs:
            check_output_file(option, path)
        seen[where] = option


def check_output_file(option: str, path: Path) -> None:
    """Refuse a file output that is another run's file: a run folder's, a snapshot, a manifest.

    Raises
    ------
    ConfigError
        Naming the option, the file, whose it is and the fix.
    """
    check_not_run_output(path, option=option)
    described = _snapshot_manifest(path)
    if described is not None:
        raise ConfigError(
            f"{option} {path} is the manifest of the snapshot {described!r} written by"
            " `custseg extract`; choose another file name"
        )
    manifest = _manifest_of(path)
    if manifest is not None and _snapshot_manifest(manifest) == path.name:
        raise ConfigError(
            f"{option} {path} is a snapshot written by `custseg extract` (described by"
            f" {manifest}); replacing it would leave that manifest describing another file:"
            " choose another file name"
        )


def check_snapshot_target(path: Path) -> None:
    """Refuse a snapshot whose manifest would replace the manifest of another snapshot.

    ``customers.csv`` and ``customers.parquet`` share ``customers.manifest.json``:
    extracting one while the other is still there would leave it without its manifest.
    Extracting again to the same file rewrites both; a manifest whose file is gone is
    replaced.

    Raises
    ------
    ConfigError
        Naming the other snapshot and the fix.
    """
    check_not_run_output(path, option="--out")
    manifest = _manifest_of(path)
    described = _snapshot_manifest(manifest)
    if described is None or described == path.name:
        return
    if (path.parent / described).exists():
        raise ConfigError(
            f"--out {path} would replace {manifest}, the manifest of the snapshot"
            f" {path.parent / described}; choose another name (e.g. --out"
            f" {path.with_name(f'{path.stem}-2{path.suffix}')}) or remove {described} first"
        )


def check_spark_output_folder(option: str, path: Path) -> None:
    """Refuse a folder for Spark's part files unless it holds an earlier Spark output.

    Spark's output replaces the folder whole: a folder of other files (a fit folder, a
    folder of the user's) would be lost.

    Raises
    ------
    ConfigError
        Naming the folder, what it holds and the fix.
    """
    check_not_run_output(path, option=option)
    if not path.is_dir():
        return
    foreign = sorted(
        entry.name
        for entry in path.iterdir()
        if not (entry.name.startswith(("part-", ".part-", "_")) or entry.name.endswith(".crc"))
    )
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise ConfigError(
            f"{option} {path}/ holds files that are not Spark part files ({shown}); the"
            f" scored folder replaces it whole: choose a new folder for {option}"
        )


def remove_stale_rejects(out: Path, rejects: Path, default: Path) -> None:
    """Remove ``default`` (``<out>.rejects.csv``) when this run wrote its rejects elsewhere.

    An earlier run's rejects beside the replaced ``out`` would describe rows of a file
    that is gone. Only a rejects file (header ``row,...,reason``) is removed.
    """
    if default.resolve() == rejects.resolve() or not default.is_file():
        return
    try:
        with default.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return
    if header[:1] == ["row"] and header[-1:] == ["reason"]:
        default.unlink(missing_ok=True)


# As custseg.sources.snapshot (manifest_path, MANIFEST_FORMAT), which loads pandas and
# pyarrow: scoring a Parquet file must not pay for them. tests/cli/test_output_folders.py
# holds the two to the same answers.
_MANIFEST_SUFFIX = ".manifest.json"
_MANIFEST_FORMAT = "custseg-snapshot"


def _manifest_of(path: Path) -> Path:
    return path.with_name(f"{path.stem}{_MANIFEST_SUFFIX}")


def _snapshot_manifest(path: Path) -> str | None:
    """The file a snapshot manifest at ``path`` describes, or ``None`` if it is not one."""
    if not path.name.endswith(_MANIFEST_SUFFIX) or not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("format") != _MANIFEST_FORMAT:
        return None
    return str(document.get("file"))
