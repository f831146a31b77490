"""The column roles of a customer table as plain data, and the naming rules they share.

:class:`TableSchema` lists every column with its role (identifier, numeric, categorical,
datetime, outcome, descriptor or ignored) and the reason for it;
:func:`custseg.prepare.roles.infer_schema` builds one,
:func:`custseg.prepare.rows.check_rows` checks rows against it, and the model stores it.
This module also holds the helpers both use: clean column names, "did you mean"
messages, gap words and the dtype families.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from .._utils.lazy import lazy_module
from ..exceptions import DataError, ModelError, SchemaError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "Role",
    "ColumnInfo",
    "TableSchema",
    "MAX_ABS_VALUE",
    "MISSING_TOKENS",
    "clean_column_name",
    "column_lookup",
    "unknown_column_message",
    "missing_columns_message",
    "plain_value",
    "value_kind",
    "text_values",
    "is_integral",
    "match_columns",
    "GLOB_CHARS",
    "check_level_texts",
]

Role = Literal["id", "numeric", "categorical", "datetime", "outcome", "descriptor", "ignored"]

SCHEMA_VERSION = 1

# Spreadsheet and database exports write gaps as these words; they are gaps, not text.
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "nat", "#n/a"})
# Share of non-missing text values that must parse for a text column to count as
# numbers (or dates): a few typos should not turn an amount into free text.

GLOB_CHARS = frozenset("*?[")
"""Characters that make a ``features``/``exclude`` entry a glob pattern."""

MAX_ABS_VALUE = 1e15
"""Numbers beyond +-this are data errors (no card amount is a quadrillion), not outliers."""


@dataclass(frozen=True)
class ColumnInfo:
    """The role of one column and why it was chosen.

    Attributes
    ----------
    name : str
        Column name, with a byte-order mark and surrounding spaces removed.
    role : {"id", "numeric", "categorical", "datetime", "outcome", "descriptor", "ignored"}
        What the column is used for. ``"outcome"`` columns (outcome flags, labels and
        model outputs: see :mod:`custseg.prepare.outcomes`) and ``"descriptor"`` columns
        (who the customer is: age, gender, region...; see
        :mod:`custseg.prepare.descriptors`) are profiled per segment but not clustered on.
    dtype : str
        The pandas dtype of the column as it was read.
    reason : str
        Why the column has this role, in plain words (shown in reports).
    n_missing : int
        Number of missing values.
    n_unique : int
        Number of distinct non-missing values.
    describes : str or None
        What the column says about who the customer is (``"gender"``, ``"age"``,
        ``"income band"``...), for every descriptor column: also one clustered on
        request (role ``"numeric"`` or ``"categorical"``). ``None`` for behaviour.
        Descriptors are never levers: strategies do not try to change them.
    protected : str or None
        The protected characteristic the column records (``"sex/gender"``, ``"age"``,
        ``"marital status"``, ``"race/ethnicity"``, ``"religion"``, ``"nationality"``,
        ``"disability"``), whatever its role; ``None`` otherwise.
    """

    name: str
    role: Role
    dtype: str
    reason: str
    n_missing: int = 0
    n_unique: int = 0
    describes: str | None = None
    protected: str | None = None


@dataclass(frozen=True)
class TableSchema:
    """Roles of the columns of a customer table, in table order.

    Attributes
    ----------
    columns : tuple of ColumnInfo
        One entry per column of the table.
    n_rows : int
        Number of rows the schema was inferred from.
    """

    columns: tuple[ColumnInfo, ...]
    n_rows: int = 0

    def __post_init__(self) -> None:
        for info in self.columns:
            if "\x00" in info.name:
                raise SchemaError(
                    f"column name {info.name[:60]!r} holds a NUL character (\\x00), which no"
                    " model, report or SQL query can carry; rename the column in the source"
                )

    def _names(self, role: Role) -> list[str]:
        return [c.name for c in self.columns if c.role == role]

    @property
    def id_column(self) -> str | None:
        """Name of the identifier column, or ``None``."""
        ids = self._names("id")
        return ids[0] if ids else None

    @property
    def numeric(self) -> list[str]:
        """Numeric feature columns, in table order."""
        return self._names("numeric")

    @property
    def categorical(self) -> list[str]:
        """Categorical feature columns, in table order."""
        return self._names("categorical")

    @property
    def datetime(self) -> list[str]:
        """Date/time columns (kept for profiles, never clustering features)."""
        return self._names("datetime")

    @property
    def outcomes(self) -> list[str]:
        """Outcome columns and model outputs: profiled per segment, never clustered on.

        Their reasons say which kind: ``"outcome flag: churn ..."``,
        ``"outcome: label ..."``, ``"model output: score ..."``.
        """
        return self._names("outcome")

    @property
    def descriptors(self) -> list[str]:
        """Descriptor columns (who the customer is): profiled per segment, not clustered on."""
        return self._names("descriptor")

    @property
    def all_descriptors(self) -> list[str]:
        """Every column that describes who the customer is, clustered on request or not."""
        return [c.name for c in self.columns if c.describes is not None]

    @property
    def protected(self) -> dict[str, str]:
        """Column -> the protected characteristic it records, whatever its role."""
        return {c.name: c.protected for c in self.columns if c.protected is not None}

    @property
    def ignored(self) -> list[str]:
        """Columns that are not used, each with its reason in :attr:`columns`."""
        return self._names("ignored")

    @property
    def features(self) -> list[str]:
        """Numeric and categorical feature columns, in table order."""
        return [c.name for c in self.columns if c.role in ("numeric", "categorical")]

    def column(self, name: str) -> ColumnInfo:
        """The :class:`ColumnInfo` of ``name``.

        Raises
        ------
        SchemaError
            If the schema has no such column.
        """
        for info in self.columns:
            if info.name == name:
                return info
        raise SchemaError(unknown_column_message(name, [c.name for c in self.columns]))

    def describe(self) -> list[str]:
        """One human-readable line per column decision, in table order."""
        return [f"{c.name}: {_ROLE_WORDS[c.role]} - {c.reason}" for c in self.columns]

    def to_dict(self) -> dict[str, Any]:
        """The schema as JSON-ready plain data."""
        return {
            "version": SCHEMA_VERSION,
            "n_rows": self.n_rows,
            "id_column": self.id_column,
            "columns": [asdict(c) for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableSchema:
        """Rebuild a schema written by :meth:`to_dict`.

        Raises
        ------
        ModelError
            If ``data`` is not a schema of a known version.
        """
        if not isinstance(data, dict) or data.get("version") != SCHEMA_VERSION:
            version = data.get("version") if isinstance(data, dict) else type(data).__name__
            raise ModelError(
                f"the table schema has version {version!r} but this custseg reads version"
                f" {SCHEMA_VERSION}; refit the model with this version of custseg"
            )
        roles = set(get_args(Role))
        try:
            columns = tuple(ColumnInfo(**c) for c in data["columns"])
        except (KeyError, TypeError) as exc:
            raise ModelError(f"the table schema is malformed ({exc}); refit the model") from exc
        for c in columns:
            if c.role not in roles:
                raise ModelError(
                    f"column {c.name!r} has unknown role {c.role!r} in the table schema;"
                    " refit the model"
                )
        return cls(columns=columns, n_rows=int(data.get("n_rows", 0)))


_ROLE_WORDS: dict[str, str] = {
    "id": "identifier",
    "numeric": "numeric feature",
    "categorical": "categorical feature",
    "datetime": "date/time (not a feature)",
    "outcome": "outcome (profiled, not a feature)",
    "descriptor": "descriptor (profiled, not a feature)",
    "ignored": "ignored",
}


def plain_value(label: object) -> object:
    """An index label or a value as a plain Python value, so that messages read ``row 11``.

    numpy scalars become Python numbers; an array (a nested value) becomes a list.
    """
    if isinstance(label, np.ndarray):
        return label.tolist()
    item = getattr(label, "item", None)
    return item() if callable(item) else label


def clean_column_name(name: object) -> str:
    """A column name without byte-order mark and surrounding whitespace."""
    return str(name).replace("\ufeff", "").strip()


def value_kind(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_numeric_dtype(dtype):
        return "other-number"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        return "text"
    return "other"


def text_values(series: pd.Series) -> pd.Series:
    """Values as stripped strings (pandas ``str`` dtype), gap words turned into NaN."""
    text = series.astype("str").str.strip()
    gap = text.isna() | text.str.lower().isin(MISSING_TOKENS)
    return text.where(~gap)


def column_lookup(labels: Iterable[Any]) -> dict[str, Any]:
    """Clean column name -> the table's own column label (``frame.columns``)."""
    lookup: dict[str, Any] = {}
    for label in labels:
        name = clean_column_name(label)
        if name in lookup:
            raise SchemaError(
                f"column name {name!r} appears twice in the table; rename one of them"
            )
        if not name:
            raise SchemaError(f"a column has an empty name ({label!r}); give every column a header")
        lookup[name] = label
    return lookup


def unknown_column_message(name: str, columns: Iterable[str], what: str = "column") -> str:
    columns = list(columns)
    lower = {c.lower(): c for c in columns}
    close = difflib.get_close_matches(name, columns, n=3, cutoff=0.6)
    if name.lower() in lower and lower[name.lower()] not in close:
        close.insert(0, lower[name.lower()])
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    else:
        shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
        hint = f"the table has: {shown}"
    return f"{what} {name!r} is not in the table; {hint}"


def match_columns(pattern: str, names: list[str], option: str) -> list[str]:
    """Columns matching a glob pattern (``"score_*"``), in table order.

    Matching is case-sensitive, like column names (:func:`fnmatch.fnmatchcase`).

    Raises
    ------
    SchemaError
        If no column matches; the message names close matches (the columns a
        case-insensitive match would give, or similar names).
    """
    matched = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    if matched:
        return matched
    folded = [n for n in names if fnmatch.fnmatchcase(n.lower(), pattern.lower())]
    if folded:
        hint = "patterns are case-sensitive; did you mean " + _or(folded) + "?"
    else:
        stem = "".join(ch for ch in pattern if ch not in GLOB_CHARS and ch != "]")
        close = difflib.get_close_matches(stem, names, n=3, cutoff=0.5)
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        hint = f"did you mean {_or(close)}?" if close else f"the table has: {shown}"
    raise SchemaError(f"{option}: pattern {pattern!r} matches no column; {hint}")


def _or(names: list[str]) -> str:
    shown = [repr(n) for n in names[:3]]
    more = f" (and {len(names) - 3} more)" if len(names) > 3 else ""
    return " or ".join(shown) + more


def missing_columns_message(missing: list[str], present: list[str]) -> str:
    first = unknown_column_message(missing[0], present, "required column")
    more = f" ({len(missing)} required columns are missing: {missing})" if len(missing) > 1 else ""
    return first + more


def check_level_texts(column: str, levels: Iterable[object]) -> None:
    """Refuse a categorical level holding a NUL character, naming the column and the level.

    Levels become one-hot names, model fields, report text and SQL literals; a NUL ends
    a string in the C libraries, drivers and formats they are handed to.

    Raises
    ------
    DataError
        If a level holds ``"\\x00"``.
    """
    for level in levels:
        if isinstance(level, str) and "\x00" in level:
            raise DataError(
                f"categorical column {column!r} has the level {level[:60]!r}, which holds a NUL"
                " character (\\x00) that no model, report or SQL query can carry; remove it"
                f" from the data or leave the column out with --exclude {column}"
            )


def is_integral(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(finite.size) and bool(np.all(finite == np.round(finite)))
