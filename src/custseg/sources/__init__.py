"""Data sources: run SQL on a warehouse or read a file, and get a pandas DataFrame.

The warehouse is chosen by the scheme of a URL, among the entries registered in
:data:`custseg.sources.registry.WAREHOUSES`:

- ``None``: the embedded DuckDB warehouse, where the bundled sample is the table
  ``credit_card_customers``;
- ``duckdb:///path/file.duckdb``: the user's DuckDB file, read-only;
- ``bigquery://PROJECT[/DATASET][?location=EU]``: Google BigQuery, with a dry run and
  an optional byte limit;
- any other SQLAlchemy URL (``sqlite:///file.db``, ``postgresql://user@host/db``...).

Every source goes through Arrow and the same type rules (ids as text, numbers as
``float64``), so a query, its snapshot and a file read back alike.

Modules: :mod:`~custseg.sources.query` (:func:`extract`),
:mod:`~custseg.sources.datasource` (:class:`DataSource`: a file, or a query on a
warehouse with its own options, checked once), :mod:`~custseg.sources.loading`
(:func:`load_data`, :func:`describe_source`),
:mod:`~custseg.sources.registry` (the warehouses), one module per warehouse
(:mod:`~custseg.sources.duckdb`, :mod:`~custseg.sources.bigquery`,
:mod:`~custseg.sources.sqlalchemy_url`), :mod:`~custseg.sources.files` (CSV and
Parquet) and :mod:`~custseg.sources.snapshot` (snapshots and their manifests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._utils.lazy import lazy_exports

if TYPE_CHECKING:
    from ._frames import is_id_like
    from ._urls import mask_url
    from .datasource import DataSource
    from .duckdb import SAMPLE_TABLE, sample_path
    from .files import file_format, iter_table, read_table, table_row_count
    from .loading import describe_source, load_data
    from .query import Extract, SourceKind, describe_warehouse, extract
    from .registry import WAREHOUSES, Warehouse
    from .snapshot import manifest_path, save_snapshot, verify_snapshot

# Submodules load on first use: reading a file needs neither DuckDB nor the drivers of
# the other warehouses.
_EXPORTS = {
    "is_id_like": "_frames",
    "mask_url": "_urls",
    "SAMPLE_TABLE": "duckdb",
    "sample_path": "duckdb",
    "file_format": "files",
    "iter_table": "files",
    "read_table": "files",
    "table_row_count": "files",
    "DataSource": "datasource",
    "describe_source": "loading",
    "load_data": "loading",
    "Extract": "query",
    "SourceKind": "query",
    "describe_warehouse": "query",
    "extract": "query",
    "WAREHOUSES": "registry",
    "Warehouse": "registry",
    "manifest_path": "snapshot",
    "save_snapshot": "snapshot",
    "verify_snapshot": "snapshot",
}
__all__ = [
    "Extract",
    "SourceKind",
    "SAMPLE_TABLE",
    "WAREHOUSES",
    "Warehouse",
    "extract",
    "load_data",
    "DataSource",
    "describe_source",
    "describe_warehouse",
    "read_table",
    "iter_table",
    "table_row_count",
    "file_format",
    "save_snapshot",
    "verify_snapshot",
    "manifest_path",
    "sample_path",
    "is_id_like",
    "mask_url",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
