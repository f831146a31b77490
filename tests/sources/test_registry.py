"""The warehouse registry: one entry per warehouse drives DataSource, extract, hints."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from custseg.exceptions import ConfigError
from custseg.sources import (
    WAREHOUSES,
    DataSource,
    describe_source,
    describe_warehouse,
    extract,
    manifest_path,
    save_snapshot,
)
from custseg.sources.registry import (
    EMBEDDED,
    QueryResult,
    Warehouse,
    command_line_options,
    find_warehouse,
    supported_warehouses,
    warehouse_options,
)


@pytest.mark.parametrize(
    ("url", "kind", "described"),
    [
        (None, "duckdb", EMBEDDED),
        ("", "duckdb", EMBEDDED),
        ("duckdb:///:memory:", "duckdb", EMBEDDED),
        ("duckdb:///w.duckdb", "duckdb", "duckdb:///w.duckdb"),
        ("bigquery://p/d?location=EU", "bigquery", "bigquery://p/d?location=EU"),
        ("bigquery://p/d/", "bigquery", "bigquery://p/d"),
        ("bigquery://p?token=abc", "bigquery", "bigquery://p?token=***"),
        ("sqlite:///bank.db", "sqlalchemy", "sqlite:///bank.db"),
        ("postgresql+psycopg://ana:pw@h/db", "sqlalchemy", "postgresql+psycopg://ana:***@h/db"),
    ],
)
def test_each_url_finds_its_warehouse_and_description(
    url: str | None, kind: str, described: str
) -> None:
    assert find_warehouse(url).kind == kind
    assert describe_warehouse(url) == described


def test_a_url_nobody_claims_is_still_described_without_its_password() -> None:
    assert describe_warehouse("foo://ana:s3cret@h/db") == "foo://ana:***@h/db"
    with pytest.raises(ConfigError, match="unknown warehouse scheme 'foo'"):
        find_warehouse("foo://ana:s3cret@h/db")


def test_entries_are_complete() -> None:
    assert [w.kind for w in WAREHOUSES] == ["duckdb", "duckdb", "bigquery", "sqlalchemy"]
    for warehouse in WAREHOUSES:
        assert isinstance(warehouse, Warehouse) and warehouse.label
        assert bool(warehouse.file_suffixes) == bool(warehouse.file_hint), warehouse.kind
        assert all(suffix.startswith(".") for suffix in warehouse.file_suffixes)
    assert find_warehouse(None) is WAREHOUSES[0]


def test_hints_list_every_registered_spelling() -> None:
    listed = supported_warehouses()
    assert listed == (
        "duckdb:///file.duckdb, bigquery://PROJECT[/DATASET] or a SQLAlchemy URL such as "
        "sqlite:///file.db or postgresql://user@host/db"
    )
    with pytest.raises(ConfigError) as caught:
        find_warehouse("warehouse")
    assert str(caught.value) == f"warehouse 'warehouse' has no scheme; use {listed}"


def test_warehouse_only_options_come_from_the_registry() -> None:
    owners = warehouse_options()
    assert {name: [w.kind for w in ws] for name, ws in owners.items()} == {
        "credentials": ["bigquery"],
        "max_bytes_billed": ["bigquery"],
        "client_factory": ["bigquery"],
    }
    assert {name: spec.flag for name, spec in command_line_options().items()} == {
        "credentials": "--credentials",
        "max_bytes_billed": "--max-bytes-billed",
    }
    with pytest.raises(
        ConfigError,
        match=r"^client_factory=.* applies to bigquery:// warehouses only, not to embedded DuckDB",
    ):
        extract("SELECT 1", client_factory=lambda project, credentials: None)


def test_extract_runs_through_the_entry_it_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa

    from custseg.sources import registry

    calls: list[tuple[str, str | None]] = []

    def run(sql: str, url: str | None, options: object, *_: object) -> QueryResult:
        calls.append((sql, url))
        return QueryResult(pa.table({"CUST_ID": ["C1"], "BALANCE": [1.5]}), 12)

    fake = Warehouse(
        kind="fake",
        label="fake://",
        claims=lambda url: url is not None and url.startswith("fake://"),
        run=run,
        example="fake://NAME",
    )
    monkeypatch.setattr(registry, "WAREHOUSES", (*registry.WAREHOUSES, fake))
    result = extract("SELECT 1", "fake://x?password=p")
    assert calls == [("SELECT 1", "fake://x?password=p")]
    assert result.source_kind == "fake" and result.bytes_processed == 12
    assert result.warehouse == "fake://x?password=***"
    assert result.frame["BALANCE"].tolist() == [1.5]
    assert supported_warehouses().endswith(" or fake://NAME")


# ------------------------------------------------------------- the data-source rule


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, r"^neither input nor sql given; give exactly one: input='customers.csv' \(--input\)"),
        ({"input": "c.csv", "sql": "SELECT 1"}, r"^both input and sql given; give only one"),
        (
            {"input": Path("c.csv"), "credentials": Path("k.json")},
            r"^credentials='k.json' \(--credentials\) applies to sql queries \(--sql\) only, "
            r"not to input='c.csv' \(--input\); leave it out$",
        ),
        (
            {"input": "c.csv", "max_bytes_billed": 10},
            r"^max_bytes_billed=10 \(--max-bytes-billed\) applies to sql queries",
        ),
        (
            {"input": "c.csv", "warehouse": "postgresql://ana:s3cret@h/db"},
            r"^warehouse='postgresql://ana:\*\*\*@h/db' \(--warehouse\) applies to sql queries",
        ),
        ({"input": 3}, r"^input=3 should be the path of a CSV or Parquet file"),
        ({"sql": "SELECT 1", "warehouse": "foo://h/db"}, r"^unknown warehouse scheme 'foo'"),
        (
            {"sql": "SELECT 1", "warehouse": "sqlite:///x.db", "credentials": "k.json"},
            r"^credentials='k.json' \(--credentials\) applies to bigquery:// warehouses only, "
            r"not to sqlite:///x.db; leave it out$",
        ),
        (
            {"sql": "SELECT 1", "warehouse": "bigquery://p", "max_bytes_billed": "ten"},
            r"^max_bytes_billed='ten' \(--max-bytes-billed\) is not a size; write bytes",
        ),
        (
            {"sql": "SELECT 1", "warehouse": "bigquery://p", "max_bytes_billed": 0},
            r"^max_bytes_billed=0 \(--max-bytes-billed\) should be a positive number of bytes",
        ),
        (
            {"sql": "SELECT 1", "colour": "red"},
            r"^colour='red' is an option of no registered warehouse; leave it out \(warehouse "
            r"options: client_factory, credentials, max_bytes_billed\)$",
        ),
    ],
)
def test_a_data_source_is_checked_when_built(options: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        DataSource(**options)  # type: ignore[arg-type]


def test_a_data_source_holds_the_checked_options_of_its_warehouse(tmp_path: Path) -> None:
    from custseg.sources.bigquery import BigQueryOptions

    from_file = DataSource(input="c.csv")
    assert from_file.input == Path("c.csv") and from_file.kind == "file"
    assert from_file.options is None and from_file.entry is None
    query = DataSource(
        sql="SELECT 1", warehouse="bigquery://p", max_bytes_billed="2GiB", credentials="k.json"
    )
    assert query.options == BigQueryOptions(credentials=Path("k.json"), max_bytes_billed=2**31)
    assert query.kind == "bigquery" and query.entry is find_warehouse("bigquery://p")
    assert DataSource(sql="SELECT 1", warehouse="sqlite:///x.db").options is None
    # Its text never shows a password; its secrets are there for the masks.
    secret = DataSource(sql="SELECT 1", warehouse="postgresql://ana:s3cret@h/db")
    assert "s3cret" not in repr(secret) and "s3cret" not in secret.describe()
    assert secret.secrets == ("s3cret",)


def test_describe_source(tmp_path: Path, sample_frame: pd.DataFrame) -> None:
    snapshot = tmp_path / "c.csv"
    manifest = save_snapshot(sample_frame.head(20), snapshot, query="SELECT 1", warehouse="w")
    described = describe_source(DataSource(input=snapshot))
    assert described["source"] == str(snapshot)
    assert described["data_sha256"] == manifest["sha256"]
    assert len(described["manifest_sha256"]) == 64
    manifest_path(snapshot).unlink()
    assert "manifest_sha256" not in describe_source(DataSource(input=snapshot))
    assert describe_source(DataSource(sql="SELECT 1", warehouse="sqlite://ana:pw@/x.db")) == {
        "source": "sqlite://ana:***@/x.db",
        "query": "SELECT 1",
        "query_sha256": hashlib.sha256(b"SELECT 1").hexdigest(),
    }
    from_file = describe_source(DataSource(sql="SELECT 1", query_file=tmp_path / "q.sql"))
    assert from_file["query_file"] == "q.sql"
    assert describe_source(DataSource(sql="SELECT 1"))["source"] == EMBEDDED
    with pytest.raises(ConfigError, match=r"^source should be a custseg.sources.DataSource, got"):
        describe_source("c.csv")  # type: ignore[arg-type]
