"""The command line's global options and its refusals, as a user meets them.

- ``--quiet`` and ``--verbose`` work before or after the command name, and never
  swallow the value of another option;
- ``--k 1`` is refused with exit code 2 before anything is written;
- ``--config`` help names the two sections and points to the documented format;
- ``custseg fit`` says which playbook named the segments and why; a folder named like
  a shipped playbook in the working folder does not hide it;
- a terminal sees a progress bar, ``--quiet`` and a pipe do not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from _tables import retail_table
from custseg.cli import _hoist_global_flags, app


def _small(sample: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    sample.sample(n=600, random_state=0).to_csv(path, index=False)
    return path


def test_quiet_after_the_command_name_silences_the_summary(run_cli, sample, tmp_path):
    data = _small(sample, tmp_path)
    loud = run_cli(
        [
            "fit",
            "--input",
            data,
            "--out",
            tmp_path / "a",
            "--k",
            "3",
            "--k-range",
            "3-3",
            "--no-report",
        ]
    )
    assert loud.exit_code == 0, loud.stderr
    assert "segments" in loud.stderr and "model:" in loud.stderr
    for args in (
        [
            "fit",
            "--quiet",
            "--input",
            data,
            "--out",
            tmp_path / "b",
            "--k",
            "3",
            "--k-range",
            "3-3",
            "--no-report",
        ],
        [
            "fit",
            "--input",
            data,
            "--out",
            tmp_path / "c",
            "--k",
            "3",
            "--k-range",
            "3-3",
            "--no-report",
            "-q",
        ],
        [
            "--quiet",
            "fit",
            "--input",
            data,
            "--out",
            tmp_path / "d",
            "--k",
            "3",
            "--k-range",
            "3-3",
            "--no-report",
        ],
    ):
        quiet = run_cli(args)
        assert quiet.exit_code == 0, quiet.stderr
        assert quiet.stderr == "" and quiet.stdout == ""
        assert (Path(args[args.index("--out") + 1]) / "model.json").exists()


def test_verbose_after_the_command_name_shows_the_traceback(run_cli, tmp_path):
    plain = run_cli(["fit", "--input", tmp_path / "missing.csv", "--out", tmp_path / "o"])
    assert plain.exit_code == 2
    assert "Traceback" not in plain.stderr and "error: file not found" in plain.stderr
    verbose = run_cli(["fit", "--input", tmp_path / "missing.csv", "--out", tmp_path / "o", "-v"])
    assert verbose.exit_code == 2
    assert "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.rstrip().splitlines()[-1].startswith("error: file not found")


def test_global_flags_are_moved_only_when_they_stand_alone():
    import typer

    command = typer.main.get_command(app)
    assert _hoist_global_flags(command, ["fit", "--out", "x", "--quiet"]) == [
        "--quiet",
        "fit",
        "--out",
        "x",
    ]
    # The value of an option stays where it is, and so does everything after "--".
    assert _hoist_global_flags(command, ["extract", "--sql", "-q", "--out", "c.csv"]) == [
        "extract",
        "--sql",
        "-q",
        "--out",
        "c.csv",
    ]
    assert _hoist_global_flags(command, ["report", "m.json", "--", "-v"]) == [
        "report",
        "m.json",
        "--",
        "-v",
    ]
    assert _hoist_global_flags(command, ["--help"]) == ["--help"]


def test_k_of_one_is_refused_before_anything_is_written(run_cli, sample, tmp_path):
    out = tmp_path / "segments"
    result = run_cli(["fit", "--input", _small(sample, tmp_path), "--out", out, "--k", "1"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --k 1 asks for one segment, the whole table; give --k 2 or more, or leave --k"
        " out to choose k from --k-range"
    )
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_config_help_names_the_sections_and_the_format(run_cli):
    result = run_cli(["fit", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "[fit] (k, k_range, random_state," in text
    assert "[preparation] (skew, scaling, impute, winsorize, pca, ...)" in text
    assert "docs/configuration.md" in text


def test_fit_names_the_playbook_it_chose_from_the_columns(run_cli, tmp_path):
    frame, _ = retail_table(n=450)
    data = tmp_path / "shoppers.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "segments"
    result = run_cli(
        ["fit", "--input", data, "--out", out, "--k", "3", "--k-range", "3-3", "--no-report"]
    )
    assert result.exit_code == 0, result.stderr
    line = " ".join(result.stderr.split())
    assert "Playbook: Retail purchases playbook, chosen from the columns: 4 of 4 signals" in line
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["playbook"]["key"] == "retail"
    assert metrics["playbook"]["match"]["found"][0] == {
        "signal": "recency",
        "columns": ["Recency"],
    }
    assert not re.search(r"\b(card|bank)\b", result.stderr, re.IGNORECASE)
    forced = run_cli(
        [
            "fit",
            "--input",
            data,
            "--out",
            tmp_path / "n",
            "--k",
            "3",
            "--no-report",
            "--playbook",
            "neutral",
            "--json",
        ]
    )
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout)["playbook"]["chosen_by"] == "user"


def test_folders_named_like_playbooks_do_not_hide_the_shipped_ones(run_cli, sample, tmp_path):
    # Folders named `retail` and `credit_card` in the working folder made every fit
    # fail ("cannot read playbook file retail"), with --playbook or without.
    work = tmp_path / "work"
    for name in ("retail", "credit_card"):
        (work / name).mkdir(parents=True)
    data = _small(sample, tmp_path)
    common = ["fit", "--input", data, "--k", "3", "--k-range", "3-3", "--no-report", "--json"]
    chosen = run_cli([*common, "--out", tmp_path / "auto"], cwd=work)
    assert chosen.exit_code == 0, chosen.stderr
    assert json.loads(chosen.stdout)["playbook"]["key"] == "credit_card"
    forced = run_cli([*common, "--out", tmp_path / "forced", "--playbook", "retail"], cwd=work)
    assert forced.exit_code == 0, forced.stderr
    playbook = json.loads(forced.stdout)["playbook"]
    assert (playbook["key"], playbook["chosen_by"]) == ("retail", "user")
    # A value with a separator is a path: the folder is named in one line, exit 2.
    path = run_cli([*common, "--out", tmp_path / "path", "--playbook", "./retail"], cwd=work)
    assert path.exit_code == 2
    assert path.stderr.strip() == (
        "error: playbook file ./retail is a folder; pass a TOML playbook file (see"
        " docs/playbook.md) or a shipped one: credit_card, retail, neutral"
    )


def test_the_fit_summary_lists_outcome_and_unknown_roles_by_name():
    from custseg.cli.fit import _roles_line
    from custseg.prepare.schema import ColumnInfo, TableSchema

    roles = [
        ("CUST_ID", "id", "unique"),
        ("BALANCE", "numeric", "numbers"),
        ("PURCHASES", "numeric", "numbers"),
        ("churned", "outcome", "a churn flag"),
        ("vendor_score", "model_output", "a score"),
        ("NOTE", "ignored", "free text"),
    ]
    schema = TableSchema(
        tuple(ColumnInfo(name, role, "float64", reason) for name, role, reason in roles)
    )
    assert _roles_line(schema) == (
        "identifier CUST_ID · 2 numeric · outcome: churned · model_output: vendor_score"
        " · ignored: NOTE (free text) (details: metrics.json 'columns')"
    )


def test_a_terminal_sees_a_progress_bar_and_quiet_hides_it(run_cli, model_file, sample, tmp_path):
    # Rich takes TTY_COMPATIBLE=1 for a terminal; without one (or with --quiet) no
    # display is built at all.
    source = tmp_path / "new.csv"
    sample.head(500).to_csv(source, index=False)
    args = ["score", "-m", model_file, "-i", source, "-o", tmp_path / "s.parquet"]
    shown = run_cli(args, env={"TTY_COMPATIBLE": "1"})
    assert shown.exit_code == 0, shown.stderr
    assert "Scoring customers" in shown.stderr and "500/?" in shown.stderr
    quiet = run_cli(["--quiet", *args], env={"TTY_COMPATIBLE": "1"})
    assert quiet.exit_code == 0 and quiet.stderr == ""
    piped = run_cli(args)
    assert "Scoring customers" not in piped.stderr
    assert "500 rows: 500 scored, 0 rejected" in piped.stderr


def test_library_warnings_become_one_line_each_and_quiet_silences_them(capsys, monkeypatch):
    import warnings

    from custseg.cli._common import STATE, warn, warnings_as_lines

    numpy_file = "/env/lib/python3.11/site-packages/numpy/core/_methods.py"
    sklearn_file = "/env/lib/python3.11/site-packages/sklearn/base.py"
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # pytest turns warnings into errors
        monkeypatch.setattr(STATE, "quiet", False)
        with warnings_as_lines():
            for _ in range(3):  # the same warning, raised again and again: one line
                warnings.warn_explicit("invalid value\n  x = a / b", RuntimeWarning, numpy_file, 9)
            warnings.warn_explicit("Number of distinct clusters", UserWarning, sklearn_file, 1)
            warn("column 'a' alone reproduces segment 0")
        assert capsys.readouterr().err.splitlines() == [
            "warning: numpy: invalid value",
            "warning: scikit-learn: Number of distinct clusters",
            "warning: column 'a' alone reproduces segment 0",
        ]
        monkeypatch.setattr(STATE, "quiet", True)
        with warnings_as_lines():
            warnings.warn_explicit("invalid value", RuntimeWarning, numpy_file, 9)
            warn("column 'a' alone reproduces segment 0")
        assert capsys.readouterr().err == ""
    # Outside a command, warnings are shown (or raised) as configured again.
    with pytest.raises(RuntimeWarning):
        warnings.warn("after the command", RuntimeWarning, stacklevel=1)
