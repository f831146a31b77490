"""The two notebooks run end to end in a real Jupyter kernel, and are kept without outputs.

Each notebook is executed with nbclient in the ``python3`` kernel of this virtualenv, in a
temporary working directory (the notebooks write their files relative to it, so nothing
lands in the repository). Executions are shared by the tests of this module:

- the analysis notebook, in a fresh folder;
- the inference notebook in that same folder, where it loads the analysis' model;
- the inference notebook in another fresh folder, where it must fit a model itself.

The tests read what the notebooks printed and wrote, so they fail if the story stops
adding up (rows lost in scoring, SQL disagreeing with Python, a conclusion naming a
segment the model does not have), not only if a cell raises.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient
from nbformat import NotebookNode

from custseg import load_model
from custseg.sources import verify_snapshot

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
ANALYSIS = NOTEBOOKS / "customer_segmentation.ipynb"
INFERENCE = NOTEBOOKS / "inference.ipynb"
OVER_TIME = NOTEBOOKS / "segments_over_time.ipynb"
TRANSACTIONS = NOTEBOOKS / "transactions_to_segments.ipynb"
STRIP_SCRIPT = REPO / "scripts" / "strip_notebooks.py"

# Per cell. The slowest cell (choosing k and fitting) takes about 5 s alone; the margin is
# for a shared 2-core machine running other tests at the same time.
CELL_TIMEOUT = 300
KERNEL_CHECK_ID = "test-kernel-check"
# Cells of the analysis notebook that draw a figure.
ANALYSIS_FIGURES = (
    "skew",
    "distributions",
    "correlations",
    "missing",
    "pca",
    "k-figure",
    "labels",
    "lift",
    "evaluate",
)


@dataclass(frozen=True)
class Run:
    """An executed notebook and the folder it ran in."""

    notebook: NotebookNode
    workdir: Path

    def cell(self, cell_id: str) -> NotebookNode:
        for cell in self.notebook.cells:
            if cell.get("id") == cell_id:
                return cell
        raise AssertionError(f"no cell with id {cell_id!r} in the notebook")

    def stdout(self, cell_id: str) -> str:
        return "".join(
            out.text
            for out in self.cell(cell_id).outputs
            if out.output_type == "stream" and out.name == "stdout"
        )


def _execute(path: Path, workdir: Path) -> Run:
    """Run every cell of ``path`` with ``workdir`` as the kernel's working directory."""
    notebook = nbformat.read(path, as_version=4)
    # Proves which interpreter ran the cells; only the in-memory copy gets this cell.
    notebook.cells.append(
        nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)", id=KERNEL_CHECK_ID)
    )
    env = dict(os.environ)
    # Show every warning once, library deprecations included (Python hides those by
    # default outside __main__), so that the stderr check below sees them.
    env["PYTHONWARNINGS"] = "default"
    env["IPYTHONDIR"] = str(workdir.parent / f"{workdir.name}-ipython")
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env=env)
    return Run(notebook, workdir)


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _execute(ANALYSIS, tmp_path_factory.mktemp("analysis"))


@pytest.fixture(scope="module")
def inference_after_analysis(analysis: Run) -> Run:
    return _execute(INFERENCE, analysis.workdir)


@pytest.fixture(scope="module")
def inference_alone(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _execute(INFERENCE, tmp_path_factory.mktemp("inference"))


def _number(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.mark.parametrize(
    "run_name",
    ["analysis", "inference_after_analysis", "inference_alone", "over_time", "transactions"],
)
def test_every_cell_ran_in_this_virtualenv_without_error_or_warning(
    run_name: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(run_name)
    code_cells = [c for c in run.notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code_cells)
    errors = [c.id for c in code_cells for out in c.outputs if out.output_type == "error"]
    assert errors == []
    stderr = [
        (c.id, out.text)
        for c in code_cells
        for out in c.outputs
        if out.output_type == "stream" and out.name == "stderr"
    ]
    assert [item for item in stderr if "Warning" in item[1]] == []
    assert run.stdout(KERNEL_CHECK_ID).strip() == sys.prefix


def test_analysis_writes_snapshot_model_and_report(analysis: Run) -> None:
    out = analysis.workdir / "segmentation-output"
    manifest = verify_snapshot(out / "customers.csv")
    assert manifest["rows"] == 8950
    assert manifest["query"] == "SELECT * FROM credit_card_customers"

    model = load_model(out / "model.json")
    assert model.training["data_sha256"] == manifest["sha256"]
    # The recommended k is the fitted k, and none of its segments is too small to act on.
    assert model.k_selection is not None and model.k_selection.recommended_k == model.k
    assert min(s.share for s in model.segments) >= 0.03
    assert f"recommended: k = {model.k}" in analysis.stdout("k-figure")
    assert f"k = {model.k};" in analysis.stdout("model")

    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    for name in model.segment_names():
        assert name in page
    assert "report.html" in analysis.stdout("report")


def test_analysis_draws_its_figures(analysis: Run) -> None:
    missing = [
        cell_id
        for cell_id in ANALYSIS_FIGURES
        if not any("image/png" in out.get("data", {}) for out in analysis.cell(cell_id).outputs)
    ]
    assert missing == []


def test_analysis_conclusion_names_only_segments_the_model_has(analysis: Run) -> None:
    model = load_model(analysis.workdir / "segmentation-output" / "model.json")
    named = re.findall(r"\*\*([^*]+)\*\*", analysis.cell("conclusion-md").source)
    assert len(named) >= 3
    assert sorted(set(named) - set(model.segment_names())) == []
    # The rules cell reports the rules' agreement with the K-means assignment.
    agreement = re.search(r"agrees with K-means for (\d+)% of them", analysis.stdout("rules"))
    assert agreement is not None and 50 <= int(agreement.group(1)) <= 100


def test_inference_accounts_for_every_input_row(inference_alone: Run) -> None:
    printed = inference_alone.stdout("score-file")
    match = re.search(
        r"accounting: ([\d,]+) input rows = ([\d,]+) scored \+ ([\d,]+) rejected -> (\w+)", printed
    )
    assert match is not None, printed
    rows, scored, rejected = (_number(match.group(i)) for i in (1, 2, 3))
    assert scored + rejected == rows
    assert match.group(4) == "complete"
    work = inference_alone.workdir / "inference-output"
    assert len(pd.read_csv(work / "new_customers.csv")) == rows
    scored_file = pd.read_csv(work / "scored.csv", dtype={"CUST_ID": "str"})
    rejects = pd.read_csv(work / "scored.csv.rejects.csv", dtype={"CUST_ID": "str"})
    assert (len(scored_file), len(rejects)) == (scored, rejected)
    # The typo and the impossible amount are rejected with reasons naming their columns;
    # the row with a gap is scored, its gap imputed.
    reasons = dict(zip(rejects["CUST_ID"], rejects["reason"], strict=True))
    assert reasons["N00002"].startswith("PURCHASES:")
    assert reasons["N00003"].startswith("BALANCE:")
    assert "N00001" in set(scored_file["CUST_ID"])
    assert set(scored_file["CUST_ID"]).isdisjoint(reasons)


def test_inference_sql_scoring_agrees_with_python(
    inference_alone: Run, sample_frame: pd.DataFrame
) -> None:
    printed = inference_alone.stdout("sql-vs-python")
    match = re.search(r"agree on the segment of ([\d,]+) of ([\d,]+) customers", printed)
    assert match is not None, printed
    agree, total = _number(match.group(1)), _number(match.group(2))
    assert agree == total == len(sample_frame)

    printed = inference_alone.stdout("score-sql")
    recent = re.search(r"([\d,]+) accounts: ([\d,]+) scored \+ ([\d,]+) rejected", printed)
    assert recent is not None, printed
    n_recent = _number(recent.group(1))
    assert n_recent == _number(recent.group(2)) + _number(recent.group(3))
    assert n_recent == int((sample_frame["TENURE"] < 12).sum())


def test_inference_fits_a_model_only_when_none_is_saved(
    inference_alone: Run, inference_after_analysis: Run, analysis: Run
) -> None:
    printed = inference_alone.stdout("load")
    assert "no model at segmentation-output/model.json: fitting one" in printed
    fitted = load_model(inference_alone.workdir / "segmentation-output" / "model.json")
    assert fitted.k >= 2

    assert "loading the model saved by the analysis" in inference_after_analysis.stdout("load")
    model = load_model(analysis.workdir / "segmentation-output" / "model.json")
    catalogue = inference_after_analysis.stdout("strategies")
    for segment in model.segments:
        assert f"{segment.id}. {segment.name}: {segment.size:,} training customers" in catalogue


@pytest.mark.parametrize(
    "path", [ANALYSIS, INFERENCE, OVER_TIME, TRANSACTIONS], ids=lambda p: p.name
)
def test_committed_notebooks_have_no_outputs(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "output_type" not in text
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert code_cells
    assert all(c.outputs == [] and c.execution_count is None for c in code_cells)
    assert notebook.metadata.kernelspec.name == "python3"
    # Already stripped: the strip script in check mode has nothing to change.
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(STRIP_SCRIPT), "--check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_strip_script_gives_back_the_committed_cells(analysis: Run, tmp_path: Path) -> None:
    executed = tmp_path / "executed.ipynb"
    nbformat.write(analysis.notebook, str(executed))
    assert "output_type" in executed.read_text(encoding="utf-8")
    # -I -S: no site-packages, so the script must do with the standard library.
    command = [sys.executable, "-I", "-S", str(STRIP_SCRIPT)]

    check = subprocess.run(
        [*command, "--check", str(executed)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 1
    assert str(executed) in check.stdout
    assert "output_type" in executed.read_text(encoding="utf-8")  # --check changes nothing

    stripped = subprocess.run(
        [*command, str(executed)], capture_output=True, text=True, check=False
    )
    assert stripped.returncode == 0, stripped.stderr
    text = executed.read_text(encoding="utf-8")
    assert "output_type" not in text
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    committed = nbformat.read(ANALYSIS, as_version=4)
    cells = [c for c in notebook.cells if c.id != KERNEL_CHECK_ID]
    assert [(c.id, c.cell_type, c.source, c.metadata) for c in cells] == [
        (c.id, c.cell_type, c.source, c.metadata) for c in committed.cells
    ]
    assert "version" not in notebook.metadata.language_info


def test_strip_script_refuses_a_file_that_is_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "notes.ipynb"
    path.write_text(json.dumps({"title": "not a notebook"}), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(STRIP_SCRIPT), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert f"error: {path} is not a notebook" in result.stderr
    assert json.loads(path.read_text(encoding="utf-8")) == {"title": "not a notebook"}


# ------------------------------------------------------------------ segments over time


@pytest.fixture(scope="module")
def over_time(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _execute(OVER_TIME, tmp_path_factory.mktemp("over-time"))


def test_over_time_drift_stops_the_pipeline_on_the_features_that_moved(over_time: Run) -> None:
    out = over_time.workdir / "over-time-output"
    drift = json.loads((out / "drift.json").read_text())
    assert drift["status"] == "red"
    assert "status red, exit code 3" in over_time.stdout("drift")
    status = {f["feature"]: f["status"] for f in drift["features"]}
    # What the notebook says moved did, and the purchase columns did not.
    for moved in ("BALANCE", "MINIMUM_PAYMENTS", "PRC_FULL_PAYMENT", "CASH_ADVANCE"):
        assert status[moved] != "green", moved
    for still in ("PURCHASES", "ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES", "PURCHASES_TRX"):
        assert status[still] == "green", still
    assert drift["segments_status"] != "green"
    assert drift["verdict"] in (out / "drift.html").read_text(encoding="utf-8")


def test_over_time_retrain_keeps_every_segment_and_migration_adds_up(over_time: Run) -> None:
    out = over_time.workdir / "over-time-output"
    q1, q2 = load_model(out / "q1" / "model.json"), load_model(out / "q2" / "model.json")
    assert q2.k == q1.k == 5 and q2.lineage is not None
    assert q2.lineage.matched == {i: i for i in range(q1.k)}
    assert q2.segment_names() == q1.segment_names()
    assert f"matched {q1.k}, new [], retired []" in over_time.stdout("lineage")

    migration = json.loads((out / "migration" / "migration.json").read_text())
    transitions = pd.read_csv(out / "migration" / "transitions.csv")
    assert int(transitions["customers"].sum()) == migration["matched"]
    assert migration["stayed"] + migration["moved"] == migration["matched"]
    printed = re.search(
        r"([\d,]+) customers, of whom ([\d,]+) new; ([\d,]+) of the first quarter's left",
        over_time.stdout("q2"),
    )
    assert printed is not None
    total, new, left = (_number(printed.group(i)) for i in (1, 2, 3))
    assert (migration["only_new"], migration["only_old"]) == (new, left)
    assert migration["matched"] == total - new == 8950 - left
    assert migration["largest_flows"][0]["to_name"] == "Revolvers"
    assert over_time.stdout("python").count(": True") == 2


# ------------------------------------------------------------------ from transaction lines


@pytest.fixture(scope="module")
def transactions(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _execute(TRANSACTIONS, tmp_path_factory.mktemp("transactions"))


def test_transactions_notebook_segments_customers_not_lines(transactions: Run) -> None:
    lines = re.search(
        r"([\d,]+) invoice lines, ([\d,]+) customer ids, ([\d,]+) guest lines",
        transactions.stdout("generate"),
    )
    assert lines is not None
    n_lines, n_ids, guests = (_number(lines.group(i)) for i in (1, 2, 3))
    rolled = transactions.stdout("rollup")
    # One row per customer, and the guest lines said to be left out.
    assert f"{n_ids:,} customers x " in rolled
    assert f"Rows left out: {guests:,} without a customer id" in rolled
    assert "read month-first" in rolled
    fitted = re.search(r"k = (\d+) segments of ([\d,]+) customers", transactions.stdout("fit"))
    assert fitted is not None and _number(fitted.group(2)) == n_ids < n_lines
    assert int(fitted.group(1)) >= 3  # the planted kinds of shoppers are told apart


def test_transactions_notebook_scores_new_lines_alike_in_sql_and_python(transactions: Run) -> None:
    printed = transactions.stdout("score-new")
    assert "-- As-of date: computed in SQL: the day after the last transaction" in printed
    match = re.search(r"agree on the segment of ([\d,]+) of ([\d,]+) customers", printed)
    assert match is not None, printed
    agree, total = _number(match.group(1)), _number(match.group(2))
    assert agree == total > 100
