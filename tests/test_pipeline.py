"""fit_segments end to end on the bundled sample and on tables that must fail clearly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from custseg import fit_segments, load_model, save_model, score_customers
from custseg.config import FitConfig
from custseg.exceptions import ConfigError, DataError, SchemaError
from custseg.pipeline import FitOutput, fit_to_folder, metrics_document


@pytest.fixture(scope="module")
def sample_model(_sample_frame_once):
    return fit_segments(_sample_frame_once)


def _labels(model, frame):
    result = score_customers(model, frame)
    assert result.rejects.empty
    return result.scored["segment_id"].to_numpy()


def test_recommended_segmentation_of_the_sample_is_balanced_and_stable(sample_model):
    model = sample_model
    assert 3 <= model.k <= 8
    shares = [s.share for s in model.segments]
    assert min(shares) >= 0.03
    assert model.metrics["stability_ari"] >= 0.9
    assert sum(s.size for s in model.segments) == 8950
    # Canonical numbering: largest segment first.
    assert [s.size for s in model.segments] == sorted(
        (s.size for s in model.segments), reverse=True
    )
    assert len(set(model.segment_names())) == model.k


def test_metrics_document_has_every_index_for_every_k(sample_model):
    document = metrics_document(sample_model)
    for key in (
        "k",
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "stability_ari",
        "sizes",
        "k_selection",
    ):
        assert document[key] is not None, key
    ks = [entry["k"] for entry in document["k_selection"]]
    assert ks == list(range(2, 11))
    for entry in document["k_selection"]:
        for index in (
            "inertia",
            "silhouette",
            "calinski_harabasz",
            "davies_bouldin",
            "stability_ari",
        ):
            assert isinstance(entry[index], float), (entry["k"], index)
    assert document["recommended_k"] == sample_model.k
    assert str(sample_model.k) in document["recommendation"]
    json.dumps(document, allow_nan=False)


def test_saved_model_reassigns_training_rows_to_the_same_segments(
    sample_model, _sample_frame_once, tmp_path
):
    path = save_model(sample_model, tmp_path / "model.json")
    loaded = load_model(path)
    labels = _labels(loaded, _sample_frame_once)
    assert np.bincount(labels, minlength=loaded.k).tolist() == [s.size for s in loaded.segments]
    # The preparation decisions and the training histograms travel with the model.
    assert any("log1p" in d for d in loaded.preparation.decisions)
    assert "BALANCE" in loaded.drift_reference["numeric"]


def test_same_data_and_seed_give_the_same_numbering(_sample_frame_once):
    config = FitConfig(k=4, random_state=3)
    subset = _sample_frame_once.sample(3000, random_state=1)
    first = fit_segments(subset, config=config)
    second = fit_segments(subset.copy(), config=config)
    assert first.k == second.k == 4
    assert first.centroids == second.centroids
    a = _labels(first, subset)
    assert np.array_equal(a, _labels(second, subset))
    sizes = np.bincount(a, minlength=4)
    assert sizes.tolist() == sorted(sizes.tolist(), reverse=True)


def test_k_override_and_range(_sample_frame_once):
    subset = _sample_frame_once.head(2000)
    model = fit_segments(subset, k=7, k_range=(3, 5))
    assert model.k == 7
    assert model.k_selection is not None
    assert [c.k for c in model.k_selection.candidates] == [3, 4, 5, 7]


def test_fewer_rows_than_k_is_a_clear_error(_sample_frame_once):
    with pytest.raises(DataError, match=r"n_rows=5 should be >= k=8"):
        fit_segments(_sample_frame_once.head(5), k=8)


def test_no_usable_feature_is_a_clear_error():
    frame = pd.DataFrame({"CUST_ID": [f"C{i}" for i in range(50)], "NOTE": ["same"] * 50})
    with pytest.raises((DataError, SchemaError), match="feature"):
        fit_segments(frame)


def test_all_missing_and_constant_columns_are_reported_exclusions(_sample_frame_once):
    frame = _sample_frame_once.head(1500).copy()
    frame["EMPTY"] = np.nan
    frame["CONSTANT"] = 1.0
    model = fit_segments(frame, k=3)
    roles = {c.name: c.role for c in model.schema.columns}
    assert roles["EMPTY"] == "ignored"
    assert roles["CONSTANT"] == "ignored"
    assert "EMPTY" not in model.preparation.feature_names


@pytest.mark.parametrize(
    "bad, message", [("abc", r"PURCHASES: 'abc' is not a number"), (np.inf, "infinite")]
)
def test_unusable_values_are_clear_errors(_sample_frame_once, bad, message):
    frame = _sample_frame_once.head(500).copy()
    frame["PURCHASES"] = frame["PURCHASES"].astype(object)
    frame.loc[frame.index[7], "PURCHASES"] = bad
    with pytest.raises(DataError, match=message):
        fit_segments(frame, k=3)


def test_not_a_dataframe():
    with pytest.raises(DataError, match="DataFrame"):
        fit_segments([[1, 2], [3, 4]])  # type: ignore[arg-type]


def test_large_tables_estimate_the_silhouette_and_say_so(_sample_frame_once):
    frame = pd.concat([_sample_frame_once] * 7, ignore_index=True)  # 62,650 rows
    frame["CUST_ID"] = [f"C{i}" for i in range(len(frame))]
    model = fit_segments(frame, k=4, k_range=(3, 4), config=FitConfig(n_resamples=2))
    document = metrics_document(model)
    assert document["silhouette_exact"] is False
    assert 0 < document["silhouette_sample_size"] < len(frame)
    low, high = document["silhouette_ci"]
    assert low <= document["silhouette"] <= high


# ------------------------------------------------------------ fit_to_folder (custseg fit)


@pytest.fixture(scope="module")
def small_frame(_sample_frame_once):
    return _sample_frame_once.head(1500).copy()


def test_fit_to_folder_writes_model_and_metrics(small_frame, tmp_path):
    out = tmp_path / "segments" / "nested"
    output = fit_to_folder(
        small_frame,
        out,
        config=FitConfig(k=3, k_range=(3, 4), n_resamples=2),
        training={"source": "python"},
        report=False,
    )
    assert isinstance(output, FitOutput)
    assert sorted(output.files) == ["metrics.json", "model.json"]
    assert output.files["model.json"] == out / "model.json"
    assert sorted(p.name for p in out.iterdir()) == [
        ".custseg-fit.json",
        "metrics.json",
        "model.json",
    ]
    loaded = load_model(output.files["model.json"])
    assert loaded.k == output.model.k == 3
    assert loaded.centroids == output.model.centroids
    assert loaded.training["source"] == "python" and loaded.training["rows"] == 1500
    metrics = json.loads(output.files["metrics.json"].read_text("utf-8"))
    assert metrics == json.loads(json.dumps(output.metrics)) == metrics_document(loaded)


def test_fit_to_folder_writes_the_report(small_frame, tmp_path):
    output = fit_to_folder(
        small_frame, tmp_path, config=FitConfig(k=3, k_range=(3, 3), n_resamples=2)
    )
    for name in ("model.json", "metrics.json", "report.html", "summary.md", "profiles.csv"):
        assert output.files[name] == tmp_path / name and (tmp_path / name).is_file(), name
    figures = [name for name in output.files if name.startswith("figures/")]
    assert figures and all((tmp_path / name).is_file() for name in figures)
    assert all(path.is_file() for path in output.files.values())


def test_fit_to_folder_refuses_a_file_and_writes_nothing(small_frame, tmp_path):
    taken = tmp_path / "segments"
    taken.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^out='.*segments' \(--out\) is a file; give a folder"):
        fit_to_folder(small_frame, taken, config=FitConfig(k=3, k_range=(3, 3)))
    assert taken.read_text("utf-8") == "not a folder"


def test_fit_to_folder_writes_nothing_when_the_fit_fails(small_frame, tmp_path):
    out = tmp_path / "segments"
    with pytest.raises(DataError, match=r"n_rows=5 should be >= k=8"):
        fit_to_folder(small_frame.head(5), out, config=FitConfig(k=8))
    assert not out.exists()


def test_fit_segments_arguments_override_the_config(small_frame):
    config = FitConfig(k=5, k_range=(4, 6), random_state=1, n_resamples=2)
    model = fit_segments(small_frame, k=3, k_range=[3, 3], random_state=None, config=config)
    assert model.k == 3
    assert tuple(model.settings["k_range"]) == (3, 3)
    assert model.settings["random_state"] == 1
