"""Spark as a source: a Parquet dataset (file, folder of part files, or URL) or a table.

:func:`read_spark` gives a Spark DataFrame for the Spark engine; nothing is brought to
the driver. pyspark is imported inside the function.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import SourceError
from ._frames import arrow_to_frame

__all__ = ["distinct_counter", "read_spark", "spark_to_frame", "spread_over_cores"]


def read_spark(session: Any, source: str | os.PathLike[str]) -> Any:
    """Open ``source`` as a Spark DataFrame.

    Parameters
    ----------
    session : pyspark.sql.SparkSession
        The session (see :func:`custseg._utils.spark.spark_session`).
    source : str or path-like
        A local Parquet file or folder of Parquet part files, a URL that Spark reads
        (``hdfs://``, ``s3a://``, ``abfss://``...) or the name of a table of the
        session's catalog (``bank.customers``).

    Returns
    -------
    pyspark.sql.DataFrame

    Raises
    ------
    SourceError
        If nothing by that name can be read, with the reason.
    """
    text = os.fspath(source)
    path = Path(text)
    try:
        if path.exists():
            if path.is_file() and path.suffix.lower() not in (".parquet", ".pq"):
                raise SourceError(
                    f"the Spark engine reads Parquet; {text!r} is not a .parquet file"
                    " (convert it, or use the local engine for CSV)"
                )
            return session.read.parquet(str(path.resolve()))
        if "://" in text:
            return session.read.parquet(text)
        if text.endswith((".parquet", ".pq")) or os.sep in text:
            raise SourceError(f"file not found: {text!r}; check the path and the name")
        return session.table(text)
    except SourceError:
        raise
    except Exception as exc:  # Spark's AnalysisException and py4j errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(
            f"Spark cannot read {text!r}: {first[:300]}; give a Parquet path or a table name"
        ) from exc


def spark_to_frame(df: Any) -> pd.DataFrame:
    """Bring a (small) Spark DataFrame to the driver through Arrow, with the sources' type
    rules: identifiers as text, numbers as float64, gaps as NaN."""
    return arrow_to_frame(df.toArrow())


def spread_over_cores(df: Any) -> tuple[Any, bool]:
    """``df`` in at least as many partitions as Spark has cores, and whether it was spread.

    A Parquet file of one row group (pandas' default) is one Spark partition whatever
    its size, so every pass over it would run on one core. Such a table is spread
    round-robin over ``defaultParallelism`` partitions and cached (memory, then disk),
    so that the shuffle runs once and every later pass uses every core; the caller
    unpersists it. A table already in enough partitions is returned as is.
    """
    cores = int(df.sparkSession.sparkContext.defaultParallelism)
    if df.rdd.getNumPartitions() >= cores:
        return df, False
    from pyspark import StorageLevel

    return df.repartition(cores).persist(StorageLevel.MEMORY_AND_DISK), True


def distinct_counter(df: Any) -> Callable[[str], tuple[int, int]]:
    """Counts of a column over the whole of ``df``: rows with a value, distinct values.

    Used to tell a customer table from transaction lines (a customer column repeating),
    which a uniform sample of the lines can hide.
    """

    def count(column: str) -> tuple[int, int]:
        from pyspark.sql import functions as F

        name = F.col(f"`{column.replace('`', '``')}`")
        row = df.agg(F.count(name), F.countDistinct(name)).first()
        return int(row[0]), int(row[1])

    return count
