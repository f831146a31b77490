"""Models fitted from transaction lines, and the comparison of SQL and Python scoring.

Shared by the tests of ``custseg export-sql --from-transactions`` (DuckDB here, and a
real PostgreSQL, Spark local and the command in their own module).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from _transactions import card_tables
from custseg import build_features, fit_segments
from custseg.features.replay import replay_rollup, rollup_record
from custseg.model import SegmentationModel
from custseg.scoring.batch import score_customers


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as a CSV file holds it: every value text, blanks as missing."""
    return frame.astype(object).where(frame.notna(), None).map(lambda v: v if v is None else str(v))


def fit_card_files(folder: Path) -> tuple[SegmentationModel, Any, dict[str, Path]]:
    """A 3-segment model of 40 card holders rolled up from their transactions, statements
    and accounts written as CSV files in ``folder``: the model, the roll-up result and the
    files (``card_tx``, ``statements``, ``accounts``)."""
    tx, st, ac, _ = card_tables(n_customers=40, seed=4)
    paths = {}
    for name, frame in {"card_tx": tx, "statements": st, "accounts": ac}.items():
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    options = {"as_of": "2012-01-01", "window": "12M"}
    result = build_features(
        paths["card_tx"], statements=paths["statements"], accounts=paths["accounts"], **options
    )
    record = rollup_record(result, options)
    model = fit_segments(
        result.frame, k=3, k_range=(3, 3), random_state=0, training={"transactions": record}
    )
    return model, result, paths


def fit_from_lines(path: Path, **options: Any) -> SegmentationModel:
    """A 3-segment model of the customers rolled up from ``path``, keeping its roll-up."""
    result = build_features(path, **options)
    record = rollup_record(result, options)
    return fit_segments(
        result.frame, k=3, k_range=(3, 3), random_state=0, training={"transactions": record}
    )


def python_scores(model: SegmentationModel, path: Path, **given: Any) -> pd.DataFrame:
    """What Python scoring gives the lines, rolled up by the model's roll-up."""
    frame = replay_rollup(path, model.training["transactions"], **given).frame
    return score_customers(model, frame).scored


def assert_same_scores(
    got: pd.DataFrame, expected: pd.DataFrame, id_column: str, engine: str
) -> None:
    """The same customers, segments and names, and distances equal to 1e-9."""
    got = got.assign(**{id_column: got[id_column].astype(str)}).sort_values(id_column)
    expected = expected.sort_values(id_column)
    assert got[id_column].tolist() == expected[id_column].tolist(), engine
    assert got["segment_id"].astype(int).tolist() == expected["segment_id"].tolist(), engine
    assert got["segment_name"].tolist() == expected["segment_name"].tolist(), engine
    gap = np.max(np.abs(got["distance"].astype(float).to_numpy() - expected["distance"]))
    assert gap < 1e-9, (engine, gap)


def duckdb_with_lines(folder: Path, path: Path, table: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB file holding the raw lines as text (a CSV as a warehouse loads it)."""
    con = duckdb.connect(str(folder / f"{table}.duckdb"))
    con.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv(?, all_varchar = true)",
        [str(path)],
    )
    return con
