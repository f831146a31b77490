"""``custseg score``: assign new customers to the segments of a saved model."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..sources.datasource import DataSource
from . import app
from ._common import info, print_json, rich_progress
from ._data import (
    MaxColumnsOption,
    column_limit,
    customer_rows_hint,
    data_source_options,
    load_input,
)
from ._rollup_options import check_rollup_given, lines_hint, replay, rollup_options

if TYPE_CHECKING:
    import pandas as pd

    from ..scoring.scorer import Scorer

EPILOG = """\
Examples:

  custseg score --model segments/model.json --input new.csv --out scored.csv

  custseg score --model segments/model.json --input new.parquet --out scored.parquet --json

  custseg score --model segments/model.json --sql "SELECT * FROM credit_card_customers"
  --out scored.parquet --keep-columns

  custseg score --engine spark --model segments/model.json --input lake/customers/
  --out lake/scored/

  custseg score --model segments/model.json --input new.csv --out scored.csv
  --reject duplicate_id,unseen_level

Every input row is either in the output (with segment_id, segment_name, distance,
runner_up_id, margin, distance_percentile, flags) or in the rejects file (row number,
identifier, reason). Rows without an identifier are rejected; repeated identifiers,
unseen category levels and out-of-profile rows are counted in the summary.
"""


@app.command("score", epilog=EPILOG)
@data_source_options()
@rollup_options()
def score(
    model: Path = typer.Option(..., "--model", "-m", help="Model file written by `custseg fit`."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Scored file: .csv or .parquet (written atomically)."
    ),
    *,
    source: DataSource,
    rollup: dict[str, Any],
    max_columns: MaxColumnsOption = None,
    rejects: Path | None = typer.Option(
        None,
        "--rejects",
        help="Rejects file (CSV). Default: <out name>.rejects.csv next to --out.",
        show_default=False,
    ),
    keep_columns: bool = typer.Option(
        False, "--keep-columns", help="Copy the input columns into the scored file."
    ),
    reject: list[str] | None = typer.Option(
        None,
        "--reject",
        help="Reject rather than score rows with these codes (comma-separated or repeated):"
        " duplicate_id (an identifier already on an earlier row; the first is scored),"
        " unseen_level (a category level the model was not trained on).",
        show_default=False,
    ),
    chunk_size: int = typer.Option(
        200_000, "--chunk-size", help="Rows read, scored and written at a time."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    engine: str = typer.Option(
        "local",
        "--engine",
        help="local (streamed here) or spark: score a Parquet dataset or table in Spark into"
        " folders of Parquet part files (--out, --rejects).",
    ),
    spark_master: str | None = typer.Option(
        None,
        "--spark-master",
        help="With --engine spark: local[2], spark://host:7077, yarn...",
        show_default=False,
    ),
    transactions: bool = typer.Option(
        False,
        "--transactions",
        help="The data is transaction lines: roll them up as the model's training lines were"
        " (its recipe, columns and window), then score the customers.",
    ),
    segment_rows: bool = typer.Option(
        False,
        "--segment-rows",
        help="Score an input whose identifier repeats (transaction lines) row by row instead"
        " of stopping with the roll-up to run first.",
    ),
) -> None:
    """Score customers from a file or a query; files are streamed in chunks."""
    from .._utils.memory import tune_for_streaming

    tune_for_streaming()  # first: it sets how numpy allocates, which numpy reads on import
    from .._utils.io import check_distinct_paths
    from ..model import load_model
    from ..scoring.batch import Scorer, default_rejects_path, score_file
    from ..scoring.contract import check_reject

    codes = check_reject(",".join(reject or []))

    check_distinct_paths(
        {
            "the model (--model)": model,
            "input (--input)": source.input,
            "out (--out)": out,
            "rejects (--rejects)": rejects if rejects is not None else default_rejects_path(out),
        }
    )
    from ._outputs import check_output_file, check_spark_output_folder

    # Neither output may be another run's file (a fit folder's, a snapshot, a manifest).
    spark = engine != "local" or spark_master is not None
    if spark:
        from ..scoring.spark import default_spark_rejects

        check_spark_output_folder("--out", out)
        check_spark_output_folder("--rejects", rejects or default_spark_rejects(out))
    else:
        check_output_file("--out", out)
        check_output_file("--rejects", rejects or default_rejects_path(out))
    check_rollup_given(rollup, transactions)
    scorer = Scorer(load_model(model))
    if spark and transactions:
        from ..exceptions import ConfigError

        raise ConfigError(
            "--transactions scores here, not with --engine spark; roll the lines up with"
            " custseg features first and score its customer table"
        )
    if spark:
        _score_spark(
            scorer, engine, spark_master, source.input, out, rejects, keep_columns, codes, as_json
        )
        return
    # Rolled up first: the roll-up shows its own progress.
    customers = (
        replay(source, scorer.model.training.get("transactions"), rollup) if transactions else None
    )
    then = f"custseg score --model {shlex.quote(str(model))} --out {shlex.quote(str(out))}"
    record = scorer.model.training.get("transactions")
    with (
        rich_progress() as progress,
        customer_rows_hint(source, then),
        lines_hint(record, transactions),
    ):
        # Query results arrive whole from the warehouse; they are then scored and
        # written in chunks like a file.
        rows: Path | pd.DataFrame = (
            customers
            if customers is not None
            else source.input
            if source.input is not None
            else load_input(source, progress=progress, max_columns=max_columns)
        )
        summary = score_file(
            scorer,
            rows,
            out,
            rejects=rejects,
            chunk_size=chunk_size,
            keep_columns=keep_columns,
            reject=codes,
            progress=progress,
            max_columns=column_limit(max_columns),
            segment_rows=segment_rows,
        )
    if rejects is not None:
        from ._outputs import remove_stale_rejects

        remove_stale_rejects(out, rejects, default_rejects_path(out))
    info(summary.line())
    if as_json:
        print_json(summary.to_dict())


def _score_spark(
    scorer: Scorer,
    engine: str,
    spark_master: str | None,
    input: Path | None,
    out: Path,
    rejects: Path | None,
    keep_columns: bool,
    reject: frozenset[str],
    as_json: bool,
) -> None:
    """``custseg score --engine spark``: score where the data lives, into Parquet folders."""
    from ..exceptions import ConfigError
    from ..scoring.spark import score_spark

    if engine != "spark":
        if engine != "local":
            raise ConfigError(f"--engine {engine!r} should be local or spark")
        raise ConfigError("--spark-master applies to --engine spark only; add --engine spark")
    if input is None:
        raise ConfigError(
            "--engine spark scores --input (a Parquet dataset or a table); for a query, use"
            " custseg export-sql --dialect spark"
        )
    if keep_columns:
        raise ConfigError(
            "--keep-columns is not available with --engine spark; join the scores back on the"
            " identifier"
        )
    with rich_progress() as progress:
        summary = score_spark(
            scorer,
            input,
            out,
            rejects=rejects,
            master=spark_master,
            reject=reject,
            progress=progress,
        )
    info(summary.line())
    if as_json:
        print_json(summary.to_dict())
