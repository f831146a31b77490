"""The report's data on edge cases warns nothing (warnings are errors in the tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.report.data.overview import correlation


def test_report_correlations_of_a_column_without_values_warn_nothing():
    rows = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan], "b": [4.0, 1.0, np.nan, 2.0]})
    rows["gone"] = np.nan
    result = correlation(rows, ["a", "b", "gone"], np.random.default_rng(0))
    matrix = np.asarray(result["matrix"])
    assert np.isnan(matrix[2]).all() and np.isnan(matrix[:, 2]).all()
    ranks = rows[["a", "b"]].rank().to_numpy()
    filled = np.where(np.isnan(ranks), np.nanmean(ranks, axis=0), ranks)
    expected = np.corrcoef(filled.T)[0, 1]
    assert matrix[0, 1] == pytest.approx(expected, abs=1e-12)
