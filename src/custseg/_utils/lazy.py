"""Lazy imports: re-exports for package ``__init__`` modules, and modules loaded on first use.

A package lists its public names and the submodule that defines each; the submodule is
imported on first access, so importing a package (or the command line's ``--help``)
does not load numpy, pandas or scikit-learn before they are needed.

:func:`lazy_module` stands for a module that loads when one of its attributes is first
read. Modules on the scoring path use it for pandas: scoring a Parquet file goes from
Arrow to numpy and back, and a command that never touches pandas should not spend a
fifth of a second importing it::

    if TYPE_CHECKING:
        import pandas as pd
    else:
        pd = lazy_module("pandas")
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports", "lazy_module"]


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` re-exporting ``exports``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to str
        Public name -> submodule (relative to ``package``) that defines it.
    namespace : dict
        The package's ``globals()``: a name is cached there once imported.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(exports) | {k for k in namespace if not k.startswith("_")})

    return __getattr__, __dir__


class _LazyModule:
    """A module imported when one of its attributes is first read."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        # import_module returns the cached module after the first call: a dict lookup.
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def lazy_module(name: str) -> Any:
    """Stand-in for module ``name`` that imports it when an attribute is first read.

    Parameters
    ----------
    name : str
        Absolute module name, e.g. ``"pandas"``.
    """
    return _LazyModule(name)
