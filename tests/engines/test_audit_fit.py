"""The sensitive-attribute audit through a fit: every engine, the model file, the report."""

from __future__ import annotations

import json
import re

import pytest

from _audit_data import gender_trap
from _realistic import attrition_table, telco_table
from _tables import retail_table
from custseg import fit_segments, load_model, save_model
from custseg.config import FitConfig
from custseg.pipeline import fit_to_folder, metrics_document
from custseg.report import build_report_data, render_report


def test_a_segment_of_90_percent_women_is_flagged_through_the_fit(tmp_path) -> None:
    frame = gender_trap()
    model = fit_segments(frame, k=2, k_range=(2, 2))
    audit = model.profiles["audit"]
    (sex,) = audit["characteristics"]
    assert (sex["column"], sex["characteristic"], sex["clustered"]) == ("Sex", "sex/gender", False)
    assert sex["cramers_v"] == pytest.approx(0.8, abs=0.05)
    women = sex["levels"].index("Female")
    mostly_women = max(range(2), key=lambda s: sex["segments"][s]["shares"][women])
    flag = next(f for f in audit["flags"] if f["segment_id"] == mostly_women)
    assert flag["level"] == "Male" and flag["ratio"] == pytest.approx(0.2, abs=0.05)
    warning = next(w for w in model.warnings if w["kind"] == "protected_composition")
    assert f"segment {mostly_women} (" in warning["message"]
    assert re.search(
        r"Sex \(sex/gender; Cramér's V 0\.[78]\d over all segments\)", warning["message"]
    )
    # Kept in model.json: the report is rebuilt from the model file alone.
    loaded = load_model(save_model(model, tmp_path / "model.json"))
    assert loaded.profiles["audit"] == json.loads(json.dumps(audit))
    data = build_report_data(loaded, frame)
    assert data["audit"]["source"] == "table"
    assert data["audit"]["flags"] == audit["flags"]
    assert metrics_document(loaded)["audit"]["characteristics"][0]["flagged_segments"] == [0, 1]
    # Descriptors are not needed to score: without Sex the training audit is shown.
    without = build_report_data(loaded, frame.drop(columns="Sex"))
    assert without["audit"]["source"] == "training"
    assert without["audit"]["flags"] == audit["flags"]
    summary = render_report(without).summary_markdown
    assert "## Protected characteristics" in summary
    assert "Sex = Male is 10% of the segment" in summary or "Sex = Male is 11%" in summary


@pytest.mark.parametrize("cluster_descriptors", [False, True])
@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (attrition_table, {"Gender": "sex/gender", "Customer_Age": "age"}),
        (telco_table, {"gender": "sex/gender", "SeniorCitizen": "age"}),
    ],
)
def test_the_audit_appears_whether_or_not_descriptors_are_clustered(
    table, expected, cluster_descriptors
) -> None:
    frame, _ = table(n=1500)
    config = FitConfig(cluster_descriptors=cluster_descriptors)
    model = fit_segments(frame, config=config)
    audit = model.profiles["audit"]
    audited = {c["column"]: c for c in audit["characteristics"]}
    for column, characteristic in expected.items():
        assert audited[column]["characteristic"] == characteristic
        assert audited[column]["clustered"] is cluster_descriptors
        assert len(audited[column]["segments"]) == model.k
    if table is attrition_table:
        assert audited["Marital_Status"]["characteristic"] == "marital status"
        assert audited["Customer_Age"]["kind"] == "age bands"


def test_a_table_without_protected_characteristics_says_so() -> None:
    frame, _ = retail_table(n=300)
    model = fit_segments(frame.drop(columns="Year_Birth"), k=3, k_range=(3, 3))
    assert model.profiles["audit"]["found"] is False
    assert metrics_document(model)["audit"] == {"found": False, "characteristics": [], "flags": 0}
    data = build_report_data(model, frame.drop(columns="Year_Birth"))
    summary = render_report(data).summary_markdown
    assert "No column of this table was recognised as a protected characteristic" in summary


def test_the_stream_engine_audits_its_sample(tmp_path) -> None:
    path = tmp_path / "customers.csv"
    gender_trap().to_csv(path, index=False)
    out = fit_to_folder(
        path, tmp_path / "fit", config=FitConfig(k=2), engine="stream", report=False
    )
    audit = load_model(out.files["model.json"]).profiles["audit"]
    assert out.metrics["audit"]["flags"] == len(audit["flags"])
    assert [c["column"] for c in audit["characteristics"]] == ["Sex"]
    assert {f["level"] for f in audit["flags"]} == {"Male", "Female"}
