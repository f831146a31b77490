"""Run the ``custseg`` console script in its own process, without paying its imports each time.

A command-line test is about what the program does: its exit code, its two streams and
the files it leaves. Starting a fresh interpreter for each of the suite's ~300 commands
spends most of their time importing pandas, scikit-learn, matplotlib, DuckDB and Arrow
(2-3 s of CPU each). :class:`WarmCli` starts one *starter* process per test worker that
imports them once; every command is then a child forked from it, which runs
``custseg.cli.run`` (the console script's entry point) in its own process with its own
working folder, standard input, output and error, and exits with the code the program
gives. Nothing is shared between two commands: each child starts from the starter's
state, in which no command has run, with the test's environment of the moment.

What a fork cannot change is what was decided at import: commands given their own
environment variables (``env=``) run as a fresh process of the real console script
instead, and so do the tests that watch what a command imports (they start their own
interpreter).

Run as a script, this module is the starter: it reads one JSON request a line on its
standard input and answers on its standard output ``{"pid": ...}`` when the child runs,
then ``{"status": ...}`` (the child's exit code, or minus the signal that ended it).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve()


class WarmCli:
    """Client of a starter process (see the module docstring); one per test worker."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="custseg-warm-cli-"))
        self._lock = threading.Lock()
        self._process = subprocess.Popen(
            [sys.executable, str(_HERE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(environment),
        )
        self._calls = 0

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: str | os.PathLike[str] | None,
        environment: Mapping[str, str],
        input: str | None,
        timeout: float,
    ) -> tuple[int, str, str]:
        """``custseg ARGS`` in a child of the starter: ``(exit code, stdout, stderr)``.

        Raises :class:`subprocess.TimeoutExpired` (after killing the child) as
        :func:`subprocess.run` does when it runs longer than ``timeout`` seconds.
        """
        # One command at a time: the starter answers its requests in order.
        with self._lock:
            self._calls += 1
            files = {name: self._folder / f"{self._calls}.{name}" for name in ("in", "out", "err")}
            files["in"].write_text(input or "", encoding="utf-8")
            request = {
                "args": [str(a) for a in args],
                "cwd": str(Path(cwd if cwd is not None else Path.cwd()).resolve()),
                "env": dict(environment),
                **{name: str(path) for name, path in files.items()},
            }
            try:
                pid = self._exchange(request)["pid"]
                try:
                    status = self._reply(timeout)["status"]
                except subprocess.TimeoutExpired:
                    os.kill(pid, signal.SIGKILL)
                    self._reply(None)
                    raise subprocess.TimeoutExpired(
                        ["custseg", *request["args"]], timeout
                    ) from None
                stdout, stderr = (
                    files[name].read_text(encoding="utf-8", errors="replace")
                    for name in ("out", "err")
                )
            finally:
                for path in files.values():
                    path.unlink(missing_ok=True)
            return int(status), stdout, stderr

    def close(self) -> None:
        """Stop the starter (its children have all ended: each call waits for its own)."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)
        if self._process.stdout is not None:
            self._process.stdout.close()
        for path in self._folder.iterdir():
            path.unlink()
        self._folder.rmdir()

    def _exchange(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(request).encode() + b"\n")
        self._process.stdin.flush()
        return self._reply(None)

    def _reply(self, timeout: float | None) -> dict[str, Any]:
        stream = self._process.stdout
        assert stream is not None
        if timeout is not None:
            with selectors.DefaultSelector() as selector:
                selector.register(stream, selectors.EVENT_READ)
                if not selector.select(timeout):
                    raise subprocess.TimeoutExpired("custseg", timeout)
        line = stream.readline()
        if not line:
            raise RuntimeError(f"the custseg starter ended (exit {self._process.poll()})")
        return dict(json.loads(line))


# ----------------------------------------------------------------------------- the starter


def _read_line(fd: int) -> bytes:
    """One request line from ``fd``, unbuffered: a forked child must inherit no read-ahead."""
    line = bytearray()
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            return bytes(line)
        line += chunk
    return bytes(line)


def _answer(fd: int, message: dict[str, Any]) -> None:
    os.write(fd, json.dumps(message).encode() + b"\n")


def _child(request: dict[str, Any], channel: tuple[int, int]) -> None:
    """Become ``custseg ARGS`` with the request's folder and streams; never returns."""
    code = 1
    try:
        for fd in channel:
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, name, flags in (
            (0, "in", os.O_RDONLY),
            (1, "out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
            (2, "err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        ):
            opened = os.open(request[name], flags, 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        sys.argv = ["custseg", *request["args"]]
        from custseg.cli import run

        try:
            run()
        except SystemExit as exc:
            code = _exit_code(exc.code)
        # What the interpreter does on its way out: join threads, run the exit handlers.
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001 - report it as a crashed interpreter would
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed stream has nothing to flush
                stream.flush()
        os._exit(code)


def _exit_code(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _serve() -> None:
    # What the commands import: loaded once here, shared by every child.
    import duckdb  # noqa: F401
    import matplotlib.backends.backend_agg  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import scipy.stats  # noqa: F401
    import sklearn.cluster  # noqa: F401

    import custseg.cli  # noqa: F401
    import custseg.pipeline  # noqa: F401
    import custseg.report  # noqa: F401
    import custseg.scoring  # noqa: F401

    # Requests arrive on 0 and answers leave on 1; the children get fresh copies of those
    # descriptors, so the channel moves to others that a child closes first thing.
    channel = os.dup(0), os.dup(1)
    requests, answers = channel
    while True:
        line = _read_line(requests)
        if not line:
            return
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request, channel)
        _answer(answers, {"pid": pid})
        _, status = os.waitpid(pid, 0)
        _answer(answers, {"status": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    _serve()
