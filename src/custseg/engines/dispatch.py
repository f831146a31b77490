"""Which engine fits a table: the registry of engines and the choice of ``auto``."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..exceptions import ConfigError
from .protocol import Engine

__all__ = ["ENGINES", "STREAM_ROWS", "auto_engine", "open_engine"]

STREAM_ROWS = 1_000_000


def _memory(data: pd.DataFrame | str | os.PathLike[str], master: str | None) -> Engine:
    from .memory import MemoryEngine

    if not isinstance(data, pd.DataFrame):
        raise ConfigError("engine='memory' fits a DataFrame; read the file first or use 'stream'")
    return MemoryEngine(data)


def _stream(data: pd.DataFrame | str | os.PathLike[str], master: str | None) -> Engine:
    from .stream import StreamEngine

    if isinstance(data, pd.DataFrame):
        raise ConfigError("engine='stream' reads a file, not a DataFrame")
    return StreamEngine(data)


def _spark(data: pd.DataFrame | str | os.PathLike[str], master: str | None) -> Engine:
    from .spark import SparkEngine

    if isinstance(data, pd.DataFrame):
        raise ConfigError("engine='spark' reads a Parquet dataset or a table, not a DataFrame")
    return SparkEngine(data, master=master)


@dataclass(frozen=True)
class EngineEntry:
    """One registered engine: its name, what it is for, and how to open it on data."""

    name: str
    summary: str
    open: Callable[[pd.DataFrame | str | os.PathLike[str], str | None], Engine]
    uses_master: bool = False


_REGISTRY: dict[str, EngineEntry] = {
    entry.name: entry
    for entry in (
        EngineEntry("memory", "the whole table in memory (fit_segments)", _memory),
        EngineEntry("stream", "a file read in chunks, memory bounded whatever its size", _stream),
        EngineEntry("spark", "K-means in Spark on a Parquet dataset or a table", _spark, True),
    )
}

ENGINES = ("auto", *_REGISTRY)
"""``memory``: the whole table in memory (:func:`custseg.fit_segments`); ``stream``: a
file read in chunks, memory bounded whatever its size; ``spark``: K-means in Spark on a
Spark DataFrame; ``auto``: ``stream`` for files above :data:`STREAM_ROWS` rows, else
``memory``."""


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


def open_engine(
    name: str,
    data: pd.DataFrame | str | os.PathLike[str],
    *,
    spark_master: str | None = None,
) -> Engine:
    """The engine ``name`` on ``data`` (a DataFrame, a file or a table).

    Raises
    ------
    ConfigError
        If the engine is unknown, does not read this kind of data, or is given a Spark
        master it does not use.
    """
    entry = _REGISTRY.get(name)
    if entry is None:
        known = ", ".join(_REGISTRY)
        raise ConfigError(f"engine={name!r} (--engine) should be one of {known}")
    if spark_master is not None and not entry.uses_master:
        raise ConfigError("--spark-master applies to --engine spark only; leave it out")
    return entry.open(data, spark_master)
