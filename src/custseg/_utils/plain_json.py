"""Values a JSON document can hold but float64 arithmetic and C strings cannot.

JSON puts no limit on numbers: ``1e309`` parses as infinity and a 400-digit integer as
an int that no float holds; either overflows the arithmetic that reads it (and an
infinity has no canonical JSON to checksum). A NUL character ends a string in the C
libraries, SQL drivers and file formats that names and levels are handed to.
"""

from __future__ import annotations

import math
import sys
from typing import Any

__all__ = ["unsafe_value"]


def unsafe_value(document: Any) -> str | None:
    """The first such value of a parsed document, as a phrase for a message, or ``None``.

    The phrase names where it is, e.g. ``"a number beyond float range in
    preparation.numeric[0].center (...)"`` or ``"a NUL character (\\x00) in
    feature_names[1]: 'BAL\\x00'"``. Containers are walked with an explicit stack (no
    recursion limit on deep documents); a path is built for containers only.
    """
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        container, where = stack.pop()
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, value in items:
            path = f"{where}.{key}" if isinstance(key, str) else f"{where}[{key}]"
            if isinstance(key, str) and "\x00" in key:
                return _nul("a key of " + (where.lstrip(".") or "the document"), key)
            if isinstance(value, (dict, list)):
                stack.append((value, path))
            elif isinstance(value, float):
                if not math.isfinite(value):
                    return (
                        f"a number beyond float range in {path.lstrip('.')} (JSON reads"
                        " numbers above 1.8e308 as infinity)"
                    )
            elif type(value) is int:
                if abs(value) > sys.float_info.max:
                    digits = len(str(abs(value)))
                    return (
                        f"an integer of {digits} digits in {path.lstrip('.')}, beyond float range"
                    )
            elif isinstance(value, str) and "\x00" in value:
                return _nul(path.lstrip("."), value)
    return None


def _nul(where: str, text: str) -> str:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return f"a NUL character (\\x00) in {where}: {shown!r}"
