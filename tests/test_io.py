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


# ------------------------------------------------------------- folders of one run


def _fit_folder(folder, files=("model.json", "metrics.json")):
    from custseg._utils.folders import atomic_folder, write_fit_marker

    with atomic_folder(folder) as staging:
        for name in files:
            (staging / name).parent.mkdir(exist_ok=True)
            (staging / name).write_text(f"{name} of this run", encoding="utf-8")
        write_fit_marker(staging, list(files))
    return folder


def test_a_marker_names_the_run_and_its_files(tmp_path):
    from custseg._utils.folders import read_folder_run

    run = read_folder_run(_fit_folder(tmp_path / "segments"))
    assert run is not None and (run.kind, run.command) == ("fit", "fit")
    assert run.outputs == {"model.json", "metrics.json", ".custseg-fit.json"}
    assert run.files["model.json"] == hashlib.sha256(b"model.json of this run").hexdigest()
    assert read_folder_run(tmp_path) is None  # no marker and no outputs: nobody's folder
    assert read_folder_run(tmp_path / "missing") is None


@pytest.mark.parametrize(
    "names",
    [
        ["model.json", "metrics.json", "report.html"],
        ["report.html", "summary.md", "profiles.csv"],
        ["transitions.csv", "migration.json"],
    ],
)
def test_a_folder_without_a_marker_is_nobodys_whatever_its_files(tmp_path, names):
    # Outputs' names say nothing about who wrote them (a notebook saves model.json too):
    # only a run marker makes a folder a run's, so these files are carried over.
    from custseg._utils.folders import atomic_folder, read_folder_run, write_run_marker

    for name in names:
        (tmp_path / name).write_text("the user's", encoding="utf-8")
    assert read_folder_run(tmp_path) is None
    with atomic_folder(tmp_path, "fit") as staging:
        (staging / "model.json").write_text("this run's", encoding="utf-8")
        write_run_marker(staging, "fit", ["model.json"])
    assert (tmp_path / "model.json").read_text(encoding="utf-8") == "this run's"
    for name in set(names) - {"model.json"}:
        assert (tmp_path / name).read_text(encoding="utf-8") == "the user's"


def test_an_unreadable_marker_still_says_which_kind_of_run_wrote_the_folder(tmp_path):
    from custseg._utils.folders import check_folder_kind, read_folder_run
    from custseg.exceptions import ConfigError

    (tmp_path / ".custseg-report.json").write_text("{not json", encoding="utf-8")
    run = read_folder_run(tmp_path)
    assert run is not None and run.kind == "report"
    assert run.outputs == {".custseg-report.json"} and run.files == {}
    with pytest.raises(ConfigError, match=r"custseg report` \(\.custseg-report\.json\)"):
        check_folder_kind(tmp_path, "fit")


def test_a_folder_of_another_kind_is_refused_before_anything_is_written(tmp_path):
    from custseg._utils.folders import atomic_folder
    from custseg.exceptions import ConfigError

    folder = _fit_folder(tmp_path / "segments")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with (
        pytest.raises(ConfigError) as info,
        atomic_folder(folder, "report", hint="segments/report") as staging,
    ):
        (staging / "report.html").write_text("never", encoding="utf-8")
    message = str(info.value)
    assert message.startswith("--out ") and "`custseg fit`" in message
    assert "metrics.json, model.json" in message and "--out segments/report" in message
    assert "\n" not in message
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_file_of_a_run_folder_is_refused_wherever_it_lies_in_it(tmp_path):
    from custseg._utils.folders import check_not_run_output
    from custseg.exceptions import ConfigError

    folder = _fit_folder(tmp_path / "segments", ("model.json", "metrics.json", "figures/a.png"))
    for inside in ("metrics.json", "figures/a.png", "figures/new.png", ".custseg-fit.json"):
        with pytest.raises(ConfigError, match=r"output of `custseg fit`"):
            check_not_run_output(folder / inside, option="--out")
    # A new name beside the outputs is the user's file; a link to an output is that output.
    check_not_run_output(folder / "scored.csv")
    (tmp_path / "link.json").symlink_to(folder / "metrics.json")
    with pytest.raises(ConfigError, match=r"custseg fit"):
        check_not_run_output(tmp_path / "link.json")


def test_a_refit_drops_a_subfolder_describing_the_replaced_model_only(tmp_path):
    from custseg._utils.folders import atomic_folder, write_run_marker

    folder = _fit_folder(tmp_path / "segments")
    old_model = hashlib.sha256(b"model.json of this run").hexdigest()
    for name, model in (("report", old_model), ("other-report", "f" * 64)):
        with atomic_folder(folder / name, "report") as staging:
            (staging / "report.html").write_text(name, encoding="utf-8")
            write_run_marker(staging, "report", ["report.html"], model_sha256=model)
    with atomic_folder(folder) as staging:
        (staging / "model.json").write_text("another model", encoding="utf-8")
        write_run_marker(staging, "fit", ["model.json"])
    assert sorted(p.name for p in folder.iterdir()) == [
        ".custseg-fit.json",
        "model.json",
        "other-report",
    ]


def test_a_report_written_into_a_folder_of_the_users_files_keeps_them(tmp_path):
    # A notebook saves its snapshot and model.json into a folder, then writes the report
    # there: no custseg run owns those files, so the report must not drop them.
    from custseg._utils.folders import atomic_folder, write_run_marker

    folder = tmp_path / "segmentation-output"
    folder.mkdir()
    (folder / "model.json").write_text("{}", encoding="utf-8")
    (folder / "customers.csv").write_text("id\n1\n", encoding="utf-8")
    with atomic_folder(folder, "report") as staging:
        (staging / "report.html").write_text("page", encoding="utf-8")
        write_run_marker(staging, "report", ["report.html"])
    assert (folder / "model.json").read_text(encoding="utf-8") == "{}"
    assert (folder / "customers.csv").read_text(encoding="utf-8") == "id\n1\n"
    assert (folder / "report.html").read_text(encoding="utf-8") == "page"
