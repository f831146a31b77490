"""The Spark session of the Spark engine: offline, quiet, and on this machine's Python.

:func:`spark_session` returns the active session when there is one (a notebook's, a
job's, the test suite's) and otherwise starts one for ``master``:

* ``local[N]`` (the default ``local[*]``): Spark in this process's JVM, bound to
  127.0.0.1, without the web UI (no port to clash with), nothing downloaded (no Ivy or
  Maven packages are asked for); that JVM is also the executor, so unless
  ``spark.driver.memory`` is configured it gets half of the machine's memory (between
  1 and 8 GB) instead of Spark's 1 GB, which Parquet files with large row groups
  exhaust;
* ``spark://host:7077``: a standalone cluster; ``yarn``, ``k8s://...``: a cluster
  manager, configured as usual through ``SPARK_CONF_DIR`` and ``spark-defaults.conf``.

Python workers run the driver's interpreter (``spark.pyspark.python``) unless the
environment says otherwise (``PYSPARK_PYTHON``), so that executors on this machine find
custseg and its dependencies.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..exceptions import ConfigError

__all__ = [
    "local_driver_memory",
    "quiet_pandas_warning",
    "require_pyspark",
    "spark_errors",
    "spark_session",
]

# pyspark 4.x warns at every pandas conversion that it does not "fully" support
# pandas 3; the conversions custseg makes (Arrow batches of numbers and text) are
# tested here, so the warning carries no information for its users.
_PANDAS_WARNING = "PySpark does not yet fully support pandas"


def quiet_pandas_warning() -> None:
    """Silence pyspark's blanket warning about pandas 3 (see the module comment)."""
    warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)


def require_pyspark() -> Any:
    """The ``pyspark`` module, or a one-line error that says how to install it."""
    try:
        import pyspark
    except ImportError as exc:
        raise ConfigError(
            "the Spark engine needs pyspark; install it with pip install 'custseg[spark]'"
        ) from exc
    return pyspark


def local_driver_memory() -> str | None:
    """``spark.driver.memory`` for a local session, or ``None`` when it is configured.

    Half of the physical memory, between 1 and 8 GB; ``None`` when the user set it
    (``SPARK_DRIVER_MEMORY``, ``PYSPARK_SUBMIT_ARGS`` or ``spark-defaults.conf``).
    """
    if os.environ.get("SPARK_DRIVER_MEMORY"):
        return None
    submit = os.environ.get("PYSPARK_SUBMIT_ARGS", "")
    if "--driver-memory" in submit or "spark.driver.memory" in submit:
        return None
    home = os.environ.get("SPARK_HOME")
    for folder in (os.environ.get("SPARK_CONF_DIR"), home and str(Path(home) / "conf")):
        defaults = Path(folder) / "spark-defaults.conf" if folder else None
        if defaults is not None and defaults.is_file():
            lines = defaults.read_text(encoding="utf-8", errors="replace").splitlines()
            if any(line.split()[:1] == ["spark.driver.memory"] for line in lines):
                return None
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    megabytes = min(max(total // 2 // 2**20, 1024), 8192)
    return f"{megabytes}m"


def spark_session(master: str | None = None, *, app_name: str = "custseg") -> Any:
    """The active Spark session, or a new one for ``master``.

    Parameters
    ----------
    master : str or None, default None
        ``local[2]``, ``spark://host:7077``, ``yarn``...; ``None`` reuses the active
        session or starts ``local[*]``. An active session is reused whatever its master
        when ``master`` is ``None`` or equal to it.
    app_name : str, default "custseg"
        Application name shown by the cluster manager.

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    ConfigError
        If pyspark is not installed, Java is missing, or the session cannot start.
    """
    require_pyspark()
    quiet_pandas_warning()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and (master is None or active.sparkContext.master == master):
        return active
    if active is not None:
        raise ConfigError(
            f"a Spark session with master {active.sparkContext.master!r} is already running"
            f" in this process; stop it first or leave out --spark-master {master!r}"
        )
    if "JAVA_HOME" not in os.environ and shutil.which("java") is None:
        raise ConfigError(
            "the Spark engine needs Java 17 (java is not on the PATH); install it, e.g."
            " apt-get install openjdk-17-jre-headless, or set JAVA_HOME"
        )
    master = master or "local[*]"
    # pyspark starts its Python workers with $PYSPARK_PYTHON (not the configuration
    # key) when the driver is a plain Python process: default it to this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.pyspark.python", os.environ["PYSPARK_PYTHON"])
    )
    if master.startswith("local"):
        builder = (
            builder.config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            # A few partitions per core: the default 200 only adds scheduling overhead
            # on one machine.
            .config("spark.sql.shuffle.partitions", str(max(4, 2 * (os.cpu_count() or 2))))
        )
        memory = local_driver_memory()
        if memory is not None:
            builder = builder.config("spark.driver.memory", memory)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # py4j and JVM start-up errors have no common base class
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"cannot start Spark with master {master!r}: {first}; check --spark-master and"
            " that Java 17 is installed"
        ) from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def spark_errors(what: str) -> Iterator[None]:
    """Turn a Spark failure during ``what`` into a one-line :class:`ConfigError`.

    When Spark's JVM dies (most often ``java.lang.OutOfMemoryError``, printed in
    Spark's log above), Python only sees the connection to it refused; py4j and pyspark
    errors carry the JVM's first line. Other exceptions pass through unchanged.
    """
    try:
        yield
    except ConnectionRefusedError as exc:
        raise ConfigError(
            f"Spark stopped while {what} (its JVM no longer answers; Spark's log above"
            " names the cause, most often java.lang.OutOfMemoryError); give it more memory:"
            " spark.driver.memory in local mode, spark.executor.memory on a cluster"
            " (spark-defaults.conf, or SPARK_DRIVER_MEMORY=8g)"
        ) from exc
    except Exception as exc:
        module = type(exc).__module__ or ""
        if not module.startswith(("py4j", "pyspark")):
            raise
        text = str(exc).strip()
        first = text.splitlines()[0][:300] if text else type(exc).__name__
        if "OutOfMemoryError" in text:
            first = "java.lang.OutOfMemoryError: Java heap space"
        raise ConfigError(
            f"Spark failed while {what}: {first}; if it ran out of memory, raise"
            " spark.driver.memory (local mode) or spark.executor.memory (cluster)"
        ) from exc
