"""Which engine fits a table, and the one entry point of the large-table engines."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from .._utils.progress import NO_PROGRESS, Progress
from ..config import FitConfig
from ..exceptions import ConfigError
from ..model import SegmentationModel
from .assemble import OnWarning

__all__ = ["ENGINES", "STREAM_ROWS", "auto_engine", "fit_large"]

ENGINES = ("auto", "memory", "stream", "spark")
"""``memory``: the whole table in memory (:func:`custseg.fit_segments`); ``stream``: a
file read in chunks, memory bounded whatever its size; ``spark``: Spark MLlib on a
Spark DataFrame; ``auto``: ``stream`` for files above :data:`STREAM_ROWS` rows, else
``memory``."""
STREAM_ROWS = 1_000_000


def auto_engine(
    engine: str, input: str | os.PathLike[str] | None, *, max_columns: int | None = None
) -> str:
    """The engine ``auto`` stands for with this input (other engines are returned as is).

    With ``max_columns``, a wider input file is refused from its header or footer
    before its rows are counted (see :func:`custseg.sources.read_table`).
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine={engine!r} (--engine) should be one of {', '.join(ENGINES)}")
    if engine != "auto":
        return engine
    if input is None:
        return "memory"
    from ..sources import table_row_count

    rows = table_row_count(input, max_columns=max_columns)
    return "stream" if rows > STREAM_ROWS else "memory"


def fit_large(
    source: str | os.PathLike[str],
    *,
    engine: str,
    config: FitConfig | None = None,
    training: dict[str, Any] | None = None,
    spark_master: str | None = None,
    progress: Progress = NO_PROGRESS,
    previous: SegmentationModel | None = None,
    on_warning: OnWarning | None = None,
) -> tuple[SegmentationModel, pd.DataFrame]:
    """Fit with the ``stream`` or ``spark`` engine.

    ``previous`` (segment ids and names carried over) and ``on_warning`` (each warning
    as soon as it is known) are those of :func:`custseg.pipeline.fit_segments`.

    Returns
    -------
    (SegmentationModel, pandas.DataFrame)
        The model, and the uniform sample of raw rows it was explained on (for the
        report).
    """
    cfg = config or FitConfig()
    if engine == "stream":
        if spark_master is not None:
            raise ConfigError("--spark-master applies to --engine spark only; leave it out")
        from .stream import fit_stream

        return fit_stream(
            source,
            cfg,
            dict(training or {}),
            progress,
            previous=previous,
            on_warning=on_warning,
        )
    if engine == "spark":
        from .._utils.spark import spark_errors
        from .spark import fit_spark

        with spark_errors("fitting"):
            return fit_spark(
                source,
                cfg,
                dict(training or {}),
                progress,
                master=spark_master,
                previous=previous,
                on_warning=on_warning,
            )
    raise ConfigError(f"engine={engine!r} is not a large-table engine; use 'stream' or 'spark'")
