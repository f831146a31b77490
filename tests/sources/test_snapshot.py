"""Snapshots: atomic CSV/Parquet files with a manifest, read back identically."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custseg
from custseg.exceptions import DataError, SourceError
from custseg.sources import manifest_path, read_table, save_snapshot, verify_snapshot

QUERY = "SELECT * FROM credit_card_customers"
WAREHOUSE = "postgresql://ana:***@db/cards"


def _tricky_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "CUST_ID": ["00123", "C2", "C3"],
            "NOTE": ['say "hi", then; go', None, "two\nlines"],
            "BALANCE": [1 / 3, np.nan, 1e-300],
            "TENURE": [12.0, 6.0, 9.0],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_snapshot_and_manifest(tmp_path: Path, sample_frame: pd.DataFrame, suffix: str) -> None:
    path = tmp_path / f"customers{suffix}"
    started = datetime.now(UTC).replace(microsecond=0)
    manifest = save_snapshot(
        sample_frame, path, query=QUERY, warehouse=WAREHOUSE, source_kind="sqlalchemy"
    )
    assert manifest_path(path) == tmp_path / "customers.manifest.json"
    assert json.loads(manifest_path(path).read_text(encoding="utf-8")) == manifest
    assert manifest["file"] == path.name and manifest["file_format"] == suffix[1:]
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest["bytes"] == path.stat().st_size
    assert (manifest["rows"], manifest["columns"]) == sample_frame.shape
    assert [c["name"] for c in manifest["schema"]] == list(sample_frame.columns)
    assert manifest["schema"][0]["type"] == str(sample_frame["CUST_ID"].dtype)
    assert {c["type"] for c in manifest["schema"][1:]} == {"float64"}
    assert manifest["query"] == QUERY and manifest["warehouse"] == WAREHOUSE
    assert manifest["source_kind"] == "sqlalchemy" and manifest["bytes_processed"] is None
    assert manifest["custseg_version"] == custseg.__version__
    created = datetime.strptime(manifest["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert started <= created <= datetime.now(UTC) + timedelta(seconds=1)
    pd.testing.assert_frame_equal(read_table(path), sample_frame)
    assert verify_snapshot(path) == manifest


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_keeps_codes_quotes_gaps_and_precision(tmp_path: Path, suffix: str) -> None:
    frame = _tricky_frame()
    path = tmp_path / f"t{suffix}"
    save_snapshot(frame, path, query="q", warehouse="w")
    back = read_table(path)
    assert back["CUST_ID"].tolist() == ["00123", "C2", "C3"]
    assert back["NOTE"].iloc[0] == 'say "hi", then; go' and pd.isna(back["NOTE"].iloc[1])
    assert back["NOTE"].iloc[2] == "two\nlines"
    assert back["BALANCE"].iloc[0] == 1 / 3 and back["BALANCE"].iloc[2] == 1e-300
    assert np.isnan(back["BALANCE"].iloc[1])


def test_a_failed_write_keeps_the_previous_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    first = save_snapshot(_tricky_frame(), path, query="q1", warehouse="w")
    before = sorted(p.name for p in tmp_path.iterdir())
    mixed = pd.DataFrame({"A": pd.Series([1, "x", 2.5], dtype=object)})
    with pytest.raises(SourceError, match="cannot write the table"):
        save_snapshot(mixed, path, query="q2", warehouse="w")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary file left
    assert verify_snapshot(path) == first


def test_unsupported_extension_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(
        SourceError, match=r"unsupported extension '\.xlsx'; use \.csv or \.parquet"
    ):
        save_snapshot(_tricky_frame(), tmp_path / "c.xlsx", query="q", warehouse="w")
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="frame should be a pandas DataFrame, got list"):
        save_snapshot([1, 2], tmp_path / "c.csv", query="q", warehouse="w")  # type: ignore[arg-type]
    duplicated = pd.DataFrame([[1, 2]], columns=["A", "A"])
    with pytest.raises(SourceError, match="duplicate or non-text column names"):
        save_snapshot(duplicated, tmp_path / "c.csv", query="q", warehouse="w")


def test_verify_detects_changes_and_mismatched_manifests(tmp_path: Path) -> None:
    csv_path = tmp_path / "c.csv"
    save_snapshot(_tricky_frame(), csv_path, query="q", warehouse="w")
    with csv_path.open("a", encoding="utf-8") as handle:
        handle.write("C9,,1,1\n")
    with pytest.raises(SourceError, match="changed since it was extracted"):
        verify_snapshot(csv_path)
    # c.csv and c.parquet share c.manifest.json: the manifest says which file it describes.
    save_snapshot(_tricky_frame(), tmp_path / "c.parquet", query="q", warehouse="w")
    with pytest.raises(SourceError, match="describes 'c.parquet', not 'c.csv'"):
        verify_snapshot(csv_path)
    with pytest.raises(SourceError, match="file not found"):
        verify_snapshot(tmp_path / "other.csv")
