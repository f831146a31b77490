"""``custseg fit`` says what the reader should know: a missing identifier at once, a
column that alone reproduces a segment after the fit; glob patterns in the options.
No library warning reaches stderr on hostile-but-valid tables, and ``--quiet`` silences
every warning line (custseg's own too)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from _trap_tables import NB_SCORE_1, bank_churners


def test_a_missing_identifier_is_said_before_the_fit(run_cli, tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    bank_churners(400).drop(columns=["CLIENTNUM"]).to_csv(data, index=False)
    result = run_cli(
        [
            "fit",
            "--input",
            data,
            "--out",
            tmp_path / "out",
            "--no-report",
            "--k",
            "3",
            "--k-range",
            "3-3",
        ]
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    warning = next(i for i, line in enumerate(lines) if line.startswith("warning: "))
    assert lines[warning].startswith("warning: no identifier column found")
    assert lines[warning].endswith("name the customer key with --id-column COLUMN")
    assert warning < next(i for i, line in enumerate(lines) if line.startswith("Columns"))
    model = json.loads((tmp_path / "out" / "model.json").read_text())
    # Avg_Open_To_Buy = Credit_Limit - Total_Revolving_Bal: said once, after the fit.
    assert [w["kind"] for w in model["warnings"]] == ["no_identifier", "redundancy"]
    # --quiet silences every warning line; the model still records the warning.
    quiet = run_cli(
        [
            "--quiet",
            "fit",
            "--input",
            data,
            "--out",
            tmp_path / "q",
            "--no-report",
            "--k",
            "3",
            "--k-range",
            "3-3",
        ]
    )
    assert quiet.exit_code == 0 and quiet.stderr == ""
    model = json.loads((tmp_path / "q" / "model.json").read_text())
    assert [w["kind"] for w in model["warnings"]] == ["no_identifier", "redundancy"]


def test_a_reproducing_column_is_named_with_its_fix(run_cli, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    group = np.repeat([0, 1, 2], 300)
    centres = np.array([[0.0, 0.0, 0.0], [3.0, 3.0, 0.0], [0.0, 3.0, 3.0]])
    frame = pd.DataFrame(centres[group] + rng.normal(0, 0.8, (900, 3)), columns=["a", "b", "c"])
    frame.insert(0, "customer_id", [f"C{i:04d}" for i in range(900)])
    frame["Exited"] = (group == 2).astype(int)
    data = tmp_path / "customers.csv"
    frame.to_csv(data, index=False)
    result = run_cli(
        [
            "fit",
            "--input",
            data,
            "--out",
            tmp_path / "out",
            "--no-report",
            "--k",
            "3",
            "--features",
            "a,b,c,Exited",
        ]
    )
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: column 'Exited' alone reproduces segment ")
    assert warnings[0].endswith("leave it out with --exclude Exited")


def test_glob_patterns_in_exclude_and_their_errors(run_cli, tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    bank_churners(400).to_csv(data, index=False)
    out = tmp_path / "out"
    result = run_cli(
        [
            "fit",
            "--input",
            data,
            "--out",
            out,
            "--no-report",
            "--k",
            "3",
            "--k-range",
            "3-3",
            "--exclude",
            "Total_*",
        ]
    )
    assert result.exit_code == 0, result.stderr
    roles = {
        c["name"]: c for c in json.loads((out / "model.json").read_text())["schema"]["columns"]
    }
    assert roles["Total_Trans_Amt"]["role"] == "ignored"
    assert roles["Total_Trans_Amt"]["reason"] == "excluded by request"
    assert roles["CLIENTNUM"]["role"] == "id"
    assert roles[NB_SCORE_1]["role"] == "outcome"
    bad = run_cli(
        ["fit", "--input", data, "--out", tmp_path / "bad", "--no-report", "--exclude", "total_*"]
    )
    assert bad.exit_code == 2
    assert "pattern 'total_*' matches no column; patterns are case-sensitive" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert not (tmp_path / "bad").exists()


def _hostile_tables(n: int = 200) -> dict[str, pd.DataFrame]:
    """Valid tables that push numpy, pandas and scikit-learn to their edge cases."""
    rng = np.random.default_rng(0)
    ids = [f"C{i}" for i in range(n)]
    base = pd.DataFrame(
        {"cust_id": ids, "spend": rng.gamma(2, 50, n), "visits": rng.poisson(4, n) * 1.0}
    )
    lonely = np.full(n, np.nan)
    lonely[3] = 5.0
    return {
        "constant": base.assign(flat=7.0),
        "one_value": base.assign(lonely=lonely),
        "two_distinct": pd.DataFrame(
            {"cust_id": ids, "a": np.tile([1.0, 2.0], n // 2), "b": np.tile([5.0, 9.0], n // 2)}
        ),
        "near_limit": base.assign(big=np.where(np.arange(n) % 2, 1e15, -1e15)),
        "one_huge": base.assign(sk=np.where(np.arange(n) == 0, 1e15, 0.0)),
        "subnormal": base.assign(dust=rng.uniform(0, 1e-300, n)),
        "three_rows": base.head(3),
    }


def test_hostile_tables_print_no_library_warning(run_cli, tmp_path: Path) -> None:
    # Drift and the report on the tables whose edge cases reach their arithmetic.
    full = {"constant", "one_value", "one_huge"}
    for name, frame in _hostile_tables().items():
        data = tmp_path / f"{name}.csv"
        frame.to_csv(data, index=False)
        out = tmp_path / name
        runs = [
            ["fit", "--input", data, "--out", out, "--no-report"],
            ["score", "--model", out, "--input", data, "--out", tmp_path / f"{name}.scored.csv"],
        ]
        if name in full:
            # The report on rows where a column has no value at all (numpy: "Mean of
            # empty slice" in the correlations).
            gaps = tmp_path / f"{name}.gaps.csv"
            frame.assign(spend=np.nan).to_csv(gaps, index=False)
            runs += [
                ["drift", "--model", out, "--input", data, "--out", tmp_path / f"{name}.json"],
                ["report", out, "--input", gaps, "--out", tmp_path / f"{name}.report"],
            ]
        for args in runs:
            result = run_cli(args)
            assert result.exit_code == 0, (name, args[0], result.stderr)
            assert "Warning" not in result.stderr and ".py:" not in result.stderr, (
                name,
                args[0],
                result.stderr,
            )
            # custseg's own: a column reproducing a segment, columns saying one thing.
            assert all(
                line.startswith("warning: column ") or "say the same thing" in line
                for line in result.stderr.splitlines()
                if line.startswith("warning")
            ), result.stderr


def test_more_segments_than_distinct_customers(run_cli, tmp_path: Path) -> None:
    data = tmp_path / "two.csv"
    _hostile_tables()["two_distinct"].to_csv(data, index=False)
    chosen = run_cli(["--quiet", "fit", "--input", data, "--out", tmp_path / "a", "--json"])
    # The sweep measures k = 2..10 on 2 distinct customers without a word from
    # scikit-learn, and recommends the only k whose segments all hold customers.
    assert chosen.exit_code == 0 and chosen.stderr == "", chosen.stderr
    assert json.loads(chosen.stdout)["k"] == 2
    forced = run_cli(["fit", "--input", data, "--out", tmp_path / "b", "--k", "3"])
    assert forced.exit_code == 2
    assert forced.stderr.splitlines()[-1] == (
        "error: only 2 of the k=3 segments hold customers: the table has fewer distinct"
        " customers than k after preparation; ask for at most 2 segments (--k 2) or add"
        " columns that tell the customers apart"
    )
    assert "Warning" not in forced.stderr and not (tmp_path / "b" / "model.json").exists()
