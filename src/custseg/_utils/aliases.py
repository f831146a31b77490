"""Old import paths that keep working after a module moved.

``import custseg.features`` (the flat layout of the first release) loads
``custseg.prepare.plan`` and registers it under the old name as well, with a
:class:`DeprecationWarning` that names the new path. Nothing is copied: the old name
and the new one are the same module object.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Mapping
from types import ModuleType

__all__ = ["install_aliases"]


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, old: str, new: str) -> None:
        self.old = old
        self.new = new
        self._spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{self.old} moved to {self.new}; import it from there",
            DeprecationWarning,
            stacklevel=3,
        )
        module = importlib.import_module(self.new)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The target module is already executed; the alias only names it. The import
        # system has just set the alias's spec on it: give it its own back, or relative
        # imports in its functions would resolve against the old name's package.
        module.__spec__ = self._spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def __init__(self, moved: Mapping[str, str]) -> None:
        self.moved = dict(moved)

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = self.moved.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(fullname, new))


def install_aliases(moved: Mapping[str, str]) -> None:
    """Make every old module name in ``moved`` import its new module (once per process)."""
    if not any(isinstance(f, _AliasFinder) and f.moved == dict(moved) for f in sys.meta_path):
        sys.meta_path.append(_AliasFinder(moved))
