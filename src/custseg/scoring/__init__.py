"""Inference: the one path from rows to segments, batch files, SQL export, drift.

::

    Scorer(model)                             check rows -> prepare -> assign, per chunk
    score_customers(model, frame) -> ScoreResult (scored + rejects)
    score_file(model, input, out)             streamed; every row scored or rejected
    export_sql(model, dialect=..., table=...) one query that scores inside the warehouse
    export_sql_from_transactions(model, ...)  the same from the raw transaction lines
    check_drift(model, frame) -> dict         PSI per feature and over the segment shares
    compare_scored(old, new) -> Migration     customers moving between segments

The package imports its modules on first use, so that the command line can read the
list of SQL dialects without loading numpy and pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._utils.lazy import lazy_exports

if TYPE_CHECKING:
    from .batch import (
        DEFAULT_CHUNK_SIZE,
        ScoreResult,
        ScoreSummary,
        default_rejects_path,
        score_customers,
        score_file,
    )
    from .dialects import DIALECTS
    from .drift import check_drift
    from .migration import Migration, compare_scored, compare_scored_files
    from .scorer import REJECT_REASON_COLUMN, REJECT_ROW_COLUMN, SCORE_COLUMNS, Scorer
    from .sqlexport import export_sql, export_sql_from_transactions

_EXPORTS = {
    "Scorer": "scorer",
    "SCORE_COLUMNS": "scorer",
    "REJECT_ROW_COLUMN": "scorer",
    "REJECT_REASON_COLUMN": "scorer",
    "ScoreResult": "batch",
    "ScoreSummary": "batch",
    "DEFAULT_CHUNK_SIZE": "batch",
    "default_rejects_path": "batch",
    "score_customers": "batch",
    "score_file": "batch",
    "DIALECTS": "dialects",
    "export_sql": "sqlexport",
    "export_sql_from_transactions": "sqlexport",
    "check_drift": "drift",
    "Migration": "migration",
    "compare_scored": "migration",
    "compare_scored_files": "migration",
}
__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DIALECTS",
    "REJECT_REASON_COLUMN",
    "REJECT_ROW_COLUMN",
    "SCORE_COLUMNS",
    "Migration",
    "ScoreResult",
    "ScoreSummary",
    "Scorer",
    "check_drift",
    "compare_scored",
    "compare_scored_files",
    "default_rejects_path",
    "export_sql",
    "export_sql_from_transactions",
    "score_customers",
    "score_file",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
