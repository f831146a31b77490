"""The command line's data options: one decorator, one checked DataSource per command.

Run in-process on a small Typer app and on ``custseg.cli.main``: the options come
from the warehouse registry, ``--sql @file.sql`` is read once, every check is the
DataSource's, and its secrets join the masks of everything printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer

from custseg.cli._common import STATE
from custseg.cli._data import data_source_options, load_input
from custseg.exceptions import ConfigError, SourceError
from custseg.sources import DataSource, sample_path
from custseg.sources.bigquery import BigQueryOptions


def _run(args: list[str], *, files: bool = True) -> dict[str, Any]:
    """Run a one-command app; returns what the command received."""
    received: dict[str, Any] = {}
    app = typer.Typer()

    @app.command()
    @data_source_options(files=files)
    def command(
        out: Path = typer.Option(..., "--out"),
        *,
        source: DataSource,
        limit: int = typer.Option(3, "--limit"),
    ) -> None:
        received.update(out=out, source=source, limit=limit)

    @app.callback()
    def main() -> None:
        """Several commands: typer keeps the command's name."""

    typer.main.get_command(app).main(["command", *args], standalone_mode=False)
    return received


@pytest.fixture(autouse=True)
def _no_secrets_left() -> Any:
    yield
    STATE.secrets = ()


def test_the_command_receives_one_checked_source(tmp_path: Path) -> None:
    got = _run(["--out", "o", "--input", "c.csv", "--limit", "5"])
    assert got == {"out": Path("o"), "source": DataSource(input="c.csv"), "limit": 5}
    got = _run(
        ["--out", "o", "--sql", "SELECT 1", "-w", "bigquery://p", "--max-bytes-billed", "2GiB"]
    )
    source = got["source"]
    assert (source.sql, source.warehouse) == ("SELECT 1", "bigquery://p")
    assert source.options == BigQueryOptions(max_bytes_billed=2 * 1024**3)
    key = tmp_path / "key.json"
    got = _run(["--out", "o", "--sql", "SELECT 1", "-w", "bigquery://p", "--credentials", str(key)])
    assert got["source"].options.credentials == key


def test_sql_from_a_file_is_read_once_and_named(tmp_path: Path) -> None:
    query = tmp_path / "q.sql"
    query.write_text("\ufeffSELECT 42 AS answer", encoding="utf-8")
    source = _run(["--out", "o", "--sql", f"@{query}"])["source"]
    assert source.sql == "SELECT 42 AS answer" and source.query_file == query
    with pytest.raises(SourceError, match=r"^SQL file not found: '.*nothere.sql'; give --sql @"):
        _run(["--out", "o", "--sql", f"@{tmp_path / 'nothere.sql'}"])
    # With --input as well, the two sources are refused before any file is read.
    with pytest.raises(ConfigError, match="^both input and sql given"):
        _run(["--out", "o", "--input", "c.csv", "--sql", f"@{tmp_path / 'nothere.sql'}"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            [],
            r"^neither input nor sql given; give exactly one: input='customers.csv' "
            r"\(--input\) or sql='SELECT \.\.\.' \(--sql\)$",
        ),
        (["--input", "c.csv", "--sql", "SELECT 1"], r"^both input and sql given"),
        (
            ["--input", "c.csv", "--warehouse", "sqlite:///x.db"],
            r"^warehouse='sqlite:///x.db' \(--warehouse\) applies to sql queries \(--sql\) "
            r"only, not to input='c.csv' \(--input\); leave it out$",
        ),
        (
            ["--input", "c.csv", "--max-bytes-billed", "1GB"],
            r"^max_bytes_billed='1GB' \(--max-bytes-billed\) applies to sql queries \(--sql\)",
        ),
        (
            ["--sql", "SELECT 1", "-w", "bigquery://p", "--max-bytes-billed", "lots"],
            r"^max_bytes_billed='lots' \(--max-bytes-billed\) is not a size; write bytes",
        ),
        (
            ["--sql", "SELECT 1", "-w", "sqlite:///x.db", "--credentials", "k.json"],
            r"^credentials='k.json' \(--credentials\) applies to bigquery:// warehouses only",
        ),
    ],
)
def test_every_check_is_the_data_sources(args: list[str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        _run(["--out", "o", *args])


def test_a_command_of_queries_only_requires_sql() -> None:
    assert _run(["--out", "o", "--sql", "SELECT 1"], files=False)["source"].sql == "SELECT 1"
    # Usage errors, as the command line prints them (exit code 2).
    with pytest.raises(Exception) as missing:  # noqa: B017 - typer's own copy of click's class
        _run(["--out", "o"], files=False)
    assert missing.value.format_message() == "Missing option '--sql'."  # type: ignore[attr-defined]
    with pytest.raises(Exception) as unknown:  # noqa: B017
        _run(["--out", "o", "--input", "c.csv"], files=False)
    assert unknown.value.format_message().startswith("No such option: --input")  # type: ignore[attr-defined]


def test_the_secrets_of_the_source_join_the_masks() -> None:
    _run(["--out", "o", "--sql", "SELECT 1", "-w", "postgresql://ana:s3cr3t@h/db"])
    assert STATE.secrets == ("s3cr3t",)


def test_load_input_reads_a_file_or_a_query(sample_frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(load_input(DataSource(input=sample_path())), sample_frame)
    query = DataSource(sql="SELECT * FROM credit_card_customers")
    pd.testing.assert_frame_equal(load_input(query), sample_frame)
