"""Strategies driven by outcomes, acting on levers only (issue 17, points 4, 5 and 11)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from tests._realistic import DISENGAGED, attrition_table, mall_table

from custseg import fit_segments, score_customers
from custseg.exceptions import ConfigError
from custseg.explain import name_segments, profile_segments
from custseg.explain.advice import is_descriptor, lever_columns
from custseg.explain.outcomes import profile_outcomes
from custseg.explain.playbook import SHIPPED_PLAYBOOKS, load_playbook, parse_playbook

# A strategy that would change a value.
CHANGE = re.compile(
    r"\b(raise|raises|lower|lowers|encourage|increase|increases|reduce|reduces|lift|lifts|"
    r"grow|bring down|push)\b",
    re.IGNORECASE,
)
WATCHING_CHURN = re.compile(r"leav|retention|save offer|early signs|win them back", re.I)


def _changes(strategy: str, word: str) -> bool:
    return bool(CHANGE.search(strategy)) and bool(re.search(rf"\b{word}\b", strategy, re.I))


@pytest.fixture(scope="module")
def attrition_fit():
    frame, groups = attrition_table()
    model = fit_segments(frame, k=4, k_range=(4, 4), random_state=0)
    labels = score_customers(model, frame).scored["segment_id"].to_numpy()
    return model, labels, groups


def test_disengaged_group_gets_retention_first_with_interval_and_lift(attrition_fit) -> None:
    model, labels, groups = attrition_fit
    disengaged = int(np.bincount(labels[groups == DISENGAGED]).argmax())
    stats = model.profiles["outcomes"]["stats"]["Attrition_Flag"]
    row = next(r for r in stats["segments"] if r["id"] == disengaged)
    assert row["direction"] == "above" and row["value"] > 0.45
    first = model.segments[disengaged].strategies[0]
    assert first.startswith("Retention first: attrition ")
    assert f"{row['value']:.1%}" in first
    assert f"(95% CI {100 * row['low']:.1f}–{row['high']:.1%})" in first
    assert f"{row['lift']:.1f}× the average" in first


def test_low_churn_segments_get_no_churn_watching_advice(attrition_fit) -> None:
    model, _, _ = attrition_fit
    stats = model.profiles["outcomes"]["stats"]["Attrition_Flag"]
    calm = [r["id"] for r in stats["segments"] if r["direction"] != "above"]
    assert len(calm) == 3
    for sid in calm:
        for strategy in model.segments[sid].strategies:
            assert not WATCHING_CHURN.search(strategy), (sid, strategy)
            assert not strategy.startswith("Retention first")


def test_no_strategy_changes_a_descriptor_on_the_attrition_table(attrition_fit) -> None:
    model, _, _ = attrition_fit
    for segment in model.segments:
        for strategy in segment.strategies:
            for word in ("age", "gender", "income", "education", "marital", "dependent"):
                assert not _changes(strategy, word), strategy
            assert "credit limit" not in strategy.lower() or not CHANGE.search(strategy)


def test_mall_strategies_never_raise_or_lower_age() -> None:
    frame, _ = mall_table()
    model = fit_segments(frame, random_state=0)
    strategies = [s for segment in model.segments for s in segment.strategies]
    assert strategies
    for strategy in strategies:
        assert not _changes(strategy, "age"), strategy
        assert not _changes(strategy, "income"), strategy


def _descriptor_trap() -> tuple[pd.DataFrame, np.ndarray]:
    """Two groups split by age far more than by anything else; visits differ a little."""
    rng = np.random.default_rng(3)
    n = 600
    old = rng.random(n) < 0.5
    return pd.DataFrame(
        {
            "customer_age": np.where(old, rng.normal(68, 3, n), rng.normal(27, 3, n)),
            "store_visits": rng.normal(np.where(old, 9.0, 7.0), 2.0, n),
            "basket_value": rng.normal(50, 10, n),
            "zone_index": np.where(old, 3.0, 1.0) + rng.normal(0, 0.1, n),
        }
    ), old.astype(int)


def test_a_descriptor_that_sets_a_segment_apart_is_never_changed() -> None:
    frame, labels = _descriptor_trap()
    profiles = profile_segments(frame, labels)
    for playbook in SHIPPED_PLAYBOOKS:
        namings = name_segments(
            profiles, playbook=load_playbook(playbook), descriptors=["zone_index"]
        )
        for naming in namings:
            top = profiles.top_features(naming.segment_id, 1).index[0]
            assert top in ("customer_age", "zone_index")
            for strategy in naming.strategies:
                assert not _changes(strategy, "age"), strategy
                assert not _changes(strategy, "zone index"), strategy
    # The fallback speaks of their behaviour instead, and tailors the message to who
    # they are: with the zone dropped, age is what sets the segments apart.
    profiles = profile_segments(frame.drop(columns="zone_index"), labels)
    namings = name_segments(profiles, playbook=load_playbook("retail"))
    texts = [s for n in namings for s in n.strategies]
    assert any(s.startswith("Tailor the message") and "customer age 68 vs" in s for s in texts)
    assert any("their high store visits" in s for s in texts)
    assert not any(_changes(s, "age") for s in texts)


def test_levers_exclude_descriptors_and_the_playbooks_exclusions() -> None:
    columns = [
        "Customer_Age",
        "Gender",
        "Months_on_book",
        "Income_Category",
        "Credit_Limit",
        "Total_Trans_Ct",
        "Months_Inactive_12_mon",
        "TENURE",
        "Year_Birth",
        "Kidhome",
        "Annual Income (k$)",
        "Spending Score (1-100)",
    ]
    levers, to_raise = lever_columns(load_playbook("neutral").advice, columns, ["Gender"])
    assert levers == {"Total_Trans_Ct", "Months_Inactive_12_mon", "Spending Score (1-100)"}
    assert to_raise == {"Total_Trans_Ct", "Spending Score (1-100)"}
    assert all(is_descriptor(c) for c in ("Customer_Age", "Year_Birth", "SeniorCitizen"))
    assert not any(is_descriptor(c) for c in ("AVERAGE_TICKET", "usage_minutes", "Mileage"))
    # Tenure as a data dictionary words it, kept as the column's name.
    assert is_descriptor("Number of months the customer has stayed with the company")


def _card_profiles(utilisation: float, others: float = 0.2) -> tuple[object, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 400
    labels = np.repeat([0, 1], [300, 100])
    cash = labels == 1
    frame = pd.DataFrame(
        {
            "BALANCE": rng.gamma(2, np.where(cash, 2000, 800)),
            "PURCHASES": rng.gamma(2, np.where(cash, 100, 900)),
            "CASH_ADVANCE": rng.gamma(2, np.where(cash, 3000, 100)),
            "CASH_ADVANCE_FREQUENCY": np.where(cash, 0.6, 0.05) + rng.uniform(0, 0.1, n),
            "CREDIT_LIMIT": rng.normal(5000, 500, n),
            "CREDIT_UTILISATION": np.where(cash, utilisation, others) + rng.uniform(0, 0.04, n),
            "PRC_FULL_PAYMENT": rng.uniform(0, 0.3, n),
        }
    )
    return profile_segments(frame, labels), labels


def test_no_more_credit_for_maxed_out_customers() -> None:
    playbook = load_playbook("credit_card")
    credit = re.compile(r"personal loan|credit line|limit increase|pre-approved", re.I)
    relaxed = name_segments(_card_profiles(0.3)[0], playbook=playbook)[1]
    assert relaxed.name == "Cash-advance reliant"
    assert any(credit.search(s) for s in relaxed.strategies)
    maxed = name_segments(_card_profiles(0.93, others=0.85)[0], playbook=playbook)[1]
    assert maxed.name == "Cash-advance reliant"
    assert maxed.strategies and not any(credit.search(s) for s in maxed.strategies)


def _outcomes(profiles_labels, column: str, family: str, rates: tuple[float, float]):
    _, labels = profiles_labels
    flag = np.concatenate(
        [
            np.arange(int((labels == i).sum())) < rate * (labels == i).sum()
            for i, rate in enumerate(rates)
        ]
    ).astype(float)
    profile = profile_outcomes(pd.DataFrame({column: flag}), labels)
    profile["details"] = {column: {"kind": f"outcome flag: {family}", "family": family}}
    return profile


def test_high_default_gets_risk_review_and_no_credit_offer() -> None:
    pl = _card_profiles(0.3)
    outcomes = _outcomes(pl, "defaulted", "default", (0.02, 0.30))
    naming = name_segments(pl[0], playbook=load_playbook("credit_card"), outcomes=outcomes)[1]
    assert naming.strategies[0].startswith("Risk review first: default 30.0% (95% CI")
    assert not any(re.search(r"personal loan|credit line", s) for s in naming.strategies)
    # The low-default segment gets no default strategy at all.
    calm = name_segments(pl[0], playbook=load_playbook("credit_card"), outcomes=outcomes)[0]
    assert not any("default" in s for s in calm.strategies)


@pytest.mark.parametrize(
    ("family", "start"),
    [
        ("response", "Campaigns first: response 30.0%"),
        ("complaint", "Service recovery first: complaints 30.0%"),
        ("churn", "Retention first: churn 30.0%"),
    ],
)
def test_each_outcome_family_leads_the_strategies(family, start) -> None:
    pl = _card_profiles(0.3)
    outcomes = _outcomes(pl, family, family, (0.10, 0.30))
    for key in SHIPPED_PLAYBOOKS:
        naming = name_segments(pl[0], playbook=load_playbook(key), outcomes=outcomes)[1]
        assert naming.strategies[0].startswith(start), (key, naming.strategies)
        assert "np." not in " ".join(naming.strategies)


def test_a_segment_not_significantly_different_gets_no_outcome_strategy() -> None:
    pl = _card_profiles(0.3)
    outcomes = _outcomes(pl, "churn", "churn", (0.16, 0.17))
    for key in SHIPPED_PLAYBOOKS:
        for naming in name_segments(pl[0], playbook=load_playbook(key), outcomes=outcomes):
            assert not any(s.startswith(("Retention", "Loyal")) for s in naming.strategies)


_MINIMAL = """
[segments.a]
name = "A"
description = "d"
strategies = ["s"]
traits = [{ feature = "X", stat = "lift", op = ">=", value = 2 }]
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[levers]\nraise = 3\n", "[levers].raise is empty or not a list"),
        ("[levers]\nupward = ['*']\n", "[levers] has unknown field 'upward'"),
        ("[outcomes.fraud]\nabove = ['x']\n", "[outcomes] has unknown field 'fraud'"),
        ("[outcomes.churn]\nabove = ['{rate}']\n", "[outcomes.churn].above[0] has field {rate}"),
        ("[outcomes.churn]\nabove = ['{value:.1%}']\n", "has format '.1%' in {value}"),
        ("[outcomes.churn]\nbelow_only_high_value = 1\n", "below_only_high_value is 1"),
        ("[[guards]]\nname = 'g'\n", "guards[0] has no `columns`"),
    ],
)
def test_advice_tables_are_validated(extra, message) -> None:
    with pytest.raises(ConfigError) as err:
        parse_playbook(extra + _MINIMAL, source="mine.toml")
    assert message in str(err.value)
    assert str(err.value).startswith("playbook mine.toml: ")
    assert "\n" not in str(err.value)


def test_every_shipped_playbook_declares_levers_and_all_outcome_families() -> None:
    for key in SHIPPED_PLAYBOOKS:
        advice = load_playbook(key).advice
        assert advice.raise_levers and advice.value
        assert {o.family for o in advice.outcomes} == {"churn", "response", "default", "complaint"}
        assert all(o.above for o in advice.outcomes)


@pytest.mark.parametrize("k", [4, 6, 8])
def test_credit_card_strategies_on_cc_general_stay_sensible(k) -> None:
    from _credit_cards import cc_frame, cc_labels, with_derived

    frame = with_derived(cc_frame().drop(columns="CUST_ID"))
    profiles = profile_segments(frame, cc_labels(k))
    namings = name_segments(profiles, playbook=load_playbook("credit_card"))
    credit = re.compile(r"personal loan|credit line|limit increase|pre-approved", re.I)
    for naming in namings:
        assert 1 <= len(naming.strategies) <= 5
        for strategy in naming.strategies:
            # Never push up what should come down, nor offer to change tenure or limits.
            assert not re.search(
                r"raises their low (cash advance|credit|tenure|balance)", strategy
            ), strategy
            assert not _changes(strategy, "tenure"), strategy
        utilisation = profiles.value(naming.segment_id, "CREDIT_UTILISATION", "mean")
        if utilisation >= 0.9:
            assert not any(credit.search(s) for s in naming.strategies), naming


def test_a_churn_column_read_as_a_mean_drives_no_strategy() -> None:
    pl = _card_profiles(0.3)
    outcomes = _outcomes(pl, "churn", "churn", (0.10, 0.30))
    outcomes["stats"]["churn"]["measure"] = "mean"  # a 1/2 code, say: no rate to quote
    for naming in name_segments(pl[0], playbook=load_playbook("neutral"), outcomes=outcomes):
        assert not any(s.startswith(("Retention", "Loyal")) for s in naming.strategies)
