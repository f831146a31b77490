"""SQLAlchemy URLs against real SQLite files; URL masking; missing drivers and extras."""

from __future__ import annotations

import hashlib
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest

from custseg.exceptions import ConfigError, SourceError
from custseg.sources import describe_warehouse, extract, mask_url


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sqlite_file_gives_the_same_table(sample_sqlite: Path, sample_frame: pd.DataFrame) -> None:
    result = extract("SELECT * FROM credit_card_customers", _url(sample_sqlite))
    pd.testing.assert_frame_equal(result.frame, sample_frame)
    assert result.source_kind == "sqlalchemy" and result.warehouse == _url(sample_sqlite)


def test_relative_sqlite_url(
    sample_sqlite: Path, sample_frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample_sqlite.parent)
    frame = extract("SELECT CUST_ID FROM credit_card_customers", "sqlite:///bank.db").frame
    assert frame["CUST_ID"].tolist() == sample_frame["CUST_ID"].tolist()


def test_query_text_reaches_the_driver_unchanged(
    sample_sqlite: Path, sample_frame: pd.DataFrame
) -> None:
    # "%" and ":name" would be parameter markers for a SQL toolkit; here they are SQL.
    sql = (
        "SELECT CUST_ID, '10:30' AS at FROM credit_card_customers "
        "WHERE CUST_ID LIKE 'C1000%' AND ':x' = ':x' ORDER BY CUST_ID"
    )
    frame = extract(sql, _url(sample_sqlite)).frame
    expected = sorted(c for c in sample_frame["CUST_ID"] if c.startswith("C1000"))
    assert frame["CUST_ID"].tolist() == expected and set(frame["at"]) == {"10:30"}


def test_dynamic_sqlite_types_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "mixed.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (account_id INTEGER, n, mixed, amount NUMERIC)")
        connection.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?)",
            [(1, 3, 1, 10), (2, None, "x", 2.5), (3, 5, 2.5, None)],
        )
    connection.close()
    frame = extract("SELECT * FROM t ORDER BY account_id", _url(path)).frame
    assert frame["account_id"].tolist() == ["1", "2", "3"]
    assert frame["n"].dtype == np.float64 and np.isnan(frame["n"][1])
    assert frame["mixed"].tolist() == ["1", "x", "2.5"]
    assert frame["amount"].dtype == np.float64 and frame["amount"].tolist()[:2] == [10.0, 2.5]


def test_sqlite_file_is_read_only_and_unchanged(sample_sqlite: Path) -> None:
    before = _sha(sample_sqlite)
    with pytest.raises(
        SourceError, match=r"^the warehouse is opened read-only: .*\(SELECT \.\.\.\)$"
    ):
        extract("DELETE FROM credit_card_customers", _url(sample_sqlite))
    with pytest.raises(SourceError, match="read-only"):
        extract("CREATE TABLE x (a)", _url(sample_sqlite))
    assert _sha(sample_sqlite) == before


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(SourceError, match=r"SQLite database not found: .*missing\.db.*sqlite:///"):
        extract("SELECT 1", _url(missing))
    assert not missing.exists()
    with pytest.raises(SourceError, match="names no SQLite file"):
        extract("SELECT 1", "sqlite://")


def test_non_sqlite_file(sample_duckdb: Path) -> None:
    with pytest.raises(SourceError, match=r"is not a SQLite database file.*duckdb:///"):
        extract("SELECT 1", _url(sample_duckdb))


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELEC * FROM credit_card_customers",
            r'^SQL syntax error: near "SELEC": syntax error; fix',
        ),
        (
            "SELECT * FROM customers",
            r"^unknown table: no such table: customers; check the table name in the query$",
        ),
        (
            "SELECT BALANCES FROM credit_card_customers",
            r"^unknown column: no such column: BALANCES; check the column names",
        ),
        ("SELECT * FROM credit_card_customers WHERE TENURE > 100", r"^the query returned no rows"),
    ],
)
def test_query_errors(sample_sqlite: Path, sql: str, expected: str) -> None:
    with pytest.raises(SourceError, match=expected) as caught:
        extract(sql, _url(sample_sqlite))
    assert "\n" not in str(caught.value)


# ------------------------------------------------------------------------- passwords


def test_mask_url_hides_passwords_and_secret_parameters() -> None:
    assert mask_url("postgresql://ana:s3cr@t/x@db.bank:5432/cards?sslmode=require") == (
        "postgresql://ana:***@db.bank:5432/cards?sslmode=require"
    )
    assert mask_url("snowflake://ana@acct/db?password=s3cret&warehouse=wh") == (
        "snowflake://ana@acct/db?password=***&warehouse=wh"
    )
    assert mask_url("mssql+pyodbc:///?odbc_connect=DSN%3Dx%3BUID%3Dana%3BPWD%3Ds3cret%3BA%3D1") == (
        "mssql+pyodbc:///?odbc_connect=DSN%3Dx%3BUID%3Dana%3BPWD%3D***%3BA%3D1"
    )
    assert mask_url("sqlite:////data/x@y.db") == "sqlite:////data/x@y.db"
    assert describe_warehouse(None).startswith("embedded DuckDB")


def test_password_never_shows_in_results_or_errors(sample_sqlite: Path) -> None:
    # SQLite ignores the user part, so the URL carries a password end to end.
    result = extract("SELECT 1 AS one", f"sqlite://ana:s3cret@/{sample_sqlite}")
    assert result.warehouse == f"sqlite://ana:***@/{sample_sqlite}"
    with pytest.raises(SourceError) as caught:
        extract("SELECT 1", "postgresql://ana:s3cret@127.0.0.1:1/cards")
    assert "s3cret" not in str(caught.value)


def test_missing_driver_names_the_package() -> None:
    # The tests install psycopg (the postgres extra) but neither psycopg2 nor MySQLdb.
    with pytest.raises(
        SourceError, match=r"driver 'psycopg2' for postgresql:// .*pip install psycopg2-binary"
    ):
        extract("SELECT 1", "postgres+psycopg2://ana@localhost/cards")  # postgres: postgresql
    with pytest.raises(
        SourceError, match=r"driver 'MySQLdb' for mysql:// .*pip install mysqlclient"
    ):
        extract("SELECT 1", "mysql://ana@localhost/cards")


def test_unknown_schemes() -> None:
    with pytest.raises(
        ConfigError, match=r"^unknown warehouse scheme 'foo' in 'foo://ana:\*\*\*@h/db'"
    ):
        extract("SELECT 1", "foo://ana:s3cret@h/db")
    with pytest.raises(
        ConfigError, match="has no scheme; for a DuckDB file write duckdb:///w.duckdb"
    ):
        extract("SELECT 1", "w.duckdb")
    with pytest.raises(
        ConfigError, match="has no scheme; for a SQLite file write sqlite:///bank.db"
    ):
        extract("SELECT 1", "bank.db")
    with pytest.raises(
        ConfigError, match=r"leave the warehouse out and write SELECT \* FROM 'c.csv'"
    ):
        extract("SELECT 1", "c.csv")


def test_missing_extra_says_what_to_install(sample_sqlite: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['sqlalchemy'] = None\n"
        "from custseg.sources import extract\n"
        "from custseg.exceptions import SourceError\n"
        "try:\n"
        f"    extract('SELECT 1', {_url(sample_sqlite)!r})\n"
        "except SourceError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == (
        "sqlite:// warehouses need SQLAlchemy, which is not installed; pip install 'custseg[sql]'"
    )


def test_a_password_sqlalchemy_would_cut_is_refused_before_connecting() -> None:
    # SQLAlchemy ends the password at its first "@": "ss/w0rd-Zq@..." would go to DNS.
    for url in (
        "postgresql://ana:p@ss/w0rd-Zq@127.0.0.1:1/db",
        "postgresql://ana@corp.com:p@ss:w0rd-Zq@127.0.0.1:1/db",
        "postgresql://ana:p@ss?w0rd-Zq@127.0.0.1:1/db",
    ):
        with pytest.raises(SourceError, match="percent-encode the user name and password") as e:
            extract("SELECT 1", url)
        assert "w0rd" not in str(e.value) and "***" in str(e.value)
        assert "w0rd" not in str(e.value.__cause__)


def test_the_chained_driver_error_is_a_masked_copy() -> None:
    # A closed port of 127.0.0.1: the driver fails at once, and its exception chain
    # (what --verbose prints) is replaced by a masked copy with the same traceback.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://ana@corp.com:{quote('se;cr@t-Zq', safe='')}@127.0.0.1:{port}/db"
    with pytest.raises(SourceError, match=r"^cannot connect to postgresql://ana@corp.com:\*\*\*@"):
        extract("SELECT 1", url)
    try:
        extract("SELECT 1", url)
    except SourceError as exc:
        cause = exc.__cause__
    assert type(cause).__name__ == "_DriverError" and cause.__traceback__ is not None
    assert "OperationalError" in str(cause) and "refused" in str(cause)
    assert "cr@t" not in str(cause) and "cr%40t" not in str(cause)
