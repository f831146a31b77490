"""Known answers on small tables with the traps of the first release.

On other customer tables than the bundled sample the first release clustered on an
account number and a churn label, named a segment after a model-score column, let rare
0/1 flags make segments of their own and picked k = 2 where three segments were stable.
Each test builds a small synthetic table with one of those traps (``bench/_trap_tables.py``)
and checks that it no longer happens.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _trap_tables import NB_SCORE_1, NB_SCORE_2, bank_churn, bank_churners, retail
from custseg import fit_segments, score_customers
from custseg.config import FitConfig
from custseg.explain.rules import SegmentRule


def _flag_segments(labels: np.ndarray, frame: pd.DataFrame, flags: list[str]) -> list[str]:
    """Segments at least 90% flagged that hold at least half of a flag's customers."""
    found = []
    for name in flags:
        flagged = frame[name].to_numpy() == 1
        for g in np.unique(labels):
            members = labels == g
            if flagged[members].mean() >= 0.9 and (flagged & members).sum() >= flagged.sum() / 2:
                found.append(f"{name} -> segment {g}")
    return found


@pytest.fixture(scope="module")
def churners_model():
    frame = bank_churners(1500)
    return frame, fit_segments(frame, random_state=0)


def test_an_account_number_is_the_key_not_a_feature(churners_model) -> None:
    frame, model = churners_model
    assert model.schema.id_column == "CLIENTNUM"
    assert "CLIENTNUM" not in model.feature_names
    assert not [w for w in model.warnings if w["kind"] == "no_identifier"]
    scored = score_customers(model, frame.head(20)).scored
    assert scored["CLIENTNUM"].tolist() == frame["CLIENTNUM"].head(20).tolist()


def test_no_segment_is_named_after_a_model_score(churners_model) -> None:
    _, model = churners_model
    for column in ("Attrition_Flag", NB_SCORE_1, NB_SCORE_2):
        assert not [f for f in model.feature_names if f.startswith(column)]
    profiled = model.profiles["population"]
    assert NB_SCORE_1 not in profiled and NB_SCORE_2 not in profiled
    for segment in model.segments:
        text = " ".join([segment.name, segment.description, *segment.traits]).lower()
        assert "naive" not in text and "classifier" not in text and "attrition" not in text
        assert len(segment.name) < 130


def test_outcomes_are_profiled_per_segment_on_every_row(churners_model) -> None:
    frame, model = churners_model
    outcomes = model.profiles["outcomes"]
    assert outcomes["columns"] == ["Attrition_Flag", NB_SCORE_1, NB_SCORE_2]
    assert outcomes["details"]["Attrition_Flag"] == {
        "kind": "outcome flag: attrition",
        "family": "churn",
        "positive": "Attrited Customer",
    }
    assert outcomes["details"][NB_SCORE_1] == {"kind": "model output: classifier", "family": None}
    assert outcomes["stats"]["Attrition_Flag"]["measure"] == "rate"
    attrited = (frame["Attrition_Flag"] == "Attrited Customer").to_numpy()
    assert outcomes["population"]["Attrition_Flag"] == pytest.approx(attrited.mean())
    labels = score_customers(model, frame).scored["segment_id"].to_numpy()
    for entry in outcomes["segments"]:
        rate = attrited[labels == entry["id"]].mean()
        assert entry["values"]["Attrition_Flag"] == pytest.approx(rate)
        expected = frame[NB_SCORE_1].to_numpy()[labels == entry["id"]].mean()
        assert entry["values"][NB_SCORE_1] == pytest.approx(expected)
    # The segments differ in attrition: the table a bank wants.
    rates = [e["values"]["Attrition_Flag"] for e in outcomes["segments"]]
    assert max(rates) > 1.5 * min(rates)


def test_the_churn_flag_does_not_make_a_segment() -> None:
    frame = bank_churn(1500)
    model = fit_segments(frame, random_state=0)
    assert "Exited" not in model.feature_names and "Complain" not in model.feature_names
    assert model.profiles["outcomes"]["columns"] == ["Exited", "Complain"]
    exited = frame["Exited"].to_numpy() == 1
    labels = score_customers(model, frame).scored["segment_id"].to_numpy()
    for g in range(model.k):
        members = labels == g
        # no segment is (almost) exactly the churned customers
        assert not (exited[members].mean() > 0.9 and exited[~members].mean() < 0.1)


def test_a_column_that_reproduces_a_segment_is_reported_at_once() -> None:
    # Three groups that no single behaviour column separates, and a churn flag that
    # is exactly one of them, clustered on by request.
    rng = np.random.default_rng(4)
    n = 900
    group = np.repeat([0, 1, 2], n // 3)
    centres = np.array([[0.0, 0.0, 0.0], [3.0, 3.0, 0.0], [0.0, 3.0, 3.0]])
    values = centres[group] + rng.normal(0, 0.8, (n, 3))
    frame = pd.DataFrame(values, columns=["spend", "visits", "tenure"])
    frame.insert(0, "customer_id", [f"C{i:04d}" for i in range(n)])
    frame["Exited"] = (group == 2).astype(int)
    seen: list[dict] = []
    config = FitConfig(k=3, k_range=(3, 3), features=("spend", "visits", "tenure", "Exited"))
    model = fit_segments(frame, config=config, on_warning=seen.append)
    leaks = [w for w in model.warnings if w["kind"] == "leakage"]
    assert leaks == seen and len(leaks) == 1
    leak = leaks[0]
    assert leak["column"] == "Exited" and leak["rule"] == "Exited ≥ 1"
    assert leak["precision"] >= 0.98 and leak["coverage"] >= 0.98
    labels = score_customers(model, frame).scored["segment_id"].to_numpy()
    assert (labels[frame["Exited"] == 1] == leak["segment_id"]).mean() >= 0.98
    assert "\n" not in leak["message"]
    assert leak["message"].startswith(
        f"column 'Exited' alone reproduces segment {leak['segment_id']}"
    )
    assert leak["message"].endswith("leave it out with exclude=['Exited']")
    assert leak["cli_message"].endswith("leave it out with --exclude Exited")
    # The reproduced rule is the segment's own rule, and the name agrees with it.
    rule = SegmentRule.from_dict(model.segments[leak["segment_id"]].rule)
    assert rule.features[0] == "Exited"
    assert model.segments[leak["segment_id"]].traits[0].lower().startswith("exited")


def test_a_missing_identifier_is_said_before_anything_is_fitted() -> None:
    frame = bank_churners(400).drop(columns=["CLIENTNUM"])
    events: list[str] = []

    class Recorder:
        def stage(self, description: str, total: float | None = None):
            events.append(description)
            return _Stage()

    model = fit_segments(
        frame,
        k=3,
        k_range=(3, 3),
        progress=Recorder(),
        on_warning=lambda w: events.append(w["kind"]),
    )
    assert events[0] == "no_identifier"
    assert events.index("no_identifier") < events.index("Preparing features")
    warning = model.warnings[0]
    assert warning["kind"] == "no_identifier"
    assert "id_column='...'" in warning["message"] and "--" not in warning["message"]
    assert "--id-column" in warning["cli_message"]


class _Stage:
    def advance(self, amount: float = 1) -> None:
        return None

    def __enter__(self) -> _Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_rare_flags_do_not_make_segments_of_their_own() -> None:
    frame = retail(2240)
    rng = np.random.default_rng(1)
    flags = ["Complain", "AcceptedCmp2"]
    for name, share in {"flag_1": 0.01, "flag_2": 0.02, "flag_3": 0.03}.items():
        column = np.zeros(len(frame), dtype=np.int64)
        column[rng.choice(len(frame), round(share * len(frame)), replace=False)] = 1
        frame[name] = column
        flags.append(name)
    # Complain is an outcome by its name: clustered on here by request, like the flags.
    features = [c for c in frame.columns if c not in ("ID", "Dt_Customer", "Response")]
    model = fit_segments(frame, config=FitConfig(features=tuple(features)), random_state=0)
    for name in flags:
        step = next(s for s in model.preparation.numeric_steps if s.column == name)
        assert (step.transform, step.center, step.scale) == ("none", 0.0, 1.0)
    labels = score_customers(model, frame).scored["segment_id"].to_numpy()
    assert _flag_segments(labels, frame, flags) == []
    assert not [w for w in model.warnings if w["kind"] == "leakage"]


def test_a_retail_table_gets_its_three_stable_segments_with_any_seed() -> None:
    frame = retail(2240)
    ks = []
    for seed in (0, 1, 2):
        model = fit_segments(frame, random_state=seed)
        ks.append(model.k)
        assert model.schema.id_column == "ID"
        roles = {c.name: c.role for c in model.schema.columns}
        assert roles["Dt_Customer"] == "datetime"
        assert roles["Response"] == roles["Complain"] == "outcome"
        assert roles["Z_CostContact"] == roles["Z_Revenue"] == "ignored"
    assert ks == [3, 3, 3]
    assert model.k_selection is not None
    explanation = model.k_selection.explanation
    assert "k = 2 (two segments are rarely actionable and k >= 3 is eligible)" in explanation
