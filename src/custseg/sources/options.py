"""How wide a table may be: at most ``max_columns`` columns.

Kept apart from :mod:`custseg.sources.files` so that a command can check its options
before it imports pandas or a warehouse driver. Which data options go together is
:class:`custseg.sources.DataSource`'s check.
"""

from __future__ import annotations

from .._utils.checks import check_int
from ..config import DEFAULT_MAX_COLUMNS
from ..exceptions import SourceError

__all__ = ["DEFAULT_MAX_COLUMNS", "check_max_columns", "check_width"]


def check_max_columns(max_columns: int | None) -> int | None:
    """Check a column limit: a positive integer, or ``None`` for no limit.

    Raises
    ------
    ConfigError
        Anything else; the message names the option.
    """
    if max_columns is None:
        return None
    hint = f"e.g. {DEFAULT_MAX_COLUMNS}, or None for no limit"
    return check_int(max_columns, "max_columns", minimum=1, option="--max-columns", hint=hint)


def check_width(n_columns: int, max_columns: int | None, where: str) -> None:
    """Refuse a table of ``n_columns`` columns when it exceeds ``max_columns``.

    Called on a file's header or schema, before its rows are read: a table of 100,000
    columns would otherwise cost gigabytes in per-column work however few rows it has.

    Parameters
    ----------
    n_columns : int
        Columns of the table.
    max_columns : int or None
        The limit (already checked with :func:`check_max_columns`); ``None``: no limit.
    where : str
        The table, as the message names it (a path, "the query result").

    Raises
    ------
    SourceError
        One line: the width, the limit and how to raise it.
    """
    if max_columns is None or n_columns <= max_columns:
        return
    raise SourceError(
        f"{where} has {n_columns:,} columns, more than the limit of {max_columns:,}; keep fewer"
        f" columns (select them in the query or save a narrower file) or raise the limit:"
        f" --max-columns {n_columns} (max_columns={n_columns} in Python or in the [fit]"
        " section of a configuration file)"
    )
