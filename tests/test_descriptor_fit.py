"""Known answers: segments form on behaviour; who the customers are is profiled, not clustered.

The attrition table's demographics (gender, education, marital status, income band,
dependents, age) and the mall table's age differ between the planted groups or not, but
never form them: a behavioural segmentation leaves them out of the clustering and shows
them per segment; ``cluster_descriptors=True`` clusters on them when the user wants
demographic segments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from _realistic import attrition_table, mall_table, telco_table
from custseg import FitConfig, fit_segments, score_customers
from custseg.engines.fit import run_fit
from custseg.engines.stream import StreamEngine
from custseg.exceptions import ConfigError, DataError

DEMOGRAPHICS = [
    "Customer_Age",
    "Gender",
    "Dependent_count",
    "Education_Level",
    "Marital_Status",
    "Income_Category",
]


def _input_columns(model) -> set[str]:
    """The table columns the prepared features come from (one-hot levels included)."""
    return {name.split("=")[0] for name in model.feature_names}


def _profiled(model) -> set[str]:
    return set(model.profiles["population"])


def test_attrition_segments_form_on_behaviour_not_on_demographics() -> None:
    frame, planted = attrition_table(2000)
    model = fit_segments(frame, k=4, config=FitConfig(n_resamples=2))
    assert not set(DEMOGRAPHICS) & _input_columns(model)
    assert {"Months_on_book", "Total_Trans_Ct", "Total_Revolving_Bal"} <= _input_columns(model)
    # Numeric descriptors are profiled per segment beside the behaviour.
    assert {"Customer_Age", "Dependent_count"} <= _profiled(model)
    assert not {"Customer_Age", "Dependent_count"} & set(model.profiles["clustering_features"])
    labels = score_customers(model, frame).scored["segment_id"].to_numpy()
    # The planted high spenders and disengaged customers are each one segment.
    assert adjusted_rand_score(planted, labels) >= 0.45
    for group in (1, 2):  # HIGH_SPENDERS, DISENGAGED
        counts = np.bincount(labels[planted == group], minlength=4)
        assert counts.max() / counts.sum() >= 0.9
    roles = {c.name: c.role for c in model.schema.columns}
    assert all(roles[c] == "descriptor" for c in DEMOGRAPHICS)


def test_mall_clusters_on_income_and_spending_score_unless_asked() -> None:
    frame, planted = mall_table()
    model = fit_segments(frame, k=5, k_range=(5, 5))
    assert model.feature_names == ["Annual Income (k$)", "Spending Score (1-100)"]
    assert "Age" in _profiled(model)
    by_behaviour = score_customers(model, frame).scored["segment_id"].to_numpy()
    assert adjusted_rand_score(planted, by_behaviour) >= 0.9

    demographic = fit_segments(frame, k=5, k_range=(5, 5), cluster_descriptors=True)
    assert set(demographic.feature_names) == {
        "Age",
        "Annual Income (k$)",
        "Spending Score (1-100)",
        "Gender=Female",
        "Gender=Male",
    }
    age = demographic.schema.column("Age")
    assert age.role == "numeric" and age.protected == "age"
    assert "clustered on request" in age.reason
    assert demographic.settings["cluster_descriptors"] is True


def test_telco_demographics_are_profiled_tenure_is_clustered() -> None:
    frame, _ = telco_table(800)
    model = fit_segments(frame, k=4, config=FitConfig(n_resamples=2))
    inputs = _input_columns(model)
    assert not {"gender", "SeniorCitizen", "Partner", "Dependents"} & inputs
    assert {"tenure", "Contract", "InternetService"} <= inputs
    assert "SeniorCitizen" in _profiled(model)


def test_scoring_does_not_need_the_descriptor_columns() -> None:
    frame, _ = mall_table()
    model = fit_segments(frame, k=5, k_range=(5, 5))
    full = score_customers(model, frame).scored
    without = score_customers(model, frame.drop(columns=["Age", "Gender"])).scored
    assert without["segment_id"].tolist() == full["segment_id"].tolist()


def test_keyword_options_override_the_configuration() -> None:
    frame, _ = mall_table()
    config = FitConfig(k=3, exclude=("Spending Score (1-100)",))
    model = fit_segments(frame, config=config, exclude=["Annual Income (k$)"], k=4)
    assert model.k == 4 and model.feature_names == ["Spending Score (1-100)"]
    model = fit_segments(frame, k=2, include=["Age", "Spending Score (1-100)"])
    assert model.feature_names == ["Age", "Spending Score (1-100)"]
    assert model.schema.column("Gender").role == "descriptor"
    renamed = frame.rename(columns={"CustomerID": "shopper"})
    model = fit_segments(renamed, k=2, id_column="shopper", descriptors=["Annual Income*"])
    assert model.schema.id_column == "shopper"
    assert model.feature_names == ["Spending Score (1-100)"]
    with pytest.raises(ConfigError, match="features= and include= name the same setting"):
        fit_segments(frame, features=["Age"], include=["Age"])
    with pytest.raises(ConfigError, match="cluster_descriptors='yes' should be true or false"):
        fit_segments(frame, cluster_descriptors="yes")  # type: ignore[arg-type]


def test_a_table_of_descriptors_only_says_how_to_cluster_on_them() -> None:
    frame, _ = mall_table()
    only_who = frame[["CustomerID", "Gender", "Age"]]
    with pytest.raises(DataError, match=r"no behaviour column, only descriptors \(Gender, Age\)"):
        fit_segments(only_who, k=2)
    model = fit_segments(only_who, k=2, cluster_descriptors=True)
    assert set(model.feature_names) == {"Age", "Gender=Female", "Gender=Male"}


def test_a_playbook_lists_descriptor_columns(tmp_path: Path) -> None:
    frame, _ = mall_table()
    frame["store_visits"] = np.random.default_rng(0).poisson(5, len(frame))
    playbook = tmp_path / "mall.toml"
    playbook.write_text(
        "[playbook]\nname = 'Mall'\n[groups]\ndescriptors = ['annual income*']\n"
        "[segments.any]\nname = 'Anyone'\ndescription = 'Anyone.'\n"
        "strategies = ['Ask them.']\n"
        "traits = [{ feature = 'store_visits', stat = 'lift', op = '>=', value = 9.0 }]\n",
        encoding="utf-8",
    )
    model = fit_segments(frame, k=2, playbook=playbook)
    income = model.schema.column("Annual Income (k$)")
    assert income.role == "descriptor" and "listed as a descriptor" in income.reason
    assert model.feature_names == ["Spending Score (1-100)", "store_visits"]


def test_the_stream_engine_profiles_descriptors_as_the_memory_engine(tmp_path: Path) -> None:
    frame, _ = mall_table(600)
    path = tmp_path / "mall.csv"
    frame.to_csv(path, index=False)
    cfg = FitConfig(k=5, k_range=(5, 5), n_resamples=2)
    streamed, _ = run_fit(StreamEngine(path, chunk_rows=150, sample_rows=600), cfg)
    local = fit_segments(pd.read_csv(path), config=cfg)
    assert streamed.schema.descriptors == local.schema.descriptors == ["Gender", "Age"]
    assert streamed.feature_names == local.feature_names
    assert _profiled(streamed) == _profiled(local)
    assert streamed.profiles["population"]["Age"] == pytest.approx(
        local.profiles["population"]["Age"]
    )


def test_the_fit_summary_and_the_roles_table_say_which_columns_are_descriptors() -> None:
    from custseg.cli.fit import _roles_line
    from custseg.prepare import infer_schema
    from custseg.report.data.overview import column_roles

    frame, _ = mall_table()
    schema = infer_schema(frame)
    assert _roles_line(schema) == (
        "identifier CustomerID · 2 numeric · descriptors (who the customer is: profiled, not"
        " clustered on; --cluster-descriptors to cluster on them): Gender, Age"
        " (details: metrics.json 'columns')"
    )
    rows = {row["name"]: row for row in column_roles(frame, frame, schema)}
    assert rows["Gender"]["role"] == "descriptor"
    assert rows["Gender"]["protected"] == "sex/gender" and rows["Age"]["describes"] == "age"
    assert rows["Gender"]["reason"] == (
        "describes who the customer is (gender; protected characteristic: sex/gender):"
        " profiled per segment, not clustered on; --cluster-descriptors"
        " (cluster_descriptors=True) to cluster on it"
    )
    assert rows["Spending Score (1-100)"]["protected"] is None


def test_the_configuration_file_takes_the_descriptor_settings(tmp_path: Path) -> None:
    from custseg import load_config

    path = tmp_path / "fit.toml"
    path.write_text('[fit]\ncluster_descriptors = true\ndescriptors = ["Income"]\n')
    config = load_config(path)
    assert config.cluster_descriptors is True and config.descriptors == ("Income",)
    path.write_text('[fit]\ncluster_descriptors = "yes"\n')
    with pytest.raises(ConfigError, match=r"cluster_descriptors='yes' should be true or false"):
        load_config(path)
    assert FitConfig(exclude="notes").exclude == ("notes",)
    with pytest.raises(ConfigError, match=r"exclude=3 should be a list of column names"):
        FitConfig(exclude=3)  # type: ignore[arg-type]
