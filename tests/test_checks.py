"""The one set of input checks: their wording, and no hand-written copy left in ``src/``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custseg._utils.checks import check_frame, check_int, is_int, is_number
from custseg.exceptions import ConfigError, DataError

SRC = Path(__file__).resolve().parents[1] / "src" / "custseg"


@pytest.mark.parametrize(
    ("value", "bounds", "message"),
    [
        (0, {"minimum": 1}, "k=0 should be an integer >= 1"),
        (True, {"minimum": 1}, "k=True should be an integer >= 1"),
        (2.0, {"minimum": 1}, "k=2.0 should be an integer >= 1"),
        ("3", {}, "k='3' should be an integer"),
        (None, {"maximum": 9}, "k=None should be an integer <= 9"),
        (7, {"minimum": 1, "maximum": 5}, "k=7 should be an integer from 1 to 5"),
        (np.int64(-1), {"minimum": 0}, "k=-1 should be an integer >= 0"),  # numpy quoted plainly
        (
            0,
            {"minimum": 1, "option": "--k", "hint": "e.g. 5"},
            "k=0 (--k) should be an integer >= 1; e.g. 5",
        ),
    ],
)
def test_check_int_quotes_the_value_and_names_the_fix(value, bounds, message) -> None:
    with pytest.raises(ConfigError) as info:
        check_int(value, "k", **bounds)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "bounds"),
    [(1, {"minimum": 1}), (np.int32(5), {"minimum": 1, "maximum": 5}), (-3, {})],
)
def test_check_int_returns_a_python_int(value, bounds) -> None:
    checked = check_int(value, "k", **bounds)
    assert checked == value and type(checked) is int


@pytest.mark.parametrize(
    ("value", "name", "hint", "message"),
    [
        (
            [1, 2],
            "frame",
            None,
            "frame should be a pandas DataFrame, got list;"
            " read the table with custseg.read_table (or pandas) first",
        ),
        (
            pd.Series([1.0]),
            "old",
            "pass the scored file's rows",
            "old should be a pandas DataFrame, got Series; pass the scored file's rows",
        ),
        ("customers.csv", "data", "read files with custseg.sources.read_table", None),
    ],
)
def test_check_frame_names_the_type_it_got_and_the_fix(value, name, hint, message) -> None:
    kwargs = {} if hint is None else {"hint": hint}
    with pytest.raises(DataError) as info:
        check_frame(value, name, **kwargs)
    text = str(info.value)
    if message is not None:
        assert text == message
    assert text.startswith(f"{name} should be a pandas DataFrame, got {type(value).__name__}; ")
    assert "\n" not in text


def test_check_frame_returns_the_frame_itself() -> None:
    frame = pd.DataFrame({"a": [1]})
    assert check_frame(frame) is frame


@pytest.mark.parametrize(
    ("value", "integer", "number", "any_number"),
    [
        (3, True, True, True),
        (np.int64(3), True, True, True),
        (2.5, False, True, True),
        (np.float32(2.5), False, True, True),
        (float("nan"), False, False, True),
        (float("inf"), False, False, True),
        (True, False, False, False),
        (np.bool_(True), False, False, False),
        ("3", False, False, False),
        (None, False, False, False),
    ],
)
def test_booleans_are_neither_integers_nor_numbers(value, integer, number, any_number) -> None:
    assert is_int(value) is integer
    assert is_number(value) is number
    assert is_number(value, finite=False) is any_number


def _fit_config(**settings):
    from custseg import FitConfig

    return FitConfig(**settings)


def _service_limits(**limits):
    from custseg.service.limits import ServiceLimits

    return ServiceLimits(**limits)


def _infer_schema(frame, **options):
    from custseg import infer_schema

    return infer_schema(frame, **options)


def _segment_rules(**options):
    from custseg.explain.rules import segment_rules

    frame = pd.DataFrame({"a": np.arange(200.0)})
    return segment_rules(frame, np.arange(200) % 2, **options)


def _fit_kmeans(**options):
    from custseg.cluster.kmeans import fit_kmeans

    return fit_kmeans(np.arange(20.0).reshape(10, 2), **options)


def _profile_segments(frame):
    from custseg import profile_segments

    return profile_segments(frame, [0, 1])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: _fit_kmeans(k=0), ConfigError, "k=0 should be an integer >= 1"),
        (
            lambda: _fit_config(k=0),
            ConfigError,
            "k=0 (--k) should be an integer >= 1; e.g. 5, or None to choose it from k_range",
        ),
        (lambda: _fit_config(n_init=True), ConfigError, "n_init=True should be an integer >= 1"),
        (
            lambda: _service_limits(max_records=0),
            ConfigError,
            "max_records=0 (--max-records) should be an integer >= 1",
        ),
        (
            lambda: _segment_rules(max_depth=7),
            ConfigError,
            "max_depth=7 should be an integer from 1 to 5;"
            " rules deeper than 5 conditions are not readable",
        ),
        (
            lambda: _infer_schema(pd.DataFrame({"a": [1.0, 2.0]}), max_categories=1),
            ConfigError,
            "max_categories=1 should be an integer >= 2",
        ),
        (
            lambda: _infer_schema({"a": [1.0, 2.0]}),
            DataError,
            "frame should be a pandas DataFrame, got dict;"
            " read the table with custseg.read_table (or pandas) first",
        ),
        (
            lambda: _profile_segments([[1.0], [2.0]]),
            DataError,
            "frame should be a pandas DataFrame, got list;"
            " read the table with custseg.read_table (or pandas) first",
        ),
    ],
)
def test_public_functions_word_their_checks_alike(call, error, message) -> None:
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


# --------------------------------------------------------- no hand-written copy

# Files the engine-protocol rewrite still holds; it empties this list as it replaces them.
HAND_WRITTEN = {
    "a bool-or-int test (use is_int, is_number or check_int)": re.compile(
        r"isinstance\(\s*[\w.]+\s*,\s*bool\s*\)\s+or\s+not\s+isinstance"
        r"|isinstance\(\s*[\w.]+\s*,\s*\(?[^)]*\b(?:int|Integral|integer|float|Real)\b[^)]*\)\)?"
        r"\s+and\s+not\s+isinstance\(\s*[\w.]+\s*,\s*bool\s*\)"
    ),
    "a DataFrame check (use check_frame)": re.compile(r"pandas DataFrame, got"),
    "check_positive_int (use check_int)": re.compile(r"(?<!def )\bcheck_positive_int\("),
}


def _hand_written() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        if where == "_utils/checks.py":
            continue
        text = path.read_text(encoding="utf-8")
        for what, pattern in HAND_WRITTEN.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.setdefault(what, []).append(f"src/custseg/{where}:{line}")
    return found


def test_no_input_check_is_written_by_hand_outside_the_checks_module() -> None:
    assert _hand_written() == {}


def test_the_guard_sees_a_hand_written_copy(tmp_path, monkeypatch) -> None:
    # The patterns must match the forms they replaced, or the test above proves nothing.
    samples = [
        "if isinstance(k, bool) or not isinstance(k, int) or k < 1:",
        "if isinstance(x.n, bool) or not isinstance(x.n, (int, float)):",
        "ok = isinstance(v, numbers.Integral) and not isinstance(v, bool)",
        "bad = isinstance(self.pca, int) and not isinstance(self.pca, bool)",
        "ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0",
        'raise DataError(f"frame must be a pandas DataFrame, got {type(f).__name__}")',
        'n = check_positive_int(n, "n", 1)',
    ]
    for i, line in enumerate(samples):
        (tmp_path / f"m{i}.py").write_text(f"{line}\n", encoding="utf-8")
    monkeypatch.setitem(globals(), "SRC", tmp_path)
    found = _hand_written()
    assert sorted(w for where in found.values() for w in where) == sorted(
        f"src/custseg/m{i}.py:1" for i in range(len(samples))
    )
