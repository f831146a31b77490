"""A warehouse registered from outside custseg brings its own command-line option.

``tests/_rowcap.py`` declares ``rowcap://`` and ``row_limit``; registered before the
command line is imported, ``--row-limit`` is offered by every command that reads
data, checked, refused where it does not apply, and delivered to the query runner.
The real ``custseg.cli.main`` runs in a subprocess, where the registration happens.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from _rowcap import write_bank
from custseg.sources import read_table

_SCRIPT = (
    "import sys\n"
    "import _rowcap\n"
    "from custseg.sources.registry import register_warehouse\n"
    "register_warehouse(_rowcap.WAREHOUSE)\n"
    "from custseg.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
_TESTS = Path(__file__).resolve().parents[1]


def _custseg(*args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(_TESTS), os.environ.get("PYTHONPATH", "")])
    environment = dict(os.environ, COLUMNS="200", NO_COLOR="1", PYTHONPATH=path)
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT, *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


@pytest.fixture
def bank(tmp_path: Path) -> str:
    return f"rowcap:///{write_bank(tmp_path / 'bank.db', rows=10)}"


def test_its_option_reaches_the_query_from_the_command_line(bank: str, tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    sql = "SELECT * FROM customers ORDER BY BALANCE DESC"
    done = _custseg("extract", "--sql", sql, "-w", bank, "--row-limit", "4", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert read_table(out)["CUST_ID"].tolist() == ["C9", "C8", "C7", "C6"]
    assert "rowcap: kept 4 rows (--row-limit 4)" in done.stderr


def test_its_option_is_in_the_help_and_checked(bank: str, tmp_path: Path) -> None:
    shown = _custseg("fit", "--help")
    assert shown.returncode == 0 and "--row-limit" in shown.stdout
    assert "rowcap: keep at most this many rows of the query." in shown.stdout
    for args, message in (
        (
            ["--sql", "SELECT 1", "-w", bank, "--row-limit", "some"],
            "error: row_limit='some' (--row-limit) should be a whole number of rows, e.g. 1000",
        ),
        (
            ["--input", "c.csv", "--row-limit", "3"],
            "error: row_limit='3' (--row-limit) applies to sql queries (--sql) only, not to"
            " input='c.csv' (--input); leave it out",
        ),
        (
            ["--sql", "SELECT 1", "-w", "sqlite:///x.db", "--row-limit", "3"],
            "error: row_limit='3' (--row-limit) applies to rowcap:// warehouses only, not to"
            " sqlite:///x.db; leave it out",
        ),
    ):
        done = _custseg("fit", "--out", str(tmp_path / "fit"), *args)
        assert done.returncode == 2 and done.stderr.strip() == message, done.stderr
