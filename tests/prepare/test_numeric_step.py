"""One numeric step, fused passes: the same bits as the plain sequence of operations."""

from __future__ import annotations

import numpy as np
import pytest

from custseg.prepare.steps import OUTPUT_BOUND, NumericStep, apply_numeric_into, yeo_johnson


def _plain(x: np.ndarray, step: NumericStep) -> np.ndarray:
    """Impute, clip, transform, scale, bound: one operation after the other."""
    row = x.copy()
    row[np.isnan(row)] = step.impute
    with np.errstate(over="ignore", invalid="ignore"):
        if step.clip is not None:
            row = np.clip(row, *step.clip)
        if step.transform == "log1p":
            row = np.log1p(np.maximum(row, 0.0))
        elif step.transform == "yeo-johnson":
            assert step.lambda_ is not None
            row = yeo_johnson(row, step.lambda_)
        row = (row - step.center) / step.scale
    return np.clip(row, -OUTPUT_BOUND, OUTPUT_BOUND)


_RNG = np.random.default_rng(7)
_VALUES = np.concatenate(
    [
        _RNG.lognormal(3, 2, 5000),
        -_RNG.random(300),  # refunds in a column that was non-negative in training
        [np.nan] * 200,
        [-0.0, 0.0, 1e300, -1e300, 1e15, -1e15],
    ]
)
_RNG.shuffle(_VALUES)


@pytest.mark.parametrize("clip", [None, (0.0, 1e4), (-5.0, 50.0), (-1.0, -0.5)])
@pytest.mark.parametrize("transform", ["log1p", "none", "yeo-johnson"])
@pytest.mark.parametrize("impute", [0.0, -0.0, 3.5, -2.0, 1e9])
def test_fused_step_gives_the_bits_of_the_plain_sequence(clip, transform, impute):
    step = NumericStep(
        column="x",
        impute=impute,
        indicator=None,
        clip=clip,
        transform=transform,
        lambda_=0.3 if transform == "yeo-johnson" else None,
        center=1.2,
        scale=0.7,
    )
    row = np.empty_like(_VALUES)
    apply_numeric_into(row, _VALUES, np.isnan(_VALUES), step)
    assert row.tobytes() == _plain(_VALUES, step).tobytes()
    # A column known to be gap-free may skip the gap test: same bits.
    complete = np.nan_to_num(_VALUES, nan=5.0)
    apply_numeric_into(row, complete, None, step)
    assert row.tobytes() == _plain(complete, step).tobytes()
