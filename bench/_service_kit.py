"""What the service benchmarks share: a model, request bodies, a server and its memory.

``bench_service.py`` (throughput, latency) and ``stress_service.py`` (hostile load) both
start the real ``custseg serve`` on a free loopback port and send it bodies of records
drawn from the bundled sample; they import these helpers from here, and neither imports
the other.

    import sys; sys.path.insert(0, "bench")
    from _service_kit import bodies, fit_model, free_port, rss_mb, start_server
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SAMPLE", "bodies", "fit_model", "free_port", "rss_mb", "start_server"]

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "custseg" / "data" / "CC_GENERAL.csv"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of asking."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fit_model(folder: Path) -> Path:
    """A k = 8 model of the bundled sample, saved as ``folder/model.json``."""
    from custseg import save_model
    from custseg.pipeline import fit_segments

    frame = pd.read_csv(SAMPLE)
    model = fit_segments(frame, k=8, k_range=(8, 8), random_state=0)
    return save_model(model, folder / "model.json")


def bodies(n_bodies: int, n_records: int, seed: int) -> list[bytes]:
    """``n_bodies`` JSON bodies of ``n_records`` sample records each (gaps as null)."""
    frame = pd.read_csv(SAMPLE)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_bodies):
        rows = frame.iloc[rng.integers(0, len(frame), n_records)]
        records = [
            {k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
            for r in rows.to_dict(orient="records")
        ]
        out.append(json.dumps(records).encode())
    return out


def start_server(model: Path, port: int, *options: str) -> subprocess.Popen[bytes]:
    """``custseg serve`` of ``model`` on ``port``, once it answers ``/healthz`` (60 s)."""
    env = {k: v for k, v in os.environ.items() if k != "CUSTSEG_API_KEY"}
    command = [sys.executable, "-m", "custseg", "--quiet", "serve", "--model", str(model)]
    process = subprocess.Popen(
        [*command, "--port", str(port), *options], env=env, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with code {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not answer /healthz within 60 s")


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children (worker processes), in MB."""
    total = 0
    pids = [pid] + [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _parent(int(p.name)) == pid
    ]
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1
