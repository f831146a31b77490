"""The model file: versioned, checksummed JSON that never executes anything."""

from __future__ import annotations

import dataclasses
import json
import pickle

import numpy as np
import pytest

from _tiny_model import tiny_model
from custseg.exceptions import ModelError
from custseg.model import (
    FORMAT_VERSION,
    Segment,
    SegmentationModel,
    load_model,
    model_from_json,
    model_to_json,
    save_model,
)


def _model(k: int = 3, d: int = 4) -> SegmentationModel:
    return tiny_model(k, d, metrics={"inertia": np.float64(1.5), "sizes": np.array([3, 2, 1])})


def test_round_trip_preserves_every_float_exactly(tmp_path):
    model = _model()
    path = save_model(model, tmp_path / "model.json")
    loaded = load_model(path)
    assert np.array_equal(loaded.centroid_array, model.centroid_array)
    assert loaded.segment_names() == ["S0", "S1", "S2"]
    assert loaded.metrics == {"inertia": 1.5, "sizes": [3, 2, 1]}
    assert loaded.format_version == FORMAT_VERSION


def test_load_accepts_the_output_folder(tmp_path):
    save_model(_model(), tmp_path / "model.json")
    assert load_model(tmp_path).k == 3


def test_tampered_file_is_refused(tmp_path):
    path = save_model(_model(), tmp_path / "model.json")
    document = json.loads(path.read_text())
    document["centroids"][0][0] += 1.0
    path.write_text(json.dumps(document))
    with pytest.raises(ModelError, match="checksum"):
        load_model(path)


def test_newer_format_version_is_refused():
    document = json.loads(model_to_json(_model()))
    document["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(ModelError, match="format version"):
        model_from_json(json.dumps(document))


def test_pickle_and_other_non_json_files_are_refused(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"centroids": [[1.0]]}))
    with pytest.raises(ModelError, match="not JSON"):
        load_model(path)
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    with pytest.raises(ModelError, match="not a custseg model"):
        load_model(other)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "nope.json")


@pytest.mark.parametrize(
    "centroids, message",
    [([[1.0, 2.0], [3.0]], "coordinates"), ([[1.0, float("nan")]], "not a finite number")],
)
def test_inconsistent_content_is_refused(centroids, message):
    model = tiny_model(1, 2)
    with pytest.raises(ModelError, match=message):
        dataclasses.replace(model, centroids=centroids, segments=_segments(len(centroids)))


def test_segments_must_be_numbered_in_order():
    model = tiny_model(2, 1)
    with pytest.raises(ModelError, match="segments 0..1"):
        dataclasses.replace(model, segments=_segments(2)[::-1])


def test_feature_names_must_be_the_plans():
    model = tiny_model(2, 2)
    with pytest.raises(ModelError, match="feature_names differ from its preparation plan"):
        dataclasses.replace(model, feature_names=["f1", "f0"])


def _segments(k: int) -> list[Segment]:
    return [Segment(id=i, size=1, share=1 / k) for i in range(k)]


def test_save_is_atomic_when_serialisation_fails(tmp_path):
    path = tmp_path / "model.json"
    save_model(_model(), path)
    before = path.read_bytes()
    broken = _model()
    broken.metrics = {"bad": object()}
    with pytest.raises(TypeError):
        save_model(broken, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def test_a_fitted_model_reads_back_typed_and_writes_the_same_document(model):
    from custseg.cluster.selection import KSelection
    from custseg.model import DistanceProfile, PlaybookRecord
    from custseg.prepare import PreparationPlan, TableSchema

    text = model_to_json(model)
    loaded = model_from_json(text)
    assert isinstance(loaded.schema, TableSchema)
    assert isinstance(loaded.preparation, PreparationPlan)
    assert isinstance(loaded.k_selection, KSelection) and loaded.k_selection.candidates
    assert isinstance(loaded.distance_profile, DistanceProfile)
    assert isinstance(loaded.playbook, PlaybookRecord)
    # Every record turns back into the very same JSON (NaN indices stay null, key order kept).
    assert model_to_json(loaded) == text
    assert loaded.k_selection.recommended_k == model.k_selection.recommended_k
