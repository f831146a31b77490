"""Trace which custseg modules a call visits, and how often a call climbs back up a layer.

The layers are those of the import-linter contract in ``pyproject.toml`` (the first
``layers`` contract): the higher in the list, the higher the layer; modules of one
package count as one layer (``custseg.scoring.batch`` and ``custseg.scoring.scorer`` are
``custseg.scoring``), and packages separated by ``|`` share a layer.

:func:`trace_path` records every call of a custseg function (every thread, generator
resumptions included) from the start of a callable until the first call of a target
function, with its caller: the nearest custseg frame below it on the same thread. A
*climb* is a call whose function sits in a higher layer than its caller's (a lower layer
calling back up: a callback, a generator driven from below, an import of a higher
module); climbs are counted once per (caller module, called module) pair, so that the
count does not grow with the number of chunks.
"""

from __future__ import annotations

import sys
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def layer_levels() -> dict[str, int]:
    """``{package: level}``: 0 is the top layer (the command line)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    return {name.strip(): level for level, entry in enumerate(layers) for name in entry.split("|")}


def package_of(module: str) -> str:
    """``custseg.scoring.batch`` -> ``custseg.scoring``; ``custseg.model`` stays itself."""
    return ".".join(module.split(".")[:2])


@dataclass
class TracedPath:
    """What one traced call visited before reaching its target."""

    calls: list[tuple[str, str]] = field(default_factory=list)  # (caller, called) modules
    functions: list[tuple[str, str]] = field(default_factory=list)  # (module, function)
    reached: bool = False

    @property
    def modules(self) -> list[str]:
        """Distinct custseg modules called, in the order first visited."""
        return list(dict.fromkeys(called for _, called in self.calls))

    def climbs(self, levels: dict[str, int]) -> list[tuple[str, str]]:
        """(caller, called) module pairs where the called one is in a higher layer."""
        out = []
        for caller, called in dict.fromkeys(self.calls):
            high, low = levels.get(package_of(called)), levels.get(package_of(caller))
            if high is not None and low is not None and high < low:
                out.append((caller, called))
        return out


def _module(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", ""))


def trace_path(
    call: Callable[[], Any], *, target: tuple[str, str] | None = None
) -> tuple[TracedPath, Any]:
    """Run ``call()`` and record the custseg calls until ``target`` (module, function).

    Without a target, every call until ``call`` returns is recorded.
    """
    path = TracedPath()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or path.reached:
            return
        called = _module(frame)
        if not called.startswith("custseg.") and called != "custseg":
            return
        function = (called, frame.f_code.co_name)
        path.functions.append(function)
        if target is not None and function == target:
            path.reached = True
        caller_frame = frame.f_back
        while caller_frame is not None and not _module(caller_frame).startswith("custseg"):
            caller_frame = caller_frame.f_back
        caller = _module(caller_frame) if caller_frame is not None else called
        if caller != called:
            path.calls.append((caller, called))
        elif not path.calls or path.calls[-1][1] != called:
            path.calls.append((called, called))

    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        result = call()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    return path, result
