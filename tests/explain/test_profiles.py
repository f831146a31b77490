"""Segment profiles: statistics against direct computations, guards, JSON, CSV, scale."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from _credit_cards import cc_frame, cc_labels
from _credit_cards import with_derived as _with_derived
from custseg.exceptions import CustsegError, DataError, SchemaError
from custseg.explain.profiles import PROFILE_COLUMNS, SegmentProfiles, profile_segments


def with_derived(frame: pd.DataFrame) -> pd.DataFrame:
    return _with_derived(
        frame, ("MONTHLY_AVG_PURCHASES", "CREDIT_UTILISATION", "PAYMENT_MINIMUM_RATIO")
    )


def cohen_d(a: pd.Series, b: pd.Series) -> float:
    a, b = a.dropna(), b.dropna()
    pooled = ((len(a) - 1) * a.var() + (len(b) - 1) * b.var()) / (len(a) + len(b) - 2)
    return float((a.mean() - b.mean()) / np.sqrt(pooled))


def test_statistics_match_direct_computation_on_cc_general():
    frame = with_derived(cc_frame())
    labels = cc_labels(4)
    clustering = list(cc_frame().columns.drop("CUST_ID"))
    profiles = profile_segments(frame, labels, clustering_features=clustering)

    assert profiles.segment_ids == [0, 1, 2, 3]
    assert int(profiles.sizes["size"].sum()) == len(frame) == profiles.n_rows
    assert profiles.sizes["share"].sum() == pytest.approx(1.0)
    # CUST_ID is text: every other column, derived ones included, is profiled.
    assert profiles.features == [c for c in frame.columns if c != "CUST_ID"]
    assert len(profiles.table) == 4 * len(profiles.features)
    assert list(profiles.table.columns) == PROFILE_COLUMNS

    for g in range(4):
        inside, rest = frame[labels == g], frame[labels != g]
        for feature in ("CASH_ADVANCE", "MINIMUM_PAYMENTS", "PRC_FULL_PAYMENT", "TENURE"):
            row = profiles.segment(g).loc[feature]
            assert row["mean"] == pytest.approx(inside[feature].mean(), rel=1e-9)
            assert row["median"] == pytest.approx(inside[feature].median(), rel=1e-9)
            assert row["population_mean"] == pytest.approx(frame[feature].mean(), rel=1e-9)
            assert row["lift"] == pytest.approx(
                inside[feature].mean() / frame[feature].mean(), rel=1e-9
            )
            expected = cohen_d(inside[feature], rest[feature])
            assert row["effect_size"] == pytest.approx(expected, rel=1e-7, abs=1e-9)
        # MINIMUM_PAYMENTS has 313 gaps: the missing share is reported per segment.
        assert profiles.segment(g).loc["MINIMUM_PAYMENTS", "missing_share"] == pytest.approx(
            inside["MINIMUM_PAYMENTS"].isna().mean()
        )
    assert profiles.population.loc["BALANCE", "std"] == pytest.approx(frame["BALANCE"].std())


def test_top_features_rank_by_absolute_effect_and_flag_unused_features():
    frame = with_derived(cc_frame())
    clustering = list(cc_frame().columns.drop("CUST_ID"))
    profiles = profile_segments(frame, cc_labels(4), clustering_features=clustering)
    table = profiles.table
    assert table.loc[table["feature"] == "BALANCE", "used_for_clustering"].all()
    assert not table.loc[table["feature"] == "CREDIT_UTILISATION", "used_for_clustering"].any()

    for g in profiles.segment_ids:
        top = profiles.top_features(g, 5)
        assert len(top) == 5
        effects = top["effect_size"].abs().to_numpy()
        assert np.all(np.diff(effects) <= 0)
        everything = profiles.segment(g)["effect_size"].abs()
        assert effects[0] == pytest.approx(everything.max())
        assert list(top["rank"]) == [1, 2, 3, 4, 5]
        strong = profiles.top_features(g, 50, min_abs_effect=0.5)
        assert (strong["effect_size"].abs() >= 0.5).all()
    # A derived feature, not used for clustering, is among the distinguishing features of
    # some segment: profiles explain with every column, not only the clustering ones.
    ranks = table[~table["used_for_clustering"]]["rank"]
    assert ranks.min() <= 5


def test_guards_zero_means_constant_columns_and_gaps_without_nan_in_json():
    frame = pd.DataFrame(
        {
            "centred": [-1.0, 1.0, -2.0, 2.0, -3.0, 3.0],  # population mean 0
            "signed": [-1.0, 5.0, -2.0, 2.0, -3.0, 3.0],  # both signs: a lift means nothing
            "negative": [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0],  # one sign: lift is a ratio
            "constant": [5.0] * 6,
            "gappy": [1.0, np.nan, 3.0, 4.0, np.nan, np.nan],  # segment 1: one value
            "flag": [True, False, True, True, False, False],
            "count": pd.array([1, 2, None, 4, 5, 6], dtype="Int64"),
            "label": ["a", "b", "c", "d", "e", "f"],
        }
    )
    labels = np.array([0, 0, 0, 1, 1, 1])
    profiles = profile_segments(frame, labels)
    assert profiles.features == [
        "centred",
        "signed",
        "negative",
        "constant",
        "gappy",
        "flag",
        "count",
    ]
    table = profiles.table.set_index(["segment_id", "feature"])
    assert np.isnan(table.loc[(0, "centred"), "lift"])
    assert np.isnan(table.loc[(0, "signed"), "lift"])
    assert np.isfinite(table.loc[(0, "signed"), "effect_size"])
    assert table.loc[(0, "negative"), "lift"] == pytest.approx(2.0 / 3.5)
    assert np.isfinite(table.loc[(0, "centred"), "effect_size"])
    assert np.isnan(table.loc[(0, "constant"), "effect_size"])
    assert table.loc[(0, "constant"), "lift"] == pytest.approx(1.0)
    assert table.loc[(1, "gappy"), "mean"] == pytest.approx(4.0)
    # One value in segment 1: no variance, so no effect size.
    assert np.isnan(table.loc[(1, "gappy"), "effect_size"])
    assert table.loc[(1, "gappy"), "missing_share"] == pytest.approx(2 / 3)
    assert table.loc[(0, "flag"), "mean"] == pytest.approx(2 / 3)
    assert table.loc[(0, "count"), "mean"] == pytest.approx(1.5)
    # Undefined effects rank last.
    assert table.loc[(0, "constant"), "rank"] > table.loc[(0, "centred"), "rank"]

    document = json.dumps(profiles.to_dict(), allow_nan=False)
    data = json.loads(document)
    assert data["segments"][0]["features"]["centred"]["lift"] is None
    assert data["segments"][0]["features"]["constant"]["effect_size"] is None
    assert data["median_sample_size"] is None


def test_single_segment_has_no_effect_sizes():
    frame = cc_frame()
    profiles = profile_segments(frame, np.zeros(len(frame), dtype=int))
    assert profiles.table["effect_size"].isna().all()
    assert np.allclose(profiles.table["lift"], 1.0)


def test_dict_round_trip_and_csv(tmp_path):
    frame = with_derived(cc_frame())
    profiles = profile_segments(
        frame, cc_labels(5), clustering_features=["BALANCE", "PURCHASES", "BALANCE__missing"]
    )
    data = json.loads(json.dumps(profiles.to_dict(top_n=3), allow_nan=False))
    assert [s["id"] for s in data["segments"]] == [0, 1, 2, 3, 4]
    assert len(data["segments"][0]["top_features"]) == 3
    again = SegmentProfiles.from_dict(data)
    pd.testing.assert_frame_equal(again.table, profiles.table)
    pd.testing.assert_frame_equal(again.sizes, profiles.sizes, check_dtype=False)
    pd.testing.assert_frame_equal(
        again.population, profiles.population, check_names=False, check_index_type=False
    )
    assert again.clustering_features == ["BALANCE", "PURCHASES", "BALANCE__missing"]

    out = profiles.write_csv(tmp_path / "out" / "profiles.csv")
    back = pd.read_csv(out)
    assert list(back.columns) == PROFILE_COLUMNS
    assert len(back) == 5 * len(profiles.features)
    assert set(back["segment_id"]) == {0, 1, 2, 3, 4}
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["profiles.csv"]

    with pytest.raises(DataError, match="to_dict"):
        SegmentProfiles.from_dict({"segments": []})


def test_columns_argument_selects_and_validates():
    frame = cc_frame()
    labels = cc_labels(3)
    profiles = profile_segments(frame, labels, columns=["TENURE", "BALANCE"])
    assert profiles.features == ["TENURE", "BALANCE"]
    with pytest.raises(SchemaError, match="'NOPE' is not in the table"):
        profile_segments(frame, labels, columns=["NOPE"])
    with pytest.raises(SchemaError, match="'CUST_ID' has dtype"):
        profile_segments(frame, labels, columns=["CUST_ID"])
    with pytest.raises(SchemaError, match="not a string"):
        profile_segments(frame, labels, columns="BALANCE")
    with pytest.raises(SchemaError, match="no numeric column"):
        profile_segments(frame[["CUST_ID"]], labels)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.zeros(3, dtype=int), "labels have 3 values but the table has 8,950 rows"),
        (np.full(8950, -1), "label -1 is negative"),
        (np.full(8950, 0.5), "label 0.5 is not an integer"),
        (np.array(["a"] * 8950), "pass integer segment ids"),
        (np.zeros((8950, 2), dtype=int), "1-D"),
    ],
)
def test_bad_labels_are_refused_with_one_line(labels, message):
    with pytest.raises(DataError, match=message) as info:
        profile_segments(cc_frame(), labels)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, CustsegError)


def test_bad_tables_are_refused():
    frame = cc_frame().copy()
    frame.loc[3, "BALANCE"] = np.inf
    with pytest.raises(DataError, match="'BALANCE' has 1 infinite value"):
        profile_segments(frame, cc_labels(3))
    with pytest.raises(DataError, match="0 rows"):
        profile_segments(cc_frame().iloc[:0], np.array([], dtype=int))
    with pytest.raises(DataError, match="pandas DataFrame"):
        profile_segments([[1.0]], [0])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="segment_id=9"):
        profile_segments(cc_frame(), cc_labels(3)).segment(9)


def test_float_labels_with_integer_values_and_sparse_ids():
    frame = cc_frame()
    labels = cc_labels(3).astype(float) * 2  # ids 0, 2, 4
    profiles = profile_segments(frame, labels)
    assert profiles.segment_ids == [0, 2, 4]
    assert profiles.value(2, "BALANCE", "mean") == pytest.approx(
        frame.loc[labels == 2, "BALANCE"].mean()
    )
    assert np.isnan(profiles.value(1, "BALANCE", "mean"))


def _synthetic(n_rows: int, seed: int) -> pd.DataFrame:
    # The guide's recipe: resample rows, multiply by a factor in [0.9, 1.1], keep gaps.
    base = cc_frame().drop(columns="CUST_ID")
    rng = np.random.default_rng(seed)
    rows = base.to_numpy()[rng.integers(0, len(base), n_rows)]
    return pd.DataFrame(rows * rng.uniform(0.9, 1.1, rows.shape), columns=base.columns)


def test_large_tables_estimate_medians_on_a_stratified_sample_and_stay_fast():
    frame = _synthetic(400_000, seed=1)
    rng = np.random.default_rng(2)
    # Unequal segments, one small (1%): the stratified sample must still see it.
    labels = rng.choice(4, size=len(frame), p=[0.5, 0.3, 0.19, 0.01])
    start = time.perf_counter()
    profiles = profile_segments(frame, labels)
    elapsed = time.perf_counter() - start
    assert profiles.median_sample_size is not None
    assert profiles.median_sample_size < len(frame)
    assert elapsed < 10  # about 0.6 s on a 2-core machine
    for g in range(4):
        for feature in ("BALANCE", "PURCHASES_FREQUENCY", "CREDIT_LIMIT"):
            exact = frame.loc[labels == g, feature].median()
            spread = frame[feature].quantile(0.75) - frame[feature].quantile(0.25)
            assert abs(profiles.value(g, feature, "median") - exact) < 0.05 * spread
            # Means are always exact.
            assert profiles.value(g, feature, "mean") == pytest.approx(
                frame.loc[labels == g, feature].mean(), rel=1e-9
            )


def test_a_pure_segment_has_a_defined_effect_size_and_its_flag_ranks_first():
    # Segment 1 is exactly the 2% of customers with the flag: segment and rest are each
    # constant on it, so Cohen's d is infinite; the population sd keeps it finite.
    rng = np.random.default_rng(0)
    n = 1000
    flag = (rng.random(n) < 0.02).astype(float)
    frame = pd.DataFrame(
        {
            "spend": rng.lognormal(3, 1, n) * np.where(flag == 1, 1.6, 1.0),
            "visits": rng.poisson(3, n).astype(float),
            "flag": flag,
        }
    )
    labels = flag.astype(int)
    profiles = profile_segments(frame, labels)
    p = flag.mean()
    expected = 1 / np.sqrt(p * (1 - p) * n / (n - 1))
    assert profiles.value(1, "flag", "effect_size") == pytest.approx(expected)
    assert profiles.value(0, "flag", "effect_size") == pytest.approx(-expected)
    assert profiles.top_features(1, 1).index[0] == "flag"
    assert profiles.top_features(0, 1).index[0] == "flag"
    assert profiles.to_dict()["segments"][1]["top_features"][0]["feature"] == "flag"
    # A feature with the same constant value on both sides still has no effect.
    frame["always"] = 1.0
    assert np.isnan(profile_segments(frame, labels).value(1, "always", "effect_size"))
