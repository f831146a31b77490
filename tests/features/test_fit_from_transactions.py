"""``custseg fit --transactions``, and score/drift of new lines with the model's roll-up."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from _transactions import retail_lines
from custseg import build_features, load_model
from custseg.scoring.batch import score_customers


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory, run_cli) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("rollup")
    lines = folder / "lines.csv"
    retail_lines(n_customers=240, seed=1)[0].to_csv(lines, index=False)
    out = folder / "seg"
    done = run_cli(
        [
            "fit",
            "--input",
            lines,
            "--transactions",
            "--window",
            "12M",
            "--out",
            out,
            "--k",
            "3",
            "--k-range",
            "3-3",
        ]
    )
    assert done.exit_code == 0, done.stderr
    assert "lines of 240 customers used" in done.stderr
    return lines, out / "model.json"


def _error_line(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_the_model_remembers_the_roll_up(fitted) -> None:
    lines, model_file = fitted
    record = load_model(model_file).training["transactions"]
    again = build_features(lines, window="12M")
    assert record["options"] == {
        "recipe": "retail",
        **again.columns["transactions"],
        "window": "12M",
    }
    assert record["counts"] == again.counts
    assert record["as_of"] == again.as_of.isoformat()
    assert record["as_of_rule"] == "the day after the last transaction"
    metrics = json.loads((model_file.parent / "metrics.json").read_text())
    assert metrics["transactions"]["counts"] == again.counts
    assert metrics["transactions"]["window"] == "12 months"
    # The reader is told what the customers were built from, and what was left out.
    used, customers = again.counts["lines_used"], again.counts["customers"]
    told = (
        f"Segments were built from {used:,} transactions of {customers:,} customers over 12 months"
    )
    summary = (model_file.parent / "summary.md").read_text()
    assert told in summary
    assert (
        f"{again.counts['left_out']['without a customer id']:,} lines without a customer id"
        in summary
    )
    assert told in (model_file.parent / "report.html").read_text()


def test_new_lines_are_scored_as_the_training_lines_were_rolled_up(
    fitted, run_cli, tmp_path
) -> None:
    _, model_file = fitted
    new = tmp_path / "new.csv"
    retail_lines(n_customers=120, seed=7)[0].to_csv(new, index=False)
    out = tmp_path / "scored.csv"
    done = run_cli(["score", "--model", model_file, "--input", new, "--transactions", "--out", out])
    assert done.exit_code == 0, done.stderr
    scored = pd.read_csv(out, dtype={"CustomerID": str})
    model = load_model(model_file)
    expected = score_customers(model, build_features(new, window="12M").frame).scored
    assert len(scored) == 120
    assert scored["CustomerID"].tolist() == expected["CustomerID"].tolist()
    assert scored["segment_id"].tolist() == expected["segment_id"].tolist()
    drift = run_cli(["drift", "--model", model_file, "--input", new, "--transactions", "--json"])
    assert drift.exit_code == 0, drift.stderr
    assert json.loads(drift.stdout)["rows"] == 120


def test_a_roll_up_other_than_the_models_is_refused(fitted, run_cli, tmp_path) -> None:
    lines, model_file = fitted
    out = tmp_path / "scored.csv"
    other = _error_line(
        run_cli(
            ["score", "--model", model_file, "--input", lines, "--transactions"]
            + ["--window", "6M", "--out", out]
        )
    )
    assert "window='6M' differs from the model's roll-up (window='12M')" in other
    raw = _error_line(run_cli(["score", "--model", model_file, "--input", lines, "--out", out]))
    assert raw.endswith("add --transactions to roll these lines up as its training lines were")
    alone = _error_line(
        run_cli(["fit", "--input", lines, "--window", "6M", "--out", tmp_path / "seg"])
    )
    assert "--window applies to transaction lines; add --transactions" in alone
    assert not out.exists()


def test_new_lines_get_the_training_levels(tmp_path) -> None:
    """Share columns per level follow the model, not the new lines' own top levels."""
    from custseg.features.replay import replay_rollup, rollup_record

    lines = retail_lines(n_customers=80, seed=11)[0]
    options = {"window": "12M"}
    record = rollup_record(build_features(lines, **options), options)
    trained = record["tables"]["transactions"]["levels"]["category"]
    new = lines.copy()
    # A country the training never saw becomes the most frequent: no column for it.
    new.loc[new.index[: len(new) // 2], "Country"] = "Iceland"
    replayed = replay_rollup(new, record)
    shares = [c for c in replayed.frame.columns if c.startswith("Country_share_")]
    assert shares == [f"Country_share_{level.replace(' ', '_')}" for level in trained]
