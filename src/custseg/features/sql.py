"""The roll-up as SQL: one query per dialect from a recipe, the columns and the window.

The query is a chain of common table expressions:

1. ``tx_typed``: every transaction line with canonical columns (``customer`` as text,
   float ids such as ``17850.0`` back to ``17850``; ``ts`` parsed from text with the
   detected format; ``amount`` signed, cancellations and returns negative; ``day_no``
   and ``month_no``; ``is_return``; ``order_key``; ``kind`` mapped to the recipe's
   transaction types);
2. ``lines``: the usable lines of the window (a customer, a time, an amount, a known
   type, ``start_day <= day_no < as_of_day``);
3. the same for ``statements`` and ``accounts`` when the recipe reads them;
4. one aggregate per table and customer, joined on the customer.

The helper queries of the run (:func:`histogram_sql`, :func:`levels_sql`)
reuse steps 1 and 2, so that every count describes the rows the roll-up reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .dialects import FeatureDialect
from .recipe import Feature, Recipe
from .timeformat import TimeFormat

__all__ = ["TableInput", "Window", "histogram_sql", "levels_sql", "rollup_sql"]

_TRUE_WORDS = "('1', '1.0', 'true', 't', 'yes', 'y')"


@dataclass(frozen=True)
class TableInput:
    """One input table as the renderer needs it.

    Attributes
    ----------
    relation : str
        What follows ``FROM``: a table, ``read_csv(...)``, or ``(query) AS src``.
    roles : mapping
        Role -> column name.
    types : mapping
        Role -> ``"text"``, ``"number"`` or ``"time"`` (the column's type in the source).
    time_format : TimeFormat or None
        How a text time column is read.
    kinds : mapping
        Value of the type column -> the recipe's transaction type.
    """

    relation: str
    roles: Mapping[str, str]
    types: Mapping[str, str]
    time_format: TimeFormat | None = None
    kinds: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Window:
    """The window as day and month numbers (literals of the query)."""

    as_of_day: int
    start_day: int
    start_month: int
    end_month: int

    @property
    def months(self) -> int:
        """Calendar months the window touches."""
        return self.end_month - self.start_month + 1

    def values(self, dialect: FeatureDialect) -> dict[str, str]:
        """The placeholders of feature templates."""
        third = (self.as_of_day - self.start_day) // 3
        return {
            "as_of_day": str(self.as_of_day),
            "start_day": str(self.start_day),
            "first_third_end": str(self.start_day + third),
            "last_third_start": str(self.as_of_day - third),
            "start_month": str(self.start_month),
            "end_month": str(self.end_month),
            "months": str(self.months),
            "double": dialect.double,
        }


def _col(d: FeatureDialect, table: TableInput, role: str) -> str | None:
    column = table.roles.get(role)
    return None if column is None else d.ident(column)


def _text(d: FeatureDialect, expr: str) -> str:
    return f"NULLIF(TRIM(CAST({expr} AS {d.text})), '')"


def _number(d: FeatureDialect, table: TableInput, role: str) -> str:
    expr = _col(d, table, role)
    if expr is None:  # typed: PostgreSQL reads a bare NULL as text
        return f"CAST(NULL AS {d.double})"
    if table.types.get(role) == "number":
        return f"CAST({expr} AS {d.double})"
    return d.number(_text(d, expr))


def _time(d: FeatureDialect, table: TableInput, role: str) -> str:
    expr = _col(d, table, role)
    if expr is None:
        return "CAST(NULL AS TIMESTAMP)"
    if table.types.get(role) == "time":
        return expr
    fmt = table.time_format
    formats = fmt.formats if fmt is not None else ("iso",)
    text = _text(d, expr)
    parsed = [d.timestamp(text, f) for f in formats]
    return parsed[0] if len(parsed) == 1 else f"COALESCE({', '.join(parsed)})"


def _customer(d: FeatureDialect, table: TableInput) -> str:
    column = _col(d, table, "customer") or "NULL"
    if table.types.get("customer") == "number":
        # A numeric id (an integer, or a float column because of blanks): its digits,
        # without the text round trip and the regular expression of text ids.
        return f"CAST(CAST({column} AS {d.bigint}) AS {d.text})"
    return d.float_id(_text(d, column))


def _kind(d: FeatureDialect, table: TableInput) -> str:
    expr = _col(d, table, "kind")
    if expr is None:
        return "NULL"
    text = _text(d, expr)
    by_kind: dict[str, list[str]] = {}
    for value, kind in sorted(table.kinds.items()):
        by_kind.setdefault(kind, []).append(d.string(value))
    if not by_kind:
        return "NULL"
    cases = " ".join(
        f"WHEN {text} IN ({', '.join(values)}) THEN {d.string(kind)}"
        for kind, values in by_kind.items()
    )
    return f"CASE {cases} END"


def _transactions_ctes(d: FeatureDialect, tx: TableInput, window: Window | None) -> list[str]:
    """``tx_base``, ``tx_typed`` and (with a window) ``lines``."""
    if "amount" in tx.roles:
        value = _number(d, tx, "amount")
    else:
        value = f"{_number(d, tx, 'quantity')} * {_number(d, tx, 'unit_price')}"
    invoice = _col(d, tx, "invoice")
    cancel = f"CASE WHEN {_text(d, invoice)} LIKE 'C%' THEN 1 ELSE 0 END" if invoice else "0"
    product = _col(d, tx, "product")
    category = _col(d, tx, "category")
    base = f"""SELECT
    {_customer(d, tx)} AS customer,
    {_time(d, tx, "time")} AS ts,
    {value} AS value,
    {_number(d, tx, "quantity")} AS quantity,
    {cancel} AS is_cancel,
    {_text(d, invoice) if invoice else "NULL"} AS invoice,
    {_text(d, product) if product else "NULL"} AS product,
    {_text(d, category) if category else "NULL"} AS category,
    {_kind(d, tx)} AS kind
  FROM {tx.relation}"""
    typed = f"""SELECT
    customer, ts, quantity, is_cancel, product, category, kind,
    {d.day("ts")} AS day_no,
    {d.month("ts")} AS month_no,
    CASE WHEN is_cancel = 1 AND value > 0 THEN -value ELSE value END AS amount,
    CASE WHEN is_cancel = 1 OR quantity < 0 OR value < 0 THEN 1 ELSE 0 END AS is_return,
    COALESCE(invoice, CAST(ts AS {d.text})) AS order_key
  FROM tx_base"""
    ctes = [f"tx_base AS (\n  {base}\n)", f"tx_typed AS (\n  {typed}\n)"]
    if window is not None:
        known_kind = " AND kind IS NOT NULL" if "kind" in tx.roles else ""
        ctes.append(
            f"lines AS (\n  SELECT * FROM tx_typed\n  WHERE customer IS NOT NULL AND ts IS NOT "
            f"NULL AND amount IS NOT NULL{known_kind}\n    AND day_no >= {window.start_day} AND "
            f"day_no < {window.as_of_day}\n)"
        )
    return ctes


def _statements_ctes(d: FeatureDialect, st: TableInput, window: Window) -> list[str]:
    paid = _col(d, st, "paid_full")
    paid_full = (
        f"CASE WHEN LOWER(TRIM(CAST({paid} AS {d.text}))) IN {_TRUE_WORDS} THEN 1 ELSE 0 END"
        if paid
        else f"CAST(NULL AS {d.bigint})"
    )
    base = f"""SELECT
    {_customer(d, st)} AS customer,
    {_time(d, st, "time")} AS ts,
    {_number(d, st, "balance")} AS balance,
    {_number(d, st, "minimum_due")} AS minimum_due,
    {paid_full} AS paid_full
  FROM {st.relation}"""
    typed = f"""SELECT customer, balance, minimum_due, paid_full,
    {d.day("ts")} AS day_no,
    {d.month("ts")} AS month_no,
    CASE WHEN balance <> COALESCE(LAG(balance) OVER (PARTITION BY customer ORDER BY ts), 0)
      THEN 1 ELSE 0 END AS balance_changed
  FROM st_base WHERE customer IS NOT NULL AND ts IS NOT NULL"""
    windowed = f"""SELECT customer, balance, minimum_due, paid_full, day_no, month_no,
    balance_changed,
    CASE WHEN ROW_NUMBER() OVER (PARTITION BY customer ORDER BY day_no DESC) = 1
      THEN 1 ELSE 0 END AS is_latest
  FROM st_typed WHERE day_no >= {window.start_day} AND day_no < {window.as_of_day}"""
    return [
        f"st_base AS (\n  {base}\n)",
        f"st_typed AS (\n  {typed}\n)",
        f"statements AS (\n  {windowed}\n)",
    ]


def _accounts_ctes(d: FeatureDialect, ac: TableInput) -> list[str]:
    opened = _time(d, ac, "open_date")
    open_month = d.month(opened) if "open_date" in ac.roles else f"CAST(NULL AS {d.bigint})"
    body = f"""SELECT
    {_customer(d, ac)} AS customer,
    {_number(d, ac, "credit_limit")} AS credit_limit,
    {open_month} AS open_month
  FROM {ac.relation}"""
    return [
        f"ac_base AS (\n  {body}\n)",
        "accounts AS (\n  SELECT * FROM ac_base WHERE customer IS NOT NULL\n)",
    ]


def _with(ctes: list[str], body: str) -> str:
    return "WITH\n" + ",\n".join(ctes) + "\n" + body


def histogram_sql(d: FeatureDialect, tx: TableInput) -> str:
    """Lines per day and state, in one scan: the window and every count come from it.

    ``state`` is why a line cannot be used (``no_customer``, ``no_time``,
    ``no_amount``, ``unknown_type``) or ``usable``; with ``day_no``, ``is_cancel`` and
    ``is_return`` it is a few thousand rows whatever the table's size.
    """
    known = "kind IS NOT NULL" if "kind" in tx.roles else "1 = 1"
    body = f"""SELECT day_no,
  CASE WHEN customer IS NULL THEN 'no_customer' WHEN ts IS NULL THEN 'no_time'
    WHEN amount IS NULL THEN 'no_amount' WHEN NOT ({known}) THEN 'unknown_type'
    ELSE 'usable' END AS state,
  is_cancel, is_return, COUNT(*) AS n
FROM tx_typed
GROUP BY 1, 2, 3, 4"""
    return _with(_transactions_ctes(d, tx, None), body)


def levels_sql(d: FeatureDialect, tx: TableInput, window: Window, limit: int) -> str:
    """The most frequent levels of the category column among the window's lines."""
    body = (
        "SELECT category, COUNT(*) AS n FROM lines WHERE category IS NOT NULL\n"
        f"GROUP BY category ORDER BY n DESC, category LIMIT {int(limit)}"
    )
    return _with(_transactions_ctes(d, tx, window), body)


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_") or "blank"


def expand_features(
    features: tuple[Feature, ...], roles: Mapping[str, str], levels: Mapping[str, list[str]]
) -> list[tuple[Feature, str, str | None]]:
    """(feature, output name, level) for each output column, per-level entries expanded."""
    out: list[tuple[Feature, str, str | None]] = []
    for feature in features:
        if feature.per_level is None:
            out.append((feature, feature.name, None))
            continue
        column = roles.get(feature.per_level, feature.per_level)
        for level in levels.get(feature.per_level, []):
            name = feature.name.format(column=_slug(column), level=_slug(level))
            out.append((feature, name, level))
    return out


def rollup_sql(
    d: FeatureDialect,
    recipe: Recipe,
    tables: Mapping[str, TableInput],
    window: Window,
    features: list[tuple[Feature, str, str | None]],
    id_name: str,
) -> str:
    """The one roll-up query: one row per customer, the recipe's features as columns."""
    ctes = _transactions_ctes(d, tables["transactions"], window)
    sources = {"transactions": "lines"}
    if "statements" in tables:
        ctes += _statements_ctes(d, tables["statements"], window)
        sources["statements"] = "statements"
    if "accounts" in tables:
        ctes += _accounts_ctes(d, tables["accounts"])
        sources["accounts"] = "accounts"
    values = window.values(d)
    used = sorted({f.table for f, _, _ in features}, key=list(sources).index)
    for table in used:
        columns = []
        for i, (feature, _, level) in enumerate(features):
            if feature.table != table:
                continue
            extra = {} if level is None else {"level": d.string(level), "column": ""}
            columns.append(f"    {feature.sql.format(**values, **extra)} AS f{i}")
        aggregate = ",\n".join(["    customer", *columns])
        ctes.append(
            f"agg_{table} AS (\n  SELECT\n{aggregate}\n  FROM {sources[table]} GROUP BY customer\n)"
        )
    if list(sources) == ["transactions"] and used == ["transactions"]:
        return _with(ctes, _lines_only_body(d, features, id_name))
    # The customers: every one with lines in the window, or a statement in it, or an
    # account opened before the as-of date (a dormant card holder is a customer too).
    ids = ["SELECT DISTINCT customer FROM lines"]
    if "statements" in sources:
        ids.append("SELECT customer FROM statements")
    if "accounts" in sources:
        ids.append(
            f"SELECT customer FROM accounts WHERE open_month IS NULL OR open_month <= "
            f"{window.end_month}"
        )
    ctes.append("ids AS (\n  " + f"\n  {d.union}\n  ".join(ids) + "\n)")
    select = [f"  ids.customer AS {d.ident(id_name)}"]
    for i, (feature, name, _) in enumerate(features):
        agg = f"agg_{feature.table}"
        expr = f"CASE WHEN {agg}.customer IS NULL THEN {feature.empty} ELSE {agg}.f{i} END"
        select.append(f"  CAST({expr} AS {d.double}) AS {d.ident(name)}")
    joins = "".join(
        f"\nLEFT JOIN agg_{table} ON agg_{table}.customer = ids.customer" for table in used
    )
    body = "SELECT\n" + ",\n".join(select) + "\nFROM ids" + joins + "\nORDER BY 1"
    return _with(ctes, body)


def _lines_only_body(
    d: FeatureDialect, features: list[tuple[Feature, str, str | None]], id_name: str
) -> str:
    """The final ``SELECT`` when every customer and feature comes from the lines alone.

    The customers are then exactly the groups of ``agg_transactions``: no list of ids
    to build (a second aggregation over every line of the window) and join.
    """
    select = [f"  customer AS {d.ident(id_name)}"]
    select += [
        f"  CAST(f{i} AS {d.double}) AS {d.ident(name)}" for i, (_, name, _) in enumerate(features)
    ]
    return "SELECT\n" + ",\n".join(select) + "\nFROM agg_transactions\nORDER BY 1"
