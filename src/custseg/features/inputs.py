"""Reading the input tables before the roll-up: columns, types, dates, numbers, types of lines.

Each step is one small query on the source (a sample of rows for the columns and
their types, the distinct dates for the day-first proof, the first values that are
not numbers, the distinct transaction types), so that the roll-up query itself is
rendered from facts and stops on nothing it could have told first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from .._utils.text import count
from ..exceptions import ConfigError, DataError
from .recipe import Recipe, detect_columns
from .runner import Runner
from .sql import TableInput
from .timeformat import TimeFormat, check_date_format, detect_time_format

__all__ = ["read_table_input"]

_SAMPLE_ROWS = 1000
_DATE_GROUPS = 20000
_SHOWN = 3
_NUMBER_ROLES = ("amount", "quantity", "unit_price", "balance", "minimum_due", "credit_limit")
_TIME_ROLES = ("time", "open_date")
# What each table cannot do without, and the option that gives it.
_REQUIRED = {
    "transactions": ("customer", "time"),
    "statements": ("customer", "time"),
    "accounts": ("customer",),
}


def _type_of(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return "time"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    return "text"


def _check_required(
    recipe: Recipe, table: str, roles: Mapping[str, str], columns: list[str]
) -> None:
    needed = list(_REQUIRED[table])
    if table == "transactions":
        needed += [r for r in recipe.required if r not in needed]
    missing = [role for role in needed if role not in roles]
    pieces = {"quantity", "unit_price"} <= set(roles)
    if table == "transactions" and "amount" not in roles and not pieces:
        missing.append("amount")
    if missing:
        role = missing[0]
        shown = ", ".join(repr(c) for c in columns[:12])
        raise ConfigError(
            f"no {role.replace('_', ' ')} column found in the {table} table (columns: {shown});"
            f" name it with --{role.replace('_', '-')} COLUMN"
            + (" (or --quantity and --unit-price)" if role == "amount" else "")
        )


def _time_format(runner: Runner, relation: str, column: str, date_format: str | None) -> TimeFormat:
    if date_format is not None:
        return check_date_format(date_format)
    d = runner.dialect
    text = f"TRIM(CAST({d.ident(column)} AS {d.text}))"
    # One example per distinct date prefix: every date of the data is looked at, so a
    # day above 12 anywhere in the table is found, at the cost of a few thousand rows.
    sql = (
        f"SELECT MIN(v) AS v FROM (SELECT {text} AS v FROM {relation}) t "
        f"WHERE v IS NOT NULL AND v <> '' GROUP BY SUBSTR(v, 1, 10) LIMIT {_DATE_GROUPS}"
    )
    values = runner.run(sql).column("v").to_pylist()
    return detect_time_format(values, column)


def _check_numbers(runner: Runner, relation: str, role: str, column: str, table: str) -> None:
    d = runner.dialect
    value = f"NULLIF(TRIM(CAST({d.ident(column)} AS {d.text})), '')"
    sql = (
        f"SELECT n, v, COUNT(*) OVER () AS bad FROM (SELECT ROW_NUMBER() OVER () AS n, {value}"
        f" AS v FROM {relation}) t WHERE v IS NOT NULL AND {d.number('v')} IS NULL "
        f"ORDER BY n LIMIT {_SHOWN}"
    )
    rows = runner.run(sql).to_pylist()
    if rows:
        shown = ", ".join(f"row {r['n']:,}: {r['v'][:40]!r}" for r in rows)
        raise DataError(
            f"{count(int(rows[0]['bad']), 'value')} of {column!r} (the {role.replace('_', ' ')}"
            f" of the {table} table) are not numbers ({shown}); fix them in the source or"
            " leave those rows out of the query"
        )


def _kinds(runner: Runner, recipe: Recipe, relation: str, column: str) -> dict[str, str]:
    d = runner.dialect
    sql = (
        f"SELECT DISTINCT NULLIF(TRIM(CAST({d.ident(column)} AS {d.text})), '') AS v "
        f"FROM {relation} LIMIT 1000"
    )
    values = [v for v in runner.run(sql).column("v").to_pylist() if v is not None]
    mapped = {v: k for v in values if (k := recipe.kind_of(v)) is not None}
    if not mapped:
        shown = ", ".join(repr(v) for v in values[:5]) or "none"
        kinds = ", ".join(name for name, _ in recipe.kinds)
        raise DataError(
            f"no value of the transaction type column {column!r} is a known type (values: "
            f"{shown}; known: {kinds}); give --kind with the column of transaction types"
        )
    return mapped


def read_table_input(
    runner: Runner,
    recipe: Recipe,
    table: str,
    reference: str | os.PathLike[str],
    given: Mapping[str, str | None],
    date_format: str | None = None,
) -> tuple[TableInput, dict[str, Any]]:
    """The renderer's view of one input table, and what was found (for the manifest).

    Raises
    ------
    ConfigError
        A given column the table lacks, or a required role no column fills.
    DataError
        Dates that cannot be read or prove neither day-first nor month-first,
        amounts that are not numbers, transaction types of which none is known.
    """
    relation = runner.relation(reference)
    sample = runner.run(f"SELECT * FROM {relation} LIMIT {_SAMPLE_ROWS}")
    columns = list(sample.column_names)
    roles = detect_columns(recipe, table, columns, given)
    _check_required(recipe, table, roles, columns)
    types = {role: _type_of(sample.schema.field(col).type) for role, col in roles.items()}
    time_format = None
    # The types let a model's roll-up be rendered again without the data (export-sql).
    found: dict[str, Any] = {"columns": dict(roles), "types": dict(types)}
    for role in _TIME_ROLES:
        if role in roles and types[role] == "text":
            time_format = _time_format(runner, relation, roles[role], date_format)
            found["time_format"] = time_format.to_dict()
    for role in _NUMBER_ROLES:
        if role in roles and types[role] == "text":
            _check_numbers(runner, relation, role, roles[role], table)
    kinds: dict[str, str] = {}
    if "kind" in roles:
        kinds = _kinds(runner, recipe, relation, roles["kind"])
        found["kinds"] = kinds
    return TableInput(relation, roles, types, time_format, kinds), found
