"""``custseg drift``, ``custseg fit --previous`` and ``custseg migrate`` in real processes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from _over_time import MONEY, bootstrap, shifted, stable_model
from custseg import load_model, read_table, save_model, score_customers


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The k = 6 model, an unshifted and a shifted population, as files."""
    folder = tmp_path_factory.mktemp("over-time")
    paths = {
        "model": save_model(stable_model(), folder / "q1" / "model.json"),
        "same": folder / "same.csv",
        "shifted": folder / "shifted.parquet",
    }
    bootstrap(0).to_csv(paths["same"], index=False)
    shifted(0).to_parquet(paths["shifted"], index=False)
    return paths


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and "Traceback" not in stderr
    return lines[0]


# --------------------------------------------------------------------------- drift


def test_drift_writes_the_document_and_the_report_and_exits_0(run_cli, files, tmp_path):
    out, report = tmp_path / "drift.json", tmp_path / "drift.html"
    result = run_cli(
        ["drift", "--model", files["model"], "--input", files["same"], "--out", out]
        + ["--report", report, "--fail-on", "amber"]
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["status"] == "green"
    assert len(document["features"]) == 17 and len(document["segments"]) == 6
    assert "GREEN no drift: all 17 features green" in result.stderr
    page = report.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html") and document["verdict"] in page
    assert result.stdout == ""


def test_drift_fail_on_red_exits_3_after_writing_its_files(run_cli, files, tmp_path):
    out = tmp_path / "drift.json"
    result = run_cli(
        ["drift", "--model", files["model"], "--input", files["shifted"]]
        + ["--out", out, "--fail-on", "red", "--json"]
    )
    assert result.exit_code == 3, result.stderr
    printed = json.loads(result.stdout)
    assert printed == json.loads(out.read_text())
    assert printed["status"] == "red"
    red = {f["feature"] for f in printed["features"] if f["status"] == "red"}
    assert red == set(MONEY)
    assert "exit code 3: the status red reaches --fail-on red" in result.stderr
    assert "Drifting features" in result.stderr

    lenient = run_cli(
        ["drift", "--model", files["model"], "--input", files["shifted"], "--fail-on", "red"]
        + ["--psi-amber", "5", "--psi-red", "10"]
    )
    assert lenient.exit_code == 0, lenient.stderr


def test_drift_from_a_query_on_the_embedded_warehouse(run_cli, files):
    result = run_cli(
        ["-q", "drift", "--model", files["model"], "--json"]
        + ["--sql", "SELECT * FROM credit_card_customers WHERE TENURE = 12"]
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["rows"] == 7584
    tenure = next(f for f in document["features"] if f["feature"] == "TENURE")
    assert tenure["status"] == "red"  # only 12-month accounts: tenure moved, by design
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "purple"], "--fail-on 'purple' should be amber or red"),
        (["--psi-amber", "0.3", "--psi-red", "0.2"], "should be <= red=0.2 (--psi-red)"),
        (["--report", "drift.pdf"], "should end in .html"),
    ],
)
def test_drift_option_errors_exit_2_on_one_line(run_cli, files, args, message):
    result = run_cli(["drift", "--model", files["model"], "--input", files["same"], *args])
    assert result.exit_code == 2
    assert message in _one_error_line(result.stderr)


def test_drift_never_replaces_its_input_and_names_missing_columns(run_cli, files, tmp_path):
    before = files["model"].read_bytes()
    result = run_cli(
        ["drift", "--model", files["model"], "--input", files["same"], "--out", files["model"]]
    )
    assert result.exit_code == 2
    assert "is also --model" in _one_error_line(result.stderr)
    assert files["model"].read_bytes() == before

    partial = tmp_path / "partial.csv"
    pd.read_csv(files["same"]).drop(columns=["PAYMENTS"]).to_csv(partial, index=False)
    out = tmp_path / "drift.json"
    result = run_cli(["drift", "--model", files["model"], "--input", partial, "--out", out])
    assert result.exit_code == 2
    assert "PAYMENTS" in _one_error_line(result.stderr)
    assert not out.exists()

    # A folder that cannot hold the file (here a file stands where the folder should be).
    result = run_cli(
        ["drift", "--model", files["model"], "--input", files["same"]]
        + ["--out", files["same"] / "drift.json"]
    )
    assert result.exit_code == 2
    assert "cannot write" in _one_error_line(result.stderr)


# ------------------------------------------------------------------ fit --previous


def test_fit_with_previous_keeps_ids_prints_the_mapping_and_refuses_to_replace_it(
    run_cli, files, tmp_path
):
    out = tmp_path / "q2"
    result = run_cli(
        ["fit", "--input", files["same"], "--out", out, "--k", "6", "--k-range", "6-6"]
        + ["--previous", files["model"], "--no-report", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    model = load_model(out / "model.json")
    assert model.lineage is not None
    assert model.lineage.matched == {i: i for i in range(6)}
    assert model.lineage.new == model.lineage.retired == []
    assert json.loads(result.stdout)["lineage"] == model.lineage.to_dict()
    assert model.segment_names() == stable_model().segment_names()
    assert "Segments against the previous model" in result.stderr
    assert "6 continued, 0 new, 0 retired" in result.stderr
    for name in model.segment_names():
        assert name in result.stderr

    # The new model.json would replace --previous: refused before any work.
    result = run_cli(
        ["fit", "--input", files["same"], "--out", files["model"].parent]
        + ["--previous", files["model"]]
    )
    assert result.exit_code == 2
    assert "is the model this fit would replace" in _one_error_line(result.stderr)
    assert load_model(files["model"]).lineage is None

    result = run_cli(
        ["fit", "--input", files["same"], "--out", tmp_path / "q3"]
        + ["--previous", tmp_path / "nothing.json"]
    )
    assert result.exit_code == 2
    assert "does not exist" in _one_error_line(result.stderr)
    assert not (tmp_path / "q3").exists()


# -------------------------------------------------------------------------- migrate


def test_migrate_writes_transitions_that_add_up(run_cli, files, tmp_path):
    old, new = tmp_path / "scored-q1.csv", tmp_path / "scored-q2.parquet"
    model = stable_model()
    score_customers(model, read_table(files["same"])).scored.to_csv(old, index=False)
    score_customers(model, read_table(files["shifted"])).scored.to_parquet(new, index=False)
    out = tmp_path / "migration"
    result = run_cli(["migrate", "--old", old, "--new", new, "--out", out, "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    transitions = pd.read_csv(out / "transitions.csv")
    assert list(transitions.columns)[:4] == ["from_segment", "from_name", "to_segment", "to_name"]
    assert {"customers", "share_of_from"} <= set(transitions.columns)
    assert int(transitions["customers"].sum()) == summary["matched"] == 8950
    assert summary["only_old"] == summary["only_new"] == 0
    assert json.loads((out / "migration.json").read_text()) == summary
    assert (out / "migration.png").read_bytes()[:4] == b"\x89PNG"
    assert summary["explanation"][:60] in " ".join(result.stderr.split())
    assert "Largest moves" in result.stderr


def test_migrate_errors_exit_2(run_cli, files, tmp_path):
    out = tmp_path / "migration"
    result = run_cli(["migrate", "--old", files["same"], "--new", files["same"], "--out", out])
    assert result.exit_code == 2
    assert "not a scored file" in _one_error_line(result.stderr)
    assert not out.exists()

    inside = out / "transitions.csv"
    inside.parent.mkdir()
    inside.write_text("CUST_ID,segment_id\nA,0\n")
    result = run_cli(["migrate", "--old", inside, "--new", files["same"], "--out", out])
    assert result.exit_code == 2
    assert "is also --old" in _one_error_line(result.stderr)
    assert inside.read_text() == "CUST_ID,segment_id\nA,0\n"


def test_help_of_the_new_commands(run_cli):
    drift = run_cli(["drift", "--help"])
    assert drift.exit_code == 0 and "Example" in drift.stdout
    assert "3 drift threshold reached" in " ".join(drift.stdout.split())
    migrate = run_cli(["migrate", "--help"])
    assert migrate.exit_code == 0 and "Example" in migrate.stdout
