"""A table wider than the column limit is refused from its header, before it is read.

A 1.7 MB CSV of 5 rows and 100,001 columns once made ``custseg fit`` grow past 1.3 GB
for minutes. The limit (``max_columns``, ``--max-columns``) is checked on the CSV
header or the Parquet schema, so no wide data is parsed; below it a file reads as always.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from custseg.config import DEFAULT_MAX_COLUMNS, FitConfig, load_config
from custseg.exceptions import ConfigError, SourceError
from custseg.sources import (
    DataSource,
    extract,
    iter_table,
    load_data,
    read_table,
    table_row_count,
)


def _wide_csv(path: Path, n_columns: int, rows: list[str] | None = None) -> Path:
    header = ",".join(f"c{i}" for i in range(n_columns))
    body = rows if rows is not None else [",".join(["1"] * n_columns)] * 5
    path.write_text("\n".join([header, *body]) + "\n")
    return path


def _wide_parquet(path: Path, n_columns: int, n_rows: int = 3) -> Path:
    values = pa.array(np.arange(n_rows, dtype=np.float64))
    pq.write_table(pa.table([values] * n_columns, names=[f"c{i}" for i in range(n_columns)]), path)
    return path


def _refusal(n: int, limit: int) -> str:
    return rf"has {n:,} columns, more than the limit of {limit:,}; .*--max-columns {n}\b"


def test_the_default_limit_is_in_the_thousands() -> None:
    assert 1_000 <= DEFAULT_MAX_COLUMNS < 10_000
    assert FitConfig().max_columns == DEFAULT_MAX_COLUMNS


def test_a_wide_csv_is_refused_from_its_header_alone(tmp_path: Path) -> None:
    # The rows do not even match the header: the width decides before any row is parsed.
    path = _wide_csv(tmp_path / "wide.csv", 101, rows=["1,2", "x"])
    with pytest.raises(SourceError, match=_refusal(101, 100)) as caught:
        read_table(path, max_columns=100)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)
    with pytest.raises(SourceError, match=_refusal(101, 100)):
        next(iter_table(path, max_columns=100))


def test_a_csv_at_the_limit_reads_whole(tmp_path: Path) -> None:
    path = _wide_csv(tmp_path / "wide.csv", 101)
    assert read_table(path, max_columns=101).shape == (5, 101)
    assert sum(len(chunk) for chunk in iter_table(path, chunk_size=2, max_columns=101)) == 5
    assert read_table(path, max_columns=None).shape == (5, 101)  # no limit
    # Counting rows reads one column: it has no limit to pass.
    assert table_row_count(_wide_csv(tmp_path / "wider.csv", 20_001)) == 5


def test_a_wide_parquet_file_is_refused_from_its_footer(tmp_path: Path) -> None:
    path = _wide_parquet(tmp_path / "wide.parquet", 101)
    with pytest.raises(SourceError, match=_refusal(101, 100)):
        read_table(path, max_columns=100)
    with pytest.raises(SourceError, match=_refusal(101, 100)):
        next(iter_table(path, max_columns=100))
    assert read_table(path, max_columns=101).shape == (3, 101)
    assert sum(len(chunk) for chunk in iter_table(path, max_columns=101)) == 3


def test_the_parquet_width_is_read_from_the_footer_bytes(tmp_path: Path) -> None:
    from custseg.sources.files import _parquet_width

    for n_columns in (1, 14, 15, 16, 300):
        path = _wide_parquet(tmp_path / f"w{n_columns}.parquet", n_columns)
        assert _parquet_width(path) == n_columns
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"id": ["a"], "address": [{"city": "Oslo", "zip": 150}]}), nested)
    assert _parquet_width(nested) == 4  # two columns, one a group of two
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(b"PAR1" + b"\xff" * 40 + b"PAR1")
    assert _parquet_width(damaged) is None  # then pyarrow reads it and names the problem
    with pytest.raises(SourceError, match="as Parquet"):
        read_table(damaged)


def test_a_wide_query_result_is_refused() -> None:
    with pytest.raises(SourceError, match=r"the query result " + _refusal(3, 2)):
        extract("SELECT 1 AS a, 2 AS b, 3 AS c", max_columns=2)
    assert extract("SELECT 1 AS a, 2 AS b, 3 AS c", max_columns=3).frame.shape == (1, 3)


def test_load_data_passes_the_limit_on(tmp_path: Path, sample_csv: Path) -> None:
    with pytest.raises(SourceError, match=_refusal(18, 17)):
        load_data(DataSource(input=sample_csv), max_columns=17)
    with pytest.raises(SourceError, match=_refusal(18, 17)):
        load_data(DataSource(sql="SELECT * FROM credit_card_customers"), max_columns=17)
    assert load_data(DataSource(input=sample_csv), max_columns=18).shape == (8950, 18)


@pytest.mark.parametrize("value", [0, -1, True, 2.5, "100"])
def test_the_limit_is_a_positive_integer(tmp_path: Path, value: object) -> None:
    path = _wide_csv(tmp_path / "w.csv", 3)
    with pytest.raises(
        ConfigError, match=r"max_columns=.* \(--max-columns\) should be an integer >= 1"
    ):
        read_table(path, max_columns=value)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"max_columns=.* should be an integer >= 1"):
        FitConfig(max_columns=value)  # type: ignore[arg-type]


def test_the_limit_is_a_fit_setting_in_toml(tmp_path: Path) -> None:
    config = tmp_path / "fit.toml"
    config.write_text("[fit]\nmax_columns = 20000\n")
    assert load_config(config).max_columns == 20_000
    assert FitConfig().with_overrides(max_columns=12).max_columns == 12


# ---------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def hostile_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reported file: 5 rows x 100,001 columns, 1.7 MB."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("wide") / "wide.csv"
    header = ",".join(f"c{i}" for i in range(100_001))
    rows = [",".join(map(str, rng.integers(0, 9, 100_001))) for _ in range(5)]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _one_line_refusal(result, n: int, limit: int) -> None:
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"has {n:,} columns, more than the limit of {limit:,}" in lines[0]
    assert f"--max-columns {n}" in lines[0]


def test_fit_score_and_drift_refuse_the_reported_file(
    hostile_csv: Path, model_file: Path, tmp_path: Path, run_cli
) -> None:
    for args in (
        ["fit", "--input", hostile_csv, "--out", tmp_path / "seg"],
        ["fit", "--input", hostile_csv, "--out", tmp_path / "seg", "--engine", "stream"],
        ["score", "--model", model_file, "--input", hostile_csv, "--out", tmp_path / "s.csv"],
        ["drift", "--model", model_file, "--input", hostile_csv],
    ):
        _one_line_refusal(run_cli(args, timeout=60), 100_001, DEFAULT_MAX_COLUMNS)
    assert not (tmp_path / "seg").exists() and not (tmp_path / "s.csv").exists()


def test_a_wide_parquet_file_is_refused_by_fit_and_score(
    tmp_path: Path, model_file: Path, run_cli
) -> None:
    path = _wide_parquet(tmp_path / "wide.parquet", DEFAULT_MAX_COLUMNS + 1)
    n = DEFAULT_MAX_COLUMNS + 1
    _one_line_refusal(
        run_cli(["fit", "--input", path, "--out", tmp_path / "seg"]), n, DEFAULT_MAX_COLUMNS
    )
    _one_line_refusal(
        run_cli(["score", "--model", model_file, "--input", path, "--out", tmp_path / "s.csv"]),
        n,
        DEFAULT_MAX_COLUMNS,
    )


def test_every_reading_command_takes_max_columns(
    tmp_path: Path, sample_csv: Path, model_file: Path, run_cli
) -> None:
    config = tmp_path / "fit.toml"
    config.write_text("[fit]\nmax_columns = 10\n")
    query = "SELECT * FROM credit_card_customers"
    limit = ["--max-columns", "10"]
    scored = ["--out", tmp_path / "s.csv"]
    for args in (
        ["fit", "--input", sample_csv, "--out", tmp_path / "a", *limit],
        ["fit", "--input", sample_csv, "--out", tmp_path / "b", "--config", config],
        ["fit", "--sql", query, "--out", tmp_path / "c", *limit],
        ["fit", "--input", sample_csv, "--out", tmp_path / "d", "--engine", "stream", *limit],
        ["score", "--model", model_file, "--input", sample_csv, *scored, *limit],
        ["score", "--model", model_file, "--sql", query, *scored, *limit],
        ["drift", "--model", model_file, "--input", sample_csv, *limit],
        ["extract", "--sql", query, "--out", tmp_path / "x.csv", *limit],
    ):
        _one_line_refusal(run_cli(args), 18, 10)
    # The option raises the limit as well as lowering it.
    ok = run_cli(["drift", "--model", model_file, "--input", sample_csv, "--max-columns", "18"])
    assert ok.exit_code in (0, 3), ok.stderr


def test_the_engine_choice_checks_the_width_before_counting_rows(tmp_path: Path) -> None:
    from custseg.engines import auto_engine

    # Counting these rows would fail (they do not match the header): the width decides first.
    path = _wide_csv(tmp_path / "wide.csv", 101, rows=["1,2", "x"])
    with pytest.raises(SourceError, match=_refusal(101, 100)):
        auto_engine("auto", path, max_columns=100)
    with pytest.raises(SourceError, match=_refusal(101, 100)):
        table_row_count(_wide_parquet(tmp_path / "wide.parquet", 101), max_columns=100)


def test_wide_rows_are_read_in_blocks_of_hundreds_of_rows(tmp_path: Path) -> None:
    # 1 MB blocks held 70 rows of 2,000 columns: 29 arrays per column. Blocks now grow
    # with the rows' width, so a column comes in a few arrays (memory and time halve).
    from custseg.sources._csv import read_csv, sniff_csv, stream_csv

    rng = np.random.default_rng(0)
    values = rng.gamma(2.0, 50.0, size=(2000, 2000)).round(2)
    path = tmp_path / "wide.csv"
    header = ",".join(f"f{i}" for i in range(2000))
    lines = [header, *(",".join(map(str, row)) for row in values)]
    path.write_text("\n".join(lines) + "\n")
    layout = sniff_csv(path)
    table = read_csv(layout, None)
    assert table.column(0).num_chunks <= 4
    np.testing.assert_array_equal(table.column(1999).to_numpy(), values[:, 1999])
    chunks = list(stream_csv(layout, None, chunk_size=1000))
    assert [len(chunk) for chunk in chunks] == [1000, 1000]
    assert max(chunk.column(0).num_chunks for chunk in chunks) <= 20  # was 56


def test_a_file_of_a_million_columns_is_refused_from_a_bounded_head(tmp_path: Path) -> None:
    # 60 rows of 1,000,001 columns (128 MB): the head stops after the header and a row,
    # and the delimiter is sniffed from two rows, not fifty.
    from custseg.sources._csv import _head_text

    path = tmp_path / "wider.csv"
    row = ",".join(["1"] * 1_000_001)
    with path.open("w") as handle:
        handle.write(",".join(f"c{i}" for i in range(1_000_001)) + "\n")
        for _ in range(60):
            handle.write(row + "\n")
    head = _head_text(path)
    assert len(head) < 0.2 * path.stat().st_size and head.count("\n") >= 2
    with pytest.raises(SourceError, match=_refusal(1_000_001, DEFAULT_MAX_COLUMNS)):
        read_table(path)
