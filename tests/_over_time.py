"""Populations over time for the drift, lineage and migration tests.

- :func:`sample` — the bundled sample read by custseg (cached: copy before changing it);
- :func:`stable_model` — a k = 6 model of the sample, seed 0, fitted once per process (k = 6
  is the recommended k and a stable one: bootstrap ARI 0.96);
- :func:`bootstrap` — a resample with replacement (the same population), with unique ids;
- :func:`shifted` — a population whose money columns are multiplied by a factor.
"""

from __future__ import annotations

import functools

import pandas as pd

from _credit_cards import MONEY
from custseg import fit_segments
from custseg.model import SegmentationModel
from custseg.sources import read_table, sample_path

FREQUENCIES = [
    "BALANCE_FREQUENCY",
    "PURCHASES_FREQUENCY",
    "ONEOFF_PURCHASES_FREQUENCY",
    "PURCHASES_INSTALLMENTS_FREQUENCY",
    "CASH_ADVANCE_FREQUENCY",
    "PRC_FULL_PAYMENT",
]
STABLE_K = 6


@functools.cache
def sample() -> pd.DataFrame:
    """The bundled sample (8,950 customers, CUST_ID and 17 float64 columns)."""
    return read_table(sample_path())


@functools.cache
def stable_model() -> SegmentationModel:
    """k = 6 on the sample, seed 0 (do not change it)."""
    return fit_segments(sample(), k=STABLE_K, k_range=(STABLE_K, STABLE_K), random_state=0)


def bootstrap(seed: int, n: int | None = None) -> pd.DataFrame:
    """``n`` customers drawn with replacement from the sample, renamed ``B000001``..."""
    frame = sample().sample(n=n or len(sample()), replace=True, random_state=seed)
    frame = frame.reset_index(drop=True)
    frame["CUST_ID"] = [f"B{i:06d}" for i in range(len(frame))]
    return frame


def shifted(seed: int, factor: float = 3.0) -> pd.DataFrame:
    """A bootstrap resample whose money columns are multiplied by ``factor``."""
    frame = bootstrap(seed)
    frame[MONEY] = frame[MONEY] * factor
    return frame
