"""Every hint custseg prints is runnable as printed, and does what it says.

Warnings, column reasons, preparation decisions and error messages end with a fix:
``leave it out with exclude=['TotalCharges']`` (``--exclude TotalCharges`` on the command
line), ``name the customer key with id_column='...'``, ``--cluster-descriptors
(cluster_descriptors=True) to cluster on it``. On trap tables that provoke them, the hints
are collected from what custseg prints, each Python hint is run with ``exec`` as a
keyword of :func:`custseg.fit_segments` on the same table and each command-line hint with
the console script, and the model must show the change the hint promised. Placeholders
(``'...'``, ``COLUMN``) are filled with the trap's answer.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from _realistic import mall_table, telco_table
from custseg import FitConfig, PrepConfig, fit_segments
from custseg.exceptions import CustsegError
from custseg.model import SegmentationModel, load_model

PY_HINT = re.compile(r"\b([a-z_]+)=(\[[^\]]*\]|'[^']*'|True|False|\d+(?:\.\d+)?)")
CLI_HINT = re.compile(r"(--[a-z][a-z-]+)(?: ([^\s;,()\-][^\s;,()]*))?")
CLI_FLAGS = {"--cluster-descriptors"}
CLI_SETTINGS = {
    "--exclude": "exclude",
    "--features": "features",
    "--id-column": "id_column",
    "--cluster-descriptors": "cluster_descriptors",
    "--k": "k",
    "--skew": "skew",
}
SETTINGS = (
    set(inspect.signature(fit_segments).parameters)
    | {f.name for f in fields(FitConfig)}
    | {f.name for f in fields(PrepConfig)}
)


def _telco() -> tuple[pd.DataFrame, dict[str, Any]]:
    frame, _ = telco_table(600)
    return frame, {"k": 4}


def _mall_without_key() -> tuple[pd.DataFrame, dict[str, Any]]:
    """The key is a row-number-like 1..n: ignored, so no identifier is found."""
    frame, _ = mall_table()
    frame = frame.rename(columns={"CustomerID": "Shopper"})
    # Wide skewed amounts with negative values: the skew decision names yeo-johnson.
    rng = np.random.default_rng(0)
    frame["net_spend"] = np.round(rng.lognormal(3, 1.2, len(frame)) - 5, 2)
    return frame, {"k": 5, "id_column": "Shopper"}


def _who_only() -> tuple[pd.DataFrame, dict[str, Any]]:
    frame, _ = mall_table()
    return frame[["CustomerID", "Gender", "Age"]], {"k": 3}


TRAPS = {"telco": _telco, "mall_without_key": _mall_without_key, "who_only": _who_only}


def _printed(frame: pd.DataFrame, k: int) -> tuple[list[str], list[str]]:
    """What a fit prints for Python users and on the command line."""
    try:
        model = fit_segments(frame, k=k, n_resamples=2)
    except CustsegError as exc:
        return [str(exc)], [str(exc)]
    python = [w["message"] for w in model.warnings]
    cli = [w.get("cli_message", w["message"]) for w in model.warnings]
    reasons = [c.reason for c in model.schema.columns]
    decisions = list(model.preparation.decisions)
    return [*python, *reasons, *decisions], [*cli, *reasons, *decisions]


def _python_hints(texts: list[str], answers: dict[str, Any]) -> set[tuple[str, str]]:
    found = set()
    for text in texts:
        for name, value in PY_HINT.findall(text):
            if name not in SETTINGS:
                continue  # a value quoted in the text (k=4), not a fix: checked below
            if value in ("'...'", "[...]"):
                value = repr(answers[name])
            found.add((name, value))
    return found


def _cli_hints(texts: list[str], answers: dict[str, Any]) -> set[tuple[str, str | None]]:
    found = set()
    for text in texts:
        for option, value in CLI_HINT.findall(text):
            if option in CLI_FLAGS:
                found.add((option, None))
            elif option in CLI_SETTINGS:
                setting = CLI_SETTINGS[option]
                found.add((option, str(answers[setting]) if value == "COLUMN" else value))
    return found


def _assert_applied(model: SegmentationModel, name: str, value: Any) -> None:
    schema = model.schema
    if name == "exclude":
        for column in [value] if isinstance(value, str) else value:
            assert schema.column(column).reason == "excluded by request"
    elif name == "id_column":
        assert schema.id_column == value
        assert "no_identifier" not in [w["kind"] for w in model.warnings]
    elif name == "cluster_descriptors":
        assert schema.all_descriptors and schema.descriptors == []
        assert {n.split("=")[0] for n in model.feature_names} >= set(schema.all_descriptors)
    elif name in ("skew", "scaling", "impute"):
        assert model.settings["preparation"][name] == value
    else:
        assert model.settings[name] == value


@pytest.mark.parametrize("trap", sorted(TRAPS))
def test_python_hints_run_as_printed(trap: str) -> None:
    frame, answers = TRAPS[trap]()
    python, _ = _printed(frame, answers["k"])
    hints = _python_hints(python, answers)
    assert hints, f"the {trap} trap printed no hint: {python}"
    for name, value in sorted(hints):
        namespace: dict[str, Any] = {"fit_segments": fit_segments, "frame": frame}
        exec(
            f"model = fit_segments(frame, k={answers['k']}, n_resamples=2, {name}={value})",
            namespace,
        )
        _assert_applied(namespace["model"], name, eval(value))


def test_the_traps_print_the_hints_they_are_for() -> None:
    telco, answers = _telco()
    python, cli = _printed(telco, answers["k"])
    assert ("cluster_descriptors", "True") in _python_hints(python, answers)
    assert any(name == "exclude" for name, _ in _python_hints(python, answers))
    assert any(option == "--exclude" for option, _ in _cli_hints(cli, answers))
    mall, answers = _mall_without_key()
    python, cli = _printed(mall, answers["k"])
    assert ("id_column", "'Shopper'") in _python_hints(python, answers)
    assert ("--id-column", "Shopper") in _cli_hints(cli, answers)
    assert ("skew", "'yeo-johnson'") in _python_hints(python, answers)


def test_every_keyword_a_message_suggests_is_a_setting_of_fit_segments() -> None:
    """Sources: a fix reading "with NAME=", "pass NAME=", "use NAME=" names a setting."""
    suggested = set()
    for path in Path(__import__("custseg").__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        suggested |= set(re.findall(r"\b(?:with|pass|use|set) \(?([a-z_]+)=[\['\"T.]", text))
    assert suggested, "no hint found in the sources"
    unknown = suggested - SETTINGS - {"sql"}  # sql= is custseg.extract's (a data source)
    assert not unknown, f"hints name settings fit_segments does not take: {sorted(unknown)}"


def test_a_did_you_mean_hint_runs_as_printed() -> None:
    frame, _ = telco_table(300)
    with pytest.raises(CustsegError, match="did you mean") as caught:
        fit_segments(frame, k=3, exclude=["MonthlyCharge"])
    suggestion = re.search(r"did you mean '([^']+)'", str(caught.value)).group(1)
    model = fit_segments(frame, k=3, n_resamples=2, exclude=[suggestion])
    _assert_applied(model, "exclude", [suggestion])


@pytest.mark.parametrize("trap", sorted(TRAPS))
def test_command_line_hints_run_as_printed(run_cli, tmp_path: Path, trap: str) -> None:
    frame, answers = TRAPS[trap]()
    path = tmp_path / f"{trap}.csv"
    frame.to_csv(path, index=False)
    _, cli = _printed(frame, answers["k"])
    hints = _cli_hints(cli, answers)
    assert hints, f"the {trap} trap printed no command-line hint: {cli}"
    for i, (option, value) in enumerate(sorted(hints, key=str)):
        out = tmp_path / f"out{i}"
        args = ["fit", "--input", path, "--out", out, "--k", answers["k"], "--no-report"]
        result = run_cli([*args, option, *([] if value is None else [value])])
        assert result.exit_code == 0, result.stderr
        model = load_model(out / "model.json")
        setting = CLI_SETTINGS[option]
        expected: Any = True if value is None else value
        if setting == "exclude":
            expected = [value]
        _assert_applied(model, setting, expected)
        json.loads((out / "metrics.json").read_text(encoding="utf-8"))


def test_every_command_line_option_a_message_names_exists() -> None:
    """Sources: every ``--option`` quoted in a text is an option of a custseg command."""
    import typer

    from custseg.cli import app

    group = typer.main.get_command(app)
    options = {"--help", "--driver-memory"}  # click's own; spark-submit's (Spark advice)
    for command in [group, *group.commands.values()]:  # type: ignore[attr-defined]
        for param in command.params:
            options |= {*param.opts, *param.secondary_opts}
    named: dict[str, str] = {}
    for path in Path(__import__("custseg").__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for option in re.findall(r"[\"'][^\"'\n]*?(--[a-z][a-z0-9-]*[a-z0-9])(?![-{\w])", text):
            named.setdefault(option, path.name)
    assert "--cluster-descriptors" in named and "--exclude" in named
    unknown = {option: where for option, where in named.items() if option not in options}
    assert not unknown, f"messages name options no command has: {unknown}"
