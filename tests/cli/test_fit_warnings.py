"""``custseg fit`` says what the reader should know: a missing identifier at once, a
column that alone reproduces a segment after the fit; glob patterns in the options."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from _trap_tables import NB_SCORE_1, bank_churners


def test_a_missing_identifier_is_said_before_the_fit(run_cli, tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    bank_churners(400).drop(columns=["CLIENTNUM"]).to_csv(data, index=False)
    result = run_cli(["fit", "--input", data, "--out", tmp_path / "out", "--no-report", "--k", "3"])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    warning = next(i for i, line in enumerate(lines) if line.startswith("warning: "))
    assert lines[warning].startswith("warning: no identifier column found")
    assert lines[warning].endswith("name the customer key with --id-column COLUMN")
    assert warning < next(i for i, line in enumerate(lines) if line.startswith("Columns"))
    model = json.loads((tmp_path / "out" / "model.json").read_text())
    assert [w["kind"] for w in model["warnings"]] == ["no_identifier"]
    # --quiet keeps the warning: it is not progress chatter.
    quiet = run_cli(
        ["--quiet", "fit", "--input", data, "--out", tmp_path / "q", "--no-report", "--k", "3"]
    )
    assert quiet.exit_code == 0 and quiet.stderr.startswith("warning: no identifier")


def test_a_reproducing_column_is_named_with_its_fix(run_cli, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    group = np.repeat([0, 1, 2], 300)
    centres = np.array([[0.0, 0.0, 0.0], [3.0, 3.0, 0.0], [0.0, 3.0, 3.0]])
    frame = pd.DataFrame(centres[group] + rng.normal(0, 0.8, (900, 3)), columns=["a", "b", "c"])
    frame.insert(0, "customer_id", [f"C{i:04d}" for i in range(900)])
    frame["Exited"] = (group == 2).astype(int)
    data = tmp_path / "customers.csv"
    frame.to_csv(data, index=False)
    result = run_cli(
        [
            "fit",
            "--input",
            data,
            "--out",
            tmp_path / "out",
            "--no-report",
            "--k",
            "3",
            "--features",
            "a,b,c,Exited",
        ]
    )
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: column 'Exited' alone reproduces segment ")
    assert warnings[0].endswith("leave it out with --exclude Exited")


def test_glob_patterns_in_exclude_and_their_errors(run_cli, tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    bank_churners(400).to_csv(data, index=False)
    out = tmp_path / "out"
    result = run_cli(
        ["fit", "--input", data, "--out", out, "--no-report", "--k", "3", "--exclude", "Total_*"]
    )
    assert result.exit_code == 0, result.stderr
    roles = {
        c["name"]: c for c in json.loads((out / "model.json").read_text())["schema"]["columns"]
    }
    assert roles["Total_Trans_Amt"]["role"] == "ignored"
    assert roles["Total_Trans_Amt"]["reason"] == "excluded by request"
    assert roles["CLIENTNUM"]["role"] == "id"
    assert roles[NB_SCORE_1]["role"] == "outcome"
    bad = run_cli(
        ["fit", "--input", data, "--out", tmp_path / "bad", "--no-report", "--exclude", "total_*"]
    )
    assert bad.exit_code == 2
    assert "pattern 'total_*' matches no column; patterns are case-sensitive" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert not (tmp_path / "bad").exists()
