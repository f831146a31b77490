"""Peak memory of reading (and fitting) a table as it grows wider.

Each measurement is a fresh process (``/usr/bin/time -f %M``): ``read`` runs
``custseg.sources.read_table`` (what ``custseg fit`` and ``drift`` read with), ``fit``
runs ``custseg fit --no-report``. The files have an id column and gamma-distributed
numbers with two decimals. Prints the peak RSS of every width, the median of
``--repeat`` runs, and the slope in MB per 1,000 columns (least squares over the widths),
for each row count.

    .venv/bin/python bench/bench_width.py --widths 1000,2000,4000 --rows 5,10000
    .venv/bin/python bench/bench_width.py --what fit --widths 500,1000,2000 --rows 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CUSTSEG = str(Path(sys.executable).with_name("custseg"))
READ = (
    "import sys; from custseg.sources import read_table; read_table(sys.argv[1], max_columns=None)"
)


def write_csv(path: Path, n_columns: int, n_rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with path.open("w") as handle:
        handle.write("customer_id," + ",".join(f"f{i}" for i in range(n_columns - 1)) + "\n")
        for start in range(0, n_rows, 1000):
            block = rng.gamma(2.0, 50.0, size=(min(1000, n_rows - start), n_columns - 1))
            for offset, row in enumerate(block.round(2)):
                handle.write(f"C{start + offset}," + ",".join(map(str, row)) + "\n")


def peak_mb(args: list[str]) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of one fresh process."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *args], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{done.stderr[-2000:]}")
    return int(done.stderr.strip().splitlines()[-1]) / 1024, seconds


def slope(widths: list[int], values: list[float]) -> float:
    """Least-squares MB per 1,000 columns."""
    x = np.asarray(widths, dtype=float) / 1000
    return float(np.polyfit(x, np.asarray(values), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="1000,2000,4000")
    parser.add_argument("--rows", default="5,10000")
    parser.add_argument("--what", choices=("read", "fit"), default="read")
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    widths = [int(w) for w in options.widths.split(",")]
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as folder:
        for n_rows in (int(r) for r in options.rows.split(",")):
            peaks = []
            for width in widths:
                path = Path(folder) / f"w{width}_r{n_rows}.csv"
                write_csv(path, width, n_rows)
                if options.what == "read":
                    args = [PYTHON, "-c", READ, str(path)]
                else:
                    out = Path(folder) / "out"
                    args = [CUSTSEG, "fit", "--input", str(path), "--out", str(out),
                            "--no-report", "--max-columns", str(width), "--k", "2"]  # fmt: skip
                runs = []
                for _ in range(options.repeat):
                    if options.what == "fit":
                        subprocess.run(["rm", "-rf", str(Path(folder) / "out")], check=True)
                    runs.append(peak_mb(args))
                mb = statistics.median(r[0] for r in runs)
                seconds = statistics.median(r[1] for r in runs)
                peaks.append(mb)
                size = path.stat().st_size / 1e6
                print(
                    f"{options.what} {n_rows:>6} rows x {width:>5} columns ({size:7.1f} MB file):"
                    f" peak {mb:7.0f} MB, {seconds:6.2f} s (median of {options.repeat})"
                )
                path.unlink()
            if len(widths) > 1:
                ratio = peaks[-1] / peaks[0]
                print(
                    f"  {n_rows} rows: {slope(widths, peaks):.0f} MB per 1,000 columns;"
                    f" {widths[-1]}/{widths[0]} columns: {ratio:.2f}x the memory"
                )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
