"""``custseg features`` in a subprocess: the output, its manifest, the SQL, the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from _transactions import retail_lines


@pytest.fixture(scope="module")
def invoices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines, _, _ = retail_lines(n_customers=12, guests=3)
    path = tmp_path_factory.mktemp("cli") / "invoices.csv"
    lines.to_csv(path, index=False)
    return path


def test_features_writes_customers_and_a_manifest(run_cli, invoices, tmp_path) -> None:
    out = tmp_path / "customers.csv"
    args = ["features", "--input", invoices, "--out", out, "--window", "12M"]
    result = run_cli([*args, "--as-of", "2012-01-01"])
    assert result.exit_code == 0, result.stderr
    assert "chosen from the columns (4 of 4 signs" in result.stderr
    assert "read month-first (" in result.stderr
    assert "Rows left out: 3 without a customer id" in result.stderr
    assert "Wrote 12 customers x " in result.stderr
    frame = pd.read_csv(out, dtype={"CustomerID": str})
    assert len(frame) == 12 and frame["CustomerID"].str.fullmatch(r"\d+").all()
    manifest = json.loads((tmp_path / "customers.manifest.json").read_text())
    assert manifest["features"]["window"] == "12 months"
    assert manifest["features"]["as_of_rule"] == "given"
    assert manifest["query"].startswith("WITH")


def test_print_sql_shows_the_query_in_each_dialect(run_cli, invoices) -> None:
    for dialect, sign in (
        ("duckdb", "TRY_STRPTIME"),
        ("postgres", "TO_TIMESTAMP"),
        ("bigquery", "SAFE.PARSE_DATETIME"),
        ("spark", "TRY_TO_TIMESTAMP"),
    ):
        result = run_cli(["features", "--input", invoices, "--print-sql", "--dialect", dialect])
        assert result.exit_code == 0, result.stderr
        assert sign in result.stdout and "transactions" in result.stdout, dialect


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "x.txt"], "unsupported extension '.txt'"),
        (["--out", "c.csv", "--window", "soon"], "window='soon' should be a number of months"),
        (["--print-sql", "--dialect", "oracle"], "dialect='oracle' should be one of"),
        (["--out", "c.csv", "--customer", "nope"], "--customer 'nope': the transactions table"),
        ([], "no --out given"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(run_cli, invoices, tmp_path, extra, message) -> None:
    result = run_cli(["features", "--input", invoices, *extra], cwd=tmp_path)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_an_output_never_replaces_the_input(run_cli, invoices) -> None:
    before = invoices.read_bytes()
    result = run_cli(["features", "--input", invoices, "--out", invoices])
    assert result.exit_code == 2 and "an output would replace an input" in result.stderr
    assert invoices.read_bytes() == before
