"""``custseg fit`` and ``custseg demo`` as a user runs them: real processes, real files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from custseg import load_model, read_table, score_customers

METRIC_KEYS = (
    "k",
    "inertia",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "stability_ari",
    "sizes",
    "k_selection",
)


def test_fit_on_the_bundled_sample_writes_model_metrics_and_json(run_cli, sample_csv, tmp_path):
    out = tmp_path / "segments"
    result = run_cli(["fit", "--input", sample_csv, "--out", out, "--no-report", "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    metrics = json.loads((out / "metrics.json").read_text())
    for key in METRIC_KEYS:
        assert key in summary and key in metrics, key
    assert summary["k"] == metrics["k"]
    assert len(metrics["k_selection"]) == 9
    assert sum(metrics["sizes"]) == 8950
    assert min(metrics["sizes"]) >= 0.03 * 8950
    assert not (out / "report.html").exists()

    model = load_model(out / "model.json")
    assert model.training["data_sha256"]
    scored = score_customers(model, read_table(sample_csv)).scored
    sizes = np.bincount(scored["segment_id"], minlength=model.k)
    assert sizes.tolist() == metrics["sizes"]


def test_fit_from_sql_with_options(run_cli, tmp_path):
    out = tmp_path / "seg"
    result = run_cli(
        [
            "fit",
            "--sql",
            "SELECT * FROM credit_card_customers WHERE TENURE = 12",
            "--out",
            out,
            "--k",
            "4",
            "--k-range",
            "3-5",
            "--seed",
            "7",
            "--skew",
            "yeo-johnson",
            "--scaling",
            "robust",
            "--exclude",
            "TENURE",
            "--no-report",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["k"] == 4
    assert [entry["k"] for entry in summary["k_selection"]] == [3, 4, 5]
    model = load_model(out / "model.json")
    assert model.settings["random_state"] == 7
    assert model.preparation.config.skew == "yeo-johnson"
    assert "TENURE" not in model.preparation.feature_names
    assert "SELECT" in model.training["query"]


def test_fit_from_a_sql_file_records_the_query(run_cli, tmp_path):
    query = "SELECT * FROM credit_card_customers WHERE TENURE = 12 LIMIT 1500"
    (tmp_path / "q.sql").write_text(query, encoding="utf-8")
    out = tmp_path / "seg"
    result = run_cli(
        ["fit", "--sql", f"@{tmp_path / 'q.sql'}", "--out", out, "--k", "3", "--k-range", "3-3"]
        + ["--no-report"]
    )
    assert result.exit_code == 0, result.stderr
    training = load_model(out / "model.json").training
    assert training["query"] == query and training["rows"] == 1500
    assert training["source"].startswith("embedded DuckDB")


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--input", "missing.csv"], "missing.csv"),
        (["--input", "{sample}", "--k-range", "9-3"], "--k-range"),
        (["--input", "{sample}", "--exclude", "PURCHASSES"], "PURCHASSES"),
        (["--input", "{sample}", "--skew", "cube"], "skew"),
        (["--input", "{sample}", "--sql", "SELECT 1"], "only one"),
        (["--sql", "SELEC * FROM credit_card_customers"], "SELEC"),
        (["--sql", "SELECT * FROM credit_card_customers WHERE 1 = 0"], "no rows"),
    ],
)
def test_user_errors_are_one_line_exit_2_and_write_nothing(
    run_cli, sample_csv, tmp_path, args, expected
):
    out = tmp_path / "out"
    args = [a.replace("{sample}", str(sample_csv)) for a in args]
    result = run_cli(["fit", *args, "--out", out, "--no-report"], cwd=tmp_path)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert not (out / "model.json").exists()


def test_too_few_rows_for_k(run_cli, sample_csv, tmp_path):
    frame = read_table(sample_csv).head(5)
    small = tmp_path / "small.csv"
    frame.to_csv(small, index=False)
    result = run_cli(["fit", "--input", small, "--out", tmp_path / "o", "--k", "8"])
    assert result.exit_code == 2
    assert "n_rows=5 should be >= k=8" in result.stderr


def test_verbose_shows_the_traceback(run_cli, tmp_path):
    result = run_cli(["--verbose", "fit", "--input", "nope.csv", "--out", tmp_path / "o"])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert "error: " in result.stderr


def test_demo_runs_extract_fit_and_report(run_cli, tmp_path):
    out = tmp_path / "demo"
    result = run_cli(["demo", "--out", out])
    assert result.exit_code == 0, result.stderr
    for name in (
        "customers.csv",
        "customers.manifest.json",
        "model.json",
        "metrics.json",
        "report.html",
        "summary.md",
        "profiles.csv",
    ):
        assert (out / name).is_file(), name
    assert "report.html" in result.stderr
    model = load_model(out / "model.json")
    manifest = json.loads((out / "customers.manifest.json").read_text())
    assert model.training["data_sha256"] == manifest["sha256"]
    assert manifest["rows"] == 8950
    # Names agree with the profiles they come from (profiles.csv is what readers get).
    with (out / "profiles.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    lift = {(row["segment_name"], row["feature"]): float(row["lift"]) for row in rows}
    names = {s.playbook_key: s.name for s in model.segments if s.playbook_key}
    assert "revolvers" in names and "transactors" in names, names
    assert lift[(names["revolvers"], "CASH_ADVANCE")] > 2.0
    assert lift[(names["revolvers"], "BALANCE")] > 1.5
    assert lift[(names["transactors"], "PRC_FULL_PAYMENT")] > 1.0


def test_help_is_fast_and_every_command_has_examples(custseg_script):
    start = time.perf_counter()
    completed = subprocess.run([custseg_script, "--help"], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert completed.returncode == 0
    commands = ("extract", "fit", "demo", "report", "score", "serve", "export-sql")
    for command in commands:
        assert command in completed.stdout
    assert elapsed < 2.0  # generous for a loaded CI machine; measured ~0.2 s
    for command in commands:
        helped = subprocess.run([custseg_script, command, "--help"], capture_output=True, text=True)
        assert helped.returncode == 0, command
        assert "Example" in helped.stdout, command


def test_python_dash_m_and_version():
    completed = subprocess.run(
        [sys.executable, "-m", "custseg", "--version"], capture_output=True, text=True
    )
    assert completed.returncode == 0
    assert completed.stdout.startswith("custseg ")


def test_config_file(run_cli, sample_csv, tmp_path):
    config = tmp_path / "fit.toml"
    config.write_text('[fit]\nk = 3\nrandom_state = 5\n[preparation]\nscaling = "robust"\n')
    result = run_cli(
        [
            "fit",
            "--input",
            sample_csv,
            "--out",
            tmp_path / "o",
            "--config",
            config,
            "--no-report",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.stderr
    model = load_model(Path(tmp_path / "o" / "model.json"))
    assert model.k == 3
    assert model.preparation.config.scaling == "robust"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["fit", "--bogus"], "No such option"),
        (["extract", "--out", "a.csv"], "Missing option '--sql'"),
        (["fit", "--k", "abc", "--out", "x"], "--k"),
    ],
)
def test_usage_errors_exit_2_without_traceback(run_cli, tmp_path, args, expected):
    result = run_cli(args, cwd=tmp_path)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_duplicated_identifier_and_unknown_id_column(run_cli, sample_csv, tmp_path):
    frame = read_table(sample_csv).head(300)
    frame.loc[5, "CUST_ID"] = frame.loc[4, "CUST_ID"]
    path = tmp_path / "dup.csv"
    frame.to_csv(path, index=False)
    result = run_cli(["fit", "--input", path, "--out", tmp_path / "o", "--id-column", "CUST_ID"])
    assert result.exit_code == 2
    assert "CUST_ID" in result.stderr and frame.loc[4, "CUST_ID"] in result.stderr
    result = run_cli(["fit", "--input", sample_csv, "--out", tmp_path / "o", "--id-column", "ID"])
    assert result.exit_code == 2
    assert "'ID'" in result.stderr


def test_column_roles_are_reported(run_cli, sample_csv, tmp_path):
    result = run_cli(
        [
            "fit",
            "--input",
            sample_csv,
            "--out",
            tmp_path / "o",
            "--k",
            "3",
            "--k-range",
            "3-3",
            "--no-report",
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert "identifier CUST_ID" in result.stderr and "17 numeric" in result.stderr
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert any(line.startswith("CUST_ID: ") for line in metrics["columns"])
    assert len(metrics["columns"]) == 18
