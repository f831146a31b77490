"""Roll-up recipes: TOML files of features, column patterns and the signs of a domain.

A recipe (``custseg/features/recipes/<name>.toml``; ``retail`` and ``card`` ship) lists
the output columns as SQL aggregates over the canonical columns of the transactions
(and, for the card recipe, statements and accounts), the name patterns that find each
column role in a table, and the ``[match]`` signals that tell whether a table is of
its domain. Adding a recipe is adding one file: nothing else names them.

Loading validates every field; each problem is one :class:`ConfigError` naming the
recipe, the entry and the fix.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .._utils.patterns import columns_matching
from ..exceptions import ConfigError

__all__ = [
    "TABLES",
    "Feature",
    "Recipe",
    "RecipeMatch",
    "choose_recipe",
    "detect_columns",
    "load_recipe",
    "shipped_recipes",
]

TABLES = ("transactions", "statements", "accounts")
"""The tables a recipe reads; only ``transactions`` is required."""
_PLACEHOLDERS = frozenset(
    {
        "as_of_day",
        "start_day",
        "first_third_end",
        "last_third_start",
        "start_month",
        "end_month",
        "months",
        "double",
        "level",
        "column",
    }
)
# Roles each table can carry (the canonical columns of docs/transactions.md).
_ROLES = {
    "transactions": (
        "customer",
        "time",
        "invoice",
        "quantity",
        "unit_price",
        "amount",
        "kind",
        "product",
        "category",
    ),
    "statements": ("customer", "time", "balance", "minimum_due", "paid_full"),
    "accounts": ("customer", "credit_limit", "open_date"),
}


@dataclass(frozen=True)
class Feature:
    """One output column of a recipe.

    Attributes
    ----------
    name : str
        Output column (a template with ``{column}`` and ``{level}`` for per-level entries).
    description : str
        What it measures, for the manifest and the docs.
    sql : str
        Aggregate over one customer's rows of ``table``, with placeholders.
    table : str
        ``"transactions"``, ``"statements"`` or ``"accounts"``.
    needs : tuple of str
        Column roles it needs beyond the table's required ones.
    empty : str
        SQL value for a customer without rows in ``table`` (``"0"`` or ``"NULL"``).
    per_level : str or None
        A role whose frequent levels each get a column.
    max_levels : int
        How many levels (the most frequent first) per-level entries take.
    """

    name: str
    description: str
    sql: str
    table: str = "transactions"
    needs: tuple[str, ...] = ()
    empty: str = "0"
    per_level: str | None = None
    max_levels: int = 5


@dataclass(frozen=True)
class Recipe:
    """A parsed, validated recipe.

    Attributes
    ----------
    name, description : str
    id_column : str or None
        Fixed name of the output's id column (``CUST_ID``); ``None``: the customer
        column's own name.
    required : tuple of str
        Roles of the transactions table the recipe cannot do without (``kind``).
    minimum : float
        Share of ``signals`` a table must show for the recipe to be chosen.
    signals : tuple of (str, str)
        ``(words, role)``: a role whose column is a sign of the domain.
    columns : mapping
        Table -> role -> name patterns, in order of preference.
    kinds : tuple of (str, tuple of str)
        Transaction types by value patterns (first match wins).
    features : tuple of Feature
    """

    name: str
    description: str
    id_column: str | None
    required: tuple[str, ...]
    minimum: float
    signals: tuple[tuple[str, str], ...]
    columns: Mapping[str, Mapping[str, tuple[str, ...]]]
    kinds: tuple[tuple[str, tuple[str, ...]], ...]
    features: tuple[Feature, ...]

    def kind_of(self, value: str) -> str | None:
        """The transaction type a value of the type column stands for, or ``None``."""
        key = re.sub(r"[\s_\-\.]+", "", value).casefold()
        for name, patterns in self.kinds:
            if any(fnmatch.fnmatchcase(key, re.sub(r"[\s_\-\.]+", "", p)) for p in patterns):
                return name
        return None


@dataclass(frozen=True)
class RecipeMatch:
    """How well a table's columns fit a recipe's ``[match]`` signals."""

    name: str
    score: float
    minimum: float
    found: tuple[tuple[str, str], ...]
    missing: tuple[str, ...]

    @property
    def fits(self) -> bool:
        """Whether the table shows enough of the recipe's signals."""
        return self.score >= self.minimum

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "recipe": self.name,
            "score": round(self.score, 4),
            "minimum": self.minimum,
            "fits": self.fits,
            "found": [{"signal": s, "column": c} for s, c in self.found],
            "missing": list(self.missing),
        }

    def describe(self) -> str:
        """``3 of 4 signs: invoice numbers in InvoiceNo, ...``."""
        found = ", ".join(f"{s} in {c}" for s, c in self.found) or "none"
        total = len(self.found) + len(self.missing)
        return f"{len(self.found)} of {total} signs: {found}"


def shipped_recipes() -> tuple[str, ...]:
    """Names of the recipes shipped in ``custseg/features/recipes/``, sorted."""
    folder = resources.files("custseg.features").joinpath("recipes")
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


@functools.cache
def load_recipe(name: str) -> Recipe:
    """The shipped recipe called ``name`` (``"retail"``, ``"card"``).

    Raises
    ------
    ConfigError
        No such recipe (the message lists them), or a field that does not check.
    """
    known = shipped_recipes()
    if name not in known:
        raise ConfigError(f"recipe={name!r} should be one of auto, {', '.join(known)}")
    text = resources.files("custseg.features").joinpath(f"recipes/{name}.toml").read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"recipe {name!r} is not valid TOML: {exc}; fix the file") from None
    return _parse(name, data)


def _parse(name: str, data: dict[str, Any]) -> Recipe:
    head = data.get("recipe", {})
    match = data.get("match", {})
    columns = {
        table: {role: tuple(patterns) for role, patterns in roles.items()}
        for table, roles in data.get("columns", {}).items()
    }
    for table, roles in columns.items():
        unknown = set(roles) - set(_ROLES.get(table, ()))
        if table not in _ROLES or unknown:
            raise ConfigError(
                f"recipe {name!r}: [columns.{table}] has unknown roles {sorted(unknown)}; use "
                f"{', '.join(_ROLES.get(table, TABLES))}"
            )
    features = tuple(_feature(name, entry) for entry in data.get("features", []))
    if not features or "transactions" not in columns:
        raise ConfigError(
            f"recipe {name!r} needs [columns.transactions] and at least one [[features]] entry"
        )
    signals = tuple((str(s["name"]), str(s["role"])) for s in match.get("signals", []))
    kinds = tuple((str(k["name"]), tuple(k["values"])) for k in data.get("kinds", []))
    return Recipe(
        name=name,
        description=str(head.get("description", "")),
        id_column=head.get("id_column"),
        required=tuple(head.get("requires", ())),
        minimum=float(match.get("minimum", 1.0)),
        signals=signals,
        columns=columns,
        kinds=kinds,
        features=features,
    )


def _feature(recipe: str, entry: dict[str, Any]) -> Feature:
    name = entry.get("name")
    sql = entry.get("sql")
    if not isinstance(name, str) or not isinstance(sql, str) or not sql.strip():
        raise ConfigError(f"recipe {recipe!r}: feature {name!r} needs a name and an sql text")
    used = set(re.findall(r"{(\w+)}", sql))
    if used - _PLACEHOLDERS:
        raise ConfigError(
            f"recipe {recipe!r}: feature {name!r} uses unknown placeholders "
            f"{sorted(used - _PLACEHOLDERS)}; use {', '.join(sorted(_PLACEHOLDERS))}"
        )
    table = entry.get("table", "transactions")
    if table not in TABLES:
        raise ConfigError(
            f"recipe {recipe!r}: feature {name!r} has table={table!r}; use {', '.join(TABLES)}"
        )
    return Feature(
        name=name,
        description=str(entry.get("description", "")),
        sql=sql,
        table=table,
        needs=tuple(entry.get("needs", ())),
        empty=str(entry.get("empty", "0")),
        per_level=entry.get("per_level"),
        max_levels=int(entry.get("max_levels", 5)),
    )


def detect_columns(
    recipe: Recipe, table: str, columns: Sequence[str], given: Mapping[str, str | None]
) -> dict[str, str]:
    """Role -> column of one table: the columns given, then the recipe's patterns.

    A column goes to one role only (roles are filled in the order of the recipe's
    ``[columns.<table>]``, so ``InvoiceDate`` is the time before ``*invoice*`` is tried).

    Raises
    ------
    ConfigError
        A given column that the table does not have (the message lists some it has).
    """
    found: dict[str, str] = {}
    for role, column in given.items():
        if column is None:
            continue
        if column not in columns:
            shown = ", ".join(repr(c) for c in list(columns)[:12])
            raise ConfigError(
                f"--{role.replace('_', '-')} {column!r}: the {table} table has no such column;"
                f" its columns are {shown}"
            )
        found[role] = column
    claimed = set(found.values())
    for role, patterns in recipe.columns.get(table, {}).items():
        if role in found:
            continue
        for pattern in patterns:
            hit = next((c for c in columns_matching([pattern], columns) if c not in claimed), None)
            if hit is not None:
                found[role] = hit
                claimed.add(hit)
                break
    return found


def match_recipe(recipe: Recipe, columns: Sequence[str]) -> RecipeMatch:
    """How well ``columns`` (of a transactions table) fit ``recipe``."""
    roles = detect_columns(recipe, "transactions", columns, {})
    found = tuple((words, roles[role]) for words, role in recipe.signals if role in roles)
    missing = tuple(words for words, role in recipe.signals if role not in roles)
    score = len(found) / len(recipe.signals) if recipe.signals else 0.0
    return RecipeMatch(recipe.name, score, recipe.minimum, found, missing)


def choose_recipe(name: str, columns: Sequence[str]) -> tuple[Recipe, RecipeMatch | None]:
    """The recipe named (match ``None``), or (``"auto"``) the best-matching one and its match.

    Raises
    ------
    ConfigError
        An unknown name, or ``"auto"`` when no recipe fits (the message shows the best
        match and asks for ``--recipe``).
    """
    if name != "auto":
        return load_recipe(name), None
    matches = [match_recipe(load_recipe(n), columns) for n in shipped_recipes()]
    best = max(matches, key=lambda m: m.score)
    if not best.fits:
        shown = "; ".join(f"{m.name}: {m.describe()}" for m in matches)
        raise ConfigError(
            f"no recipe fits the columns ({shown}); name one with --recipe "
            f"{'|'.join(shipped_recipes())} and the columns with --customer, --time, --amount"
        )
    return load_recipe(best.name), best
