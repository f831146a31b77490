"""Atomic file and folder output, the temporary files behind it, and checksums.

Every writer of the package goes through :func:`atomic_path` (one file) or
:func:`atomic_folder` (a folder written as a whole, e.g. what ``custseg fit`` writes).
Output goes to a hidden temporary file or folder next to the destination, named
``.<name>.custseg-<host>-<pid>-<random>.tmp``, and is renamed onto the destination only
when everything succeeded. So:

- a failure, an interruption or a full disk leaves the previous output untouched and
  no partial file;
- temporary files of the running process are removed on SIGTERM (and Ctrl+C)
  once :func:`remove_temporaries_on_signals` is installed (the command line does);
- temporary files of a process that was killed (``kill -9``, power loss) are found
  by their name, whose process no longer runs on this host, and removed by the next
  write into the same folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from ..exceptions import ConfigError, SourceError

__all__ = [
    "FIT_MARKER",
    "atomic_folder",
    "atomic_path",
    "check_distinct_paths",
    "write_fit_marker",
    "remove_stale_temporaries",
    "remove_temporaries_on_signals",
    "sha256_bytes",
    "sha256_file",
    "write_bytes_atomic",
    "write_text_atomic",
]

_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_TEMP_NAME = re.compile(
    r"^\..+\.custseg-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[^./]*\.(?P<kind>tmp|old)$"
)
#: The hidden file that lists what one ``custseg fit`` wrote into its folder.
FIT_MARKER = ".custseg-fit.json"
# Outputs of a fit written before folders carried FIT_MARKER.
_LEGACY_OUTPUTS = frozenset(
    {"model.json", "metrics.json", "report.html", "summary.md", "profiles.csv", "figures"}
)
_live: set[Path] = set()
_live_lock = threading.Lock()


def _temp_prefix(name: str) -> str:
    return f".{name}.custseg-{_HOST}-{os.getpid()}-"


def _register(path: Path) -> None:
    with _live_lock:
        _live.add(path)


def _forget(path: Path) -> None:
    with _live_lock:
        _live.discard(path)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files and folders left in ``folder`` by killed runs.

    Only names written by custseg on this host whose process is gone are touched; a
    destination moved aside by a run killed in the middle of replacing a folder is
    put back when nothing replaced it.

    Returns
    -------
    list of pathlib.Path
        What was removed or restored.
    """
    handled: list[Path] = []
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError:
        return handled
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or match["host"] != _HOST:
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _pid_alive(pid):
            continue
        path = Path(entry.path)
        original = path.with_name(entry.name[1:].split(".custseg-", 1)[0])
        if match["kind"] == "old" and not original.exists():
            with contextlib.suppress(OSError):
                path.rename(original)
                handled.append(path)
                continue
        _remove(path)
        handled.append(path)
    return handled


def remove_temporaries_on_signals() -> None:
    """On SIGTERM (and SIGHUP), remove this process's temporary files, then exit.

    The exit is ``SystemExit(128 + signal)``, so ``finally`` blocks and context
    managers still run. Only the main thread can install signal handlers; elsewhere
    this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        with _live_lock:
            paths = list(_live)
        for path in paths:
            _remove(path)
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, handler)


def _ensure_folder(folder: Path) -> None:
    if folder.exists():
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SourceError(
            f"cannot create the output folder {folder}: {exc.strerror}; choose a writable path"
        ) from exc


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file lives in the destination folder so that the final
    ``os.replace`` is atomic. On any exception (and on SIGTERM, see
    :func:`remove_temporaries_on_signals`) the temporary file is removed and
    ``path`` is left untouched (a previous version, if any, survives).

    Raises
    ------
    SourceError
        If ``path`` is a folder or its folder cannot be created.
    """
    target = Path(path)
    if target.is_dir():
        raise SourceError(f"{os.fspath(path)!r} is a folder; give a file name")
    folder = target.parent if str(target.parent) else Path()
    _ensure_folder(folder)
    remove_stale_temporaries(folder)
    fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(target.name), suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    _register(tmp)
    try:
        yield tmp
        # mkstemp creates the file private (0600); give the final file the permissions
        # an ordinary open() would, so shared reports and models stay readable.
        tmp.chmod(0o666 & ~_umask())
        try:
            tmp.replace(target)
        except OSError as exc:
            raise type(exc)(exc.errno, exc.strerror, os.fspath(target)) from exc
    except BaseException:
        _remove(tmp)
        raise
    finally:
        _forget(tmp)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex sha256 digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def check_distinct_paths(paths: Mapping[str, str | os.PathLike[str] | None]) -> None:
    """Refuse two roles given the same file: an output must never replace an input.

    Parameters
    ----------
    paths : mapping of str to path-like or None
        Each role (``"input (--input)"``, ``"out (--out)"``...) and its path; ``None``
        entries are skipped. Paths are compared after resolving ``..`` and symbolic
        links, and by device and inode when both exist (hard links).

    Raises
    ------
    ConfigError
        Naming the two roles and the path.
    """
    seen: list[tuple[str, Path]] = []
    for role, value in paths.items():
        if value is None:
            continue
        path = Path(value).resolve()
        for other_role, other in seen:
            if path == other or _same_file(path, other):
                raise ConfigError(
                    f"{other_role} and {role} are the same file {os.fspath(value)!r}; an output"
                    " would replace an input: choose another output path"
                )
        seen.append((role, path))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


# ------------------------------------------------------------------- whole folders


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a hidden staging folder that replaces ``path`` as a whole on success.

    While the block runs, a lock beside the folder makes a second writer of the same
    folder fail at once. Files in an existing ``path`` that an earlier fit did not
    write (per its ``.custseg-fit.json``, or the fit outputs' names for older folders)
    are carried over by hard links; outputs of the earlier fit are not, so the folder
    never mixes two runs. The swap is one atomic ``renameat2(RENAME_EXCHANGE)`` on
    Linux; elsewhere two renames, undone by :func:`remove_stale_temporaries` if the
    process dies between them.

    Raises
    ------
    ConfigError
        If ``path`` is a file, or another process is writing the same folder.
    """
    target = Path(path).resolve()  # "." and ".." have no name to stage beside
    if target.exists() and not target.is_dir():
        raise ConfigError(
            f"out={os.fspath(path)!r} (--out) is a file; give a folder such as segments/"
        )
    parent = target.parent
    _ensure_folder(parent)
    with _folder_lock(target):
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
    document: dict[str, Any] = {
        "format": "custseg-fit-folder",
        "run": uuid.uuid4().hex,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {name: sha256_file(folder / name) for name in sorted(files)},
    }
    (folder / FIT_MARKER).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def _previous_outputs(folder: Path) -> set[str]:
    """Top-level names an earlier fit wrote into ``folder``."""
    try:
        document = json.loads((folder / FIT_MARKER).read_text(encoding="utf-8"))
        files = document["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set(_LEGACY_OUTPUTS)
    return {str(name).split("/", 1)[0] for name in files} | {FIT_MARKER}


def _carry_over(old: Path, staging: Path) -> None:
    outputs = _previous_outputs(old)
    with os.scandir(old) as listing:
        entries = list(listing)
    for entry in entries:
        if entry.name in outputs or _TEMP_NAME.match(entry.name):
            continue
        destination = staging / entry.name
        if destination.exists():  # written by this fit: the new output wins
            continue
        if entry.is_dir(follow_symlinks=False):  # e.g. a migration/ folder written later
            shutil.copytree(entry.path, destination, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry.path, destination)


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
