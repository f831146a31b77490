"""A fitted model's roll-up rendered again, without the data, for a query in the warehouse.

``custseg export-sql --from-transactions`` writes one query from the raw transaction
table to segment assignments. Its first half is the model's roll-up: the recipe, the
columns of each role, their types, the time format and transaction types read at
training, and the category levels that got a column are all in the model's record
(:func:`custseg.features.replay.rollup_record`), so the query is rendered from that
record alone, reading named tables.

The window cannot be literals here, as it is in :func:`custseg.features.build_features`:
by default the as-of date is the day after the last transaction of the table the query
reads, which only the warehouse knows when it runs. So the window is computed in SQL,
in three small steps before the roll-up::

    cs_tx_days       lines per day and state (the roll-up's own histogram query)
    cs_tx_range      the first and last day of the usable lines
    cs_window_dates  the as-of date (a literal, today, or the day after the last
                     transaction) and the window's first day (months before it, or the
                     first transaction for "all history")
    cs_window        the numbers the recipe's templates use: as-of day, first day,
                     first and last month, and the thirds of the window

and each template placeholder reads its number from ``cs_window`` with a scalar
subquery. The date arithmetic matches the Python roll-up's: months are subtracted with
the day clipped to the month's last day, and the window is ``first day <= day < as-of``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from ..exceptions import ConfigError, ModelError
from .build import parse_window
from .dialects import FeatureDialect, feature_dialect
from .recipe import Feature, Recipe, load_recipe
from .sql import TableInput, Window, expand_features, histogram_sql, rollup_sql
from .timeformat import TimeFormat

__all__ = ["RollupQuery", "rollup_query"]

_TABLE_OPTION = {"statements": "--statements-table", "accounts": "--accounts-table"}


@dataclass(frozen=True)
class _DateSql:
    """How a dialect turns a day number into a date, goes back months, and says today."""

    from_day: str  # {x}: days since 1970-01-01 -> DATE
    months_before: str  # {x}: a DATE, {n}: months -> DATE (day clipped to the month's end)
    today: str


_DATES: dict[str, _DateSql] = {
    "duckdb": _DateSql(
        "CAST(DATE '1970-01-01' + CAST({x} AS INTEGER) AS DATE)",
        "CAST({x} - INTERVAL {n} MONTH AS DATE)",
        "CURRENT_DATE",
    ),
    "postgres": _DateSql(
        "CAST(DATE '1970-01-01' + CAST({x} AS INTEGER) AS DATE)",
        "CAST({x} - INTERVAL '{n} months' AS DATE)",
        "CURRENT_DATE",
    ),
    "bigquery": _DateSql(
        "DATE_FROM_UNIX_DATE({x})", "DATE_SUB({x}, INTERVAL {n} MONTH)", "CURRENT_DATE()"
    ),
    "spark": _DateSql(
        "DATE_FROM_UNIX_DATE(CAST({x} AS INT))", "ADD_MONTHS({x}, -{n})", "CURRENT_DATE()"
    ),
}


@dataclass(frozen=True)
class RollupQuery:
    """The roll-up half of an export.

    Attributes
    ----------
    ctes : list of (str, str)
        Common table expressions, in order: the window steps, then ``cs_customers``
        (one row per customer: the id column and the features).
    relation : str
        The CTE holding the customers (``cs_customers``).
    id_column : str
        Name of the customers' id column.
    columns : list of str
        The feature columns the roll-up computes.
    notes : list of str
        Plain sentences for the query's header (as-of date, window, tables).
    """

    ctes: list[tuple[str, str]]
    relation: str
    id_column: str
    columns: list[str]
    notes: list[str]


class _WindowInSql(Window):
    """A :class:`Window` whose numbers are scalar subqueries on ``cs_window``.

    :func:`custseg.features.sql.rollup_sql` writes the window's numbers into the query
    as text, so subqueries stand in for the integers there.
    """

    def values(self, dialect: FeatureDialect) -> dict[str, str]:
        names = (
            "as_of_day",
            "start_day",
            "first_third_end",
            "last_third_start",
            "start_month",
            "end_month",
            "months",
        )
        return {n: _window_value(n) for n in names} | {"double": dialect.double}


def _window_value(name: str) -> str:
    return f"(SELECT {name} FROM cs_window)"


def _table_input(d: FeatureDialect, found: Mapping[str, Any], table: str) -> TableInput:
    roles = dict(found.get("columns") or {})
    fmt = found.get("time_format")
    time_format = None
    if fmt:
        time_format = TimeFormat(tuple(fmt["formats"]), str(fmt["order"]), str(fmt["evidence"]))
    # Models fitted before the types were recorded: text, read as the roll-up reads text.
    types = dict(found.get("types") or dict.fromkeys(roles, "text"))
    relation = ".".join(d.ident(part.strip()) for part in table.split("."))
    return TableInput(relation, roles, types, time_format, dict(found.get("kinds") or {}))


def _check_table(option: str, name: str) -> None:
    if not isinstance(name, str) or not name.strip() or any(not p.strip() for p in name.split(".")):
        raise ConfigError(f"{option}={name!r} should name a table, e.g. dataset.transactions")
    if "\x00" in name:
        raise ConfigError(f"{option}={name!r} contains a NUL character, which SQL cannot quote")


def _as_of(value: str | date | None) -> str | date | None:
    if value is None or isinstance(value, date) or value == "today":
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(
            f"as_of={value!r} should be a date such as '2011-12-10' (YYYY-MM-DD) or 'today'"
        ) from None


def _window_ctes(
    d: FeatureDialect, tx: TableInput, months: int | None, as_of: str | date | None
) -> tuple[list[tuple[str, str]], str]:
    dates = _DATES[d.name]
    if isinstance(as_of, date):
        as_of_sql, rule = f"DATE '{as_of.isoformat()}'", f"given, {as_of.isoformat()}"
    elif as_of == "today":
        as_of_sql, rule = dates.today, "today's date when the query runs"
    else:
        as_of_sql = dates.from_day.format(x="last_day + 1")
        rule = "computed in SQL: the day after the last transaction of the table"
    if months is None:
        start = dates.from_day.format(x="first_day")
    else:
        start = dates.months_before.format(x="as_of", n=int(months))
    end = dates.from_day.format(x=f"{d.day('as_of')} - 1")  # the window's last day
    days = f"""  SELECT as_of, {start} AS start_date, {end} AS end_date FROM (
    SELECT {as_of_sql} AS as_of, first_day FROM cs_tx_range
  ) cs_a"""
    window = f"""  SELECT as_of_day, start_day, start_month, end_month,
    end_month - start_month + 1 AS months,
    start_day + CAST(FLOOR((as_of_day - start_day) / 3e0) AS {d.bigint}) AS first_third_end,
    as_of_day - CAST(FLOOR((as_of_day - start_day) / 3e0) AS {d.bigint}) AS last_third_start
  FROM (
    SELECT
      {d.day("as_of")} AS as_of_day,
      {d.day("start_date")} AS start_day,
      {d.month("start_date")} AS start_month,
      {d.month("end_date")} AS end_month
    FROM cs_window_dates
  ) cs_w"""
    # The first and last day of the lines with a customer, a time and an amount, as
    # the Python roll-up reads them from the same histogram of lines per day and state.
    usable = "state IN ('usable', 'unknown_type')"
    first_last = f"""  SELECT MIN(CASE WHEN {usable} THEN day_no END) AS first_day,
    MAX(CASE WHEN {usable} THEN day_no END) AS last_day
  FROM cs_tx_days"""
    ctes = [
        ("cs_tx_days", histogram_sql(d, tx)),
        ("cs_tx_range", first_last),
        ("cs_window_dates", days),
        ("cs_window", window),
    ]
    return ctes, rule


def _features(
    record: Mapping[str, Any], recipe: Recipe, tables: Mapping[str, TableInput]
) -> list[tuple[Feature, str, str | None]]:
    """The recipe's features the tables can give, per-level ones at training's levels."""
    levels = dict((record.get("tables") or {}).get("transactions", {}).get("levels") or {})
    kept = []
    for feature in recipe.features:
        table = tables.get(feature.table)
        if table is None or any(role not in table.roles for role in feature.needs):
            continue
        if feature.per_level is not None and feature.per_level not in levels:
            per_level = [f["name"] for f in record.get("features") or []]
            if any(name.startswith(feature.name.split("{")[0]) for name in per_level):
                raise ModelError(
                    "the model's roll-up record lacks the category levels of its per-level"
                    " features; refit it with custseg fit --transactions"
                )
            continue
        kept.append(feature)
    roles = tables["transactions"].roles
    return expand_features(tuple(kept), roles, levels)


def rollup_query(
    record: Mapping[str, Any],
    *,
    dialect: str,
    needed: Sequence[str],
    table: str = "transactions",
    statements_table: str | None = None,
    accounts_table: str | None = None,
    as_of: str | date | None = None,
) -> RollupQuery:
    """A model's roll-up as CTEs reading named tables, the window computed in SQL.

    Parameters
    ----------
    record : mapping
        ``model.training["transactions"]`` (:func:`custseg.features.replay.rollup_record`).
    dialect : str
        One of :data:`custseg.features.FEATURE_DIALECTS`.
    needed : sequence of str
        Columns the model reads; each must come out of the roll-up.
    table : str, default "transactions"
        The raw transaction table (dots separate qualifiers).
    statements_table, accounts_table : str, optional
        The card recipe's statements and accounts tables.
    as_of : str or datetime.date, optional
        A date (the window ends the day before), ``"today"`` (the warehouse's date
        when the query runs) or ``None``: the day after the last transaction, computed
        in SQL.

    Returns
    -------
    RollupQuery

    Raises
    ------
    ModelError
        If the record lacks what the roll-up is rendered from (refit the model).
    ConfigError
        A bad table name or date, or a column the model needs from a table not given
        (the message names the option).
    """
    d = feature_dialect(dialect)
    options = record.get("options") if isinstance(record, Mapping) else None
    found = (record.get("tables") or {}) if isinstance(record, Mapping) else {}
    if not isinstance(options, Mapping) or "recipe" not in options or "transactions" not in found:
        raise ModelError(
            "the model's roll-up record has no options; refit it with custseg fit --transactions"
        )
    given = {"transactions": table, "statements": statements_table, "accounts": accounts_table}
    tables: dict[str, TableInput] = {}
    for name, reference in given.items():
        if reference is None:
            continue
        _check_table(_TABLE_OPTION.get(name, "--table"), reference)
        if name not in found:
            raise ConfigError(
                f"the model was fitted without a {name} table; leave {_TABLE_OPTION[name]} out"
            )
        tables[name] = _table_input(d, found[name], reference)
    recipe = load_recipe(str(options["recipe"]))
    features = _features(record, recipe, tables)
    _check_needed(needed, [name for _, name, _ in features], recipe, tables)
    window_ctes, rule = _window_ctes(
        d, tables["transactions"], parse_window(options.get("window")), _as_of(as_of)
    )
    id_name = recipe.id_column or tables["transactions"].roles["customer"]
    window = _WindowInSql(
        as_of_day=cast(int, _window_value("as_of_day")),
        start_day=cast(int, _window_value("start_day")),
        start_month=cast(int, _window_value("start_month")),
        end_month=cast(int, _window_value("end_month")),
    )
    body = rollup_sql(d, recipe, tables, window, features, id_name)
    read = [f"transactions: {table}"]
    read += [f"{n}: {given[n]}" for n in ("statements", "accounts") if n in tables]
    notes = [
        f"As-of date: {rule}; the window ({options.get('window') or 'all history'}) ends the"
        " day before it",
        "Tables read: " + "; ".join(read),
    ]
    names = [name for _, name, _ in features]
    ctes = [*window_ctes, ("cs_customers", body)]
    return RollupQuery(ctes, "cs_customers", id_name, names, notes)


def _check_needed(
    needed: Sequence[str], names: Sequence[str], recipe: Recipe, tables: Mapping[str, TableInput]
) -> None:
    """Every column the model reads comes out of the roll-up, or one line says why not."""
    missing = [c for c in needed if c not in names]
    if not missing:
        return
    from_table = {f.name: f.table for f in recipe.features}
    table = from_table.get(missing[0])
    if table in _TABLE_OPTION and table not in tables:
        raise ConfigError(
            f"the model reads {missing[0]!r}, which the {recipe.name} recipe computes from the"
            f" {table} table; name that table with {_TABLE_OPTION[table]} TABLE"
        )
    raise ModelError(
        f"the model reads {missing[0]!r}, which its roll-up does not compute; refit it with"
        " custseg fit --transactions"
    )
