"""extract() argument checks and load_data(DataSource), the entry point of fit and score."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custseg.exceptions import ConfigError, SourceError
from custseg.sources import DataSource, Extract, extract, load_data, sample_path


def test_extract_returns_a_frozen_result() -> None:
    result = extract("SELECT CUST_ID FROM credit_card_customers LIMIT 3")
    assert isinstance(result, Extract)
    assert result.query == "SELECT CUST_ID FROM credit_card_customers LIMIT 3"
    with pytest.raises(AttributeError):
        result.query = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"sql": "  "}, r"^sql='  ' should be a query, e.g. SELECT \* FROM credit_card_customers"),
        ({"sql": None}, r"^neither input nor sql given"),
        ({"sql": "SELECT 1", "warehouse": 3}, r"^warehouse=3 should be a URL string or None$"),
        ({"sql": "SELECT 1", "max_bytes_billed": True}, r"applies to bigquery:// warehouses only"),
        (
            {"sql": DataSource(input="c.csv")},
            r"^extract runs a query, and DataSource\(input='c.csv'\) is a file; read it with",
        ),
        (
            {"sql": DataSource(sql="SELECT 1"), "warehouse": "sqlite:///x.db"},
            r"^a DataSource brings its own warehouse and options; give them to DataSource",
        ),
    ],
)
def test_extract_validates_its_arguments(kwargs: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        extract(**kwargs)  # type: ignore[arg-type]


def test_embedded_spellings() -> None:
    for warehouse in (None, "", "duckdb://", "duckdb:///:memory:"):
        result = extract("SELECT COUNT(*) AS n FROM credit_card_customers", warehouse)
        assert result.frame["n"].tolist() == [8950.0]


def test_load_data_from_a_file_and_from_sql(
    sample_frame: pd.DataFrame, sample_duckdb: Path
) -> None:
    pd.testing.assert_frame_equal(load_data(DataSource(input=sample_path())), sample_frame)
    from_sql = load_data(DataSource(sql="SELECT * FROM credit_card_customers"))
    pd.testing.assert_frame_equal(from_sql, sample_frame)
    from_file_warehouse = load_data(
        DataSource(
            sql="SELECT * FROM credit_card_customers", warehouse=f"duckdb:///{sample_duckdb}"
        )
    )
    pd.testing.assert_frame_equal(from_file_warehouse, sample_frame)


def test_load_data_wants_a_data_source() -> None:
    with pytest.raises(ConfigError, match=r"^source should be a custseg.sources.DataSource, got"):
        load_data(str(sample_path()))  # type: ignore[arg-type]


def test_load_data_refuses_empty_inputs(tmp_path: Path) -> None:
    header_only = tmp_path / "h.csv"
    header_only.write_text("CUST_ID,BALANCE\n", encoding="utf-8")
    with pytest.raises(SourceError, match="has no data rows"):
        load_data(DataSource(input=header_only))
    with pytest.raises(SourceError, match="returned no rows"):
        load_data(DataSource(sql="SELECT * FROM credit_card_customers WHERE 1 = 0"))
