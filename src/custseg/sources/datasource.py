"""Where a table comes from: a file, or a query on a warehouse with its own options.

A :class:`DataSource` is built and checked once, where the user's options arrive (the
command line, a Python call), and then travels whole: :func:`~custseg.sources.load_data`,
:func:`~custseg.sources.extract` and :func:`~custseg.sources.describe_source` read it
without checking it again. Cheap to import: no pandas, Arrow or warehouse driver.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .._utils.masking import mask_url, url_secrets
from .._utils.text import plain
from ..exceptions import ConfigError
from ._warehouse import Warehouse, WarehouseOption, option_specs
from .duckdb import SAMPLE_TABLE
from .registry import find_warehouse, warehouse_options

__all__ = ["DataSource"]

_CHOICES = "input='customers.csv' (--input) or sql='SELECT ...' (--sql)"


@dataclass(frozen=True, init=False, repr=False)
class DataSource:
    """A customer table to read: a CSV or Parquet file, or a query on a warehouse.

    Give exactly one of ``input`` and ``sql``; the warehouse and its options go with
    ``sql`` only. Every check runs here, once: the options a warehouse declares (see
    :data:`custseg.sources.registry.WAREHOUSES`) are refused for any other warehouse
    and converted (``max_bytes_billed="10GB"`` becomes ``10_000_000_000``).

    Parameters
    ----------
    input : path-like, optional
        CSV or Parquet file (or, for the Spark engines, a dataset or table name).
    sql : str, optional
        Query to run on ``warehouse``.
    warehouse : str, optional
        Where ``sql`` runs: ``None`` (the embedded DuckDB with the bundled sample as
        ``credit_card_customers``), ``duckdb:///file.duckdb``,
        ``bigquery://PROJECT[/DATASET]`` or a SQLAlchemy URL (``sqlite:///file.db``).
    query_file : path-like, optional
        The file ``sql`` was read from (``--sql @query.sql``), recorded by name.
    **options
        The warehouse's own options, e.g. BigQuery's ``credentials``,
        ``max_bytes_billed`` and ``client_factory``
        (:class:`~custseg.sources.bigquery.BigQueryOptions`).

    Attributes
    ----------
    input : pathlib.Path or None
    sql : str or None
    warehouse : str or None
        The URL as given (it may hold a password: print :meth:`describe` instead).
    options : object or None
        The warehouse's options object (``BigQueryOptions(...)``); ``None`` for a file
        or a warehouse without options.
    query_file : pathlib.Path or None
    entry : Warehouse or None
        The registered warehouse that runs ``sql``; ``None`` for a file.

    Raises
    ------
    ConfigError
        Both or neither of ``input`` and ``sql``, a warehouse or warehouse option with
        ``input``, an empty query, an unknown warehouse, an option of another
        warehouse, or an option value that does not check; one line naming the value,
        its command-line option and the fix.

    Examples
    --------
    >>> DataSource(input="customers.csv").describe()
    'customers.csv'
    >>> DataSource(sql="SELECT 1", warehouse="bigquery://p", max_bytes_billed="1GB").options
    BigQueryOptions(credentials=None, max_bytes_billed=1000000000, client_factory=None)
    """

    input: Path | None
    sql: str | None
    warehouse: str | None
    options: Any
    query_file: Path | None
    entry: Warehouse | None = field(compare=False)

    def __init__(
        self,
        input: str | os.PathLike[str] | None = None,
        sql: str | None = None,
        warehouse: str | None = None,
        *,
        query_file: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> None:
        given = {name: value for name, value in options.items() if value is not None}
        _check_names(given)
        if input is None and sql is None:
            raise ConfigError(f"neither input nor sql given; give exactly one: {_CHOICES}")
        if input is not None and sql is not None:
            raise ConfigError(f"both input and sql given; give only one: {_CHOICES}")
        entry, checked = None, None
        if input is not None:
            _check_file_only(input, warehouse, query_file, given)
        else:
            entry, checked = _check_query(sql, warehouse, given)
        values = {
            "input": None if input is None else Path(input),
            "sql": sql,
            "warehouse": warehouse,
            "options": checked,
            "query_file": None if query_file is None else Path(query_file),
            "entry": entry,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def kind(self) -> str:
        """``"file"``, or the ``kind`` of the warehouse (``"duckdb"``, ``"bigquery"``...)."""
        return "file" if self.entry is None else self.entry.kind

    def describe(self) -> str:
        """The file, or the warehouse without passwords or secrets (safe to print and store)."""
        if self.entry is None:
            return str(self.input)
        return self.entry.describe(self.warehouse)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secrets this source holds (the URL's password, secret options), longest first.

        For everything that prints: a driver's message may repeat them.
        """
        found = list(url_secrets(self.warehouse)) if self.warehouse else []
        specs = option_specs(self.entry.options if self.entry is not None else None)
        for name, spec in specs.items():
            value = getattr(self.options, name, None)
            if spec.secret and value is not None:
                found.append(os.fspath(value) if isinstance(value, os.PathLike) else str(value))
        return tuple(sorted(set(found), key=lambda s: (-len(s), s)))

    def __repr__(self) -> str:
        if self.entry is None:
            return f"DataSource(input={str(self.input)!r})"
        return f"DataSource(sql={self.sql!r}, warehouse={self.describe()!r})"


def _check_names(given: dict[str, Any]) -> None:
    known = warehouse_options()
    for name, value in given.items():
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise ConfigError(
                f"{name}={plain(value)!r} is an option of no registered warehouse; leave it out"
                f" (warehouse options: {listed})"
            )


def _declared(name: str) -> WarehouseOption:
    """How the command line offers an option (its first flag) and whether any owner hides it."""
    specs = [option_specs(owner.options)[name] for owner in warehouse_options()[name]]
    first = next((spec for spec in specs if spec.flag), specs[0])
    return replace(first, secret=any(spec.secret for spec in specs))


def _shown(name: str, value: Any) -> str:
    """``max_bytes_billed='10GB' (--max-bytes-billed)``: a value as messages quote it."""
    spec = _declared(name)
    shown = os.fspath(value) if isinstance(value, os.PathLike) else value
    text = f"{name}={'***' if spec.secret else plain(shown)!r}"
    return text + (f" ({spec.flag})" if spec.flag else "")


def _check_file_only(input: Any, warehouse: Any, query_file: Any, given: dict[str, Any]) -> None:
    """Refuse what goes with a query only: the warehouse, its options, a query file."""
    if not isinstance(input, str | os.PathLike):
        raise ConfigError(
            f"input={plain(input)!r} should be the path of a CSV or Parquet file, e.g."
            " input='customers.csv' (--input)"
        )
    shown = [_shown(name, value) for name, value in given.items()]
    if query_file is not None:
        shown.insert(0, f"query_file={os.fspath(query_file)!r} (--sql @file.sql)")
    if warehouse is not None:
        url = mask_url(warehouse) if isinstance(warehouse, str) else plain(warehouse)
        shown.insert(0, f"warehouse={url!r} (--warehouse)")
    if shown:
        raise ConfigError(
            f"{shown[0]} applies to sql queries (--sql) only, not to "
            f"input={os.fspath(input)!r} (--input); leave it out"
        )


def _check_query(sql: Any, warehouse: Any, given: dict[str, Any]) -> tuple[Warehouse, Any]:
    """The warehouse entry of a query and its checked options object."""
    if not isinstance(sql, str) or not sql.strip():
        raise ConfigError(
            f"sql={sql!r} should be a query, e.g. SELECT * FROM {SAMPLE_TABLE} WHERE TENURE = 12"
        )
    if warehouse is not None and not isinstance(warehouse, str):
        raise ConfigError(f"warehouse={plain(warehouse)!r} should be a URL string or None")
    entry = find_warehouse(warehouse)
    specs = option_specs(entry.options)
    checked: dict[str, Any] = {}
    for name, value in given.items():
        if name not in specs:
            owners = " and ".join(owner.label for owner in warehouse_options()[name])
            raise ConfigError(
                f"{_shown(name, value)} applies to {owners} warehouses only, not to "
                f"{entry.describe(warehouse)}; leave it out"
            )
        try:
            checked[name] = specs[name].check(value)
        except ValueError as exc:
            raise ConfigError(f"{_shown(name, value)} {exc}") from None
    return entry, None if entry.options is None else entry.options(**checked)
