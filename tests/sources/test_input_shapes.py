"""Files of unusual but valid shapes read like any other, in fit, score and drift.

CR-only line endings (old Mac spreadsheets) and a header whose quoted names hold line
breaks are valid CSV: they read to the same table as the plain file. Nested columns
(lists, structs) cannot be CSV: extracting them to a .csv is one clear error.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from custseg.exceptions import SourceError
from custseg.sources import extract, iter_table, read_table, save_snapshot, table_row_count

_ODD_NAMES = {"BALANCE": "BALANCE\nIN EUR", "PURCHASES": 'PURCHASES "ALL"'}


def _streamed(path: Path) -> pd.DataFrame:
    return pd.concat(list(iter_table(path, chunk_size=700)))


def _write(frame: pd.DataFrame, path: Path, *, line_end: str = "\n") -> Path:
    # pandas quotes a field that holds its line terminator only: with CR line ends, a
    # name holding LF must be quoted explicitly to be valid CSV.
    quoting = csv.QUOTE_NONNUMERIC if line_end == "\r" else csv.QUOTE_MINIMAL
    frame.to_csv(path, index=False, lineterminator=line_end, quoting=quoting)
    return path


def test_cr_only_line_endings_read_like_line_feeds(tmp_path: Path, sample: pd.DataFrame) -> None:
    frame = sample.head(2000)
    plain = _write(frame, tmp_path / "plain.csv")
    old_mac = _write(frame, tmp_path / "old_mac.csv", line_end="\r")
    assert b"\n" not in old_mac.read_bytes()
    expected = read_table(plain)
    pd.testing.assert_frame_equal(read_table(old_mac), expected)
    pd.testing.assert_frame_equal(_streamed(old_mac), expected)
    assert table_row_count(old_mac) == 2000


def test_a_large_cr_only_file_is_sniffed_from_its_head(
    tmp_path: Path, sample: pd.DataFrame
) -> None:
    # The head read for sniffing stops after the first lines, whatever ends them: a
    # CR-only file must not be read whole to find its header.
    from custseg.sources._csv import _head_text

    path = _write(pd.concat([sample] * 3), tmp_path / "old_mac.csv", line_end="\r")
    head = _head_text(path)
    assert len(head) < path.stat().st_size / 10
    assert head.endswith("\r")


def test_a_quoted_line_break_in_the_header_is_part_of_the_name(
    tmp_path: Path, sample: pd.DataFrame
) -> None:
    frame = sample.head(2000).rename(columns=_ODD_NAMES)
    path = _write(frame, tmp_path / "odd_header.csv")
    assert path.read_text().startswith('CUST_ID,"BALANCE\nIN EUR"')
    for read in (read_table, _streamed):
        got = read(path)
        assert list(got.columns) == list(frame.columns)
        assert got["BALANCE\nIN EUR"].tolist() == pytest.approx(frame["BALANCE\nIN EUR"].tolist())
        assert got["CUST_ID"].iloc[0] == frame["CUST_ID"].iloc[0]
    assert table_row_count(path) == 2000


@pytest.mark.parametrize("line_end", ["\r", "\n"])
def test_score_and_drift_read_cr_files_and_multi_line_headers(
    tmp_path: Path, sample: pd.DataFrame, model_file: Path, run_cli, line_end: str
) -> None:
    # The model's columns keep their names; an extra column has a line break in its name.
    frame = sample.head(1500).assign(**{"NOTE\nFROM CRM": "x"})
    path = _write(frame, tmp_path / "current.csv", line_end=line_end)
    scored = run_cli(["score", "--model", model_file, "--input", path, "--out", tmp_path / "s.csv"])
    assert scored.exit_code == 0, scored.stderr
    assert len(pd.read_csv(tmp_path / "s.csv")) == 1500
    drift = run_cli(["drift", "--model", model_file, "--input", path, "--json"])
    assert drift.exit_code == 0, drift.stderr


def test_fit_reads_a_cr_only_file_with_a_multi_line_header(
    tmp_path: Path, sample: pd.DataFrame, run_cli
) -> None:
    frame = sample.head(600).rename(columns=_ODD_NAMES)
    path = _write(frame, tmp_path / "old_mac.csv", line_end="\r")
    result = run_cli(
        [
            "fit",
            "--input",
            path,
            "--out",
            tmp_path / "seg",
            "--k",
            "3",
            "--k-range",
            "3-3",
            "--no-report",
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "seg" / "model.json").is_file()


@pytest.mark.parametrize(
    ("select", "column"),
    [
        ("[1, 2] AS visits", "visits"),
        ("{'city': 'Oslo', 'zip': 150} AS address", "address"),
        ("[{'x': 1}] AS events", "events"),
    ],
)
def test_nested_columns_to_csv_are_one_clear_error(
    tmp_path: Path, run_cli, select: str, column: str
) -> None:
    out = tmp_path / "customers.csv"
    result = run_cli(["extract", "--sql", f"SELECT 'C1' AS customer_id, {select}", "--out", out])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" not in lines[0]
    assert f"'{column}'" in lines[0] and ".parquet" in lines[0]
    assert not out.exists() and not (tmp_path / "customers.manifest.json").exists()
    # Parquet holds nested values: the same query extracts to a .parquet file.
    parquet = tmp_path / "customers.parquet"
    ok = run_cli(["extract", "--sql", f"SELECT 'C1' AS customer_id, {select}", "--out", parquet])
    assert ok.exit_code == 0, ok.stderr


def test_a_map_column_is_one_clear_error_in_both_formats(tmp_path: Path, run_cli) -> None:
    # pandas holds a map as a list of pairs, which Arrow cannot convert back: named, exit 2.
    for out in (tmp_path / "customers.csv", tmp_path / "customers.parquet"):
        result = run_cli(["extract", "--sql", "SELECT 1 AS n, MAP {'a': 1} AS tags", "--out", out])
        assert result.exit_code == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot write the table: column 'tags'" in lines[0]
        assert "CAST(tags AS VARCHAR)" in lines[0]
        assert not out.exists()


def test_save_snapshot_names_the_nested_column(tmp_path: Path) -> None:
    result = extract("SELECT 'C1' AS customer_id, 3.5 AS spend, [1, 2] AS visits")
    with pytest.raises(SourceError, match=r"column 'visits' holds list values") as caught:
        save_snapshot(result.frame, tmp_path / "x.csv", query=result.query, warehouse="w")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("command", ["fit", "score", "drift"])
def test_nested_query_columns_are_a_user_error_in_every_command(
    tmp_path: Path, model_file: Path, run_cli, command: str
) -> None:
    sql = "SELECT *, [1, 2] AS visits FROM credit_card_customers LIMIT 500"
    args = {
        "fit": [
            "fit",
            "--sql",
            sql,
            "--out",
            tmp_path / "seg",
            "--k",
            "3",
            "--k-range",
            "3-3",
            "--no-report",
        ],
        "score": ["score", "--model", model_file, "--sql", sql, "--out", tmp_path / "s.csv"],
        "drift": ["drift", "--model", model_file, "--sql", sql],
    }[command]
    result = run_cli(args)
    assert result.exit_code in (0, 2), result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1


def test_nested_input_columns_kept_in_a_scored_csv_are_one_clear_error(
    tmp_path: Path, sample: pd.DataFrame, model_file: Path, run_cli
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = sample.head(300)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.append_column("visits", pa.array([[1, 2]] * len(frame)))
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    out = tmp_path / "scored.csv"
    args = ["score", "--model", model_file, "--input", path, "--keep-columns"]
    refused = run_cli([*args, "--out", out])
    assert refused.exit_code == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "column 'visits' holds nested values" in lines[0]
    assert not out.exists()
    # Without the kept columns, or into Parquet, the same input scores.
    assert run_cli([*args[:-1], "--out", out]).exit_code == 0
    assert run_cli([*args, "--out", tmp_path / "scored.parquet"]).exit_code == 0
    fit = [
        "fit",
        "--input",
        path,
        "--out",
        tmp_path / "seg",
        "--k",
        "3",
        "--k-range",
        "3-3",
        "--no-report",
    ]
    for command in (fit, ["drift", "--model", model_file, "--input", path]):
        result = run_cli(command)
        assert result.exit_code == 0, result.stderr
