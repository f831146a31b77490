"""Stable segment identities on retrain: known answers on the sample and on separated blobs."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from _over_time import STABLE_K, bootstrap, sample, stable_model
from custseg import FitConfig, fit_segments, load_model, save_model
from custseg.engines.lineage import align_segments
from custseg.exceptions import ConfigError, DataError, SchemaError
from custseg.scoring import score_customers


def _labels(model, frame: pd.DataFrame) -> np.ndarray:
    return score_customers(model, frame).scored["segment_id"].to_numpy()


def _refit(frame: pd.DataFrame, k: int, previous, seed: int = 0):
    # One stability resample: these tests read the segments, not the stability figure.
    config = FitConfig(k=k, k_range=(k, k), n_resamples=1, random_state=seed)
    return fit_segments(frame, config=config, previous=previous)


# ------------------------------------------------------------------ known answers


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_refit_on_a_bootstrap_resample_keeps_every_id_and_name(seed):
    previous = stable_model()
    model = _refit(bootstrap(seed), STABLE_K, previous, seed=seed + 1)
    lineage = model.lineage
    assert lineage is not None
    assert lineage.matched == {i: i for i in range(STABLE_K)}
    assert lineage.new == [] and lineage.retired == []
    assert model.segment_names() == previous.segment_names()
    assert max(lineage.relative_shift.values()) < 0.15
    # The same customers land in the same segments under both models.
    agreement = (_labels(model, sample()) == _labels(previous, sample())).mean()
    assert agreement > 0.9


@pytest.mark.parametrize(("dropped", "k"), [(d, STABLE_K - 1) for d in range(STABLE_K)])
def test_removing_one_segments_customers_retires_exactly_that_segment(dropped, k):
    previous = stable_model()
    rest = sample()[_labels(previous, sample()) != dropped].reset_index(drop=True)
    model = _refit(rest, k, previous)
    lineage = model.lineage
    assert lineage is not None
    assert lineage.retired == [dropped]
    assert lineage.new == []
    assert sorted(lineage.matched.values()) == [i for i in range(STABLE_K) if i != dropped]
    for new_id, old_id in lineage.matched.items():
        assert model.segments[new_id].name == previous.segments[old_id].name
        # Ids are kept where they exist; the last previous id takes the freed one.
        assert new_id == (old_id if old_id < k else dropped)


@pytest.mark.parametrize("dropped", [0, 3])
def test_removing_a_segment_and_keeping_k_gives_one_retired_and_one_new(dropped):
    previous = stable_model()
    rest = sample()[_labels(previous, sample()) != dropped].reset_index(drop=True)
    lineage = _refit(rest, STABLE_K, previous).lineage
    assert lineage is not None
    assert lineage.retired == [dropped]
    assert len(lineage.new) == 1 and len(lineage.matched) == STABLE_K - 1
    # The new segment takes the only free id, and its nearest previous segment is known.
    assert lineage.new == [dropped]
    assert lineage.nearest.keys() == {dropped}


def _blobs(sizes: dict[str, int], seed: int = 0) -> pd.DataFrame:
    """Well-separated groups of customers; each group's centre is fixed by its name."""
    centres = {
        "a": (100.0, 5.0, 0.2),
        "b": (3_000.0, 40.0, 0.9),
        "c": (20_000.0, 2.0, 0.5),
        "d": (600.0, 80.0, 0.05),
        "e": (8_000.0, 20.0, 0.7),
    }
    rng = np.random.default_rng(seed)
    parts = []
    for name, n in sizes.items():
        spend, visits, ratio = centres[name]
        parts.append(
            pd.DataFrame(
                {
                    "group": name,
                    "spend": spend * rng.lognormal(0, 0.1, n),
                    "visits": visits + rng.normal(0, 0.5, n),
                    "ratio": np.clip(ratio + rng.normal(0, 0.02, n), 0, 1),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    frame.insert(0, "customer", [f"K{i:05d}" for i in range(len(frame))])
    return frame


def _group_of_segment(model, frame: pd.DataFrame) -> dict[int, str]:
    labels = _labels(model, frame.drop(columns="group"))
    crosstab = pd.crosstab(labels, frame["group"])
    assert (crosstab.gt(0).sum(axis=1) == 1).all()  # each segment is one group
    return {int(s): str(crosstab.loc[s].idxmax()) for s in crosstab.index}


def test_segments_keep_their_ids_when_their_sizes_change_order():
    before = _blobs({"a": 900, "b": 600, "c": 300, "d": 150})
    previous = _refit(before.drop(columns="group"), 4, None)
    expected = _group_of_segment(previous, before)
    # The smallest group becomes the largest: canonical numbering would renumber all.
    after = _blobs({"a": 200, "b": 400, "c": 600, "d": 1_000}, seed=1)
    plain = _refit(after.drop(columns="group"), 4, None)
    assert _group_of_segment(plain, after) != expected
    model = _refit(after.drop(columns="group"), 4, previous)
    assert _group_of_segment(model, after) == expected
    assert model.lineage is not None and model.lineage.matched == {i: i for i in range(4)}
    assert model.segment_names() == previous.segment_names()
    # Sizes, shares and centroids follow the ids.
    sizes = np.bincount(_labels(model, after.drop(columns="group")), minlength=4)
    assert [s.size for s in model.segments] == sizes.tolist()


def test_a_new_group_is_new_and_a_vanished_group_is_retired_whatever_k():
    before = _blobs({"a": 900, "b": 600, "c": 300, "d": 150})
    previous = _refit(before.drop(columns="group"), 4, None)
    old = {g: s for s, g in _group_of_segment(previous, before).items()}

    grown = _blobs({"a": 800, "b": 700, "c": 300, "d": 150, "e": 500}, seed=2)
    model = _refit(grown.drop(columns="group"), 5, previous)
    new = {g: s for s, g in _group_of_segment(model, grown).items()}
    assert model.lineage is not None
    assert model.lineage.new == [new["e"]] and model.lineage.retired == []
    assert all(new[g] == old[g] for g in "abcd")

    shrunk = _blobs({"a": 800, "c": 300, "d": 150}, seed=3)
    model = _refit(shrunk.drop(columns="group"), 3, previous)
    assert model.lineage is not None
    assert model.lineage.retired == [old["b"]] and model.lineage.new == []
    kept = {g: s for s, g in _group_of_segment(model, shrunk).items()}
    assert {g: model.lineage.matched[s] for g, s in kept.items()} == {g: old[g] for g in "acd"}


def test_a_renamed_segment_keeps_its_name_and_the_lineage_is_saved(tmp_path):
    # Banks rename segments: the name a team gave a segment survives the retrain.
    previous = copy.deepcopy(stable_model())
    previous.segments[1].name = "Our everyday spenders"
    previous.segments[1].description = "Named by the marketing team."
    path = save_model(previous, tmp_path / "previous.json")
    model = fit_segments(
        bootstrap(7),
        config=FitConfig(k=STABLE_K, k_range=(STABLE_K, STABLE_K), n_resamples=1),
        previous=path,
    )
    assert model.segments[1].name == "Our everyday spenders"
    assert model.segments[1].description == "Named by the marketing team."
    assert model.lineage is not None
    assert model.lineage.renamed == {1: stable_model().segments[1].name}
    assert len(set(model.segment_names())) == STABLE_K
    assert model.lineage.previous_checksum == json.loads(path.read_text())["checksum"]

    loaded = load_model(save_model(model, tmp_path / "model.json"))
    assert loaded.lineage == model.lineage
    saved = json.loads((tmp_path / "model.json").read_text())["lineage"]
    assert set(saved) >= {"matched", "new", "retired", "shift", "previous_checksum"}
    assert stable_model().lineage is None


# ------------------------------------------------------------------ validation


def test_align_segments_checks_its_inputs():
    previous, frame = stable_model(), sample().head(50)
    labels = np.zeros(50, dtype=np.int64)
    with pytest.raises(ConfigError, match="SegmentationModel"):
        align_segments("model.json", frame, labels)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_shift"):
        align_segments(previous, frame, labels, max_shift=0)
    with pytest.raises(DataError, match="one integer segment per row"):
        align_segments(previous, frame, labels[:10])
    with pytest.raises(SchemaError, match="cannot align with the previous model.*PAYMENTS"):
        align_segments(previous, frame.drop(columns=["PAYMENTS"]), labels)
    lineage = align_segments(previous, frame, labels)
    assert len(lineage.record.matched) + len(lineage.record.new) == 1


def test_a_previous_model_on_other_columns_is_a_clear_error():
    previous = stable_model()
    other = _blobs({"a": 300, "b": 300})
    with pytest.raises(SchemaError, match="cannot align with the previous model"):
        _refit(other.drop(columns="group"), 2, previous)


def test_a_model_aligned_with_itself_is_unchanged_also_from_a_sample(monkeypatch):
    from custseg.engines import lineage as module

    previous = stable_model()
    labels = _labels(previous, sample())
    whole = align_segments(previous, sample(), labels)
    assert whole.record.matched == {i: i for i in range(STABLE_K)}
    # The centroids are the means of their customers up to K-means' stopping tolerance
    # (Lloyd stops when the centroids move less than tol, before the last update).
    assert max(whole.record.relative_shift.values()) < 1e-3
    assert whole.record.rows_compared == len(sample())
    monkeypatch.setattr(module, "_MAX_ROWS", 3_000)
    sampled = align_segments(previous, sample(), labels)
    # At least 1,000 customers per segment are kept, still fewer than all of them.
    assert (
        sampled.record.matched == whole.record.matched
        and 5_900 <= sampled.record.rows_compared < len(sample())
    )
    assert max(sampled.record.relative_shift.values()) < 0.1
