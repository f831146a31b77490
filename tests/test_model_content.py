"""A model whose checksum is valid but whose content no fit writes is refused, in one line.

The documents below are re-signed the way :mod:`custseg.model` computes its checksum, so
that only the validation of the content can refuse them: numbers beyond float range
(``1e309`` reads as infinity, a 400-digit integer), numbers that overflow the plan's
arithmetic (``1.7e308``), scales that make distances meaningless (0, -1, subnormal),
NUL characters in names, levels and keys; and a table holding NUL characters is refused
at fit, before a model could carry them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from custseg import fit_segments
from custseg.config import FitConfig
from custseg.exceptions import DataError, ModelError, SchemaError
from custseg.model import SegmentationModel, model_from_json, model_to_json
from custseg.prepare.steps import MIN_SCALE
from custseg.scoring import Scorer


def _document(model: SegmentationModel) -> dict[str, Any]:
    document = json.loads(model_to_json(model))
    document.pop("checksum")
    return document


def _signed(document: dict[str, Any], *, literal: tuple[str, str] | None = None) -> str:
    """The document with a valid checksum; ``literal`` replaces a number's JSON text.

    An infinity has no canonical JSON (the module refuses NaN and infinities), so a value
    beyond float range is written as a placeholder number, signed, then replaced by its
    literal text (``1e309``): the checksum cannot match it, the content check comes first.
    """
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    text = json.dumps({**document, "checksum": "sha256:" + digest}, indent=1)
    if literal is not None:
        assert text.count(literal[0]) == 1
        text = text.replace(literal[0], literal[1])
    return text


def _numeric(document: dict[str, Any], i: int = 0) -> dict[str, Any]:
    step: dict[str, Any] = document["preparation"]["numeric"][i]
    return step


PLACEHOLDER = 123456.789012345


@pytest.mark.parametrize(
    ("where", "literal", "field"),
    [
        (
            lambda d: _numeric(d).__setitem__("center", PLACEHOLDER),
            "1e309",
            r"preparation\.numeric\[0\]\.center",
        ),
        (
            lambda d: _numeric(d).__setitem__("scale", PLACEHOLDER),
            "-1.8e308",
            r"preparation\.numeric\[0\]\.scale",
        ),
        (lambda d: d["centroids"][1].__setitem__(2, PLACEHOLDER), "1e400", r"centroids\[1\]\[2\]"),
        (lambda d: d["metrics"].__setitem__("inertia", PLACEHOLDER), "1e309", "metrics.inertia"),
    ],
)
def test_numbers_beyond_float_range_are_refused_naming_the_field(model, where, literal, field):
    document = _document(model)
    where(document)
    text = _signed(document, literal=(repr(PLACEHOLDER), literal))
    with pytest.raises(ModelError, match=rf"holds a number beyond float range in {field} ") as e:
        model_from_json(text, source="model.json")
    assert "\n" not in str(e.value) and str(e.value).endswith("restore the original file")


def test_an_integer_no_float_holds_is_refused(model):
    document = _document(model)
    document["centroids"][0][0] = 10**400
    with pytest.raises(ModelError, match=r"integer of 401 digits in centroids\[0\]\[0\]"):
        model_from_json(_signed(document))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["feature_names"].__setitem__(0, "BAL\x00ANCE"),
            r"NUL character \(\\x00\) in feature_names\[0\]: 'BAL\\x00ANCE'",
        ),
        (
            lambda d: d["segments"][2].__setitem__("name", "Dor\x00mant"),
            r"in segments\[2\]\.name: 'Dor\\x00mant'",
        ),
        (
            lambda d: d["drift_reference"].__setitem__("BAL\x00", {}),
            r"in a key of drift_reference: 'BAL\\x00'",
        ),
    ],
)
def test_nul_characters_are_refused_at_load(model, change, message):
    document = _document(model)
    change(document)
    with pytest.raises(ModelError, match=message):
        model_from_json(_signed(document))


def test_a_centroid_beyond_the_prepared_space_names_its_segment_and_feature(model):
    document = _document(model)
    document["centroids"][3][1] = 1.7e308
    with pytest.raises(ModelError, match=r"centroids\[3\]\[1\] \(segment 3, feature 'BALANCE_"):
        model_from_json(_signed(document))


def _set(key: str, value: Any, transform: str | None = None):
    def change(document: dict[str, Any]) -> None:
        step = _numeric(document)
        if transform is not None:
            step["transform"] = transform
        step[key] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("scale", 0.0), "scale of numeric column 'BALANCE' is 0; a scale of 0"),
        (_set("scale", -1.0), "scale of numeric column 'BALANCE' is -1; a scale of 0"),
        (_set("scale", 1e-320), r"scale of numeric column 'BALANCE' is 9\.99989e-321; "),
        (_set("scale", 1.7e308), r"scale of numeric column 'BALANCE' is 1\.7e\+308, not a"),
        (_set("center", 1.7e308), r"center of numeric column 'BALANCE' is 1\.7e\+308, not a"),
        (_set("impute", -1.7e308), r"impute of numeric column 'BALANCE' is -1\.7e\+308, not"),
        (_set("clip", [-1.7e308, 1.0]), r"clip\[0\] of numeric column 'BALANCE' is -1\.7e\+308"),
        (_set("clip", [5.0, 1.0]), r"clip of numeric column 'BALANCE' is \[5, 1\]: its lower"),
        (_set("lambda", 19.8, "yeo-johnson"), r"lambda .* is 19\.8, not a Yeo-Johnson power"),
        (_set("lambda", None, "yeo-johnson"), r"lambda .* is None, not a Yeo-Johnson power"),
        (_set("lambda", 0.5), r"lambda .* is 0\.5 but its transform is 'log1p'"),
    ],
)
def test_plan_numbers_no_fit_writes_are_refused_before_scoring(model, change, message):
    document = _document(model)
    change(document)
    with pytest.raises(ModelError, match=message) as e:
        model_from_json(_signed(document))  # the plan is read once, with the model
    assert str(e.value).startswith("the model: the preparation plan's ")
    assert str(e.value).endswith("; refit the model or restore the original file")


def test_one_hot_and_pca_numbers_no_fit_writes_are_refused(sample):
    frame = sample.head(400).copy()
    frame["REGION"] = np.where(np.arange(400) % 3 == 0, "north", "south")
    # A region says where customers live: clustered on here to put it in the plan.
    config = FitConfig().with_overrides(pca=3, cluster_descriptors=True)
    fitted = fit_segments(frame, k=3, k_range=(3, 3), random_state=0, config=config)
    document = _document(fitted)
    Scorer(model_from_json(_signed(document)))  # as fitted: accepted
    for change, message in [
        (
            lambda d: d["preparation"]["categorical"][0]["center"].__setitem__(0, 2.0),
            r"center of categorical column 'REGION', level 'north' is 2, not a share",
        ),
        (
            lambda d: d["preparation"]["categorical"][0]["scale"].__setitem__(1, 0.0),
            r"scale of categorical column 'REGION', level 'south' is 0; a scale of 0",
        ),
        (
            lambda d: d["preparation"]["pca"]["components"][0].__setitem__(0, 3.0),
            r"PCA components\[0\]\[0\] is 3; components are unit vectors",
        ),
        (
            lambda d: d["preparation"]["pca"]["mean"].__setitem__(1, -1.7e308),
            r"PCA mean\[1\] is -1\.7e\+308, not a finite number within",
        ),
    ]:
        changed = json.loads(json.dumps(document))
        change(changed)
        with pytest.raises(ModelError, match=message):
            model_from_json(_signed(changed))


def test_the_fit_never_writes_a_subnormal_scale(tmp_path: Path):
    # Values a few subnormal floats apart have a spread below MIN_SCALE: the column is
    # constant for the fit (scale 1) rather than a model that load refuses.
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(200)],
            "spend": rng.gamma(2.0, 50.0, 200),
            "visits": rng.poisson(4, 200).astype(float),
            "dust": rng.integers(0, 3, 200) * 5e-324,
        }
    )
    fitted = fit_segments(frame, k=2, k_range=(2, 2), random_state=0)
    dust = next(s for s in fitted.preparation.numeric_steps if s.column == "dust")
    assert dust.scale == 1.0 and dust.scale >= MIN_SCALE
    prepared = Scorer(model_from_json(model_to_json(fitted))).plan.transform(frame)
    assert np.isfinite(prepared).all()


def test_nul_characters_in_a_table_are_refused_at_fit(sample):
    frame = sample.head(300).copy()
    named = frame.rename(columns={"BALANCE": "BAL\x00ANCE"})
    with pytest.raises(SchemaError, match=r"column name 'BAL\\x00ANCE' holds a NUL character"):
        fit_segments(named, k=3, k_range=(3, 3))
    frame["REGION"] = np.where(np.arange(300) % 2 == 0, "north", "ea\x00st")
    with pytest.raises(
        DataError,
        match=r"categorical column 'REGION' has the level 'ea\\x00st', which holds a NUL .*"
        r"--exclude REGION$",
    ):
        fit_segments(frame, k=3, k_range=(3, 3))
    # A rare level is named in the plan's decisions too: it is refused as well.
    frame["REGION"] = np.where(np.arange(300) == 7, "ea\x00st", "north")
    frame.loc[frame.index[::2], "REGION"] = "south"
    with pytest.raises(DataError, match="has the level 'ea"):
        fit_segments(frame, k=3, k_range=(3, 3))


def test_the_command_line_refuses_each_in_one_line(run_cli, model, sample, tmp_path: Path):
    data = tmp_path / "customers.csv"
    sample.head(50).to_csv(data, index=False)
    cases = {
        "beyond_range": (
            lambda d: _numeric(d).__setitem__("center", PLACEHOLDER),
            "1e309",
            "holds a number beyond float range in preparation.numeric[0].center",
        ),
        "scale_zero": (
            lambda d: _numeric(d).__setitem__("scale", 0),
            None,
            "the preparation plan's scale of numeric column 'BALANCE' is 0; a scale of 0",
        ),
        "nul_level": (
            lambda d: d["feature_names"].__setitem__(1, "BALANCE_\x00"),
            None,
            r"holds a NUL character (\x00) in feature_names[1]: 'BALANCE_\x00'",
        ),
    }
    for name, (change, literal, expected) in cases.items():
        document = _document(model)
        change(document)
        path = tmp_path / f"{name}.json"
        path.write_text(
            _signed(document, literal=None if literal is None else (repr(PLACEHOLDER), literal))
        )
        result = run_cli(["score", "--model", path, "--input", data, "--out", tmp_path / "s.csv"])
        assert result.exit_code == 2, (name, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines
        assert not (tmp_path / "s.csv").exists()
