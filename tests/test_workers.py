"""The engine's threads follow the cores the process may use, whatever this machine has."""

from __future__ import annotations

import os

import pytest

from custseg._utils.numeric import n_workers


def test_python_313_process_cpu_count_decides_when_it_exists(monkeypatch) -> None:
    monkeypatch.setattr(os, "process_cpu_count", lambda: 12, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert n_workers() == 12


def test_before_python_313_the_affinity_mask_decides(monkeypatch) -> None:
    # A container or taskset allows 6 of the machine's 64 cores: 6 threads, not 64 nor 2.
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(6)), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert n_workers() == 6


@pytest.mark.parametrize(("cpu_count", "expected"), [(24, 24), (1, 1), (None, 1)])
def test_without_affinity_the_machines_count_decides(monkeypatch, cpu_count, expected) -> None:
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cpu_count)
    assert n_workers() == expected


def test_an_unknown_count_gives_one_thread(monkeypatch) -> None:
    monkeypatch.setattr(os, "process_cpu_count", lambda: None, raising=False)
    assert n_workers() == 1
