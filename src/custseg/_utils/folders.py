"""Folders written as a whole, and the run markers that keep two runs out of one folder.

:func:`atomic_folder` stages a folder beside its destination and swaps it in when the
run succeeded (the temporary-name rules of :mod:`custseg._utils.io` apply to the staging
folder too). Every folder custseg writes as a whole carries a hidden run marker naming
the command and the sha256 of each file it wrote, so that a later command can tell its
own earlier run (replaced whole) from another command's folder (refused).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..exceptions import ConfigError
from .io import (
    _TEMP_NAME,
    _ensure_folder,
    _forget,
    _register,
    _remove,
    _temp_prefix,
    _umask,
    remove_stale_temporaries,
    sha256_file,
)

__all__ = [
    "FIT_MARKER",
    "RUN_MARKERS",
    "FolderRun",
    "atomic_folder",
    "check_folder_kind",
    "check_not_run_output",
    "read_folder_run",
    "write_fit_marker",
    "write_run_marker",
]

#: The hidden file that lists what one ``custseg fit`` (or ``custseg demo``) wrote into its folder.
FIT_MARKER = ".custseg-fit.json"
#: The run marker of each kind of folder custseg writes as a whole: the kind is in the
#: name, so a folder holding one marker holds the outputs of one run of one kind.
RUN_MARKERS = {
    "fit": FIT_MARKER,
    "report": ".custseg-report.json",
    "migration": ".custseg-migration.json",
}
# What a user calls each kind of run in a message.
_COMMANDS = {"fit": "custseg fit", "report": "custseg report", "migration": "custseg migrate"}
_NOUNS = {"fit": "model", "report": "report", "migration": "migration"}


@contextlib.contextmanager
def atomic_folder(
    path: str | os.PathLike[str], kind: str = "fit", *, hint: str | None = None
) -> Iterator[Path]:
    """Yield a hidden staging folder that replaces ``path`` as a whole on success.

    While the block runs, a lock beside the folder makes a second writer of the same
    folder fail at once. A folder holding the outputs of a run of another kind (see
    :func:`check_folder_kind`) is refused before anything is written. Files in an
    existing ``path`` that the earlier run did not write (per its run marker; a folder
    without one holds only the user's files) are carried over by hard links; outputs of the
    earlier run are not, so the folder never mixes two runs. Neither are subfolders
    written by a run from a model that this run replaced (a ``report/`` of the
    previous ``model.json``). The swap is one atomic ``renameat2(RENAME_EXCHANGE)`` on
    Linux; elsewhere two renames, undone by :func:`remove_stale_temporaries` if the
    process dies between them.

    Parameters
    ----------
    path : str or path-like
        The folder to write.
    kind : {"fit", "report", "migration"}, default="fit"
        What the caller writes; the caller writes its marker with
        :func:`write_run_marker` before the block ends.
    hint : str or None, default=None
        A folder to suggest when ``path`` is refused.

    Raises
    ------
    ConfigError
        If ``path`` is a file, holds another kind of run, or another process is
        writing the same folder.
    """
    target = Path(path).resolve()  # "." and ".." have no name to stage beside
    if target.exists() and not target.is_dir():
        raise ConfigError(
            f"out={os.fspath(path)!r} (--out) is a file; give a folder such as segments/"
        )
    parent = target.parent
    _ensure_folder(parent)
    with _folder_lock(target):
        # Checked again under the lock: the caller's early check may be stale.
        check_folder_kind(path, kind, hint=hint)
        remove_stale_temporaries(parent)
        staging = Path(
            tempfile.mkdtemp(prefix=_temp_prefix(target.name), suffix=".tmp", dir=parent)
        )
        _register(staging)
        try:
            yield staging
            if target.is_dir():
                _carry_over(target, staging)
            staging.chmod(0o777 & ~_umask())
            _swap(staging, target)
        finally:
            _remove(staging)
            _forget(staging)


def write_fit_marker(folder: Path, files: list[str]) -> None:
    """Record in ``folder`` which files one fit wrote (read by the next fit)."""
    write_run_marker(folder, "fit", files, command="fit")


def write_run_marker(
    folder: Path,
    kind: str,
    files: list[str],
    *,
    command: str | None = None,
    model_sha256: str | None = None,
) -> None:
    """Record in ``folder`` the run that wrote it: its kind, command and files.

    Parameters
    ----------
    folder : pathlib.Path
        The folder (usually the staging folder of :func:`atomic_folder`).
    kind : {"fit", "report", "migration"}
        The kind of folder; it names the marker file (:data:`RUN_MARKERS`).
    files : list of str
        The written files, relative to ``folder``; their sha256 is recorded.
    command : str or None, default=None
        The command that wrote the folder (``"demo"`` writes a fit folder); ``kind``
        when ``None``.
    model_sha256 : str or None, default=None
        The sha256 of the model file the outputs describe (a report): a fit that
        replaces that model drops the folder instead of carrying it over.
    """
    document: dict[str, Any] = {
        "format": f"custseg-{kind}-folder",
        "command": command or kind,
        "run": uuid.uuid4().hex,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {name: sha256_file(folder / name) for name in sorted(files)},
    }
    if model_sha256 is not None:
        document["model_sha256"] = model_sha256
    (folder / RUN_MARKERS[kind]).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class FolderRun:
    """The custseg run whose outputs a folder holds (see :func:`read_folder_run`)."""

    kind: str
    command: str
    #: Top-level names the run wrote, its marker included.
    outputs: frozenset[str]
    #: sha256 of each file the run wrote, by relative path (empty if the marker is unreadable).
    files: Mapping[str, str]
    model_sha256: str | None = None


def read_folder_run(folder: str | os.PathLike[str]) -> FolderRun | None:
    """The run whose outputs ``folder`` holds, or ``None`` (no folder, or no custseg run).

    A run marker decides: a folder without one holds no custseg run, whatever its files
    are called (a notebook's ``model.json``). An unreadable marker still says which kind
    of run wrote the folder (the kind is in the marker's name), but not its files.
    """
    where = Path(folder)
    for kind, marker in RUN_MARKERS.items():
        path = where / marker
        if not path.is_file():
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            files = {str(name): str(digest) for name, digest in document["files"].items()}
            command = str(document.get("command") or kind)
            model = document.get("model_sha256")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return FolderRun(kind, kind, frozenset({marker}), {})
        outputs = frozenset({name.split("/", 1)[0] for name in files} | {marker})
        return FolderRun(kind, command, outputs, files, str(model) if model else None)
    return None


def check_folder_kind(
    folder: str | os.PathLike[str],
    kind: str,
    *,
    option: str = "--out",
    hint: str | None = None,
) -> None:
    """Refuse to write a ``kind`` folder where another kind of run left its outputs.

    A folder written by a run of the same kind is replaced as a whole by
    :func:`atomic_folder` (a new fit replaces an old fit); one written by another kind
    (a report into a fit folder) would mix two runs, so it is refused.

    Raises
    ------
    ConfigError
        Naming the folder, the run that wrote it and the fix.
    """
    run = read_folder_run(folder)
    if run is None or run.kind == kind:
        return
    # An unreadable marker names no file: the marker itself is then what shows the run.
    shown = ", ".join(sorted(name for name in run.outputs if not name.startswith(".")))
    shown = shown or RUN_MARKERS[run.kind]
    other = _COMMANDS.get(run.command, f"custseg {run.command}")
    where = f"{Path(folder)}/"  # "segments/", whether given with "/" or not
    suggestion = f" (e.g. {option} {hint})" if hint else f" for {option}"
    raise ConfigError(
        f"{option} {where} holds the outputs of `{other}` ({shown}); writing the {_NOUNS[kind]}"
        f" there would mix two runs: choose a new folder{suggestion}"
    )


def check_not_run_output(path: str | os.PathLike[str], *, option: str = "--out") -> None:
    """Refuse a file output that would replace a file of a run folder (or its marker).

    ``segments/profiles.csv`` belongs to the fit that wrote ``segments/``: another
    command replacing it would leave the folder describing two runs. The folder of
    ``path`` is checked, then up to three folders above it (those only when their
    marker lists the files).

    Raises
    ------
    ConfigError
        Naming the option, the file, the run and the fix.
    """
    target = Path(path).resolve()  # a link to a run's file is that file
    for depth, folder in enumerate(list(target.parents)[:4]):
        run = read_folder_run(folder)
        if run is None or (depth > 0 and not run.files):
            continue
        top = target.relative_to(folder).parts[0]
        if top in run.outputs:
            other = _COMMANDS.get(run.command, f"custseg {run.command}")
            raise ConfigError(
                f"{option} {os.fspath(path)} would replace an output of `{other}` in"
                f" {os.fspath(folder)}/ and leave that folder mixing two runs: choose a path"
                " outside that folder or another file name"
            )


def _previous_outputs(folder: Path) -> set[str]:
    """Top-level names an earlier run wrote into ``folder``."""
    run = read_folder_run(folder)
    # A folder no custseg run owns holds only the user's files (a notebook's model.json
    # and snapshot): every one is carried over, and this run's own names win.
    return set() if run is None else set(run.outputs)


def _carry_over(old: Path, staging: Path) -> None:
    outputs = _previous_outputs(old)
    replaced = _replaced_digests(old, staging)
    with os.scandir(old) as listing:
        entries = list(listing)
    for entry in entries:
        if entry.name in outputs or _TEMP_NAME.match(entry.name):
            continue
        destination = staging / entry.name
        if destination.exists():  # written by this run: the new output wins
            continue
        if entry.is_dir(follow_symlinks=False):  # e.g. a migration/ folder written later
            inner = read_folder_run(entry.path)
            if inner is not None and inner.model_sha256 in replaced:
                continue  # e.g. report/ of the model this run replaced: it would mislead
            shutil.copytree(entry.path, destination, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry.path, destination)


def _replaced_digests(old: Path, staging: Path) -> set[str]:
    """sha256 of the files the earlier run wrote that this run changed."""
    before, after = read_folder_run(old), read_folder_run(staging)
    if before is None:
        return set()
    kept = set(after.files.values()) if after is not None else set()
    return set(before.files.values()) - kept


def _link_or_copy(source: str, destination: str | os.PathLike[str]) -> None:
    origin = Path(source)
    if origin.is_symlink():
        Path(destination).symlink_to(origin.readlink())
        return
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); ``False`` when unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: file system without exchange
        return False
    raise OSError(code, os.strerror(code), os.fspath(b))


def _swap(staging: Path, target: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    try:
        cwd = Path.cwd()
        inside = cwd == target or target in cwd.parents
    except OSError:
        inside = False
    _replace_folder(staging, target)
    if inside:  # the process worked in the old folder: move it to the new one
        os.chdir(target)


def _replace_folder(staging: Path, target: Path) -> None:
    if _exchange(staging, target):
        return  # the old folder now sits at the staging name, removed by the caller
    aside = target.with_name(f"{_temp_prefix(target.name)}{uuid.uuid4().hex[:8]}.old")
    _register(aside)
    try:
        target.rename(aside)
        staging.rename(target)
    except BaseException:
        if aside.exists() and not target.exists():
            aside.rename(target)
        raise
    finally:
        _remove(aside)
        _forget(aside)


@contextlib.contextmanager
def _folder_lock(target: Path) -> Iterator[None]:
    lock_path = target.with_name(f".{target.name}.custseg-lock")
    handle = lock_path.open("a+")
    try:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not POSIX: no lock, the atomic swap still holds
            pass
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ConfigError(
                f"another custseg run ({holder}) is writing the folder {os.fspath(target)!r};"
                " wait for it to finish or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        # Unlinked while still locked, so a waiting writer never sees a stale holder.
        with contextlib.suppress(OSError):
            lock_path.unlink()
        handle.close()
