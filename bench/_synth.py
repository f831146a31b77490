"""Synthesise any number of credit-card customers from the bundled sample.

The GUIDE's recipe: resample the 8,950 rows with replacement and multiply every value
by its own random factor drawn uniformly in [0.9, 1.1]; gaps stay gaps. To keep the
rows plausible for the code that reads them, the 0-1 frequency columns are clipped
at 1, the transaction counts are rounded to whole numbers and TENURE keeps its
original 6-12 months. ``CUST_ID`` is a fresh unique id (``S000000000``, ...).

Used by every bench script::

    from _synth import synthesise
    frame = synthesise(1_000_000, random_state=0)

and from the command line (CSV or Parquet, chosen by the extension; written
atomically)::

    .venv/bin/python bench/_synth.py --rows 1000000 --out /tmp/customers.parquet
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from custseg._utils.io import atomic_path
from custseg.sources import sample_path

__all__ = ["synthesise"]

_BOUNDED = (
    "BALANCE_FREQUENCY",
    "PURCHASES_FREQUENCY",
    "ONEOFF_PURCHASES_FREQUENCY",
    "PURCHASES_INSTALLMENTS_FREQUENCY",
    "CASH_ADVANCE_FREQUENCY",
    "PRC_FULL_PAYMENT",
)
_COUNTS = ("CASH_ADVANCE_TRX", "PURCHASES_TRX")
_UNCHANGED = ("TENURE",)


def synthesise(n: int, random_state: int | np.random.Generator | None = 0) -> pd.DataFrame:
    """``n`` synthetic customers with the sample's columns (``CUST_ID`` + 17 numbers).

    Parameters
    ----------
    n : int
        Rows to make.
    random_state : int, numpy.random.Generator or None, default 0
        Seed of the resampling and of the factors.

    Returns
    -------
    pandas.DataFrame
        Same column names and order as ``CC_GENERAL.csv``; numbers are float64.
    """
    if n < 0:
        raise ValueError(f"n={n} should be >= 0")
    rng = np.random.default_rng(random_state)
    base = pd.read_csv(sample_path())
    numeric = [c for c in base.columns if c != "CUST_ID"]
    values = base[numeric].to_numpy(dtype=np.float64)
    rows = values[rng.integers(0, values.shape[0], size=n)]
    rows *= rng.uniform(0.9, 1.1, size=rows.shape)  # NaN * factor stays NaN
    for j, column in enumerate(numeric):
        if column in _BOUNDED:
            np.minimum(rows[:, j], 1.0, out=rows[:, j])
        elif column in _COUNTS:
            np.rint(rows[:, j], out=rows[:, j])
        elif column in _UNCHANGED:
            rows[:, j] = np.clip(np.rint(rows[:, j]), values[:, j].min(), values[:, j].max())
    frame = pd.DataFrame(rows, columns=numeric)
    frame.insert(0, "CUST_ID", pd.Series(np.arange(n)).map("S{:09d}".format))
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description="Write synthetic customers to CSV or Parquet.")
    parser.add_argument("--rows", type=int, required=True, help="number of customers")
    parser.add_argument("--out", type=Path, required=True, help="a .csv or .parquet path")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    suffix = args.out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        parser.error(f"--out {args.out} should end in .csv or .parquet")
    started = time.perf_counter()
    frame = synthesise(args.rows, random_state=args.seed)
    with atomic_path(args.out) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
    seconds = time.perf_counter() - started
    print(f"wrote {len(frame):,} customers to {args.out} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
