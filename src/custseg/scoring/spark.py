"""Scoring in Spark: a table or Parquet dataset scored where it lives, into Parquet.

:func:`score_spark` runs :class:`custseg.scoring.scorer.Scorer` (the one rows ->
segments path) in Spark's Python workers on Arrow batches (``mapInArrow``): every row
is checked, prepared and assigned exactly as ``custseg score`` does locally, with the
same rejection reasons. It writes two outputs as Parquet part files:

* ``out/``: the identifier, ``segment_id``, ``segment_name``, ``distance``,
  ``runner_up_id``, ``margin``, ``distance_percentile`` and ``flags`` of every scored
  row;
* ``rejects/`` (default ``<out>.rejects/`` beside it): the identifier and ``reason`` of
  every rejected row (an empty dataset when none is).

Spark reads the input, the workers score it and Spark writes the scored rows in one
pass; only what Python alone computes crosses back from the workers (Spark adds the
segment's name, and a row is rejected when it has a reason). The outcomes are counted
during that write (an observation of it: no other pass), so that without a rejected
row the rejects are an empty dataset that costs nothing; with some, a second pass over
the input writes them. Both folders are written under a temporary folder beside ``out``
and moved into place only when the job succeeded: a failure leaves earlier outputs
untouched, and ``out`` and ``rejects`` never mix two runs. The written files are counted
again: they must hold as many rows as were scored and rejected. Executors need custseg
installed; ``custseg export-sql --dialect spark`` is the pure Spark SQL alternative.

The scoring contract holds as locally (:mod:`custseg.scoring.contract`), with the same
codes and counts. Repeated identifiers span partitions, so Spark finds them: one
aggregation counts the distinct identifiers written (both outputs hold every input
row) and, when they are to be rejected, Spark numbers the rows of each identifier in
the order it reads the input (a window over the identifier: a shuffle) and the workers
reject all but the first. A table in fewer partitions than Spark has cores is spread
over them first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from .._utils.progress import NO_PROGRESS, Progress
from .._utils.spark import spark_errors, spark_session
from ..exceptions import ConfigError, ScoringError
from ..model import SegmentationModel, model_from_json, model_to_json
from ..prepare.schema import clean_column_name
from . import contract
from .batch import ScoreSummary
from .contract import FLAGS_COLUMN, PERCENTILE_COLUMN, check_reject
from .outputs import both_table
from .scorer import REJECT_REASON_COLUMN, Scorer

__all__ = ["ARROW_BATCH_ROWS", "SparkScoreSummary", "score_spark", "default_spark_rejects"]

ARROW_BATCH_ROWS = 100_000
"""Rows of the Arrow batches a scoring worker receives (Spark's default is 10,000): the
scorer's cost per batch is paid ten times less often, for a few MB per batch."""

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


def score_spark(
    model: SegmentationModel | Scorer,
    source: Any,
    out: str | os.PathLike[str],
    *,
    rejects: str | os.PathLike[str] | None = None,
    master: str | None = None,
    reject: Any = None,
    progress: Progress = NO_PROGRESS,
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
    progress : Progress, default NO_PROGRESS
        Receives the stages: scoring and writing, the rejects, the counts.

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
    _check_outputs(source, out_path, rejects_path)
    from ..sources.spark import read_spark, spread_over_cores

    session = spark_session(master)
    df = read_spark(session, source) if isinstance(source, str | os.PathLike) else source
    # Missing columns are found on the schema, before any job runs.
    scorer.check_columns(pd.DataFrame(columns=list(df.columns)))
    df = _model_columns(df, scorer)
    # The first row of a repeated identifier is the first Spark reads: ranked (a window,
    # itself a shuffle over many partitions) before any spreading changes the order.
    ranked = contract.DUPLICATE_ID in codes
    if ranked:
        df = _ranked(df, scorer.id_column)
    df, spread = spread_over_cores(df)
    result = _scores(df, scorer, codes, ranked=ranked)
    try:
        with _arrow_batches(session, ARROW_BATCH_ROWS):
            n_scored, n_rejected, counts = _write(
                session, result, scorer.names, (out_path, rejects_path), progress
            )
    finally:
        if spread:
            with contextlib.suppress(Exception):  # a JVM that died cannot unpersist
                df.unpersist()
    return SparkScoreSummary(
        rows_in=n_scored + n_rejected,
        scored=n_scored,
        rejected=n_rejected,
        out=out_path,
        rejects=rejects_path,
        counts=counts,
    )


def _arrow_batches(session: Any, rows: int) -> contextlib.AbstractContextManager[None]:
    """Spark hands the workers Arrow batches of ``rows`` rows during the block."""
    return _session_setting(session, "spark.sql.execution.arrow.maxRecordsPerBatch", rows)


@contextlib.contextmanager
def _session_setting(session: Any, key: str, value: object) -> Iterator[None]:
    """The session's setting ``key`` is ``value`` during the block, then as it was."""
    before = session.conf.get(key, None)
    session.conf.set(key, str(value))
    try:
        yield
    finally:
        if before is None:
            session.conf.unset(key)
        else:
            session.conf.set(key, before)


def _check_outputs(source: Any, out_path: Path, rejects_path: Path) -> None:
    """Neither output folder may be the other one or the input."""
    if out_path.resolve() == rejects_path.resolve():
        raise ConfigError(f"--rejects {rejects_path} is the output folder; choose another")
    if isinstance(source, str | os.PathLike):
        for target in (out_path, rejects_path):
            if Path(source).resolve() == target.resolve():
                raise ConfigError(
                    f"the output {target} is the input; write the scores to another folder"
                )


def _model_columns(df: Any, scorer: Scorer) -> Any:
    """``df`` with only the identifier and the columns the model reads.

    Every column that reaches the scoring workers is turned into Arrow and sent to
    Python: a warehouse table's other columns (often most of them) stay in the JVM, and
    Parquet does not even read them.
    """
    from pyspark.sql import functions as F

    wanted = {scorer.id_column, *scorer.schema.features}
    kept = [name for name in df.columns if clean_column_name(name) in wanted]
    return df.select(*[F.col(f"`{name.replace('`', '``')}`") for name in kept])


def _ranked(df: Any, id_name: str) -> Any:
    """``df`` with each row's rank among the rows of its identifier, in reading order."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    identifier = F.col(f"`{id_name.replace('`', '``')}`")
    # Rows without an identifier are rejected anyway (their rank is not used).
    order = F.monotonically_increasing_id()
    return df.withColumn(_RANK, F.row_number().over(Window.partitionBy(identifier).orderBy(order)))


def _scores(df: Any, scorer: Scorer, codes: frozenset[str], *, ranked: bool) -> Any:
    """The lazy frame of every row scored (``reason`` null) or rejected (not cached)."""
    assert scorer.id_column is not None
    id_name = scorer.id_column
    id_kind = _spark_type(df, id_name)
    # Only what Python alone computes crosses from the workers: Spark adds the
    # segment's name, and a row's outcome is whether it has a reason.
    ddl = (
        f"`{id_name.replace('`', '``')}` {id_kind}, segment_id bigint,"
        f" distance double, runner_up_id bigint, margin double,"
        f" {PERCENTILE_COLUMN} double, {FLAGS_COLUMN} string, {REJECT_REASON_COLUMN} string"
    )
    score = partial(
        _score_batches, model_to_json(scorer.model), codes=codes, ranked=ranked, id_type=id_kind
    )
    return df.mapInArrow(score, ddl)


def _score_batches(
    model_text: str,
    batches: Iterator[pa.RecordBatch],
    *,
    codes: frozenset[str],
    ranked: bool,
    id_type: str,
) -> Iterator[pa.RecordBatch]:
    """What a Spark worker runs: the Scorer on each Arrow batch, both outputs in one batch.

    Arrow in and out (``mapInArrow``): float64 inputs reach the scorer through their
    buffers, as in ``custseg score`` on a file; other types take the pandas path of the
    same checks.
    """
    scorer = Scorer(model_from_json(model_text))
    schema = _output_schema(scorer, id_type)
    for batch in batches:
        if not batch.num_rows:
            continue
        table = pa.Table.from_batches([batch])
        repeated = None
        if ranked:
            repeated = table.column(_RANK).to_numpy(zero_copy_only=False) > 1
            table = table.drop_columns([_RANK])
        chunk = scorer.assign_prepared(scorer.prepare_table(table), reject=codes, repeated=repeated)
        yield from both_table(scorer, chunk, schema).to_batches()


def _output_schema(scorer: Scorer, id_type: str) -> pa.Schema:
    """The Arrow types of the Spark schema :func:`_scores` declares."""
    ids = {"string": pa.string(), "bigint": pa.int64(), "double": pa.float64()}[id_type]
    return pa.schema(
        [
            (scorer.id_header, ids),
            ("segment_id", pa.int64()),
            ("distance", pa.float64()),
            ("runner_up_id", pa.int64()),
            ("margin", pa.float64()),
            (PERCENTILE_COLUMN, pa.float64()),
            (FLAGS_COLUMN, pa.string()),
            (REJECT_REASON_COLUMN, pa.string()),
        ]
    )


def _write(
    session: Any,
    result: Any,
    names: Any,
    paths: tuple[Path, Path],
    progress: Progress,
) -> tuple[int, int, dict[str, int]]:
    """Write both outputs through a staging folder; their row counts and the contract's.

    The pass that scores every row writes the scored rows and counts the outcomes as it
    goes (an observation of that write); the rejects take a second pass over the input
    only when there are any, and repeated identifiers are counted on the identifiers
    written.
    """
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    out_path, rejects_path = paths
    staging = Path(
        tempfile.mkdtemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=_parent(out_path))
    )
    id_name = result.columns[0]
    try:
        with spark_errors("scoring"):
            observation = Observation("custseg_outcomes")
            observed = result.observe(observation, *_outcome_sums(result, F))
            with progress.stage("Scoring in Spark and writing the scored rows", total=None):
                _scored_rows(observed, names, F).write.parquet(str(staging / "scored"))
            totals = {name: int(value or 0) for name, value in observation.get.items()}
            with progress.stage("Writing the rejects", total=None):
                # Without a reject, the optimiser drops the whole scoring plan (nothing is
                # scored again) and Spark writes an empty dataset with the schema.
                rejected = result.where(
                    F.col(REJECT_REASON_COLUMN).isNotNull() & F.lit(totals["rejected"] > 0)
                )
                rejected.select(id_name, REJECT_REASON_COLUMN).write.parquet(
                    str(staging / "rejects")
                )
            scored_back = session.read.parquet(str(staging / "scored"))
            rejects_back = session.read.parquet(str(staging / "rejects"))
            with progress.stage("Counting repeated identifiers", total=None):
                written_ids = (scored_back, rejects_back if totals["rejected"] else None)
                totals["distinct_ids"] = _distinct_ids(session, written_ids, totals["ids"], F)
            # What was written is what was scored: the files are counted again.
            written = _rows_written(staging / "scored"), _rows_written(staging / "rejects")
            n_scored, n_rejected = totals["scored"], totals["rejected"]
            if written != (n_scored, n_rejected):
                raise ScoringError(
                    f"Spark wrote {written[0]:,} scored and {written[1]:,} rejected rows but"
                    f" scored {n_scored:,} and rejected {n_rejected:,}; run the command again"
                )
            counts = _contract_counts(totals)
        if n_scored == 0:
            example = rejects_back.first()
            reason = example[REJECT_REASON_COLUMN] if example is not None else "no row"
            raise ScoringError(
                f"none of the {n_rejected:,} rows can be scored (e.g. {reason}); check that"
                " the input has the model's columns and types"
            )
        _replace(staging / "scored", out_path)
        _replace(staging / "rejects", rejects_path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return n_scored, n_rejected, counts


def _scored_rows(result: Any, names: Any, F: Any) -> Any:
    """The scored rows with the columns of Python scoring; Spark adds the segment's name."""
    columns = [F.col(f"`{c.replace('`', '``')}`") for c in result.columns]
    labels = F.array(*[F.lit(str(name)) for name in names])
    name = F.element_at(labels, (F.col("segment_id") + 1).cast("int")).alias("segment_name")
    return result.where(F.col(REJECT_REASON_COLUMN).isNull()).select(
        *columns[:2], name, *columns[2:-1]
    )


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


def _present(identifier: Any, F: Any) -> Any:
    """Whether a row has an identifier (rows without one are rejected as missing)."""
    return identifier.isNotNull() & (F.length(identifier.cast("string")) > 0)


def _outcome_sums(result: Any, F: Any) -> list[Any]:
    """The outputs' sizes and the contract's counts but repeated identifiers, as sums
    over every row (scored or rejected) that Spark takes while it writes them."""
    identifier = F.col(f"`{result.columns[0].replace('`', '``')}`")
    flags, reason = F.col(FLAGS_COLUMN), F.col(REJECT_REASON_COLUMN)
    scored, rejected = reason.isNull(), reason.isNotNull()

    def rows_where(test: Any) -> Any:
        return F.sum(F.when(test, 1).otherwise(0))

    # A reason or a flag names its code first: "missing_id: ...", "unseen_level: ...".
    unseen = contract.UNSEEN_LEVEL + ":"
    return [
        rows_where(scored).alias("scored"),
        rows_where(rejected).alias("rejected"),
        rows_where(scored & flags.contains(contract.OUT_OF_PROFILE)).alias("profile"),
        rows_where((scored & flags.contains(unseen)) | (rejected & reason.contains(unseen))).alias(
            "unseen"
        ),
        rows_where(rejected & reason.startswith(contract.MISSING_ID + ":")).alias("missing"),
        rows_where(_present(identifier, F)).alias("ids"),
    ]


_IDS_PER_SHUFFLE_PARTITION = 2_500_000
"""Identifiers a task of the distinct count takes (20 MB of 64-bit keys)."""


def _distinct_ids(session: Any, written: tuple[Any, Any | None], n_ids: int, F: Any) -> int:
    """Distinct identifiers among the rows written (both outputs: every input row;
    ``None`` for rejects that hold no row).

    ``n_ids`` rows have an identifier; the count's shuffle has one partition per core,
    or per 2.5 million of them if that is more: Spark's default of 200 partitions
    makes every task write 200 blocks for a few MB, and at 5 million customers on two
    cores takes half as long again as the count itself.
    """
    from pyspark.sql import types as T

    scored, rejects = written
    name = scored.columns[0]
    identifier = F.col(f"`{name.replace('`', '``')}`")
    ids = scored.select(identifier)
    if rejects is not None:
        ids = ids.unionByName(rejects.select(identifier))
    # Texts are compared through 64-bit hashes, as local scoring compares them
    # (contract.id_keys: two distinct texts share a key with probability ~2**-64);
    # integers as themselves.
    text = isinstance(ids.schema.fields[0].dataType, T.StringType)
    key = F.xxhash64(identifier) if text else identifier
    cores = int(session.sparkContext.defaultParallelism)
    partitions = max(cores, -(-n_ids // _IDS_PER_SHUFFLE_PARTITION), 1)
    with _session_setting(session, "spark.sql.shuffle.partitions", partitions):
        counted = ids.where(_present(identifier, F)).agg(F.countDistinct(key).alias("d")).first()
    return int(counted["d"] or 0)


def _contract_counts(totals: dict[str, int]) -> dict[str, int]:
    return contract.contract_counts(
        {
            contract.MISSING_ID: totals["missing"],
            contract.DUPLICATE_ID: totals["ids"] - totals["distinct_ids"],
            contract.UNSEEN_LEVEL: totals["unseen"],
            contract.OUT_OF_PROFILE: totals["profile"],
        }
    )


def _rows_written(folder: Path) -> int:
    """Rows in a folder of Parquet part files, from their footers (the driver reads the
    folder anyway: it moves it into place)."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(part).metadata.num_rows for part in folder.glob("*.parquet"))


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
