"""Atomic file output, the temporary files behind it, and checksums.

Every writer of the package goes through :func:`atomic_path` (one file) or
:func:`custseg._utils.folders.atomic_folder` (a folder written as a whole, e.g. what
``custseg fit`` writes).
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
import hashlib
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType

from ..exceptions import ConfigError, SourceError

__all__ = [
    "atomic_path",
    "check_distinct_paths",
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
_live: set[Path] = set()
# Re-entrant: the SIGTERM handler takes it on the main thread, which the signal may have
# interrupted while it held the lock (a plain lock would then wait for itself forever).
_live_lock = threading.RLock()


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
