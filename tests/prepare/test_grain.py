"""Transaction lines are never segmented as customers by accident (custseg.prepare.grain)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _realistic import attrition_table, mall_table, telco_table
from _tables import retail_table
from custseg import FitConfig, fit_segments
from custseg.exceptions import TransactionsError
from custseg.prepare.grain import check_customer_rows, transactions_evidence
from custseg.scoring.batch import score_file


def invoice_lines(n: int = 3000, customers: int = 350, seed: int = 0) -> pd.DataFrame:
    """Invoice lines as a retailer exports them: cancellations, guests, float ids."""
    rng = np.random.default_rng(seed)
    invoice = rng.integers(536_000, 536_000 + n // 6, n)
    customer = (12_000 + invoice % customers).astype(float)
    guest = rng.random(n) < 0.15
    return pd.DataFrame(
        {
            "InvoiceNo": np.where(rng.random(n) < 0.02, "C", "") + invoice.astype(str),
            "StockCode": rng.integers(10_000, 90_000, n).astype(str),
            "Quantity": np.where(rng.random(n) < 0.02, -1, rng.integers(1, 24, n)),
            "InvoiceDate": [f"12/{d}/2010 8:26" for d in rng.integers(1, 28, n)],
            "UnitPrice": rng.gamma(2.0, 2.0, n).round(2),
            "CustomerID": np.where(guest, np.nan, customer),
            "Country": rng.choice(["United Kingdom", "France", "EIRE"], n),
        }
    )


def test_invoice_lines_are_counted_against_their_customers() -> None:
    lines = invoice_lines()
    evidence = transactions_evidence(lines)
    assert evidence is not None
    assert evidence.customer_column == "CustomerID"
    assert evidence.n_rows == len(lines)
    assert evidence.n_customers == lines["CustomerID"].nunique()
    assert f"{len(lines):,} rows but only {evidence.n_customers:,} distinct CustomerID" in (
        evidence.describe()
    )


def test_lines_without_a_customer_column_are_recognised_by_their_columns() -> None:
    lines = invoice_lines().drop(columns=["CustomerID"])
    evidence = transactions_evidence(lines)
    assert evidence is not None and evidence.customer_column is None
    assert evidence.signals == ("InvoiceDate", "InvoiceNo", "Quantity")
    # Without the repeating invoice number, a quantity beside a price still says so.
    no_invoice = transactions_evidence(lines.drop(columns=["InvoiceNo"]))
    assert no_invoice is not None and no_invoice.signals == (
        "InvoiceDate",
        "Quantity",
        "UnitPrice",
    )


@pytest.mark.parametrize(
    "table",
    [
        lambda: attrition_table(1500)[0],
        lambda: telco_table(1500)[0],
        lambda: mall_table()[0],
        lambda: retail_table()[0],
    ],
    ids=["attrition", "telco", "mall", "retail"],
)
def test_customer_tables_pass(table, sample: pd.DataFrame) -> None:
    assert transactions_evidence(table()) is None
    assert transactions_evidence(sample) is None
    # Counts of transactions and amounts are aggregates, not lines: no id, no refusal.
    assert transactions_evidence(sample.drop(columns=["CUST_ID"])) is None


def test_a_few_duplicated_customers_are_not_transactions() -> None:
    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(100)], "spend": range(100)})
    frame.loc[5, "customer_id"] = "C4"  # one bad row: the identifier checks report it
    assert transactions_evidence(frame) is None


def test_a_named_identifier_that_repeats_is_refused_whatever_its_name() -> None:
    frame = pd.DataFrame({"acct": np.repeat(np.arange(50), 4), "spend": np.arange(200.0)})
    assert transactions_evidence(frame) is None  # "acct" alone is not a key name
    with pytest.raises(TransactionsError, match="200 rows but only 50 distinct acct values"):
        check_customer_rows(frame, id_column="acct")


def test_fit_refuses_lines_and_segments_them_on_request() -> None:
    lines = invoice_lines()
    with pytest.raises(TransactionsError) as caught:
        fit_segments(lines, k=3)
    message = str(caught.value)
    assert "it holds transactions, not customers" in message
    hint = "fit_segments(custseg.build_features(frame, customer='CustomerID').frame)"
    assert hint in message
    assert "config=FitConfig(segment_rows=True)" in message
    # The hint runs as printed and segments the customers.
    import custseg

    customers = eval(hint, {"custseg": custseg, "fit_segments": fit_segments, "frame": lines})
    assert sum(s.size for s in customers.segments) == caught.value.evidence.n_customers
    assert caught.value.evidence.n_customers == lines["CustomerID"].nunique()
    rows = FitConfig(segment_rows=True, exclude=("InvoiceNo",))
    model = fit_segments(lines, k=3, config=rows)
    assert sum(s.size for s in model.segments) == len(lines)
    assert model.settings["segment_rows"] is True


def test_scoring_refuses_lines_unless_asked(model, sample: pd.DataFrame, tmp_path) -> None:
    lines = pd.concat([sample.head(300)] * 4, ignore_index=True)
    source = tmp_path / "lines.csv"
    lines.to_csv(source, index=False)
    out = tmp_path / "scored.csv"
    with pytest.raises(TransactionsError, match="1,200 rows but only 300 distinct CUST_ID"):
        score_file(model, source, out)
    assert not out.exists()
    summary = score_file(model, source, out, segment_rows=True)
    assert summary.rows_in == 1200 and summary.counts["duplicate_id"] == 900
