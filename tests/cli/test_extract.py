"""``custseg extract`` end to end: the real console script on real databases.

BigQuery runs that need a client are driven in-process through ``custseg.cli.main``
with the fake client (the project's one test double) put in place of the real one.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from custseg.cli import main
from custseg.sources import bigquery as bigquery_source
from custseg.sources import read_table

TWELVE = "SELECT * FROM credit_card_customers WHERE TENURE = 12"


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_embedded_extract_writes_snapshot_and_manifest(
    run_cli: Any, tmp_path: Path, sample_frame: pd.DataFrame
) -> None:
    out = tmp_path / "out" / "customers.csv"
    code, stdout, stderr = run_cli(["extract", "--sql", TWELVE, "--out", out])
    assert code == 0, stderr
    expected = sample_frame[sample_frame["TENURE"] == 12].reset_index(drop=True)
    pd.testing.assert_frame_equal(read_table(out), expected)
    manifest = json.loads((tmp_path / "out" / "customers.manifest.json").read_text("utf-8"))
    assert manifest["rows"] == len(expected) and manifest["query"] == TWELVE
    assert manifest["warehouse"].startswith("embedded DuckDB")
    assert stdout == ""
    assert f"Wrote {len(expected):,} rows x 18 columns" in stderr


def test_json_prints_the_manifest(run_cli: Any, tmp_path: Path, sample_duckdb: Path) -> None:
    out = tmp_path / "c.parquet"
    sql = "SELECT CUST_ID, BALANCE FROM credit_card_customers WHERE BALANCE > 5000"
    code, stdout, stderr = run_cli(
        [
            "extract",
            "--sql",
            sql,
            "--warehouse",
            f"duckdb:///{sample_duckdb}",
            "--out",
            out,
            "--json",
        ]
    )
    assert code == 0, stderr
    printed = json.loads(stdout)
    assert printed == json.loads((tmp_path / "c.manifest.json").read_text("utf-8"))
    assert printed["file_format"] == "parquet" and printed["source_kind"] == "duckdb"
    assert [c["name"] for c in printed["schema"]] == ["CUST_ID", "BALANCE"]
    assert (read_table(out)["BALANCE"] > 5000).all()


def test_sqlite_password_is_masked_everywhere(
    run_cli: Any, tmp_path: Path, sample_sqlite: Path
) -> None:
    out = tmp_path / "c.csv"
    url = f"sqlite://ana:s3cret@/{sample_sqlite}"
    code, stdout, stderr = run_cli(
        [
            "extract",
            "--sql",
            "SELECT * FROM credit_card_customers",
            "--warehouse",
            url,
            "--out",
            out,
            "--json",
        ]
    )
    assert code == 0, stderr
    manifest_text = (tmp_path / "c.manifest.json").read_text("utf-8")
    assert json.loads(manifest_text)["warehouse"] == f"sqlite://ana:***@/{sample_sqlite}"
    assert all("s3cret" not in text for text in (stdout, stderr, manifest_text))


def test_query_from_a_file(run_cli: Any, tmp_path: Path) -> None:
    query = tmp_path / "q.sql"
    query.write_text(
        "-- customers with a cash advance\nSELECT CUST_ID FROM credit_card_customers\n"
        "WHERE CASH_ADVANCE > 0\n",
        encoding="utf-8",
    )
    out = tmp_path / "c.csv"
    code, _, stderr = run_cli(["extract", "--sql", f"@{query}", "--out", out, "--json"])
    assert code == 0, stderr
    assert json.loads((tmp_path / "c.manifest.json").read_text("utf-8"))[
        "query"
    ] == query.read_text("utf-8")


ERRORS = {
    "unknown scheme": (["--warehouse", "foo://host/db"], r"unknown warehouse scheme 'foo'"),
    "missing DuckDB file": (
        ["--warehouse", "duckdb:///{tmp}/nope.duckdb"],
        r"DuckDB database not found",
    ),
    "missing SQLite file": (
        ["--warehouse", "sqlite:///{tmp}/nope.db"],
        r"SQLite database not found",
    ),
    "missing SQL file": (["--sql", "@{tmp}/nope.sql"], r"SQL file not found"),
    "missing key file": (
        ["--warehouse", "bigquery://p", "--credentials", "{tmp}/nokey.json"],
        r"credentials file not found",
    ),
    "wrong extension": (["--out", "{tmp}/out/c.xlsx"], r"unsupported extension '\.xlsx'"),
    "empty result": (
        ["--sql", "SELECT * FROM credit_card_customers WHERE TENURE > 99"],
        r"returned no rows",
    ),
    "DuckDB syntax": (["--sql", "SELEC 1"], r"SQL syntax error: .*SELEC"),
    "SQLite syntax": (
        ["--sql", "SELEC 1", "--warehouse", "{sqlite}"],
        r'SQL syntax error: near "SELEC"',
    ),
    "DuckDB unknown table": (["--sql", "SELECT * FROM cards"], r"unknown table or object: .*cards"),
    "SQLite unknown table": (
        ["--sql", "SELECT * FROM cards", "--warehouse", "{sqlite}"],
        r"unknown table: no such table",
    ),
    "bad byte limit": (
        ["--warehouse", "bigquery://p", "--max-bytes-billed", "lots"],
        r"^error: max_bytes_billed='lots' \(--max-bytes-billed\) is not a size; write bytes",
    ),
    "byte limit elsewhere": (
        ["--max-bytes-billed", "10GB"],
        r"^error: max_bytes_billed='10GB' \(--max-bytes-billed\) applies to bigquery:// "
        r"warehouses only, not to embedded DuckDB",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_one_line_exit_2_and_leave_no_file(
    run_cli: Any, tmp_path: Path, sample_sqlite: Path, case: str
) -> None:
    extra, expected = ERRORS[case]
    places = {"tmp": str(tmp_path), "sqlite": f"sqlite:///{sample_sqlite}"}
    out_dir = tmp_path / "out"
    args = ["extract", "--sql", "SELECT * FROM credit_card_customers", "--out", out_dir / "c.csv"]
    code, stdout, stderr = run_cli([*args, *(arg.format(**places) for arg in extra)])
    assert code == 2, stderr
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert re.search(expected, lines[0]), stderr
    assert "Traceback" not in stderr
    assert _files(out_dir) == []


def test_verbose_shows_the_traceback(run_cli: Any, tmp_path: Path) -> None:
    code, _, stderr = run_cli(
        ["--verbose", "extract", "--sql", "SELEC 1", "--out", tmp_path / "c.csv"]
    )
    assert code == 2
    assert "Traceback" in stderr and "error: SQL syntax error" in stderr


def test_missing_bigquery_credentials_with_the_real_client(run_cli: Any, tmp_path: Path) -> None:
    # No key, no gcloud configuration, no metadata server: Application Default
    # Credentials cannot be found, and google-auth says so without the network.
    env = {
        "GOOGLE_APPLICATION_CREDENTIALS": None,
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "NO_GCE_CHECK": "true",
        "GCE_METADATA_HOST": "127.0.0.1:9",
        "GCE_METADATA_IP": "127.0.0.1:9",
    }
    out = tmp_path / "out" / "c.csv"
    code, stdout, stderr = run_cli(
        ["extract", "--sql", "SELECT 1", "--warehouse", "bigquery://my-project", "--out", out],
        env=env,
    )
    assert code == 2, stderr
    assert stderr.startswith("error: no Google credentials found")
    assert "gcloud auth application-default login" in stderr and "--credentials" in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert _files(out.parent) == []


# ------------------------------------------------------------- BigQuery, in process


class _Job:
    def __init__(self, total_bytes_processed: int, table: pa.Table | None) -> None:
        self.total_bytes_processed = total_bytes_processed
        self.table = table

    def result(self) -> _Job:
        return self

    @property
    def total_rows(self) -> int:
        return 0 if self.table is None else self.table.num_rows

    def to_arrow(self, **_: Any) -> pa.Table:
        assert self.table is not None
        return self.table


class _Client:
    def __init__(self, estimate: int) -> None:
        self.estimate = estimate
        self.configs: list[Any] = []

    def query(self, sql: str, job_config: Any = None, location: str | None = None) -> _Job:
        self.configs.append(job_config)
        table = None if job_config.dry_run else pa.table({"CUST_ID": ["C1"], "BALANCE": [2.5]})
        return _Job(self.estimate, table)


def _use_fake_client(monkeypatch: pytest.MonkeyPatch, estimate: int) -> _Client:
    client = _Client(estimate)
    monkeypatch.setattr(bigquery_source, "default_client_factory", lambda project, creds: client)
    return client


def test_bigquery_over_the_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    client = _use_fake_client(monkeypatch, estimate=20_000_000_000)
    out = tmp_path / "out" / "c.parquet"
    code = main(
        [
            "extract",
            "--sql",
            "SELECT * FROM t",
            "--warehouse",
            "bigquery://p",
            "--max-bytes-billed",
            "10GB",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: the query would process 20,000,000,000 bytes (18.6 GiB), above "
        "max_bytes_billed=10000000000 (9.3 GiB); select fewer columns, filter on partitions, "
        "or raise the limit"
    ]
    assert "BigQuery dry run: the query will process 20,000,000,000 bytes" in captured.err
    assert "Traceback" not in captured.err
    assert [config.dry_run for config in client.configs] == [True]
    assert _files(out.parent) == []


def test_bigquery_under_the_limit_writes_the_snapshot(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    client = _use_fake_client(monkeypatch, estimate=1_500)
    out = tmp_path / "c.csv"
    code = main(
        [
            "extract",
            "--sql",
            "SELECT * FROM t",
            "--warehouse",
            "bigquery://p/cards",
            "--max-bytes-billed",
            "2GiB",
            "--out",
            str(out),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    manifest = json.loads(captured.out)
    assert manifest["warehouse"] == "bigquery://p/cards" and manifest["bytes_processed"] == 1_500
    assert client.configs[1].maximum_bytes_billed == 2 * 1024**3
    assert read_table(out)["CUST_ID"].tolist() == ["C1"]


# ---------------------------------------------------------------- help and progress


def test_help_shows_examples(run_cli: Any) -> None:
    code, stdout, _ = run_cli(["extract", "--help"])
    assert code == 0
    assert "custseg extract --sql" in stdout and "--max-bytes-billed 10GB" in stdout
    assert "bigquery://PROJECT[/DATASET]" in stdout


def test_command_line_loads_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "import custseg.cli\n"
        "heavy = ('pandas', 'pyarrow', 'duckdb', 'sqlalchemy', 'google.cloud.bigquery')\n"
        "print([name for name in heavy if name in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_progress_shows_on_a_terminal(tmp_path: Path, custseg_script: str) -> None:
    leader, follower = pty.openpty()
    env = dict(os.environ, COLUMNS="120", TERM="xterm")
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [
            custseg_script,
            "extract",
            "--sql",
            "SELECT * FROM credit_card_customers",
            "--out",
            str(tmp_path / "c.csv"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the command ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=120) == 0
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "Fetching rows" in shown and "Writing c.csv" in shown
    assert "8950/8950" in shown
