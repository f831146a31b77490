"""The Spark engine against the hand-written MLlib pipeline (issue 18).

Synthesises customers with the GUIDE's recipe (``bench/_synth.py``) into a Parquet file
of ``--row-groups`` row groups, kept in ``--cache`` for later runs (not timed); then,
for each part, runs both sides as whole commands in fresh processes (JVM start
included), ``--runs`` times, alternating which side goes first, with the same master
and driver memory (``SPARK_DRIVER_MEMORY`` for custseg, ``spark.driver.memory`` for the
peer, both ``--driver-memory``):

* ``fit`` (fixed k): the peer (``bench/_mllib_peer.py fit``: Imputer, VectorAssembler,
  StandardScaler, KMeans(k, maxIter=20), transform, write, ClusteringEvaluator) against
  ``custseg fit --engine spark --k K --no-report``;
* ``sweep`` (choosing k): the peer fitting every k of ``--k-range`` with its cost and
  silhouette, then the best-silhouette k again and the write, against ``custseg fit
  --engine spark --k-range 2-10 --no-report``;
* ``score``: the peer loading its saved ``PipelineModel`` (fitted once, not timed),
  ``transform`` and write, against ``custseg score --engine spark`` with a model fitted
  once on the bundled sample (memory engine, not timed).

Every run prints its wall time, the peak resident memory of the whole process tree
(Python, the JVM, Spark's Python workers; sampled every 0.25 s), the JVM's ``-Xmx``, the
load average before and after, the rows written (read from the output's Parquet
footers), custseg's model fields (``engine``, ``n_rows``, ``k``, ``training.engine``) and
stage times (its ``--verbose`` progress lines); then one line per part with the medians
and the ratio custseg / peer, and ``--json PATH`` writes every figure.

    .venv/bin/python bench/bench_spark.py                                # 1M rows, 3 runs
    .venv/bin/python bench/bench_spark.py --rows 5000000 --parts fit --runs 1
    .venv/bin/python bench/bench_spark.py --rows 1000000 --row-groups 1  # pandas' layout
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

PEER = HERE / "_mllib_peer.py"
CUSTSEG = Path(sys.executable).with_name("custseg")
PARTS = ("fit", "sweep", "score")
# A --verbose progress line of custseg: "Choosing the number of segments: 1.1 s".
_STAGE = re.compile(r"^(?P<stage>[A-Z][^:]{2,80}): (?P<seconds>\d+(?:\.\d+)?) s$")


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip()


# --- data ------------------------------------------------------------------------------


def customers(cache: Path, rows: int, row_groups: int) -> Path:
    """The Parquet file of ``rows`` synthetic customers in ``row_groups`` row groups.

    The same rows whatever the layout: 1,000,000-row chunks of ``synthesise`` with seeds
    0, 1, ... and ids S000000000...; written once per size and layout.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from _synth import synthesise

    path = cache / f"customers_{rows}_rg{row_groups}.parquet"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    group = -(-rows // row_groups)
    tmp = path.with_suffix(".tmp")
    writer = None
    pending: list[pa.Table] = []
    step = 1_000_000
    for i, start in enumerate(range(0, rows, step)):
        frame = synthesise(min(step, rows - start), random_state=i)
        frame["CUST_ID"] = [f"S{start + j:09d}" for j in range(len(frame))]
        pending.append(pa.Table.from_pandas(frame, preserve_index=False))
        del frame
        table = pa.concat_tables(pending)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        last = start + step >= rows
        while table.num_rows >= group or (last and table.num_rows):
            size = min(group, table.num_rows)
            writer.write_table(table.slice(0, size), row_group_size=size)
            table = table.slice(size)
        pending = [table] if table.num_rows else []
    assert writer is not None
    writer.close()
    tmp.rename(path)
    written = pq.ParquetFile(path).metadata
    print(
        f"wrote {written.num_rows:,} customers in {written.num_row_groups} row groups to"
        f" {path} ({path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return path


def rows_written(folder: Path) -> int | None:
    """Rows in a Parquet file or folder of part files (footers only), None if absent."""
    import pyarrow.dataset as ds

    if not folder.exists():
        return None
    files = [folder] if folder.is_file() else sorted(folder.glob("*.parquet"))
    return sum(ds.dataset(str(f)).count_rows() for f in files)


# --- one command in a fresh process -----------------------------------------------------


def run(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall seconds, peak RSS of the process tree, the JVM's -Xmx and the output."""
    import psutil

    load_before = _load()
    commit = _git("rev-parse", "--short=10", "HEAD")
    peak = 0
    xmx: list[str] = []
    done = threading.Event()
    started = time.perf_counter()
    process = psutil.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            total = 0
            try:
                tree = [process, *process.children(recursive=True)]
            except psutil.Error:
                tree = []
            for member in tree:
                try:
                    total += member.memory_info().rss
                    if not xmx and member.name() == "java":
                        line = member.cmdline()
                        # Not spark-submit's launcher (-Xmx128m), the JVM it starts.
                        if "org.apache.spark.launcher.Main" not in line:
                            xmx.extend(a[4:] for a in line if a.startswith("-Xmx"))
                except psutil.Error:
                    pass
            peak = max(peak, total)
            done.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(
            f"failed ({process.returncode}): {' '.join(command)}\n"
            f"{stderr[-3000:]}\n{stdout[-1000:]}"
        )
    return {
        "seconds": seconds,
        "peak_rss_mb": peak / 2**20,
        "xmx": xmx[0] if xmx else None,
        "commit": commit,
        "load_before": load_before,
        "load_after": _load(),
        "stdout": stdout,
        "stderr": stderr,
    }


def _peer_result(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith("PEER ")]
    return json.loads(lines[-1][5:]) if lines else {}


def _custseg_stages(stderr: str) -> dict[str, float]:
    stages: dict[str, float] = {}
    for line in stderr.splitlines():
        found = _STAGE.match(line.strip())
        if found:
            stages[found["stage"]] = float(found["seconds"])
    return stages


def _model_fields(folder: Path) -> dict[str, Any]:
    """The model's ``engine``, ``n_rows``, ``k``, ``training.engine`` and the ks swept.

    ``engine``, ``n_rows`` and ``k`` are the model's metrics (``model.json``'s
    ``metrics``; ``metrics.json`` repeats most of them), ``training`` is ``model.json``'s;
    the ks swept are ``metrics.json``'s ``k_selection``.
    """
    model = json.loads((folder / "model.json").read_text())
    metrics = model.get("metrics") or {}
    training = model.get("training") or {}
    selection = json.loads((folder / "metrics.json").read_text()).get("k_selection") or []
    return {
        "engine": metrics.get("engine"),
        "n_rows": metrics.get("n_rows"),
        "k": metrics.get("k", model.get("k")),
        "training.engine": training.get("engine"),
        "training.rows": training.get("rows"),
        "k_swept": [point.get("k") for point in selection],
    }


def _seconds(stages: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.1f}" for name, value in stages.items())


# --- the parts --------------------------------------------------------------------------


class Bench:
    """Runs and prints both sides of each part; keeps every figure for --json."""

    def __init__(self, args: argparse.Namespace, data: Path, scratch: Path) -> None:
        self.args = args
        self.data = data
        self.scratch = scratch
        self.env = dict(
            os.environ,
            SPARK_DRIVER_MEMORY=args.driver_memory,
            SPARK_LOCAL_IP="127.0.0.1",
            PYSPARK_PYTHON=sys.executable,
        )
        self.figures: dict[str, Any] = {}
        self.commit = _git("rev-parse", "--short=10", "HEAD")

    def fresh(self, name: str) -> Path:
        """A new, empty run folder under the scratch folder (its output does not exist)."""
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.scratch))

    def peer(self, what: str, extra: list[str]) -> dict[str, Any]:
        folder = self.fresh(f"peer-{what}")
        try:
            command = [
                sys.executable,
                str(PEER),
                what,
                "--input",
                str(self.data),
                "--out",
                str(folder / "out"),
                "--master",
                self.args.master,
                "--driver-memory",
                self.args.driver_memory,
                "--seed",
                str(self.args.seed),
                *extra,
            ]
            result = run(command, self.env)
            result["rows_written"] = rows_written(folder / "out")
            result["peer"] = _peer_result(result["stdout"])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return result

    def custseg_fit(self, extra: list[str]) -> dict[str, Any]:
        folder = self.fresh("custseg-fit")
        try:
            command = [
                str(CUSTSEG),
                "--verbose",
                "fit",
                "--engine",
                "spark",
                "--spark-master",
                self.args.master,
                "--input",
                str(self.data),
                "--out",
                str(folder / "out"),
                "--seed",
                str(self.args.seed),
                "--no-report",
                *extra,
            ]
            result = run(command, self.env)
            result["model"] = _model_fields(folder / "out")
            result["stages"] = _custseg_stages(result["stderr"])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return result

    def custseg_score(self, model: Path) -> dict[str, Any]:
        folder = self.fresh("custseg-score")
        try:
            command = [
                str(CUSTSEG),
                "--verbose",
                "score",
                "--engine",
                "spark",
                "--spark-master",
                self.args.master,
                "--model",
                str(model),
                "--input",
                str(self.data),
                "--out",
                str(folder / "out"),
                "--json",
            ]
            result = run(command, self.env)
            result["rows_written"] = rows_written(folder / "out")
            result["stages"] = _custseg_stages(result["stderr"])
            try:
                result["summary"] = json.loads(result["stdout"][result["stdout"].index("{") :])
            except ValueError:
                result["summary"] = None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return result

    def alternate(
        self, part: str, peer: Any, custseg: Any, describe: Any
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``--runs`` runs of each side, alternating which goes first; prints every run."""
        peers: list[dict[str, Any]] = []
        ours: list[dict[str, Any]] = []
        for i in range(self.args.runs):
            order = [("peer", peer, peers), ("custseg", custseg, ours)]
            for side, call, into in order if i % 2 == 0 else order[::-1]:
                result = call()
                into.append(result)
                print(f"  {part} run {i + 1} {side:7s} {describe(side, result)}", flush=True)
        return peers, ours

    def summarise(
        self, part: str, title: str, peers: list[dict[str, Any]], ours: list[dict[str, Any]]
    ) -> None:
        peer = statistics.median(r["seconds"] for r in peers)
        custseg = statistics.median(r["seconds"] for r in ours)
        line = (
            f"{title}: peer {peer:.1f} s, custseg {custseg:.1f} s, ratio"
            f" {custseg / peer:.2f}x (medians of {len(peers)})"
        )
        print(line, flush=True)
        keep = ("seconds", "peak_rss_mb", "xmx", "commit", "load_before", "load_after")
        keep_more = (*keep, "rows_written", "peer", "model", "stages", "summary")
        self.figures[part] = {
            "line": line,
            "peer_median_s": peer,
            "custseg_median_s": custseg,
            "ratio": custseg / peer,
            "peer_runs": [{k: r[k] for k in keep_more if k in r} for r in peers],
            "custseg_runs": [{k: r[k] for k in keep_more if k in r} for r in ours],
        }

    def describe(self, side: str, result: dict[str, Any]) -> str:
        text = (
            f"{result['seconds']:6.1f} s, peak RSS {result['peak_rss_mb']:,.0f} MB"
            f" (-Xmx {result['xmx']}), load {result['load_before']} -> {result['load_after']}"
        )
        if result["commit"] != self.commit:
            text += f", HEAD {result['commit']} at its start"
        if result.get("rows_written") is not None:
            text += f", {result['rows_written']:,} rows written"
        if side == "peer" and result.get("peer"):
            info = result["peer"]
            text += f"; k = {info.get('k')}" if "k" in info else ""
            if "silhouette" in info:
                text += f", silhouette {info['silhouette']:.4f}"
            text += f"; JVM max heap {info.get('heap_mb', 0):,.0f} MB"
            text += f"; stages: {_seconds(info.get('stages', {}))}"
        if "model" in result:
            model = result["model"]
            swept = model["k_swept"]
            text += "; " + ", ".join(f"{k} {v}" for k, v in model.items() if k != "k_swept")
            if len(swept) > 1:
                text += f"; k swept over {swept[0]}..{swept[-1]} ({len(swept)} values)"
        if result.get("summary"):
            summary = result["summary"]
            counts = {k: v for k, v in summary.items() if isinstance(v, int | float)}
            text += f"; summary {counts}"
        if result.get("stages"):
            text += f"; stages: {_seconds(result['stages'])}"
        return text

    # The three parts.

    def fit(self) -> None:
        k = str(self.args.k)
        peers, ours = self.alternate(
            "fit",
            lambda: self.peer("fit", ["--k", k]),
            lambda: self.custseg_fit(["--k", k]),
            self.describe,
        )
        swept = [r["model"]["k_swept"] for r in ours if len(r["model"]["k_swept"]) > 1]
        if swept:
            chose = [r["stages"].get("Choosing the number of segments") for r in ours]
            print(
                f"  note: custseg fit --k {k} still swept k over {swept[0][0]}..{swept[0][-1]}"
                f" (k_selection in metrics.json) in {len(swept)} of {len(ours)} runs;"
                f" 'Choosing the number of segments' took {chose} s"
            )
        self.summarise("fit", f"fit {self.args.rows:,} rows, k={k}", peers, ours)

    def sweep(self) -> None:
        low, high = self.args.k_range.split("-")
        peers, ours = self.alternate(
            "sweep",
            lambda: self.peer("sweep", ["--k-range", self.args.k_range]),
            lambda: self.custseg_fit(["--k-range", self.args.k_range]),
            self.describe,
        )
        chosen = f"peer chose k={peers[0]['peer'].get('k')}, custseg k={ours[0]['model']['k']}"
        self.summarise(
            "sweep", f"sweep {self.args.rows:,} rows, k in {low}..{high} ({chosen})", peers, ours
        )

    def score(self) -> None:
        from custseg.sources import sample_path

        models = self.fresh("models")
        model = models / "custseg"
        run(
            [str(CUSTSEG), "--quiet", "fit", "--input", str(sample_path()), "--out", str(model)]
            + ["--no-report", "--seed", str(self.args.seed)],
            self.env,
        )
        k = json.loads((model / "metrics.json").read_text())["k"]
        saved = models / "peer"
        run(
            [sys.executable, str(PEER), "save", "--input", str(self.data), "--model", str(saved)]
            + ["--k", str(k), "--seed", str(self.args.seed), "--master", self.args.master]
            + ["--driver-memory", self.args.driver_memory],
            self.env,
        )
        print(f"  score: models fitted (not timed): custseg on the sample and the peer, k = {k}")
        peers, ours = self.alternate(
            "score",
            lambda: self.peer("score", ["--model", str(saved)]),
            lambda: self.custseg_score(model / "model.json"),
            self.describe,
        )
        self.summarise("score", f"score {self.args.rows:,} rows, k={k}", peers, ours)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="custseg's Spark engine against the hand-written MLlib pipeline.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic customers")
    parser.add_argument(
        "--row-groups", type=int, default=10, help="Parquet row groups (1: pandas' default)"
    )
    parser.add_argument(
        "--parts", default=",".join(PARTS), help="comma-separated: fit, sweep, score"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each side per part")
    parser.add_argument("--master", default="local[2]", help="Spark master of both sides")
    parser.add_argument("--driver-memory", default="8g", help="spark.driver.memory of both sides")
    parser.add_argument("--k", type=int, default=6, help="k of the fit part")
    parser.add_argument("--k-range", default="2-10", help="ks of the sweep part")
    parser.add_argument("--seed", type=int, default=0, help="seed of both sides")
    parser.add_argument(
        "--cache", type=Path, default=Path("/tmp/custseg-bench"), help="synthetic data folder"
    )
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        parser.error(f"--parts {args.parts!r}: choose among {', '.join(PARTS)}")
    if args.runs < 1 or args.rows < 1 or args.row_groups < 1:
        parser.error("--runs, --rows and --row-groups should be >= 1")

    commit = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--", "src")
    print(
        f"custseg {commit[:10]}"
        + (f" (src has uncommitted changes: {len(dirty.splitlines())} files)" if dirty else "")
        + f"; master {args.master}, driver memory {args.driver_memory} on both sides;"
        f" {os.cpu_count()} cores; load average {_load()}",
        flush=True,
    )
    data = customers(args.cache, args.rows, args.row_groups)
    scratch = Path(tempfile.mkdtemp(prefix="runs-", dir=args.cache))
    bench = Bench(args, data, scratch)
    try:
        for part in parts:
            getattr(bench, part)()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    end_commit = _git("rev-parse", "HEAD")
    if end_commit != commit:
        print(f"note: HEAD moved during the runs: {commit[:10]} -> {end_commit[:10]}")
    print("summary:\n" + "\n".join(figure["line"] for figure in bench.figures.values()))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "commit": commit,
                    "commit_at_end": end_commit,
                    "src_uncommitted": dirty.splitlines(),
                    "rows": args.rows,
                    "row_groups": args.row_groups,
                    "master": args.master,
                    "driver_memory": args.driver_memory,
                    "cores": os.cpu_count(),
                    "parts": bench.figures,
                },
                indent=2,
            )
            + "\n"
        )
        print(f"figures: {args.json}")


if __name__ == "__main__":
    main()
