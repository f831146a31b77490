"""Drift against the training population: known answers on the sample, and the document."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from _over_time import FREQUENCIES, MONEY, bootstrap, sample, shifted, stable_model
from custseg import fit_segments
from custseg.exceptions import ConfigError, DataError, SchemaError, ScoringError
from custseg.scoring import Scorer, check_drift, score_customers
from custseg.scoring.drift import check_drift_records, psi_status, status_reached

SEEDS = (0, 1, 2)


def _by_feature(document: dict) -> dict[str, dict]:
    return {f["feature"]: f for f in document["features"]}


# ------------------------------------------------------------------ known answers


@pytest.mark.parametrize("seed", SEEDS)
def test_an_unshifted_resample_flags_nothing(seed):
    document = check_drift(stable_model(), bootstrap(seed))
    assert [f["feature"] for f in document["features"] if f["status"] != "green"] == []
    assert max(f["psi"] for f in document["features"]) < 0.02
    assert document["segments_status"] == "green" and document["segments_psi"] < 0.02
    assert document["status"] == "green"
    assert document["verdict"].startswith("no drift: all 17 features green")


@pytest.mark.parametrize("seed", SEEDS)
def test_money_times_three_is_red_and_frequencies_and_tenure_stay_green(seed):
    features = _by_feature(check_drift(stable_model(), shifted(seed)))
    assert {name: features[name]["status"] for name in MONEY} == dict.fromkeys(MONEY, "red")
    untouched = [*FREQUENCIES, "TENURE", "CASH_ADVANCE_TRX", "PURCHASES_TRX"]
    assert {name: features[name]["status"] for name in untouched} == dict.fromkeys(
        untouched, "green"
    )
    assert min(features[name]["psi"] for name in MONEY) > 0.3


@pytest.mark.parametrize("seed", SEEDS)
def test_values_jittered_by_up_to_ten_percent_stay_green(seed):
    # The GUIDE's recipe for synthetic customers: each value times a factor in [0.9, 1.1].
    # Round credit limits and frequencies of exactly 1.0 lose their exact values; that
    # is noise, not a shift (only zero, a special value, has a bin of its own).
    frame = bootstrap(seed)
    rng = np.random.default_rng(seed)
    columns = [c for c in frame.columns if c not in ("CUST_ID", "TENURE")]
    frame[columns] = frame[columns] * rng.uniform(0.9, 1.1, (len(frame), len(columns)))
    frame[FREQUENCIES] = frame[FREQUENCIES].clip(upper=1.0)
    document = check_drift(stable_model(), frame)
    assert document["status"] == "green", document["verdict"]


def test_zero_has_a_bin_of_its_own_where_it_is_frequent():
    features = _by_feature(check_drift(stable_model(), bootstrap(0, n=2_000)))
    cash = features["CASH_ADVANCE"]["bins"]["edges"]
    assert cash[:2] == [0.0, float(np.nextafter(0.0, 1.0))]
    # Half of the customers draw no cash advance: the zero bin holds about half.
    assert features["CASH_ADVANCE"]["bins"]["then"][1] == pytest.approx(0.5, abs=0.05)
    assert 0.0 not in features["BALANCE"]["bins"]["edges"]
    # A frequency of exactly 1.0 (70% of the customers) is not a special value.
    assert float(np.nextafter(1.0, 2.0)) not in features["BALANCE_FREQUENCY"]["bins"]["edges"]


def test_the_verdict_names_what_drifts_and_the_shares():
    document = check_drift(stable_model(), shifted(0))
    assert document["status"] == "red"
    assert document["verdict"].startswith("retrain recommended: 8 features red (")
    top = max(document["features"], key=lambda f: f["psi"])["feature"]
    assert f"red ({top}, " in document["verdict"]
    assert f"(PSI {document['segments_psi']:.2f})" in document["verdict"]


def test_a_column_that_empties_out_drifts_through_its_missing_bin():
    frame = bootstrap(0)
    frame.loc[frame.sample(frac=0.4, random_state=0).index, "CREDIT_LIMIT"] = np.nan
    features = _by_feature(check_drift(stable_model(), frame))
    limit = features["CREDIT_LIMIT"]
    assert limit["missing_then"] == pytest.approx(1 / 8950)
    assert limit["missing_now"] == pytest.approx(0.4, abs=0.001)
    assert limit["status"] == "red"
    assert features["MINIMUM_PAYMENTS"]["missing_then"] == pytest.approx(313 / 8950)
    assert sum(f["status"] != "green" for f in features.values()) == 1


def test_segment_shares_then_and_now():
    model = stable_model()
    labels = score_customers(model, sample()).scored["segment_id"].to_numpy()
    # Keep a tenth of segment 0: its share falls from a quarter to 3%.
    keep = (labels != 0) | (np.arange(len(labels)) % 10 == 0)
    document = check_drift(model, sample()[keep])
    segments = document["segments"]
    assert [s["segment_id"] for s in segments] == list(range(6))
    assert [s["name"] for s in segments] == model.segment_names()
    assert [s["share_then"] for s in segments] == [s.share for s in model.segments]
    now = np.bincount(labels[keep], minlength=6)
    assert [s["customers_now"] for s in segments] == now.tolist()
    assert sum(s["share_now"] for s in segments) == pytest.approx(1.0)
    assert segments[0]["share_now"] < segments[0]["share_then"]
    assert document["segments_status"] == "red"
    assert "segment shares moved" in document["verdict"]


# ------------------------------------------------------------------ the document


def test_the_document_has_the_documented_shape_and_is_json():
    document = check_drift(stable_model(), bootstrap(1, n=3_000))
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    assert {"verdict", "status", "features", "segments", "segments_psi"} <= set(document)
    assert document["thresholds"] == {"amber": 0.1, "red": 0.25}
    assert (document["rows"], document["rows_compared"], document["rows_rejected"]) == (
        3_000,
        3_000,
        0,
    )
    for feature in document["features"]:
        assert {"feature", "psi", "status", "missing_then", "missing_now"} <= set(feature)
        bins = feature["bins"]
        assert len(bins["then"]) == len(bins["now"]) == len(bins["edges"]) + 2
        assert sum(bins["then"]) == pytest.approx(1.0) and sum(bins["now"]) == pytest.approx(1.0)
    for segment in document["segments"]:
        assert {"segment_id", "name", "share_then", "share_now"} <= set(segment)
    assert document["model"]["checksum"].startswith("sha256:")
    assert document["model"]["k"] == 6


def test_thresholds_are_configurable_and_checked():
    model, frame = stable_model(), bootstrap(2, n=4_000)
    strict = check_drift(model, frame, amber=0.0005, red=0.001)
    assert strict["thresholds"] == {"amber": 0.0005, "red": 0.001}
    assert any(f["status"] == "red" for f in strict["features"])
    assert strict["verdict"].startswith("retrain recommended")
    lenient = check_drift(model, shifted(2), amber=5.0, red=10.0)
    assert lenient["status"] == "green"
    for amber, red in ((0.3, 0.2), (0.0, 0.25), (-1.0, 0.25), (float("nan"), 0.25), (True, 1)):
        with pytest.raises(ConfigError, match="--psi-"):
            check_drift(model, frame, amber=amber, red=red)


def test_status_helpers():
    assert psi_status(0.05) == "green" and psi_status(0.1) == "amber"
    assert psi_status(0.25) == "red" and psi_status(0.3, amber=0.5, red=1.0) == "green"
    assert status_reached("red", "amber") and status_reached("amber", "amber")
    assert not status_reached("green", "amber") and not status_reached("amber", "red")
    with pytest.raises(ConfigError, match="green, amber or red"):
        status_reached("orange", "red")


def test_rejected_rows_are_counted_and_not_compared():
    frame = bootstrap(3, n=2_000).astype({"PURCHASES": object})
    frame.loc[[5, 17, 33], "PURCHASES"] = "n/a?"
    document = check_drift(stable_model(), frame)
    assert (document["rows"], document["rows_compared"], document["rows_rejected"]) == (
        2_000,
        1_997,
        3,
    )
    assert any("3 of 2,000 rows could not be scored" in note for note in document["notes"])
    assert sum(s["customers_now"] for s in document["segments"]) == 1_997


def test_a_small_batch_carries_a_noise_note():
    document = check_drift(stable_model(), bootstrap(4, n=150))
    assert any(note.startswith("only 150 rows compared") for note in document["notes"])
    big = check_drift(stable_model(), bootstrap(4, n=5_000))
    assert big["notes"] == []


def test_records_give_the_same_document_as_the_frame():
    model = stable_model()
    frame = shifted(5).head(500)
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    from_records = check_drift_records(Scorer(model, require_id=False), records)
    from_frame = check_drift(model, frame)
    for document in (from_records, from_frame):
        document.pop("created_at")
    assert from_records == from_frame


def test_bad_inputs_are_clear_errors():
    model = stable_model()
    with pytest.raises(DataError, match="no rows"):
        check_drift(model, sample().head(0))
    with pytest.raises(SchemaError, match="PAYMENTS"):
        check_drift(model, sample().drop(columns=["PAYMENTS"]))
    with pytest.raises(ScoringError, match="could not be used|cannot be used|not a number"):
        check_drift(model, sample().head(20).assign(BALANCE="abc"))
    with pytest.raises(DataError, match="DataFrame"):
        check_drift(model, sample().to_dict())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="SegmentationModel"):
        check_drift("model.json", sample())  # type: ignore[arg-type]


def test_a_categorical_feature_drifts_by_its_levels():
    rng = np.random.default_rng(0)
    n = 3_000

    def table(shares: list[float]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "customer_ref": [f"R{i:05d}" for i in range(n)],
                "monthly_spend": rng.lognormal(5, 1, n),
                "visits": rng.poisson(4, n).astype(float),
                "channel": rng.choice(["web", "branch", "phone"], n, p=shares),
            }
        )

    model = fit_segments(table([0.6, 0.3, 0.1]), k=3, k_range=(3, 3), random_state=0)
    assert model.drift_reference["categorical"].keys() == {"channel"}
    same = _by_feature(check_drift(model, table([0.6, 0.3, 0.1])))
    assert same["channel"]["kind"] == "categorical" and same["channel"]["status"] == "green"
    moved = table([0.2, 0.3, 0.5])
    moved.loc[:299, "channel"] = "kiosk"  # a level never seen at training
    moved.loc[300:449, "channel"] = None
    features = _by_feature(check_drift(model, moved))
    channel = features["channel"]
    assert channel["status"] == "red"
    assert channel["bins"]["levels"] == ["web", "branch", "phone"]
    other, missing = channel["bins"]["now"][-2:]
    assert other == pytest.approx(0.1) and missing == pytest.approx(0.05)
    assert channel["missing_now"] == pytest.approx(0.05)
    assert features["monthly_spend"]["status"] == "green"
    assert features["visits"]["status"] == "green"
