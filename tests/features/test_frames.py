"""``build_features`` on a table already in memory reads it as DuckDB reads a file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from _transactions import retail_lines
from custseg import build_features


def test_a_frame_rolls_up_as_its_file_does(tmp_path) -> None:
    lines = retail_lines(n_customers=60, seed=3)[0]
    path = tmp_path / "lines.parquet"
    lines.to_parquet(path, index=False)
    from_file = build_features(path, window="12M")
    for table in (lines, pa.Table.from_pandas(lines, preserve_index=False)):
        in_memory = build_features(table, window="12M")
        assert in_memory.counts == from_file.counts
        assert in_memory.columns == from_file.columns
        a, b = (r.frame.set_index(r.frame.columns[0]).sort_index() for r in (in_memory, from_file))
        assert a.index.tolist() == b.index.tolist()
        assert np.allclose(a.to_numpy(float), b.to_numpy(float), equal_nan=True)
    assert "a table in memory (" in build_features(lines).to_dict()["source"]


def test_anything_else_is_refused_with_the_accepted_kinds() -> None:
    import pytest

    from custseg.exceptions import ConfigError

    with pytest.raises(ConfigError, match="a file path, a DataSource or a pandas DataFrame"):
        build_features(pd.Series([1, 2]).to_dict())  # type: ignore[arg-type]
