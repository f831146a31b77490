"""A folder never mixes runs: every command that writes files, in a real process.

A folder custseg writes as a whole (fit, demo, report, migrate) carries a run marker
naming the command and its files. A command refuses a folder written by another kind
of run, replaces an earlier run of its own kind whole, and never replaces a file of a
run folder, a snapshot or a snapshot's manifest; a manifest or rejects file is never
left describing a file that a later command replaced.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from custseg.sources import verify_snapshot

SAMPLE_ROWS = 600


def _one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def _contents(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory, sample: pd.DataFrame, run_cli) -> Path:
    """A folder with customers.csv, a fit folder ``segments/`` and two scored files."""
    folder = tmp_path_factory.mktemp("outputs")
    sample.sample(n=SAMPLE_ROWS, random_state=3).to_csv(folder / "customers.csv", index=False)
    fit = run_cli(
        ["fit", "--input", "customers.csv", "--out", "segments", "--k", "3", "--k-range", "3-3"],
        cwd=folder,
    )
    assert fit.exit_code == 0, fit.stderr
    for name in ("q1.csv", "q2.csv"):
        scored = run_cli(
            ["score", "--model", "segments/model.json", "--input", "customers.csv", "--out", name],
            cwd=folder,
        )
        assert scored.exit_code == 0, scored.stderr
    return folder


@pytest.fixture
def fit_folder(work: Path):
    """The fit folder, checked untouched after the test."""
    before = _contents(work / "segments")
    yield work / "segments"
    assert _contents(work / "segments") == before


def test_the_fit_folder_names_its_run_and_files(work: Path) -> None:
    marker = json.loads((work / "segments" / ".custseg-fit.json").read_text(encoding="utf-8"))
    assert marker["command"] == "fit"
    assert {"model.json", "metrics.json", "report.html", "profiles.csv"} <= set(marker["files"])


def test_migrate_into_a_fit_folder_is_refused(work: Path, fit_folder: Path, run_cli) -> None:
    result = run_cli(
        ["migrate", "--old", "q1.csv", "--new", "q2.csv", "--out", "segments"], cwd=work
    )
    line = _one_error_line(result)
    assert "segments/" in line and "`custseg fit`" in line and "--out segments/migration" in line


def test_migrate_again_replaces_its_folder_whole(work: Path, run_cli) -> None:
    args = ["migrate", "--old", "q1.csv", "--new", "q2.csv", "--out", "moves"]
    assert run_cli(args, cwd=work).exit_code == 0
    out = work / "moves"
    (out / "transitions-of-last-year.csv").write_text("mine\n", encoding="utf-8")
    (out / "transitions.csv").write_text("edited by hand\n", encoding="utf-8")
    again = run_cli(args, cwd=work)
    assert again.exit_code == 0, again.stderr
    assert (out / "transitions.csv").read_text(encoding="utf-8").startswith("from_segment")
    assert (out / "transitions-of-last-year.csv").read_text(encoding="utf-8") == "mine\n"
    marker = json.loads((out / ".custseg-migration.json").read_text(encoding="utf-8"))
    assert marker["command"] == "migration"
    assert set(marker["files"]) == {
        "transitions.csv",
        "only_old.csv",
        "only_new.csv",
        "migration.png",
        "migration.json",
    }


def test_fit_and_report_refuse_a_migration_folder(work: Path, run_cli) -> None:
    args = ["migrate", "--old", "q1.csv", "--new", "q2.csv", "--out", "moves-2"]
    assert run_cli(args, cwd=work).exit_code == 0
    before = _contents(work / "moves-2")
    fit = run_cli(
        ["fit", "--input", "customers.csv", "--out", "moves-2", "--k", "3", "--k-range", "3-3"],
        cwd=work,
    )
    assert "`custseg migrate`" in _one_error_line(fit)
    report = run_cli(
        ["report", "segments/model.json", "--data", "customers.csv", "--out", "moves-2"], cwd=work
    )
    assert "`custseg migrate`" in _one_error_line(report)
    assert _contents(work / "moves-2") == before


def test_fit_refuses_a_report_folder(work: Path, run_cli) -> None:
    report = run_cli(
        ["report", "segments/model.json", "--data", "customers.csv", "--out", "rep"], cwd=work
    )
    assert report.exit_code == 0, report.stderr
    before = _contents(work / "rep")
    fit = run_cli(
        ["fit", "--input", "customers.csv", "--out", "rep", "--k", "3", "--k-range", "3-3"],
        cwd=work,
    )
    line = _one_error_line(fit)
    assert "rep/" in line and "`custseg report`" in line
    assert _contents(work / "rep") == before


MODEL = ["--model", "segments/model.json"]


@pytest.mark.parametrize(
    "args",
    [
        ["score", *MODEL, "--input", "customers.csv", "--out", "segments/profiles.csv"],
        [
            "score",
            *MODEL,
            "--input",
            "customers.csv",
            "--out",
            "segments/x.parquet",
            "--rejects",
            "segments/profiles.csv",
        ],
        ["drift", *MODEL, "--input", "customers.csv", "--out", "segments/metrics.json"],
        ["drift", *MODEL, "--input", "customers.csv", "--report", "segments/report.html"],
        [
            "export-sql",
            *MODEL,
            "--dialect",
            "duckdb",
            "--table",
            "t",
            "--out",
            "segments/summary.md",
        ],
        [
            "export-sql",
            *MODEL,
            "--dialect",
            "duckdb",
            "--table",
            "t",
            "--out",
            "segments/figures/elbow.png",
        ],
        [
            "export-sql",
            *MODEL,
            "--dialect",
            "duckdb",
            "--table",
            "t",
            "--out",
            "segments/.custseg-fit.json",
        ],
    ],
    ids=lambda args: f"{args[0]}-{args[-1].split('/', 1)[1]}",
)
def test_no_command_replaces_a_file_of_a_fit_folder(
    work: Path, fit_folder: Path, run_cli, args: list[str]
) -> None:
    line = _one_error_line(run_cli(args, cwd=work))
    assert "`custseg fit`" in line and "segments" in line and args[-1] in line


def test_score_keeps_the_rejects_beside_the_file_it_describes(work: Path, run_cli) -> None:
    base = ["score", "--model", "segments/model.json", "--input", "customers.csv"]
    assert run_cli([*base, "--out", "s.csv"], cwd=work).exit_code == 0
    stale = work / "s.csv.rejects.csv"
    assert stale.is_file()
    again = run_cli([*base, "--out", "s.csv", "--rejects", "elsewhere.csv"], cwd=work)
    assert again.exit_code == 0, again.stderr
    # The earlier run's rejects described the replaced s.csv: gone, not left beside it.
    assert not stale.exists()
    assert (work / "elsewhere.csv").is_file()


def test_the_spark_engine_refuses_a_folder_it_would_wipe(
    work: Path, fit_folder: Path, run_cli
) -> None:
    result = run_cli(
        [
            "score",
            "--engine",
            "spark",
            "--model",
            "segments/model.json",
            "--input",
            "customers.csv",
            "--out",
            "segments",
        ],
        cwd=work,
    )
    line = _one_error_line(result)
    assert "segments/" in line and "not Spark part files" in line
    # Nor the default rejects folder beside --out, <out>.rejects.
    (work / "lake.rejects").mkdir(exist_ok=True)
    (work / "lake.rejects" / "notes.txt").write_text("mine", encoding="utf-8")
    result = run_cli(
        ["score", "--engine", "spark", *MODEL, "--input", "customers.csv", "--out", "lake"],
        cwd=work,
    )
    line = _one_error_line(result)
    assert "--rejects lake.rejects/" in line and "notes.txt" in line
    assert (work / "lake.rejects" / "notes.txt").read_text(encoding="utf-8") == "mine"


# ------------------------------------------------------------------ snapshots


@pytest.fixture
def warehouse(tmp_path: Path, sample: pd.DataFrame) -> str:
    path = tmp_path / "bank.duckdb"
    with duckdb.connect(str(path)) as connection:
        frame = sample.head(50)  # noqa: F841 (read by DuckDB by name)
        connection.execute("CREATE TABLE customers AS SELECT * FROM frame")
    return f"duckdb:///{path}"


def _extract(run_cli, warehouse: str, out: str, cwd: Path, where: str = "TRUE"):
    return run_cli(
        [
            "extract",
            "--sql",
            f"SELECT * FROM customers WHERE {where}",
            "--warehouse",
            warehouse,
            "--out",
            out,
        ],
        cwd=cwd,
    )


def test_the_command_line_names_manifests_as_the_snapshot_module_does(tmp_path: Path) -> None:
    from custseg.cli import _outputs
    from custseg.sources.snapshot import MANIFEST_FORMAT, manifest_path

    assert _outputs._MANIFEST_FORMAT == MANIFEST_FORMAT
    for name in ("c.csv", "c.parquet", "a.b.csv", "noext"):
        assert _outputs._manifest_of(tmp_path / name) == manifest_path(tmp_path / name)


def test_extracting_again_rewrites_the_manifest(tmp_path: Path, warehouse: str, run_cli) -> None:
    assert _extract(run_cli, warehouse, "c.csv", tmp_path).exit_code == 0
    again = _extract(run_cli, warehouse, "c.csv", tmp_path, where="TENURE = 12")
    assert again.exit_code == 0, again.stderr
    manifest = verify_snapshot(tmp_path / "c.csv")  # the manifest describes the new file
    assert "TENURE = 12" in manifest["query"]
    assert manifest["rows"] == len(pd.read_csv(tmp_path / "c.csv"))


def test_a_snapshot_never_takes_the_manifest_of_another(
    tmp_path: Path, warehouse: str, run_cli
) -> None:
    assert _extract(run_cli, warehouse, "c.parquet", tmp_path).exit_code == 0
    before = _contents(tmp_path)
    line = _one_error_line(_extract(run_cli, warehouse, "c.csv", tmp_path))
    assert "c.manifest.json" in line and "c.parquet" in line and "c-2.csv" in line
    assert _contents(tmp_path) == before
    verify_snapshot(tmp_path / "c.parquet")
    # Once the other snapshot is gone, its manifest describes nothing: it is replaced.
    (tmp_path / "c.parquet").unlink()
    assert _extract(run_cli, warehouse, "c.csv", tmp_path).exit_code == 0
    verify_snapshot(tmp_path / "c.csv")


def test_no_command_replaces_a_snapshot_or_its_manifest(
    tmp_path: Path, warehouse: str, run_cli, work: Path
) -> None:
    assert _extract(run_cli, warehouse, "c.csv", tmp_path).exit_code == 0
    before = _contents(tmp_path)
    model = work / "segments" / "model.json"
    scored = run_cli(
        ["score", "--model", model, "--input", work / "customers.csv", "--out", "c.csv"],
        cwd=tmp_path,
    )
    assert "snapshot" in _one_error_line(scored) and "c.manifest.json" in scored.stderr
    drift = run_cli(
        ["drift", "--model", model, "--input", "c.csv", "--out", "c.manifest.json"],
        cwd=tmp_path,
    )
    assert "manifest of the snapshot" in _one_error_line(drift)
    sql = ["export-sql", "--model", model, "--dialect", "duckdb", "--table", "t"]
    assert "snapshot" in _one_error_line(run_cli([*sql, "--out", "c.csv"], cwd=tmp_path))
    assert _contents(tmp_path) == before
    verify_snapshot(tmp_path / "c.csv")


def test_extract_refuses_a_file_of_a_fit_folder(
    work: Path, fit_folder: Path, warehouse: str, run_cli
) -> None:
    line = _one_error_line(_extract(run_cli, warehouse, "segments/profiles.csv", work))
    assert "`custseg fit`" in line


# ------------------------------------------------------------------ demo


def test_demo_writes_a_fresh_folder_and_refuses_another_commands(
    tmp_path: Path, run_cli, work: Path
) -> None:
    first = run_cli(["demo", "--out", "demo", "--no-report", "--quiet"], cwd=tmp_path)
    assert first.exit_code == 0, first.stderr
    out = tmp_path / "demo"
    marker = json.loads((out / ".custseg-fit.json").read_text(encoding="utf-8"))
    assert marker["command"] == "demo"
    assert set(marker["files"]) == {"model.json", "metrics.json"}
    verify_snapshot(out / "customers.csv")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "customers.csv").write_text("edited by hand\n", encoding="utf-8")
    # A second demo replaces the first whole; the user's own file stays.
    again = run_cli(["demo", "--out", "demo", "--no-report", "--quiet"], cwd=tmp_path)
    assert again.exit_code == 0, again.stderr
    second = json.loads((out / ".custseg-fit.json").read_text(encoding="utf-8"))
    assert second["run"] != marker["run"]
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    verify_snapshot(out / "customers.csv")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # A fit of the demo's snapshot into the demo folder replaces the model, not its input.
    refit = [
        "fit",
        "--input",
        "demo/customers.csv",
        "--out",
        "demo",
        "--k",
        "3",
        "--no-report",
    ]
    done = run_cli([*refit, "--k-range", "3-3"], cwd=tmp_path)
    assert done.exit_code == 0, done.stderr
    verify_snapshot(out / "customers.csv")
    assert json.loads((out / ".custseg-fit.json").read_text(encoding="utf-8"))["command"] == "fit"
    # Into a migration folder: refused before anything is extracted.
    moves = ["migrate", "--old", work / "q1.csv", "--new", work / "q2.csv", "--out", "moves"]
    assert run_cli(moves, cwd=tmp_path).exit_code == 0
    before = _contents(tmp_path / "moves")
    line = _one_error_line(run_cli(["demo", "--out", "moves"], cwd=tmp_path))
    assert "`custseg migrate`" in line
    assert _contents(tmp_path / "moves") == before
