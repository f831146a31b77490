"""Training statistics stored for drift checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.prepare import infer_schema
from custseg.prepare.reference import population_stability_index, reference_statistics


def test_reference_statistics_of_the_sample(sample_frame):
    schema = infer_schema(sample_frame)
    reference = reference_statistics(sample_frame, schema)
    balance = reference["numeric"]["BALANCE"]
    assert reference["rows"] == reference["rows_used"] == 8950
    assert balance["mean"] == pytest.approx(sample_frame["BALANCE"].mean())
    assert balance["quantiles"]["0.5"] == pytest.approx(sample_frame["BALANCE"].median())
    assert sum(balance["proportions"]) == pytest.approx(1.0)
    minimum = reference["numeric"]["MINIMUM_PAYMENTS"]
    assert minimum["missing_share"] == pytest.approx(313 / 8950)


def test_large_tables_use_a_sample_and_categoricals_get_level_shares():
    rng = np.random.default_rng(0)
    n = 250_000
    frame = pd.DataFrame(
        {
            "ID": np.arange(n).astype(str),
            "AMOUNT": rng.lognormal(size=n),
            "CHANNEL": rng.choice(["web", "branch", "phone"], size=n, p=[0.6, 0.3, 0.1]),
        }
    )
    schema = infer_schema(frame, id_column="ID")
    reference = reference_statistics(frame, schema)
    assert reference["rows"] == n and reference["rows_used"] == 200_000
    median = reference["numeric"]["AMOUNT"]["quantiles"]["0.5"]
    assert median == pytest.approx(np.median(frame["AMOUNT"]), rel=0.02)
    levels = reference["categorical"]["CHANNEL"]["levels"]
    assert levels["web"] == pytest.approx(0.6, abs=0.01)


def test_population_stability_index():
    same = population_stability_index([0.25] * 4, [0.25] * 4)
    shifted = population_stability_index([0.25] * 4, [0.1, 0.2, 0.3, 0.4])
    assert same == 0.0
    assert 0.1 < shifted < 0.25
    assert np.isfinite(population_stability_index([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]))
