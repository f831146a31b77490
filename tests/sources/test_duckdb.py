"""DuckDB warehouses: the embedded sample and real DuckDB files, opened read-only."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from custseg.exceptions import SourceError
from custseg.sources import extract


def _abs_url(path: Path) -> str:
    return f"duckdb:///{path}"  # "duckdb:///" + "/tmp/..." = four slashes: an absolute path


def test_embedded_warehouse_holds_the_bundled_sample(sample_frame: pd.DataFrame) -> None:
    result = extract("SELECT * FROM credit_card_customers WHERE TENURE = 12")
    expected = sample_frame[sample_frame["TENURE"] == 12].reset_index(drop=True)
    pd.testing.assert_frame_equal(result.frame, expected)
    assert result.source_kind == "duckdb" and result.bytes_processed is None
    assert result.warehouse == "embedded DuckDB (bundled sample as table credit_card_customers)"


def test_embedded_warehouse_can_query_files(tmp_path: Path, sample_frame: pd.DataFrame) -> None:
    path = tmp_path / "extra.parquet"
    sample_frame.head(10).to_parquet(path)
    result = extract(f"SELECT CUST_ID, BALANCE FROM '{path}' ORDER BY CUST_ID")
    assert result.frame["CUST_ID"].tolist() == sorted(sample_frame["CUST_ID"].head(10))


def test_user_file_by_absolute_and_relative_url(
    sample_duckdb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "SELECT CUST_ID, PURCHASES FROM credit_card_customers ORDER BY PURCHASES DESC LIMIT 5"
    embedded = extract(query).frame
    by_absolute = extract(query, _abs_url(sample_duckdb))
    pd.testing.assert_frame_equal(by_absolute.frame, embedded)
    assert by_absolute.warehouse == _abs_url(sample_duckdb)
    monkeypatch.chdir(sample_duckdb.parent)
    pd.testing.assert_frame_equal(extract(query, "duckdb:///warehouse.duckdb").frame, embedded)


def test_user_file_is_opened_read_only(sample_duckdb: Path) -> None:
    with pytest.raises(SourceError, match="not a CREATE statement"):
        extract("CREATE TABLE stolen AS SELECT 1 AS x", _abs_url(sample_duckdb))
    with duckdb.connect(str(sample_duckdb), read_only=True) as connection:
        tables = {row[0] for row in connection.execute("SHOW TABLES").fetchall()}
    assert tables == {"credit_card_customers"}


def test_result_types_follow_the_package_rules() -> None:
    result = extract(
        "SELECT 7::INTEGER AS customer_id, 3 AS trx, 2.50::DECIMAL(10, 2) AS amount, "
        "NULL::DOUBLE AS gap, 'x' AS note, DATE '2024-01-31' AS opened, "
        "TIMESTAMPTZ '2024-01-31 10:00:00+00' AS seen, true AS active"
    )
    frame = result.frame
    assert frame["customer_id"].tolist() == ["7"]
    assert frame["trx"].dtype == np.float64 and frame["amount"].tolist() == [2.5]
    assert frame["gap"].dtype == np.float64 and frame["gap"].isna().all()
    assert pd.api.types.is_string_dtype(frame["note"])
    assert pd.api.types.is_datetime64_dtype(frame["opened"])
    assert frame["seen"][0] == pd.Timestamp("2024-01-31 10:00", tz="UTC")
    assert frame["active"].tolist() == [True]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELEC * FROM credit_card_customers", r"^SQL syntax error: .*\"SELEC\"; fix the query$"),
        (
            "SELECT * FROM customers",
            r"^unknown table or object: .*customers does not exist.*the embedded warehouse has "
            r"the table credit_card_customers\)$",
        ),
        (
            "SELECT BALANCES FROM credit_card_customers",
            r"^the query names something that does not exist: .*BALANCES.*check the column names$",
        ),
        (
            "SELECT * FROM credit_card_customers WHERE TENURE > 100",
            r"^the query returned no rows; check its WHERE clause",
        ),
        (
            "SELECT CAST('x' AS INTEGER) AS n",
            r"^DuckDB could not run the query: Conversion Error.*; check the query$",
        ),
        ("SELECT 1 AS a, 2 AS a", r"duplicate column name 'a'"),
    ],
)
def test_query_errors_are_one_line(sql: str, expected: str) -> None:
    with pytest.raises(SourceError, match=expected) as caught:
        extract(sql)
    assert "\n" not in str(caught.value)


def test_missing_database_file_suggests_the_absolute_spelling(
    sample_duckdb: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    relative_spelling = f"duckdb:///{str(sample_duckdb).lstrip('/')}"  # three slashes
    with pytest.raises(SourceError, match=r"DuckDB database not found: .*write duckdb:////"):
        extract("SELECT 1", relative_spelling)
    assert not (tmp_path / str(sample_duckdb).lstrip("/")).exists()


def test_other_files_are_not_duckdb_databases(sample_sqlite: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"is not a DuckDB database file.*sqlite:///"):
        extract("SELECT 1", _abs_url(sample_sqlite))
    tiny = tmp_path / "tiny.duckdb"
    tiny.write_bytes(b"DU")
    with pytest.raises(SourceError, match="is not a DuckDB database file"):
        extract("SELECT 1", _abs_url(tiny))


# ------------------------------------------------------------------ trust model


@pytest.mark.parametrize("embedded", [True, False])
@pytest.mark.parametrize(
    "sql, kind",
    [
        ("COPY (SELECT * FROM credit_card_customers) TO '{out}'", "COPY"),
        ("COPY credit_card_customers TO '{out}' (FORMAT parquet)", "COPY"),
        ("EXPORT DATABASE '{folder}'", "EXPORT"),
        ("ATTACH '{folder}/new.duckdb' AS other", "ATTACH"),
        ("INSTALL httpfs", "INSTALL"),
        ("LOAD httpfs", "LOAD"),
        ("SET autoinstall_known_extensions = true", "SET"),
        ("PRAGMA enable_profiling", "PRAGMA"),
        ("CALL pragma_version()", "CALL"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("SELECT 1; COPY (SELECT 1) TO '{out}'", "2 statements"),
        ("SET threads = 1; SELECT * FROM credit_card_customers", "2 statements"),
    ],
)
def test_only_one_reading_statement_runs(
    sql: str, kind: str, embedded: bool, sample_duckdb: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "written"
    query = sql.format(out=tmp_path / "stolen.csv", folder=folder)
    warehouse = None if embedded else _abs_url(sample_duckdb)
    with pytest.raises(SourceError, match=kind):
        extract(query, warehouse)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]


@pytest.mark.parametrize(
    "sql, name",
    [
        ("INSTALL httpfs", "an INSTALL"),
        ("-- comment\n /* block */ FORCE INSTALL httpfs", "a FORCE INSTALL"),
        ("LOAD httpfs", "a LOAD"),
        ("UPDATE EXTENSIONS", "an UPDATE"),
        ("ATTACH 'x.duckdb'", "an ATTACH"),
        ("DETACH x", "a DETACH"),
        ("USE memory", "a USE"),
        ("RESET threads", "a RESET"),
        ("SET threads = 1", "a SET"),
        ("SET VARIABLE x = 1", "a SET"),
        ("PRAGMA version", "a PRAGMA"),
        ("CHECKPOINT", "a CHECKPOINT"),
        ("ANALYZE", "an ANALYZE"),
        ("VACUUM", "a VACUUM"),
        ("IMPORT DATABASE 'folder'", "an IMPORT"),
        ("EXPORT DATABASE 'folder'", "an EXPORT"),
        ("COPY credit_card_customers TO 'x.csv'", "a COPY"),
        ("BEGIN TRANSACTION", "a BEGIN"),
        ("EXPLAIN SELECT 1", "an EXPLAIN"),
        ("CALL pragma_version()", "a CALL"),
        ("WITH t AS (SELECT 1 AS a) INSERT INTO x SELECT a FROM t", "an INSERT"),
        ("create secret (type s3)", "a CREATE"),
    ],
)
def test_refusals_name_the_statement_as_written(sql: str, name: str) -> None:
    with pytest.raises(SourceError) as caught:
        extract(sql)
    message = str(caught.value)
    assert f"runs on a DuckDB warehouse, not {name} statement;" in message
    assert "\n" not in message


def test_a_query_cannot_download_an_extension(tmp_path: Path) -> None:
    # httpfs is not loaded and may not be installed: with auto-install on, DuckDB would
    # try to download it. Here it refuses at once, without touching the network.
    with pytest.raises(SourceError, match="httpfs"):
        extract("SELECT * FROM read_csv('https://example.com/customers.csv')")


def test_reading_queries_still_work(sample_duckdb: Path, sample_csv: Path) -> None:
    for sql in (
        "WITH t AS (SELECT * FROM credit_card_customers) SELECT COUNT(*) AS n FROM t;",
        "FROM credit_card_customers SELECT COUNT(*) AS n",
        f"SELECT COUNT(*) AS n FROM read_csv('{sample_csv}')",
    ):
        assert extract(sql).frame["n"].tolist() == [8950]
    assert (
        len(extract("SELECT * FROM credit_card_customers", _abs_url(sample_duckdb)).frame) == 8950
    )
