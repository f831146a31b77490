"""``custseg fit``: fit, evaluate and explain a segmentation; write model, metrics, report."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..sources.datasource import DataSource
from . import app
from ._common import info, print_json, rich_progress
from ._data import MaxColumnsOption, customer_rows_hint, data_source_options, load_input
from ._rollup_options import check_rollup_given, roll_up, rollup_options

if TYPE_CHECKING:
    from ..config import FitConfig
    from ..model import SegmentationModel
    from ..pipeline import FitOutput
    from ..prepare.schema import ColumnInfo, TableSchema

EPILOG = """\
Examples:

  custseg fit --input customers.csv --out segments/

  custseg fit --sql "SELECT * FROM credit_card_customers" --out segments/ --k-range 3-8 --json

  custseg fit --input customers.parquet --out segments/ --k 5 --skew yeo-johnson --no-report

  custseg fit --input big.parquet --out segments/ --engine stream

  custseg fit --engine spark --spark-master spark://host:7077
  --input hdfs:///lake/customers --out segments/

  custseg fit --input customers-q2.csv --out segments-q2/ --previous segments-q1/model.json

Writes segments/model.json (the model: versioned, checksummed JSON), segments/metrics.json
and, unless --no-report, segments/report.html with figures, summary.md and profiles.csv.
With --previous, segments that continue the previous model's keep their ids and names.
"""


def _split(value: str | None) -> tuple[str, ...] | None:
    """``"A, B"`` -> ``("A", "B")``; ``None`` or a text without names -> ``None``."""
    if value is None:
        return None
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    return names or None


def fit_summary(output: FitOutput) -> dict[str, Any]:
    """What ``--json`` prints: the metrics document and the main written files."""
    files = output.files
    shown = {"model": files["model.json"], "metrics": files["metrics.json"]}
    if "report.html" in files:
        shown["report"] = files["report.html"]
    summary = {**output.metrics, "files": {label: str(path) for label, path in shown.items()}}
    if output.model.lineage is not None:
        summary["lineage"] = output.model.lineage.to_dict()
    return summary


def print_fit_summary(model: SegmentationModel, summary: dict[str, Any]) -> None:
    """Human-readable result of a fit on stderr (nothing on stdout)."""
    from rich.markup import escape
    from rich.table import Table

    from ._common import STATE, err_console

    if STATE.quiet:
        return
    # Column names are the user's: escape them so "[x]" is not read as Rich markup.
    info(f"[bold]Columns[/bold]: {escape(_roles_line(model.schema))}")
    info(f"[bold]Playbook[/bold]: {escape(model.playbook.summary)}")
    if model.k_selection is not None:
        info(f"[bold]Choosing k[/bold]: {model.k_selection.explanation}")
    table = Table(title=f"{model.k} segments", show_lines=False)
    for column in ("id", "name", "customers", "share", "silhouette"):
        table.add_column(column, justify="right" if column != "name" else "left")
    per_segment = summary.get("silhouette_per_segment") or [None] * model.k
    for seg, sil in zip(model.segments, per_segment, strict=False):
        table.add_row(
            str(seg.id),
            escape(seg.name),
            f"{seg.size:,}",
            f"{seg.share:.1%}",
            "" if sil is None else f"{sil:.3f}",
        )
    err_console.print(table)
    figures = []
    for entry in summary.get("indices", []):
        value = summary.get(entry["name"])
        if value is None:
            continue
        text = (
            f"{entry['label']} {value:,.0f}"
            if abs(value) >= 100
            else f"{entry['label']} {value:.3f}"
        )
        if entry["name"] == "silhouette" and summary.get("silhouette_exact") is False:
            low, high = summary.get("silhouette_ci") or (None, None)
            if low is not None:
                text += (
                    f" (estimated on {summary['silhouette_sample_size']:,} rows stratified by"
                    f" segment, interval {low:.3f}-{high:.3f})"
                )
        figures.append(text)
    stability = summary.get("stability_ari")
    if stability is not None:
        figures.append(f"stability (ARI) {stability:.3f}")
    info(" · ".join(figures))
    for label, path in summary["files"].items():
        info(f"{label}: {path}")


def print_warning(warning: dict[str, Any]) -> None:
    """``warning: <message>`` on stderr, one line, as soon as known (none with --quiet:
    the warning stays in model.json and metrics.json)."""
    from ._common import warn

    warn(warning.get("cli_message") or warning["message"])


def _roles_line(schema: TableSchema) -> str:
    """``identifier CUST_ID · 17 numeric · outcome: churned · ignored: NOTE (free text)``.

    Features are counted by role; outcome, ignored and any other role are listed by
    name, as the reader needs to know which columns were left out of the clustering.
    """
    by_role: dict[str, list[ColumnInfo]] = {}
    for column in schema.columns:
        by_role.setdefault(column.role, []).append(column)
    parts = []
    for column in by_role.pop("id", []):
        parts.append(f"identifier {column.name}")
    for role in ("numeric", "categorical", "datetime"):
        if by_role.get(role):
            parts.append(f"{len(by_role.pop(role))} {role}")
    ignored = by_role.pop("ignored", [])
    described = by_role.pop("descriptor", [])
    for role, columns in by_role.items():
        parts.append(f"{role}: " + ", ".join(c.name for c in columns))
    if described:
        parts.append(
            "descriptors (who the customer is: profiled, not clustered on;"
            " --cluster-descriptors to cluster on them): " + ", ".join(c.name for c in described)
        )
    if ignored:
        parts.append("ignored: " + ", ".join(f"{c.name} ({c.reason})" for c in ignored))
    return " · ".join(parts) + " (details: metrics.json 'columns')"


NoReportOption = Annotated[bool, typer.Option("--no-report", help="Do not write the HTML report.")]
MetricsJsonOption = Annotated[
    bool, typer.Option("--json", help="Print the metrics summary as JSON on stdout.")
]


@app.command("fit", epilog=EPILOG)
@data_source_options()
@rollup_options()
def fit_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.", show_default=False)],
    source: DataSource,
    rollup: dict[str, Any],
    max_columns: MaxColumnsOption = None,
    k: Annotated[
        int | None, typer.Option("--k", help="Number of segments (default: recommended).")
    ] = None,
    k_range: Annotated[
        str | None, typer.Option("--k-range", help="Range of k tried, e.g. 2-10 (default).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (default 0).")] = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML file of settings in two sections: \\[fit] (k, k_range, random_state,"
            " n_init, n_resamples, id_column, features, exclude, playbook, ...) and"
            " \\[preparation] (skew, scaling, impute, winsorize, pca, ...); options given"
            " here override it. Format: docs/configuration.md.",
        ),
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="Identifier column (default: inferred).")
    ] = None,
    features: Annotated[
        str | None,
        typer.Option("--features", help="Comma-separated columns to use as features."),
    ] = None,
    exclude: Annotated[
        str | None, typer.Option("--exclude", help="Comma-separated columns to leave out.")
    ] = None,
    descriptors: Annotated[
        str | None,
        typer.Option(
            "--descriptors",
            help="Comma-separated columns that describe who the customer is (beyond age,"
            " gender, region... recognised by name): profiled per segment, not clustered on.",
        ),
    ] = None,
    cluster_descriptors: Annotated[
        bool,
        typer.Option(
            "--cluster-descriptors",
            help="Cluster on descriptor columns too (age, gender, income band, region...):"
            " demographic segments. By default they are profiled per segment only.",
        ),
    ] = False,
    playbook: Annotated[
        str | None,
        typer.Option(
            "--playbook",
            help="Playbook for segment names and strategies: a TOML file, or credit_card,"
            " retail or neutral (default: chosen from the columns).",
        ),
    ] = None,
    skew: Annotated[
        str | None, typer.Option("--skew", help="log1p (default), yeo-johnson or none.")
    ] = None,
    scaling: Annotated[
        str | None, typer.Option("--scaling", help="standard (default) or robust.")
    ] = None,
    impute: Annotated[
        str | None, typer.Option("--impute", help="median (default) or mean.")
    ] = None,
    winsorize: Annotated[
        float | None,
        typer.Option("--winsorize", help="Clip at this quantile and 1 minus it, e.g. 0.01."),
    ] = None,
    pca: Annotated[
        float | None,
        typer.Option("--pca", help="PCA: components (e.g. 5) or variance share (e.g. 0.9)."),
    ] = None,
    no_domain_features: Annotated[
        bool,
        typer.Option("--no-domain-features", help="Do not derive the credit-card features."),
    ] = False,
    keep_redundant: Annotated[
        bool,
        typer.Option(
            "--keep-redundant",
            help="Cluster every column, also when several encode one fact (a level"
            " repeated by other columns, |r| >= 0.95, a total beside its parts).",
        ),
    ] = False,
    no_report: NoReportOption = False,
    json_output: MetricsJsonOption = False,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="memory, stream (a file read in chunks, bounded memory), spark (K-means in Spark"
            " on a Parquet dataset or table) or auto: stream for files above 1,000,000 rows.",
        ),
    ] = "auto",
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="With --engine spark: local[2], spark://host:7077, yarn... (default: the"
            " active session, or local[*]).",
            show_default=False,
        ),
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="The model this fit replaces (model.json): continuing segments keep its"
            " ids and names; new and retired ones are listed.",
        ),
    ] = None,
    transactions: Annotated[
        bool,
        typer.Option(
            "--transactions",
            help="The data is transaction lines: roll them up to one row per customer"
            " (custseg features, with the options of the Transactions panel), then fit; the"
            " model remembers the roll-up for score, drift and export-sql.",
        ),
    ] = False,
    segment_rows: Annotated[
        bool,
        typer.Option(
            "--segment-rows",
            help="Segment the rows of a table that looks like transactions (a customer column"
            " that repeats) as they are, instead of stopping with the roll-up to run first.",
        ),
    ] = False,
) -> None:
    """Fit explained K-means segments: choose k, evaluate, name them and write the model."""
    from ..config import FitConfig, load_config, parse_k_range
    from ..exceptions import ConfigError
    from ..model import load_model
    from ._lineage import check_previous_is_not_replaced, print_lineage

    previous_model = None
    if previous is not None:
        check_previous_is_not_replaced(previous, out)
        previous_model = load_model(previous)

    base = load_config(config_file) if config_file is not None else FitConfig()
    config = base.with_overrides(
        k=k,
        k_range=parse_k_range(k_range) if k_range is not None else None,
        random_state=seed,
        id_column=id_column,
        features=_split(features),
        exclude=(_split(exclude) or ()) if exclude is not None else None,
        descriptors=_split(descriptors),
        cluster_descriptors=True if cluster_descriptors else None,
        playbook=playbook,
        skew=skew,
        scaling=scaling,
        impute=impute,
        winsorize=winsorize,
        # --pca 5 asks for five components, --pca 0.9 for 90% of the variance.
        pca=int(pca) if pca is not None and float(pca).is_integer() and pca >= 1 else pca,
        domain_features=False if no_domain_features else None,
        keep_redundant=True if keep_redundant else None,
        max_columns=max_columns,
        segment_rows=True if segment_rows else None,
    )
    if config.k == 1:
        # One segment is the whole table: nothing to name, compare or act on.
        raise ConfigError(
            "--k 1 asks for one segment, the whole table; give --k 2 or more, or leave --k"
            " out to choose k from --k-range"
        )
    chosen = _engine(engine, spark_master, source, config.max_columns)
    if transactions and chosen != "memory":
        raise ConfigError(
            f"--transactions fits the rolled-up customers in memory, not with --engine {chosen};"
            " roll up with custseg features --out customers.parquet, then fit that file"
        )
    check_rollup_given(rollup, transactions)
    with customer_rows_hint(source, f"custseg fit --out {shlex.quote(str(out))}"):
        output = _fit(
            source,
            out,
            config,
            chosen,
            spark_master,
            previous_model,
            not no_report,
            rollup if transactions else None,
        )
    summary = fit_summary(output)
    if json_output:
        print_json(summary)
    else:
        print_fit_summary(output.model, summary)
    # On stderr also with --json: the mapping is what a person checks after a retrain.
    print_lineage(output.model)


def _fit(
    source: DataSource,
    out: Path,
    config: FitConfig,
    chosen: str,
    spark_master: str | None,
    previous_model: SegmentationModel | None,
    report: bool,
    rollup: dict[str, Any] | None,
) -> FitOutput:
    """Read the data the engine needs (rolled up from transactions with ``rollup``) and
    fit to ``out``."""
    from ..pipeline import fit_to_folder
    from ..sources import describe_source

    data: Any
    if rollup is not None:
        data, rolled = roll_up(source, rollup)
        training = {**describe_source(source), "transactions": rolled}
    elif chosen != "memory":
        data = source.input  # read by the engine, chunk by chunk or in Spark
        # A Spark source may be a folder of part files or a table: no file checksum.
        training = {"source": str(data)} if chosen == "spark" else describe_source(source)
    else:
        data = load_input(source, max_columns=config.max_columns)
        # The model records the query itself, also when --sql @query.sql named a file.
        training = describe_source(source)
    with rich_progress() as progress:
        return fit_to_folder(
            data,
            out,
            config=config,
            training=training,
            report=report,
            progress=progress,
            engine=chosen,
            spark_master=spark_master,
            previous=previous_model,
            on_warning=print_warning,
        )


def _engine(engine: str, spark_master: str | None, source: DataSource, max_columns: int) -> str:
    """The engine of this fit; large-table engines read --input, not --sql.

    A file wider than ``max_columns`` is refused here, before ``auto`` counts its rows.
    """
    from ..engines import auto_engine
    from ..exceptions import ConfigError

    if spark_master is not None and engine != "spark":
        raise ConfigError(
            f"--spark-master applies to --engine spark only, not --engine {engine}; add"
            " --engine spark or leave it out"
        )
    if engine in ("stream", "spark") and source.input is None:
        raise ConfigError(
            f"--engine {engine} reads --input (a file{' or table' if engine == 'spark' else ''});"
            " extract the query to Parquet first (custseg extract) or use --engine memory"
        )
    if engine == "spark":
        return "spark"
    return auto_engine(engine, source.input, max_columns=max_columns)
