"""Files as sources: read_table, iter_table, table_row_count on real CSV and Parquet files."""

from __future__ import annotations

import csv
import gzip
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from custseg.exceptions import ConfigError, SchemaError, SourceError
from custseg.sources import file_format, iter_table, read_table, table_row_count

MONEY = ["BALANCE", "PURCHASES", "CASH_ADVANCE", "PAYMENTS", "MINIMUM_PAYMENTS"]


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------ the bundled sample


def test_sample_reads_with_text_ids_and_float_numbers(sample_csv: Path) -> None:
    frame = read_table(sample_csv)
    assert frame.shape == (8950, 18)
    assert pd.api.types.is_string_dtype(frame["CUST_ID"])
    assert frame["CUST_ID"].iloc[:2].tolist() == ["C10001", "C10002"]
    numeric = frame.columns[1:]
    assert all(frame[name].dtype == np.float64 for name in numeric)
    assert frame["MINIMUM_PAYMENTS"].isna().sum() == 313
    assert frame["CREDIT_LIMIT"].isna().sum() == 1
    assert frame.drop(columns=["MINIMUM_PAYMENTS", "CREDIT_LIMIT"]).notna().all().all()


def test_sample_values_match_the_standard_library_parse(sample_csv: Path) -> None:
    with sample_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    frame = read_table(sample_csv)
    assert list(frame.columns) == header
    for i in (0, 1, 4321, len(body) - 1):
        for j, name in enumerate(header[1:], start=1):
            text = body[i][j]
            value = frame[name].iloc[i]
            assert (math.isnan(value) and text == "") or value == float(text)


def test_columns_selects_and_orders(sample_csv: Path) -> None:
    frame = read_table(sample_csv, columns=["TENURE", "CUST_ID"])
    assert list(frame.columns) == ["TENURE", "CUST_ID"]
    assert frame["CUST_ID"].iloc[0] == "C10001"


def test_unknown_column_is_a_schema_error_naming_it(sample_csv: Path) -> None:
    with pytest.raises(SchemaError, match="'BALANCES' is not in .*CC_GENERAL.csv.*BALANCE"):
        read_table(sample_csv, columns=["BALANCES"])


# ------------------------------------------------------------------------ CSV dialects

ROWS = [
    ["CUST_ID", "NAME", "BALANCE", "TENURE"],
    ["C001", 'Smith; Jones, "Jr"', "10.5", "12"],
    ["C002", "two\nlines", "", "6"],
    ["C003", "Zürich | Genève", "-0.25", "9"],
]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed_and_quoted_fields_survive(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "customers.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(ROWS)
    frame = read_table(path)
    assert list(frame.columns) == ROWS[0]
    assert frame["NAME"].tolist() == [row[1] for row in ROWS[1:]]
    assert frame["BALANCE"].dtype == np.float64
    assert frame["BALANCE"].iloc[0] == 10.5 and np.isnan(frame["BALANCE"].iloc[1])
    assert frame["TENURE"].tolist() == [12.0, 6.0, 9.0]


def test_utf8_byte_order_mark_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    path = _write(tmp_path / "bom.csv", "\ufeffCUST_ID;CITY;BALANCE\nC1;Zürich;1.5\n")
    frame = read_table(path)
    assert list(frame.columns) == ["CUST_ID", "CITY", "BALANCE"]
    assert frame["CITY"].iloc[0] == "Zürich"
    assert frame["BALANCE"].iloc[0] == 1.5


def test_decimal_commas_in_semicolon_files(tmp_path: Path) -> None:
    path = _write(tmp_path / "eu.csv", "CUST_ID;BALANCE;RATE\nC1;1234,5;0,25\nC2;-3,75;1\n")
    frame = read_table(path)
    assert frame["BALANCE"].tolist() == [1234.5, -3.75]
    assert frame["RATE"].tolist() == [0.25, 1.0]


def test_gap_markers_become_nan(tmp_path: Path) -> None:
    path = _write(tmp_path / "gaps.csv", "ID,X\nA,\nB,NA\nC,NULL\nD,nan\nE,2\n")
    frame = read_table(path)
    assert frame["X"].dtype == np.float64
    assert frame["X"].isna().tolist() == [True, True, True, True, False]


def test_ids_and_codes_stay_text(tmp_path: Path) -> None:
    text = (
        "customer_id,AccountNumber,ZIP,branch,segment_code,BALANCE,PURCHASES_TRX\n"
        "123,4001,01234,007,10,10.5,3\n"
        "124,4002,75001,012,11,0,0\n"
    )
    frame = read_table(_write(tmp_path / "ids.csv", text))
    assert frame["customer_id"].tolist() == ["123", "124"]
    assert frame["AccountNumber"].tolist() == ["4001", "4002"]
    assert frame["ZIP"].tolist() == ["01234", "75001"]
    assert frame["branch"].tolist() == ["007", "012"]  # leading zeros: a code
    assert frame["segment_code"].tolist() == ["10", "11"]
    assert frame["BALANCE"].dtype == np.float64
    assert frame["PURCHASES_TRX"].dtype == np.float64  # counts are numbers


def test_text_columns_forces_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "ref,amount\n10,1\n20,2\n")
    assert read_table(path)["ref"].dtype == np.float64
    assert read_table(path, text_columns=["ref"])["ref"].tolist() == ["10", "20"]


def test_blank_and_duplicate_header_names(tmp_path: Path) -> None:
    frame = read_table(_write(tmp_path / "blank.csv", ",A\n0,1\n1,2\n"))
    assert list(frame.columns) == ["column_1", "A"]
    with pytest.raises(SourceError, match="duplicate column name 'A'"):
        read_table(_write(tmp_path / "dup.csv", "A,A\n1,2\n"))


def test_header_only_file_gives_an_empty_frame(tmp_path: Path) -> None:
    frame = read_table(_write(tmp_path / "h.csv", "CUST_ID,BALANCE\n"))
    assert list(frame.columns) == ["CUST_ID", "BALANCE"] and len(frame) == 0


def test_gzip_csv(tmp_path: Path, sample_csv: Path) -> None:
    path = tmp_path / "sample.csv.gz"
    path.write_bytes(gzip.compress(sample_csv.read_bytes()))
    pd.testing.assert_frame_equal(read_table(path), read_table(sample_csv))


def _late_text_file(path: Path, n: int = 120_000, bad_row: int = 110_000) -> Path:
    # Far past the first 1 MiB block, so Arrow's first-block inference cannot see it.
    lines = ["CUST_ID,AMOUNT,NOTE"]
    lines += [f"C{i},{'n/a' if i == bad_row else i * 0.5},note" for i in range(n)]
    return _write(path, "\n".join(lines) + "\n")


def test_text_deep_in_a_numeric_column_does_not_fail(tmp_path: Path) -> None:
    path = _late_text_file(tmp_path / "late.csv")
    assert path.stat().st_size > 2 * (1 << 20)
    frame = read_table(path)
    assert len(frame) == 120_000
    assert frame["AMOUNT"].iloc[110_000] == "n/a"
    assert frame["AMOUNT"].iloc[3] == "1.5"


# ------------------------------------------------------------------------------ Parquet


def test_parquet_types(tmp_path: Path) -> None:
    table = pa.table(
        {
            "customer_id": pa.array([1, 2, None], pa.int64()),
            "NAME": pa.array(["a", None, "c"]),
            "TRX": pa.array([1, None, 3], pa.int32()),
            "AMOUNT": pa.array([1.5, 2.5, None], pa.float32()),
            "OPENED": pa.array([0, 1, None], pa.timestamp("us", tz="UTC")),
            "ACTIVE": pa.array([True, False, True]),
        }
    )
    path = tmp_path / "c.parquet"
    pq.write_table(table, path)
    frame = read_table(path)
    assert frame["customer_id"].tolist()[:2] == ["1", "2"] and pd.isna(frame["customer_id"][2])
    assert frame["NAME"].iloc[0] == "a" and pd.isna(frame["NAME"].iloc[1])
    assert frame["TRX"].dtype == np.float64 and np.isnan(frame["TRX"].iloc[1])
    assert frame["AMOUNT"].dtype == np.float64
    assert str(frame["OPENED"].dtype) == "datetime64[us, UTC]"
    assert frame["ACTIVE"].tolist() == [True, False, True]
    assert read_table(path, columns=["TRX"]).columns.tolist() == ["TRX"]


# -------------------------------------------------------------------------- iter_table


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_iter_table_chunks_add_up_to_read_table(
    tmp_path: Path, sample_frame: pd.DataFrame, suffix: str
) -> None:
    path = tmp_path / f"sample{suffix}"
    if suffix == ".csv":
        sample_frame.to_csv(path, index=False)
    else:
        sample_frame.to_parquet(path, index=False)
    chunks = list(iter_table(path, chunk_size=1000))
    assert [len(chunk) for chunk in chunks] == [1000] * 8 + [950]
    assert chunks[3].index[0] == 3000 and chunks[-1].index[-1] == 8949
    whole = pd.concat(chunks)
    pd.testing.assert_frame_equal(whole, read_table(path))
    assert pd.api.types.is_string_dtype(chunks[-1]["CUST_ID"])


def test_iter_table_keeps_going_when_text_appears_late(tmp_path: Path) -> None:
    path = _late_text_file(tmp_path / "late.csv")
    chunks = list(iter_table(path, chunk_size=50_000))
    assert [len(chunk) for chunk in chunks] == [50_000, 50_000, 20_000]
    assert chunks[0]["AMOUNT"].dtype == np.float64 and chunks[0]["AMOUNT"].iloc[3] == 1.5
    assert chunks[2]["AMOUNT"].loc[110_000] == "n/a"
    assert chunks[2]["CUST_ID"].iloc[0] == "C100000"  # no row lost or repeated on restart


_MEASURE_STREAM = """
import sys
import pyarrow as pa
from custseg.sources import iter_table

before = pa.total_allocated_bytes()
peak = total = 0
for chunk in iter_table(sys.argv[1], chunk_size=5_000):
    peak = max(peak, pa.total_allocated_bytes() - before)
    total += len(chunk)
print(total, peak)
"""


def test_iter_table_memory_is_bounded_by_the_chunk(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n_rows, n_columns = 400_000, 8
    table = pa.table({f"X{i}": rng.random(n_rows) for i in range(n_columns)})
    path = tmp_path / "big.csv"
    pcsv.write_csv(table, path)
    whole_table_bytes = n_rows * n_columns * 8
    # Measured in a fresh interpreter: Arrow's allocation counter is process-wide, and
    # whatever earlier tests left running in this process would be counted too.
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE_STREAM, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    total, peak = (int(v) for v in done.stdout.split())
    assert total == n_rows
    # Arrow's read-ahead window is a constant number of small blocks, not the file.
    assert peak < whole_table_bytes / 2


def test_iter_table_rejects_a_bad_chunk_size(sample_csv: Path) -> None:
    with pytest.raises(ConfigError, match="chunk_size=0"):
        next(iter_table(sample_csv, chunk_size=0))


def test_iter_table_of_an_empty_file_yields_one_empty_chunk(tmp_path: Path) -> None:
    chunks = list(iter_table(_write(tmp_path / "h.csv", "A,B\n")))
    assert len(chunks) == 1 and list(chunks[0].columns) == ["A", "B"] and chunks[0].empty


# --------------------------------------------------------------------- table_row_count


def test_row_counts(tmp_path: Path, sample_csv: Path, sample_frame: pd.DataFrame) -> None:
    assert table_row_count(sample_csv) == 8950
    path = tmp_path / "s.parquet"
    sample_frame.to_parquet(path)
    assert table_row_count(path) == 8950
    quoted = tmp_path / "q.csv"
    with quoted.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(ROWS)
    assert table_row_count(quoted) == 3  # one value holds a line break


# ---------------------------------------------------------------------------- errors


def test_errors_name_the_problem_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="file not found: .*nope.csv.*check the path"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(SourceError, match=r"unsupported file type '\.xlsx'.*use a \.csv"):
        read_table(_write(tmp_path / "c.xlsx", "x"))
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(SourceError, match="is a folder"):
        read_table(folder)
    with pytest.raises(SourceError, match="is empty"):
        read_table(_write(tmp_path / "empty.csv", ""))
    with pytest.raises(SourceError, match="not UTF-8 text.*save it as UTF-8"):
        read_table(_write(tmp_path / "latin.csv", "ID;CITY\n1;Zürich\n", encoding="latin-1"))
    with pytest.raises(SourceError, match="row does not match the header.*check the delimiter"):
        read_table(_write(tmp_path / "ragged.csv", "A,B\n1,2\n1,2,3\n"))
    with pytest.raises(SourceError, match="as Parquet.*valid Parquet file"):
        read_table(_write(tmp_path / "bad.parquet", "not parquet"))


def test_error_messages_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        read_table(_write(tmp_path / "ragged.csv", "A,B\n1,2\n1,2,3\n"))
    assert "\n" not in str(caught.value)


def test_file_format() -> None:
    assert file_format("a/b.CSV") == "csv"
    assert file_format("b.tsv.gz") == "csv"
    assert file_format("b.pq") == "parquet"
    with pytest.raises(SourceError, match="'.json'"):
        file_format("b.json")
