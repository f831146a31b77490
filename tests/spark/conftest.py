"""Fixtures of the Spark tests: one local Spark session, and a real standalone cluster.

- ``spark``: a ``local[2]`` session shared by the whole test session (started once: a
  JVM costs seconds), bound to 127.0.0.1, without the web UI, nothing downloaded.
- ``sample_parquet``: the bundled sample written once as Parquet.
- ``standalone_master``: a Spark master and one worker started on 127.0.0.1 from the
  pyspark package (``bin/spark-class``), on free ports; both are stopped afterwards.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from custseg._utils.spark import spark_session

SPARK_HOME = Path(__import__("pyspark").__file__).parent


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_parquet(
    _sample_frame_once: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("spark-data") / "customers.parquet"
    _sample_frame_once.to_parquet(path, index=False)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(condition: Any, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()[-2000:]}")
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not start in 90 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def standalone_master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``spark://127.0.0.1:PORT`` of a running master with one registered worker."""
    folder = tmp_path_factory.mktemp("spark-standalone")
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", SPARK_HOME=str(SPARK_HOME))
    port, ui = _free_port(), _free_port()
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        master_log = folder / "master.log"
        with master_log.open("wb") as out:
            master = subprocess.Popen(
                [
                    spark_class,
                    "org.apache.spark.deploy.master.Master",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--webui-port",
                    str(ui),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        processes.append(master)

        def status() -> dict[str, Any]:
            with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as answer:
                return json.loads(answer.read())

        _wait(lambda: status()["status"] == "ALIVE", "the Spark master", master, master_log)
        url = f"spark://127.0.0.1:{port}"
        worker_log = folder / "worker.log"
        with worker_log.open("wb") as out:
            worker = subprocess.Popen(
                [
                    spark_class,
                    "org.apache.spark.deploy.worker.Worker",
                    url,
                    "--host",
                    "127.0.0.1",
                    "--cores",
                    "2",
                    "--memory",
                    "2g",
                    "--webui-port",
                    str(_free_port()),
                    "--work-dir",
                    str(folder / "work"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        processes.append(worker)
        _wait(lambda: status()["aliveworkers"] >= 1, "the Spark worker", worker, worker_log)
        yield url
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
