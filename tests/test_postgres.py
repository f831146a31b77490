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
from urllib.parse import quote

import httpx
import numpy as np
import pandas as pd
import pytest

from _postgres import (
    PASSWORD,
    PostgresServer,
    closed_port,
    create_role,
    load_frame,
    postgres_server,
)
from _serve import serve as _serve
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
    np.testing.assert_allclose(
        got["distance_percentile"].to_numpy(dtype=float),
        expected["distance_percentile"],
        rtol=1e-9,
        atol=1e-6,
    )
    assert got["flags"].fillna("").tolist() == expected["flags"].fillna("").tolist()
    assert (got["flags"] == "out_of_profile").sum() > 0
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
    frame.loc[2999, "CARD"] = "platinum"  # a level the model never saw
    load_frame(pg, frame, "rich_customers")
    got = _scores(pg, export_sql(model, dialect="postgres", table="rich_customers"))
    got = got.set_index("CUST_ID").loc[frame["CUST_ID"]]
    expected = score_customers(model, frame).scored.set_index("CUST_ID")
    same = got["segment_id"].to_numpy() == expected["segment_id"].to_numpy()
    assert (expected["margin"].to_numpy()[~same] < 1e-9).all()
    assert got["flags"].fillna("").tolist() == expected["flags"].fillna("").tolist()
    assert "unseen_level:CARD" in str(expected["flags"].iloc[-1])


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


# ------------------------------------------------- every URL form, masked everywhere

# A user name in Azure's user@server form and passwords holding every character a URL
# parser can trip on; the roles are created on the real server and connected to.
AT_USER = "ana@corp.com"
AT_PASSWORD = "se;cr@t:/%{}x?#7"
# No "@", ":" or "%" followed by two hex digits: SQLAlchemy reads it written as is.
RAW_USER = "bob_reader"
RAW_PASSWORD = "r;aw?p#w/%{x}9"
# libpq only uses sslpassword to decrypt a client key: unused here, still a secret.
SSL_PASSWORD = "ssl-Zq9#unused"
WRONG_PASSWORDS = {True: "wr;ng@pw:/%{}z?#8", False: "wr;ng?pw#/%{z}8"}
SMALL = "small_customers"


@dataclasses.dataclass(frozen=True)
class UrlForm:
    """A way to write a warehouse URL: ``{pw}`` and ``{port}`` are filled in."""

    name: str
    template: str
    masked: str
    password: str
    encoded: bool

    def url(self, port: int, password: str | None = None) -> str:
        password = self.password if password is None else password
        written = quote(password, safe="") if self.encoded else password
        return self.template.format(pw=written, port=port, ssl=quote(SSL_PASSWORD, safe=""))

    def secrets(self, password: str | None = None) -> list[str]:
        password = self.password if password is None else password
        return [password, quote(password, safe=""), SSL_PASSWORD, quote(SSL_PASSWORD, safe="")]


FORMS = [
    UrlForm(
        "user@server user, encoded password",
        "postgresql://ana@corp.com:{pw}@127.0.0.1:{port}/postgres",
        "postgresql://ana@corp.com:***@127.0.0.1:{port}/postgres",
        AT_PASSWORD,
        True,
    ),
    UrlForm(
        "encoded user, psycopg driver",
        "postgresql+psycopg://ana%40corp.com:{pw}@127.0.0.1:{port}/postgres",
        "postgresql+psycopg://ana%40corp.com:***@127.0.0.1:{port}/postgres",
        AT_PASSWORD,
        True,
    ),
    UrlForm(
        "password and sslpassword in the query string",
        "postgresql://ana@corp.com@127.0.0.1:{port}/postgres?sslpassword={ssl}&password={pw}",
        "postgresql://ana@corp.com@127.0.0.1:{port}/postgres?sslpassword=***&password=***",
        AT_PASSWORD,
        True,
    ),
    UrlForm(
        "unencoded ; ? # / % { } in the password",
        "postgresql://bob_reader:{pw}@127.0.0.1:{port}/postgres",
        "postgresql://bob_reader:***@127.0.0.1:{port}/postgres",
        RAW_PASSWORD,
        False,
    ),
    UrlForm(
        "postgres:// alias with options",
        "postgres://ana@corp.com:{pw}@127.0.0.1:{port}/postgres?application_name=custseg",
        "postgres://ana@corp.com:***@127.0.0.1:{port}/postgres?application_name=custseg",
        AT_PASSWORD,
        True,
    ),
]


@pytest.fixture(scope="module")
def roles(pg: PostgresServer, sample: pd.DataFrame) -> PostgresServer:
    load_frame(pg, sample.head(400), SMALL)
    create_role(pg, AT_USER, AT_PASSWORD, SMALL)
    create_role(pg, RAW_USER, RAW_PASSWORD, SMALL)
    return pg


def _never_shown(secrets: list[str], *texts: str) -> None:
    """No secret, nor any 5 characters of one, in ``texts``."""
    for secret in secrets:
        pieces = {secret[i : i + 5] for i in range(max(1, len(secret) - 4))}
        for text in texts:
            for piece in pieces:
                assert piece not in text, f"{piece!r} of a secret shown in {text[:2000]!r}"


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_every_url_form_connects_and_is_masked_in_the_manifest(run_cli, roles, form, tmp_path):
    out = tmp_path / "customers.csv"
    args = ["--verbose", "extract", "--warehouse", form.url(roles.port)]
    result = run_cli([*args, "--sql", f"SELECT * FROM {SMALL}", "--out", out, "--json"])
    assert result.exit_code == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest["rows"] == 400
    assert manifest["warehouse"] == form.masked.format(port=roles.port)
    written = (tmp_path / "customers.manifest.json").read_text()
    _never_shown(form.secrets(), result.stdout, result.stderr, written)


@pytest.mark.parametrize("failure", ["wrong password", "closed port"])
@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_a_failed_connection_is_one_line_without_the_password(
    run_cli, roles, form, failure, tmp_path
):
    if failure == "wrong password":
        password, port = WRONG_PASSWORDS[form.encoded], roles.port
        cause = "password authentication failed"
    else:
        password, port = form.password, closed_port()
        cause = "refused"
    url = form.url(port, password)
    args = ["extract", "--warehouse", url, "--sql", "SELECT 1", "--out", tmp_path / "x.csv"]
    result = run_cli(args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    line = result.stderr.strip()
    shown = form.masked.format(port=port).replace("postgres://", "postgresql://")
    assert line.startswith(f"error: cannot connect to {shown}: ")
    assert cause in line and line.endswith("check the host, port, database name and credentials")
    # --verbose shows the traceback, the driver's exceptions included: masked too.
    verbose = run_cli(["--verbose", *args])
    assert verbose.exit_code == 2 and "Traceback" in verbose.stderr
    assert cause in verbose.stderr and "_DriverError" in verbose.stderr
    _never_shown(form.secrets(password), result.stdout, line, verbose.stdout, verbose.stderr)


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_a_model_fitted_from_every_url_form_and_its_service_show_no_secret(
    run_cli, roles, form, tmp_path
):
    out = tmp_path / "segments"
    args = ["--verbose", "fit", "--sql", f"SELECT * FROM {SMALL}"]
    args += ["--warehouse", form.url(roles.port), "--out", out]
    result = run_cli([*args, "--k", "3", "--k-range", "3-3", "--no-report"])
    assert result.exit_code == 0, result.stderr
    masked = form.masked.format(port=roles.port)
    assert load_model(out / "model.json").training["source"] == masked
    texts = [path.read_text(errors="replace") for path in out.rglob("*") if path.is_file()]
    _never_shown(form.secrets(), result.stdout, result.stderr, *texts)
    served = _serve(out / "model.json", "--expose-training")
    base = next(served)
    try:
        info = httpx.get(f"{base}/v1/model", timeout=30).json()
    finally:
        served.close()
    assert info["training"]["source"] == masked
    log = "".join(p.read_text(errors="replace") for p in out.glob("serve-*.log"))
    _never_shown(form.secrets(), json.dumps(info), log)


# Forms that never reach a server: refused before connecting, or no driver here.
REFUSED = [
    pytest.param(
        f"postgresql://ana@corp.com:{AT_PASSWORD}@127.0.0.1:5432/postgres",
        [AT_PASSWORD],
        "invalid database URL 'postgresql://ana@corp.com:***@127.0.0.1:5432/postgres'",
        id="unencoded @ and : in the password",
    ),
    pytest.param(
        "postgresql://ana:p@ss/w0rd-Zq@127.0.0.1:5432/postgres",
        ["p@ss/w0rd-Zq"],
        "the password in 'postgresql://ana:***@127.0.0.1:5432/postgres' holds an '@'",
        id="unencoded @ and / in the password",
    ),
    pytest.param(
        "mssql+pyodbc:///?odbc_connect="
        + quote("Driver={ODBC Driver 18};Server=127.0.0.1;UID=ana;PWD={se;cr}}3t-Zq};", safe=""),
        ["se;cr}}3t-Zq", "se;cr}3t-Zq", "cr%7D%7D3t"],
        "pip install pyodbc",
        id="ODBC connection string with PWD={...}",
    ),
    pytest.param(
        "mssql+pyodbc://ana:dsn-Secret-77@my_dsn",
        ["dsn-Secret-77"],
        "pip install pyodbc",
        id="ODBC DSN",
    ),
    pytest.param(
        "Driver={ODBC Driver 18};Server=127.0.0.1;UID=ana;Password={se;cr3t-Zq};",
        ["se;cr3t-Zq"],
        "'Driver={ODBC Driver 18};Server=127.0.0.1;UID=ana;Password=***;' has no scheme",
        id="ODBC string without a scheme",
    ),
    pytest.param(
        "snowflake://ana@acct/db?password=snow-S3cret&token=tok-S3cret",
        ["snow-S3cret", "tok-S3cret"],
        "'snowflake://ana@acct/db?password=***&token=***'; use",
        id="plugin URL with query credentials",
    ),
]


@pytest.mark.parametrize(("url", "secrets", "fix"), REFUSED)
def test_urls_that_never_connect_are_refused_without_their_secrets(
    run_cli, url, secrets, fix, tmp_path
):
    args = ["extract", "--warehouse", url, "--sql", "SELECT 1", "--out", tmp_path / "x.csv"]
    result = run_cli(["--verbose", *args])
    assert result.exit_code == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and fix in last
    _never_shown(secrets, result.stdout, result.stderr)
