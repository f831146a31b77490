"""Which data options go together, and how wide a table may be.

Exactly one source, warehouse options only with a query (:func:`check_data_options`);
at most ``max_columns`` columns (:func:`check_width`). Kept apart from
:mod:`custseg.sources.loading` so that a command can check its options before it
imports pandas or a warehouse driver.
"""

from __future__ import annotations

import os

from .._utils.checks import check_int
from .._utils.masking import mask_url
from ..config import DEFAULT_MAX_COLUMNS
from ..exceptions import ConfigError, SourceError

__all__ = ["DEFAULT_MAX_COLUMNS", "check_data_options", "check_max_columns", "check_width"]

_CHOICES = "input='customers.csv' (--input) or sql='SELECT ...' (--sql)"


def check_data_options(
    *,
    input: str | os.PathLike[str] | None = None,
    sql: str | None = None,
    warehouse: str | None = None,
    credentials: str | os.PathLike[str] | None = None,
    max_bytes_billed: int | str | None = None,
) -> None:
    """Check that exactly one source is given, and warehouse options only with a query.

    The same rule holds for :func:`load_data` and for the command line's ``--input``,
    ``--sql``, ``--warehouse``, ``--credentials`` and ``--max-bytes-billed``, so its
    messages name the Python parameter and the option in parentheses:
    ``warehouse='sqlite:///x.db' (--warehouse) applies to sql queries (--sql) only``.

    Parameters
    ----------
    input : path-like, optional
        CSV or Parquet file.
    sql : str, optional
        Query.
    warehouse : str, optional
        Where ``sql`` runs.
    credentials : path-like, optional
        BigQuery key file.
    max_bytes_billed : int or str, optional
        BigQuery byte limit (the command line checks its text before parsing it).

    Raises
    ------
    ConfigError
        Both or neither of ``input`` and ``sql``, or a warehouse option with ``input``;
        the message names what to drop or to add.
    """
    if input is None and sql is None:
        raise ConfigError(f"neither input nor sql given; give exactly one: {_CHOICES}")
    if input is not None and sql is not None:
        raise ConfigError(f"both input and sql given; give only one: {_CHOICES}")
    if input is None:
        return
    for name, value in (
        ("warehouse", warehouse),
        ("credentials", credentials),
        ("max_bytes_billed", max_bytes_billed),
    ):
        if value is not None:
            flag = "--" + name.replace("_", "-")
            shown = os.fspath(value) if isinstance(value, os.PathLike) else value
            if name == "warehouse" and isinstance(shown, str):
                shown = mask_url(shown)
            raise ConfigError(
                f"{name}={shown!r} ({flag}) applies to sql queries (--sql) only, not to "
                f"input={str(input)!r} (--input); leave it out"
            )


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
