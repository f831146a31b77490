"""Inferring the role of every column of a customer table, with the reason.

:func:`infer_schema` looks at every column once and gives it a role (identifier,
numeric, categorical, datetime, outcome, descriptor or ignored) with the reason, so that a report
can say why a column was or was not used. It never changes its input.

Identifiers are recognised by name (``CUST_ID``, ``customer_id``, ``client_no``), by
code-like unique text (``C10001``, UUIDs) and, whatever the name, by values that behave
like account numbers (:func:`_looks_like_key_numbers`): distinct integers without gaps,
all written with the same number of digits (at least six), spread evenly over their
range (skewness within +-1), under a name that does not say it is an amount
(:data:`_MEASURE_TOKENS`). Uniqueness alone proves nothing on a small table (a few
hundred incomes in whole dollars are often all different); a fixed width of six or more
digits and an even spread are what account numbers have and amounts, counts and scores
do not. Outcome columns and model outputs are recognised by
:mod:`custseg.prepare.outcomes`, columns that say who the customer is (age, gender,
region...) by :mod:`custseg.prepare.descriptors`.

``features`` and ``exclude`` take column names or glob patterns (``"score_*"``,
``"Mnt*"``; :func:`fnmatch.fnmatchcase`, case-sensitive like column names).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .._utils.checks import check_frame, check_int
from .._utils.lazy import lazy_module
from .._utils.numeric import skewness
from ..exceptions import DataError, SchemaError
from .descriptors import Descriptor, find_descriptor
from .facts import PATTERN_SAMPLE, ColumnFacts
from .outcomes import name_tokens, outcome_reason
from .schema import (
    GLOB_CHARS,
    ColumnInfo,
    TableSchema,
    check_level_texts,
    clean_column_name,
    column_lookup,
    is_integral,
    match_columns,
    plain_value,
    text_values,
    unknown_column_message,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["infer_schema"]

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
_ID_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.:/]*$")
# Account numbers have a fixed width of at least this many digits.
_KEY_MIN_DIGITS = 6
# Names that say a column is a quantity: never an identifier, however unique its values.
_MEASURE_TOKENS = frozenset(
    {
        "amount",
        "amt",
        "balance",
        "bal",
        "income",
        "salary",
        "revenue",
        "spend",
        "spent",
        "price",
        "cost",
        "value",
        "total",
        "sum",
        "limit",
        "payment",
        "payments",
        "purchases",
        "count",
        "cnt",
        "score",
        "points",
        "fee",
        "fees",
        "age",
    }
)


def infer_schema(
    frame: pd.DataFrame,
    *,
    id_column: str | None = None,
    features: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    descriptors: Sequence[str] | None = None,
    cluster_descriptors: bool = False,
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
        id-like name (``CUST_ID``, ``customer_id``, ``*_id``), unique code-like
        string values, or account-number-like integers is chosen. Its values must be
        unique and present.
    features : sequence of str, optional
        Use exactly these columns as features (numeric or categorical by their
        values), outcome columns included; every other column is ignored except the
        identifier and the outcome columns (profiled). Names or glob patterns
        (``"Mnt*"``).
    exclude : sequence of str, optional
        Columns never to use (names or glob patterns such as ``"score_*"``).
    descriptors : sequence of str, optional
        Columns that describe who the customer is, beyond those recognised
        (:mod:`custseg.prepare.descriptors`): names or glob patterns.
    cluster_descriptors : bool, default False
        Cluster on descriptor columns (role numeric or categorical, the reason saying
        "descriptor, clustered on request") instead of only profiling them (role
        ``"descriptor"``). A descriptor named in ``features`` is clustered on anyway.
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
        If an override names an unknown column or a pattern matches none (close
        matches are listed), if the identifier has duplicated or missing values, or
        if a requested feature cannot be a feature.
    DataError
        If ``frame`` is not a DataFrame or has no rows, or a requested feature has no
        values.
    ConfigError
        If ``max_categories`` is not an integer >= 2.
    """
    check_frame(frame)
    max_categories = check_int(max_categories, "max_categories", minimum=2)
    lookup = column_lookup(frame.columns)
    names = list(lookup)
    if len(frame) == 0:
        raise DataError("the table has no rows; check the query or the file")

    wanted_id = _resolve(id_column, names, "id_column") if id_column is not None else None
    wanted_features = _resolve_many(features, names, "features")
    excluded = set(_resolve_many(exclude, names, "exclude") or [])
    listed = set(_resolve_many(descriptors, names, "descriptors") or [])
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
    facts = {name: ColumnFacts.of(name, frame[lookup[name]], n_rows) for name in names}
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
        elif wanted_features is not None and name in wanted_features:
            infos.append(_as_descriptor(_requested_feature(f), f, listed, cluster=True))
        else:
            info = _infer_role(f, max_categories, id_taken=chosen_id is not None)
            # Outside the requested features a descriptor stays profiled, like an outcome.
            cluster = cluster_descriptors and wanted_features is None
            info = _as_descriptor(info, f, listed, cluster=cluster)
            if wanted_features is not None and info.role != "descriptor":
                info = _unrequested(f)
            infos.append(info)
    return TableSchema(columns=tuple(infos), n_rows=n_rows)


# --------------------------------------------------------------------------- helpers


def _resolve(name: object, names: list[str], option: str) -> str:
    if not isinstance(name, str):
        raise SchemaError(f"{option}={name!r} should be a column name (a string)")
    clean = clean_column_name(name)
    if clean not in names:
        raise SchemaError(f"{option}: " + unknown_column_message(clean, names))
    return clean


def _resolve_many(values: Sequence[str] | None, names: list[str], option: str) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        if isinstance(v, str) and clean_column_name(v) not in names and GLOB_CHARS & set(v):
            matched = match_columns(clean_column_name(v), names, option)
        else:
            matched = [_resolve(v, names, option)]
        out.extend(m for m in matched if m not in out)
    return out


def _is_id_name(name: str) -> bool:
    tokens = name_tokens(name)
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
    tokens = name_tokens(name)
    return bool(tokens) and (tokens[-1] in _CODE_TOKENS or _is_id_name(name))


def _looks_like_id_values(f: ColumnFacts) -> bool:
    """Unique, present, code-like values (``C10001``, UUIDs), not words or numbers."""
    if f.kind != "text" or f.n_missing or f.n_unique != f.n_rows or f.n_rows < 2:
        return False
    sample = f.series.astype("str").str.strip().iloc[:PATTERN_SAMPLE]
    has_digit = sample.str.contains(r"\d", regex=True).mean()
    shape = sample.str.fullmatch(_ID_VALUE.pattern).mean()
    short = (sample.str.len() <= 64).mean()
    return bool(has_digit >= 0.99 and shape >= 0.99 and short >= 0.99)


def _looks_like_key_numbers(f: ColumnFacts) -> bool:
    """Distinct integers of one fixed width (>= 6 digits), evenly spread: account numbers.

    See the module docstring for why each condition is needed.
    """
    if f.kind not in ("int", "float", "numtext") or f.n_missing or f.n_unique != f.n_rows:
        return False
    if f.n_rows < 2 or any(t in _MEASURE_TOKENS for t in name_tokens(f.name)):
        return False
    values = f.numeric_values()
    if not is_integral(values) or values.min() < 10 ** (_KEY_MIN_DIGITS - 1):
        return False
    if f.kind == "numtext":
        widths = f.series.astype("str").str.strip().str.len()
        fixed = widths.nunique() == 1 and int(widths.iloc[0]) >= _KEY_MIN_DIGITS
    else:
        fixed = len(str(int(values.min()))) == len(str(int(values.max())))
    return bool(fixed) and abs(skewness(values)) <= 1.0


def _id_candidatevalue_kind(f: ColumnFacts) -> bool:
    if f.kind in ("text", "other"):
        return True
    return f.kind in ("int", "float", "numtext") and is_integral(f.numeric_values())


def _check_identifier(f: ColumnFacts, series: pd.Series) -> None:
    if f.n_missing:
        raise SchemaError(
            f"identifier column {f.name!r} has {f.n_missing} missing values; fill or drop"
            " those rows, or choose another id_column"
        )
    if f.n_unique < f.n_rows:
        counts = series.value_counts()
        dup = counts[counts > 1]
        example = plain_value(dup.index[0])
        raise SchemaError(
            f"identifier column {f.name!r} has duplicated values: {example!r} appears"
            f" {int(dup.iloc[0])} times and {len(dup)} values are duplicated"
            f" ({int(dup.sum() - len(dup))} extra rows); keep one row per customer"
            " or choose another id_column"
        )


def _choose_identifier(
    facts: dict[str, ColumnFacts],
    frame: pd.DataFrame,
    lookup: dict[str, Any],
    excluded: set[str],
) -> str | None:
    named = [
        f
        for name, f in facts.items()
        if name not in excluded and _is_id_name(name) and _id_candidatevalue_kind(f)
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
    for name, f in facts.items():
        if name not in excluded and _looks_like_key_numbers(f):
            return name
    return None


def _id_reason(f: ColumnFacts) -> str:
    if _is_id_name(f.name):
        return f"every value is unique ({f.n_unique:,}) and the name is id-like"
    if _looks_like_key_numbers(f):
        return _key_reason(f)
    example = str(f.series.iloc[0]).strip()
    return f"every value is unique ({f.n_unique:,}) and looks like a code (e.g. {example!r})"


def _key_reason(f: ColumnFacts) -> str:
    example = int(f.numeric_values()[0])
    return (
        f"account-number-like: {f.n_unique:,} distinct {len(str(example))}-digit integers"
        f" (e.g. {example}) spread evenly, no gaps"
    )


def _value_range(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return ""
    return f" in {_fmt(float(finite.min()))}..{_fmt(float(finite.max()))}"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _constant_or_empty(f: ColumnFacts) -> ColumnInfo | None:
    if f.n_missing == f.n_rows:
        return f.info("ignored", "every value is missing")
    if f.n_unique == 1:
        value = f.series.dropna().iloc[0]
        gaps = f" and {f.n_missing} gaps" if f.n_missing else ""
        return f.info("ignored", f"constant: every value is {plain_value(value)!r}{gaps}")
    return None


def _requested_feature(f: ColumnFacts) -> ColumnInfo:
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
    outcome = _outcome(f)
    if outcome is not None:
        constant += f" ({outcome}, clustered on by request)"
    if f.kind in ("bool", "text", "other"):
        return f.info("categorical", f"requested feature; {f.n_unique} levels{constant}")
    bad = ""
    if f.kind == "numtext" and f.n_text_bad:
        bad = f"; {f.n_text_bad} values are not numbers (e.g. {f.text_bad_example!r})"
    return f.info("numeric", f"requested feature{_value_range(f.numeric_values())}{constant}{bad}")


def _unrequested(f: ColumnFacts) -> ColumnInfo:
    """A column outside the requested features: an outcome stays profiled, others are ignored."""
    outcome = _outcome(f) if _constant_or_empty(f) is None else None
    if outcome is not None:
        return f.info("outcome", f"{outcome}; {_OUTCOME_USE}")
    return f.info("ignored", "not in the requested features")


_OUTCOME_USE = "profiled per segment, not clustered on (name it in features to cluster on it)"
_DESCRIPTOR_USE = (
    "profiled per segment, not clustered on; --cluster-descriptors"
    " (cluster_descriptors=True) to cluster on it"
)


def _as_descriptor(
    info: ColumnInfo, f: ColumnFacts, listed: set[str], *, cluster: bool
) -> ColumnInfo:
    """A numeric or categorical column that says who the customer is becomes a descriptor.

    It is clustered on only on request (``cluster``): its role then stays numeric or
    categorical and the reason says so.
    """
    if info.role not in ("numeric", "categorical"):
        return info
    found = find_descriptor(f.name, f.series)
    if f.name in listed:
        kind = found.kind if found is not None else "listed as a descriptor"
        found = Descriptor(kind, "listed", found.protected if found is not None else None)
    if found is None:
        return info
    what = found.text + (
        f"; protected characteristic: {found.protected}" if found.protected else ""
    )
    marked = replace(info, describes=found.kind, protected=found.protected)
    if cluster:
        return replace(marked, reason=f"descriptor ({what}), clustered on request: {info.reason}")
    if info.role == "categorical":
        # Its levels are profiled into the model and the report as a feature's would be.
        check_level_texts(f.name, text_values(f.series).dropna().unique())
    reason = f"describes who the customer is ({what}): {_DESCRIPTOR_USE}"
    return replace(marked, role="descriptor", reason=reason)


def _outcome(f: ColumnFacts) -> str | None:
    """``"outcome flag: churn"``, ``"model output: score"``... or ``None``."""
    within_unit = False
    if f.kind in ("int", "float", "numtext", "bool"):
        values = f.numeric_values()
        finite = values[np.isfinite(values)]
        within_unit = bool(finite.size) and finite.min() >= 0 and finite.max() <= 1
    return outcome_reason(f.name, n_levels=f.n_unique, within_unit=within_unit)


def _infer_role(f: ColumnFacts, max_categories: int, *, id_taken: bool) -> ColumnInfo:
    fixed = _constant_or_empty(f)
    if fixed is not None:
        return fixed
    outcome = _outcome(f)
    if outcome is not None:
        return f.info("outcome", f"{outcome}; {_OUTCOME_USE}")
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


def _date_info(f: ColumnFacts) -> ColumnInfo:
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


def _numeric_info(f: ColumnFacts, max_categories: int) -> ColumnInfo:
    values = f.numeric_values()
    integral = is_integral(values)
    unique_ints = integral and f.n_missing == 0 and f.n_unique == f.n_rows
    if unique_ints and _is_id_name(f.name):
        return f.info("ignored", "numeric identifier (unique integers in an id-like column)")
    if _looks_like_key_numbers(f):
        return f.info("ignored", f"another unique identifier, {_key_reason(f)}")
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
    finite = values[np.isfinite(values)]
    if f.n_unique == 2 and finite.min() == 0 and finite.max() == 1:
        share = float(finite.mean())
        detail = f"0/1 flag, 1 on {share:.1%} of rows (binary: kept as 0/1, not transformed)"
        return f.info("numeric", "; ".join([detail, *notes]))
    kind = "integer" if integral else "decimal"
    detail = f"{kind} values{_value_range(values)}, {f.n_unique:,} distinct"
    return f.info("numeric", "; ".join([detail, *notes]))


def _is_row_number(name: str, values: np.ndarray) -> bool:
    """0..n-1 or 1..n, on enough rows or under a row-like name (``Unnamed: 0``, ``index``)."""
    ordered = np.sort(values)
    if ordered[0] not in (0, 1) or not np.all(np.diff(ordered) == 1):
        return False
    tokens = name_tokens(name)
    row_like = not tokens or tokens[0] in _ROW_TOKENS or tokens[-1] in _ROW_TOKENS
    return row_like or values.size >= 20
