"""Fixtures shared by the whole test suite.

- ``sample_csv``: path of the bundled sample ``CC_GENERAL.csv`` (8,950 rows).
- ``sample_frame``: the sample read with :func:`custseg.sources.read_table` (a fresh
  copy per test: change it freely).
- ``sample_duckdb`` / ``sample_sqlite``: real database files in ``tmp_path`` holding
  the sample as the table ``credit_card_customers``.
- ``custseg_script``: path of the installed console script.
- ``run_cli``: runs the console script's entry point in a process of its own (forked
  from a starter that imported its libraries once, :mod:`_warm_cli`) and returns
  ``(exit_code, stdout, stderr)`` (a named tuple: ``result.exit_code`` works too).
- ``sample``: the sample read once for the session (do not change it: copy it).
- ``model`` / ``model_file``: a k = 4 model of the sample fitted once for the session,
  and the same model saved as ``model.json`` (the inference tests score with it).

Tests that need a heavy component (the console script in a subprocess, a served uvicorn,
PostgreSQL, Spark, Chromium, notebooks) are marked ``heavy`` at collection, from the
fixtures they use and the helpers their module imports: ``make check`` runs the others.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import duckdb
import pandas as pd
import pytest

from _warm_cli import WarmCli
from custseg.model import SegmentationModel, save_model
from custseg.pipeline import fit_segments
from custseg.sources import read_table, sample_path

SAMPLE_TABLE = "credit_card_customers"


class CliResult(NamedTuple):
    """What a command-line run returned."""

    exit_code: int
    stdout: str
    stderr: str


RunCli = Callable[..., CliResult]


def _console_script() -> str:
    beside_python = Path(sys.executable).with_name("custseg")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("custseg")
    if found is None:
        raise RuntimeError("the custseg console script is not installed (pip install -e .)")
    return found


@pytest.fixture(scope="session")
def sample_csv() -> Path:
    """Path of the bundled ``CC_GENERAL.csv``."""
    return sample_path()


@pytest.fixture(scope="session")
def _sample_frame_once(sample_csv: Path) -> pd.DataFrame:
    return read_table(sample_csv)


@pytest.fixture
def sample_frame(_sample_frame_once: pd.DataFrame) -> pd.DataFrame:
    """The bundled sample as a DataFrame (CUST_ID text, 17 float64 columns)."""
    return _sample_frame_once.copy()


@pytest.fixture
def sample_duckdb(tmp_path: Path, sample_csv: Path) -> Path:
    """A DuckDB database file with the sample as ``credit_card_customers``."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            f"CREATE TABLE {SAMPLE_TABLE} AS SELECT * FROM read_csv(?, header = true, "
            "types = {'CUST_ID': 'VARCHAR'})",
            [str(sample_csv)],
        )
    return path


@pytest.fixture
def sample_sqlite(tmp_path: Path, _sample_frame_once: pd.DataFrame) -> Path:
    """A SQLite database file with the sample as ``credit_card_customers``."""
    path = tmp_path / "bank.db"
    frame = _sample_frame_once
    columns = ", ".join(
        f'"{name}" {"TEXT" if name == "CUST_ID" else "REAL"}' for name in frame.columns
    )
    rows = [
        tuple(None if pd.isna(value) else value for value in row)
        for row in frame.itertuples(index=False, name=None)
    ]
    with sqlite3.connect(path) as connection:
        connection.execute(f"CREATE TABLE {SAMPLE_TABLE} ({columns})")
        placeholders = ", ".join("?" for _ in frame.columns)
        connection.executemany(f"INSERT INTO {SAMPLE_TABLE} VALUES ({placeholders})", rows)
    connection.close()
    return path


@pytest.fixture(scope="session")
def custseg_script() -> str:
    """Path of the installed ``custseg`` console script."""
    return _console_script()


@pytest.fixture(scope="session")
def run_cli(custseg_script: str) -> Iterator[RunCli]:
    """Run ``custseg ARGS...`` in its own process: ``run_cli(args, cwd=None, env=None)``.

    The process is a child of a starter that imported custseg's libraries once
    (:mod:`_warm_cli`); with ``env`` (entries added to, or with value ``None``
    removed from, the current environment) it is a fresh run of the console script.
    The terminal is 200 columns wide so that messages stay on one line.
    """
    script = custseg_script
    warm = WarmCli(_cli_environment({}))

    def run(
        args: Sequence[str],
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
        timeout: float = 120,
    ) -> CliResult:
        environment = _cli_environment(env or {})
        if env is None:
            return CliResult(
                *warm.run(args, cwd=cwd, environment=environment, input=input, timeout=timeout)
            )
        completed = subprocess.run(
            [script, *map(str, args)],
            cwd=cwd,
            env=environment,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return CliResult(completed.returncode, completed.stdout, completed.stderr)

    yield run
    warm.close()


def _cli_environment(changes: Mapping[str, str | None]) -> dict[str, str]:
    environment = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    for key, value in changes.items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return environment


@pytest.fixture(scope="session")
def sample(_sample_frame_once: pd.DataFrame) -> pd.DataFrame:
    """The bundled sample, shared by the whole session: copy it before changing it."""
    return _sample_frame_once


@pytest.fixture(scope="session")
def model(_sample_frame_once: pd.DataFrame) -> SegmentationModel:
    """A k = 4 model of the bundled sample (seed 0), fitted once for the session."""
    return fit_segments(_sample_frame_once, k=4, k_range=(4, 4), random_state=0)


@pytest.fixture(scope="session")
def model_file(model: SegmentationModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``model`` saved as ``model.json``."""
    return save_model(model, tmp_path_factory.mktemp("model") / "model.json")


# A test is heavy when it uses one of these fixtures, or when its module reaches for one of
# these components; reading the module's source once keeps the rule in one place instead of
# a marker to remember in every new test file.
_HEAVY_FIXTURES = frozenset({"run_cli", "custseg_script", "spark", "standalone_master"})
_HEAVY_WORDS = ("subprocess", "_chromium", "_serve", "_postgres", "pyspark", "nbclient")


def _heavy_module(path: Path, seen: dict[Path, bool]) -> bool:
    if path not in seen:
        text = path.read_text(encoding="utf-8")
        seen[path] = any(word in text for word in _HEAVY_WORDS)
    return seen[path]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that need a heavy component (see the module docstring)."""
    seen: dict[Path, bool] = {}
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _HEAVY_FIXTURES or _heavy_module(item.path, seen):
            item.add_marker(pytest.mark.heavy)
