"""Secrets: one masking of every URL form, used by messages, manifests, models and the service."""

from __future__ import annotations

import hashlib
import json
import sys
from urllib.parse import quote

import pytest

from custseg._utils.masking import mask_text, mask_url, url_password, url_secrets
from custseg.exceptions import ConfigError
from custseg.service.app import _training
from custseg.sources import describe_warehouse, extract
from custseg.sources.bigquery import parse_bigquery_url


@pytest.mark.parametrize(
    "url, masked",
    [
        ("postgresql://ana:pa?ss#w@db:5432/cards", "postgresql://ana:***@db:5432/cards"),
        (
            "postgresql://ana:p/a@s:s@db.bank/cards?sslmode=require",
            "postgresql://ana:***@db.bank/cards?sslmode=require",
        ),
        (
            "mysql+pymysql://ana:s3cret@db/x?charset=utf8",
            "mysql+pymysql://ana:***@db/x?charset=utf8",
        ),
        (
            "snowflake://ana@acct/db?password=s3&warehouse=wh",
            "snowflake://ana@acct/db?password=***&warehouse=wh",
        ),
        ("trino://ana@h/c?access_token=abc&x=1", "trino://ana@h/c?access_token=***&x=1"),
        ("bigquery://p/d?credentials_base64=QUJDRA==", "bigquery://p/d?credentials_base64=***"),
        ("postgresql://h/db?sslkey=/k.pem&sig=xyz", "postgresql://h/db?sslkey=***&sig=***"),
        (
            "mssql+pyodbc:///?odbc_connect=DSN%3Dx%3BUID%3Dana%3BPWD%3Ds3cret%3BA%3D1",
            "mssql+pyodbc:///?odbc_connect=DSN%3Dx%3BUID%3Dana%3BPWD%3D***%3BA%3D1",
        ),
        # Azure's user@server user names: SQLAlchemy ends the user at the first ":".
        ("postgresql://ana@corp.com:secret@host/db", "postgresql://ana@corp.com:***@host/db"),
        (
            "postgresql://ana@corp.com:se;cr@t:/%{}x@127.0.0.1:5432/db",
            "postgresql://ana@corp.com:***@127.0.0.1:5432/db",
        ),
        ("postgresql://ana%40corp.com:se%3Bcr%40t@h/db", "postgresql://ana%40corp.com:***@h/db"),
        ("postgresql://ana:p@ss/w0rd@host/db", "postgresql://ana:***@host/db"),
        ("postgresql://ana:@h/db", "postgresql://ana:***@h/db"),
        (
            "postgresql://ana@corp.com@h:5432/db?password=p%40ss&sslpassword=k&sslmode=require",
            "postgresql://ana@corp.com@h:5432/db?password=***&sslpassword=***&sslmode=require",
        ),
        # ODBC: braces may hold ";" and "}}" stands for "}"; encoded once or twice.
        (
            "mssql+pyodbc:///?odbc_connect=" + quote("DSN=x;UID=ana;PWD={se;cr}}3t};A=1", safe=""),
            "mssql+pyodbc:///?odbc_connect=DSN%3Dx%3BUID%3Dana%3BPWD%3D***%3BA%3D1",
        ),
        (
            "mssql+pyodbc:///?odbc_connect=DSN%253Dx%253BPWD%253Ds3cret%253BA%253D1",
            "mssql+pyodbc:///?odbc_connect=DSN%253Dx%253BPWD%253D***%253BA%253D1",
        ),
        (
            "mssql+pyodbc://?odbc_connect=Driver={ODBC Driver 18};Server=h;Password={a;b};X=1",
            "mssql+pyodbc://?odbc_connect=Driver={ODBC Driver 18};Server=h;Password=***;X=1",
        ),
        ("mssql+pyodbc://ana:dsn-pw@my_dsn", "mssql+pyodbc://ana:***@my_dsn"),
        (
            "Driver={ODBC Driver 18};Server=h;UID=ana;PWD={se;cr3t};",
            "Driver={ODBC Driver 18};Server=h;UID=ana;PWD=***;",
        ),
        ("host=h user=ana password='se cr\\'t' dbname=x", "host=h user=ana password=*** dbname=x"),
        (" postgresql://ana@corp.com:s3cr@t@h/db", " postgresql://ana@corp.com:***@h/db"),
        ("sqlite:////data/x@y.db", "sqlite:////data/x@y.db"),
        ("duckdb:///bank.duckdb", "duckdb:///bank.duckdb"),
        ("postgresql://ana@db.host:5432/c", "postgresql://ana@db.host:5432/c"),
        ("not a url", "not a url"),
    ],
)
def test_every_url_form_is_masked(url, masked):
    assert mask_url(url) == masked
    for secret in url_secrets(url):
        assert secret not in masked
    if "://" in url:  # a stored URL shown again (GET /v1/model) stays as it is
        assert mask_url(masked) == masked


SECRET_FORMS = [
    ("postgresql://ana@corp.com:se;cr@t:/%{}x@127.0.0.1:5432/db", ["se;cr@t:/%{}x"]),
    ("postgresql://ana@corp.com:se%3Bcr%40t%3A@h/db", ["se;cr@t:", "se%3Bcr%40t%3A"]),
    ("postgresql://ana:pa?ss#w/rd@db/x", ["pa?ss#w/rd"]),
    ("postgresql://ana:p@ss/w0rd@host/db", ["p@ss/w0rd"]),
    ("postgresql://u@h/db?password=p%40ss-1&token=t0k-2", ["p@ss-1", "p%40ss-1", "t0k-2"]),
    (
        "mssql+pyodbc:///?odbc_connect=" + quote("UID=ana;PWD={se;cr}}3t};A=1", safe=""),
        ["se;cr}3t", "{se;cr}}3t}"],
    ),
    ("Driver={D};Server=h;Password={a;b-77};", ["a;b-77"]),
    ("  mysql://ana:my-S3cret@h/db", ["my-S3cret"]),
]


@pytest.mark.parametrize("url, secrets", SECRET_FORMS)
def test_the_secrets_of_a_url_are_found_raw_and_decoded(url, secrets):
    found = url_secrets(url)
    assert set(secrets) <= set(found)
    # A driver echoing them, decoded or as written, is masked with them.
    message = "login failed: " + " / ".join(secrets)
    assert not any(secret in mask_text(message, found) for secret in secrets)


@pytest.mark.parametrize("url, secrets", SECRET_FORMS)
def test_without_sqlalchemy_the_mask_never_shows_less(url, secrets, monkeypatch):
    # The extra is optional: without SQLAlchemy's parser the mask runs wider, never narrower.
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    monkeypatch.setitem(sys.modules, "sqlalchemy.engine", None)
    with pytest.raises(ImportError):
        import sqlalchemy.engine  # noqa: F401
    masked = mask_url(url)
    assert "***" in masked and not any(secret in masked for secret in secrets)
    assert set(secrets) <= set(url_secrets(url))


def test_a_bigquery_url_with_a_user_or_password_is_refused_masked():
    url = "bigquery://ana:s3cr-et@project/dataset"
    with pytest.raises(ConfigError) as caught:
        parse_bigquery_url(url)
    assert "s3cr-et" not in str(caught.value) and "--credentials key.json" in str(caught.value)
    assert describe_warehouse(url) == "bigquery://ana:***@project/dataset"
    with pytest.raises(ConfigError) as caught:
        extract("SELECT 1", url)
    assert "s3cr-et" not in str(caught.value)


def test_the_password_itself_is_found_for_driver_messages():
    url = "postgresql://ana:pa?ss#w/rd@db/x"
    assert url_password(url) == "pa?ss#w/rd"
    message = f"connection to {url} failed: password 'pa?ss#w/rd' rejected"
    assert "pa?ss" not in mask_text(message, [url_password(url) or ""])


def test_warehouse_descriptions_and_errors_never_show_secrets(tmp_path):
    assert "s3cret" not in describe_warehouse("postgresql://ana:s3?cr#et@db/x")
    with pytest.raises(ConfigError) as caught:
        parse_bigquery_url("bigquery://project/dataset?credentials_base64=U0VDUkVU")
    assert "U0VDUkVU" not in str(caught.value) and "***" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        parse_bigquery_url("bigquery://a/b/c?token=s3cret")
    assert "s3cret" not in str(caught.value)
    with pytest.raises(Exception) as caught:
        extract("SELECT 1", "sqlite://ana:s3?cr#et@/missing.db")
    assert "s3?cr" not in str(caught.value)


def test_the_service_shows_no_query_text_or_path_unless_asked():
    training = {
        "rows": 10,
        "source": "postgresql://ana:s3?cr#et@db/cards",
        "query": "SELECT * FROM cards WHERE note = 'private'",
        "query_sha256": hashlib.sha256(b"q").hexdigest(),
        "query_file": "/home/ana/queries/cards.sql",
    }
    hidden = _training(training, expose=False)
    assert hidden["source"] == "postgresql://ana:***@db/cards"
    assert "query" not in hidden and hidden["query_file"] == "cards.sql"
    assert hidden["query_sha256"] == training["query_sha256"]
    shown = _training(training, expose=True)
    assert shown["query"] == training["query"] and "s3?cr" not in json.dumps(shown)
    assert _training({"source": "/data/x/customers.csv"}, expose=False)["source"] == (
        "customers.csv"
    )
    # A model written by hand or by an older custseg may hold the URL unmasked.
    for source, shown in [
        ("postgresql://ana@corp.com:s3;cr@t@db/c", "postgresql://ana@corp.com:***@db/c"),
        (
            "mssql+pyodbc://?odbc_connect=UID=a;PWD={s3;cr}",
            "mssql+pyodbc://?odbc_connect=UID=a;PWD=***",
        ),
    ]:
        for expose in (False, True):
            assert _training({"source": source}, expose=expose)["source"] == shown


def test_an_sql_file_records_its_name_and_hash_in_the_manifest(run_cli, tmp_path):
    query = "SELECT * FROM credit_card_customers WHERE TENURE = 6\n"
    (tmp_path / "q.sql").write_text(query)
    out = tmp_path / "c.csv"
    result = run_cli(["extract", "--sql", f"@{tmp_path / 'q.sql'}", "--out", out, "--json"])
    assert result.exit_code == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest["query"] == query and manifest["query_file"] == "q.sql"
    assert manifest["query_sha256"] == hashlib.sha256(query.encode()).hexdigest()


def test_warning_and_information_lines_lose_the_secrets_of_the_command_line(capsys):
    # A library or driver warning may repeat the password of --warehouse: the command
    # line masks every line it prints with the secrets of its own arguments.
    from custseg.cli._common import STATE, info, use_secrets_of, warn

    try:
        use_secrets_of(["fit", "--warehouse=postgresql://ana@corp.com:se;cr3t@127.0.0.1/db"])
        warn("psycopg: connection to 127.0.0.1 failed for password se;cr3t")
        info("retrying with se;cr3t")
    finally:
        use_secrets_of([])
    err = capsys.readouterr().err
    assert "se;cr3t" not in err
    assert "warning: psycopg: connection to 127.0.0.1 failed for password ***" in err
    assert STATE.secrets == ()


def test_a_warehouse_option_declared_secret_is_masked_everywhere(monkeypatch, capsys):
    # A key given as an option, not in the URL: the DataSource knows it is a secret,
    # its messages never quote it, and the command line masks it in every line.
    from dataclasses import dataclass

    from custseg.cli._common import STATE, learn_secrets, warn
    from custseg.sources import DataSource, registry
    from custseg.sources.registry import QueryResult, Warehouse, warehouse_option

    @dataclass(frozen=True)
    class KeyOptions:
        api_key: str | None = warehouse_option("--api-key", help="the key", secret=True)

    def run(sql, url, options, progress, notify):  # pragma: no cover - never runs here
        return QueryResult(None)

    keyed = Warehouse(
        kind="keyed",
        label="keyed://",
        claims=lambda url: url is not None and url.startswith("keyed://"),
        run=run,
        options=KeyOptions,
    )
    monkeypatch.setattr(registry, "WAREHOUSES", registry.WAREHOUSES)
    registry.register_warehouse(keyed)
    source = DataSource(sql="SELECT 1", warehouse="keyed://h", api_key="k-s3cr3t")
    assert source.options.api_key == "k-s3cr3t" and source.secrets == ("k-s3cr3t",)
    with pytest.raises(ConfigError) as caught:
        DataSource(input="c.csv", api_key="k-s3cr3t")
    assert str(caught.value).startswith("api_key='***' (--api-key) applies to sql queries")
    with pytest.raises(ConfigError) as caught:
        DataSource(sql="SELECT 1", warehouse="sqlite:///x.db", api_key="k-s3cr3t")
    assert str(caught.value).startswith("api_key='***' (--api-key) applies to keyed://")
    try:
        learn_secrets(source.secrets)
        warn("driver: login refused for key k-s3cr3t")
    finally:
        STATE.secrets = ()
    assert "warning: driver: login refused for key ***" in capsys.readouterr().err
