"""Operating-system failures that are the user's to fix: one line and exit code 2.

A full disk, a missing permission, a read-only file system or an output path that is
a folder are not bugs of custseg: the command line names the problem, the path and
the fix instead of printing "internal error". Other ``OSError`` kinds stay internal
errors (exit code 1).
"""

from __future__ import annotations

import errno
import re

__all__ = ["user_os_error"]

_FIXES = {
    errno.ENOSPC: "no space left on the device; free some space or write elsewhere",
    errno.EDQUOT: "disk quota exceeded; free some space or write elsewhere",
    errno.EFBIG: "file too large for this file system or process limit; write elsewhere",
    errno.EACCES: "permission denied; choose a path you can read and write",
    errno.EPERM: "operation not permitted; choose a path you can read and write",
    errno.EROFS: "read-only file system; write to a writable folder",
    errno.EISDIR: "is a folder, not a file; give a file name",
    errno.ENOTDIR: "a part of the path is a file, not a folder; check the path",
    errno.ENOENT: "no such file or folder; check the path",
    errno.ENAMETOOLONG: "file name too long; choose a shorter path",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) or close other programs",
    errno.EXDEV: "the temporary and final files are on different devices; write elsewhere",
}
# Arrow and some libraries put the errno in the message only: "[errno 28] No space left".
_ERRNO_IN_TEXT = re.compile(r"errno\s*(\d+)", re.IGNORECASE)


def user_os_error(exc: OSError) -> str | None:
    """The one-line message for an ``OSError`` the user can fix, else ``None``."""
    code = exc.errno
    if code is None:
        match = _ERRNO_IN_TEXT.search(str(exc))
        code = int(match.group(1)) if match else None
    fix = _FIXES.get(code) if code is not None else None
    if fix is None:
        return None
    where = exc.filename if exc.filename is not None else None
    return f"{where}: {fix}" if where else fix
