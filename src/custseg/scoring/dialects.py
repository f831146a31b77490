"""The SQL dialects the scoring query is exported to, one registered entry each.

A :class:`Dialect` says how a dialect quotes identifiers and strings and names its
types; :mod:`custseg.scoring.sqlexport` builds the query from these facts only, and the
command line lists :data:`DIALECTS`. Adding a dialect is one entry in :data:`_REGISTRY`
(this module imports nothing heavy, so the command line can read it at start-up).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import ConfigError

__all__ = ["DIALECTS", "Dialect", "dialect"]


@dataclass(frozen=True)
class Dialect:
    """How one SQL dialect spells what the scoring query needs.

    Attributes
    ----------
    name : str
        The name users pass (``--dialect``).
    quote : str
        Identifier quote character (``"`` or a backtick).
    ident_escapes : tuple of (str, str)
        Replacements applied, in order, to an identifier before quoting it.
    backslash_escapes : bool
        String literals escape with backslashes (else by doubling the quote).
    double : str
        The 64-bit float type.
    text : str
        The string type.
    """

    name: str
    quote: str
    ident_escapes: tuple[tuple[str, str], ...]
    backslash_escapes: bool
    double: str
    text: str

    def ident(self, name: str) -> str:
        """``name`` as a quoted identifier."""
        for old, new in self.ident_escapes:
            name = name.replace(old, new)
        return self.quote + name + self.quote

    def string(self, value: str) -> str:
        """``value`` as a string literal."""
        if not self.backslash_escapes:
            return "'" + value.replace("'", "''") + "'"
        escaped = (
            value.replace("\\", "\\\\")
            .replace("'", "\\'")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
            .replace("\t", "\\t")
        )
        return "'" + escaped + "'"


_REGISTRY: dict[str, Dialect] = {
    d.name: d
    for d in (
        Dialect("duckdb", '"', (('"', '""'),), False, "DOUBLE", "VARCHAR"),
        Dialect("bigquery", "`", (("\\", "\\\\"), ("`", "\\`")), True, "FLOAT64", "STRING"),
        Dialect("spark", "`", (("`", "``"),), True, "DOUBLE", "STRING"),
        Dialect("postgres", '"', (('"', '""'),), False, "DOUBLE PRECISION", "TEXT"),
    )
}

DIALECTS: tuple[str, ...] = tuple(_REGISTRY)
"""Names of the registered dialects."""


def dialect(name: str) -> Dialect:
    """The registered dialect called ``name``.

    Raises
    ------
    ConfigError
        If no dialect has that name (the message lists them).
    """
    found = _REGISTRY.get(name) if isinstance(name, str) else None
    if found is None:
        raise ConfigError(f"dialect={name!r} should be one of {', '.join(DIALECTS)}")
    return found
