"""A small progress seam: the core reports progress, front ends decide how to show it.

The core never imports Rich or the command line. Long-running functions accept a
``progress`` argument implementing :class:`Progress`; the command line passes a
Rich progress bar, the Python API defaults to :data:`NO_PROGRESS`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

__all__ = ["Progress", "Stage", "NO_PROGRESS"]


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


class _NullStage:
    def advance(self, amount: float = 1) -> None:
        return None

    def __enter__(self) -> _NullStage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class _NullProgress:
    def stage(self, description: str, total: float | None = None) -> _NullStage:
        return _NullStage()


NO_PROGRESS: Progress = _NullProgress()
