"""``build_features``: transactions in, one row per customer out, computed as one SQL query.

The steps: open the source where it lives (DuckDB over a file, or the warehouse),
choose the recipe from the columns (or take the one named), find each column role,
read text dates and prove day-first or month-first, refuse amounts that are not
numbers, fix the window (the as-of date and the months before it), count every row
left out by reason, then render the recipe as one query in the source's dialect and
run it there.
"""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, TypeAlias

import pandas as pd
import pyarrow as pa

from .._utils.checks import is_int
from .._utils.progress import NO_PROGRESS, Progress
from .._utils.text import count
from ..exceptions import ConfigError, DataError
from ..sources.datasource import DataSource
from .dialects import feature_dialect
from .inputs import read_table_input
from .recipe import Feature, Recipe, RecipeMatch, choose_recipe
from .runner import Runner, open_runner
from .sql import TableInput, Window, expand_features, histogram_sql, levels_sql, rollup_sql

__all__ = ["FeatureResult", "build_features", "features_sql", "parse_window"]

_EPOCH = date(1970, 1, 1)
_WINDOW = re.compile(r"^\s*(\d{1,3})\s*m(onths?)?\s*$", re.IGNORECASE)
ROLE_OPTIONS = (
    "customer",
    "time",
    "amount",
    "quantity",
    "unit_price",
    "kind",
    "invoice",
    "product",
    "category",
)
"""The column roles :func:`build_features` takes, one keyword each."""
# Reasons a row is left out, in the order the manifest lists them.
_LEFT_OUT = {
    "no_customer": "without a customer id",
    "no_time": "with a missing or unreadable time",
    "no_amount": "with a missing amount",
    "unknown_type": "of a transaction type the recipe does not know",
    "before_window": "before the window",
    "after_as_of": "on or after the as-of date",
}

Source: TypeAlias = str | os.PathLike[str] | DataSource | pd.DataFrame | pa.Table
"""Transactions: a CSV or Parquet file, a query on a warehouse, or a table in memory."""


@dataclass(frozen=True)
class FeatureResult:
    """What :func:`build_features` returns.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per customer: the id column (text) and the features (float64).
    sql : str
        The roll-up query as it ran.
    dialect : str
        The dialect it ran in.
    recipe : str
        The recipe's name.
    match : dict or None
        How the recipe matched the columns (``None`` when named and not checked).
    columns : dict
        Table -> role -> column used.
    as_of, window_start : datetime.date
        The window is ``window_start <= day < as_of``.
    as_of_rule, window_rule : str
        How they were set, in words (``"given"``, ``"the day after the last
        transaction"``; ``"6 months"``, ``"all history"``).
    counts : dict
        ``rows_read``, ``lines_used``, ``customers``, ``left_out`` (reason -> rows),
        ``netted`` (cancellations, returns).
    features : list of dict
        Each output column's name and description.
    left_out_features : list of dict
        Features of the recipe not computed, each with the reason.
    found : dict
        Per table: the columns, the time format read and its proof, the type mapping.
    """

    frame: pd.DataFrame
    sql: str
    dialect: str
    recipe: str
    match: dict[str, Any] | None
    columns: dict[str, dict[str, str]]
    as_of: date
    as_of_rule: str
    window_start: date
    window_rule: str
    counts: dict[str, Any]
    features: list[dict[str, str]]
    left_out_features: list[dict[str, str]]
    found: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    source_kind: str = "file"

    def to_dict(self) -> dict[str, Any]:
        """The roll-up as the manifest and a fitted model record it (JSON-ready)."""
        return {
            "source": self.source,
            "recipe": self.recipe,
            "recipe_match": self.match,
            "dialect": self.dialect,
            "as_of": self.as_of.isoformat(),
            "as_of_rule": self.as_of_rule,
            "window": self.window_rule,
            "window_start": self.window_start.isoformat(),
            "counts": self.counts,
            "tables": self.found,
            "features": self.features,
            "left_out_features": self.left_out_features,
        }

    def describe(self) -> list[str]:
        """Plain lines for people: what was read, kept, left out and why."""
        c = self.counts
        lines = [
            f"Recipe: {self.recipe}"
            + (f", chosen from the columns ({self.match['describe']})" if self.match else ""),
            f"Window: {self.window_rule}, {self.window_start.isoformat()} to "
            f"{self.as_of.isoformat()} (as-of date: {self.as_of_rule}, not included)",
        ]
        for table, found in self.found.items():
            fmt = found.get("time_format")
            if fmt and fmt["order"] == "iso":
                lines.append(f"Dates of the {table} table read as ISO dates (year first)")
            elif fmt:
                lines.append(f"Dates of the {table} table read {fmt['order']} ({fmt['evidence']})")
        lines.append(
            f"{count(c['rows_read'], 'row')} read, {count(c['lines_used'], 'line')} of "
            f"{count(c['customers'], 'customer')} used"
        )
        left = [f"{n:,} {why}" for why, n in c["left_out"].items() if n]
        if left:
            lines.append("Rows left out: " + "; ".join(left))
        netted = c["netted"]
        if netted["cancellations"] or netted["returns"]:
            lines.append(
                f"Netted against purchases: {count(netted['cancellations'], 'cancelled line')}"
                f" and {count(netted['returns'], 'returned line')}"
            )
        for item in self.left_out_features:
            lines.append(f"Not computed: {item['name']} ({item['reason']})")
        return lines


def parse_window(window: str | int | None) -> int | None:
    """Months of a ``--window`` (``"6M"``, ``6``); ``None`` or ``"all"``: all history.

    Raises
    ------
    ConfigError
        Anything else (the message shows the form).
    """
    if window is None or (isinstance(window, str) and window.strip().lower() == "all"):
        return None
    if is_int(window) and int(window) > 0:
        return int(window)
    match = _WINDOW.match(window) if isinstance(window, str) else None
    if match is None or int(match.group(1)) < 1:
        raise ConfigError(f"window={window!r} should be a number of months such as '6M', or 'all'")
    return int(match.group(1))


def _as_of_date(value: str | date | None) -> date | None:
    if value is None or (isinstance(value, date) and not hasattr(value, "hour")):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"as_of={value!r} should be a date such as '2011-12-10' (YYYY-MM-DD)")


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _day(n: int) -> date:
    return _EPOCH + timedelta(days=int(n))


def _month_no(day: date) -> int:
    return day.year * 12 + day.month


def _window(
    first_day: int, last_day: int, as_of: date | None, months: int | None
) -> tuple[Window, str, str]:
    as_of_rule = "given"
    if as_of is None:
        as_of = _day(last_day + 1)
        as_of_rule = "the day after the last transaction"
    start = _months_before(as_of, months) if months is not None else _day(first_day)
    if start >= as_of:
        raise ConfigError(
            f"the window starts on {start.isoformat()}, not before the as-of date "
            f"{as_of.isoformat()}; give an --as-of date after the first transaction"
        )
    as_of_day = (as_of - _EPOCH).days
    window = Window(
        as_of_day=as_of_day,
        start_day=(start - _EPOCH).days,
        start_month=_month_no(start),
        end_month=_month_no(as_of - timedelta(days=1)),
    )
    rule = f"{count(months, 'month')}" if months is not None else "all history"
    return window, as_of_rule, rule


@dataclass
class _Plan:
    """Everything the roll-up is rendered from (one source, one recipe, one window)."""

    runner: Runner
    recipe: Recipe
    match: RecipeMatch | None
    tables: dict[str, TableInput]
    found: dict[str, Any]
    window: Window
    as_of_rule: str
    window_rule: str
    counts: dict[str, Any]
    features: list[tuple[Feature, str, str | None]]
    left_out: list[dict[str, str]]
    id_name: str


def _extra_tables(
    runner: Runner,
    recipe: Recipe,
    statements: Any,
    accounts: Any,
    date_format: str | None,
) -> tuple[dict[str, TableInput], dict[str, Any]]:
    tables: dict[str, TableInput] = {}
    found: dict[str, Any] = {}
    for name, reference in (("statements", statements), ("accounts", accounts)):
        if reference is None:
            continue
        if name not in recipe.columns:
            raise ConfigError(
                f"the {recipe.name} recipe reads no {name} table; leave --{name} out or use"
                " --recipe card"
            )
        tables[name], found[name] = read_table_input(
            runner, recipe, name, reference, {}, date_format
        )
    return tables, found


def _days(histogram: list[dict[str, Any]]) -> tuple[int, int] | None:
    """First and last day of the lines with a customer, a time and an amount."""
    days = [r["day_no"] for r in histogram if r["state"] in ("usable", "unknown_type")]
    return (int(min(days)), int(max(days))) if days else None


def _counts(histogram: list[dict[str, Any]], window: Window) -> dict[str, Any]:
    """Rows read, used, left out by reason and netted, from the histogram of the lines."""
    totals = dict.fromkeys(_LEFT_OUT, 0)
    used = cancellations = returns = 0
    for r in histogram:
        n, state, day = int(r["n"]), r["state"], r["day_no"]
        if state not in ("usable", "unknown_type"):
            totals[state] += n
        elif day < window.start_day:
            totals["before_window"] += n
        elif day >= window.as_of_day:
            totals["after_as_of"] += n
        elif state == "unknown_type":
            totals["unknown_type"] += n
        else:
            used += n
            cancellations += n if r["is_cancel"] == 1 else 0
            returns += n if r["is_cancel"] == 0 and r["is_return"] == 1 else 0
    return {
        "rows_read": sum(int(r["n"]) for r in histogram),
        "lines_used": used,
        "customers": 0,  # the rows of the roll-up, once it ran
        "left_out": {why: totals[key] for key, why in _LEFT_OUT.items()},
        "netted": {"cancellations": cancellations, "returns": returns},
    }


def _choose_features(
    runner: Runner,
    recipe: Recipe,
    tables: dict[str, TableInput],
    window: Window,
    given: Mapping[str, list[str]],
) -> tuple[list[tuple[Feature, str, str | None]], list[dict[str, str]]]:
    kept: list[Feature] = []
    left_out: list[dict[str, str]] = []
    for feature in recipe.features:
        table = tables.get(feature.table)
        if table is None:
            reason = f"needs the {feature.table} table (--{feature.table})"
        elif missing := [r for r in feature.needs if r not in table.roles]:
            reason = f"no {missing[0].replace('_', ' ')} column (--{missing[0].replace('_', '-')})"
        else:
            kept.append(feature)
            continue
        name = feature.name.format(column=feature.per_level, level="LEVEL")
        left_out.append({"name": name, "reason": reason})
    levels: dict[str, list[str]] = dict(given)
    tx = tables["transactions"]
    for feature in kept:
        if feature.per_level and feature.per_level not in levels:
            sql = levels_sql(runner.dialect, tx, window, feature.max_levels)
            levels[feature.per_level] = [r["category"] for r in runner.run(sql).to_pylist()]
    return expand_features(tuple(kept), tx.roles, levels), left_out


def _plan(source: Source, options: dict[str, Any], progress: Progress) -> _Plan:
    """Every fact the roll-up is rendered from (the queries before the roll-up)."""
    runner, reference = open_runner(source)
    try:
        with progress.stage("Reading the transactions' columns and dates"):
            sample = runner.run(f"SELECT * FROM {runner.relation(reference)} LIMIT 1")
            recipe, match = choose_recipe(options["recipe"], sample.column_names)
            given = {role: options.get(role) for role in ROLE_OPTIONS}
            tx, found_tx = read_table_input(
                runner, recipe, "transactions", reference, given, options["date_format"]
            )
            tables, found = _extra_tables(
                runner, recipe, options["statements"], options["accounts"], options["date_format"]
            )
        with progress.stage("Counting the rows of the window"):
            histogram = runner.run(histogram_sql(runner.dialect, tx)).to_pylist()
            days = _days(histogram)
            if days is None:
                rows = sum(int(r["n"]) for r in histogram)
                raise DataError(
                    f"none of the {count(rows, 'row')} has a customer id, a readable time and an"
                    " amount; check the columns (--customer, --time, --amount)"
                )
            window, as_of_rule, window_rule = _window(*days, options["as_of"], options["months"])
            counts = _counts(histogram, window)
            if counts["lines_used"] == 0:
                raise DataError(
                    f"no transaction falls in the window {_day(window.start_day).isoformat()} to "
                    f"{_day(window.as_of_day).isoformat()}; change --as-of or --window"
                )
            tables = {"transactions": tx, **tables}
            features, left_out = _choose_features(runner, recipe, tables, window, options["levels"])
    except BaseException:
        runner.close()
        raise
    id_name = recipe.id_column or tx.roles["customer"]
    return _Plan(
        runner,
        recipe,
        match,
        tables,
        {"transactions": found_tx, **found},
        window,
        as_of_rule,
        window_rule,
        counts,
        features,
        left_out,
        id_name,
    )


def _options(recipe: str, as_of: Any, window: Any, date_format: Any, **rest: Any) -> dict:
    if not isinstance(recipe, str):
        raise ConfigError(f"recipe={recipe!r} should be 'auto', 'retail' or 'card'")
    for role in ROLE_OPTIONS:
        value = rest.get(role)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{role}={value!r} should be a column name (text)")
    if date_format is not None:
        from .timeformat import check_date_format

        check_date_format(date_format)
    return {
        "recipe": recipe,
        "as_of": _as_of_date(as_of),
        "months": parse_window(window),
        "date_format": date_format,
        **rest,
    }


def build_features(
    source: Source,
    *,
    recipe: str = "auto",
    customer: str | None = None,
    time: str | None = None,
    amount: str | None = None,
    quantity: str | None = None,
    unit_price: str | None = None,
    kind: str | None = None,
    invoice: str | None = None,
    product: str | None = None,
    category: str | None = None,
    statements: str | os.PathLike[str] | None = None,
    accounts: str | os.PathLike[str] | None = None,
    as_of: str | date | None = None,
    window: str | int | None = None,
    date_format: str | None = None,
    levels: Mapping[str, Sequence[str]] | None = None,
    progress: Progress = NO_PROGRESS,
) -> FeatureResult:
    """Roll transactions up to one row per customer with a recipe's behavioural features.

    Parameters
    ----------
    source : path-like, DataSource, pandas.DataFrame or pyarrow.Table
        The transactions: a CSV or Parquet file (read by DuckDB where it lies), a
        :class:`~custseg.sources.DataSource` of a query on a warehouse (DuckDB,
        PostgreSQL, BigQuery), whose result is the transactions table, or a table
        already in memory (read by DuckDB in place, with its own column types).
    recipe : {"auto", "retail", "card"}, default "auto"
        ``"auto"`` chooses from the columns (the match is in ``result.match``).
    customer, time, amount, quantity, unit_price, kind, invoice, product, category : str, optional
        Column of each role; found from the recipe's name patterns when not given.
        Without an amount, the line's value is quantity x unit price.
    statements, accounts : path-like or str, optional
        The card recipe's statements and accounts tables: files when ``source`` is a
        file, queries on the same warehouse when it is a query.
    as_of : str or datetime.date, optional
        The window ends the day before; default: the day after the last transaction.
    window : str or int, optional
        Months before ``as_of`` (``"6M"``); default: all history.
    date_format : str, optional
        strftime pattern of text dates (``"%d/%m/%Y %H:%M"``) or ``"iso"``; default:
        detected, with day-first or month-first proven by the data.
    levels : mapping, optional
        Role (``"category"``) -> the levels that get a share column, as a model's
        roll-up recorded them (new lines must give a model the columns it was fitted
        on); default: the most frequent levels in the window.
    progress : Progress, default NO_PROGRESS
        Receives one stage per step.

    Returns
    -------
    FeatureResult

    Raises
    ------
    ConfigError
        An unknown recipe or column, a window or date that does not read, no recipe
        fitting the columns.
    DataError
        Dates proving neither day-first nor month-first, amounts that are not
        numbers, no usable line in the window.
    SourceError
        The file or the warehouse cannot be read.

    Examples
    --------
    >>> result = build_features("invoices.csv", window="12M")  # doctest: +SKIP
    >>> result.frame.head()  # doctest: +SKIP
    """
    options = _options(
        recipe,
        as_of,
        window,
        date_format,
        customer=customer,
        time=time,
        amount=amount,
        quantity=quantity,
        unit_price=unit_price,
        kind=kind,
        invoice=invoice,
        product=product,
        category=category,
        statements=statements,
        accounts=accounts,
        levels={str(k): [str(v) for v in vs] for k, vs in (levels or {}).items()},
    )
    plan = _plan(source, options, progress)
    try:
        d = plan.runner.dialect
        sql = rollup_sql(d, plan.recipe, plan.tables, plan.window, plan.features, plan.id_name)
        with progress.stage("Rolling the transactions up to customers"):
            table = plan.runner.run(sql, progress)
    finally:
        plan.runner.close()
    # Each Arrow column is released as it becomes a pandas column: a million customers'
    # features are not held twice at the peak.
    frame = table.to_pandas(self_destruct=True)
    del table
    return _result(plan, sql, frame)


def _result(plan: _Plan, sql: str, frame: pd.DataFrame) -> FeatureResult:
    plan.counts["customers"] = len(frame)
    frame[plan.id_name] = frame[plan.id_name].astype(str)
    for column in frame.columns[1:]:
        frame[column] = frame[column].astype("float64")
    match = None
    if plan.match is not None:
        match = {**plan.match.to_dict(), "describe": plan.match.describe()}
    described = [{"name": name, "description": f.description} for f, name, _ in plan.features]
    found = dict(plan.found)
    levels: dict[str, list[str]] = {}
    for feature, _, level in plan.features:
        if feature.per_level is not None and level is not None:
            kept = levels.setdefault(feature.per_level, [])
            if level not in kept:
                kept.append(level)
    if levels:  # the levels that got a column: a model's roll-up is rendered from them again
        found["transactions"] = {**found["transactions"], "levels": levels}
    return FeatureResult(
        frame=frame,
        sql=sql,
        dialect=plan.runner.dialect.name,
        recipe=plan.recipe.name,
        match=match,
        columns={t: dict(found["columns"]) for t, found in plan.found.items()},
        as_of=_day(plan.window.as_of_day),
        as_of_rule=plan.as_of_rule,
        window_start=_day(plan.window.start_day),
        window_rule=plan.window_rule,
        counts=plan.counts,
        features=described,
        left_out_features=plan.left_out,
        found=found,
        source=plan.runner.where,
        source_kind=plan.runner.kind,
    )


def features_sql(
    source: Source,
    *,
    dialect: str | None = None,
    tables: dict[str, str] | None = None,
    **options: Any,
) -> str:
    """The roll-up query of ``source``, or the same in another dialect reading named tables.

    With ``dialect=None`` (or the source's own) and no ``tables``: the query
    :func:`build_features` runs. Otherwise the columns, date formats, levels and window
    are read from ``source`` as :func:`build_features` reads them; the query reads
    ``tables`` (default ``transactions``, ``statements``, ``accounts``) instead of the
    source, so that it can run where a copy of the data lives. Takes the options of
    :func:`build_features`.

    Raises
    ------
    ConfigError
        An unknown dialect (the message lists them), and as :func:`build_features`.
    """
    target = feature_dialect(dialect) if dialect is not None else None
    names = {"transactions": "transactions", "statements": "statements", "accounts": "accounts"}
    names.update(tables or {})
    checked = _options(
        options.pop("recipe", "auto"),
        options.pop("as_of", None),
        options.pop("window", None),
        options.pop("date_format", None),
        statements=options.pop("statements", None),
        accounts=options.pop("accounts", None),
        levels=options.pop("levels", None) or {},
        **options,
    )
    plan = _plan(source, checked, NO_PROGRESS)
    plan.runner.close()
    if target is None:
        target = plan.runner.dialect
    if target.name == plan.runner.dialect.name and tables is None:
        renamed = plan.tables
    else:
        renamed = {
            name: replace(table, relation=target.ident(names[name]))
            for name, table in plan.tables.items()
        }
    return rollup_sql(target, plan.recipe, renamed, plan.window, plan.features, plan.id_name)
