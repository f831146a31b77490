"""Shared command-line plumbing: console, global flags, progress bars, output helpers.

Only the command line imports this module. It must stay cheap to import:
no numpy, pandas or scikit-learn here.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console

from .._utils.progress import NO_PROGRESS, Scoped, Stage
from .._utils.text import display_name

if TYPE_CHECKING:
    from rich.progress import Progress

__all__ = [
    "STATE",
    "console",
    "err_console",
    "rich_progress",
    "print_json",
    "info",
    "warn",
    "warnings_as_lines",
    "learn_secrets",
    "masked",
    "use_secrets_of",
]


@dataclass
class _State:
    verbose: bool = False
    quiet: bool = False
    #: Secrets of the URLs among the command's arguments, masked in every line printed.
    secrets: tuple[str, ...] = ()


STATE = _State()
console = Console()
err_console = Console(stderr=True)


def use_secrets_of(args: Sequence[str]) -> None:
    """Mask the secrets of the URLs among ``args`` (``--warehouse``'s password) from now on."""
    from .._utils.masking import url_secrets

    urls = [arg.partition("=")[2] if arg.startswith("--") else arg for arg in args]
    STATE.secrets = tuple(s for url in urls if "://" in url for s in url_secrets(url))


def learn_secrets(secrets: Sequence[str]) -> None:
    """Mask ``secrets`` too from now on: those of the command's data source.

    :class:`custseg.sources.DataSource.secrets` knows the URL's password and the
    values of the options a warehouse declares secret, which no URL among the
    arguments shows.
    """
    merged = {*STATE.secrets, *secrets}
    STATE.secrets = tuple(sorted(merged, key=lambda secret: (-len(secret), secret)))


def masked(text: str) -> str:
    """``text`` without the secrets of the command line (see :func:`use_secrets_of`).

    The last guard of everything the command prints: a warning, a traceback or an
    unexpected error may quote a driver's message that repeats a password. Messages
    show URLs masked already, so only the secrets themselves are replaced.
    """
    if not STATE.secrets:
        return text
    from .._utils.masking import mask_text

    return mask_text(text, STATE.secrets, urls=False)


def info(message: str) -> None:
    """Print a human-readable line on stderr unless ``--quiet`` was given."""
    if not STATE.quiet:
        # Names from the data lose bidi and control characters; line breaks are the
        # message's own.
        lines = (display_name(line) for line in masked(message).split("\n"))
        err_console.print("\n".join(lines), highlight=False)


def warn(message: str) -> None:
    """``warning: <message>`` on stderr, one line, unless ``--quiet`` was given.

    The one way the command line warns: custseg's own warnings (a missing identifier,
    a column reproducing a segment) and those of libraries (see
    :func:`warnings_as_lines`). ``--quiet`` keeps errors and results only; the warnings
    of a fit stay in its model.json and metrics.json.
    """
    if not STATE.quiet:
        # Column names in a warning come from the data: no bidi override reorders the line.
        err_console.print(
            f"warning: {display_name(masked(message))}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


# Where a library's warning comes from, for the line that replaces it: the folder under
# site-packages (or the standard library module) that raised it.
_LIBRARY_NAMES = {"sklearn": "scikit-learn", "kneed": "kneed"}


def _library(filename: str) -> str:
    parts = PurePath(filename).parts
    if "site-packages" in parts:
        index = parts.index("site-packages") + 1
        if index < len(parts):
            name = parts[index].removesuffix(".py")
            return _LIBRARY_NAMES.get(name, name)
    # An editable install (src/custseg/...) or the standard library (warnings.py).
    return "custseg" if "custseg" in parts[:-1] else PurePath(filename).stem


@contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Show the Python warnings raised while a command runs as one ``warning:`` line each.

    A library's warning (numpy's ``RuntimeWarning``, scikit-learn's
    ``ConvergenceWarning``, pandas...) would print its file, line and source code; here
    it becomes ``warning: <library>: <first line of its message>``, printed once per
    command whatever the number of times it was raised, and silenced by ``--quiet``.
    ``--verbose`` adds its category and location. The filters are not changed: which
    warnings are shown or turned into errors (pytest) stays as configured.
    """
    seen: set[str] = set()

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        text = (str(message).strip().splitlines() or [category.__name__])[0].strip()
        source = _library(filename)
        if source != "custseg":
            text = f"{source}: {text}"
        if text in seen:
            return
        seen.add(text)
        if STATE.verbose:
            text += f" ({category.__name__} at {filename}:{lineno})"
        warn(text)

    with warnings.catch_warnings():
        # catch_warnings restores the previous function (and the filters) on exit.
        warnings.showwarning = show
        yield


def print_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout (for machines: nothing else goes to stdout)."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    sys.stdout.flush()


class _RichStage(Scoped):
    def __init__(self, bar: Progress, description: str, total: float | None) -> None:
        self._bar = bar
        self._task = bar.add_task(description, total=total)

    def advance(self, amount: float = 1) -> None:
        self._bar.advance(self._task, amount)

    def finish(self, completed: bool) -> None:
        task = self._bar.tasks[self._task] if self._task < len(self._bar.tasks) else None
        if completed and task is not None and task.total is not None:
            self._bar.update(self._task, completed=task.total)
        self._bar.stop_task(self._task)


class _TimedStage(Scoped):
    """With ``--verbose``, a stage says how long it took when it ends: where the time of a
    long command goes is visible, with or without a terminal."""

    def __init__(self, inner: Stage, description: str) -> None:
        self._inner = inner
        self._description = description
        self._started = 0.0

    def advance(self, amount: float = 1) -> None:
        self._inner.advance(amount)

    def start(self) -> None:
        self._started = time.perf_counter()
        self._inner.__enter__()

    def finish(self, completed: bool) -> None:
        # The inner stage learns whether the work ended (a bar completes only then).
        self._inner.__exit__(None if completed else RuntimeError, None, None)
        seconds = time.perf_counter() - self._started
        outcome = "" if completed else " (stopped)"
        info(f"{self._description}: {seconds:.1f} s{outcome}")


class _RichProgress(Scoped):
    """Adapter from the core's progress seam to a Rich progress display on stderr."""

    def __init__(self) -> None:
        self._bar: Progress | None = None
        if STATE.quiet or not err_console.is_terminal:
            return  # nothing would be shown: no display is built (nor rich.progress loaded)
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        )

    def stage(self, description: str, total: float | None = None) -> Stage:
        inner = (
            NO_PROGRESS.stage(description, total)
            if self._bar is None
            else _RichStage(self._bar, description, total)
        )
        return _TimedStage(inner, description) if STATE.verbose else inner

    def start(self) -> None:
        if self._bar is not None:
            self._bar.start()

    def finish(self, completed: bool) -> None:
        if self._bar is not None:
            self._bar.stop()


def rich_progress() -> _RichProgress:
    """A progress display for one command; use as a context manager."""
    return _RichProgress()


def gathered_options(
    name: str, options: list[inspect.Parameter], gather: Callable[..., Any]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator that offers ``options`` where a command has its ``name`` parameter.

    Typer reads the command's signature: the options stand in place of ``name``, and
    when the command runs, their values are popped and ``gather(**values)`` becomes
    the ``name`` argument (one checked value for a group of options: a DataSource,
    the roll-up options).
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        names = [parameter.name for parameter in options]
        clash = set(names) & set(signature.parameters)
        assert not clash, f"{command.__name__} already has {sorted(clash)}"
        parameters: list[inspect.Parameter] = []
        for parameter in signature.parameters.values():
            if parameter.name == name:
                parameters += options
            else:
                parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

        @functools.wraps(command)
        def run(**values: Any) -> Any:
            gathered = gather(**{option: values.pop(option) for option in names})
            return command(**{name: gathered}, **values)

        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        return run

    return decorate
