"""Atomic output: a failed write never leaves a partial or temporary file."""

from __future__ import annotations

import hashlib

import pytest

from custseg._utils.io import atomic_path, sha256_file, write_text_atomic


def test_failed_write_keeps_previous_version_and_no_temp_file(tmp_path):
    target = tmp_path / "out.csv"
    write_text_atomic(target, "old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half written")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_creates_missing_folder_and_hashes(tmp_path):
    target = tmp_path / "a" / "b" / "x.txt"
    write_text_atomic(target, "hello")
    assert target.read_text() == "hello"
    assert sha256_file(target) == hashlib.sha256(b"hello").hexdigest()


def test_written_files_follow_the_umask_not_mkstemp_privacy(tmp_path):
    import os

    previous = os.umask(0o022)
    try:
        target = write_text_atomic(tmp_path / "report.html", "<html></html>")
    finally:
        os.umask(previous)
    assert target.stat().st_mode & 0o777 == 0o644
