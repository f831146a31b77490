"""One end-to-end fit and score on a real standalone Spark cluster (master + worker)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import RunCli


# Two JVM applications on a shared 2-core machine: more than the suite's default timeout.
@pytest.mark.timeout(1200)
def test_fit_and_score_on_a_standalone_cluster(
    run_cli: RunCli,
    standalone_master: str,
    sample_parquet: Path,
    sample: pd.DataFrame,
    tmp_path: Path,
) -> None:
    env = {"SPARK_LOCAL_IP": "127.0.0.1"}
    config = tmp_path / "fit.toml"
    config.write_text("[fit]\nn_init = 1\nn_resamples = 3\n")
    out = tmp_path / "segments"
    fit = run_cli(
        [
            "--quiet",
            "fit",
            "--engine",
            "spark",
            "--spark-master",
            standalone_master,
            "--input",
            sample_parquet,
            "--out",
            out,
            "--k-range",
            "3-4",
            "--config",
            config,
            "--no-report",
            "--json",
        ],
        env=env,
        timeout=600,
    )
    assert fit.exit_code == 0, fit.stderr
    summary = json.loads(fit.stdout)
    assert summary["engine"] == "spark" and summary["k"] in (3, 4)
    assert sum(summary["sizes"]) == 8950
    assert [c["k"] for c in summary["k_selection"]] == [3, 4]
    model = json.loads((out / "model.json").read_text())
    assert model["training"]["spark_master"] == standalone_master

    scored = tmp_path / "scored"
    score = run_cli(
        [
            "score",
            "--engine",
            "spark",
            "--spark-master",
            standalone_master,
            "--model",
            out / "model.json",
            "--input",
            sample_parquet,
            "--out",
            scored,
            "--json",
        ],
        env=env,
        timeout=600,
    )
    assert score.exit_code == 0, score.stderr
    counts = json.loads(score.stdout)
    assert (counts["rows_in"], counts["scored"], counts["rejected"]) == (8950, 8950, 0)
    frame = pd.read_parquet(scored)
    assert sorted(frame["CUST_ID"]) == sorted(sample["CUST_ID"])
    assert frame["segment_id"].value_counts().sort_index().tolist() == summary["sizes"]
