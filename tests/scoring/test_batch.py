"""Batch scoring: score_customers and the streaming score_file, with a pipeline-fitted model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from custseg.config import FitConfig
from custseg.exceptions import (
    ConfigError,
    DataError,
    ModelError,
    SchemaError,
    ScoringError,
    SourceError,
)
from custseg.model import SegmentationModel
from custseg.pipeline import fit_segments
from custseg.prepare import check_rows, infer_schema
from custseg.prepare.plan import PreparationPlan, PrepConfig
from custseg.scoring.batch import SCORE_COLUMNS, Scorer, score_customers, score_file
from custseg.scoring.records import score_records
from custseg.sources import sample_path

K = 4


def _with_bad_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows 4, 6 and 9 (counting from 1) hold a word, an infinity and an absurd amount."""
    bad = frame.copy()
    bad["PURCHASES"] = bad["PURCHASES"].astype(object)
    bad.loc[3, "PURCHASES"] = "abc"
    bad.loc[5, "BALANCE"] = np.inf
    bad.loc[8, "PAYMENTS"] = 1e16
    return bad


def _independent_assignment(model: SegmentationModel, frame: pd.DataFrame) -> np.ndarray:
    """Squared distances of every row to every centroid, computed the long way."""
    X = model.preparation.transform(frame)
    C = model.centroid_array
    return ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)


# ----------------------------------------------------------------- score_customers


def test_scores_every_sample_customer_as_the_fit_did(model, sample):
    result = score_customers(model, sample)
    scored = result.scored
    assert list(scored.columns) == ["CUST_ID", *SCORE_COLUMNS]
    assert len(scored) == len(sample) and result.rejects.empty
    assert scored["CUST_ID"].tolist() == sample["CUST_ID"].tolist()
    # The training customers land in the segments the fit put them in.
    sizes = np.bincount(scored["segment_id"], minlength=K)
    assert sizes.tolist() == [s.size for s in model.segments]
    names = model.segment_names()
    assert scored["segment_name"].tolist() == [names[i] for i in scored["segment_id"]]


def test_distances_runner_up_and_margin_match_an_independent_computation(model, sample):
    scored = score_customers(model, sample).scored
    d2 = _independent_assignment(model, sample)
    order = np.argsort(d2, axis=1, kind="stable")
    np.testing.assert_array_equal(scored["segment_id"], order[:, 0])
    np.testing.assert_array_equal(scored["runner_up_id"], order[:, 1])
    rows = np.arange(len(sample))
    own = np.sqrt(d2[rows, order[:, 0]])
    second = np.sqrt(d2[rows, order[:, 1]])
    np.testing.assert_allclose(scored["distance"], own, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(scored["margin"], second - own, rtol=1e-9, atol=1e-9)
    assert (scored["margin"] >= 0).all()


def test_gaps_are_imputed_like_training_not_rejected(model, sample):
    gaps = sample[sample["MINIMUM_PAYMENTS"].isna()]
    assert len(gaps) == 313
    result = score_customers(model, gaps)
    assert len(result.scored) == 313 and result.rejects.empty
    # A customer with every behavioural value missing is still scored (all imputed).
    empty = sample.iloc[:1].copy()
    empty.iloc[0, 1:] = np.nan
    assert len(score_customers(model, empty).scored) == 1


def test_bad_rows_are_rejected_with_row_number_id_and_reason(model, sample):
    bad = _with_bad_rows(sample)
    result = score_customers(model, bad)
    rejects = result.rejects
    assert list(rejects.columns) == ["row", "CUST_ID", "reason"]
    assert rejects["row"].tolist() == [4, 6, 9]
    assert rejects["CUST_ID"].tolist() == bad["CUST_ID"].iloc[[3, 5, 8]].tolist()
    reasons = rejects["reason"].tolist()
    assert "PURCHASES" in reasons[0] and "'abc'" in reasons[0]
    assert "BALANCE" in reasons[1] and "infinite" in reasons[1]
    assert "PAYMENTS" in reasons[2] and "range" in reasons[2]
    # Nothing lost, nothing twice.
    assert len(result.scored) + len(rejects) == len(bad)
    assert not set(result.scored["CUST_ID"]) & set(rejects["CUST_ID"])


def test_keep_columns_copies_the_input_and_score_columns_replace_old_ones(model, sample):
    frame = sample.head(50).copy()
    frame["REGION"] = "north"
    frame["segment_id"] = -7  # e.g. a file scored before: replaced, not duplicated
    scored = score_customers(model, frame, keep_columns=True).scored
    assert list(scored.columns) == [
        "CUST_ID",
        *[c for c in sample.columns if c != "CUST_ID"],
        "REGION",
        *SCORE_COLUMNS,
    ]
    assert (scored["REGION"] == "north").all()
    assert (scored["segment_id"] >= 0).all()
    pd.testing.assert_series_equal(scored["BALANCE"], frame["BALANCE"], check_names=False)


def test_numbers_as_text_and_column_order_do_not_matter(model, sample):
    frame = sample.head(200)
    shuffled = frame[frame.columns[::-1]].astype(str).replace({"nan": ""})
    a = score_customers(model, frame).scored
    b = score_customers(model, shuffled).scored
    np.testing.assert_array_equal(a["segment_id"], b["segment_id"])
    np.testing.assert_allclose(a["distance"], b["distance"], rtol=1e-12)


def test_missing_column_and_empty_input_are_clear_errors(model, sample):
    with pytest.raises(SchemaError, match="PAYMENTS"):
        score_customers(model, sample.drop(columns=["PAYMENTS"]))
    with pytest.raises(SchemaError, match="CUST_ID"):
        score_customers(model, sample.drop(columns=["CUST_ID"]))
    with pytest.raises(DataError, match="no rows"):
        score_customers(model, sample.iloc[:0])
    with pytest.raises(DataError, match="DataFrame"):
        score_customers(model, sample.to_dict())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="SegmentationModel"):
        score_customers({"centroids": []}, sample)  # type: ignore[arg-type]


def test_records_give_the_same_answers_as_frames(model, sample):
    scorer = Scorer(model)
    frame = sample.iloc[1000:1300]
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    plain = score_records(scorer, records)
    expected = score_customers(scorer, frame).scored
    assert [r["segment_id"] for r in plain] == expected["segment_id"].tolist()
    assert [r["distance"] for r in plain] == pytest.approx(expected["distance"].tolist(), 1e-12)
    assert [r["index"] for r in plain] == list(range(300))
    # Text values take the general path and a bad one is rejected in its place.
    records[5] = {**records[5], "PURCHASES": "abc", "BALANCE": "12.5"}
    mixed = score_records(scorer, records)
    assert mixed[5]["status"] == "rejected" and "PURCHASES" in mixed[5]["reason"]
    assert mixed[5]["segment_id"] is None and mixed[5]["id"] == records[5]["CUST_ID"]
    assert [r["segment_id"] for i, r in enumerate(mixed) if i != 5] == [
        r["segment_id"] for i, r in enumerate(plain) if i != 5
    ]


# --------------------------------------------------- preparation without a second check


@pytest.mark.parametrize(
    "config",
    [
        PrepConfig(),
        PrepConfig(
            skew="yeo-johnson",
            winsorize=0.01,
            scaling="robust",
            pca=0.9,
            indicator_threshold=0.0,
            clustering_domain_features=("CREDIT_UTILISATION", "PURCHASE_TYPE", "AVG_TICKET"),
        ),
    ],
    ids=["default", "everything"],
)
def test_scoring_preparation_is_bitwise_the_fitted_matrix(sample, config):
    frame = sample.copy()
    frame["CARD"] = np.where(np.arange(len(frame)) % 3 == 0, "gold", "classic")
    schema = infer_schema(frame)
    plan, fitted = PreparationPlan.fit_transform(frame, schema, config)
    training = check_rows(frame, schema).frame
    columns = {n: training[n].to_numpy(dtype=np.float64) for n in plan.input_numeric}
    columns |= {n: training[n].to_numpy(dtype=object) for n in plan.input_categorical}
    # Scoring prepares checked columns; the fit built its matrix its own way.
    np.testing.assert_array_equal(plan.transform_checked(columns, len(training)), fitted)
    scoring = frame.copy()
    scoring.loc[:10, "CARD"] = "unseen-level"
    checked = check_rows(scoring, schema).frame
    columns = {n: checked[n].to_numpy(dtype=np.float64) for n in plan.input_numeric}
    columns |= {n: checked[n].to_numpy(dtype=object) for n in plan.input_categorical}
    assert "CARD" in plan.input_categorical
    ours = plan.transform_checked(columns, len(checked))
    np.testing.assert_array_equal(ours, plan.transform(scoring))


# ----------------------------------------------------------------------- score_file


def test_score_file_streams_csv_to_parquet_with_the_same_answers(model, sample, tmp_path):
    source = tmp_path / "new.csv"
    _with_bad_rows(sample).to_csv(source, index=False)
    out = tmp_path / "scored.parquet"
    summary = score_file(model, source, out, chunk_size=1000)
    assert (summary.rows_in, summary.scored, summary.rejected) == (8950, 8947, 3)
    assert summary.scored + summary.rejected == summary.rows_in
    assert summary.rejects == tmp_path / "scored.parquet.rejects.csv"
    assert "8,950 rows: 8,947 scored, 3 rejected" in summary.line()

    written = pq.read_table(out).to_pandas()
    whole = score_customers(model, _with_bad_rows(sample)).scored
    assert list(written.columns) == list(whole.columns)
    assert written["CUST_ID"].tolist() == whole["CUST_ID"].tolist()
    np.testing.assert_array_equal(written["segment_id"], whole["segment_id"])
    np.testing.assert_array_equal(written["runner_up_id"], whole["runner_up_id"])
    np.testing.assert_allclose(written["distance"], whole["distance"], rtol=1e-12)
    rejects = pd.read_csv(summary.rejects)
    assert rejects["row"].tolist() == [4, 6, 9]
    assert rejects["CUST_ID"].tolist() == ["C10004", "C10006", "C10009"]
    assert rejects["reason"].str.len().min() > 10
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "new.csv",
        "scored.parquet",
        "scored.parquet.rejects.csv",
    ]


def test_score_file_parquet_to_csv_with_kept_columns_and_own_rejects_path(model, sample, tmp_path):
    source = tmp_path / "new.parquet"
    sample.head(3000).to_parquet(source, index=False)
    out = tmp_path / "out" / "scored.csv"
    rejects = tmp_path / "bad.csv"
    summary = score_file(model, source, out, rejects=rejects, chunk_size=700, keep_columns=True)
    assert (summary.scored, summary.rejected) == (3000, 0)
    written = pd.read_csv(out)
    assert list(written.columns) == [*sample.columns, *SCORE_COLUMNS]
    np.testing.assert_allclose(written["BALANCE"], sample["BALANCE"].head(3000))
    # An empty rejects file is still written (a stale one must never survive).
    assert pd.read_csv(rejects).columns.tolist() == ["row", "CUST_ID", "reason"]
    assert len(pd.read_csv(rejects)) == 0


def test_score_file_accepts_a_frame(model, sample, tmp_path):
    summary = score_file(model, sample.head(2500), tmp_path / "s.parquet", chunk_size=1000)
    assert summary.scored == 2500
    assert pq.read_metadata(tmp_path / "s.parquet").num_rows == 2500


def test_a_failure_mid_way_leaves_no_partial_file(model, sample, tmp_path):
    # Four copies of the sample with a corrupt line near the end: the reader fails
    # after tens of thousands of rows have been scored and written to the temp files.
    lines = sample_path().read_text().splitlines()
    body = lines[1:] * 4
    body[-10] += ",1,2,3"
    source = tmp_path / "corrupt.csv"
    source.write_text("\n".join([lines[0], *body]) + "\n")
    out = tmp_path / "scored.parquet"
    out.write_bytes(b"previous run")
    rows_seen = []

    class Count:
        def stage(self, description, total=None):
            return self

        def advance(self, amount=1):
            rows_seen.append(amount)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

    with pytest.raises(SourceError, match="does not match the header"):
        score_file(model, source, out, chunk_size=1000, progress=Count())
    assert sum(rows_seen) > 20_000  # the failure came mid-way, not before any work
    assert out.read_bytes() == b"previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.csv", "scored.parquet"]


def test_input_of_the_wrong_kind_fails_without_writing(model, sample, tmp_path):
    frame = sample.head(100).copy()
    frame["PURCHASES"] = "yes"
    source = tmp_path / "words.csv"
    frame.to_csv(source, index=False)
    with pytest.raises(ScoringError, match="none of the 100 rows can be used"):
        score_file(model, source, tmp_path / "s.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["words.csv"]


def test_score_file_checks_before_any_work(model, sample, tmp_path):
    source = tmp_path / "new.csv"
    sample.drop(columns=["TENURE"]).head(10).to_csv(source, index=False)
    with pytest.raises(SchemaError, match="TENURE"):
        score_file(model, source, tmp_path / "s.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(sample.columns) + "\n")
    with pytest.raises(DataError, match="no rows"):
        score_file(model, empty, tmp_path / "s.csv")
    with pytest.raises(ConfigError, match=".csv or .parquet"):
        score_file(model, source, tmp_path / "s.xlsx")
    with pytest.raises(ConfigError, match="rejects"):
        score_file(model, source, tmp_path / "s.csv", rejects=tmp_path / "s.csv")
    with pytest.raises(ConfigError, match="chunk_size"):
        score_file(model, source, tmp_path / "s.csv", chunk_size=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "new.csv"]


def test_a_model_with_a_categorical_input_scores_unseen_levels(sample):
    frame = sample.head(3000).copy()
    frame["CARD"] = np.where(np.arange(len(frame)) % 4 == 0, "gold", "classic")
    config = FitConfig(preparation=PrepConfig(rare_level_share=0.0))
    model = fit_segments(frame, k=3, k_range=(3, 3), random_state=0, config=config)
    new = frame.head(20).copy()
    new["CARD"] = ["platinum", None, "gold", " classic "] * 5
    result = score_customers(model, new)
    assert len(result.scored) == 20 and result.rejects.empty
    # An unseen level scores like a customer with no level column set (all zeros).
    assert result.scored["segment_id"].between(0, 2).all()


def test_kept_columns_of_any_type_reach_the_file(model, sample, tmp_path):
    frame = sample.head(60).copy()
    frame["NOTE"] = [1, "call back", None] * 20  # mixed Python types
    frame["OPENED"] = pd.Timestamp("2024-01-31")
    out = tmp_path / "s.parquet"
    score_file(model, frame, out, keep_columns=True)
    written = pq.read_table(out).to_pandas()
    assert written["NOTE"].tolist()[:2] == ["1", "call back"]
    assert written["NOTE"].isna().tolist()[:3] == [False, False, True]
    assert (written["OPENED"] == pd.Timestamp("2024-01-31")).all()
    assert (
        written["segment_name"].astype(str).tolist()
        == score_customers(model, frame).scored["segment_name"].tolist()
    )


def test_files_score_through_arrow_exactly_as_frames_do(model, sample, tmp_path):
    # Float columns with an infinity, an absurd amount and gaps: the Arrow path checks
    # them itself and has pandas word the reasons of the rejected rows only.
    data = sample.head(3000).copy()
    data.loc[5, "BALANCE"] = np.inf
    data.loc[8, "PAYMENTS"] = 1e16
    data.loc[10:40, "MINIMUM_PAYMENTS"] = np.nan
    source = tmp_path / "new.parquet"
    data.to_parquet(source, index=False)

    from_file = score_file(model, source, tmp_path / "a.parquet", chunk_size=700)
    from_frame = score_file(model, data, tmp_path / "b.parquet", chunk_size=700)
    assert (from_file.scored, from_file.rejected) == (2998, 2)
    assert pq.read_table(tmp_path / "a.parquet").equals(pq.read_table(tmp_path / "b.parquet"))
    assert from_file.rejects.read_bytes() == from_frame.rejects.read_bytes()
    rejects = pd.read_csv(from_file.rejects)
    assert rejects["row"].tolist() == [6, 9]
    assert rejects["reason"].str.contains("BALANCE").tolist() == [True, False]


def test_scoring_a_parquet_file_does_not_import_pandas(model_file, sample, tmp_path):
    source = tmp_path / "new.parquet"
    sample.head(500).to_parquet(source, index=False)
    out = tmp_path / "scored.parquet"
    code = (
        "import sys\n"
        "from custseg.model import load_model\n"
        "from custseg.scoring.batch import score_file\n"
        f"summary = score_file(load_model({str(model_file)!r}), {str(source)!r}, {str(out)!r})\n"
        "assert summary.scored == 500, summary\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert pq.read_metadata(out).num_rows == 500


def test_a_plan_that_would_leave_rows_unprepared_is_refused_before_any_row(model):
    # A Yeo-Johnson step with an infinite lambda (no fit gives one) would make every
    # positive ONEOFF_PURCHASES NaN: the plan itself is refused, naming the column, when
    # the model is built, before a Scorer exists to read a row or start an output file.
    preparation = model.preparation.to_dict()
    step = next(s for s in preparation["numeric"] if s["column"] == "ONEOFF_PURCHASES")
    step.update(transform="yeo-johnson", clip=None, center=0.0, scale=1.0)
    step["lambda"] = float("inf")
    with pytest.raises(ModelError, match="lambda of numeric column 'ONEOFF_PURCHASES' is inf"):
        PreparationPlan.from_dict(preparation)


def test_a_csv_and_its_parquet_copy_give_the_same_scored_file(model, sample, tmp_path):
    data = sample.head(1500)
    data.to_csv(tmp_path / "new.csv", index=False)
    data.to_parquet(tmp_path / "new.parquet", index=False)
    score_file(model, tmp_path / "new.csv", tmp_path / "from_csv.parquet", chunk_size=400)
    score_file(model, tmp_path / "new.parquet", tmp_path / "from_pq.parquet", chunk_size=400)
    from_csv = pq.read_table(tmp_path / "from_csv.parquet")
    assert from_csv.equals(pq.read_table(tmp_path / "from_pq.parquet"))
    assert str(from_csv.schema.field("CUST_ID").type) == "large_string"
