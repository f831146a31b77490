"""A plan learnt from moments and a sample is the plan learnt from the columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg._utils.numeric import skewness
from custseg.config import PrepConfig
from custseg.prepare import PreparationPlan, check_rows, infer_schema
from custseg.prepare.fitter import ArrayStats
from custseg.prepare.moments import Moments, MomentStats, StatisticsAccumulator


def test_merged_moments_equal_those_of_all_values() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.lognormal(3, 1.5, 5000), [1e9], rng.normal(size=10)])
    merged = Moments.empty()
    for part in np.array_split(values, 17):
        merged = merged.merge(Moments.of(part))
    merged = merged.merge(Moments.constant(2.5, 300))
    full = np.concatenate([values, np.full(300, 2.5)])
    assert merged.n == full.size
    assert merged.mean == pytest.approx(full.mean(), rel=1e-12)
    assert merged.std == pytest.approx(full.std(), rel=1e-10)
    assert merged.skewness == pytest.approx(skewness(full), rel=1e-9)
    assert (merged.minimum, merged.maximum) == (full.min(), full.max())
    assert Moments.constant(4.0, 10).skewness == 0.0


@pytest.mark.parametrize(
    "config",
    [
        PrepConfig(),
        PrepConfig(scaling="robust", impute="mean"),
        PrepConfig(skew="yeo-johnson", winsorize=0.01),
        PrepConfig(clustering_domain_features=("CREDIT_UTILISATION", "PURCHASE_TYPE")),
    ],
    ids=["default", "robust-mean", "yeo-johnson-winsorize", "derived"],
)
def test_chunked_statistics_give_the_in_memory_plan(
    sample: pd.DataFrame, config: PrepConfig
) -> None:
    schema = infer_schema(sample)
    checked = check_rows(sample, schema)
    expected = PreparationPlan.fit(checked, schema, config).to_dict()
    accumulator = StatisticsAccumulator(schema, config)
    for start in range(0, len(sample), 999):
        accumulator.update(checked.frame.iloc[start : start + 999])
    # Through a JSON state, as partial results travel from Spark's executors.
    merged = StatisticsAccumulator(schema, config)
    merged.merge_state(accumulator.to_state())
    plan = merged.plan(checked.frame).to_dict()  # the whole table as "sample"
    assert plan["decisions"] == expected["decisions"]
    assert plan["categorical"] == expected["categorical"]
    for ours, theirs in zip(plan["numeric"], expected["numeric"], strict=True):
        for key in ("impute", "center", "scale"):
            assert ours[key] == pytest.approx(theirs[key], rel=1e-10, abs=1e-12), key
        assert (ours["lambda"] is None) == (theirs["lambda"] is None)
        assert ours["clip"] == theirs["clip"] and ours["transform"] == theirs["transform"]


def test_order_statistics_come_from_the_sample(sample: pd.DataFrame) -> None:
    schema = infer_schema(sample)
    checked = check_rows(sample, schema)
    accumulator = StatisticsAccumulator(schema, PrepConfig())
    accumulator.update(checked.frame)
    part = checked.frame.sample(n=3000, random_state=0)
    plan = accumulator.plan(part)
    step = next(s for s in plan.numeric_steps if s.column == "MINIMUM_PAYMENTS")
    assert step.impute == float(np.nanmedian(part["MINIMUM_PAYMENTS"]))
    # ... while the gaps are counted over all rows.
    assert any(d.startswith("MINIMUM_PAYMENTS: 313 gaps (3.5%)") for d in plan.decisions)


@pytest.mark.parametrize(
    "values",
    [
        np.r_[np.zeros(970), np.ones(30)],  # a rare flag
        np.r_[np.zeros(500), np.ones(499), np.nan],  # with a gap
        np.r_[np.zeros(500), np.ones(499), 0.5],  # one value between: not a flag
        np.r_[np.zeros(10), np.ones(10), 2.0],  # a count
        np.ones(10),  # constant
    ],
)
def test_moments_tell_a_flag_as_the_values_do(values: np.ndarray) -> None:
    present = values[~np.isnan(values)]
    moments = MomentStats(
        len(values),
        int(np.isnan(values).sum()),
        Moments.of(present),
        Moments.of(np.log1p(present)),
        values,
    )
    expected = ArrayStats(values).flag_share()
    if expected is None:
        assert moments.flag_share() is None
    else:
        assert moments.flag_share() == pytest.approx(expected, rel=1e-12)
