"""Roll-up options shared by the commands that read transactions (features, fit, score, drift).

A command takes them with :func:`rollup_options` and receives them in its ``rollup``
parameter as the keyword arguments of :func:`custseg.features.build_features` that were
given (``{"window": "6M", "customer": "CustomerID"}``)::

    @app.command("fit")
    @data_source_options()
    @rollup_options()
    def fit(source: DataSource, rollup: dict[str, Any], transactions: bool = False): ...

``custseg features`` always rolls up; ``fit``, ``score`` and ``drift`` roll up with
``--transactions`` (and then a model fitted from transactions supplies the options the
user leaves out). The options stand together in the help's "Transactions" panel.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._common import gathered_options

if TYPE_CHECKING:
    import pandas as pd

    from ..sources.datasource import DataSource

__all__ = [
    "ROLLUP_OPTIONS",
    "check_rollup_given",
    "lines_hint",
    "replay",
    "roll_up",
    "rollup_options",
]

_PANEL = "Transactions (roll-up to one row per customer)"

ROLLUP_OPTIONS: dict[str, tuple[str, str]] = {
    "recipe": ("--recipe", "auto (chosen from the columns), retail or card."),
    "as_of": (
        "--as-of",
        "Date the window ends (not included), YYYY-MM-DD. Default: the day after the last"
        " transaction.",
    ),
    "window": ("--window", "Months before the as-of date, e.g. 6M. Default: all history."),
    "date_format": (
        "--date-format",
        "How text dates read, e.g. '%d/%m/%Y %H:%M', or iso. Default: detected, day-first or"
        " month-first proven by the data.",
    ),
    "statements": (
        "--statements",
        "Card recipe: statements file (or query, with --sql) with balance, minimum due, paid"
        " in full.",
    ),
    "accounts": (
        "--accounts",
        "Card recipe: accounts file (or query, with --sql) with credit limit and open date.",
    ),
    "customer": ("--customer", "Customer id column."),
    "time": ("--time", "Transaction time column."),
    "amount": ("--amount", "Amount column (else quantity x unit price)."),
    "quantity": ("--quantity", "Quantity column (negative: a return)."),
    "unit_price": ("--unit-price", "Unit price column."),
    "kind": ("--kind", "Transaction type column (card: purchase, cash advance...)."),
    "invoice": ("--invoice", "Invoice or order column ('C...': a cancellation)."),
    "product": ("--product", "Product column."),
    "category": ("--category", "Category, channel or country column (spend shares)."),
}
"""Keyword of :func:`custseg.features.build_features` -> (flag, help)."""


def _parameters() -> list[inspect.Parameter]:
    keyword = inspect.Parameter.KEYWORD_ONLY
    return [
        inspect.Parameter(
            name,
            keyword,
            default=None,
            annotation=Annotated[
                str | None,
                typer.Option(flag, help=text, show_default=False, rich_help_panel=_PANEL),
            ],
        )
        for name, (flag, text) in ROLLUP_OPTIONS.items()
    ]


def rollup_options() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the roll-up options, gathered in its ``rollup`` parameter.

    Returns
    -------
    callable
        The decorator, placed under ``@app.command(...)`` (and under
        ``@data_source_options()`` when both are used). ``rollup`` receives a dict of
        the options given (``None`` values left out).
    """

    def gather(**given: Any) -> dict[str, Any]:
        return {name: value for name, value in given.items() if value is not None}

    return gathered_options("rollup", _parameters(), gather)


def check_rollup_given(rollup: dict[str, Any], transactions: bool) -> None:
    """Refuse roll-up options without ``--transactions`` (they would be ignored)."""
    if rollup and not transactions:
        from ..exceptions import ConfigError

        flag = ROLLUP_OPTIONS[next(iter(rollup))][0]
        raise ConfigError(
            f"{flag} applies to transaction lines; add --transactions or leave {flag} out"
        )


def roll_up(source: DataSource, rollup: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The customers of ``source``'s transaction lines and the record a model keeps.

    The roll-up's lines (recipe, window, dates read, rows left out) are shown as
    ``custseg features`` shows them.
    """
    from ..features import build_features
    from ..features.replay import rollup_record
    from ._common import info, rich_progress

    with rich_progress() as progress:
        result = build_features(source, progress=progress, **rollup)
    for line in result.describe():
        info(line)
    return result.frame, rollup_record(result, rollup)


def replay(
    source: DataSource, record: dict[str, Any] | None, rollup: dict[str, Any]
) -> pd.DataFrame:
    """The customers of new transaction lines, rolled up as the model's training lines.

    Raises
    ------
    ConfigError
        If the model was not fitted from transactions.
    """
    from ..exceptions import ConfigError
    from ..features.replay import replay_rollup
    from ._common import info, rich_progress

    if record is None:
        raise ConfigError(
            "--transactions needs a model fitted from transactions (custseg fit"
            " --transactions); roll the lines up with custseg features first, with the"
            " options the model's customers were built with"
        )
    with rich_progress() as progress:
        result = replay_rollup(source, record, progress=progress, **rollup)
    for line in result.describe():
        info(line)
    return result.frame


@contextlib.contextmanager
def lines_hint(record: dict[str, Any] | None, transactions: bool) -> Iterator[None]:
    """A model fitted from transactions, given lines without ``--transactions``: say so."""
    from ..exceptions import SchemaError

    try:
        yield
    except SchemaError as exc:
        if record is None or transactions:
            raise
        raise SchemaError(
            f"{exc}; the model was fitted from transaction lines ({record.get('recipe')}"
            " recipe): add --transactions to roll these lines up as its training lines were"
        ) from exc
