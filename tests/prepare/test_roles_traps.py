"""Roles on tables with the traps of real data: plain-named account numbers, outcome
flags, model scores with 130-character names, 0/1 flags, CamelCase names, globs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _trap_tables import NB_SCORE_1, NB_SCORE_2, bank_churn, bank_churners, retail
from custseg.exceptions import SchemaError
from custseg.prepare import infer_schema
from custseg.prepare.outcomes import encode_outcome, name_tokens


def test_a_plain_named_account_number_is_the_identifier() -> None:
    frame = bank_churners(400)
    schema = infer_schema(frame)
    assert schema.id_column == "CLIENTNUM"
    reason = schema.column("CLIENTNUM").reason
    assert reason.startswith("account-number-like: 400 distinct 9-digit integers")
    assert "CLIENTNUM" not in schema.features
    # Beside a named identifier, it is another identifier, never a feature.
    frame.insert(0, "customer_id", [f"K{i:05d}" for i in range(400)])
    schema = infer_schema(frame)
    assert schema.id_column == "customer_id"
    assert schema.column("CLIENTNUM").role == "ignored"
    assert "another unique identifier, account-number-like" in schema.column("CLIENTNUM").reason


def test_unique_amounts_and_counts_are_not_taken_for_identifiers() -> None:
    rng = np.random.default_rng(3)
    n = 150
    frame = pd.DataFrame(
        {
            # unique, but with cents: a balance
            "closing": rng.lognormal(7, 1, n).round(2) + np.arange(n) * 0.001,
            # unique whole dollars of varying widths: incomes on a small table
            "earned": rng.choice(np.arange(3_000, 400_000), n, replace=False),
            # unique six-digit integers under an amount name
            "Income": rng.choice(np.arange(100_000, 999_999), n, replace=False),
            # unique seven-digit integers, but skewed like amounts, not spread like keys
            "flux": (1_000_000 + rng.lognormal(10, 1.5, n)).astype(np.int64) + np.arange(n),
        }
    )
    frame["flux"] = np.minimum(frame["flux"], 9_999_999 - np.arange(n))
    schema = infer_schema(frame)
    assert schema.id_column is None
    assert schema.numeric == ["closing", "earned", "Income", "flux"]
    # Counts that happen to be unique on a dozen rows are counts.
    counts = pd.DataFrame({"visits": [3, 17, 25, 4, 9, 11, 30, 1, 7, 22, 13, 5]})
    assert infer_schema(counts).numeric == ["visits"]


def test_outcome_flags_and_model_outputs_are_profiled_not_clustered() -> None:
    schema = infer_schema(bank_churners(300))
    assert schema.outcomes == ["Attrition_Flag", NB_SCORE_1, NB_SCORE_2]
    assert schema.column("Attrition_Flag").reason.startswith("outcome flag: attrition;")
    assert schema.column(NB_SCORE_1).reason.startswith("model output: classifier;")
    assert len(NB_SCORE_1) == 130
    assert not set(schema.outcomes) & set(schema.features)
    lines = schema.describe()
    assert any(
        line.startswith("Attrition_Flag: outcome (profiled, not a feature) - ") for line in lines
    )

    schema = infer_schema(bank_churn(300))
    assert schema.outcomes == ["Exited", "Complain"]
    assert schema.column("Exited").reason.startswith("outcome flag: churn;")
    assert schema.column("Complain").reason.startswith("outcome flag: complaint;")
    # A bureau score of 350-850 and a 1-5 survey answer describe the customer.
    assert {"CreditScore", "Satisfaction Score"} <= set(schema.numeric)


@pytest.mark.parametrize(
    ("name", "values", "reason"),
    [
        ("Churn", ["Yes", "No", "No", "No"], "outcome flag: churn"),
        ("is_defaulted", [0, 1, 0, 0], "outcome flag: default"),
        ("ResponseFlag", [True, False, False, True], "outcome flag: response"),
        ("churn_score", [12.0, 80.5, 33.0, 47.0], "model output: score"),
        ("risk_score", [0.12, 0.8, 0.33, 0.47], "model output: score"),
        ("upsell_propensity", [0.2, 0.9, 0.4, 0.6], "model output: propensity"),
        ("PredictedSegment", ["a", "b", "c", "a"], "model output: prediction"),
        ("p_churn_proba", [0.2, 0.9, 0.4, 0.6], "model output: probability"),
        ("target", [3.0, 1.0, 2.0, 7.0], "outcome: label"),
        ("y", [0, 1, 2, 1], "outcome: label"),
    ],
)
def test_outcome_kinds_by_name_and_values(name: str, values: list[object], reason: str) -> None:
    frame = pd.DataFrame({name: values * 10, "spend": np.arange(40.0) % 9})
    info = infer_schema(frame).column(name)
    assert info.role == "outcome"
    assert info.reason.startswith(reason + ";")


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("ResponseTime", [12.0, 80.5, 33.0, 47.0]),  # not two values: a duration
        ("complaints_count", [0, 1, 2, 5]),  # a count of complaints is behaviour
        ("CreditScore", [620, 710, 580, 800]),  # a score outside [0, 1], no outcome word
        ("IsActiveMember", [0, 1, 1, 0]),
    ],
)
def test_behaviour_with_outcome_like_words_stays_a_feature(name: str, values: list[object]) -> None:
    frame = pd.DataFrame({name: values * 10, "spend": np.arange(40.0) % 9})
    assert infer_schema(frame).column(name).role == "numeric"


def test_name_tokens_split_camel_case_snake_case_and_digits() -> None:
    assert name_tokens("NumOfProducts") == ["num", "of", "products"]
    assert name_tokens("AcceptedCmp3") == ["accepted", "cmp", "3"]
    assert name_tokens("Total_Ct_Chng_Q4_Q1") == ["total", "ct", "chng", "q", "4", "q", "1"]
    assert name_tokens("HTTPStatus code") == ["http", "status", "code"]
    assert name_tokens("CLIENTNUM") == ["clientnum"]


def test_two_level_text_outcomes_count_their_positive_level() -> None:
    values, level = encode_outcome(pd.Series(["Existing Customer", "Attrited Customer"] * 3))
    assert level == "Attrited Customer" and values.tolist() == [0.0, 1.0] * 3
    values, level = encode_outcome(pd.Series(["No", "Yes", None, "no"]))
    assert level is None and values is None  # three levels once the case differs
    values, level = encode_outcome(pd.Series(["No", "Yes", None, "No"]))
    assert level == "Yes" and np.isnan(values[2]) and values[1] == 1.0
    values, level = encode_outcome(pd.Series(["stayed", "gone", "stayed"]))
    assert level == "gone"  # neither word says it: the rarer level


def test_flags_are_named_as_such() -> None:
    schema = infer_schema(bank_churn(300))
    assert schema.column("HasCrCard").reason.startswith("0/1 flag, 1 on ")
    assert schema.column("HasCrCard").role == "numeric"


def test_features_bring_an_outcome_back_and_take_globs() -> None:
    frame = bank_churn(300)
    schema = infer_schema(frame, features=["Age", "Exited", "Num*", "*Score"])
    assert schema.features == [
        "CreditScore",
        "Age",
        "NumOfProducts",
        "Exited",
        "Satisfaction Score",
    ]
    assert "clustered on by request" in schema.column("Exited").reason
    # An outcome outside the requested features is still profiled.
    assert schema.outcomes == ["Complain"]
    assert schema.column("Complain").reason.startswith("outcome flag: complaint;")

    retail_frame = retail(300)
    schema = infer_schema(retail_frame, exclude=["Mnt*", "AcceptedCmp?"])
    assert not [c for c in schema.features if c.startswith(("Mnt", "AcceptedCmp"))]
    assert schema.column("MntWines").reason == "excluded by request"


def test_a_pattern_that_matches_nothing_names_close_matches() -> None:
    frame = retail(100)
    with pytest.raises(
        SchemaError,
        match=r"exclude: pattern 'mnt\*' matches no column;"
        r" patterns are case-sensitive; did you mean 'MntWines' or",
    ):
        infer_schema(frame, exclude=["mnt*"])
    with pytest.raises(
        SchemaError,
        match=r"features: pattern 'NumStores\*' matches no"
        r" column; did you mean 'NumStorePurchases'",
    ):
        infer_schema(frame, features=["NumStores*"])
    with pytest.raises(SchemaError, match=r"pattern 'zz\*' matches no column; the table has: ID,"):
        infer_schema(frame, exclude=["zz*"])
