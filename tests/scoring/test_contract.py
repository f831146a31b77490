"""The scoring contract: missing and repeated identifiers, unseen levels, typicality."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from custseg.cluster.kmeans import assign
from custseg.cluster.typicality import (
    OUTLIER_PERCENTILE,
    PERCENTILES,
    distance_percentiles,
    distance_profile,
)
from custseg.exceptions import ConfigError, ModelError
from custseg.model import model_from_json, model_to_json
from custseg.pipeline import fit_segments
from custseg.scoring.batch import score_customers, score_file
from custseg.scoring.contract import DuplicateCount, SeenIds, id_keys, repeated_rows
from custseg.scoring.records import score_json
from custseg.scoring.scorer import Scorer


def _shops(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Customers with a text id, two amounts and a channel (a categorical input)."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "customer_id": [f"K{i:05d}" for i in range(n)],
            "spend": rng.gamma(3.0, 100.0, n) * (1 + 4 * (group == 0)),
            "visits": rng.poisson(3 + 6 * (group == 1), n).astype(float),
            "channel": np.array(["web", "store", "phone"])[group],
        }
    )


@pytest.fixture(scope="module")
def shops_model():
    return fit_segments(_shops(), k=3, k_range=(3, 3), random_state=0)


# ----------------------------------------------------------------- identifiers


def test_a_row_without_an_identifier_is_rejected_with_its_reason(model, sample):
    frame = sample.head(20).copy()
    frame.loc[3, "CUST_ID"] = None
    frame.loc[7, "CUST_ID"] = ""
    result = score_customers(model, frame)
    assert result.rejects["row"].tolist() == [4, 8]
    assert all(r.startswith("missing_id: CUST_ID is empty") for r in result.rejects["reason"])
    assert len(result.scored) == 18 and result.scored["CUST_ID"].notna().all()
    assert result.counts["missing_id"] == 2


def test_a_file_row_without_an_identifier_is_rejected(model, sample, tmp_path):
    frame = sample.head(50).copy()
    frame.loc[10, "CUST_ID"] = None
    source = tmp_path / "new.parquet"
    frame.to_parquet(source, index=False)
    summary = score_file(model, source, tmp_path / "scored.parquet")
    assert (summary.scored, summary.rejected, summary.counts["missing_id"]) == (49, 1, 1)
    rejects = pd.read_csv(summary.rejects)
    assert rejects["row"].tolist() == [11]
    assert rejects["reason"].iloc[0].startswith("missing_id:")
    assert "missing id" in summary.line()


def test_repeated_identifiers_are_counted_across_chunks_and_rejected_when_asked(
    model, sample, tmp_path
):
    frame = sample.head(100).copy()
    frame.loc[60, "CUST_ID"] = frame.loc[2, "CUST_ID"]  # repeats a row of another chunk
    frame.loc[61, "CUST_ID"] = frame.loc[2, "CUST_ID"]
    frame.loc[90, "CUST_ID"] = frame.loc[89, "CUST_ID"]  # within one chunk
    source = tmp_path / "new.csv"
    frame.to_csv(source, index=False)
    counted = score_file(model, source, tmp_path / "a.csv", chunk_size=25)
    assert counted.counts["duplicate_id"] == 3 and counted.rejected == 0
    assert json.loads(json.dumps(counted.to_dict()))["counts"]["duplicate_id"] == 3
    rejected = score_file(model, source, tmp_path / "b.csv", chunk_size=25, reject=["duplicate_id"])
    assert rejected.counts["duplicate_id"] == 3
    assert (rejected.scored, rejected.rejected) == (97, 3)
    rejects = pd.read_csv(rejected.rejects)
    assert rejects["row"].tolist() == [61, 62, 91]
    assert rejects["reason"].str.startswith("duplicate_id: CUST_ID").all()
    # The first row with each identifier is scored.
    scored = pd.read_csv(tmp_path / "b.csv")
    assert scored["CUST_ID"].is_unique and len(scored) == 97


def test_unknown_reject_code_is_a_config_error(model, sample):
    with pytest.raises(ConfigError, match="reject code .out_of_profile. is unknown"):
        score_customers(model, sample.head(5), reject=["out_of_profile"])


# ----------------------------------------------------------------- category levels


def test_an_unseen_level_is_scored_flagged_and_counted(shops_model):
    frame = _shops(30, seed=1)
    frame.loc[[4, 9], "channel"] = "kiosk"
    frame.loc[5, "channel"] = None  # a gap is imputed, not unseen
    result = score_customers(shops_model, frame)
    assert result.rejects.empty and result.counts["unseen_level"] == 2
    # An unknown channel has no one-hot column: such rows often lie far out, too.
    flags = result.scored["flags"].fillna("")
    assert flags.iloc[4].endswith("unseen_level:channel")
    assert flags.iloc[9].endswith("unseen_level:channel")
    assert flags.drop([4, 9]).str.contains("unseen").sum() == 0
    rejected = score_customers(shops_model, frame, reject=["unseen_level"])
    assert rejected.rejects["row"].tolist() == [5, 10]
    assert rejected.rejects["reason"].iloc[0] == (
        "unseen_level: channel 'kiosk' was not seen in training"
    )
    assert rejected.counts["unseen_level"] == 2 and len(rejected.scored) == 28


# ----------------------------------------------------------------- typicality


def test_training_customers_spread_evenly_over_the_percentiles(model, sample):
    scored = score_customers(model, sample).scored
    percentile = scored["distance_percentile"].to_numpy()
    assert percentile.min() == 0.0 and percentile.max() == 100.0
    # The profile was measured on these rows: each decile holds about a tenth of them.
    deciles = np.histogram(percentile, bins=10, range=(0, 100))[0] / len(percentile)
    assert np.allclose(deciles, 0.1, atol=0.01)
    out = scored["flags"].fillna("").str.contains("out_of_profile")
    assert 0.003 < out.mean() < 0.007
    assert (scored.loc[out, "distance_percentile"] > OUTLIER_PERCENTILE).all()


def test_a_far_row_is_out_of_profile_but_keeps_its_nearest_segment(model, sample):
    frame = sample.head(3).copy()
    frame.loc[1, "BALANCE"] = 1e9
    frame.loc[1, "CASH_ADVANCE"] = 1e9
    result = score_customers(model, frame)
    row = result.scored.iloc[1]
    assert row["flags"] == "out_of_profile" and row["distance_percentile"] == 100.0
    assert result.counts["out_of_profile"] >= 1
    X = model.preparation.transform(frame)
    assert row["segment_id"] == assign(X, model.centroid_array).labels[1]


def test_percentiles_interpolate_the_stored_quantiles():
    percentiles = np.array([0.0, 50.0, 99.5, 100.0])
    quantiles = np.array([[1.0, 2.0, 4.0, 4.0], [0.0, 0.0, 10.0, 20.0]])
    distance = np.array([0.5, 1.0, 1.5, 3.0, 4.0, 9.0, 0.0, 5.0, 15.0, 20.0])
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    got = distance_percentiles(distance, labels, percentiles, quantiles)
    # Ties in the quantiles (0, 0) take the upper side: distance 0 sits at the 50th.
    expected = [0.0, 0.0, 25.0, 74.75, 100.0, 100.0, 50.0, 74.75, 99.75, 100.0]
    assert np.allclose(got, expected)


def test_the_profile_holds_sorted_quantiles_of_each_segment():
    rng = np.random.default_rng(0)
    distance = rng.gamma(2.0, 1.0, 3000)
    labels = rng.integers(0, 3, 3000)
    profile = distance_profile(distance, labels, 4, rows_of_table=6000)
    assert profile["percentiles"] == list(PERCENTILES)
    assert profile["basis"] == "uniform sample" and profile["rows"] == 3000
    for s in range(3):
        q = np.asarray(profile["quantiles"][s])
        assert np.all(np.diff(q) >= 0)
        assert q[0] == distance[labels == s].min() and q[-1] == distance[labels == s].max()
    # Segment 3 has no row: it borrows the quantiles of all rows.
    assert profile["quantiles"][3][50] == pytest.approx(np.median(distance))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p["quantiles"][0].reverse(), "not sorted"),
        (lambda p: p["quantiles"].pop(), "rows of quantiles"),
        (lambda p: p.__setitem__("outlier_percentile", 99.9), "outlier_percentile"),
        (lambda p: p["percentiles"].reverse(), "rise strictly"),
        (lambda p: p["quantiles"][1].__setitem__(3, -1.0), "finite distances"),
    ],
)
def test_a_model_with_a_broken_profile_is_refused_on_load(model, change, message):
    document = json.loads(model_to_json(model))
    document.pop("checksum")
    change(document["distance_profile"])
    from custseg._utils.io import sha256_bytes
    from custseg.model.document import _canonical

    text = json.dumps({**document, "checksum": "sha256:" + sha256_bytes(_canonical(document))})
    with pytest.raises(ModelError, match=message):
        model_from_json(text)


def test_every_engine_stores_the_profile_of_its_rows(model, sample):
    profile = model.distance_profile
    assert profile.basis == "all rows" and profile.rows == len(sample)
    X = model.preparation.transform(sample)
    nearest = assign(X, model.centroid_array)
    for s in range(model.k):
        mine = nearest.distance[nearest.labels == s]
        assert profile.quantiles[s][-1] == pytest.approx(mine.max())
        assert profile.quantiles[s][50] == pytest.approx(np.median(mine))


# ----------------------------------------------------------------- files and outputs


def test_csv_and_parquet_outputs_carry_the_same_new_columns(shops_model, tmp_path):
    frame = _shops(40, seed=2)
    frame.loc[3, "channel"] = "kiosk"
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    a = score_file(shops_model, source, tmp_path / "s.csv", chunk_size=7)
    b = score_file(shops_model, source, tmp_path / "s.parquet", chunk_size=7)
    assert a.counts == b.counts and a.counts["unseen_level"] == 1
    from_csv = pa_csv.read_csv(tmp_path / "s.csv").to_pandas()
    from_parquet = pq.read_table(tmp_path / "s.parquet").to_pandas()
    assert list(from_csv.columns)[-2:] == ["distance_percentile", "flags"]
    assert np.allclose(from_csv["distance_percentile"], from_parquet["distance_percentile"])
    assert from_parquet["flags"].astype(object).iloc[3].endswith("unseen_level:channel")
    in_memory = score_customers(shops_model, frame).scored
    assert np.allclose(in_memory["distance_percentile"], from_parquet["distance_percentile"])


def test_records_carry_the_same_columns_and_counts(shops_model):
    records = _shops(5, seed=3).to_dict("records")
    records[1]["channel"] = "kiosk"
    records[2]["customer_id"] = None
    records[4]["customer_id"] = records[0]["customer_id"]
    results, counts = score_json(Scorer(shops_model), records)
    assert list(counts) == ["missing_id", "duplicate_id", "unseen_level", "out_of_profile"]
    assert (counts["missing_id"], counts["duplicate_id"], counts["unseen_level"]) == (1, 1, 1)
    assert counts["out_of_profile"] == sum("out_of_profile" in (r["flags"] or "") for r in results)
    assert results[1]["flags"].endswith("unseen_level:channel")
    assert results[2]["status"] == "rejected" and results[2]["reason"].startswith("missing_id")
    assert 0.0 <= results[0]["distance_percentile"] <= 100.0


# ----------------------------------------------------------------- identifier keys


def test_repeats_are_found_like_a_python_set_would():
    rng = np.random.default_rng(1)
    seen, tally, known, expected_total = SeenIds(), DuplicateCount(), set(), 0
    for _ in range(20):
        values = rng.integers(0, 2000, 300)
        texts = pa.array([f"C{v}" + "x" * (v % 70) for v in values.tolist()])
        keys, missing = id_keys(texts)
        assert not missing.any()
        expected = []
        for v in values.tolist():
            expected.append(v in known)
            known.add(v)
        assert seen.add(keys).tolist() == expected
        tally.add(keys)
        expected_total += sum(expected)
    assert tally.total() == expected_total


def test_identifier_keys_tell_texts_and_numbers_apart():
    keys, missing = id_keys(pa.array(["a", "a\x00", "ab", "", None, "abcdefghij", "abcdefghik"]))
    assert missing.tolist() == [False, False, False, True, True, False, False]
    assert len({int(k) for k, m in zip(keys, missing, strict=True) if not m}) == 5
    ints, _ = id_keys(pa.array([17850, 17851]))
    floats, _ = id_keys(pa.array([17850.0, float("nan")]))
    assert ints[0] == floats[0] and ints[0] != ints[1]
    assert repeated_rows(np.array([5, 3, 5, 5], dtype=np.uint64)).tolist() == [
        False,
        False,
        True,
        True,
    ]


def test_the_stream_engine_measures_its_uniform_sample(sample, tmp_path):
    from custseg.config import FitConfig
    from custseg.engines import run_fit
    from custseg.engines.stream import StreamEngine

    path = tmp_path / "customers.parquet"
    sample.to_parquet(path, index=False)
    cfg = FitConfig(k=4, k_range=(4, 4), n_resamples=2)
    model, kept = run_fit(StreamEngine(path, chunk_rows=2000, sample_rows=3000), cfg)
    profile = model.distance_profile
    assert (profile.basis, profile.rows) == ("uniform sample", 3000)
    # Scored, every customer of the file lands about evenly over the percentiles.
    scored = score_customers(model, sample).scored
    deciles = np.histogram(scored["distance_percentile"], bins=10, range=(0, 100))[0]
    assert np.allclose(deciles / len(scored), 0.1, atol=0.03)
    share = scored["flags"].fillna("").str.contains("out_of_profile").mean()
    assert 0.001 < share < 0.015


@pytest.mark.parametrize(
    "make",
    [
        lambda v: pa.array([f"S{x:09d}" for x in v], pa.large_string()),  # one length
        lambda v: pa.array([f"customer-{x:012d}" for x in v]),  # 21 bytes: no shortcut
        lambda v: pa.array(v, pa.int64()),
        lambda v: pa.array([f"K{x}" for x in v]),  # lengths differ
    ],
)
def test_repeats_are_counted_in_ordered_and_shuffled_inputs(make):
    rng = np.random.default_rng(2)
    ordered = np.arange(0, 40_000, 2)
    late_repeat = np.concatenate([ordered, [ordered[10]]])  # in order until the last row
    shuffled = rng.permutation(np.concatenate([ordered, ordered[:37]]))
    for values, expected in ((ordered, 0), (late_repeat, 1), (shuffled, 37)):
        tally = DuplicateCount()
        for start in range(0, len(values), 3000):
            tally.add_ids(make(values[start : start + 3000]))
        assert tally.total() == expected


def test_identifiers_with_lone_surrogates_get_keys_equal_only_for_equal_ids():
    # Valid in JSON, not in UTF-8: the service must still count repeats among them.
    keys, missing = id_keys(["a\udc80", "a\udc81", "a\udc80", "b"])
    assert not missing.any()
    assert keys[0] == keys[2]
    assert len({int(k) for k in keys}) == 3
