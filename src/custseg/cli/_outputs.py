"""Checks on output paths shared by the drift and migrate commands (cheap to import)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ..exceptions import ConfigError

__all__ = ["check_outputs"]


def check_outputs(
    outputs: Sequence[tuple[str, Path | None]], inputs: Iterable[tuple[str, Path | None]]
) -> None:
    """Refuse an output that would replace an input or another output.

    Parameters
    ----------
    outputs, inputs : sequence of (option, path)
        The option that names each path (``"--out"``) and the path (``None`` if unset).

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
        seen[where] = option
