"""The card recipe: transactions, statements and accounts -> the 17 columns of CC_GENERAL."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from _transactions import KINDS, card_tables
from custseg import build_features
from custseg.exceptions import DataError
from custseg.scoring import score_customers

CENT = 0.005
WINDOW = {"as_of": "2012-01-01", "window": "12M"}


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("card")
    tx, st, ac, expected = card_tables()
    paths = {}
    for name, frame in (("tx", tx), ("statements", st), ("accounts", ac)):
        paths[name] = folder / f"{name}.parquet"
        frame.to_parquet(paths[name], index=False)
    return {"paths": paths, "expected": expected, "tx": tx}


def test_the_three_tables_give_back_the_17_columns_of_the_sample(card, sample) -> None:
    paths, expected = card["paths"], card["expected"]
    result = build_features(
        paths["tx"], statements=paths["statements"], accounts=paths["accounts"], **WINDOW
    )
    assert list(result.frame.columns) == list(sample.columns)  # names and order of CC_GENERAL
    got = result.frame.set_index("CUST_ID")
    assert list(got.index) == list(expected.index)
    for column in expected.columns:
        gap = (got[column] - expected[column]).abs().max()
        assert gap < CENT, (column, gap)
    assert result.recipe == "card" and result.left_out_features == []
    kinds = result.found["transactions"]["kinds"]
    assert {kinds[text] for text in KINDS.values()} == set(KINDS)


def test_a_model_fitted_on_the_sample_scores_the_rolled_up_customers(card, model) -> None:
    paths = card["paths"]
    result = build_features(
        paths["tx"], statements=paths["statements"], accounts=paths["accounts"], **WINDOW
    )
    scored = score_customers(model, result.frame)
    assert len(scored.rejects) == 0 and len(scored.scored) == len(result.frame)
    assert scored.scored["segment_id"].notna().all()


def test_features_of_a_table_not_given_are_left_out_and_said(card) -> None:
    result = build_features(card["paths"]["tx"], **WINDOW)
    left = {item["name"]: item["reason"] for item in result.left_out_features}
    assert set(left) == {
        "BALANCE",
        "BALANCE_FREQUENCY",
        "CREDIT_LIMIT",
        "MINIMUM_PAYMENTS",
        "PRC_FULL_PAYMENT",
        "TENURE",
    }
    assert left["TENURE"] == "needs the accounts table (--accounts)"
    assert "PURCHASES" in result.frame.columns
    assert any(line.startswith("Not computed: BALANCE (") for line in result.describe())


def test_unknown_transaction_types_are_left_out_and_counted(card, tmp_path: Path) -> None:
    tx = card["tx"].copy()
    tx.loc[:4, "TRX_TYPE"] = "Loyalty points"
    path = tmp_path / "tx.csv"
    tx.to_csv(path, index=False)
    result = build_features(path, **WINDOW)
    assert result.counts["left_out"]["of a transaction type the recipe does not know"] == 5
    assert result.counts["lines_used"] == len(tx) - 5


def test_a_type_column_without_a_known_type_stops(card, tmp_path: Path) -> None:
    tx = card["tx"].assign(TRX_TYPE="X")
    path = tmp_path / "tx.csv"
    tx.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"no value of the transaction type column 'TRX_TYPE'"):
        build_features(path, recipe="card", **WINDOW)


def test_card_ids_keep_their_text(card) -> None:
    frame = build_features(card["paths"]["tx"], **WINDOW).frame
    assert frame["CUST_ID"].str.fullmatch(r"C\d{5}").all()
    assert isinstance(frame, pd.DataFrame)
