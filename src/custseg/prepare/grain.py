"""One row per customer? Telling a customer table from transaction lines.

Segmenting invoice lines as if they were customers is the worst silent failure a
segmentation tool can have: "30,000 customers in 2 segments" for 30,000 lines of
3,500 customers. :func:`check_customer_rows` stops a fit (or a scoring) on such a table
and says how to roll the lines up to customers first.

A table holds transactions, not customers, when either

1. its customer column repeats: a column named like a customer key (``CustomerID``,
   ``cust_id``, ``client_no``, ``card_number``, ``CLIENTNUM``; or the ``id_column``
   the user gave) whose values repeat on at least :data:`REPEATED_SHARE` of its rows
   (fewer repeats are a customer table with duplicated rows, which the identifier
   checks of :mod:`custseg.prepare.roles` report as such); or
2. it has no such column but looks like transactions: a date or time column together
   with an order-like key that repeats (``InvoiceNo``, ``order_id``,
   ``transaction_id``: several lines per order) or with a quantity and a price or
   amount column (``Quantity`` beside ``UnitPrice``).

Counts (``Quantity``, ``PURCHASES_TRX``) and amounts alone never make a table
transactions: customer tables carry them as aggregates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from .._utils.lazy import lazy_module
from ..exceptions import TransactionsError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "REPEATED_SHARE",
    "CountDistinct",
    "RowsEvidence",
    "check_customer_rows",
    "refuse_transactions",
    "repeated_key",
    "transactions_evidence",
]

CountDistinct = Callable[[str], tuple[int, int]]
"""Rows with a value and distinct values of a column over a whole table (Spark)."""

REPEATED_SHARE = 0.1
"""Share of rows repeating an earlier customer key from which a table is transactions."""

_CUSTOMER_WORDS = ("cust", "customer", "client", "account", "acct", "card", "member", "user")
_KEY_ENDINGS = ("id", "no", "nr", "num", "number", "key", "code")
_ORDER_WORDS = frozenset(
    {"invoice", "order", "transaction", "txn", "receipt", "basket", "ticket", "trans"}
)
_TIME_WORDS = frozenset({"date", "time", "timestamp", "datetime", "ts", "dt", "day"})
_QUANTITY_WORDS = frozenset({"quantity", "qty", "units"})
_PRICE_WORDS = frozenset({"price", "amount", "amt", "value", "total", "cost"})


@dataclass(frozen=True)
class RowsEvidence:
    """Why a table looks like transactions.

    Attributes
    ----------
    n_rows : int
        Rows examined.
    customer_column : str or None
        The repeating customer column, ``None`` when the table has none.
    n_customers : int or None
        Distinct values of ``customer_column`` among the rows examined.
    signals : tuple of str
        The columns that look like transactions (a date, an order key, a quantity).
    """

    n_rows: int
    customer_column: str | None
    n_customers: int | None
    signals: tuple[str, ...]

    def describe(self) -> str:
        """``30,000 rows but only 3,512 distinct CustomerID values (8.5 rows each)``."""
        if self.customer_column is not None and self.n_customers is not None:
            per = self.n_rows / max(self.n_customers, 1)
            return (
                f"{self.n_rows:,} rows but only {self.n_customers:,} distinct"
                f" {self.customer_column} values ({per:.1f} rows each)"
            )
        return (
            f"{self.n_rows:,} rows that look like transactions ({', '.join(self.signals)})"
            " and no customer column"
        )


def transactions_evidence(
    frame: pd.DataFrame,
    *,
    id_column: str | None = None,
    count_distinct: CountDistinct | None = None,
) -> RowsEvidence | None:
    """Why ``frame`` holds transactions rather than one row per customer, or ``None``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows (or a uniform sample of them).
    id_column : str, optional
        The customer key the user named; by default columns named like one are tried.
    count_distinct : callable, optional
        Counts a candidate column's present and distinct values over every row of the
        table, when ``frame`` is a sample of it (Spark): a uniform sample of a tenth of
        the lines of customers with ten lines each shows few repeats.

    Returns
    -------
    RowsEvidence or None
    """
    names = [str(c) for c in frame.columns]
    keys = [id_column] if id_column is not None else [n for n in names if _customer_key(n)]
    for name in keys:
        if name not in frame.columns:
            continue
        if count_distinct is None:
            values = frame[name].dropna()
            n_rows, present, distinct = len(frame), len(values), int(values.nunique())
        else:
            present, distinct = count_distinct(name)
            n_rows = present
        evidence = repeated_key(name, n_rows=n_rows, present=present, distinct=distinct)
        if evidence is not None:
            return evidence
    if id_column is not None:
        return None
    signals = _transaction_signals(frame, names)
    return RowsEvidence(len(frame), None, None, signals) if signals else None


def check_customer_rows(
    frame: pd.DataFrame,
    *,
    id_column: str | None = None,
    count_distinct: CountDistinct | None = None,
    what: str = "the table",
) -> None:
    """Stop when ``frame`` holds transaction lines rather than one row per customer.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to segment or score (or a uniform sample of them).
    id_column : str, optional
        The customer key the user named.
    count_distinct : callable, optional
        Counts over the whole table (see :func:`transactions_evidence`).
    what : str, default="the table"
        How the message names the rows ("the first 100,000 rows").

    Raises
    ------
    TransactionsError
        With the evidence (:class:`RowsEvidence`) as ``exc.evidence``.
    """
    evidence = transactions_evidence(frame, id_column=id_column, count_distinct=count_distinct)
    if evidence is not None:
        refuse_transactions(evidence, what)


def repeated_key(name: str, *, n_rows: int, present: int, distinct: int) -> RowsEvidence | None:
    """The evidence of a customer column ``name`` repeating, or ``None``.

    Parameters
    ----------
    name : str
        The customer column.
    n_rows, present, distinct : int
        Rows, rows with a value and distinct values of the column.

    Returns
    -------
    RowsEvidence or None
        ``None`` unless the repeats reach :data:`REPEATED_SHARE` of ``present``.
    """
    if present and (present - distinct) >= max(2, REPEATED_SHARE * present):
        return RowsEvidence(n_rows, name, distinct, ())
    return None


def refuse_transactions(evidence: RowsEvidence, what: str = "the table") -> NoReturn:
    """Raise the :class:`~custseg.exceptions.TransactionsError` of ``evidence``.

    Parameters
    ----------
    evidence : RowsEvidence
        Why the rows are transactions.
    what : str, default="the table"
        How the message names the rows.
    """
    customer = (
        f", customer={evidence.customer_column!r}" if evidence.customer_column is not None else ""
    )
    raise TransactionsError(
        f"{what} has {evidence.describe()}: it holds transactions, not customers; roll them"
        " up to one row per customer first:"
        f" fit_segments(custseg.build_features(frame{customer}).frame), or fit with"
        " config=FitConfig(segment_rows=True) to segment the rows themselves",
        evidence=evidence,
    )


def _customer_key(name: str) -> bool:
    """``CustomerID``, ``cust_id``, ``client_no``, ``card_number``, ``CLIENTNUM``."""
    # Imported here: the outcomes module loads pandas, which scoring a Parquet file
    # (that needs only repeated_key) never does.
    from .outcomes import name_tokens

    tokens = name_tokens(name)
    if not tokens:
        return False
    if len(tokens) >= 2 and tokens[-1] in _KEY_ENDINGS:
        return any(t.startswith(_CUSTOMER_WORDS) for t in tokens[:-1])
    glued = tokens[-1]
    return any(
        glued.startswith(word) and glued[len(word) :] in _KEY_ENDINGS for word in _CUSTOMER_WORDS
    )


def _transaction_signals(frame: pd.DataFrame, names: Sequence[str]) -> tuple[str, ...]:
    from .outcomes import name_tokens

    tokens = {name: name_tokens(name) for name in names}
    times = [n for n in names if _TIME_WORDS & set(tokens[n])]
    if not times:
        return ()
    orders = [
        n
        for n in names
        if _ORDER_WORDS & set(tokens[n][:-1] or tokens[n])
        and tokens[n][-1] in {*_KEY_ENDINGS, *_ORDER_WORDS}
        and frame[n].dropna().nunique() < frame[n].notna().sum()
    ]
    quantities = [n for n in names if _QUANTITY_WORDS & set(tokens[n])]
    prices = [n for n in names if _PRICE_WORDS & set(tokens[n]) and n not in quantities]
    if orders:
        return (times[0], orders[0], *quantities[:1])
    if quantities and prices:
        return (times[0], quantities[0], prices[0])
    return ()
