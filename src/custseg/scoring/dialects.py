"""The SQL dialects the scoring query is exported to, one registered entry each.

A :class:`Dialect` says how a dialect quotes identifiers and strings and names its
types; :mod:`custseg.scoring.sqlexport` builds the query from these facts only, and the
command line lists :data:`DIALECTS`. Adding a dialect is one entry in :data:`_REGISTRY`
(this module imports nothing heavy, so the command line can read it at start-up).
"""

from __future__ import annotations

from dataclasses import dataclass

from .._utils.sql_text import quoted_identifier, string_literal
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
    string_prefix : str, default ""
        Written before the opening quote of a string literal: PostgreSQL's ``E``
        makes backslash escapes mean the same whatever ``standard_conforming_strings``
        says, so a model's text can never end a literal early.
    materialize : str, default ""
        Written between ``AS`` and the body of each common table expression. The
        engines that inline CTEs without eliminating common subexpressions would
        evaluate the chain of steps once per reference, i.e. hundreds of times per
        row (docs/inference.md, "Query plans"); PostgreSQL needs ``MATERIALIZED``, and
        DuckDB runs the query about 20% faster with it.
    """

    name: str
    quote: str
    ident_escapes: tuple[tuple[str, str], ...]
    backslash_escapes: bool
    double: str
    text: str
    string_prefix: str = ""
    materialize: str = ""

    def ident(self, name: str) -> str:
        """``name`` as a quoted identifier."""
        return quoted_identifier(name, self.quote, self.ident_escapes)

    def string(self, value: str) -> str:
        """``value`` as a string literal."""
        return string_literal(
            value, backslash_escapes=self.backslash_escapes, prefix=self.string_prefix
        )

    def cte(self, name: str, body: str) -> str:
        """``name AS [MATERIALIZED] (body)``."""
        return f"{name} AS {self.materialize}(\n{body}\n)"


_REGISTRY: dict[str, Dialect] = {
    d.name: d
    for d in (
        Dialect(
            "duckdb", '"', (('"', '""'),), False, "DOUBLE", "VARCHAR", materialize="MATERIALIZED "
        ),
        Dialect("bigquery", "`", (("\\", "\\\\"), ("`", "\\`")), True, "FLOAT64", "STRING"),
        Dialect("spark", "`", (("`", "``"),), True, "DOUBLE", "STRING"),
        Dialect(
            "postgres",
            '"',
            (('"', '""'),),
            True,
            "DOUBLE PRECISION",
            "TEXT",
            string_prefix="E",
            materialize="MATERIALIZED ",
        ),
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
