"""The transaction roll-up at scale: custseg vs pandas groupby vs DuckDB SQL by hand.

Writes synthetic invoice lines to Parquet once (default 10,000,000 lines of 1,000,000
customers: integer quantities with 2% cancellations, prices, timestamps over a year,
products, five countries, 1% guest lines without a customer id, ids as floats), then
times three ways of computing the retail recipe's features from that file, each in its
own process (its peak RSS is its own), alternating, ``--repeat`` times:

- ``custseg``: ``build_features(path, window="12M")`` (every query it runs, the
  pre-queries included);
- ``duckdb``: the same features as one hand-written DuckDB query over the typed columns;
- ``pandas``: what a notebook would write: ``read_parquet`` then ``groupby``.

Prints medians, the ratios of the medians, peak RSS, and checks that the three agree on
every customer's net spend and frequency. Run from the repository root::

    .venv/bin/python bench/bench_features.py                        # 10M lines, 1M customers
    .venv/bin/python bench/bench_features.py --rows 2000000 --customers 200000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

AS_OF = "2012-01-01"
COUNTRIES = np.array(["United Kingdom", "Germany", "France", "EIRE", "Spain"])
_CHUNK = 1_000_000


def write_lines(path: Path, rows: int, customers: int, seed: int = 0) -> None:
    """Synthetic invoice lines, written chunk by chunk (bounded memory)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2011-01-01T00:00")
    minutes = 365 * 24 * 60
    country_of = rng.choice(len(COUNTRIES), size=customers, p=[0.8, 0.05, 0.05, 0.05, 0.05])
    with pq.ParquetWriter(str(path), _schema()) as writer:
        for first in range(0, rows, _CHUNK):
            n = min(_CHUNK, rows - first)
            customer = rng.integers(0, customers, size=n)
            invoice = first + np.arange(n) // 3  # about three lines per invoice
            cancelled = rng.random(n) < 0.02
            quantity = rng.integers(1, 13, size=n) * np.where(cancelled, -1, 1)
            ids = (12346 + customer).astype("float64")
            ids[rng.random(n) < 0.01] = np.nan  # guests
            prefix = np.where(cancelled, "C", "")
            table = pa.table(
                {
                    "InvoiceNo": pa.array(np.char.add(prefix, (500000 + invoice).astype(str))),
                    "StockCode": pa.array((20000 + rng.integers(0, 4000, size=n)).astype(str)),
                    "Quantity": pa.array(quantity),
                    "InvoiceDate": pa.array(
                        (start + rng.integers(0, minutes, size=n)).astype("datetime64[s]")
                    ),
                    "UnitPrice": pa.array(np.round(rng.uniform(0.5, 20, size=n), 2)),
                    "CustomerID": pa.array(ids, from_pandas=True),
                    "Country": pa.array(COUNTRIES[country_of[customer]]),
                },
                schema=_schema(),
            )
            writer.write_table(table)


def _schema() -> pa.Schema:
    return pa.schema(
        [
            ("InvoiceNo", pa.string()),
            ("StockCode", pa.string()),
            ("Quantity", pa.int64()),
            ("InvoiceDate", pa.timestamp("s")),
            ("UnitPrice", pa.float64()),
            ("CustomerID", pa.float64()),
            ("Country", pa.string()),
        ]
    )


HAND_SQL = """
WITH l AS (
  SELECT CAST(CAST(CustomerID AS BIGINT) AS VARCHAR) AS c, InvoiceNo AS inv, StockCode AS p,
    Country AS country, Quantity AS q, Quantity * UnitPrice AS v,
    CAST(InvoiceDate AS DATE) - DATE '1970-01-01' AS d,
    year(InvoiceDate) * 12 + month(InvoiceDate) AS m,
    CASE WHEN InvoiceNo LIKE 'C%' OR Quantity < 0 THEN 1 ELSE 0 END AS r
  FROM read_parquet('{path}')
  WHERE CustomerID IS NOT NULL AND InvoiceDate >= DATE '2011-01-01'
    AND InvoiceDate < DATE '{as_of}'
)
SELECT c AS CustomerID,
  {as_of_day} - MAX(CASE WHEN r = 0 THEN d END) AS recency_days,
  COUNT(DISTINCT CASE WHEN r = 0 THEN inv END) AS frequency,
  SUM(v) AS monetary,
  SUM(v) / NULLIF(COUNT(DISTINCT CASE WHEN r = 0 THEN inv END), 0) AS average_order_value,
  SUM(CASE WHEN r = 0 THEN q ELSE 0 END) / NULLIF(COUNT(DISTINCT CASE WHEN r = 0 THEN inv END), 0)
    AS items_per_order,
  {as_of_day} - MIN(d) AS tenure_days,
  COUNT(DISTINCT CASE WHEN r = 0 THEN m END) / 12.0 AS active_months_share,
  AVG(r) AS returns_share,
  COALESCE((SUM(CASE WHEN d >= {last} THEN v ELSE 0 END)
    - SUM(CASE WHEN d < {first} THEN v ELSE 0 END))
    / NULLIF(ABS(SUM(CASE WHEN d >= {last} THEN v ELSE 0 END))
    + ABS(SUM(CASE WHEN d < {first} THEN v ELSE 0 END)), 0), 0) AS spend_trend,
  COUNT(DISTINCT CASE WHEN r = 0 THEN p END) AS distinct_products,
  {shares}
FROM l GROUP BY c ORDER BY c
"""


def _days(day: str) -> int:
    return int((np.datetime64(day) - np.datetime64("1970-01-01")).astype(int))


def run_hand_duckdb(path: Path) -> object:
    import duckdb

    as_of_day, start = _days(AS_OF), _days("2011-01-01")
    third = (as_of_day - start) // 3
    shares = ",\n  ".join(
        f"COALESCE(SUM(CASE WHEN country = '{c}' AND r = 0 THEN v ELSE 0 END)"
        f' / NULLIF(SUM(CASE WHEN r = 0 THEN v ELSE 0 END), 0), 0) AS "share_{c}"'
        for c in COUNTRIES
    )
    sql = HAND_SQL.format(
        path=path,
        as_of=AS_OF,
        as_of_day=as_of_day,
        first=start + third,
        last=as_of_day - third,
        shares=shares,
    )
    connection = duckdb.connect()
    connection.execute("SET memory_limit = '1GB'")
    connection.execute("SET enable_progress_bar = false")
    return connection.sql(sql).df()


def run_pandas(path: Path) -> object:
    import pandas as pd

    lines = pd.read_parquet(path)
    lines = lines[lines["CustomerID"].notna()]
    lines = lines[(lines["InvoiceDate"] >= "2011-01-01") & (lines["InvoiceDate"] < AS_OF)]
    lines["CustomerID"] = lines["CustomerID"].astype("int64").astype(str)
    lines["value"] = lines["Quantity"] * lines["UnitPrice"]
    lines["ret"] = lines["InvoiceNo"].str.startswith("C") | (lines["Quantity"] < 0)
    lines["day"] = lines["InvoiceDate"].dt.normalize()
    lines["month"] = lines["InvoiceDate"].dt.month
    as_of = pd.Timestamp(AS_OF)
    third = pd.Timedelta(days=(as_of - pd.Timestamp("2011-01-01")).days // 3)
    buys = lines[~lines["ret"]]
    by = lines.groupby("CustomerID")
    bought = buys.groupby("CustomerID")
    out = pd.DataFrame(
        {
            "recency_days": (as_of - bought["day"].max()).dt.days,
            "frequency": bought["InvoiceNo"].nunique(),
            "monetary": by["value"].sum(),
            "items": bought["Quantity"].sum(),
            "tenure_days": (as_of - by["day"].min()).dt.days,
            "active_months_share": bought["month"].nunique() / 12,
            "returns_share": by["ret"].mean(),
            "distinct_products": bought["StockCode"].nunique(),
            "first": lines[lines["day"] < pd.Timestamp("2011-01-01") + third]
            .groupby("CustomerID")["value"]
            .sum(),
            "last": lines[lines["day"] >= as_of - third].groupby("CustomerID")["value"].sum(),
        }
    )
    out[["first", "last"]] = out[["first", "last"]].fillna(0)
    out["average_order_value"] = out["monetary"] / out["frequency"]
    out["items_per_order"] = out["items"] / out["frequency"]
    total = out["first"].abs() + out["last"].abs()
    out["spend_trend"] = ((out["last"] - out["first"]) / total.where(total > 0)).fillna(0)
    spend = buys.pivot_table(index="CustomerID", columns="Country", values="value", aggfunc="sum")
    shares = spend.div(spend.sum(axis=1), axis=0).fillna(0).add_prefix("share_")
    return out.join(shares).reset_index().sort_values("CustomerID")


def run_custseg(path: Path) -> object:
    from custseg import build_features

    return build_features(path, as_of=AS_OF, window="12M").frame


CONTENDERS = {"custseg": run_custseg, "duckdb": run_hand_duckdb, "pandas": run_pandas}


def child(name: str, path: Path, check: Path | None) -> None:
    started = time.perf_counter()
    frame = CONTENDERS[name](path)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if check is not None:
        import pandas as pd

        assert isinstance(frame, pd.DataFrame)
        frame[["CustomerID", "monetary", "frequency"]].to_parquet(check, index=False)
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "customers": len(frame)}))  # type: ignore[arg-type]


def _spawn(name: str, path: Path, check: Path | None) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", name, "--data", str(path)]
    if check is not None:
        command += ["--check", str(check)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _agree(folder: Path) -> str:
    import pandas as pd

    frames = {
        n: pd.read_parquet(folder / f"{n}.parquet").set_index("CustomerID") for n in CONTENDERS
    }
    base = frames["custseg"].sort_index()
    gaps = []
    for name, frame in frames.items():
        frame = frame.sort_index()
        assert list(frame.index) == list(base.index), name
        gaps.append(float((frame["monetary"] - base["monetary"]).abs().max()))
        assert (frame["frequency"].fillna(0) == base["frequency"]).all(), name
    return f"all three agree on {len(base):,} customers (largest net-spend gap {max(gaps):.2e})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/custseg-bench-features"))
    parser.add_argument("--only", default=",".join(CONTENDERS))
    parser.add_argument("--child")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--check", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.check)
        return
    args.folder.mkdir(parents=True, exist_ok=True)
    path = args.folder / f"lines-{args.rows}-{args.customers}.parquet"
    if not path.exists():
        started = time.perf_counter()
        write_lines(path, args.rows, args.customers)
        print(
            f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB)"
            f" in {time.perf_counter() - started:.0f} s"
        )
    print(f"load average before: {os.getloadavg()}")
    names = args.only.split(",")
    runs: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    for i in range(args.repeat):
        for name in names:  # alternating: a slow moment of the machine hits every contender
            check = args.folder / f"{name}.parquet" if i == 0 else None
            runs[name].append(_spawn(name, path, check))
    print(f"load average after: {os.getloadavg()}")
    medians = {n: statistics.median(r["seconds"] for r in runs[n]) for n in names}
    for name in names:
        seconds = ", ".join(f"{r['seconds']:.1f}" for r in runs[name])
        peak = max(r["peak_mb"] for r in runs[name])
        print(f"{name:8s} median {medians[name]:6.2f} s (runs {seconds}), peak RSS {peak:,.0f} MB")
    if {"custseg", "pandas", "duckdb"} <= set(names):
        print(f"pandas / custseg: {medians['pandas'] / medians['custseg']:.2f}x faster")
        print(
            f"custseg / hand-written DuckDB: {medians['custseg'] / medians['duckdb']:.2f}x the time"
        )
        print(_agree(args.folder))


if __name__ == "__main__":
    main()
