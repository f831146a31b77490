"""The documentation tells the truth: data dictionary figures and the example queries."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import sqlglot
from sqlglot.errors import ParseError

import custseg
from custseg.sources import extract

ROOT = Path(__file__).resolve().parents[2]
DICTIONARY = Path(custseg.__file__).parent / "data" / "DATA_DICTIONARY.md"
EXTRACT_DOC = ROOT / "docs" / "extract.md"
BLOCK = re.compile(r"<!-- dialect: (\w+) -->\s*```sql\n(.*?)```", re.DOTALL)


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def _dictionary_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DICTIONARY.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `(\w+)` \|", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in line.strip("|").split("|")]
    return rows


def test_dictionary_describes_every_column(sample_frame: pd.DataFrame) -> None:
    rows = _dictionary_rows()
    assert list(rows) == list(sample_frame.columns)
    for name, cells in rows.items():
        assert len(cells) == 9 and len(cells[1]) > 10 and cells[2], name


def test_dictionary_ranges_gaps_and_skew_match_the_data(sample_frame: pd.DataFrame) -> None:
    for name, cells in _dictionary_rows().items():
        if name == "CUST_ID":
            continue
        column = sample_frame[name]
        low, median, high, gaps, zeros, skew = cells[3:9]
        assert _number(low) == pytest.approx(column.min(), abs=0.005), name
        assert _number(median) == pytest.approx(column.median(), abs=0.005), name
        assert _number(high) == pytest.approx(column.max(), abs=0.005), name
        assert int(gaps) == column.isna().sum(), name
        assert _number(zeros.rstrip("%")) == pytest.approx(100 * (column == 0).mean(), abs=0.05)
        assert _number(skew) == pytest.approx(column.skew(), abs=0.005), name


def test_dictionary_states_the_known_gaps_and_the_skew() -> None:
    text = DICTIONARY.read_text(encoding="utf-8")
    assert "**313 gaps**" in text and "**1 gap**" in text
    assert "## Skew" in text and "log1p" in text


def _blocks(dialect: str) -> list[str]:
    found = [sql for name, sql in BLOCK.findall(EXTRACT_DOC.read_text("utf-8")) if name == dialect]
    assert found, f"no {dialect} example in docs/extract.md"
    return found


@pytest.mark.parametrize("dialect", ["bigquery", "postgres"])
def test_warehouse_examples_parse_in_their_dialect(dialect: str) -> None:
    for sql in _blocks(dialect):
        sqlglot.parse_one(sql, read=dialect)
    assert len(_blocks("bigquery")) >= 3


def test_the_parse_check_catches_broken_sql() -> None:
    with pytest.raises(ParseError):
        sqlglot.parse_one("SELECT (CUST_ID FROM `p.d.t`", read="bigquery")


def test_duckdb_examples_run_on_the_embedded_warehouse() -> None:
    for sql in _blocks("duckdb"):
        assert len(extract(sql).frame) > 0


def test_sqlite_examples_run_on_a_sqlite_copy(sample_sqlite: Path) -> None:
    for sql in _blocks("sqlite"):
        assert len(extract(sql, f"sqlite:///{sample_sqlite}").frame) > 0


def test_python_blocks_compile() -> None:
    blocks = re.findall(r"```python\n(.*?)```", EXTRACT_DOC.read_text("utf-8"), re.DOTALL)
    assert len(blocks) == 3
    for code in blocks:
        compile(code, "docs/extract.md", "exec")
