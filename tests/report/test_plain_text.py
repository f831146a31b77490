"""Everything custseg writes for people reads as plain text, on tables like the public ones.

- no numpy repr (``np.float64(3.0)``, ``dtype('float64')``) in the page, ``summary.md``,
  the files of ``custseg fit`` or what it prints: the attrition table carries a trap,
  a constant numeric column, whose role reason quotes its value;
- the preparation decisions list only what the chosen playbook derives: a telecom or
  a mall table names no credit-card feature (MONTHLY_AVG_PURCHASES, CASH_ADVANCE...),
  a card table still lists the card features it derives or cannot derive.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from _realistic import attrition_table, mall_table, telco_table
from custseg.cli import main
from custseg.config import FitConfig
from custseg.pipeline import fit_segments
from custseg.prepare.recipes import CREDIT_CARD_RECIPE
from custseg.report import build_report_data, render_report

NUMPY_REPR = re.compile(r"\bnp\.[a-z_]+[0-9]*\(|\bdtype\(|\bnumpy\.[a-z_]+[0-9]*\(")
CARD_COLUMNS = {spec.name for spec in CREDIT_CARD_RECIPE} | {
    column for spec in CREDIT_CARD_RECIPE for column in spec.source_columns()
}


def _attrition_with_a_constant() -> pd.DataFrame:
    frame, _ = attrition_table(n=900, seed=3)
    frame["Annual_Fee"] = 3.0  # constant: its role's reason quotes the value
    return frame


TABLES = {
    "attrition": _attrition_with_a_constant,
    "telco": lambda: telco_table(n=900, seed=3)[0],
    "mall": lambda: mall_table(n=200, seed=3)[0],
}


@pytest.fixture(scope="module", params=sorted(TABLES))
def rendered(request: pytest.FixtureRequest) -> tuple[str, dict, object]:
    frame = TABLES[request.param]()
    config = FitConfig(k_range=(2, 4), n_init=1, n_resamples=2, random_state=0)
    model = fit_segments(frame, config=config)
    data = build_report_data(model, frame)
    return request.param, data, render_report(data)


def test_page_and_summary_hold_no_numpy_repr(rendered: tuple[str, dict, object]) -> None:
    name, _, report = rendered
    for text in (report.html, report.summary_markdown):  # type: ignore[attr-defined]
        found = [text[max(0, m.start() - 60) : m.end() + 20] for m in NUMPY_REPR.finditer(text)]
        assert found == [], (name, found)


def test_a_constant_column_is_quoted_as_a_plain_number(
    rendered: tuple[str, dict, object],
) -> None:
    name, data, _ = rendered
    if name != "attrition":
        pytest.skip("the constant column is planted in the attrition table")
    (row,) = [c for c in data["columns"] if c["name"] == "Annual_Fee"]
    assert row["reason"] == "constant: every value is 3.0"


def test_non_card_tables_list_no_card_feature_among_the_decisions(
    rendered: tuple[str, dict, object],
) -> None:
    name, data, _ = rendered
    named = [d for d in data["decisions"] if any(c in d for c in CARD_COLUMNS)]
    assert named == [], name


def test_a_card_table_still_says_which_card_features_it_could_not_derive(
    sample: pd.DataFrame,
) -> None:
    frame = sample.drop(columns=["TENURE"]).head(600)
    model = fit_segments(frame, config=FitConfig(k=3, k_range=(3, 3), n_init=1, n_resamples=2))
    decisions = model.preparation.decisions
    assert "MONTHLY_AVG_PURCHASES: not derived (needs numeric column TENURE)" in decisions
    assert any(d.startswith("CREDIT_UTILISATION: derived as") for d in decisions)


def test_custseg_fit_prints_and_writes_no_numpy_repr(tmp_path: Path) -> None:
    table = tmp_path / "attrition.csv"
    _attrition_with_a_constant().to_csv(table, index=False)
    out = tmp_path / "fit"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        code = main(["fit", "--input", str(table), "--out", str(out), "--k-range", "2-3"])
    assert code == 0, printed.getvalue()
    texts = {"output": printed.getvalue()}
    for path in sorted(out.iterdir()):
        if path.suffix in {".json", ".md", ".csv", ".html"}:
            texts[path.name] = path.read_text(encoding="utf-8")
    assert "constant: every value is 3.0" in texts["report.html"]
    for where, text in texts.items():
        found = [text[max(0, m.start() - 60) : m.end() + 20] for m in NUMPY_REPR.finditer(text)]
        assert found == [], (where, found)
