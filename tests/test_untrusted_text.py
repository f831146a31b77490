"""Untrusted text stays text: a hostile table through ``custseg fit``, ``score`` and ``migrate``.

Column names and category levels written to hold Markdown, HTML, spreadsheet formulas
and bidirectional overrides reach every file custseg writes as plain text: summary.md
renders no element of their own and keeps its table rows whole, report.html escapes
them, no CSV cell starts like a formula, and no name shown to people keeps a bidi or
control character.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt

from custseg._utils.text import FORMULA_PREFIXES

HOSTILE_COLUMNS = [
    '=HYPERLINK("http://x","click")',
    "<script>alert(1)</script>",
    "a|b",
    "**bold**",
    "name\u202eevil",
    "tab\tname",
]
LEVELS = ["@SUM(A1)", "-2+3", "+cmd"]
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def hostile_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Three clear segments whose every column name and level is hostile."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    link, script, pipe, bold, bidi, tab = HOSTILE_COLUMNS
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            link: rng.gamma(2, 100, n) * (1 + 3 * (group == 0)),
            script: rng.normal(50, 10, n) + 30 * (group == 1),
            pipe: rng.normal(5, 1, n) + 3 * (group == 2),
            bold: rng.uniform(0, 1, n),
            bidi: rng.poisson(3, n) + 4 * (group == 0),
            tab: rng.normal(0, 1, n) - 2 * (group == 1),
            "cost $\\undefinedmacro{x}$": rng.normal(0, 1, n),  # not TeX in a figure
            "plan": np.array(LEVELS)[group],
        }
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory, run_cli) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    table = folder / "hostile.csv"
    hostile_table().to_csv(table, index=False)
    out = folder / "segments"
    result = run_cli(["fit", "--input", table, "--out", out, "--k", "3"])
    assert result.exit_code == 0, result.stderr
    # The tab of a column name once reached matplotlib ("Glyph 9 missing").
    assert "Glyph" not in result.stderr and "Warning" not in result.stderr, result.stderr
    return {"table": table, "out": out, "stdout": Path(folder / "stdout.txt")}


def _markdown():
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _inline_and_block_kinds(markdown: str) -> list[str]:
    tokens = _markdown().parse(markdown)
    return [t.type for t in tokens] + [c.type for t in tokens for c in t.children or []]


def _formula_cells(path: Path) -> list[str]:
    """Cells a spreadsheet would evaluate: text (not a number) starting like a formula."""
    bad = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            for cell in row:
                try:
                    float(cell)
                except ValueError:
                    if cell.startswith(FORMULA_PREFIXES):
                        bad.append(cell)
    return bad


def test_summary_renders_no_element_of_the_data_and_keeps_its_table_rows(fitted):
    markdown = (fitted["out"] / "summary.md").read_text(encoding="utf-8")
    kinds = _inline_and_block_kinds(markdown)
    assert "html_inline" not in kinds and "html_block" not in kinds
    rendered = _markdown().render(markdown)
    assert "<script" not in rendered
    # Every row of every table has as many cells as its header.
    tokens = _markdown().parse(markdown)
    widths: list[int] = []
    for token in tokens:
        if token.type == "table_open":
            widths.append(-1)
        elif token.type == "tr_open":
            widths.append(0)
        elif token.type in ("th_open", "td_open"):
            widths[-1] += 1
    assert widths.count(-1) == 1
    header, *rows = widths[1:]
    assert header == 6 and rows == [6, 6, 6]
    # The names are there, as text: escaped in the file, literal once rendered.
    text = html.unescape(rendered)
    assert "<script>alert(1)</script>" in text
    assert "a|b" in text
    assert '=HYPERLINK("http://x","click")' in text
    assert "<strong>bold</strong>" not in rendered
    assert not BIDI & set(markdown)
    assert "\t" not in markdown


def test_report_html_escapes_every_name(fitted):
    page = (fitted["out"] / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "**bold**" in page and "<strong>" not in page
    assert not BIDI & set(page)
    assert "name\u202eevil" not in page and "nameevil" in page


def test_profiles_csv_has_no_formula_and_no_bidi(fitted):
    path = fitted["out"] / "profiles.csv"
    assert _formula_cells(path) == []
    text = path.read_text(encoding="utf-8")
    assert not BIDI & set(text)
    profiles = pd.read_csv(path)
    assert '\'=HYPERLINK("http://x","click")' in set(profiles["feature"])
    # Negative numbers stay numbers.
    assert (profiles["effect_size"] < 0).any()


def test_segment_names_in_the_model_have_no_bidi_or_control_character(fitted):
    model = json.loads((fitted["out"] / "model.json").read_text(encoding="utf-8"))
    names = [segment["name"] for segment in model["segments"]]
    assert names and all(not BIDI & set(name) for name in names), names
    assert all(name.isprintable() for name in names), names


def test_migration_csvs_have_no_formula(fitted, run_cli, tmp_path):
    table = hostile_table(200, seed=1)
    table.loc[0, "customer_id"] = "=1+1"  # identifiers that look like formulas
    table.loc[1, "customer_id"] = "@cmd"
    source = tmp_path / "customers-new.parquet"
    table.to_parquet(source, index=False)
    model = fitted["out"] / "model.json"
    for name, data in (("old.parquet", fitted["table"]), ("new.parquet", source)):
        # Scored to Parquet: the format that keeps values exactly.
        result = run_cli(["score", "--model", model, "--input", data, "--out", tmp_path / name])
        assert result.exit_code == 0, result.stderr
    # Parquet keeps the values exactly: the lossless format for round trips.
    assert pd.read_parquet(tmp_path / "new.parquet")["customer_id"][0] == "=1+1"
    migration = tmp_path / "migration"
    result = run_cli(
        [
            "migrate",
            "--old",
            tmp_path / "old.parquet",
            "--new",
            tmp_path / "new.parquet",
            "--out",
            migration,
        ]
    )
    assert result.exit_code == 0, result.stderr
    for name in ("transitions.csv", "only_old.csv", "only_new.csv"):
        assert _formula_cells(migration / name) == [], name
    only_new = pd.read_csv(migration / "only_new.csv", dtype=str)
    assert {"'=1+1", "'@cmd"} <= set(only_new.iloc[:, 0])


def test_an_extracted_csv_snapshot_has_no_formula(run_cli, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            """CREATE TABLE t AS SELECT * FROM (VALUES
                ('=HYPERLINK("http://x","click")', -2.5, '@SUM(A1)'),
                ('C2', 3.0, '-2+3')) AS v(id, "-amount", plan)"""
        )
    out = tmp_path / "snapshot.csv"
    result = run_cli(
        [
            "extract",
            "--sql",
            "SELECT * FROM t",
            "--warehouse",
            f"duckdb:///{warehouse}",
            "--out",
            out,
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert _formula_cells(out) == []
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id", "'-amount", "plan"]
    assert rows[1] == ['\'=HYPERLINK("http://x","click")', "-2.5", "'@SUM(A1)"]
    assert rows[2] == ["C2", "3", "'-2+3"]  # a negative number stays a number
    parquet = tmp_path / "lossless.parquet"
    result = run_cli(
        [
            "extract",
            "--sql",
            "SELECT * FROM t",
            "--warehouse",
            f"duckdb:///{warehouse}",
            "--out",
            parquet,
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert pd.read_parquet(parquet)["plan"].tolist() == ["@SUM(A1)", "-2+3"]


def test_scored_and_rejects_csvs_have_no_formula(fitted, run_cli, tmp_path):
    table = hostile_table(200, seed=1)
    table.loc[0, "customer_id"] = "=1+1"
    table[HOSTILE_COLUMNS[1]] = table[HOSTILE_COLUMNS[1]].astype(object)
    table.loc[1, "customer_id"] = "@cmd"
    table.loc[1, HOSTILE_COLUMNS[1]] = "not a number"  # a reject
    source = tmp_path / "new.csv"
    table.to_csv(source, index=False)
    scored = tmp_path / "scored.csv"
    model = fitted["out"] / "model.json"
    result = run_cli(["score", "--model", model, "--input", source, "--out", scored])
    assert result.exit_code == 0, result.stderr
    rejects = tmp_path / "scored.csv.rejects.csv"
    assert "@cmd" in rejects.read_text(encoding="utf-8")
    assert _formula_cells(rejects) == []
    assert _formula_cells(scored) == []


def test_the_drift_report_escapes_and_cleans_every_name(fitted, run_cli, tmp_path):
    table = hostile_table(300, seed=2)
    table[HOSTILE_COLUMNS[4]] += 10  # the bidi column drifts: it gets a figure
    source = tmp_path / "later.csv"
    table.to_csv(source, index=False)
    page = tmp_path / "drift.html"
    model = fitted["out"] / "model.json"
    result = run_cli(["drift", "--model", model, "--input", source, "--report", page])
    assert result.exit_code == 0, result.stderr
    assert "Glyph" not in result.stderr
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert not BIDI & set(text)
    assert "nameevil" in text


def test_every_template_is_autoescaped_and_none_marks_text_safe():
    from custseg.report._pages import environment

    env = environment()
    names = env.list_templates()
    assert {"report.html", "drift.html", "_lineage.html"} <= set(names)
    for name in names:
        assert env.autoescape(name) is True, name
        source = env.loader.get_source(env, name)[0]
        for unsafe in ("|safe", "| safe", "autoescape false", "Markup"):
            assert unsafe not in source, (name, unsafe)


def test_warning_lines_show_names_without_bidi_characters(run_cli, tmp_path):
    # The level column reproduces the segments: the fit warns, naming the column.
    table = hostile_table().rename(columns={"plan": "pl\u202ean"})
    source = tmp_path / "hostile.csv"
    table.to_csv(source, index=False)
    result = run_cli(["fit", "--input", source, "--out", tmp_path / "out", "--no-report"])
    assert result.exit_code == 0, result.stderr
    assert "alone reproduces segment" in result.stderr
    assert not BIDI & set(result.stderr + result.stdout)
    assert "\t" not in result.stderr
