"""Columns that encode one fact are found, clustered once and named in one warning.

Known answers on the synthetic telecom, attrition and card tables (tests/_realistic.py,
CC_GENERAL), and traps of our own: two columns at r = 0.9 are two facts, a dropped level
never becomes ``__other__``, and following the leakage advice as printed does not move
the warning to the next column of the group.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from _realistic import NO_INTERNET, attrition_table, telco_table
from custseg.config import FitConfig, PrepConfig
from custseg.model import model_from_json, model_to_json
from custseg.pipeline import fit_segments
from custseg.prepare import PreparationPlan, infer_schema
from custseg.prepare.redundancy import RedundancyGroup
from custseg.prepare.steps import CategoricalStep, apply_categorical
from custseg.scoring.batch import score_customers
from custseg.scoring.sqlexport import export_sql

ADD_ONS = [
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
]
NO_NET_GROUP = ["InternetService", *ADD_ONS]


@pytest.fixture(scope="module")
def telco() -> tuple[pd.DataFrame, np.ndarray]:
    return telco_table(1500, seed=1)


@pytest.fixture(scope="module")
def telco_model(telco):
    return fit_segments(telco[0], k=4, k_range=(4, 4), random_state=0)


def _plan(frame: pd.DataFrame, **settings) -> PreparationPlan:
    return PreparationPlan.fit(frame, infer_schema(frame), PrepConfig(**settings))


# ---------------------------------------------------------------------- telecom


def test_the_no_internet_level_is_encoded_once(telco) -> None:
    frame, group = telco
    plan = _plan(frame)
    levels = [g for g in plan.redundancy if g.kind == "levels"]
    net = next(g for g in levels if g.kept[0].column == "InternetService")
    assert net.columns == NO_NET_GROUP
    assert (net.kept[0].column, net.kept[0].level) == ("InternetService", "No")
    assert {m.level for m in net.repeats} == {"No internet service"}
    phone = next(g for g in levels if g.kept[0].column == "PhoneService")
    assert phone.columns == ["PhoneService", "MultipleLines"]
    names = plan.feature_names
    assert "InternetService=No" in names
    assert not [n for n in names if n.endswith("=No internet service")]
    assert "MultipleLines=No phone service" not in names
    for column in ADD_ONS:  # their Yes/No levels are still clustered
        assert f"{column}=Yes" in names and f"{column}=No" in names
    X = plan.transform(frame)
    add_on_columns = [i for i, n in enumerate(names) if n.split("=")[0] in ADD_ONS]
    no_net = (frame["InternetService"] == "No").to_numpy()
    assert (X[no_net][:, add_on_columns] == 0).all()
    assert (X[~no_net][:, add_on_columns].sum(axis=1) == len(ADD_ONS)).all()
    assert (group[no_net] == NO_INTERNET).all()
    said = [d for d in plan.decisions if "'No internet service' not encoded" in d]
    assert len(said) == 6 and "InternetService = No" in said[0]
    # The plan, its groups and its dropped levels survive JSON.
    again = PreparationPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.redundancy == plan.redundancy
    assert again.transform(frame).tobytes() == X.tobytes()


def test_one_warning_names_the_seven_columns(telco_model) -> None:
    groups = [w for w in telco_model.warnings if w["kind"] == "redundancy"]
    net = [w for w in groups if "InternetService" in w["columns"]]
    assert len(net) == 1 and net[0]["columns"] == NO_NET_GROUP
    message = net[0]["message"]
    assert message.startswith(
        "InternetService = No and the level 'No internet service' of OnlineSecurity,"
    )
    assert "(7 columns) say the same thing: clustered once as InternetService = No" in message
    assert message.endswith("keep every column with keep_redundant=True")
    assert net[0]["cli_message"].endswith("keep every column with --keep-redundant")
    # The model, saved and loaded, keeps the groups.
    again = model_from_json(model_to_json(telco_model))
    assert again.preparation.redundancy == telco_model.preparation.redundancy


def test_leakage_advice_names_the_group_and_following_it_ends_the_warning(
    telco, telco_model
) -> None:
    leaks = [w for w in telco_model.warnings if w["kind"] == "leakage"]
    net = [w for w in leaks if w["column"] in NO_NET_GROUP]
    assert len(net) == 1, [w["message"] for w in leaks]
    warning = net[0]
    assert warning["column"] == "InternetService"  # the group's own column, not an add-on
    assert warning["exclude"] == NO_NET_GROUP
    assert (
        "InternetService and the 6 columns whose level 'No internet service'"
        in (warning["message"])
    )
    assert "the segment may be legitimate" in warning["message"]
    assert warning["message"].endswith(f"exclude={NO_NET_GROUP!r}")
    assert warning["cli_message"].endswith("--exclude " + ",".join(NO_NET_GROUP))
    # Following the advice as printed: no column of the group reproduces a segment.
    refit = fit_segments(
        telco[0],
        k=4,
        k_range=(4, 4),
        random_state=0,
        config=FitConfig(exclude=tuple(net[0]["exclude"])),
    )
    columns = {w.get("column") for w in refit.warnings if w["kind"] == "leakage"}
    assert not columns & set(NO_NET_GROUP)
    assert not [w for w in refit.warnings if "InternetService" in w.get("columns", [])]


def test_python_sql_and_loaded_model_agree_on_dropped_levels(telco, telco_model) -> None:
    frame = telco[0].head(300).copy()
    frame.loc[[5, 9], "OnlineBackup"] = "Maybe"  # a level the model never saw
    # The warehouse holds charges as numbers (the SQL casts text; a blank is no number).
    frame["TotalCharges"] = pd.to_numeric(frame["TotalCharges"], errors="coerce")
    expected = score_customers(telco_model, frame).scored.set_index("customerID")
    flags = expected["flags"].fillna("")
    # "No internet service" is known (dropped, encoded by InternetService), not unseen.
    assert (
        flags.str.contains("unseen_level")
        == frame["customerID"].isin(frame.loc[[5, 9], "customerID"]).to_numpy()
    ).all()
    sql = export_sql(telco_model, dialect="duckdb", table="telco")
    with duckdb.connect() as con:
        con.register("telco", frame)
        got = con.execute(sql).df().set_index("customerID").loc[expected.index]
    assert (got["segment_id"].to_numpy() == expected["segment_id"].to_numpy()).all()
    np.testing.assert_allclose(got["distance"].to_numpy(float), expected["distance"], atol=1e-9)
    assert (got["flags"].fillna("").to_numpy() == flags.to_numpy()).all()
    loaded = model_from_json(model_to_json(telco_model))
    again = score_customers(loaded, frame).scored.set_index("customerID")
    assert (again["segment_id"] == expected["segment_id"]).all()


def test_keep_redundant_clusters_every_column_and_still_says_so(telco) -> None:
    frame = telco[0]
    plan = _plan(frame, keep_redundant=True)
    assert "OnlineSecurity=No internet service" in plan.feature_names
    assert plan.redundancy and not any(g.applied for g in plan.redundancy)
    assert all("every column kept as asked" in g.message() for g in plan.redundancy)
    config = FitConfig().with_overrides(keep_redundant=True)
    assert config.preparation.keep_redundant is True


def test_the_printed_python_hints_run_as_printed(telco) -> None:
    frame = telco[0].head(600)
    model = fit_segments(frame, k=3, k_range=(3, 3), random_state=0)
    hints = {w["kind"]: w["message"] for w in model.warnings}
    assert hints["redundancy"].endswith("keep every column with keep_redundant=True")
    kept = fit_segments(frame, k=3, k_range=(3, 3), random_state=0, keep_redundant=True)
    assert "OnlineSecurity=No internet service" in kept.feature_names
    leak = next(w for w in model.warnings if w["kind"] == "leakage")
    advice = leak["message"].rsplit(" with ", 1)[1]  # exclude=[...]
    refit = eval(f"fit_segments(frame, k=3, random_state=0, {advice})")  # as printed
    assert not set(leak["exclude"]) & set(refit.preparation.input_columns)


# ---------------------------------------------------------------------- numeric groups


def test_attrition_open_to_buy_is_profiled_beside_the_credit_limit() -> None:
    frame, _ = attrition_table(2000, seed=3)
    plan = _plan(frame)
    (group,) = [g for g in plan.redundancy if "Avg_Open_To_Buy" in g.columns]
    assert group.formula == "Avg_Open_To_Buy = Credit_Limit - Total_Revolving_Bal"
    assert [m.column for m in group.kept] == ["Credit_Limit", "Total_Revolving_Bal"]
    assert [m.column for m in group.repeats] == ["Avg_Open_To_Buy"]
    clustered = [s.column for s in plan.numeric_steps]
    assert "Credit_Limit" in clustered and "Total_Revolving_Bal" in clustered
    assert "Avg_Open_To_Buy" not in clustered
    # Still an input: profiled, and read at scoring.
    assert "Avg_Open_To_Buy" in plan.input_numeric
    assert any(
        d.startswith("Avg_Open_To_Buy: profiled, not clustered (Avg_Open_To_Buy = Credit_Limit")
        for d in plan.decisions
    )


def test_cc_general_purchases_is_the_sum_of_its_parts(cc: pd.DataFrame) -> None:
    plan = _plan(cc)
    (group,) = plan.redundancy
    assert group.kind == "sum"
    assert group.formula == "PURCHASES = ONEOFF_PURCHASES + INSTALLMENTS_PURCHASES"
    assert group.evidence == "on 99.8% of rows"  # 19 of 8,950 rows differ by more than a cent
    assert [s.column for s in plan.numeric_steps if s.column.endswith("PURCHASES")] == [
        "ONEOFF_PURCHASES",
        "INSTALLMENTS_PURCHASES",
    ]
    assert plan.input_numeric == list(infer_schema(cc).numeric)
    assert group.message().endswith(
        "clustered as ONEOFF_PURCHASES and INSTALLMENTS_PURCHASES; PURCHASES profiled,"
        " not clustered"
    )
    kept = _plan(cc, keep_redundant=True)
    assert "PURCHASES" in [s.column for s in kept.numeric_steps]


def _pair(r: float, n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = r * a + np.sqrt(1 - r**2) * rng.normal(size=n)
    return pd.DataFrame(
        {"cust_id": np.arange(n), "visits": a + 10, "orders": b + 10, "noise": rng.normal(size=n)}
    )


def test_columns_at_r_090_are_two_facts_and_at_098_one() -> None:
    assert _plan(_pair(0.90)).redundancy == []
    frame = _pair(0.98)
    frame.loc[:4, "visits"] = np.nan  # the column with fewer gaps is kept
    (group,) = _plan(frame).redundancy
    assert group.kind == "correlated" and group.columns == ["orders", "visits"]
    assert group.evidence.startswith("|r| = 0.98 on the prepared scale")
    assert [s.column for s in _plan(frame).numeric_steps] == ["orders", "noise"]


# ---------------------------------------------------------------------- the step


def test_a_dropped_level_is_all_zero_even_beside_an_other_level() -> None:
    step = CategoricalStep(
        "OnlineSecurity",
        ("No", "Yes", "__other__"),
        "__missing__",
        "__other__",
        (0.0, 0.0, 0.0),
        (1.0, 1.0, 1.0),
        ("No internet service",),
    )
    values = np.array(["Yes", "No internet service", "Maybe", None], dtype=object)
    onehot = apply_categorical(values, step)
    assert onehot.tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 1], [0, 0, 1]]
    again = CategoricalStep.from_dict(json.loads(json.dumps(step.to_dict())))
    assert again == step
    old = {k: v for k, v in step.to_dict().items() if k != "dropped"}
    assert CategoricalStep.from_dict(old).dropped == ()  # models written before still load


def test_a_group_round_trips() -> None:
    group = RedundancyGroup.from_dict(
        {
            "kind": "correlated",
            "kept": [{"column": "a", "level": None}],
            "repeats": [{"column": "b", "level": None}],
            "evidence": "|r| = 0.99 on the prepared scale",
            "applied": True,
            "formula": None,
        }
    )
    assert RedundancyGroup.from_dict(group.to_dict()) == group
    assert group.message() == (
        "a, b (2 columns) say the same thing (|r| = 0.99 on the prepared scale): clustered"
        " once as a; b profiled, not clustered"
    )


def test_a_copied_column_is_one_group_kept_as_the_first(telco) -> None:
    frame = telco[0].head(800).copy()
    frame["Billing_copy"] = frame["PaperlessBilling"]
    frame["OnPaper"] = frame["PaperlessBilling"].map({"Yes": "No", "No": "Yes"})
    plan = _plan(frame)
    (group,) = [g for g in plan.redundancy if "PaperlessBilling" in g.columns]
    assert group.columns == ["PaperlessBilling", "Billing_copy", "OnPaper"]
    assert group.message().endswith(
        "clustered once as PaperlessBilling; Billing_copy, OnPaper profiled, not clustered"
    )
    stepped = [c.column for c in plan.categorical_steps]
    assert "PaperlessBilling" in stepped
    assert "OnPaper" not in stepped and "Billing_copy" not in stepped
    assert "OnPaper" in plan.input_categorical  # profiled, and read at scoring
    decisions = [d for d in plan.decisions if d.startswith(("OnPaper:", "Billing_copy:"))]
    assert [d.split(" (")[0] for d in decisions if "clustered" in d] == [
        "Billing_copy: profiled, not clustered",
        "OnPaper: profiled, not clustered",
    ]


def test_the_command_line_keeps_every_column_on_request(cc: pd.DataFrame, tmp_path) -> None:
    from custseg.cli import main

    data = tmp_path / "cards.csv"
    cc.head(1500).to_csv(data, index=False)
    common = ["fit", "--input", str(data), "--no-report", "--k", "3", "--k-range", "3-3", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "default")]) == 0
    assert main([*common, "--out", str(tmp_path / "kept"), "--keep-redundant"]) == 0
    default = json.loads((tmp_path / "default" / "model.json").read_text())
    kept = json.loads((tmp_path / "kept" / "model.json").read_text())
    assert "PURCHASES" not in default["feature_names"] and "PURCHASES" in kept["feature_names"]
    warned = [w for w in default["warnings"] if w["kind"] == "redundancy"]
    assert [w["columns"] for w in warned] == [
        ["ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES", "PURCHASES"]
    ]
    assert warned[0]["cli_message"].endswith("keep every column with --keep-redundant")
    assert kept["preparation"]["config"]["keep_redundant"] is True


def test_the_bounded_memory_fit_finds_the_same_groups(telco) -> None:
    from custseg.prepare import check_rows
    from custseg.prepare.moments import StatisticsAccumulator

    frame = telco[0]
    schema = infer_schema(frame)
    checked = check_rows(frame, schema)
    expected = PreparationPlan.fit(checked, schema)
    accumulator = StatisticsAccumulator(schema, PrepConfig())
    for start in range(0, len(frame), 400):
        accumulator.update(checked.frame.iloc[start : start + 400])
    plan = accumulator.plan(checked.frame)  # the whole table as the sample
    assert plan.redundancy == expected.redundancy
    assert plan.to_dict()["categorical"] == expected.to_dict()["categorical"]
    assert plan.decisions == expected.decisions


def test_the_report_says_which_columns_are_set_aside_and_why(telco, telco_model) -> None:
    from custseg.report.data import build_report_data

    data = build_report_data(telco_model, telco[0])
    roles = {col["name"]: col["reason"] for col in data["columns"]}
    assert roles["OnlineSecurity"].endswith(
        "; level 'No internet service' not encoded: it holds exactly when InternetService = No,"
        " which is clustered; the other levels are"
    )
    assert "not encoded" not in roles["InternetService"]
    assert [w["kind"] for w in data["warnings"]].count("redundancy") == 2
    assert any(
        d.startswith("StreamingMovies: level 'No internet service'") for d in data["decisions"]
    )


def test_the_advice_on_a_total_leaves_out_its_copy_not_the_other_part() -> None:
    rng = np.random.default_rng(5)
    n = 800
    high = rng.random(n) < 0.4
    limit = np.where(high, rng.normal(20_000, 1_500, n), rng.normal(3_000, 300, n)).round()
    balance = rng.uniform(0, 400, n).round()
    frame = pd.DataFrame(
        {
            "account_id": np.arange(n),
            "credit_limit": limit,
            "revolving_balance": balance,
            "open_to_buy": limit - balance,
            "visits": rng.poisson(5, n),
        }
    )
    model = fit_segments(frame, k=2, random_state=0)
    # The sum holds too, but the near-copy is found first (r = 1.00 on the prepared scale).
    (group,) = model.preparation.redundancy
    assert group.kind == "correlated" and group.columns == ["credit_limit", "open_to_buy"]
    leaks = [w for w in model.warnings if w["kind"] == "leakage"]
    assert leaks and {w["column"] for w in leaks} == {"credit_limit"}
    leak = leaks[0]
    assert leak["exclude"] == ["credit_limit", "open_to_buy"]  # the balance is a fact of its own
    assert "credit_limit and the column that repeats it (open_to_buy)" in leak["message"]
    refit = fit_segments(frame, k=2, random_state=0, exclude=leak["exclude"])
    assert not [w for w in refit.warnings if w.get("column") == "open_to_buy"]


def test_in_a_difference_only_the_total_and_its_copy_carry_the_fact() -> None:
    from custseg.engines.assemble import _copies

    frame, _ = attrition_table(1000, seed=2)
    (group,) = _plan(frame).redundancy
    assert group.kind == "sum"
    assert _copies(group) == ["Credit_Limit", "Avg_Open_To_Buy"]
    cc_group = RedundancyGroup.from_dict(
        {
            "kind": "sum",
            "kept": [{"column": "ONEOFF"}, {"column": "INSTAL"}],
            "repeats": [{"column": "PURCHASES"}],
            "evidence": "on every row",
            "applied": True,
            "formula": "PURCHASES = ONEOFF + INSTAL",
        }
    )
    assert _copies(cc_group) == ["ONEOFF", "INSTAL", "PURCHASES"]
