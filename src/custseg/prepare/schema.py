"""Column roles of a customer table, and the checks that make its rows usable.

:func:`infer_schema` looks at every column once and gives it a role (identifier,
numeric, categorical, datetime or ignored) with the reason, so that a report can say
why a column was or was not used. :func:`check_rows` coerces the feature columns of a
training or scoring frame to clean types and says, per row, what is wrong with it.
Neither function changes its input.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast, get_args

import numpy as np
import pandas as pd

from ..exceptions import DataError, ModelError, SchemaError

__all__ = [
    "Role",
    "ColumnInfo",
    "TableSchema",
    "RowCheck",
    "infer_schema",
    "check_rows",
    "clean_column_name",
    "MAX_ABS_VALUE",
    "MISSING_TOKENS",
]

Role = Literal["id", "numeric", "categorical", "datetime", "ignored"]

SCHEMA_VERSION = 1

# Spreadsheet and database exports write gaps as these words; they are gaps, not text.
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "nat", "#n/a"})
# Share of non-missing text values that must parse for a text column to count as
# numbers (or dates): a few typos should not turn an amount into free text.
_PARSE_SHARE = 0.9
# Text and date patterns are judged on a sample: enough to be sure, cheap on millions.
_PATTERN_SAMPLE = 5_000
_DATE_FORMATS = ("ISO8601", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y")
_ID_TOKENS = {"id", "key", "uuid", "guid"}
_NUMBER_TOKENS = {"no", "nr", "num", "number"}
_ROW_TOKENS = {"row", "rownum", "index", "idx", "unnamed", "seq", "line"}
_CUSTOMER_WORDS = {"cust", "customer", "client", "account", "acct", "card", "member", "user"}
_CODE_TOKENS = {
    "code",
    "cd",
    "type",
    "class",
    "category",
    "cat",
    "segment",
    "group",
    "grp",
    "region",
    "branch",
    "status",
    "flag",
    "kind",
    "level",
    "tier",
    "channel",
}
MAX_ABS_VALUE = 1e15
"""Numbers beyond +-this are data errors (no card amount is a quadrillion), not outliers."""
_ID_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.:/]*$")


@dataclass(frozen=True)
class ColumnInfo:
    """The role of one column and why it was chosen.

    Attributes
    ----------
    name : str
        Column name, with a byte-order mark and surrounding spaces removed.
    role : {"id", "numeric", "categorical", "datetime", "ignored"}
        What the column is used for.
    dtype : str
        The pandas dtype of the column as it was read.
    reason : str
        Why the column has this role, in plain words (shown in reports).
    n_missing : int
        Number of missing values.
    n_unique : int
        Number of distinct non-missing values.
    """

    name: str
    role: Role
    dtype: str
    reason: str
    n_missing: int = 0
    n_unique: int = 0


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
        raise SchemaError(_unknown_column_message(name, [c.name for c in self.columns]))

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
    "ignored": "ignored",
}


@dataclass
class RowCheck:
    """Feature columns coerced to clean types, and what is wrong with each row.

    Attributes
    ----------
    frame : pandas.DataFrame
        The id column (if any) and the feature columns, same index as the input:
        numeric features as float64 with NaN for gaps, categorical features as
        object strings with ``None`` for gaps. Cells that could not be read are NaN.
    reasons : pandas.Series
        One entry per row: ``None`` when the row is usable, otherwise every problem
        of the row joined by ``"; "``, e.g. ``"PURCHASES: 'abc' is not a number"``.
    """

    frame: pd.DataFrame
    reasons: pd.Series
    problems: dict[str, int] = field(default_factory=dict)
    """Number of unusable cells per column (only columns with problems)."""

    @property
    def usable(self) -> np.ndarray:
        """Boolean mask of the rows without problems."""
        return cast(np.ndarray, self.reasons.isna().to_numpy())

    @property
    def n_rejected(self) -> int:
        """Number of rows with at least one problem."""
        return int((~self.usable).sum())

    def accepted(self) -> pd.DataFrame:
        """The coerced rows without problems."""
        return self.frame.loc[self.usable]

    def rejected(self) -> pd.DataFrame:
        """The rows with problems: the coerced columns plus a ``reason`` column."""
        mask = ~self.usable
        out = self.frame.loc[mask].copy()
        out["reason"] = self.reasons.loc[mask]
        return out

    def raise_if_rejected(self, max_share: float = 0.0) -> None:
        """Raise when more than ``max_share`` of the rows have problems.

        Parameters
        ----------
        max_share : float, default 0.0
            Largest tolerated share of unusable rows; 0 tolerates none.

        Raises
        ------
        DataError
            Naming the worst column, an example value and the number of rows.
        """
        n = len(self.reasons)
        bad = self.n_rejected
        if bad == 0 or (n and bad / n <= max_share):
            return
        first = self.reasons.loc[~self.usable].iloc[0]
        label = _plain_label(self.reasons.index[~self.usable][0])
        raise DataError(
            f"{bad} of {n} rows have unusable values (e.g. row {label!r}: {first});"
            f" fix the data or drop those rows (RowCheck.accepted())"
        )


def _plain_label(label: object) -> object:
    """An index label as a plain Python value, so that messages read ``row 11``."""
    item = getattr(label, "item", None)
    return item() if callable(item) else label


def clean_column_name(name: object) -> str:
    """A column name without byte-order mark and surrounding whitespace."""
    return str(name).replace("\ufeff", "").strip()


def infer_schema(
    frame: pd.DataFrame,
    *,
    id_column: str | None = None,
    features: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    max_categories: int = 30,
) -> TableSchema:
    """Infer the role of every column of a customer table.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer. Column names are cleaned of byte-order marks and
        surrounding spaces.
    id_column : str, optional
        The customer identifier. By default a column with unique values and an
        id-like name (``CUST_ID``, ``customer_id``, ``*_id``) or unique code-like
        string values is chosen. Its values must be unique and present.
    features : sequence of str, optional
        Use exactly these columns as features (numeric or categorical by their
        values); every other column is ignored except the identifier.
    exclude : sequence of str, optional
        Columns never to use as features.
    max_categories : int, default 30
        Text columns with at most this many distinct values are categorical; more
        distinct values make a text column free text (ignored).

    Returns
    -------
    TableSchema
        One :class:`ColumnInfo` per column with its role and reason.

    Raises
    ------
    SchemaError
        If an override names an unknown column (close matches are listed), if the
        identifier has duplicated or missing values, or if a requested feature
        cannot be a feature.
    DataError
        If the frame has no rows, or a requested feature has no values.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"infer_schema expects a pandas DataFrame, got {type(frame).__name__};"
            " read the table with pandas first"
        )
    if isinstance(max_categories, bool) or not isinstance(max_categories, int):
        raise DataError(f"max_categories={max_categories!r} should be an integer >= 2")
    if max_categories < 2:
        raise DataError(f"max_categories={max_categories} should be >= 2")
    lookup = _column_lookup(frame)
    names = list(lookup)
    if len(frame) == 0:
        raise DataError("the table has no rows; check the query or the file")

    wanted_id = _resolve(id_column, names, "id_column") if id_column is not None else None
    wanted_features = _resolve_many(features, names, "features")
    excluded = set(_resolve_many(exclude, names, "exclude") or [])
    if wanted_features is not None:
        if not wanted_features:
            raise SchemaError("features=[] names no column; pass at least one feature column")
        clash = [c for c in wanted_features if c in excluded]
        if clash:
            raise SchemaError(
                f"column {clash[0]!r} is both in features and in exclude; keep it in one of them"
            )
        if wanted_id is not None and wanted_id in wanted_features:
            raise SchemaError(
                f"column {wanted_id!r} is the id_column and cannot also be a feature;"
                " remove it from features"
            )

    n_rows = len(frame)
    facts = {name: _ColumnFacts.of(name, frame[lookup[name]], n_rows) for name in names}
    if wanted_id is not None:
        _check_identifier(facts[wanted_id], frame[lookup[wanted_id]])
    # A column requested as a feature is never taken for the identifier.
    not_id = excluded | set(wanted_features or [])
    chosen_id = wanted_id or _choose_identifier(facts, frame, lookup, not_id)

    infos: list[ColumnInfo] = []
    for name in names:
        f = facts[name]
        if name == chosen_id:
            why = "given as id_column" if wanted_id else _id_reason(f)
            infos.append(f.info("id", why))
        elif name in excluded:
            infos.append(f.info("ignored", "excluded by request"))
        elif wanted_features is not None:
            if name in wanted_features:
                infos.append(_requested_feature(f))
            else:
                infos.append(f.info("ignored", "not in the requested features"))
        else:
            infos.append(_infer_role(f, max_categories, id_taken=chosen_id is not None))
    return TableSchema(columns=tuple(infos), n_rows=n_rows)


def check_rows(frame: pd.DataFrame, schema: TableSchema, *, require_id: bool = True) -> RowCheck:
    """Coerce the feature columns of ``frame`` and find the rows that cannot be used.

    Numeric features become float64: numbers stored as text parse when they are
    plain decimals (``"1234.5"``, ``"-3e2"``); anything else, such as ``"abc"`` or
    ``"1,234.5"``, makes the row unusable with the reason
    ``"PURCHASES: '1,234.5' is not a number"``; infinities give
    ``"BALANCE: infinite value"``. Gaps (NaN, None, empty text, ``"NA"``) are fine:
    the preparation plan imputes them. Categorical features become strings.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training or scoring rows; column order does not matter, extra columns are
        ignored.
    schema : TableSchema
        The schema whose feature (and id) columns are checked.
    require_id : bool, default True
        Whether the schema's id column must be present.

    Returns
    -------
    RowCheck
        Coerced id and feature columns, and the per-row reasons.

    Raises
    ------
    SchemaError
        If a required column is missing (raised before any row is looked at).
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"check_rows expects a pandas DataFrame, got {type(frame).__name__};"
            " read the table with pandas first"
        )
    if not isinstance(schema, TableSchema):
        raise SchemaError(
            f"check_rows expects a TableSchema, got {type(schema).__name__};"
            " build it with infer_schema or TableSchema.from_dict"
        )
    lookup = _column_lookup(frame)
    required = list(schema.features)
    id_col = schema.id_column
    if id_col is not None and require_id:
        required = [id_col, *required]
    missing = [c for c in required if c not in lookup]
    if missing:
        raise SchemaError(_missing_columns_message(missing, list(lookup)))

    columns: dict[str, Any] = {}
    problems: dict[str, int] = {}
    bad_parts: list[np.ndarray] = []
    if id_col is not None and id_col in lookup:
        columns[id_col] = frame[lookup[id_col]]
    for name in schema.numeric:
        values, bad = _coerce_numeric(frame[lookup[name]], name)
        columns[name] = values
        if bad is not None:
            problems[name] = int((bad != None).sum())  # noqa: E711
            bad_parts.append(bad)
    for name in schema.categorical:
        columns[name] = _coerce_categorical(frame[lookup[name]])
    out = pd.DataFrame(columns, index=frame.index)
    reasons = _join_reasons(bad_parts, frame.index)
    return RowCheck(frame=out, reasons=reasons, problems=problems)


# --------------------------------------------------------------------------- helpers


@dataclass
class _ColumnFacts:
    """What inference needs to know about a column, computed once."""

    name: str
    series: pd.Series
    dtype: str
    n_rows: int
    n_missing: int
    n_unique: int
    kind: str  # "bool", "int", "float", "datetime", "text", "other"
    numbers: np.ndarray | None = None  # parsed values of a numbers-as-text column
    n_text_bad: int = 0
    text_bad_example: str | None = None
    date_format: str | None = None

    @classmethod
    def of(cls, name: str, series: pd.Series, n_rows: int) -> _ColumnFacts:
        kind = _kind(series)
        text = _text_values(series) if kind in ("text", "other") else None
        missing_mask = series.isna() if text is None else text.isna()
        n_missing = int(missing_mask.sum())
        present = series[~missing_mask] if text is None else text[~missing_mask]
        try:
            n_unique = int(present.nunique())
        except TypeError:  # unhashable cells (lists, dicts): count their text form
            n_unique = int(present.astype(str).nunique())
        facts = cls(name, series, str(series.dtype), n_rows, n_missing, n_unique, kind)
        if text is not None and n_missing < n_rows:
            facts._inspect_text(text.dropna())
        return facts

    def _inspect_text(self, text: pd.Series) -> None:
        sample = text.iloc[:_PATTERN_SAMPLE]
        parsed = pd.to_numeric(sample, errors="coerce")
        if parsed.notna().mean() >= _PARSE_SHARE:
            full = pd.to_numeric(text, errors="coerce")
            bad = full.isna()
            self.kind = "numtext"
            self.numbers = full[~bad].to_numpy(dtype=np.float64)
            self.n_text_bad = int(bad.sum())
            self.text_bad_example = str(text[bad].iloc[0]) if self.n_text_bad else None
            return
        if sample.str.contains(r"\d", regex=True).mean() >= _PARSE_SHARE:
            for fmt in _DATE_FORMATS:
                dates = pd.to_datetime(sample, errors="coerce", format=fmt)
                if dates.notna().mean() >= _PARSE_SHARE:
                    self.kind = "datetext"
                    self.date_format = fmt
                    return

    def info(self, role: Role, reason: str) -> ColumnInfo:
        return ColumnInfo(self.name, role, self.dtype, reason, self.n_missing, self.n_unique)

    def numeric_values(self) -> np.ndarray:
        if self.numbers is not None:
            return self.numbers
        present = self.series.dropna()
        return cast(np.ndarray, present.to_numpy(dtype=np.float64, na_value=np.nan))


def _kind(series: pd.Series) -> str:
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


def _text_values(series: pd.Series) -> pd.Series:
    """Values as stripped strings (pandas ``str`` dtype), gap words turned into NaN."""
    text = series.astype("str").str.strip()
    gap = text.isna() | text.str.lower().isin(MISSING_TOKENS)
    return text.where(~gap)


def _column_lookup(frame: pd.DataFrame) -> dict[str, Any]:
    """Clean column name -> the frame's own column label."""
    lookup: dict[str, Any] = {}
    for label in frame.columns:
        name = clean_column_name(label)
        if name in lookup:
            raise SchemaError(
                f"column name {name!r} appears twice in the table; rename one of them"
            )
        if not name:
            raise SchemaError(f"a column has an empty name ({label!r}); give every column a header")
        lookup[name] = label
    return lookup


def _unknown_column_message(name: str, columns: Iterable[str], what: str = "column") -> str:
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


def _missing_columns_message(missing: list[str], present: list[str]) -> str:
    first = _unknown_column_message(missing[0], present, "required column")
    more = f" ({len(missing)} required columns are missing: {missing})" if len(missing) > 1 else ""
    return first + more


def _resolve(name: object, names: list[str], option: str) -> str:
    if not isinstance(name, str):
        raise SchemaError(f"{option}={name!r} should be a column name (a string)")
    clean = clean_column_name(name)
    if clean not in names:
        raise SchemaError(f"{option}: " + _unknown_column_message(clean, names))
    return clean


def _resolve_many(values: Sequence[str] | None, names: list[str], option: str) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        clean = _resolve(v, names, option)
        if clean not in out:
            out.append(clean)
    return out


def _name_tokens(name: str) -> list[str]:
    # CustomerID -> customer_id; "cust id" -> cust_id; then split on separators.
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def _is_id_name(name: str) -> bool:
    tokens = _name_tokens(name)
    if not tokens:
        return False
    last = tokens[-1]
    if last in _ID_TOKENS:
        return True
    # "CUSTID", "custid", "clientid": a customer word glued to "id"
    if any(last == w + "id" for w in _CUSTOMER_WORDS):
        return True
    return last in _NUMBER_TOKENS and len(tokens) > 1 and tokens[-2] in _CUSTOMER_WORDS


def _is_code_name(name: str) -> bool:
    tokens = _name_tokens(name)
    return bool(tokens) and (tokens[-1] in _CODE_TOKENS or _is_id_name(name))


def _looks_like_id_values(f: _ColumnFacts) -> bool:
    """Unique, present, code-like values (``C10001``, UUIDs), not words or numbers."""
    if f.kind != "text" or f.n_missing or f.n_unique != f.n_rows or f.n_rows < 2:
        return False
    sample = f.series.astype("str").str.strip().iloc[:_PATTERN_SAMPLE]
    has_digit = sample.str.contains(r"\d", regex=True).mean()
    shape = sample.str.fullmatch(_ID_VALUE.pattern).mean()
    short = (sample.str.len() <= 64).mean()
    return bool(has_digit >= 0.99 and shape >= 0.99 and short >= 0.99)


def _is_integral(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(finite.size) and bool(np.all(finite == np.round(finite)))


def _id_candidate_kind(f: _ColumnFacts) -> bool:
    if f.kind in ("text", "other"):
        return True
    return f.kind in ("int", "float", "numtext") and _is_integral(f.numeric_values())


def _check_identifier(f: _ColumnFacts, series: pd.Series) -> None:
    if f.n_missing:
        raise SchemaError(
            f"identifier column {f.name!r} has {f.n_missing} missing values; fill or drop"
            " those rows, or choose another id_column"
        )
    if f.n_unique < f.n_rows:
        counts = series.value_counts()
        dup = counts[counts > 1]
        example = _plain_label(dup.index[0])
        raise SchemaError(
            f"identifier column {f.name!r} has duplicated values: {example!r} appears"
            f" {int(dup.iloc[0])} times and {len(dup)} values are duplicated"
            f" ({int(dup.sum() - len(dup))} extra rows); keep one row per customer"
            " or choose another id_column"
        )


def _choose_identifier(
    facts: dict[str, _ColumnFacts],
    frame: pd.DataFrame,
    lookup: dict[str, Any],
    excluded: set[str],
) -> str | None:
    named = [
        f
        for name, f in facts.items()
        if name not in excluded and _is_id_name(name) and _id_candidate_kind(f)
    ]
    for f in named:
        if f.n_missing == 0 and f.n_unique == f.n_rows:
            return f.name
    # An id-like column that is nearly unique is the customer key with bad rows:
    # silently clustering duplicated customers would be worse than stopping.
    for f in named:
        present = f.n_rows - f.n_missing
        if present and f.n_unique >= 0.9 * f.n_rows:
            _check_identifier(f, frame[lookup[f.name]])
    for name, f in facts.items():
        if name not in excluded and _looks_like_id_values(f):
            return name
    return None


def _id_reason(f: _ColumnFacts) -> str:
    if _is_id_name(f.name):
        return f"every value is unique ({f.n_unique:,}) and the name is id-like"
    example = str(f.series.iloc[0]).strip()
    return f"every value is unique ({f.n_unique:,}) and looks like a code (e.g. {example!r})"


def _value_range(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return ""
    return f" in {_fmt(float(finite.min()))}..{_fmt(float(finite.max()))}"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _constant_or_empty(f: _ColumnFacts) -> ColumnInfo | None:
    if f.n_missing == f.n_rows:
        return f.info("ignored", "every value is missing")
    if f.n_unique == 1:
        value = f.series.dropna().iloc[0]
        gaps = f" and {f.n_missing} gaps" if f.n_missing else ""
        return f.info("ignored", f"constant: every value is {value!r}{gaps}")
    return None


def _requested_feature(f: _ColumnFacts) -> ColumnInfo:
    if f.n_missing == f.n_rows:
        raise DataError(
            f"requested feature {f.name!r} has no values (all {f.n_rows} missing);"
            " remove it from features"
        )
    if f.kind in ("datetime", "datetext"):
        raise SchemaError(
            f"requested feature {f.name!r} holds dates; derive a number from it (e.g."
            " months since the date) and use that column instead"
        )
    constant = " (constant: it does not separate customers)" if f.n_unique == 1 else ""
    if f.kind in ("bool", "text", "other"):
        return f.info("categorical", f"requested feature; {f.n_unique} levels{constant}")
    bad = ""
    if f.kind == "numtext" and f.n_text_bad:
        bad = f"; {f.n_text_bad} values are not numbers (e.g. {f.text_bad_example!r})"
    return f.info("numeric", f"requested feature{_value_range(f.numeric_values())}{constant}{bad}")


def _infer_role(f: _ColumnFacts, max_categories: int, *, id_taken: bool) -> ColumnInfo:
    fixed = _constant_or_empty(f)
    if fixed is not None:
        return fixed
    if f.kind == "bool":
        return f.info("categorical", "boolean values")
    if f.kind in ("datetime", "datetext"):
        return _date_info(f)
    if f.kind in ("int", "float", "numtext", "other-number"):
        return _numeric_info(f, max_categories)
    # text and objects of mixed types
    unique = f.n_unique == f.n_rows - f.n_missing
    if unique and (_is_id_name(f.name) or _looks_like_id_values(f)):
        what = "another unique identifier" if id_taken else "a unique identifier"
        return f.info("ignored", f"{what}: identifiers do not describe behaviour")
    if f.n_unique <= max_categories:
        return f.info(
            "categorical", f"text with {f.n_unique} levels (<= max_categories={max_categories})"
        )
    return f.info(
        "ignored",
        f"free text or high-cardinality codes: {f.n_unique:,} distinct values"
        f" > max_categories={max_categories}",
    )


def _date_info(f: _ColumnFacts) -> ColumnInfo:
    if f.kind == "datetime":
        dates = f.series.dropna()
        span = f"{dates.min()}..{dates.max()}"
    else:
        dates = pd.to_datetime(
            f.series.astype("str").str.strip(), errors="coerce", format=f.date_format
        ).dropna()
        span = f"{dates.min():%Y-%m-%d}..{dates.max():%Y-%m-%d}"
    return f.info(
        "datetime",
        f"dates {span}; not a clustering feature (derive e.g. months since the date)",
    )


def _numeric_info(f: _ColumnFacts, max_categories: int) -> ColumnInfo:
    values = f.numeric_values()
    integral = _is_integral(values)
    unique_ints = integral and f.n_missing == 0 and f.n_unique == f.n_rows
    if unique_ints and _is_id_name(f.name):
        return f.info("ignored", "numeric identifier (unique integers in an id-like column)")
    if unique_ints and _is_row_number(f.name, values):
        return f.info("ignored", "row number (consecutive unique integers)")
    if integral and _is_code_name(f.name):
        if f.n_unique <= max_categories:
            return f.info(
                "categorical",
                f"integer codes in a code-like column ({f.n_unique} levels"
                f" <= max_categories={max_categories})",
            )
        return f.info(
            "ignored",
            f"identifier-like codes ({f.n_unique:,} distinct values in a code-like column)",
        )
    infinite = int(np.isinf(values).sum())
    notes = []
    if f.kind == "numtext":
        notes.append("numbers stored as text")
        if f.n_text_bad:
            notes.append(f"{f.n_text_bad} values are not numbers (e.g. {f.text_bad_example!r})")
    if infinite:
        notes.append(f"{infinite} infinite values")
    kind = "integer" if integral else "decimal"
    detail = f"{kind} values{_value_range(values)}, {f.n_unique:,} distinct"
    return f.info("numeric", "; ".join([detail, *notes]))


def _is_row_number(name: str, values: np.ndarray) -> bool:
    """0..n-1 or 1..n, on enough rows or under a row-like name (``Unnamed: 0``, ``index``)."""
    ordered = np.sort(values)
    if ordered[0] not in (0, 1) or not np.all(np.diff(ordered) == 1):
        return False
    tokens = _name_tokens(name)
    row_like = not tokens or tokens[0] in _ROW_TOKENS or tokens[-1] in _ROW_TOKENS
    return row_like or values.size >= 20


def _coerce_numeric(series: pd.Series, name: str) -> tuple[pd.Series, np.ndarray | None]:
    """Float64 values, and the reasons of unusable cells by position (``None`` if all fine)."""
    kind = _kind(series)
    if kind in ("int", "float", "other-number", "bool"):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        text = None
    else:
        text = _text_values(series)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    infinite = np.isinf(values)
    with np.errstate(invalid="ignore"):
        huge = np.abs(values) > MAX_ABS_VALUE
    huge &= ~infinite
    unparsed = (np.isnan(values) & text.notna().to_numpy()) if text is not None else None
    has_unparsed = unparsed is not None and bool(unparsed.any())
    if not infinite.any() and not huge.any() and not has_unparsed:
        return pd.Series(values, index=series.index, name=name), None
    # Only the (rare) unusable cells get a Python-level message.
    reasons = np.full(len(values), None, dtype=object)
    reasons[infinite] = f"{name}: infinite value"
    if huge.any():
        reasons[huge] = [
            f"{name}: {v:.6g} is out of range (|value| > {MAX_ABS_VALUE:g})" for v in values[huge]
        ]
    if text is not None and unparsed is not None and has_unparsed:
        raw = text.to_numpy(dtype=object)[unparsed]
        reasons[unparsed] = [f"{name}: {str(v)[:40]!r} is not a number" for v in raw]
    values = np.where(infinite | huge, np.nan, values)
    return pd.Series(values, index=series.index, name=name), reasons


def _coerce_categorical(series: pd.Series) -> pd.Series:
    """Object strings with ``None`` for gaps; integral numbers print without ``.0``."""
    kind = _kind(series)
    if kind in ("int", "float", "other-number"):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(values)
        out = np.full(len(values), None, dtype=object)
        if _is_integral(values[present]) or not present.any():
            out[present] = values[present].astype(np.int64).astype(str)
        else:
            out[present] = [repr(float(v)) for v in values[present]]
        return pd.Series(out, index=series.index, dtype=object, name=series.name)
    text = _text_values(series)
    out = text.to_numpy(dtype=object)
    out[text.isna().to_numpy()] = None
    return pd.Series(out, index=series.index, dtype=object, name=series.name)


def _join_reasons(parts: list[np.ndarray], index: pd.Index) -> pd.Series:
    out = np.full(len(index), None, dtype=object)
    for part in parts:
        bad = np.flatnonzero(part != None)  # noqa: E711 - elementwise test on object array
        for pos in bad:
            out[pos] = part[pos] if out[pos] is None else f"{out[pos]}; {part[pos]}"
    return pd.Series(out, index=index, dtype=object, name="reason")
