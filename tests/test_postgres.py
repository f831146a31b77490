"""custseg against a real PostgreSQL server: extract, fit --sql and the exported query.

The server is started by tests/_postgres.py (Debian's binaries, installed by
``make test``); its password holds unencoded ``?``, ``#`` and ``/``, which must never
appear in an output, a message or a model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from _postgres import PASSWORD, PostgresServer, load_frame, postgres_server
from custseg.config import FitConfig
from custseg.model import load_model
from custseg.pipeline import fit_segments
from custseg.prepare.plan import PrepConfig
from custseg.scoring.batch import score_customers
from custseg.scoring.sqlexport import export_sql

TABLE = "credit_card_customers"


@pytest.fixture(scope="module")
def pg(sample: pd.DataFrame) -> Iterator[PostgresServer]:
    with postgres_server() as server:
        load_frame(server, sample, TABLE)
        yield server


def _no_password(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text and "pa?ss" not in text


def test_extract_from_postgres_masks_the_password(run_cli, pg, sample, tmp_path):
    out = tmp_path / "customers.parquet"
    query = f'SELECT * FROM {TABLE} WHERE "TENURE" = 12'
    result = run_cli(["extract", "--warehouse", pg.url(), "--sql", query, "--out", out, "--json"])
    assert result.exit_code == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest["rows"] == int((sample["TENURE"] == 12).sum())
    assert manifest["warehouse"] == f"postgresql://custseg_admin:***@127.0.0.1:{pg.port}/postgres"
    assert manifest["query_sha256"] == hashlib.sha256(query.encode()).hexdigest()
    _no_password(result.stdout, result.stderr, (tmp_path / "customers.manifest.json").read_text())
    got = pd.read_parquet(out).sort_values("CUST_ID").reset_index(drop=True)
    expected = sample[sample["TENURE"] == 12].sort_values("CUST_ID").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_a_wrong_password_is_one_line_without_it(run_cli, pg, tmp_path):
    url = pg.url().replace(PASSWORD, "wr?ng#pw/x")
    result = run_cli(
        ["extract", "--warehouse", url, "--sql", "SELECT 1", "--out", tmp_path / "x.csv"]
    )
    assert result.exit_code == 2 and result.stderr.startswith("error: cannot connect")
    assert "wr?ng" not in result.stderr and "***" in result.stderr


def test_fit_from_a_postgres_query_file(run_cli, pg, tmp_path):
    query_file = tmp_path / "customers.sql"
    query = f"SELECT * FROM {TABLE} -- behaviour of every card holder\n"
    query_file.write_text(query)
    out = tmp_path / "segments"
    result = run_cli(
        [
            "fit",
            "--sql",
            f"@{query_file}",
            "--warehouse",
            pg.url(encoded=True),
            "--out",
            out,
            "--k",
            "4",
            "--k-range",
            "4-4",
            "--no-report",
        ]
    )
    assert result.exit_code == 0, result.stderr
    model = load_model(out / "model.json")
    assert model.training["rows"] == 8950 and model.k == 4
    assert model.training["source"].startswith("postgresql://custseg_admin:***@127.0.0.1:")
    assert model.training["query_file"] == "customers.sql"
    assert model.training["query_sha256"] == hashlib.sha256(query.encode()).hexdigest()
    for path in out.rglob("*"):
        if path.is_file():
            _no_password(path.read_text(errors="replace"), result.stderr)
            assert "pa%3Fss" not in path.read_text(errors="replace")


def _scores(pg: PostgresServer, sql: str) -> pd.DataFrame:
    with pg.connect() as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        names = [d.name for d in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=names)


def test_the_exported_query_runs_on_postgres_like_python(pg, model, sample):
    sql = export_sql(model, dialect="postgres", table=TABLE)
    got = _scores(pg, sql).set_index("CUST_ID").loc[sample["CUST_ID"]]
    expected = score_customers(model, sample).scored.set_index("CUST_ID")
    same = got["segment_id"].to_numpy() == expected["segment_id"].to_numpy()
    assert (expected["margin"].to_numpy()[~same] < 1e-9).all()
    np.testing.assert_allclose(
        got["distance"].to_numpy(dtype=float), expected["distance"], rtol=1e-9, atol=1e-9
    )
    # The plan reads each step once: the CTEs are materialised, not inlined per reference.
    plan = "\n".join(row[0] for row in _scores(pg, "EXPLAIN " + sql).itertuples(index=False))
    assert "CTE cs_input" in plan and "CTE Scan on cs_assigned" in plan


def test_every_kind_of_step_agrees_on_postgres(pg, sample):
    frame = sample.head(3000).copy()
    frame["CARD"] = np.where(np.arange(len(frame)) % 5 == 0, "gold", "classic")
    prep = PrepConfig(
        skew="yeo-johnson",
        winsorize=0.01,
        scaling="robust",
        indicator_threshold=0.0,
        pca=0.95,
        clustering_domain_features=("CREDIT_UTILISATION", "PAYMENT_MIN_RATIO", "PURCHASE_TYPE"),
    )
    model = fit_segments(
        frame, k=4, k_range=(4, 4), random_state=0, config=FitConfig(preparation=prep)
    )
    load_frame(pg, frame, "rich_customers")
    got = _scores(pg, export_sql(model, dialect="postgres", table="rich_customers"))
    got = got.set_index("CUST_ID").loc[frame["CUST_ID"]]
    expected = score_customers(model, frame).scored.set_index("CUST_ID")
    same = got["segment_id"].to_numpy() == expected["segment_id"].to_numpy()
    assert (expected["margin"].to_numpy()[~same] < 1e-9).all()


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_hostile_model_text_never_runs_on_postgres(pg, model, sample, conforming):
    hostile = [
        "x'; DROP TABLE credit_card_customers; --",
        "x\\'; DROP TABLE credit_card_customers; --",
        "line\nDROP TABLE credit_card_customers; --",
        "$$ dollar $tag$ */",
    ]
    segments = [dataclasses.replace(s, name=hostile[s.id]) for s in model.segments]
    sql = export_sql(dataclasses.replace(model, segments=segments), dialect="postgres", table=TABLE)
    with pg.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"SET standard_conforming_strings = {conforming}")
        cursor.execute("SET escape_string_warning = off")
        cursor.execute(sql)
        names = {row[2] for row in cursor.fetchall()}
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        assert cursor.fetchone() == (8950,)
    assert names <= set(hostile) and len(names) >= 2
