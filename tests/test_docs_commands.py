"""Every offline ``custseg`` command of README.md and docs/*.md runs as written.

The commands are read from the shell blocks of the Markdown files (lines starting with
``custseg`` or ``VAR=value custseg``, backslash continuations joined, comments
dropped) and run in order, one temporary folder per file, with the files they read
prepared from the bundled sample (customers.csv, new.parquet, bank.db, fit.toml...).
Commands run in process through :func:`custseg.cli.main`, the console script's entry
point, except ``custseg serve``, which runs as a real server until it answers
``/healthz`` (on a free port instead of the documented one, which may be taken).

Commands that need a network service are skipped by design, each listed in
:data:`SKIPPED_BY_DESIGN` with its reason; an entry that no longer matches a documented
command fails the test, so the list cannot hide anything. A full command (one with
``--out``) may not hide in running text: it must sit in a shell block to be run here.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from _transactions import retail_lines
from custseg.cli import main
from custseg.config import FitConfig, PrepConfig, load_config
from custseg.model import SegmentationModel, save_model
from custseg.scoring import score_customers

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console", ""}
COMMAND = re.compile(r"^(?:[A-Z_]+=\S+\s+)*custseg\s")

SKIPPED_BY_DESIGN = {
    "--warehouse bigquery://": "needs Google BigQuery over the network (tests/sources "
    "test BigQuery through its one test double)",
    "--warehouse postgresql://": "needs a PostgreSQL server at the documented host",
    "hdfs:///": "needs HDFS and a Spark cluster at the documented host (tests/spark run "
    "Spark in local mode and a real standalone master and worker on 127.0.0.1)",
}
"""Substring of a documented command -> why it is not run here."""

SAMPLE_QUERY = "SELECT * FROM credit_card_customers"


def _blocks(text: str) -> tuple[list[str], str]:
    """The shell code blocks of a Markdown text, and the text outside every block."""
    shell: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if fence is None and line.startswith("```"):
            fence = line[3:].strip()
            lines = []
        elif fence is not None and line.strip() == "```":
            if fence in SHELL_LANGUAGES:
                shell.append("\n".join(lines))
            fence = None
        elif fence is not None:
            lines.append(line)
        else:
            prose.append(line)
    return shell, "\n".join(prose)


def documented_commands(path: Path) -> list[str]:
    """The ``custseg`` commands of the shell blocks of a Markdown file, in order."""
    commands = []
    for block in _blocks(path.read_text(encoding="utf-8"))[0]:
        for line in block.replace("\\\n", " ").splitlines():
            if COMMAND.match(line.strip()):
                words = shlex.split(line, comments=True)
                commands.append(shlex.join(words))
    return commands


def _skip_reason(command: str) -> str | None:
    return next((why for key, why in SKIPPED_BY_DESIGN.items() if key in command), None)


def _run_in_process(command: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    words = shlex.split(command)
    env = {}
    while "=" in words[0]:
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    assert words[0] == "custseg"
    capsys.readouterr()
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        code = main(words[1:])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    out, err = capsys.readouterr()
    return code, out, err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(command: str, folder: Path) -> None:
    """Run ``custseg serve`` for real until it answers /healthz, then stop it."""
    words = shlex.split(command)
    env = dict(os.environ)
    while "=" in words[0]:
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    port = _free_port()
    at = words.index("--port")
    words[at + 1] = str(port)
    script = Path(sys.executable).with_name("custseg")
    process = subprocess.Popen(
        [str(script), *words[1:]],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    _, err = process.communicate(timeout=5)
                    raise AssertionError(f"{command} did not serve: {err}") from None
                time.sleep(0.2)
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.fixture
def prepared(tmp_path: Path, sample: pd.DataFrame, model: SegmentationModel) -> Path:
    """A folder with every file the documented commands read."""
    small = sample.sample(n=2_000, random_state=0).reset_index(drop=True)
    sample.to_csv(tmp_path / "customers.csv", index=False)
    sample.to_parquet(tmp_path / "customers.parquet", index=False)
    sample.to_parquet(tmp_path / "cards_2024.parquet", index=False)
    sample.to_parquet(tmp_path / "big.parquet", index=False)  # streamed all the same
    small.to_csv(tmp_path / "new.csv", index=False)
    small.to_parquet(tmp_path / "new.parquet", index=False)
    small.to_parquet(tmp_path / "new_month.parquet", index=False)
    for name in ("query.sql", "customers.sql"):
        (tmp_path / name).write_text(SAMPLE_QUERY + "\n", encoding="utf-8")
    (tmp_path / "fit.toml").write_text(_configuration_example(), encoding="utf-8")
    with sqlite3.connect(tmp_path / "bank.db") as connection:
        sample.to_sql("credit_card_customers", connection, index=False)
    connection.close()
    with duckdb.connect(str(tmp_path / "bank.duckdb")) as connection:
        connection.register("sample_frame", sample)
        connection.execute("CREATE TABLE customers AS SELECT * FROM sample_frame")
    save_model(model, tmp_path / "segments" / "model.json")
    # Transactions (docs/transactions.md): invoice lines shaped like Online Retail.
    retail_lines(n_customers=200, guests=10)[0].to_csv(tmp_path / "invoices.csv", index=False)
    # Over time (README, docs/time.md): a later month or quarter of the same customers,
    # the model of the previous quarter and the scored files of two months.
    later = sample.sample(n=3_000, random_state=1).reset_index(drop=True)
    later.to_parquet(tmp_path / "june.parquet", index=False)
    later.to_csv(tmp_path / "customers-june.csv", index=False)
    later.to_parquet(tmp_path / "customers-q2.parquet", index=False)
    save_model(model, tmp_path / "q1" / "model.json")
    scored = score_customers(model, sample).scored
    scored.to_parquet(tmp_path / "q1" / "scored.parquet", index=False)
    scored.to_parquet(tmp_path / "scored-may.parquet", index=False)
    score_customers(model, later).scored.to_parquet(tmp_path / "scored-june.parquet", index=False)
    return tmp_path


def _configuration_example() -> str:
    """The fit.toml of docs/configuration.md."""
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(# fit\.toml\n.*?)```", text, re.DOTALL)
    assert block, "docs/configuration.md has no fit.toml example"
    return block.group(1)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_documented_commands_run_as_written(
    document: Path,
    prepared: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    commands = documented_commands(document)
    monkeypatch.chdir(prepared)
    monkeypatch.setenv("COLUMNS", "200")
    for command in commands:
        if _skip_reason(command):
            continue
        if " serve " in f"{command} ":
            _serve(command, prepared)
            continue
        code, out, err = _run_in_process(command, capsys)
        assert code == 0, f"{document.name}: {command}\n{err}"
        if "--json" in command.split():
            json.loads(out)  # --json prints one JSON document and nothing else
        for option in ("--out", "-o"):
            words = command.split()
            if option in words:
                assert (prepared / words[words.index(option) + 1]).exists(), command


def test_the_documents_hold_the_commands_users_copy() -> None:
    found = {d.name: documented_commands(d) for d in DOCUMENTS}
    assert len(found["README.md"]) >= 10
    for name in ("extract.md", "inference.md", "report.md", "configuration.md"):
        assert found[name], name
    every = [c for commands in found.values() for c in commands]
    # Every skipped-by-design entry still matches a documented command.
    for key in SKIPPED_BY_DESIGN:
        assert any(key in c for c in every), key
    assert sum(1 for c in every if _skip_reason(c)) <= 9


def test_no_full_command_hides_in_running_text() -> None:
    for document in DOCUMENTS:
        text = _blocks(document.read_text(encoding="utf-8"))[1]
        spans = re.findall(r"`(custseg [^`]+)`", text)
        full = [s for s in spans if re.search(r"\s(--out|-o)\s", s)]
        assert full == [], document.name


def test_the_readme_python_example_runs_as_written(
    prepared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The Python API") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code and "custseg.extract(" in code.group(1)
    monkeypatch.chdir(prepared)
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), "README.md", "exec"), namespace)
    scored = namespace["scored"]
    assert len(scored.scored) + len(scored.rejects) == 2_000  # type: ignore[attr-defined]
    assert (prepared / "segments" / "report.html").exists()


def test_the_configuration_format_documents_every_setting(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    fit_part, prep_part = text.split("## `[preparation]`")
    documented_fit = set(re.findall(r"^\| `(\w+)` \|", fit_part, re.MULTILINE))
    documented_prep = set(re.findall(r"^\| `(\w+)` \|", prep_part, re.MULTILINE))
    assert documented_fit == {f.name for f in dataclasses.fields(FitConfig)} - {"preparation"}
    assert documented_prep == {f.name for f in dataclasses.fields(PrepConfig)}
    path = tmp_path / "fit.toml"
    path.write_text(_configuration_example(), encoding="utf-8")
    config = load_config(path)
    assert config.k_range == (3, 8) and config.exclude == ("TENURE",)
    assert config.preparation.skew == "yeo-johnson" and config.preparation.winsorize == 0.01
