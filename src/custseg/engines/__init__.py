"""Fits of tables that do not fit in memory: streamed from a file, or in Spark.

::

    fit_large(source, engine="stream")   a CSV/Parquet file read in chunks, bounded memory
    fit_large(source, engine="spark")    a Parquet dataset or table, Spark MLlib K-means

Both write the same model as :func:`custseg.pipeline.fit_segments`; what is computed on
all rows and what on a uniform sample is documented in ``docs/scaling.md``.
"""

from __future__ import annotations

from .dispatch import ENGINES, auto_engine, fit_large

__all__ = ["ENGINES", "auto_engine", "fit_large"]
