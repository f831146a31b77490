"""`custseg score`, `custseg export-sql` and `custseg serve` as a user runs them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from custseg.scoring.batch import SCORE_COLUMNS, score_customers
from custseg.sources import sample_path


def _one_error_line(result, *words: str) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


# ---------------------------------------------------------------------------- score


def test_score_a_csv_into_parquet_with_a_json_summary(run_cli, model, model_file, sample, tmp_path):
    source = tmp_path / "new.csv"
    bad = sample.copy()
    bad["PURCHASES"] = bad["PURCHASES"].astype(object)
    bad.loc[[10, 20], "PURCHASES"] = "n/a?"
    bad.to_csv(source, index=False)
    out = tmp_path / "scored.parquet"
    result = run_cli(["score", "--model", model_file, "--input", source, "--out", out, "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    expected_result = score_customers(model, bad)
    out_of_profile = expected_result.counts["out_of_profile"]
    assert summary == {
        "rows_in": 8950,
        "scored": 8948,
        "rejected": 2,
        "counts": {
            "missing_id": 0,
            "duplicate_id": 0,
            "unseen_level": 0,
            "out_of_profile": out_of_profile,
        },
        "out": str(out),
        "rejects": str(tmp_path / "scored.parquet.rejects.csv"),
    }
    # The training customers themselves: about 1 in 200 lies beyond the 99.5th percentile.
    assert 20 < out_of_profile < 70
    assert "8,950 rows: 8,948 scored, 2 rejected (0 missing ids, 0 repeated ids" in result.stderr
    written = pq.read_table(out).to_pandas()
    assert list(written.columns) == ["CUST_ID", *SCORE_COLUMNS]
    expected = expected_result.scored
    assert written["segment_id"].tolist() == expected["segment_id"].tolist()
    assert np.allclose(written["distance_percentile"], expected["distance_percentile"])
    assert (written["flags"] == "out_of_profile").sum() == out_of_profile
    rejects = pd.read_csv(tmp_path / "scored.parquet.rejects.csv")
    assert rejects["row"].tolist() == [11, 21]
    assert rejects["CUST_ID"].tolist() == sample["CUST_ID"].iloc[[10, 20]].tolist()


def test_scoring_a_parquet_file_loads_neither_pandas_nor_duckdb(model_file, sample, tmp_path):
    # What `custseg score` imports is part of its speed: pandas alone takes 0.2 s.
    source = tmp_path / "new.parquet"
    sample.head(300).to_parquet(source, index=False)
    out = tmp_path / "scored.parquet"
    args = ["--quiet", "score", "--model", str(model_file), "--input", str(source)]
    code = (
        "import sys\n"
        "from custseg.cli import main\n"
        f"assert main({[*args, '--out', str(out)]!r}) == 0\n"
        "print(sorted(m for m in ('pandas', 'duckdb', 'sklearn') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert pq.read_metadata(out).num_rows == 300


def test_score_keeps_columns_and_writes_rejects_where_asked(run_cli, model_file, sample, tmp_path):
    source = tmp_path / "new.parquet"
    sample.head(500).to_parquet(source, index=False)
    out = tmp_path / "scored.csv"
    result = run_cli(
        [
            "--quiet",
            "score",
            "-m",
            model_file,
            "-i",
            source,
            "-o",
            out,
            "--keep-columns",
            "--rejects",
            tmp_path / "r.csv",
            "--chunk-size",
            "128",
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""
    written = pd.read_csv(out)
    assert list(written.columns) == [*sample.columns, *SCORE_COLUMNS]
    assert len(written) == 500 and len(pd.read_csv(tmp_path / "r.csv")) == 0


def test_score_a_query_on_the_embedded_warehouse(run_cli, model_file, sample, tmp_path):
    out = tmp_path / "scored.parquet"
    result = run_cli(
        [
            "score",
            "--model",
            model_file,
            "--sql",
            "SELECT * FROM credit_card_customers WHERE TENURE = 12",
            "--out",
            out,
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert pq.read_metadata(out).num_rows == int((sample["TENURE"] == 12).sum())


def test_score_a_query_on_a_duckdb_file(run_cli, model, model_file, sample_duckdb, tmp_path):
    out = tmp_path / "scored.csv"
    result = run_cli(
        [
            "score",
            "--model",
            model_file,
            "--sql",
            "SELECT * FROM credit_card_customers ORDER BY CUST_ID DESC LIMIT 300",
            "--warehouse",
            f"duckdb:///{sample_duckdb}",
            "--out",
            out,
        ]
    )
    assert result.exit_code == 0, result.stderr
    written = pd.read_csv(out)
    assert len(written) == 300 and written["CUST_ID"].iloc[0] == "C19190"


# ------------------------------------------------------------------ bad input: exit 2


def _edit_model(model_file: Path, tmp_path: Path, edit) -> Path:
    document = json.loads(model_file.read_text())
    edit(document)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))
    return path


def test_a_model_from_a_newer_format_is_refused(run_cli, model_file, tmp_path):
    newer = _edit_model(model_file, tmp_path, lambda d: d.update(format_version=99))
    result = run_cli(["score", "-m", newer, "-i", sample_path(), "-o", tmp_path / "s.csv"])
    _one_error_line(result, "format version 99", "upgrade custseg")
    assert not (tmp_path / "s.csv").exists()


def test_a_tampered_model_is_refused(run_cli, model_file, tmp_path):
    def tamper(document):
        document["centroids"][0][0] += 0.5

    tampered = _edit_model(model_file, tmp_path, tamper)
    for command in (
        ["score", "-m", tampered, "-i", sample_path(), "-o", tmp_path / "s.csv"],
        ["export-sql", "-m", tampered, "--dialect", "duckdb", "--table", "t"],
        ["serve", "-m", tampered, "--port", "1"],
    ):
        _one_error_line(run_cli(command), "checksum")
    assert not (tmp_path / "s.csv").exists()


def test_a_missing_model_file_is_a_clear_error(run_cli, tmp_path):
    result = run_cli(["score", "-m", tmp_path / "nope.json", "-i", sample_path(), "-o", "x.csv"])
    _one_error_line(result, "does not exist")


def test_input_with_the_wrong_types_is_refused(run_cli, model_file, sample, tmp_path):
    source = tmp_path / "dates.csv"
    frame = sample.head(40).copy()
    frame["BALANCE"] = "2024-01-31"
    frame.to_csv(source, index=False)
    result = run_cli(["score", "-m", model_file, "-i", source, "-o", tmp_path / "s.parquet"])
    _one_error_line(result, "none of the 40 rows can be used", "BALANCE")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dates.csv"]


def test_empty_input_and_missing_columns_are_refused(run_cli, model_file, sample, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(sample.columns) + "\n")
    out = tmp_path / "s.csv"
    _one_error_line(run_cli(["score", "-m", model_file, "-i", empty, "-o", out]), "no rows")
    partial = tmp_path / "partial.csv"
    sample.drop(columns=["CREDIT_LIMIT"]).head(5).to_csv(partial, index=False)
    _one_error_line(run_cli(["score", "-m", model_file, "-i", partial, "-o", out]), "CREDIT_LIMIT")
    assert not out.exists()


def test_data_options_are_checked(run_cli, model_file, tmp_path):
    out = tmp_path / "s.csv"
    _one_error_line(
        run_cli(["score", "-m", model_file, "-i", sample_path(), "--sql", "SELECT 1", "-o", out]),
        "only one",
    )
    _one_error_line(run_cli(["score", "-m", model_file, "-o", out]), "--input")
    _one_error_line(
        run_cli(["score", "-m", model_file, "-i", sample_path(), "-w", "sqlite:///x", "-o", out]),
        "--warehouse",
    )
    _one_error_line(
        run_cli(["score", "-m", model_file, "-i", sample_path(), "-o", tmp_path / "s.json"]),
        ".parquet",
    )
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------------ export-sql


def test_export_sql_to_stdout_and_to_a_file(run_cli, model, model_file, sample, tmp_path):
    printed = run_cli(["export-sql", "-m", model_file, "--dialect", "duckdb", "--table", "cards"])
    assert printed.exit_code == 0, printed.stderr
    out = tmp_path / "score.sql"
    written = run_cli(["export-sql", "-m", model_file, "-d", "duckdb", "-t", "cards", "--out", out])
    assert written.exit_code == 0 and out.read_text() == printed.stdout
    with duckdb.connect() as con:
        con.register("cards_frame", sample)
        con.execute("CREATE TABLE cards AS SELECT * FROM cards_frame")
        got = con.execute(printed.stdout).df().set_index("CUST_ID").loc[sample["CUST_ID"]]
    expected = score_customers(model, sample).scored
    assert got["segment_id"].tolist() == expected["segment_id"].tolist()


def test_export_sql_with_an_unknown_dialect(run_cli, model_file):
    result = run_cli(["export-sql", "-m", model_file, "--dialect", "oracle", "--table", "t"])
    _one_error_line(result, "'oracle'", "duckdb, bigquery, spark, postgres")


def test_export_sql_help_lists_the_registered_dialects(run_cli):
    from custseg.scoring import DIALECTS

    result = run_cli(["export-sql", "--help"])
    assert result.exit_code == 0, result.stderr
    assert f"SQL dialect: {', '.join(DIALECTS)}." in " ".join(result.stdout.split())


# ----------------------------------------------------------------------------- serve


def test_serve_refuses_a_taken_port_and_an_empty_key(run_cli, model_file):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(["serve", "-m", model_file, "--port", str(port)])
        _one_error_line(result, f"127.0.0.1:{port}", "--port")
    result = run_cli(["serve", "-m", model_file], env={"CUSTSEG_API_KEY": "  "})
    _one_error_line(result, "CUSTSEG_API_KEY")
    _one_error_line(run_cli(["serve", "-m", model_file, "--max-records", "0"]), "max_records")
