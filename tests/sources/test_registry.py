"""The warehouse registry: one entry per warehouse drives extract, descriptions and hints."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from custseg.exceptions import ConfigError
from custseg.sources import (
    WAREHOUSES,
    check_data_options,
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
    with pytest.raises(
        ConfigError,
        match=r"^client_factory=.* applies to bigquery:// warehouses only, not to embedded DuckDB",
    ):
        extract("SELECT 1", client_factory=lambda project, credentials: None)


def test_extract_runs_through_the_entry_it_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa

    from custseg.sources import registry

    calls: list[tuple[str, str | None]] = []

    def run(sql: str, url: str | None, **_: object) -> QueryResult:
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


# ------------------------------------------------------------- the data-option rule


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
    ],
)
def test_check_data_options(options: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        check_data_options(**options)  # type: ignore[arg-type]


def test_check_data_options_accepts_one_source() -> None:
    check_data_options(input="c.csv")
    check_data_options(sql="SELECT 1", warehouse="bigquery://p", max_bytes_billed=10)


def test_describe_source(tmp_path: Path, sample_frame: pd.DataFrame) -> None:
    snapshot = tmp_path / "c.csv"
    manifest = save_snapshot(sample_frame.head(20), snapshot, query="SELECT 1", warehouse="w")
    described = describe_source(input=snapshot)
    assert described["source"] == str(snapshot)
    assert described["data_sha256"] == manifest["sha256"]
    assert len(described["manifest_sha256"]) == 64
    manifest_path(snapshot).unlink()
    assert "manifest_sha256" not in describe_source(input=snapshot)
    assert describe_source(sql="SELECT 1", warehouse="sqlite://ana:pw@/x.db") == {
        "source": "sqlite://ana:***@/x.db",
        "query": "SELECT 1",
        "query_sha256": hashlib.sha256(b"SELECT 1").hexdigest(),
    }
    from_file = describe_source(sql="SELECT 1", query_file=tmp_path / "q.sql")
    assert from_file["query_file"] == "q.sql"
    assert describe_source(sql="SELECT 1")["source"] == EMBEDDED
