"""Preparation: column roles, row checks, domain recipes and the preparation plan.

::

    infer_schema(frame) -> TableSchema        roles: id, numeric, categorical, date, ignored
    check_rows(frame, schema) -> RowCheck     coerced columns + per-row rejection reasons
    PreparationPlan.fit(rows, schema, config) impute, skew, scale, one-hot, PCA (plain data)
    plan.transform(rows) -> X                 the matrix K-means clusters
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._utils.lazy import lazy_exports

if TYPE_CHECKING:
    from .plan import PreparationPlan
    from .recipes import CREDIT_CARD_RECIPE, DomainFeature
    from .reference import reference_statistics
    from .roles import infer_schema
    from .rows import RowCheck, check_rows
    from .schema import (
        MAX_ABS_VALUE,
        MISSING_TOKENS,
        ColumnInfo,
        Role,
        TableSchema,
        clean_column_name,
    )

# Submodules load on first use: scoring a file needs the plan and the schema, not the
# role inference (and the pandas it needs).
_EXPORTS = {
    "PreparationPlan": "plan",
    "CREDIT_CARD_RECIPE": "recipes",
    "DomainFeature": "recipes",
    "reference_statistics": "reference",
    "infer_schema": "roles",
    "RowCheck": "rows",
    "check_rows": "rows",
    "MAX_ABS_VALUE": "schema",
    "MISSING_TOKENS": "schema",
    "ColumnInfo": "schema",
    "Role": "schema",
    "TableSchema": "schema",
    "clean_column_name": "schema",
}
__all__ = [
    "CREDIT_CARD_RECIPE",
    "ColumnInfo",
    "DomainFeature",
    "MAX_ABS_VALUE",
    "MISSING_TOKENS",
    "PreparationPlan",
    "Role",
    "RowCheck",
    "TableSchema",
    "check_rows",
    "clean_column_name",
    "infer_schema",
    "reference_statistics",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
