"""A small progress seam: the core reports progress, front ends decide how to show it.

The core never imports Rich or the command line. Long-running functions accept a
``progress`` argument implementing :class:`Progress`; the command line passes a
Rich progress bar, the Python API defaults to :data:`NO_PROGRESS`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

__all__ = ["Progress", "Scoped", "Stage", "NO_PROGRESS"]


class Stage(Protocol):
    """One step of work with an optional known total."""

    def advance(self, amount: float = 1) -> None: ...

    def __enter__(self) -> Stage: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Progress(Protocol):
    """Factory of stages; ``total=None`` means an indeterminate spinner."""

    def stage(self, description: str, total: float | None = None) -> Stage: ...


class Scoped:
    """A context manager that is its own ``with`` value: :meth:`start` on entry,
    :meth:`finish` on exit (``completed`` is ``False`` when an exception ends the block).

    Stages and progress displays derive from it and override the hooks they need.
    """

    def start(self) -> None:
        return None

    def finish(self, completed: bool) -> None:
        return None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish(exc_type is None)


class _NullStage(Scoped):
    def advance(self, amount: float = 1) -> None:
        return None


class _NullProgress:
    def stage(self, description: str, total: float | None = None) -> _NullStage:
        return _NullStage()


NO_PROGRESS: Progress = _NullProgress()
