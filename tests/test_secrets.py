"""Secrets: one masking of every URL form, used by messages, manifests, models and the service."""

from __future__ import annotations

import hashlib
import json

import pytest

from custseg._utils.masking import mask_text, mask_url, url_password
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
        ("sqlite:////data/x@y.db", "sqlite:////data/x@y.db"),
        ("duckdb:///bank.duckdb", "duckdb:///bank.duckdb"),
        ("postgresql://ana@db.host:5432/c", "postgresql://ana@db.host:5432/c"),
        ("not a url", "not a url"),
    ],
)
def test_every_url_form_is_masked(url, masked):
    assert mask_url(url) == masked


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


def test_an_sql_file_records_its_name_and_hash_in_the_manifest(run_cli, tmp_path):
    query = "SELECT * FROM credit_card_customers WHERE TENURE = 6\n"
    (tmp_path / "q.sql").write_text(query)
    out = tmp_path / "c.csv"
    result = run_cli(["extract", "--sql", f"@{tmp_path / 'q.sql'}", "--out", out, "--json"])
    assert result.exit_code == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest["query"] == query and manifest["query_file"] == "q.sql"
    assert manifest["query_sha256"] == hashlib.sha256(query.encode()).hexdigest()
