"""``custseg fit`` and ``custseg score`` stop on transaction lines with the roll-up to run."""

from __future__ import annotations

import shlex
from pathlib import Path

import pandas as pd

from prepare.test_grain import invoice_lines


def _error_line(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_fit_on_invoice_lines_names_the_roll_up_command(run_cli, tmp_path: Path) -> None:
    data = tmp_path / "sales.csv"
    lines = invoice_lines()
    lines.to_csv(data, index=False)
    out = tmp_path / "out"
    line = _error_line(run_cli(["fit", "--input", data, "--out", out, "--k", "3"]))
    customers = lines["CustomerID"].nunique()
    assert f"has {len(lines):,} rows but only {customers:,} distinct CustomerID values" in line
    rolled = tmp_path / "sales-customers.parquet"
    command = shlex.join(
        [
            "custseg",
            "features",
            "--input",
            str(data),
            "--customer",
            "CustomerID",
            "--out",
            str(rolled),
        ]
    )
    assert f"first: {command}, then custseg fit --out {shlex.quote(str(out))} --input" in line
    assert "--segment-rows" in line
    assert not out.exists()
    # On purpose, the rows themselves.
    done = run_cli(
        [
            "fit",
            "--input",
            data,
            "--out",
            out,
            "--k",
            "3",
            "--k-range",
            "3-3",
            "--no-report",
            "--segment-rows",
        ]
        + ["--exclude", "InvoiceNo"]
    )
    assert done.exit_code == 0, done.stderr
    assert "3 segments" in done.stderr


def test_score_on_repeated_customers_is_refused(run_cli, model_file, sample, tmp_path) -> None:
    data = tmp_path / "lines.csv"
    pd.concat([sample.head(200)] * 3, ignore_index=True).to_csv(data, index=False)
    out = tmp_path / "scored.csv"
    line = _error_line(run_cli(["score", "--model", model_file, "--input", data, "--out", out]))
    assert "600 rows but only 200 distinct CUST_ID values (3.0 rows each)" in line
    assert f"then custseg score --model {shlex.quote(str(model_file))}" in line
    assert not out.exists()
    done = run_cli(
        ["score", "--model", model_file, "--input", data, "--out", out, "--segment-rows"]
    )
    assert done.exit_code == 0, done.stderr
    assert len(pd.read_csv(out)) == 600


def test_a_query_is_rolled_up_as_the_same_query(run_cli, tmp_path: Path) -> None:
    db = tmp_path / "sales.duckdb"
    import duckdb

    with duckdb.connect(str(db)) as connection:
        connection.register("lines", invoice_lines())
        connection.execute("CREATE TABLE sales AS SELECT * FROM lines")
    line = _error_line(
        run_cli(
            ["fit", "--sql", "SELECT * FROM sales", "--warehouse", f"duckdb:///{db}"]
            + ["--out", tmp_path / "out", "--k", "3"]
        )
    )
    assert "custseg features --sql 'SELECT * FROM sales' --warehouse" in line
    assert "--out customers.parquet" in line
