"""Transactions to customers: behavioural features rolled up in SQL where the data lives.

``build_features(source, recipe="auto", ...)`` reads transaction lines (a CSV or
Parquet file through DuckDB, or a query on a warehouse), chooses a recipe from the
columns (``retail``: recency, frequency, spend...; ``card``: the 17 columns of the
bundled sample) and returns one row per customer with the SQL that computed it and
the count of every row left out. ``features_sql`` renders the same query for another
dialect; ``write_features`` saves the table beside its manifest. See
docs/transactions.md. Imported lazily: the command line's ``--help`` loads no pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._utils.lazy import lazy_exports

if TYPE_CHECKING:
    from .build import FeatureResult, build_features, features_sql, parse_window
    from .dialects import FEATURE_DIALECTS
    from .output import write_features
    from .recipe import shipped_recipes

_EXPORTS = {
    "FEATURE_DIALECTS": "dialects",
    "FeatureResult": "build",
    "build_features": "build",
    "features_sql": "build",
    "parse_window": "build",
    "shipped_recipes": "recipe",
    "write_features": "output",
}

__all__ = [
    "FEATURE_DIALECTS",
    "FeatureResult",
    "build_features",
    "features_sql",
    "parse_window",
    "shipped_recipes",
    "write_features",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
