"""The hand-written MLlib pipeline custseg's Spark engine is measured against (issue 18).

What a data engineer would write with Spark MLlib alone, run as one command in a fresh
process by ``bench/bench_spark.py`` (JVM start included, as for ``custseg``):

* ``fit``: read Parquet, ``Imputer`` (median) on the 17 numeric columns,
  ``VectorAssembler``, ``StandardScaler``, ``KMeans(k, maxIter=20, seed)``,
  ``transform``, write (CUST_ID, prediction) to Parquet, ``ClusteringEvaluator``
  silhouette printed;
* ``sweep``: the same preparation (cached once), then for each k of ``--k-range`` a
  ``KMeans(k, maxIter=20)`` fit with its training cost and silhouette, then the final
  fit of the best-silhouette k, ``transform`` and the write;
* ``save``: fit the ``fit`` pipeline and save its ``PipelineModel`` (not timed);
* ``score``: load that ``PipelineModel``, ``transform``, write (CUST_ID, prediction).

The last line printed is ``PEER {json}`` with the figures the benchmark reads::

    .venv/bin/python bench/_mllib_peer.py fit --input customers.parquet --out out/ --k 6
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

ID = "CUST_ID"
MAX_ITER = 20


def session(master: str, driver_memory: str) -> Any:
    """A plain local session, as a data engineer would start one."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master(master)
        .appName("mllib-peer")
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def preparation(columns: list[str]) -> list[Any]:
    """Median imputation, one vector, standard scaling: the three stages before KMeans."""
    from pyspark.ml.feature import Imputer, StandardScaler, VectorAssembler

    imputed = [f"{c}__imputed" for c in columns]
    return [
        Imputer(strategy="median", inputCols=columns, outputCols=imputed),
        VectorAssembler(inputCols=imputed, outputCol="raw_features"),
        StandardScaler(inputCol="raw_features", outputCol="features", withMean=True),
    ]


def _numeric(frame: Any) -> list[str]:
    return [c for c in frame.columns if c != ID]


def _silhouette(predictions: Any) -> float:
    from pyspark.ml.evaluation import ClusteringEvaluator

    return float(ClusteringEvaluator().evaluate(predictions))


def _heap_mb(spark: Any) -> float:
    return spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory() / 2**20


def fit(args: argparse.Namespace, spark: Any, stages: dict[str, float]) -> dict[str, Any]:
    from pyspark.ml import Pipeline
    from pyspark.ml.clustering import KMeans

    frame = spark.read.parquet(args.input)
    started = time.perf_counter()
    prepared = Pipeline(stages=preparation(_numeric(frame))).fit(frame).transform(frame)
    features = prepared.select(ID, "features").cache()
    stages["prepare"] = time.perf_counter() - started
    started = time.perf_counter()
    model = KMeans(k=args.k, maxIter=MAX_ITER, seed=args.seed).fit(features)
    stages["kmeans"] = time.perf_counter() - started
    started = time.perf_counter()
    predictions = model.transform(features)
    predictions.select(ID, "prediction").write.parquet(args.out)
    stages["write"] = time.perf_counter() - started
    started = time.perf_counter()
    silhouette = _silhouette(predictions)
    stages["silhouette"] = time.perf_counter() - started
    print(f"k = {args.k}, silhouette {silhouette:.4f}", flush=True)
    return {"k": args.k, "silhouette": silhouette, "cost": model.summary.trainingCost}


def sweep(args: argparse.Namespace, spark: Any, stages: dict[str, float]) -> dict[str, Any]:
    from pyspark.ml import Pipeline
    from pyspark.ml.clustering import KMeans

    low, high = (int(v) for v in args.k_range.split("-"))
    frame = spark.read.parquet(args.input)
    started = time.perf_counter()
    prepared = Pipeline(stages=preparation(_numeric(frame))).fit(frame).transform(frame)
    features = prepared.select(ID, "features").cache()
    features.count()
    stages["prepare"] = time.perf_counter() - started
    started = time.perf_counter()
    curve = []
    for k in range(low, high + 1):
        model = KMeans(k=k, maxIter=MAX_ITER, seed=args.seed).fit(features)
        silhouette = _silhouette(model.transform(features))
        cost = model.summary.trainingCost
        curve.append({"k": k, "cost": cost, "silhouette": silhouette})
        print(f"k = {k}: cost {cost:.6g}, silhouette {silhouette:.4f}", flush=True)
    stages["sweep"] = time.perf_counter() - started
    best = max(curve, key=lambda point: point["silhouette"])["k"]
    started = time.perf_counter()
    model = KMeans(k=best, maxIter=MAX_ITER, seed=args.seed).fit(features)
    stages["final fit"] = time.perf_counter() - started
    started = time.perf_counter()
    model.transform(features).select(ID, "prediction").write.parquet(args.out)
    stages["write"] = time.perf_counter() - started
    print(f"best silhouette: k = {best}", flush=True)
    return {"k": best, "curve": curve}


def save(args: argparse.Namespace, spark: Any, stages: dict[str, float]) -> dict[str, Any]:
    from pyspark.ml import Pipeline
    from pyspark.ml.clustering import KMeans

    frame = spark.read.parquet(args.input)
    kmeans = KMeans(k=args.k, maxIter=MAX_ITER, seed=args.seed)
    started = time.perf_counter()
    model = Pipeline(stages=[*preparation(_numeric(frame)), kmeans]).fit(frame)
    stages["fit"] = time.perf_counter() - started
    model.write().save(args.model)
    return {"k": args.k}


def score(args: argparse.Namespace, spark: Any, stages: dict[str, float]) -> dict[str, Any]:
    from pyspark.ml import PipelineModel

    started = time.perf_counter()
    model = PipelineModel.load(args.model)
    stages["load"] = time.perf_counter() - started
    started = time.perf_counter()
    frame = spark.read.parquet(args.input)
    model.transform(frame).select(ID, "prediction").write.parquet(args.out)
    stages["transform and write"] = time.perf_counter() - started
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["fit", "sweep", "save", "score"])
    parser.add_argument("--input", required=True, help="Parquet file or folder")
    parser.add_argument("--out", help="output folder (fit, sweep, score); must not exist")
    parser.add_argument("--model", help="PipelineModel folder (save, score)")
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--k-range", default="2-10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="8g")
    args = parser.parse_args()
    started = time.perf_counter()
    spark = session(args.master, args.driver_memory)
    stages = {"session": time.perf_counter() - started}
    result = {"fit": fit, "sweep": sweep, "save": save, "score": score}[args.what](
        args, spark, stages
    )
    result.update(stages=stages, heap_mb=_heap_mb(spark), master=spark.sparkContext.master)
    spark.stop()
    print("PEER " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
