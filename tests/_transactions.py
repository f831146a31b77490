"""Transactions written from known per-customer behaviour, for the roll-up's known answers.

- :func:`retail_lines`: invoice lines shaped like the public "Online Retail" table
  (``InvoiceNo`` with "C..." cancellations, ``StockCode``, ``Quantity`` with negative
  returns, ``InvoiceDate`` as month-first text such as ``"12/1/2010 8:26"``,
  ``UnitPrice``, ``CustomerID`` as a float with blanks for guests, ``Country``), with the
  features each customer must get back over 2011 (as-of 2012-01-01, 12 months);
- :func:`card_tables`: card transactions, monthly statements and accounts of card
  holders, with the 17 columns of CC_GENERAL each must get back over 2011.

Each generator draws a behaviour per customer (active months, orders per month, lines,
quantities, prices; purchases, cash advances, payments, balances), writes the rows
from it, and computes the expected features from the behaviour, not from the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

AS_OF = date(2012, 1, 1)
START = date(2011, 1, 1)
MONTHS = 12
_THIRD = ((AS_OF - START).days) // 3
COUNTRIES = ("United Kingdom", "Germany", "France", "EIRE", "Spain")
PRICES = (0.85, 1.25, 2.55, 3.39, 4.95, 12.75)


def _stamp(moment: datetime, day_first: bool = False) -> str:
    """``12/1/2010 8:26`` (month-first, no zero padding) or ``1/12/2010 8:26``."""
    a, b = (moment.day, moment.month) if day_first else (moment.month, moment.day)
    return f"{a}/{b}/{moment.year} {moment.hour}:{moment.minute:02d}"


@dataclass
class _Shopper:
    """What one customer did, line by line: (day, kind, quantity, price, product, order)."""

    lines: list[tuple[date, str, int, float, str, str]] = field(default_factory=list)

    def expected(self, country: str) -> dict[str, float]:
        buys = [line for line in self.lines if line[1] == "buy"]
        value = [(d, (-1 if k != "buy" else 1) * abs(q) * p) for d, k, q, p, _, _ in self.lines]
        orders = len({line[5] for line in buys})
        net = sum(v for _, v in value)
        first = sum(v for d, v in value if (d - START).days < _THIRD)
        last = sum(v for d, v in value if (AS_OF - d).days <= _THIRD)
        spent = sum(q * p for _, _, q, p, _, _ in buys)
        out = {
            "recency_days": (AS_OF - max(line[0] for line in buys)).days,
            "frequency": orders,
            "monetary": net,
            "average_order_value": net / orders,
            "items_per_order": sum(line[2] for line in buys) / orders,
            "tenure_days": (AS_OF - min(line[0] for line in self.lines)).days,
            "active_months_share": len({line[0].month for line in buys}) / MONTHS,
            "returns_share": (len(self.lines) - len(buys)) / len(self.lines),
            "spend_trend": (last - first) / (abs(last) + abs(first)) if (last or first) else 0.0,
            "distinct_products": len({line[4] for line in buys}),
        }
        for level in COUNTRIES:
            share = spent if level == country else 0.0
            out[f"Country_share_{level.replace(' ', '_')}"] = share / spent
        return out


def retail_lines(
    n_customers: int = 40, seed: int = 0, guests: int = 25
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Invoice lines of ``n_customers`` shoppers over 2011, and what the roll-up must find.

    Returns
    -------
    lines : DataFrame
        Online Retail's columns; ``CustomerID`` float (``12346.0``), NaN for guests.
    expected : DataFrame
        One row per customer (index: the id as text, ``"12346"``), the retail features.
    counts : dict
        ``guests``, ``before_window``, ``cancellations``, ``returns``, ``lines``.
    """
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    expected: dict[str, dict[str, float]] = {}
    counts = {"guests": guests, "before_window": 0, "cancellations": 0, "returns": 0}
    invoice = 540000
    for c in range(n_customers):
        customer = 12346 + 7 * c
        country = COUNTRIES[0] if c % 3 else COUNTRIES[1 + (c // 3) % 4]
        shopper = _Shopper()
        months = sorted(rng.choice(12, size=int(rng.integers(1, 13)), replace=False))
        for month in months:
            for day in sorted(
                rng.choice(np.arange(1, 27), size=int(rng.integers(1, 4)), replace=False)
            ):
                invoice += 1
                moment = datetime(
                    2011, month + 1, int(day), int(rng.integers(7, 20)), int(rng.integers(60))
                )
                for _ in range(int(rng.integers(1, 4))):
                    product = f"2{int(rng.integers(30)):04d}"
                    quantity, price = int(rng.integers(1, 13)), float(rng.choice(PRICES))
                    shopper.lines.append(
                        (moment.date(), "buy", quantity, price, product, str(invoice))
                    )
                    rows.append(_row(invoice, product, quantity, moment, price, customer, country))
        if rng.random() < 0.35:  # a cancellation of a line, the next day
            d, _, q, p, product, _ = shopper.lines[-1]
            moment = datetime(d.year, d.month, d.day, 10, 5) + timedelta(days=1)
            if moment.date() < AS_OF:
                shopper.lines.append((moment.date(), "cancel", q, p, product, f"C{invoice}"))
                rows.append(_row(f"C{invoice}", product, -q, moment, p, customer, country))
                counts["cancellations"] += 1
        if rng.random() < 0.25:  # a return without a "C" invoice: a negative quantity
            invoice += 1
            d, _, q, p, product, _ = shopper.lines[0]
            moment = datetime(d.year, d.month, d.day, 18, 30)
            shopper.lines.append((moment.date(), "return", 1, p, product, str(invoice)))
            rows.append(_row(invoice, product, -1, moment, p, customer, country))
            counts["returns"] += 1
        if c % 5 == 0:  # a purchase in December 2010, before the window
            invoice += 1
            rows.append(
                _row(invoice, "20001", 2, datetime(2010, 12, 14, 9, 0), 2.55, customer, country)
            )
            counts["before_window"] += 1
        expected[str(customer)] = shopper.expected(country)
    for g in range(guests):
        invoice += 1
        moment = datetime(2011, 1 + g % 12, 1 + g % 27, 12, 0)
        rows.append(_row(invoice, "20002", 1, moment, 1.25, None, COUNTRIES[0]))
    lines = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    lines["CustomerID"] = lines["CustomerID"].astype("float64")
    counts["lines"] = len(lines)
    table = pd.DataFrame.from_dict(expected, orient="index").sort_index()
    return lines, table, counts


def _row(invoice, product, quantity, moment, price, customer, country) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "InvoiceNo": str(invoice),
        "StockCode": product,
        "Description": f"ITEM {product}",
        "Quantity": quantity,
        "InvoiceDate": _stamp(moment),
        "UnitPrice": price,
        "CustomerID": customer,
        "Country": country,
    }


KINDS = {
    "oneoff": "Purchase - one-off",
    "instalment": "Purchase - instalment",
    "cash_advance": "Cash advance",
    "payment": "Payment",
    "refund": "Refund",
    "fee": "Annual fee",
}


def card_tables(
    n_customers: int = 30, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Card transactions, statements and accounts over 2011, and the 17 expected columns.

    Returns
    -------
    transactions, statements, accounts : DataFrame
    expected : DataFrame
        Index ``CUST_ID`` (``"C10001"``...), the columns of CC_GENERAL.
    """
    rng = np.random.default_rng(seed)
    tx: list[dict[str, object]] = []
    st: list[dict[str, object]] = []
    ac: list[dict[str, object]] = []
    expected: dict[str, dict[str, float]] = {}
    for c in range(n_customers):
        cid = f"C{10001 + c}"
        opened = 0 if c % 4 else int(rng.integers(1, 7))  # month index the account opened
        limit = float(rng.choice([1000.0, 2500.0, 6000.0, 12000.0]))
        ac.append(
            {
                "CUST_ID": cid,
                "CREDIT_LIMIT": limit,
                "OPEN_DATE": (
                    date(2009, 5, 3) if opened == 0 else date(2011, opened + 1, 1)
                ).isoformat(),
            }
        )
        sums = dict.fromkeys(("oneoff", "instalment", "cash_advance", "payment"), 0.0)
        months = dict.fromkeys(("oneoff", "instalment", "cash_advance"), 0)
        trx = {"purchase": 0, "cash_advance": 0}
        previous, changed, minimum, full, balance = (0.0 if opened else 150.0), 0, 0.0, 0, 0.0
        if opened == 0:  # a statement before the window: the first one compares to it
            st.append(
                {
                    "CUST_ID": cid,
                    "STATEMENT_DATE": "2010-12-31",
                    "BALANCE": previous,
                    "MIN_PAYMENT_DUE": 10.0,
                    "PAID_IN_FULL": "no",
                }
            )
        for month in range(opened, MONTHS):
            for kind in ("oneoff", "instalment", "cash_advance", "payment", "refund", "fee"):
                n = int(rng.integers(0, 3)) if kind != "fee" else int(rng.random() < 0.1)
                for _ in range(n):
                    amount = round(float(rng.uniform(5, 400)), 2)
                    when = datetime(
                        2011, month + 1, int(rng.integers(1, 29)), int(rng.integers(24)), 15
                    )
                    tx.append(
                        {
                            "CUST_ID": cid,
                            "TRX_DATE": when.isoformat(sep=" "),
                            "AMOUNT": amount,
                            "TRX_TYPE": KINDS[kind],
                        }
                    )
                    if kind in sums:
                        sums[kind] += amount
                    if kind in ("oneoff", "instalment"):
                        trx["purchase"] += 1
                    elif kind == "cash_advance":
                        trx["cash_advance"] += 1
                if kind in months and n:
                    months[kind] += 1
            balance = round(float(rng.choice([previous, rng.uniform(0, limit)])), 2)
            due = round(balance * 0.03, 2)
            paid = bool(rng.random() < 0.4)
            st.append(
                {
                    "CUST_ID": cid,
                    "STATEMENT_DATE": date(2011, month + 1, 28).isoformat(),
                    "BALANCE": balance,
                    "MIN_PAYMENT_DUE": due,
                    "PAID_IN_FULL": "yes" if paid else "no",
                }
            )
            changed += balance != previous
            previous, minimum, full = balance, minimum + due, full + paid
        purchase_months = len(
            {
                t["TRX_DATE"][:7]
                for t in tx
                if t["CUST_ID"] == cid and t["TRX_TYPE"] in (KINDS["oneoff"], KINDS["instalment"])
            }
        )
        n_statements = MONTHS - opened
        expected[cid] = {
            "BALANCE": balance,
            "BALANCE_FREQUENCY": changed / MONTHS,
            "PURCHASES": sums["oneoff"] + sums["instalment"],
            "ONEOFF_PURCHASES": sums["oneoff"],
            "INSTALLMENTS_PURCHASES": sums["instalment"],
            "CASH_ADVANCE": sums["cash_advance"],
            "PURCHASES_FREQUENCY": purchase_months / MONTHS,
            "ONEOFF_PURCHASES_FREQUENCY": months["oneoff"] / MONTHS,
            "PURCHASES_INSTALLMENTS_FREQUENCY": months["instalment"] / MONTHS,
            "CASH_ADVANCE_FREQUENCY": months["cash_advance"] / MONTHS,
            "CASH_ADVANCE_TRX": trx["cash_advance"],
            "PURCHASES_TRX": trx["purchase"],
            "CREDIT_LIMIT": limit,
            "PAYMENTS": sums["payment"],
            "MINIMUM_PAYMENTS": minimum,
            "PRC_FULL_PAYMENT": full / n_statements,
            "TENURE": MONTHS - opened,
        }
    table = pd.DataFrame.from_dict(expected, orient="index").sort_index()
    table.index.name = "CUST_ID"
    return pd.DataFrame(tx), pd.DataFrame(st), pd.DataFrame(ac), table
