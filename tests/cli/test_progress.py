"""The command line's Rich progress stages: a stage ends full when its block ends well."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.progress import Progress

from custseg._utils.progress import NO_PROGRESS
from custseg.cli._common import _RichStage


def _bar() -> Progress:
    return Progress(console=Console(file=io.StringIO(), force_terminal=False))


def test_a_stage_that_ends_well_is_shown_complete_and_stopped():
    bar = _bar()
    with _RichStage(bar, "scoring", total=10) as stage:
        stage.advance(3)
    task = bar.tasks[0]
    assert task.completed == task.total == 10
    assert task.stop_time is not None


def test_a_stage_ended_by_an_error_keeps_its_count():
    bar = _bar()
    with pytest.raises(RuntimeError), _RichStage(bar, "scoring", total=10) as stage:
        stage.advance(3)
        raise RuntimeError("stopped")
    task = bar.tasks[0]
    assert task.completed == 3
    assert task.stop_time is not None


def test_the_null_stage_is_its_own_context_and_lets_errors_through():
    with NO_PROGRESS.stage("x", 5) as stage:
        stage.advance(2)
    with pytest.raises(ValueError), NO_PROGRESS.stage("x") as stage:
        raise ValueError("kept")


def test_with_verbose_every_stage_says_how_long_it_took(monkeypatch, capsys):
    from custseg.cli import _common

    monkeypatch.setattr(_common.STATE, "verbose", True)
    monkeypatch.setattr(_common.STATE, "quiet", False)
    with _common.rich_progress() as progress:
        with progress.stage("Reading the table", total=None):
            pass
        with pytest.raises(ValueError), progress.stage("Fitting", total=3) as stage:
            stage.advance(1)
            raise ValueError("stopped")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Reading the table: ") and lines[0].endswith(" s")
    assert lines[1].startswith("Fitting: ") and lines[1].endswith(" s (stopped)")
    float(lines[0].split(": ")[1].removesuffix(" s"))


def test_without_verbose_stages_say_nothing(monkeypatch, capsys):
    from custseg.cli import _common

    monkeypatch.setattr(_common.STATE, "verbose", False)
    with _common.rich_progress() as progress, progress.stage("Reading the table"):
        pass
    assert capsys.readouterr().err == ""
