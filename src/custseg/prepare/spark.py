"""Preparation on a Spark DataFrame: row checks, the plan's statistics and the features.

The Spark engine never brings the table to the driver. Each partition runs the very
Python code of a local fit, on Arrow batches, in Spark's Python workers
(``mapInPandas``):

* :func:`spark_statistics` checks every row with
  :func:`custseg.prepare.rows.check_rows` and gathers the exact moments, gaps and
  levels of every column (:class:`custseg.prepare.moments.StatisticsAccumulator`); the
  driver merges one small JSON state per partition and learns the same
  :class:`~custseg.prepare.plan.PreparationPlan` as the bounded-memory fit (order
  statistics from the uniform sample it holds);
* :func:`spark_features` prepares every row with
  :meth:`~custseg.prepare.plan.PreparationPlan.transform_checked`, the function local
  scoring uses, into double columns ``cs_f0..cs_f{d-1}`` that the Spark engine clusters.

So a Spark fit checks and prepares rows exactly as a local one, bit for bit; executors
need custseg installed (``pip install custseg`` in the cluster's Python environment).
pyspark is imported inside the functions: the module loads without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import PrepConfig
from .moments import StatisticsAccumulator
from .plan import PreparationPlan
from .rows import check_rows
from .schema import TableSchema

__all__ = ["FEATURE_PREFIX", "SparkStatistics", "spark_statistics", "spark_features"]

FEATURE_PREFIX = "cs_f"
"""Prepared feature ``j`` is the column ``cs_f{j}``."""


@dataclass
class SparkStatistics:
    """What :func:`spark_statistics` gathered over all rows.

    Attributes
    ----------
    accumulator : StatisticsAccumulator
        Moments, gaps and levels of every column (merged over the partitions).
    n_rows : int
        Rows of the table.
    n_rejected : int
        Rows that cannot be used.
    example : tuple of (object, str) or None
        The identifier (or position in its partition) and reason of one rejected row.
    """

    accumulator: StatisticsAccumulator
    n_rows: int
    n_rejected: int
    example: tuple[Any, str] | None


def spark_statistics(df: Any, schema: TableSchema, config: PrepConfig) -> SparkStatistics:
    """Check every row of ``df`` and gather the plan's statistics, in the executors.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        The customers (raw columns; extra columns are ignored).
    schema : TableSchema
        Roles of the columns.
    config : PrepConfig
        Preparation settings (they decide the derived features).

    Returns
    -------
    SparkStatistics
    """
    schema_data = schema.to_dict()
    config_data = config.to_dict()
    id_column = schema.id_column

    def partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        part_schema = TableSchema.from_dict(schema_data)
        accumulator = StatisticsAccumulator(part_schema, PrepConfig.from_dict(config_data))
        rejected = 0
        example = None
        for batch in batches:
            checked = check_rows(batch, part_schema)
            bad = ~checked.usable
            if bad.any():
                rejected += int(bad.sum())
                if example is None:
                    first = int(np.flatnonzero(bad)[0])
                    where = batch[id_column].iloc[first] if id_column in batch else first
                    example = json.dumps([str(where), str(checked.reasons.iloc[first])])
                accumulator.update(checked.frame.loc[~bad])
            else:
                accumulator.update(checked.frame)
        # Text as plain objects: pyspark cannot take pandas 3's Arrow-backed strings.
        yield pd.DataFrame(
            {
                "state": pd.Series([json.dumps(accumulator.to_state())], dtype=object),
                "rejected": [rejected],
                "example": pd.Series([example], dtype=object),
            }
        )

    rows = df.mapInPandas(partition, "state string, rejected long, example string").collect()
    total = StatisticsAccumulator(schema, config)
    n_rejected = 0
    example: tuple[Any, str] | None = None
    for row in rows:
        total.merge_state(json.loads(row["state"]))
        n_rejected += int(row["rejected"])
        if example is None and row["example"] is not None:
            where, reason = json.loads(row["example"])
            example = (where, reason)
    return SparkStatistics(total, total.n_rows + n_rejected, n_rejected, example)


def spark_features(df: Any, plan: PreparationPlan, schema: TableSchema) -> Any:
    """The rows of ``df`` prepared by ``plan``: double columns ``cs_f0..``, in the executors.

    Rows that cannot be used must have been excluded (a fit refuses them first); a row
    that still fails its check gets no features (it is dropped), never invented ones.
    """
    plan_data = plan.to_dict()
    schema_data = schema.to_dict()
    width = len(plan.feature_names)
    names = [f"{FEATURE_PREFIX}{j}" for j in range(width)]

    def partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        part_plan = PreparationPlan.from_dict(plan_data)
        part_schema = TableSchema.from_dict(schema_data)
        for batch in batches:
            checked = check_rows(batch, part_schema, require_id=False)
            frame = checked.frame.loc[checked.usable]
            columns: dict[str, np.ndarray] = {
                name: frame[name].to_numpy(dtype=np.float64) for name in part_plan.input_numeric
            }
            for name in part_plan.input_categorical:
                columns[name] = frame[name].to_numpy(dtype=object)
            X = part_plan.transform_checked(columns, len(frame))
            yield pd.DataFrame(np.asarray(X), columns=names)

    ddl = ", ".join(f"{name} double" for name in names)
    return df.mapInPandas(partition, ddl)
