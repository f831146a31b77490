"""Engines: one protocol for every way of fitting a table (:mod:`.protocol`).

::

    run_fit(MemoryEngine(frame), cfg)         the whole table in memory
    run_fit(StreamEngine("big.parquet"), cfg) a CSV/Parquet file read in chunks, bounded memory
    run_fit(SparkEngine("table"), cfg)        a Parquet dataset or table, K-means in Spark

Every engine writes the same model; what is computed on all rows and what on a uniform
sample is documented in ``docs/scaling.md``.
"""

from __future__ import annotations

from .dispatch import ENGINES, auto_engine, open_engine
from .fit import FitResult, run_fit

__all__ = ["ENGINES", "FitResult", "auto_engine", "open_engine", "run_fit"]
