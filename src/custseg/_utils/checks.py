"""The input checks of public functions, with one wording for each kind of mistake.

A public function checks its arguments with these before it computes (private helpers
then trust them). Every message quotes the offending value and names the fix::

    k=0 should be an integer >= 1
    max_depth=7 should be an integer from 1 to 5; rules deeper than 5 conditions are not readable
    max_columns=0 (--max-columns) should be an integer >= 1; e.g. 5000, or None for no limit
    frame should be a pandas DataFrame, got list; read the table with custseg.read_table first

``True`` is an ``int`` to Python but never a count, a size or a seed here: the
predicates :func:`is_int` and :func:`is_number` refuse booleans, so that no caller
writes ``isinstance(x, bool) or not isinstance(x, int)`` by hand. numpy's integer and
float scalars are accepted (they register as :mod:`numbers` types).
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigError, DataError
from .lazy import lazy_module
from .text import plain

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["check_frame", "check_int", "is_int", "is_number"]

#: What to do when a table is not a DataFrame, unless the caller knows better.
READ_FIRST = "read the table with custseg.read_table (or pandas) first"


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy), booleans excluded."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any, *, finite: bool = True) -> bool:
    """Whether ``value`` is a real number (int, float or numpy), booleans excluded.

    ``finite=True`` also refuses NaN and infinities.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    return not finite or math.isfinite(value)


def check_int(
    value: Any,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    option: str | None = None,
    hint: str | None = None,
) -> int:
    """Return ``value`` as an ``int`` if it is an integer within the bounds.

    Parameters
    ----------
    value : object
        The argument to check.
    name : str
        The parameter's name, quoted in the message (``k=0 should be ...``).
    minimum, maximum : int or None, default=None
        Inclusive bounds; ``None`` for none.
    option : str or None, default=None
        The command-line option that sets the parameter (``"--max-columns"``), named
        in the message after the value.
    hint : str or None, default=None
        The fix, appended after ``"; "`` (``"e.g. 100000"``).

    Returns
    -------
    int

    Raises
    ------
    ConfigError
        ``k=0 should be an integer >= 1``, with the option and the hint when given.
    """
    if (
        is_int(value)
        and (minimum is None or value >= minimum)
        and (maximum is None or value <= maximum)
    ):
        return int(value)
    if minimum is not None and maximum is not None:
        wanted = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
        wanted = f"an integer >= {minimum}"
    elif maximum is not None:
        wanted = f"an integer <= {maximum}"
    else:
        wanted = "an integer"
    where = f" ({option})" if option else ""
    fix = f"; {hint}" if hint else ""
    raise ConfigError(f"{name}={plain(value)!r}{where} should be {wanted}{fix}")


def check_frame(value: Any, name: str = "frame", *, hint: str = READ_FIRST) -> pd.DataFrame:
    """Return ``value`` if it is a pandas DataFrame.

    Parameters
    ----------
    value : object
        The argument to check.
    name : str, default="frame"
        The parameter's name, quoted in the message.
    hint : str, default=READ_FIRST
        The fix, appended after ``"; "``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        ``frame should be a pandas DataFrame, got list; read the table with ...``.
    """
    if not isinstance(value, pd.DataFrame):
        raise DataError(f"{name} should be a pandas DataFrame, got {type(value).__name__}; {hint}")
    return value
