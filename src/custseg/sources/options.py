"""Which data options go together: exactly one source, warehouse options only with a query.

Kept apart from :mod:`custseg.sources.loading` so that a command can check its options
before it imports pandas or a warehouse driver.
"""

from __future__ import annotations

import os

from .._utils.masking import mask_url
from ..exceptions import ConfigError

__all__ = ["check_data_options"]

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
