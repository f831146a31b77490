"""Messages read well from Python too: plain values, plurals, parameters before flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custseg.config import FitConfig
from custseg.exceptions import ConfigError, DataError, ModelError, SourceError
from custseg.explain import profile_segments
from custseg.model import load_model
from custseg.report import write_report
from custseg.scoring.batch import ScoreSummary


def test_numpy_values_are_quoted_as_plain_numbers():
    with pytest.raises(ConfigError) as caught:
        FitConfig(k=np.int64(0))
    assert str(caught.value).startswith("k=0 (--k) should be an integer >= 1")
    with pytest.raises(ConfigError) as caught:
        FitConfig(n_resamples=np.float64(3.0))
    assert str(caught.value) == "n_resamples=3.0 should be an integer >= 1"
    assert "np." not in str(caught.value)


def test_counts_take_their_plural():
    one = ScoreSummary(rows_in=1, scored=1, rejected=0, out=Path("s.csv"), rejects=Path("r.csv"))
    assert one.line().startswith("1 row: 1 scored, 0 rejected")
    many = ScoreSummary(2_000, 1_999, 1, Path("s.csv"), Path("r.csv"))
    assert many.line().startswith("2,000 rows: 1,999 scored, 1 rejected")
    frame = pd.DataFrame({"a": [1.0, np.inf, 2.0]})
    with pytest.raises(DataError, match=r"column 'a' has 1 infinite value;"):
        profile_segments(frame, np.array([0, 0, 1]))
    with pytest.raises(DataError, match=r"labels have 1 value but the table has 3 rows"):
        profile_segments(frame.replace(np.inf, 0.0), np.array([0]))


def test_python_errors_name_the_parameter_or_function_first(tmp_path, model):
    with pytest.raises(ModelError) as caught:
        load_model(tmp_path / "missing.json")
    assert "written by save_model or `custseg fit`" in str(caught.value)
    path = tmp_path / "report.html"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(SourceError, match=r"pass a folder \(out_dir, --out\)"):
        write_report(model, pd.DataFrame({"x": [1]}), path)
