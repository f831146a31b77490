"""Spark's memory in local mode and its failures as one-line errors (no Spark started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from custseg._utils.spark import local_driver_memory, spark_errors
from custseg.exceptions import ConfigError


def test_a_local_session_gets_half_the_memory_unless_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("SPARK_DRIVER_MEMORY", "PYSPARK_SUBMIT_ARGS", "SPARK_CONF_DIR", "SPARK_HOME"):
        monkeypatch.delenv(name, raising=False)
    memory = local_driver_memory()
    assert memory is not None and memory.endswith("m")
    assert 1024 <= int(memory[:-1]) <= 8192
    monkeypatch.setenv("SPARK_DRIVER_MEMORY", "3g")
    assert local_driver_memory() is None
    monkeypatch.delenv("SPARK_DRIVER_MEMORY")
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--driver-memory 2g pyspark-shell")
    assert local_driver_memory() is None
    monkeypatch.delenv("PYSPARK_SUBMIT_ARGS")
    (tmp_path / "spark-defaults.conf").write_text("spark.driver.memory  6g\n", encoding="utf-8")
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    assert local_driver_memory() is None
    (tmp_path / "spark-defaults.conf").write_text("spark.executor.memory 6g\n", encoding="utf-8")
    assert local_driver_memory() == memory


class Py4JJavaError(Exception):
    """Stands for py4j's error class: only its module matters here."""


Py4JJavaError.__module__ = "py4j.protocol"


def test_spark_failures_become_one_line_errors() -> None:
    stopped = r"^Spark stopped while fitting \(its JVM no longer"
    with pytest.raises(ConfigError, match=stopped), spark_errors("fitting"):
        raise ConnectionRefusedError(111, "Connection refused")
    heap = "An error occurred\njava.lang.OutOfMemoryError: Java heap space\n\tat ..."
    with pytest.raises(ConfigError) as caught, spark_errors("scoring"):
        raise Py4JJavaError(heap)
    assert str(caught.value).startswith(
        "Spark failed while scoring: java.lang.OutOfMemoryError: Java heap space; if it ran"
    )
    assert "\n" not in str(caught.value)
    # Anything else is not Spark's to explain: it passes unchanged.
    with pytest.raises(KeyError), spark_errors("fitting"):
        raise KeyError("x")
