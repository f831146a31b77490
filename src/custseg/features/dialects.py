"""The SQL dialects the roll-up is rendered in, one registered entry each.

A :class:`FeatureDialect` says how a dialect quotes, casts, parses text timestamps and
numbers, and turns a timestamp into a day or month number; :mod:`custseg.features.sql`
builds the roll-up from these facts only. Everything else in the roll-up is portable
SQL (aggregates, ``CASE``, ``COUNT(DISTINCT ...)``, ``NULLIF``) that the four engines
read alike. Adding a dialect is one entry in :data:`_REGISTRY`.

Dates travel as day numbers (days since 1970-01-01) and months as ``year * 12 + month``,
so the window and the as-of date are integer literals and no dialect's date arithmetic
is needed inside the features.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._utils.sql_text import quoted_identifier, string_literal
from ..exceptions import ConfigError

__all__ = ["FEATURE_DIALECTS", "FeatureDialect", "feature_dialect"]

# A plain decimal number, as PostgreSQL checks text before casting it (no TRY_CAST there).
_NUMBER = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
# strftime tokens of the timestamp formats we parse -> each dialect's own pattern letters.
_POSTGRES_TOKENS = {"%d": "DD", "%m": "MM", "%Y": "YYYY", "%H": "HH24", "%M": "MI", "%S": "SS"}
_SPARK_TOKENS = {"%d": "d", "%m": "M", "%Y": "yyyy", "%H": "H", "%M": "mm", "%S": "ss"}
# The same format as a regular expression: PostgreSQL's to_timestamp raises on text
# that does not fit, so the text is checked first.
_REGEX_TOKENS = {
    "%d": "[0-9]{1,2}",
    "%m": "[0-9]{1,2}",
    "%Y": "[0-9]{4}",
    "%H": "[0-9]{1,2}",
    "%M": "[0-9]{2}",
    "%S": "[0-9]{2}",
}


def _translate(fmt: str, tokens: dict[str, str], literal: bool = False) -> str:
    out = []
    for part in re.split(r"(%[a-zA-Z])", fmt):
        if part in tokens:
            out.append(tokens[part])
        elif literal:
            out.append(re.escape(part))
        else:
            out.append(part)
    return "".join(out)


@dataclass(frozen=True)
class FeatureDialect:
    """How one SQL dialect spells what the roll-up needs.

    Attributes
    ----------
    name : str
        The name users pass (``--dialect``).
    quote : str
        Identifier quote character.
    ident_escapes : tuple of (str, str)
        Replacements applied, in order, to an identifier before quoting it.
    backslash_escapes : bool
        String literals escape with backslashes (else by doubling the quote).
    double, bigint, text : str
        The 64-bit float, 64-bit integer and string types.
    try_number : str
        A number from text, ``NULL`` when the text is not one (``{x}`` is the text).
    day_number : str
        Days since 1970-01-01 of a timestamp ``{x}``.
    parse_time : str
        A timestamp from text ``{x}`` in the dialect's pattern ``{fmt}``, ``NULL`` when
        it does not fit.
    iso_time : str
        A timestamp from ISO text ``{x}`` (``2010-12-01 08:26:00``), ``NULL`` otherwise.
    backreference : str
        How a regular-expression replacement names the first group.
    time_tokens : tuple of (str, str)
        strftime directive -> the dialect's own pattern letters (empty: strftime).
    string_prefix : str, default ""
        Written before a string literal (PostgreSQL's ``E``).
    union : str, default "UNION"
        The set union without repeats (BigQuery spells it ``UNION DISTINCT``).
    """

    name: str
    quote: str
    ident_escapes: tuple[tuple[str, str], ...]
    backslash_escapes: bool
    double: str
    bigint: str
    text: str
    try_number: str
    day_number: str
    parse_time: str
    iso_time: str
    backreference: str
    time_tokens: tuple[tuple[str, str], ...] = ()
    string_prefix: str = ""
    union: str = "UNION"

    def ident(self, name: str) -> str:
        """``name`` as a quoted identifier."""
        return quoted_identifier(name, self.quote, self.ident_escapes)

    def string(self, value: str) -> str:
        """``value`` as a string literal."""
        return string_literal(
            value, backslash_escapes=self.backslash_escapes, prefix=self.string_prefix
        )

    def number(self, text_expr: str) -> str:
        """The number in the text ``text_expr``, ``NULL`` when it is not one."""
        return self.try_number.format(x=text_expr, double=self.double, number=self.string(_NUMBER))

    def day(self, time_expr: str) -> str:
        """Days since 1970-01-01 of the timestamp ``time_expr``."""
        return self.day_number.format(x=time_expr, bigint=self.bigint)

    def month(self, time_expr: str) -> str:
        """``year * 12 + month`` of the timestamp ``time_expr`` (portable EXTRACT)."""
        return (
            f"CAST(EXTRACT(YEAR FROM {time_expr}) * 12 + EXTRACT(MONTH FROM {time_expr}) "
            f"AS {self.bigint})"
        )

    def timestamp(self, text_expr: str, fmt: str) -> str:
        """The timestamp in the text ``text_expr`` written as ``fmt`` (strftime, or "iso")."""
        if fmt == "iso":
            return self.iso_time.format(x=text_expr)
        tokens = dict(self.time_tokens)
        own = _translate(fmt, tokens) if tokens else fmt
        regex = "^" + _translate(fmt, _REGEX_TOKENS, literal=True) + "$"
        return self.parse_time.format(x=text_expr, fmt=self.string(own), regex=self.string(regex))

    def float_id(self, text_expr: str) -> str:
        """An id read as a float (``17850.0``) back to its digits (``17850``)."""
        pattern = self.string(r"^([0-9]+)\.0+$")
        return f"REGEXP_REPLACE({text_expr}, {pattern}, {self.string(self.backreference)})"


_REGISTRY: dict[str, FeatureDialect] = {
    d.name: d
    for d in (
        FeatureDialect(
            name="duckdb",
            quote='"',
            ident_escapes=(('"', '""'),),
            backslash_escapes=False,
            double="DOUBLE",
            bigint="BIGINT",
            text="VARCHAR",
            try_number="TRY_CAST(TRIM({x}) AS {double})",
            day_number="CAST(CAST({x} AS DATE) - DATE '1970-01-01' AS {bigint})",
            parse_time="TRY_STRPTIME({x}, {fmt})",
            iso_time="TRY_CAST({x} AS TIMESTAMP)",
            backreference="\\1",
        ),
        FeatureDialect(
            name="postgres",
            quote='"',
            ident_escapes=(('"', '""'),),
            backslash_escapes=True,
            double="DOUBLE PRECISION",
            bigint="BIGINT",
            text="TEXT",
            try_number="CASE WHEN {x} ~ {number} THEN CAST(TRIM({x}) AS {double}) END",
            day_number="CAST(CAST({x} AS DATE) - DATE '1970-01-01' AS {bigint})",
            parse_time=(
                "CASE WHEN {x} ~ {regex} THEN CAST(TO_TIMESTAMP({x}, {fmt}) AS TIMESTAMP) END"
            ),
            iso_time=(
                "CASE WHEN {x} ~ '^[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}([ T][0-9:.]+)?$' "
                "THEN CAST({x} AS TIMESTAMP) END"
            ),
            backreference="\\1",
            time_tokens=tuple(_POSTGRES_TOKENS.items()),
            string_prefix="E",
        ),
        FeatureDialect(
            name="bigquery",
            quote="`",
            ident_escapes=(("\\", "\\\\"), ("`", "\\`")),
            backslash_escapes=True,
            double="FLOAT64",
            bigint="INT64",
            text="STRING",
            try_number="SAFE_CAST(TRIM({x}) AS {double})",
            day_number="UNIX_DATE(CAST({x} AS DATE))",
            parse_time="SAFE.PARSE_DATETIME({fmt}, {x})",
            iso_time="SAFE_CAST(REPLACE({x}, 'T', ' ') AS DATETIME)",
            backreference="\\1",
            union="UNION DISTINCT",
        ),
        FeatureDialect(
            name="spark",
            quote="`",
            ident_escapes=(("`", "``"),),
            backslash_escapes=True,
            double="DOUBLE",
            bigint="BIGINT",
            text="STRING",
            try_number="TRY_CAST(TRIM({x}) AS {double})",
            day_number="CAST(UNIX_DATE(CAST({x} AS DATE)) AS {bigint})",
            parse_time="TRY_TO_TIMESTAMP({x}, {fmt})",
            iso_time="TRY_CAST({x} AS TIMESTAMP)",
            backreference="$1",
            time_tokens=tuple(_SPARK_TOKENS.items()),
        ),
    )
}

FEATURE_DIALECTS: tuple[str, ...] = tuple(_REGISTRY)
"""Names of the registered dialects."""


def feature_dialect(name: str) -> FeatureDialect:
    """The registered dialect called ``name``.

    Raises
    ------
    ConfigError
        If no dialect has that name (the message lists them).
    """
    found = _REGISTRY.get(name) if isinstance(name, str) else None
    if found is None:
        raise ConfigError(
            f"dialect={name!r} should be one of {', '.join(FEATURE_DIALECTS)}; e.g. --dialect"
            " duckdb"
        )
    return found
