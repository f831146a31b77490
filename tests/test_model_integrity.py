"""Model integrity: content validated on load, size cap, HMAC-SHA256 signatures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from _tiny_model import tiny_model
from custseg.exceptions import ConfigError, ModelError
from custseg.model import (
    SegmentationModel,
    load_model,
    model_from_json,
    model_to_json,
    save_model,
)

KEY = b"a-model-signing-key-of-some-length"


def _model() -> SegmentationModel:
    return tiny_model(2, 2)


def _document() -> dict[str, Any]:
    document = json.loads(model_to_json(_model()))
    document.pop("checksum")
    return document


def _with_checksum(document: dict[str, Any]) -> str:
    """A document whose checksum matches: only content validation can refuse it."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return json.dumps({**document, "checksum": "sha256:" + digest})


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["centroids"][0].__setitem__(0, 1e308), "finite number within"),
        (lambda d: d["centroids"][0].__setitem__(0, "1.0"), "centroids"),
        (lambda d: d["centroids"].__setitem__(0, [1.0]), "coordinates"),
        (lambda d: d.__setitem__("feature_names", [1, 2]), "feature_names"),
        (lambda d: d.__setitem__("metrics", []), "metrics"),
        (lambda d: d["segments"][0].__setitem__("name", 7), "segments.name"),
        (lambda d: d["segments"][0].__setitem__("size", -1), "segments.size"),
        (lambda d: d["segments"][0].__setitem__("evil", 1), "segments.evil"),
        (lambda d: d["segments"].__setitem__(0, "S0"), "segments"),
        (lambda d: d.__setitem__("created_at", "2024-01-01\nDROP TABLE x; --"), "ISO 8601"),
        (lambda d: d.__setitem__("created_at", "yesterday"), "ISO 8601"),
        (lambda d: d.__setitem__("custseg_version", "1.0\n; DROP"), "version number"),
        (lambda d: d.__setitem__("format_version", True), "format version"),
        (lambda d: d.pop("centroids"), "missing required fields"),
        (lambda d: d["profiles"].pop("levels"), "profiles.levels"),
        (lambda d: d["profiles"]["levels"].__setitem__("segments", {}), "profiles.levels"),
    ],
)
def test_content_of_the_wrong_type_or_shape_is_refused(change, message):
    document = _document()
    change(document)
    with pytest.raises(ModelError, match=message):
        model_from_json(_with_checksum(document))


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"format": "custseg-model", "x": NaN}', "NaN is not a JSON number"),
        ('{"format": "custseg-model", "x": -Infinity}', "Infinity is not a JSON number"),
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
        ("\ufeff\x00", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
    ],
)
def test_text_that_is_not_plain_json_is_refused(text, message):
    with pytest.raises(ModelError, match=message):
        model_from_json(text)


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "model.json"
    with big.open("wb") as handle:  # sparse: 1 GB on paper, nothing on disk
        handle.truncate(1 << 30)
    with pytest.raises(ModelError, match="above the limit"):
        load_model(big)
    small = save_model(_model(), tmp_path / "small.json")
    with pytest.raises(ModelError, match="above the limit of 100 bytes"):
        load_model(small, max_bytes=100)


def test_a_model_saved_with_a_key_is_signed_and_verified(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTSEG_MODEL_KEY", KEY.decode())
    path = save_model(_model(), tmp_path / "model.json")
    document = json.loads(path.read_text())
    assert document["signature"].startswith("hmac-sha256:")
    assert load_model(path).k == 2
    assert load_model(path, require_signature=True).k == 2

    # Someone who can write the file but lacks the key: changes it, fixes the checksum.
    document.pop("signature")
    document.pop("checksum")
    document["segments"][0]["name"] = "Changed"
    forged = json.loads(_with_checksum(document))
    forged["signature"] = "hmac-sha256:" + "0" * 64
    path.write_text(json.dumps(forged))
    with pytest.raises(ModelError, match="fails its signature"):
        load_model(path)
    # ...or drops the signature: with a key set, an unsigned model is refused.
    path.write_text(_with_checksum(document))
    with pytest.raises(ModelError, match="not signed"):
        load_model(path)

    monkeypatch.setenv("CUSTSEG_MODEL_KEY", "another-key-of-enough-length")
    save_model(_model(), tmp_path / "other.json", key=KEY)
    with pytest.raises(ModelError, match="another key"):
        load_model(tmp_path / "other.json")


def test_a_signature_is_required_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.delenv("CUSTSEG_MODEL_KEY", raising=False)
    path = save_model(_model(), tmp_path / "model.json")
    assert "signature" not in json.loads(path.read_text())
    assert load_model(path).k == 2
    with pytest.raises(ConfigError, match="CUSTSEG_MODEL_KEY"):
        load_model(path, require_signature=True)
    with pytest.raises(ModelError, match="not signed"):
        load_model(path, require_signature=True, key=KEY)
    monkeypatch.setenv("CUSTSEG_MODEL_KEY", "short")
    with pytest.raises(ConfigError, match="too short"):
        save_model(_model(), tmp_path / "model.json")


def test_the_command_line_refuses_bad_models_with_exit_code_2(tmp_path: Path, run_cli, sample_csv):
    # Deeply nested, NaN literal and wrong types are each refused above; one of them here
    # shows the command line's side: exit code 2, one line, no traceback.
    path = tmp_path / "model.json"
    path.write_text("[" * 100_000)
    result = run_cli(["score", "--model", path, "--input", sample_csv, "--out", tmp_path / "s.csv"])
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("drift_reference"), r"missing required fields \['drift_reference'\]"),
        (lambda d: d.pop("lineage"), r"missing required fields \['lineage'\]"),
        (lambda d: d["training"].pop("rows"), "'training.rows' .expected a count of rows"),
        (lambda d: d["drift_reference"].pop("numeric"), "'drift_reference.numeric' .expected"),
        (
            lambda d: d["drift_reference"]["numeric"]["f0"].pop("bins"),
            "expected objects with bins, missing_share, proportions",
        ),
        (lambda d: d["playbook"].pop("summary"), "playbook has no summary"),
        (lambda d: d["playbook"].__setitem__("name", 3), "playbook has malformed"),
        (lambda d: d.__setitem__("playbook", []), "'playbook' .expected an object"),
        (lambda d: d["distance_profile"].pop("basis"), "distance_profile has no basis"),
        (lambda d: d["distance_profile"]["quantiles"].pop(), "1 rows of quantiles for 2"),
        (lambda d: d["schema"].pop("columns"), "table schema is malformed"),
        (lambda d: d["preparation"].__setitem__("version", 0), "preparation plan has version 0"),
        (lambda d: d.__setitem__("k_selection", {"knee": 3}), "malformed field 'k_selection'"),
        (lambda d: d.__setitem__("lineage", {"new": []}), "lineage has no previous_checksum"),
        (lambda d: d.__setitem__("warnings", [{"kind": "x"}]), "kind and a message"),
    ],
)
def test_every_field_and_record_is_checked_when_read(change, message):
    # Version 1 has no optional field: every model file carries each one, in its shape.
    document = _document()
    change(document)
    with pytest.raises(ModelError, match=message):
        model_from_json(_with_checksum(document))


def test_the_typed_records_are_built_once_and_saved_as_the_same_json():
    from custseg.cluster.selection import KSelection
    from custseg.model import LineageRecord, PlaybookRecord
    from custseg.prepare import PreparationPlan, TableSchema

    model = model_from_json(model_to_json(_model()))
    assert isinstance(model.schema, TableSchema)
    assert isinstance(model.preparation, PreparationPlan)
    assert isinstance(model.playbook, PlaybookRecord)
    assert model.k_selection is None and model.lineage is None
    document = _document()
    assert document["k_selection"] == {} and document["lineage"] == {}
    assert json.loads(model_to_json(model)).keys() == {*document, "checksum"}
    assert KSelection.from_dict and LineageRecord.from_dict  # the records of a full fit
