"""Nothing is lost: outputs never replace inputs, a fit folder never mixes two runs,
temporary files never outlive a run, and failures of the system are exit code 2."""

from __future__ import annotations

import errno
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from custseg._utils.folders import atomic_folder
from custseg._utils.io import atomic_path, remove_stale_temporaries
from custseg.cli._errors import user_os_error
from custseg.exceptions import ConfigError
from custseg.model import load_model
from custseg.scoring.batch import score_file

FIT = ["fit", "--k", "3", "--k-range", "3-3", "--seed", "0"]


def _one_error_line(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".custseg-" in p.name and "fit" not in p.name)


# ------------------------------------------------------------- outputs vs inputs


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_score_refuses_an_output_that_is_its_input(model, sample, tmp_path, suffix):
    source = tmp_path / f"customers{suffix}"
    if suffix == ".csv":
        sample.head(50).to_csv(source, index=False)
    else:
        sample.head(50).to_parquet(source, index=False)
    before = source.read_bytes()
    link = tmp_path / f"link{suffix}"
    link.symlink_to(source)
    hard = tmp_path / f"hard{suffix}"
    os.link(source, hard)
    (tmp_path / "sub").mkdir()
    cases = [
        ({"out": source}, "input (--input) and out (--out)"),
        ({"out": tmp_path / "sub" / ".." / source.name}, "input (--input) and out (--out)"),
        ({"out": link}, "input (--input) and out (--out)"),
        ({"out": hard}, "input (--input) and out (--out)"),
        ({"out": tmp_path / "s.csv", "rejects": source}, "input (--input) and rejects"),
        ({"out": tmp_path / "s.csv", "rejects": tmp_path / "s.csv"}, "out (--out) and rejects"),
    ]
    for options, message in cases:
        with pytest.raises(ConfigError, match=re.escape(message)):
            score_file(model, source, **options)
    assert source.read_bytes() == before
    assert not (tmp_path / "s.csv").exists()


def test_the_command_line_refuses_outputs_onto_inputs_or_the_model(
    run_cli, model_file, sample_csv, tmp_path
):
    model_before = model_file.read_bytes()
    for extra, message in [
        (["--out", sample_csv], "input (--input) and out (--out)"),
        (["--out", tmp_path / "s.csv", "--rejects", model_file], "the model (--model) and rejects"),
    ]:
        line = _one_error_line(
            run_cli(["score", "--model", model_file, "--input", sample_csv, *extra])
        )
        assert message in line
    assert model_file.read_bytes() == model_before


def test_csv_and_parquet_outputs_get_their_own_rejects_file(model, sample, tmp_path):
    source = tmp_path / "new.csv"
    frame = sample.head(40).copy()
    frame["PURCHASES"] = frame["PURCHASES"].astype(object)
    frame.loc[3, "PURCHASES"] = "abc"
    frame.to_csv(source, index=False)
    paths = {score_file(model, source, tmp_path / name).rejects for name in ("s.csv", "s.parquet")}
    assert paths == {tmp_path / "s.csv.rejects.csv", tmp_path / "s.parquet.rejects.csv"}
    assert all(len(path.read_text().splitlines()) == 2 for path in paths)
    assert not (tmp_path / "s.rejects.csv").exists()


# ------------------------------------------------------------------ fit folders


def test_a_second_fit_into_the_same_folder_refuses(run_cli, sample_csv, tmp_path):
    out = tmp_path / "segments"
    with atomic_folder(out) as staging:  # another run holds the folder
        (staging / "model.json").write_text("{}")
        result = run_cli([*FIT, "--input", sample_csv, "--out", out, "--no-report"])
        line = _one_error_line(result)
        assert "is writing the folder" in line and "pid " in line
    assert (out / "model.json").read_text() == "{}"  # the holder's run, untouched


def _start_fit(custseg_script: str, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, COLUMNS="200")
    with log.open("wb") as sink:
        return subprocess.Popen(
            [custseg_script, *map(str, args)], env=env, stdout=subprocess.DEVNULL, stderr=sink
        )


def _wait_for_staging_model(parent: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for staging in parent.glob(".segments.custseg-*.tmp"):
            if (staging / "model.json").is_file():
                return
        assert process.poll() is None, "the fit ended before it could be killed"
        time.sleep(0.02)
    pytest.fail("the fit never wrote its model into the staging folder")


# A SIGTERM that lands while the command registers a temporary file (the handler then
# needs the registry's lock, which the interrupted line holds) must still end the run.
_TERM_WHILE_REGISTERING = """
import os, signal, sys
from pathlib import Path
from custseg._utils import io
io.remove_temporaries_on_signals()
temporary = Path(sys.argv[1])
temporary.write_text("half a model")
with io._live_lock:
    io._live.add(temporary)
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(1000):
        pass
sys.exit(0)
"""


def test_a_sigterm_while_a_temporary_file_is_registered_ends_the_run(tmp_path):
    temporary = tmp_path / ".model.json.custseg-tmp"
    # The bound only turns a hang into a failure: the run itself takes a fraction of it.
    completed = subprocess.run(
        [sys.executable, "-c", _TERM_WHILE_REGISTERING, str(temporary)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 128 + signal.SIGTERM, completed.stderr
    assert not temporary.exists()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_fit_leaves_the_previous_folder_whole(
    run_cli, custseg_script, sample, tmp_path, how
):
    sample_csv = tmp_path / "customers.csv"
    sample.head(1200).to_csv(sample_csv, index=False)
    out = tmp_path / "segments"
    out.mkdir()
    (out / "notes.txt").write_text("the analyst's own file")
    first = run_cli([*FIT, "--input", sample_csv, "--out", out])
    assert first.exit_code == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert "report.html" in before and "notes.txt" in before

    process = _start_fit(
        custseg_script,
        [*FIT, "--k", "4", "--k-range", "4-4", "--input", sample_csv, "--out", out],
        tmp_path / "fit.log",
    )
    _wait_for_staging_model(tmp_path, process)
    process.send_signal(how)
    try:
        # The bound only turns a hang into a failure; the signal ends the run in moments.
        process.wait(timeout=600)
    finally:
        if process.poll() is None:  # never leave a hung run behind for the next test
            process.kill()
            process.wait()
    assert process.returncode == (
        -signal.SIGKILL if how == signal.SIGKILL else 128 + signal.SIGTERM
    )
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # the previous run, whole
    assert load_model(out / "model.json").k == 3
    leftovers = _hidden(tmp_path)
    if how == signal.SIGTERM:
        assert leftovers == []  # removed on the way out
    else:
        assert any(name.endswith(".tmp") for name in leftovers), leftovers

    if how == signal.SIGTERM:
        return
    # The next run cleans what a killed run left, and never mixes the two runs.
    again = run_cli(
        [*FIT, "--k", "4", "--k-range", "4-4", "--input", sample_csv, "--out", out, "--no-report"]
    )
    assert again.exit_code == 0, again.stderr
    assert _hidden(tmp_path) == []
    assert load_model(out / "model.json").k == 4
    names = sorted(p.name for p in out.iterdir())
    assert names == [".custseg-fit.json", "metrics.json", "model.json", "notes.txt"]
    assert (out / "notes.txt").read_text() == "the analyst's own file"
    marker = json.loads((out / ".custseg-fit.json").read_text())
    assert sorted(marker["files"]) == ["metrics.json", "model.json"]


def test_stale_temporaries_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    with atomic_path(tmp_path / "x.csv") as tmp:
        own = tmp
        host = tmp.name.split(".custseg-")[1].split("-")[0]
        stale = tmp_path / f".x.csv.custseg-{host}-{pid}-abc.tmp"
        stale.write_text("left by kill -9")
        stale_dir = tmp_path / f".segments.custseg-{host}-{pid}-def.tmp"
        stale_dir.mkdir()
        other_host = tmp_path / f".x.csv.custseg-00000000-{pid}-ghi.tmp"
        other_host.write_text("another machine's")
        removed = remove_stale_temporaries(tmp_path)
        assert sorted(removed) == sorted([stale, stale_dir])
        assert own.exists() and other_host.exists()
        tmp.write_text("done")
    assert (tmp_path / "x.csv").read_text() == "done"


# ------------------------------------------------------------ system failures


def test_a_full_disk_is_exit_code_2_and_keeps_the_previous_output(
    model_file, sample_csv, tmp_path, custseg_script
):
    out = tmp_path / "scored.csv"
    out.write_text("previous\n")

    def small_files() -> None:  # the kernel refuses writes beyond 64 KiB: EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    completed = subprocess.run(
        [
            custseg_script,
            "score",
            "--model",
            str(model_file),
            "--input",
            str(sample_csv),
            "--out",
            str(out),
        ],
        preexec_fn=small_files,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.startswith("error: ") and "too large" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1
    assert out.read_text() == "previous\n"
    assert _hidden(tmp_path) == []


def test_an_output_that_is_a_folder_is_exit_code_2(run_cli, model_file, sample_csv, tmp_path):
    folder = tmp_path / "scored.csv"
    folder.mkdir()
    line = _one_error_line(
        run_cli(["score", "--model", model_file, "--input", sample_csv, "--out", folder])
    )
    assert "is a folder" in line


def test_a_folder_without_write_permission_is_exit_code_2(
    run_cli, model_file, sample_csv, tmp_path
):
    if os.geteuid() == 0:
        locked = Path("/sys")  # refused even to root (EACCES)
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
    out = locked / "scored.csv"
    line = _one_error_line(
        run_cli(["score", "--model", model_file, "--input", sample_csv, "--out", out])
    )
    assert "permission denied" in line.lower() and not (locked / "scored.csv").exists()


@pytest.mark.parametrize(
    "error, text",
    [
        (OSError(errno.ENOSPC, "No space left on device", "/data/s.csv"), "no space left"),
        (OSError(errno.EROFS, "Read-only file system", "/mnt/s.csv"), "read-only file system"),
        (OSError(errno.EACCES, "Permission denied", "/x"), "permission denied"),
        (OSError(errno.EISDIR, "Is a directory", "/x"), "is a folder"),
        (OSError("[errno 28] No space left on device"), "no space left"),  # Arrow's wording
    ],
)
def test_user_side_system_errors_have_one_line_with_the_fix(error, text):
    message = user_os_error(error)
    assert message is not None and text in message


def test_other_system_errors_stay_internal():
    assert user_os_error(OSError(errno.EIO, "Input/output error")) is None


def test_a_fit_into_the_current_folder_keeps_the_analysts_files(sample, tmp_path, monkeypatch):
    from custseg.config import FitConfig
    from custseg.pipeline import fit_to_folder

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    output = fit_to_folder(
        sample.head(300), ".", config=FitConfig(k=2, k_range=(2, 2)), report=False
    )
    assert output.model.k == 2
    names = sorted(p.name for p in Path.cwd().iterdir())
    assert names == [".custseg-fit.json", "metrics.json", "model.json", "notes.txt"]
    (tmp_path / "migration").mkdir()  # written by custseg migrate after the fit
    (tmp_path / "migration" / "flows.csv").write_text("a,b\n")
    fit_to_folder(sample.head(300), ".", config=FitConfig(k=3, k_range=(3, 3)), report=False)
    assert (Path.cwd() / "migration" / "flows.csv").read_text() == "a,b\n"
    assert (Path.cwd() / "notes.txt").read_text() == "mine"


def test_export_sql_never_writes_onto_the_model(run_cli, model_file):
    before = model_file.read_bytes()
    result = run_cli(
        [
            "export-sql",
            "--model",
            model_file,
            "--dialect",
            "duckdb",
            "--table",
            "t",
            "--out",
            model_file,
        ]
    )
    assert "the model (--model) and out (--out)" in _one_error_line(result)
    assert model_file.read_bytes() == before
