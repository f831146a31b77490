"""One CSV reader for fit and score, with no limit on headers or fields short of memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custseg.scoring.batch import score_file
from custseg.sources import iter_table, read_table, table_row_count


def _stream(path: Path, chunk_size: int = 700) -> pd.DataFrame:
    return pd.concat(list(iter_table(path, chunk_size=chunk_size)))


def test_a_header_over_64_kib_is_read_whole(tmp_path):
    names = [f"BEHAVIOUR_{i:05d}_" + "X" * 30 for i in range(3000)]  # 140 KB of header
    frame = pd.DataFrame(np.arange(3 * len(names), dtype=float).reshape(3, -1), columns=names)
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    assert len(path.read_text().splitlines()[0]) > 128 * 1024
    for read in (read_table, _stream):
        got = read(path)
        assert list(got.columns) == names
        np.testing.assert_array_equal(got.to_numpy(), frame.to_numpy())


@pytest.mark.parametrize("size", [520 * 1024, 3 * 1024 * 1024])
def test_a_huge_field_deep_in_the_file_reads_in_fit_and_score(tmp_path, sample, model, size):
    frame = sample.head(3000).copy()
    frame["NOTE"] = "short"
    frame.loc[2500, "NOTE"] = "long, with a line break\n" + "z" * size  # past the sniffed head
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    whole = read_table(path)  # what fit reads
    streamed = _stream(path)  # what score reads
    assert len(whole) == len(streamed) == table_row_count(path) == 3000
    assert whole["NOTE"].iloc[2500] == streamed["NOTE"].iloc[2500] == frame["NOTE"].iloc[2500]
    summary = score_file(model, path, tmp_path / "scored.csv", chunk_size=1000)
    assert (summary.rows_in, summary.scored) == (3000, 3000)
