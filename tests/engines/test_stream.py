"""The bounded-memory fit against the in-memory fit on the same file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score

from conftest import RunCli
from custseg.cluster.kmeans import assign
from custseg.config import FitConfig
from custseg.engines import run_fit
from custseg.engines.stream import StreamEngine
from custseg.exceptions import DataError
from custseg.pipeline import fit_segments
from custseg.scoring import score_customers


@pytest.fixture(scope="module")
def sample_file(_sample_frame_once: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "customers.parquet"
    _sample_frame_once.to_parquet(path, index=False, row_group_size=2000)
    return path


def test_streamed_fit_matches_the_in_memory_fit(sample_file: Path, sample: pd.DataFrame) -> None:
    cfg = FitConfig(k=6, k_range=(6, 6), n_resamples=3)
    model, kept = run_fit(
        StreamEngine(sample_file, chunk_rows=1000, sample_rows=5000), cfg, training={"source": "x"}
    )
    local = fit_segments(sample, config=cfg)
    assert len(kept) == 5000 and kept["CUST_ID"].is_unique
    # Moments are exact over all rows; the medians come from the 5,000-row sample.
    for ours, theirs in zip(
        model.preparation.numeric_steps, local.preparation.numeric_steps, strict=True
    ):
        assert ours.transform == theirs.transform
        assert ours.center == pytest.approx(theirs.center, rel=1e-3, abs=1e-3)
        assert ours.scale == pytest.approx(theirs.scale, rel=1e-2)
    ours = score_customers(model, sample).scored["segment_id"].to_numpy()
    theirs = score_customers(local, sample).scored["segment_id"].to_numpy()
    assert adjusted_rand_score(ours, theirs) >= 0.9
    # Sizes, inertia and the all-row indices are those of every row, as defined locally.
    assert model.metrics["sizes"] == np.bincount(ours, minlength=6).tolist()
    assert [s.size for s in model.segments] == model.metrics["sizes"]
    X = model.preparation.transform(sample)
    fitted = assign(X, model.centroid_array)
    assert model.metrics["inertia"] == pytest.approx(fitted.distance @ fitted.distance, rel=1e-9)
    assert model.metrics["calinski_harabasz"] == pytest.approx(
        calinski_harabasz_score(X, fitted.labels), rel=1e-9
    )
    assert model.metrics["davies_bouldin"] == pytest.approx(
        davies_bouldin_score(X, fitted.labels), rel=1e-9
    )
    assert model.metrics["engine"] == "stream" and model.metrics["n_rows"] == 8950
    assert model.training["explained_on"]["rows"] == 5000
    assert model.k_selection is not None
    assert "read in chunks of 1,000 rows" in model.k_selection.explanation
    # Each segment's stability comes from the sweep's refits on the sample, read against
    # the final centroids: the same segments, so about the same figures as in memory.
    ours_stability = [s.stability for s in model.segments]
    theirs_stability = [s.stability for s in local.segments]
    assert all(v is not None for v in ours_stability + theirs_stability)
    assert ours_stability == pytest.approx(theirs_stability, abs=0.1)
    assert all(r["resamples"] >= 20 for r in model.metrics["segment_stability"])


def test_a_bad_row_in_a_later_chunk_stops_the_fit_with_its_row(
    sample: pd.DataFrame, tmp_path: Path
) -> None:
    frame = sample.copy()
    frame.loc[7000, "PAYMENTS"] = -np.inf
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(DataError, match=r"row 7000: PAYMENTS: infinite value"):
        run_fit(StreamEngine(path, chunk_rows=1000), FitConfig(k=3, k_range=(3, 3)))


def test_custseg_fit_engine_stream_writes_the_usual_folder(
    run_cli: RunCli, sample_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "segments"
    result = run_cli(
        [
            "--quiet",
            "fit",
            "--input",
            sample_file,
            "--out",
            out,
            "--engine",
            "stream",
            "--k-range",
            "3-4",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["engine"] == "stream" and sum(summary["sizes"]) == 8950
    assert (out / "report.html").is_file() and (out / "model.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--engine", "stream", "--spark-master", "local[2]"],
            "--spark-master applies to --engine spark",
        ),
        (["--engine", "warp"], "--engine"),
    ],
)
def test_engine_options_are_checked(
    run_cli: RunCli, sample_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli(["fit", "--input", sample_file, "--out", tmp_path / "o", *args])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_large_engines_read_files_not_queries(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli(["fit", "--sql", "SELECT 1", "--out", tmp_path / "o", "--engine", "stream"])
    assert result.exit_code == 2
    assert "--engine stream reads --input" in result.stderr


def test_auto_streams_files_above_the_threshold(
    sample_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custseg.engines import dispatch

    assert dispatch.auto_engine("auto", sample_file) == "memory"
    assert dispatch.auto_engine("auto", None) == "memory"
    monkeypatch.setattr(dispatch, "STREAM_ROWS", 5000)
    assert dispatch.auto_engine("auto", sample_file) == "stream"
    assert dispatch.auto_engine("memory", sample_file) == "memory"


def test_streamed_fit_profiles_outcomes_and_warns_as_the_in_memory_fit(
    tmp_path: Path,
) -> None:
    from _trap_tables import NB_SCORE_1, bank_churners

    frame = bank_churners(3000).drop(columns=["CLIENTNUM"])
    path = tmp_path / "churners.parquet"
    frame.to_parquet(path, index=False)
    cfg = FitConfig(k=3, k_range=(3, 3), n_resamples=2)
    heard: list[dict] = []
    model, _ = run_fit(
        StreamEngine(path, chunk_rows=700, sample_rows=3000), cfg, on_warning=heard.append
    )
    local = fit_segments(frame, config=cfg)
    # Outcome and model-output columns are left out of the clustering and profiled.
    assert "Attrition_Flag" not in model.feature_names and NB_SCORE_1 not in model.feature_names
    assert model.profiles["outcomes"]["columns"] == local.profiles["outcomes"]["columns"]
    assert model.playbook.name == local.playbook.name
    # The missing identifier is said as soon as the first chunk is read, and kept.
    assert heard and heard[0]["kind"] == "no_identifier"
    assert [w["kind"] for w in model.warnings][:1] == ["no_identifier"]


def test_a_streamed_refit_keeps_the_previous_segment_ids(
    sample_file: Path, sample: pd.DataFrame
) -> None:
    cfg = FitConfig(k=5, k_range=(5, 5), n_resamples=2)
    previous = fit_segments(sample, config=cfg)
    model, _ = run_fit(
        StreamEngine(sample_file, chunk_rows=2000, sample_rows=8950),
        FitConfig(k=5, k_range=(5, 5), n_resamples=2, random_state=7),
        previous=previous,
    )
    assert model.lineage is not None and model.lineage.matched == {i: i for i in range(5)}
    assert [s.name for s in model.segments] == [s.name for s in previous.segments]
    # Sizes follow the renumbering: each segment keeps its customers.
    ours = score_customers(model, sample).scored["segment_id"].to_numpy()
    theirs = score_customers(previous, sample).scored["segment_id"].to_numpy()
    assert np.mean(ours == theirs) >= 0.9
    assert [s.size for s in model.segments] == np.bincount(ours, minlength=5).tolist()
