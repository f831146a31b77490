"""The Spark session of the Spark engine: offline, quiet, and on this machine's Python.

:func:`spark_session` returns the active session when there is one (a notebook's, a
job's, the test suite's) and otherwise starts one for ``master``:

* ``local[N]`` (the default ``local[*]``): Spark in this process's JVM, bound to
  127.0.0.1, without the web UI (no port to clash with), nothing downloaded (no Ivy or
  Maven packages are asked for);
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
from typing import Any

from ..exceptions import ConfigError

__all__ = ["spark_session", "require_pyspark", "quiet_pandas_warning"]

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
