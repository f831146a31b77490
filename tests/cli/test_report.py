"""``custseg report`` in a real process: files written, JSON output, clean user errors."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from custseg.config import FitConfig
from custseg.model import save_model
from custseg.pipeline import fit_segments


@pytest.fixture(scope="module")
def cli(run_cli: Callable[..., Any]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``custseg ARGS`` run in ``cwd`` by the suite's ``run_cli``, as a completed process."""

    def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
        done = run_cli([str(a) for a in args], cwd=cwd)
        return subprocess.CompletedProcess(
            ["custseg", *map(str, args)], done.exit_code, done.stdout, done.stderr
        )

    return run


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(folder, model.json, customers.csv) for a small real fit."""
    folder = tmp_path_factory.mktemp("cli")
    path = resources.files("custseg") / "data" / "CC_GENERAL.csv"
    with resources.as_file(path) as csv:
        frame = pd.read_csv(csv).sample(n=800, random_state=2).reset_index(drop=True)
    config = FitConfig(k=3, k_range=(2, 4), n_init=2, n_resamples=2, random_state=0)
    model_path = save_model(fit_segments(frame, config=config), folder / "out" / "model.json")
    data_path = folder / "customers.csv"
    frame.to_csv(data_path, index=False)
    return folder, model_path, data_path


def test_report_writes_the_files_and_lists_them_as_json(
    cli: Callable[..., subprocess.CompletedProcess[str]],
    fitted: tuple[Path, Path, Path],
) -> None:
    folder, model_path, data_path = fitted
    done = cli("report", model_path, "--data", data_path, "--out", "rep", "--json", cwd=folder)
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert {"report.html", "summary.md", "profiles.csv", "figures/elbow.png"} <= set(listed)
    for path in listed.values():
        assert Path(folder, path).is_file() or Path(path).is_file()
    html = (folder / "rep" / "report.html").read_text(encoding="utf-8")
    assert "Executive summary" in html and "800 customers" in html


def test_report_defaults_to_a_folder_next_to_the_model(
    cli: Callable[..., subprocess.CompletedProcess[str]], fitted: tuple[Path, Path, Path]
) -> None:
    folder, model_path, data_path = fitted
    done = cli("report", model_path, "--data", data_path, cwd=folder)
    assert done.returncode == 0, done.stderr
    assert (model_path.parent / "report" / "report.html").is_file()
    assert "Report written to" in done.stderr
    assert done.stdout == ""


def test_missing_model_is_a_user_error(
    cli: Callable[..., subprocess.CompletedProcess[str]], fitted: tuple[Path, Path, Path]
) -> None:
    folder, _, data_path = fitted
    done = cli("report", folder / "nope.json", "--data", data_path, cwd=folder)
    assert done.returncode == 2
    assert done.stderr.startswith("error: model file")
    assert "does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_table_without_a_model_column_is_a_user_error(
    cli: Callable[..., subprocess.CompletedProcess[str]], fitted: tuple[Path, Path, Path]
) -> None:
    folder, model_path, data_path = fitted
    broken = folder / "broken.csv"
    pd.read_csv(data_path).drop(columns=["PAYMENTS"]).to_csv(broken, index=False)
    done = cli("report", model_path, "--data", broken, "--out", "rep2", cwd=folder)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "PAYMENTS" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (folder / "rep2" / "report.html").exists()


def test_help_shows_an_example(
    cli: Callable[..., subprocess.CompletedProcess[str]], fitted: tuple[Path, Path, Path]
) -> None:
    done = cli("report", "--help", cwd=fitted[0])
    assert done.returncode == 0
    assert "Example: custseg report" in done.stdout
    assert "--data" in done.stdout and "--out" in done.stdout


def _contents(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_report_into_a_fit_folder_is_refused_and_leaves_it_whole(
    cli: Callable[..., subprocess.CompletedProcess[str]],
    fitted: tuple[Path, Path, Path],
) -> None:
    folder, _, data_path = fitted
    fit = cli(
        "fit", "--input", data_path, "--out", "fitted", "--k", "3", "--k-range", "3-3", cwd=folder
    )
    assert fit.returncode == 0, fit.stderr
    before = _contents(folder / "fitted")
    assert {"model.json", "metrics.json", "report.html", "summary.md"} <= set(before)
    # Another table (a third of the rows): its report would describe another run.
    other = folder / "other.csv"
    pd.read_csv(data_path).head(300).to_csv(other, index=False)
    done = cli(
        "report", folder / "fitted" / "model.json", "--data", other, "--out", "fitted", cwd=folder
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "fitted" in lines[0] and "custseg fit" in lines[0]
    assert "--out" in lines[0] and "Traceback" not in done.stderr
    assert _contents(folder / "fitted") == before


def test_a_second_report_replaces_the_first_whole_and_keeps_the_users_files(
    cli: Callable[..., subprocess.CompletedProcess[str]],
    fitted: tuple[Path, Path, Path],
) -> None:
    folder, model_path, data_path = fitted
    first = cli("report", model_path, "--data", data_path, "--out", "again", cwd=folder)
    assert first.returncode == 0, first.stderr
    out = folder / "again"
    (out / "figures" / "from-an-old-version.png").write_bytes(b"stale")
    (out / "notes.txt").write_text("the analyst's own file", encoding="utf-8")
    second = cli("report", model_path, "--data", data_path, "--out", "again", cwd=folder)
    assert second.returncode == 0, second.stderr
    assert not (out / "figures" / "from-an-old-version.png").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "the analyst's own file"
    marker = json.loads((out / ".custseg-report.json").read_text(encoding="utf-8"))
    assert marker["command"] == "report"
    assert "notes.txt" not in marker["files"] and "report.html" in marker["files"]
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".again")) == []


def test_a_refit_drops_the_report_of_the_model_it_replaced(
    cli: Callable[..., subprocess.CompletedProcess[str]],
    fitted: tuple[Path, Path, Path],
) -> None:
    folder, _, data_path = fitted
    fit = ["fit", "--input", data_path, "--out", "refit", "--no-report", "--k-range", "2-4"]
    first = cli(*fit, "--k", "3", cwd=folder)
    assert first.returncode == 0, first.stderr
    model_path = folder / "refit" / "model.json"
    report = cli("report", model_path, "--data", data_path, cwd=folder)
    assert report.returncode == 0, report.stderr
    assert (folder / "refit" / "report" / "report.html").is_file()
    (folder / "refit" / "mine").mkdir()
    (folder / "refit" / "mine" / "notes.txt").write_text("kept", encoding="utf-8")
    again = cli(*fit, "--k", "4", cwd=folder)
    assert again.returncode == 0, again.stderr
    # The old report described a model that is gone: it is not carried over.
    assert not (folder / "refit" / "report").exists()
    assert (folder / "refit" / "mine" / "notes.txt").read_text(encoding="utf-8") == "kept"
