"""A warehouse with an option of its own is its module and one registration line.

``tests/_rowcap.py`` declares ``rowcap://`` and its ``row_limit`` option; nothing else
in custseg knows it. Registered, its option is checked by ``DataSource``, refused for
other sources, and delivered to its query runner (the command line's side is in
tests/cli/test_new_warehouse.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _rowcap import WAREHOUSE, RowCapOptions, write_bank
from custseg.exceptions import ConfigError
from custseg.sources import DataSource, extract, load_data, registry


@pytest.fixture
def rowcap(monkeypatch: pytest.MonkeyPatch) -> None:
    # The registry is restored after the test: the next test sees the four built-ins.
    monkeypatch.setattr(registry, "WAREHOUSES", registry.WAREHOUSES)
    registry.register_warehouse(WAREHOUSE)


@pytest.fixture
def bank(tmp_path: Path) -> str:
    return f"rowcap:///{write_bank(tmp_path / 'bank.db', rows=10)}"


def test_its_option_is_checked_and_delivered(rowcap: None, bank: str) -> None:
    sql = "SELECT * FROM customers ORDER BY BALANCE"
    source = DataSource(sql=sql, warehouse=bank, row_limit="3")  # the command line's text
    assert source.options == RowCapOptions(row_limit=3) and source.kind == "rowcap"
    assert load_data(source)["CUST_ID"].tolist() == ["C0", "C1", "C2"]
    notes: list[str] = []
    result = extract(sql, bank, row_limit=2, notify=notes.append)
    assert result.frame["BALANCE"].tolist() == [0.0, 10.0] and result.source_kind == "rowcap"
    assert notes == ["rowcap: kept 2 rows (--row-limit 2)"]
    assert len(load_data(DataSource(sql=sql, warehouse=bank))) == 10  # no limit given


def test_its_option_is_listed_for_the_command_line(rowcap: None) -> None:
    options = registry.command_line_options()
    assert options["row_limit"].flag == "--row-limit"
    assert [w.kind for w in registry.warehouse_options()["row_limit"]] == ["rowcap"]
    assert registry.supported_warehouses().startswith("rowcap:///file.db, duckdb:///")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"row_limit": "many"}, r"^row_limit='many' \(--row-limit\) should be a whole number"),
        ({"row_limit": 0}, r"^row_limit=0 \(--row-limit\) should be at least 1 row$"),
        (
            {"row_limit": 5, "warehouse": "sqlite:///x.db"},
            r"^row_limit=5 \(--row-limit\) applies to rowcap:// warehouses only, not to "
            r"sqlite:///x.db; leave it out$",
        ),
        (
            {"row_limit": 5, "sql": None, "warehouse": None, "input": "c.csv"},
            r"^row_limit=5 \(--row-limit\) applies to sql queries \(--sql\) only, not to "
            r"input='c.csv' \(--input\); leave it out$",
        ),
    ],
)
def test_its_option_is_refused_where_it_does_not_apply(
    rowcap: None, bank: str, options: dict[str, object], expected: str
) -> None:
    arguments: dict[str, object] = {"sql": "SELECT 1", "warehouse": bank, **options}
    with pytest.raises(ConfigError, match=expected):
        DataSource(**arguments)  # type: ignore[arg-type]


def test_unregistered_its_option_is_unknown(bank: str) -> None:
    with pytest.raises(ConfigError, match=r"^row_limit=3 is an option of no registered warehouse"):
        DataSource(sql="SELECT 1", warehouse=bank, row_limit=3)
    with pytest.raises(ConfigError, match=r"^unknown warehouse scheme 'rowcap'"):
        DataSource(sql="SELECT 1", warehouse=bank)
