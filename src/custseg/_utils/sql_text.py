"""Identifiers and string literals in SQL: the one quoting of every dialect custseg writes.

The scoring query (:mod:`custseg.scoring.dialects`) and the roll-up
(:mod:`custseg.features.dialects`) put names and values from the user's data into SQL;
both quote them here, so that a column called ``a"b`` or a level holding a quote, a
backslash or a line break stays one identifier or one literal in every dialect.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["quoted_identifier", "string_literal"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def quoted_identifier(name: str, quote: str, escapes: Sequence[tuple[str, str]]) -> str:
    """``name`` between ``quote`` characters, after the ``escapes`` (old, new) in order."""
    for old, new in escapes:
        name = name.replace(old, new)
    return quote + name + quote


def string_literal(value: str, *, backslash_escapes: bool, prefix: str = "") -> str:
    """``value`` as a string literal, written after ``prefix`` (PostgreSQL's ``E``).

    Without backslash escapes a quote is doubled. With them, backslashes and quotes
    are escaped and control characters (line breaks included) become ``\\uXXXX``: no
    raw line break, so nothing of the text can reach a comment or a new statement.
    """
    if not backslash_escapes:
        return prefix + "'" + value.replace("'", "''") + "'"
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    escaped = _CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", escaped)
    return prefix + "'" + escaped + "'"
