"""Scoring in Spark: a table or Parquet dataset scored where it lives, into Parquet.

:func:`score_spark` runs :class:`custseg.scoring.scorer.Scorer` (the one rows ->
segments path) in Spark's Python workers on Arrow batches (``mapInPandas``): every row
is checked, prepared and assigned exactly as ``custseg score`` does locally, with the
same rejection reasons. One pass writes both outputs as Parquet part files:

* ``out/``: the identifier, ``segment_id``, ``segment_name``, ``distance``,
  ``runner_up_id``, ``margin``, ``distance_percentile`` and ``flags`` of every scored
  row;
* ``rejects/`` (default ``<out>.rejects/`` beside it): the identifier and ``reason`` of
  every rejected row (an empty dataset when none is).

The scores are computed once (cached by Spark) and written twice, the scored rows and
the rejects. Both folders are written under a temporary folder beside ``out`` and moved into place
only when the job succeeded: a failure leaves earlier outputs untouched, and ``out`` and
``rejects`` never mix two runs. The counts are read back from the written files, so
``scored + rejected`` is checked against the rows of the input. Executors need custseg
installed; ``custseg export-sql --dialect spark`` is the pure Spark SQL alternative.

The scoring contract holds as locally (:mod:`custseg.scoring.contract`), with the same
codes and counts. Repeated identifiers span partitions, so Spark finds them: it counts
the rows with an identifier against the distinct identifiers (one more job), and, when
they are to be rejected, numbers the rows of each identifier in the order Spark reads
the input (a window over the identifier: a shuffle) and rejects all but the first.
The other counts are read back from the written outputs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._utils.spark import spark_errors, spark_session
from ..exceptions import ConfigError, ScoringError
from ..model import SegmentationModel, model_to_json
from .batch import ScoreSummary
from .contract import (
    DUPLICATE_ID,
    FLAGS_COLUMN,
    MISSING_ID,
    OUT_OF_PROFILE,
    PERCENTILE_COLUMN,
    UNSEEN_LEVEL,
    check_reject,
    contract_counts,
)
from .scorer import REJECT_REASON_COLUMN, Scorer

__all__ = ["SparkScoreSummary", "score_spark", "default_spark_rejects"]

_STATUS = "cs_status"
_RANK = "cs_rank"


@dataclass(frozen=True)
class SparkScoreSummary(ScoreSummary):
    """What :func:`score_spark` scored and wrote; ``out`` and ``rejects`` are folders."""

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data, with ``"engine": "spark"``."""
        return {**super().to_dict(), "engine": "spark"}


def default_spark_rejects(out: str | os.PathLike[str]) -> Path:
    """``<out>.rejects`` beside ``out`` (a folder of Parquet part files)."""
    target = Path(out)
    return target.with_name(f"{target.name}.rejects")


def _spark_type(df: Any, name: str) -> str:
    from pyspark.sql import types as T

    for field in df.schema.fields:
        if field.name.replace("\ufeff", "").strip() == name:
            kind = field.dataType
            if isinstance(kind, T.StringType):
                return "string"
            if isinstance(kind, T.IntegralType):
                return "bigint"
            if isinstance(kind, T.FractionalType):
                return "double"
    return "string"


def _ids(values: Any, kind: str) -> Any:
    if values is None:
        return None
    series = pd.Series(values).reset_index(drop=True)
    if kind == "string":
        return (
            series.astype(object)
            .where(series.notna(), None)
            .map(lambda v: v if v is None or isinstance(v, str) else str(v))
        )
    return series


def score_spark(
    model: SegmentationModel | Scorer,
    source: Any,
    out: str | os.PathLike[str],
    *,
    rejects: str | os.PathLike[str] | None = None,
    master: str | None = None,
    reject: Any = None,
) -> SparkScoreSummary:
    """Score a Spark table, a Parquet dataset or a Spark DataFrame into Parquet folders.

    Parameters
    ----------
    model : SegmentationModel or Scorer
        The model; it must have an identifier column (results are joined back on it).
    source : str, path-like or pyspark.sql.DataFrame
        A Parquet file or folder, a URL Spark reads, a catalog table, or a DataFrame.
    out : str or path-like
        Folder of the scored rows (Parquet part files), replaced as a whole.
    rejects : str, path-like or None, default None
        Folder of the rejected rows; ``<out>.rejects`` beside ``out`` when ``None``.
    master : str or None, default None
        Spark master when no session is active (see
        :func:`custseg._utils.spark.spark_session`).
    reject : collection of str or None, default None
        Codes whose rows are rejected rather than scored (``"duplicate_id"``,
        ``"unseen_level"``), as in :func:`custseg.scoring.batch.score_file`.

    Returns
    -------
    SparkScoreSummary

    Raises
    ------
    ConfigError
        If the model has no identifier column, an output is the input, or the two
        outputs are the same folder.
    SchemaError
        If a column the model needs is absent (before anything is written).
    ScoringError
        If no row at all could be scored.
    """
    scorer = model if isinstance(model, Scorer) else Scorer(model)
    codes = check_reject(reject)
    if scorer.id_column is None:
        raise ConfigError(
            "the model has no identifier column; Spark results are joined back on it: refit"
            " with an id column (--id-column)"
        )
    out_path = Path(out)
    rejects_path = Path(rejects) if rejects is not None else default_spark_rejects(out_path)
    if out_path.resolve() == rejects_path.resolve():
        raise ConfigError(f"--rejects {rejects_path} is the output folder; choose another")
    session = spark_session(master)
    if isinstance(source, str | os.PathLike):
        for target in (out_path, rejects_path):
            if Path(source).resolve() == target.resolve():
                raise ConfigError(
                    f"the output {target} is the input; write the scores to another folder"
                )
        from ..sources.spark import read_spark

        df = read_spark(session, source)
    else:
        df = source
    # Missing columns are found on the schema, before any job runs.
    scorer.check_columns(pd.DataFrame(columns=list(df.columns)))

    id_name = scorer.id_column
    id_kind = _spark_type(df, id_name)
    model_text = model_to_json(scorer.model)
    ddl = (
        f"`{id_name.replace('`', '``')}` {id_kind}, segment_id bigint, segment_name string,"
        f" distance double, runner_up_id bigint, margin double,"
        f" {PERCENTILE_COLUMN} double, {FLAGS_COLUMN} string,"
        f" {REJECT_REASON_COLUMN} string, {_STATUS} string"
    )
    rejects_columns = [id_name, REJECT_REASON_COLUMN]
    ranked = DUPLICATE_ID in codes

    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    identifier = F.col(f"`{id_name.replace('`', '``')}`")
    if ranked:
        # The first row of each identifier in the order Spark reads the input is kept;
        # rows without an identifier are rejected anyway (their rank is not used).
        order = F.monotonically_increasing_id()
        df = df.withColumn(
            _RANK, F.row_number().over(Window.partitionBy(identifier).orderBy(order))
        )

    def partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from ..model import model_from_json

        part = Scorer(model_from_json(model_text))
        for batch in batches:
            if not len(batch):
                continue
            frame = batch.reset_index(drop=True)
            repeated = frame[_RANK].to_numpy() > 1 if ranked else None
            chunk = part.assign_prepared(part.prepare_frame(frame), reject=codes, repeated=repeated)
            ids = _ids(chunk.ids, id_kind)
            ok = chunk.ok
            n_ok = int(ok.sum())
            scored = pd.DataFrame(
                {
                    id_name: ids[ok].reset_index(drop=True),
                    "segment_id": chunk.labels,
                    "segment_name": part.names[chunk.labels],
                    "distance": chunk.distance,
                    "runner_up_id": chunk.runner_up,
                    "margin": chunk.margin,
                    PERCENTILE_COLUMN: part.percentiles(chunk),
                    FLAGS_COLUMN: part.flag_codes.texts(chunk.flags),
                    REJECT_REASON_COLUMN: [None] * n_ok,
                    _STATUS: ["scored"] * n_ok,
                }
            )
            n_bad = len(ok) - n_ok
            rejected = pd.DataFrame(
                {
                    id_name: ids[~ok].reset_index(drop=True),
                    "segment_id": pd.Series([None] * n_bad, dtype=object),
                    "segment_name": [None] * n_bad,
                    "distance": np.full(n_bad, np.nan),
                    "runner_up_id": pd.Series([None] * n_bad, dtype=object),
                    "margin": np.full(n_bad, np.nan),
                    PERCENTILE_COLUMN: np.full(n_bad, np.nan),
                    FLAGS_COLUMN: [None] * n_bad,
                    REJECT_REASON_COLUMN: list(chunk.reasons),
                    _STATUS: ["rejected"] * n_bad,
                }
            )
            out = pd.concat([scored, rejected], ignore_index=True) if n_bad else scored
            # pandas 3 infers Arrow-backed strings, which pyspark cannot hand to Arrow
            # batches: text columns go out as plain objects.
            for name in (id_name, "segment_name", FLAGS_COLUMN, REJECT_REASON_COLUMN, _STATUS):
                if id_kind == "string" or name != id_name:
                    out[name] = out[name].astype(object)
            yield out

    # Scored once (cached), written twice: the scored rows and the rejects.
    result = df.mapInPandas(partition, ddl).persist(StorageLevel.MEMORY_AND_DISK)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=_parent(out_path))
    )
    try:
        with spark_errors("scoring"):
            status = F.col(_STATUS)
            scored_columns = [c for c in result.columns if c not in (REJECT_REASON_COLUMN, _STATUS)]
            result.filter(status == "scored").select(*scored_columns).write.parquet(
                str(staging / "scored")
            )
            result.filter(status == "rejected").select(*rejects_columns).write.parquet(
                str(staging / "rejects")
            )
            reader = session.read
            scored_back = reader.parquet(str(staging / "scored"))
            rejects_back = reader.parquet(str(staging / "rejects"))
            n_scored = scored_back.count()
            n_rejected = rejects_back.count()
            counts = _counts(df, identifier, scored_back, rejects_back, F)
        if n_scored == 0:
            example = reader.parquet(str(staging / "rejects")).first()
            reason = example[REJECT_REASON_COLUMN] if example is not None else "no row"
            raise ScoringError(
                f"none of the {n_rejected:,} rows can be scored (e.g. {reason}); check that"
                " the input has the model's columns and types"
            )
        _replace(staging / "scored", out_path)
        _replace(staging / "rejects", rejects_path)
    finally:
        with contextlib.suppress(Exception):  # a JVM that died cannot unpersist
            result.unpersist()
        shutil.rmtree(staging, ignore_errors=True)
    return SparkScoreSummary(
        rows_in=n_scored + n_rejected,
        scored=n_scored,
        rejected=n_rejected,
        out=out_path,
        rejects=rejects_path,
        counts=counts,
    )


def _counts(df: Any, identifier: Any, scored: Any, rejects: Any, F: Any) -> dict[str, int]:
    """The contract's counts: repeats from the input, the others from the outputs."""
    flags, reason = F.col(FLAGS_COLUMN), F.col(REJECT_REASON_COLUMN)
    present = identifier.isNotNull() & (F.length(identifier.cast("string")) > 0)
    ids = df.where(present).agg(
        F.count(F.lit(1)).alias("n"), F.countDistinct(identifier).alias("d")
    )
    row = ids.first()
    out = scored.agg(
        F.sum(F.when(flags.contains(OUT_OF_PROFILE), 1).otherwise(0)).alias("profile"),
        F.sum(F.when(flags.contains(UNSEEN_LEVEL + ":"), 1).otherwise(0)).alias("unseen"),
    ).first()
    bad = rejects.agg(
        F.sum(F.when(reason.startswith(MISSING_ID + ":"), 1).otherwise(0)).alias("missing"),
        F.sum(F.when(reason.contains(UNSEEN_LEVEL + ":"), 1).otherwise(0)).alias("unseen"),
    ).first()
    return contract_counts(
        {
            MISSING_ID: bad["missing"] or 0,
            DUPLICATE_ID: (row["n"] - row["d"]) if row is not None else 0,
            UNSEEN_LEVEL: (out["unseen"] or 0) + (bad["unseen"] or 0),
            OUT_OF_PROFILE: out["profile"] or 0,
        }
    )


def _parent(path: Path) -> Path:
    parent = path.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def _replace(source: Path, target: Path) -> None:
    """Move the folder ``source`` onto ``target``, replacing an earlier output whole."""
    _parent(target)
    if target.exists():
        if not target.is_dir():
            raise ConfigError(f"{target} is a file; give a folder for the Parquet part files")
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        target.rename(old)
        source.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        source.rename(target)
