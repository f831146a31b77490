"""The warehouses a query can run on, registered once.

Each :class:`Warehouse` (declared by its module: :mod:`~custseg.sources.duckdb`,
:mod:`~custseg.sources.bigquery`, :mod:`~custseg.sources.sqlalchemy_url`) says which
URLs it claims, how to print a URL without its secrets, which options of its own it
takes (BigQuery's :class:`~custseg.sources.bigquery.BigQueryOptions`) and how to run a
query into an Arrow table. :class:`custseg.sources.DataSource`,
:func:`custseg.sources.extract`, :func:`custseg.sources.describe_warehouse`, the
command line's warehouse options and the hints given for a URL no warehouse claims
all read :data:`WAREHOUSES`: adding a warehouse is its module and one line below (or
one call to :func:`register_warehouse` from outside the package).

Entries are tried in order and the first that claims a URL answers: the embedded
DuckDB comes before DuckDB files, and SQLAlchemy (which also asks installed plugins)
comes last.
"""

from __future__ import annotations

from ..exceptions import ConfigError
from . import bigquery, duckdb, sqlalchemy_url
from ._urls import mask_url, url_scheme
from ._warehouse import (
    QueryResult,
    QueryRunner,
    Warehouse,
    WarehouseOption,
    option_specs,
    warehouse_option,
)
from .duckdb import EMBEDDED

__all__ = [
    "EMBEDDED",
    "WAREHOUSES",
    "QueryResult",
    "QueryRunner",
    "Warehouse",
    "WarehouseOption",
    "claiming_warehouse",
    "command_line_options",
    "find_warehouse",
    "register_warehouse",
    "supported_warehouses",
    "warehouse_option",
    "warehouse_options",
]

WAREHOUSES: tuple[Warehouse, ...] = (
    duckdb.EMBEDDED_WAREHOUSE,
    duckdb.FILE_WAREHOUSE,
    bigquery.WAREHOUSE,
    sqlalchemy_url.WAREHOUSE,
)
"""Every warehouse, in the order they are asked whether they claim a URL."""


def register_warehouse(warehouse: Warehouse) -> None:
    """Add a warehouse, asked before the built-in ones whether it claims a URL.

    For a warehouse that lives outside custseg. Its options reach the command line
    when they are registered before :mod:`custseg.cli` is imported.

    Parameters
    ----------
    warehouse : Warehouse
        The entry; its ``options`` dataclass, if any, declares its own options.

    Raises
    ------
    TypeError
        ``warehouse`` is not a :class:`Warehouse`.
    """
    global WAREHOUSES
    if not isinstance(warehouse, Warehouse):
        raise TypeError(f"warehouse={warehouse!r} should be a custseg.sources.registry.Warehouse")
    WAREHOUSES = (warehouse, *WAREHOUSES)


def find_warehouse(url: str | None) -> Warehouse:
    """The registered warehouse that runs queries for ``url``: :func:`claiming_warehouse`'s.

    Raises
    ------
    ConfigError
        No entry claims the URL; the message says how to write a URL that works
        (``duckdb:///bank.duckdb`` for a file named ``bank.duckdb``...).
    """
    warehouse = claiming_warehouse(url)
    if warehouse is None:
        assert url is not None  # the embedded warehouse claims None
        raise ConfigError(_unclaimed(url))
    return warehouse


def claiming_warehouse(url: str | None) -> Warehouse | None:
    """The first registered warehouse that claims ``url``, or ``None``.

    Parameters
    ----------
    url : str or None
        Warehouse URL; ``None`` (or ``""``) is the embedded DuckDB warehouse.

    Returns
    -------
    Warehouse or None
    """
    for warehouse in WAREHOUSES:
        if warehouse.claims(url):
            return warehouse
    return None


def warehouse_options() -> dict[str, tuple[Warehouse, ...]]:
    """Each warehouse-only option and the warehouses that accept it.

    Returns
    -------
    dict of str to tuple of Warehouse
        E.g. ``{"credentials": (<bigquery>,), "max_bytes_billed": (<bigquery>,), ...}``.
    """
    owners: dict[str, tuple[Warehouse, ...]] = {}
    for warehouse in WAREHOUSES:
        for option in option_specs(warehouse.options):
            owners[option] = (*owners.get(option, ()), warehouse)
    return owners


def command_line_options() -> dict[str, WarehouseOption]:
    """The warehouse-only options that have a command-line flag, by Python name.

    Returns
    -------
    dict of str to WarehouseOption
        In registry order; where two warehouses declare one name, the first entry's
        flag and help are kept.
    """
    found: dict[str, WarehouseOption] = {}
    for warehouse in WAREHOUSES:
        for name, spec in option_specs(warehouse.options).items():
            if spec.flag is not None:
                found.setdefault(name, spec)
    return found


def supported_warehouses() -> str:
    """``"duckdb:///file.duckdb, bigquery://PROJECT[/DATASET] or a SQLAlchemy URL ..."``.

    The URL spellings of the registered warehouses, for messages that say what to write.
    """
    examples = [w.example for w in WAREHOUSES if w.example]
    if len(examples) == 1:
        return examples[0]
    return ", ".join(examples[:-1]) + " or " + examples[-1]


def _unclaimed(url: str) -> str:
    masked = mask_url(url)
    scheme = url_scheme(url)
    if scheme:
        return f"unknown warehouse scheme {scheme!r} in {masked!r}; use {supported_warehouses()}"
    lowered = url.lower()
    for warehouse in WAREHOUSES:
        if warehouse.file_hint and lowered.endswith(warehouse.file_suffixes):
            hint = warehouse.file_hint.format(path=masked)
            return f"warehouse {masked!r} has no scheme; {hint}"
    return f"warehouse {masked!r} has no scheme; use {supported_warehouses()}"
