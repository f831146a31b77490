"""What a warehouse declares: the :class:`Warehouse` entry and its own options.

Each warehouse module (``duckdb``, ``bigquery``, ``sqlalchemy_url``) builds its
entries from these types, and :mod:`custseg.sources.registry` lists the entries. A
warehouse with options of its own declares them as a frozen dataclass whose fields
are made by :func:`warehouse_option`; :class:`custseg.sources.DataSource` checks them
and the command line offers those with a flag (``--max-bytes-billed``).

Cheap to import: the command line reads the declarations when it starts, long before
a query runs, so no warehouse driver, pandas or Arrow is imported here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .._utils.masking import mask_url

if TYPE_CHECKING:
    import pyarrow as pa

    from .._utils.progress import Progress

__all__ = [
    "Notify",
    "QueryResult",
    "QueryRunner",
    "Warehouse",
    "WarehouseOption",
    "option_specs",
    "warehouse_option",
]


@dataclass(frozen=True)
class QueryResult:
    """What a warehouse returns for a query.

    Attributes
    ----------
    table : pyarrow.Table
        The rows, as the warehouse typed them.
    bytes_processed : int or None, default None
        Bytes the warehouse reports having processed (BigQuery), else ``None``.
    """

    table: pa.Table
    bytes_processed: int | None = None


Notify = Callable[[str], None]
"""Receives one-line messages meant for the user before long work."""


class QueryRunner(Protocol):
    """``run(sql, url, options, progress, notify) -> QueryResult``.

    ``url`` is the warehouse URL as the user gave it (``None`` for the embedded
    warehouse); ``options`` is the entry's options object, already checked (``None``
    for a warehouse without options).
    """

    def __call__(
        self, sql: str, url: str | None, options: Any, progress: Progress, notify: Notify | None
    ) -> QueryResult: ...


@dataclass(frozen=True)
class WarehouseOption:
    """How one warehouse-only option is given and checked.

    Attributes
    ----------
    flag : str or None
        The command-line option (``"--max-bytes-billed"``); ``None``: Python only.
    help : str
        The command line's help text.
    check : callable
        ``(value as given) -> value``: the value for the options object, from a Python
        value or from the command line's text; raises ``ValueError`` whose message
        completes ``"<name>=<value> (<flag>) "`` with what is wrong and how to fix it.
    secret : bool
        Whether the value is a secret, masked in everything the command line prints.
    text : type
        What the command line hands to ``check``: ``str`` or ``pathlib.Path``.
    """

    flag: str | None
    help: str
    check: Callable[[Any], Any]
    secret: bool = False
    text: type = str


def _as_given(value: Any) -> Any:
    return value


def warehouse_option(
    flag: str | None = None,
    *,
    help: str = "",
    check: Callable[[Any], Any] = _as_given,
    secret: bool = False,
    text: type = str,
) -> Any:
    """A field of a warehouse's options dataclass, ``None`` by default.

    Parameters
    ----------
    flag : str, optional
        The command-line option; without one the option is for Python callers only.
    help : str, default ""
        The command line's help text.
    check : callable, optional
        See :class:`WarehouseOption`; default: the value as given.
    secret : bool, default False
        Mask the value in everything the command line prints.
    text : type, default str
        The type of the command line's value (``pathlib.Path`` for a file).

    Returns
    -------
    dataclasses.Field
        For a class body: ``max_bytes_billed: int | None = warehouse_option(...)``.
    """
    spec = WarehouseOption(flag=flag, help=help, check=check, secret=secret, text=text)
    return dataclasses.field(default=None, metadata={"custseg": spec})


def option_specs(options: type | None) -> dict[str, WarehouseOption]:
    """The options a warehouse's options dataclass declares, by Python name."""
    if options is None:
        return {}
    return {
        field.name: field.metadata.get("custseg") or WarehouseOption(None, "", _as_given)
        for field in dataclasses.fields(options)
    }


def _masked(url: str | None) -> str:
    return mask_url(str(url))


@dataclass(frozen=True)
class Warehouse:
    """One registered warehouse.

    Attributes
    ----------
    kind : str
        Stored as the snapshot manifest's ``source_kind`` and as
        :attr:`custseg.sources.Extract.source_kind` (``"duckdb"``, ``"bigquery"``...).
    label : str
        How messages name the warehouse: ``"bigquery://"`` in "applies to bigquery://
        warehouses only".
    claims : callable
        ``(url or None) -> bool``: whether this entry runs queries for the URL.
    run : QueryRunner
        Runs a query and returns its rows as Arrow.
    describe : callable, default mask_url
        ``(url or None) -> str``: the URL without passwords or secrets, safe to print
        and to store in manifests and models.
    example : str or None, default None
        How to write a URL of this warehouse, listed when no entry claims a URL.
    options : type or None, default None
        The frozen dataclass of the warehouse's own options, its fields made by
        :func:`warehouse_option`; any other warehouse refuses them.
    file_suffixes : tuple of str, default ()
        File names a user may give instead of a URL of this warehouse...
    file_hint : str, default ""
        ...and what to write instead, with ``{path}`` standing for the file name.
    """

    kind: str
    label: str
    claims: Callable[[str | None], bool]
    run: QueryRunner
    describe: Callable[[str | None], str] = _masked
    example: str | None = None
    options: type | None = None
    file_suffixes: tuple[str, ...] = ()
    file_hint: str = ""
