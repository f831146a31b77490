"""BigQuery: dry-run guard, error mapping and Arrow conversion, with a fake client.

The BigQuery network client is the one test double of the project. Everything else
is real: google's QueryJobConfig objects, google.api_core / google.auth exception
classes, a real service-account key file, a real pyarrow Table of results.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.api_core import exceptions as api_errors
from google.auth import exceptions as auth_errors
from google.oauth2 import service_account

from custseg.exceptions import ConfigError, SourceError
from custseg.sources import extract
from custseg.sources.bigquery import (
    BigQueryTarget,
    human_bytes,
    parse_bigquery_url,
    parse_byte_size,
)

RESULT = pa.table(
    {
        "customer_id": pa.array([101, 102, None], pa.int64()),
        "purchases_trx": pa.array([3, None, 7], pa.int64()),
        "balance": pa.array([10.5, None, 0.25], pa.float64()),
        "credit_limit": pa.array(
            [Decimal("1000.00"), Decimal("2500.50"), None], pa.decimal128(12, 2)
        ),
        "segment": pa.array(["a", None, "c"], pa.string()),
        "opened_at": pa.array(
            [
                dt.datetime(2024, 1, 31, 10, tzinfo=dt.UTC),
                None,
                dt.datetime(2023, 6, 1, tzinfo=dt.UTC),
            ],
            pa.timestamp("us", tz="UTC"),
        ),
        "first_day": pa.array([dt.date(2024, 1, 1), dt.date(2024, 2, 1), None], pa.date32()),
        "active": pa.array([True, False, None]),
    }
)


class FakeRows:
    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.total_rows = table.num_rows
        self.to_arrow_kwargs: dict[str, Any] = {}

    def to_arrow(self, **kwargs: Any) -> pa.Table:
        self.to_arrow_kwargs = kwargs
        return self.table


class FakeJob:
    def __init__(self, total_bytes_processed: int, table: pa.Table | None = None) -> None:
        self.total_bytes_processed = total_bytes_processed
        self.table = table
        self.rows: FakeRows | None = None

    def result(self) -> FakeRows:
        assert self.table is not None, "a dry-run job has no result"
        self.rows = FakeRows(self.table)
        return self.rows


class FakeClient:
    """Answers like google.cloud.bigquery.Client.query: dry runs and real jobs."""

    def __init__(
        self,
        *,
        estimate: int = 1234,
        processed: int | None = None,
        table: pa.Table = RESULT,
        dry_run_error: Exception | None = None,
        run_error: Exception | None = None,
    ) -> None:
        self.estimate = estimate
        self.processed = estimate if processed is None else processed
        self.table = table
        self.dry_run_error = dry_run_error
        self.run_error = run_error
        self.calls: list[tuple[str, Any, str | None]] = []
        self.jobs: list[FakeJob] = []
        self.created_with: tuple[str, Any] | None = None

    def query(self, sql: str, job_config: Any = None, location: str | None = None) -> FakeJob:
        self.calls.append((sql, job_config, location))
        if job_config.dry_run:
            if self.dry_run_error is not None:
                raise self.dry_run_error
            return FakeJob(self.estimate)
        if self.run_error is not None:
            raise self.run_error
        job = FakeJob(self.processed, self.table)
        self.jobs.append(job)
        return job


def factory(client: FakeClient, construct_error: Exception | None = None) -> Any:
    def make(project: str, credentials: Any) -> FakeClient:
        if construct_error is not None:
            raise construct_error
        client.created_with = (project, credentials)
        return client

    return make


# --------------------------------------------------------------------- the happy path


def test_dry_run_then_job_then_arrow_conversion() -> None:
    client = FakeClient(estimate=5_000, processed=4_321)
    messages: list[str] = []
    result = extract(
        "SELECT * FROM customers",
        "bigquery://my-project/cards?location=EU",
        max_bytes_billed=10_000,
        client_factory=factory(client),
        notify=messages.append,
    )
    assert client.created_with == ("my-project", None)
    (dry_sql, dry, dry_location), (run_sql, run, run_location) = client.calls
    assert dry_sql == run_sql == "SELECT * FROM customers"
    assert dry.dry_run is True and dry.use_query_cache is False
    assert dry.default_dataset.dataset_id == "cards" and dry.default_dataset.project == "my-project"
    assert run.dry_run is not True and run.maximum_bytes_billed == 10_000
    assert run.default_dataset.dataset_id == "cards"
    assert dry_location == run_location == "EU"
    assert messages == ["BigQuery dry run: the query will process 5,000 bytes (4.9 KiB)"]
    assert result.bytes_processed == 4_321
    assert result.source_kind == "bigquery"
    assert result.warehouse == "bigquery://my-project/cards?location=EU"

    frame = result.frame
    assert frame["customer_id"].tolist()[:2] == ["101", "102"] and pd.isna(frame["customer_id"][2])
    assert frame["purchases_trx"].dtype == np.float64
    assert frame["purchases_trx"].isna().tolist() == [False, True, False]
    assert frame["balance"].tolist()[0] == 10.5
    assert frame["credit_limit"].dtype == np.float64 and frame["credit_limit"][1] == 2500.5
    assert pd.api.types.is_string_dtype(frame["segment"]) and pd.isna(frame["segment"][1])
    assert str(frame["opened_at"].dtype) == "datetime64[us, UTC]"
    assert frame["opened_at"][0] == pd.Timestamp("2024-01-31 10:00", tz="UTC")
    assert pd.isna(frame["opened_at"][1])
    assert pd.api.types.is_datetime64_dtype(frame["first_day"])
    assert frame["first_day"][1] == pd.Timestamp("2024-02-01") and pd.isna(frame["first_day"][2])
    assert frame["active"].tolist()[:2] == [True, False]


def test_without_limit_or_dataset_nothing_is_set() -> None:
    client = FakeClient()
    extract("SELECT 1 AS x", "bigquery://p", client_factory=factory(client))
    _, run, location = client.calls[1]
    assert run.maximum_bytes_billed is None and run.default_dataset is None and location is None
    rows = client.jobs[0].rows
    assert rows is not None
    # The Storage API client is only asked for when its package is installed.
    assert rows.to_arrow_kwargs["create_bqstorage_client"] in (True, False)


def test_query_at_the_limit_runs() -> None:
    client = FakeClient(estimate=1_000)
    extract("SELECT 1", "bigquery://p", max_bytes_billed=1_000, client_factory=factory(client))
    assert len(client.calls) == 2


def test_query_above_the_limit_is_refused_before_any_job() -> None:
    client = FakeClient(estimate=5_000_000_000)
    with pytest.raises(SourceError) as caught:
        extract(
            "SELECT *", "bigquery://p", max_bytes_billed=1_000_000, client_factory=factory(client)
        )
    message = str(caught.value)
    assert "would process 5,000,000,000 bytes (4.7 GiB)" in message
    assert "above max_bytes_billed=1000000 (976.6 KiB)" in message
    assert "raise the limit" in message and "\n" not in message
    assert len(client.calls) == 1 and client.calls[0][1].dry_run is True
    assert client.jobs == []


# ---------------------------------------------------------------------- error mapping

ERRORS = [
    (
        "construct",
        auth_errors.DefaultCredentialsError(
            "Your default credentials were not found. To set up Application Default "
            "Credentials, see https://cloud.google.com/docs/authentication for more information."
        ),
        r"^no Google credentials found \(Your default credentials were not found.*gcloud auth "
        r"application-default login.*credentials='key\.json' \(--credentials key\.json\)$",
    ),
    (
        "dry_run",
        auth_errors.RefreshError(
            "invalid_grant: Token has been expired or revoked.", {"error": "invalid_grant"}
        ),
        r"^Google rejected the credentials: invalid_grant: Token has been expired or revoked\.; "
        r"renew them",
    ),
    (
        "dry_run",
        api_errors.Unauthorized("Request had invalid authentication credentials."),
        r"^Google rejected the credentials: Request had invalid authentication credentials",
    ),
    (
        "dry_run",
        api_errors.Forbidden("Access Denied: Project p: User does not have bigquery.jobs.create"),
        r"^access denied by BigQuery: Access Denied: Project p.*BigQuery Job User role on "
        r"project 'p'",
    ),
    (
        "dry_run",
        api_errors.NotFound("Not found: Table p:cards.customerz was not found in location US"),
        r"^not found in BigQuery: Not found: Table p:cards\.customerz was not found in location "
        r"US; check the project, dataset and table names",
    ),
    (
        "dry_run",
        api_errors.BadRequest("Syntax error: Unexpected keyword FROM at [1:8]"),
        r"^BigQuery rejected the query: Syntax error: Unexpected keyword FROM at \[1:8\]; fix the "
        r"SQL$",
    ),
    (
        "run",
        api_errors.BadRequest(
            "Query exceeded limit for bytes billed: 1000. 10485760 or higher required.",
            errors=[{"reason": "bytesBilledLimitExceeded", "message": "exceeded"}],
        ),
        r"^BigQuery stopped the query at max_bytes_billed=1000: Query exceeded limit for bytes "
        r"billed",
    ),
    (
        "run",
        api_errors.InternalServerError("Backend error. Job aborted."),
        r"^BigQuery error: Backend error\. Job aborted\.; try again",
    ),
]


@pytest.mark.parametrize(("where", "error", "expected"), ERRORS)
def test_google_errors_become_one_line_source_errors(
    where: str, error: Exception, expected: str
) -> None:
    client = FakeClient(
        estimate=10,
        dry_run_error=error if where == "dry_run" else None,
        run_error=error if where == "run" else None,
    )
    make = factory(client, construct_error=error if where == "construct" else None)
    with pytest.raises(SourceError, match=expected) as caught:
        extract("SELECT FROM t", "bigquery://p", max_bytes_billed=1000, client_factory=make)
    assert "\n" not in str(caught.value)
    assert caught.value.__cause__ is error


# ------------------------------------------------------------------------ credentials


def _service_account_key(path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "my-project",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": "segments@my-project.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


def test_service_account_key_file_is_loaded_and_handed_to_the_client(tmp_path: Path) -> None:
    key = _service_account_key(tmp_path / "key.json")
    client = FakeClient()
    extract("SELECT 1", "bigquery://my-project", credentials=key, client_factory=factory(client))
    assert client.created_with is not None
    project, credentials = client.created_with
    assert project == "my-project"
    assert isinstance(credentials, service_account.Credentials)
    assert credentials.service_account_email == "segments@my-project.iam.gserviceaccount.com"


def test_missing_or_invalid_key_files(tmp_path: Path) -> None:
    client = FakeClient()
    with pytest.raises(SourceError, match="credentials file not found: .*nokey.json"):
        extract(
            "SELECT 1",
            "bigquery://p",
            credentials=tmp_path / "nokey.json",
            client_factory=factory(client),
        )
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "service_account"}', encoding="utf-8")
    with pytest.raises(SourceError, match="not a usable Google credentials file.*service-account"):
        extract("SELECT 1", "bigquery://p", credentials=bad, client_factory=factory(client))
    assert client.calls == []


# -------------------------------------------------------------------------------- URLs


def test_parse_bigquery_url() -> None:
    assert parse_bigquery_url("bigquery://p") == BigQueryTarget("p")
    assert parse_bigquery_url("bigquery://p/ds") == BigQueryTarget("p", "ds")
    assert parse_bigquery_url("bigquery://p/ds?location=EU") == BigQueryTarget("p", "ds", "EU")
    domain = parse_bigquery_url("bigquery://example.com:proj/ds")
    assert domain.project == "example.com:proj" and domain.default_dataset == "example.com:proj.ds"
    assert BigQueryTarget("p", "other.ds").default_dataset == "other.ds"
    with pytest.raises(ConfigError, match="bigquery://PROJECT"):
        parse_bigquery_url("bigquery://")
    with pytest.raises(ConfigError, match="bigquery://PROJECT"):
        parse_bigquery_url("bigquery://p/d/t")
    with pytest.raises(ConfigError, match="unknown option 'region'"):
        parse_bigquery_url("bigquery://p?region=EU")


def test_bigquery_options_are_refused_elsewhere() -> None:
    with pytest.raises(
        ConfigError, match=r"max_bytes_billed=10 \(--max-bytes-billed\) applies to bigquery://"
    ):
        extract("SELECT 1", None, max_bytes_billed=10)
    with pytest.raises(ConfigError, match=r"credentials='k.json' \(--credentials\) applies to"):
        extract("SELECT 1", "sqlite:///x.db", credentials="k.json")
    with pytest.raises(
        ConfigError, match=r"max_bytes_billed=0 \(--max-bytes-billed\) should be a positive"
    ):
        extract(
            "SELECT 1", "bigquery://p", max_bytes_billed=0, client_factory=factory(FakeClient())
        )


def test_parse_byte_size() -> None:
    assert parse_byte_size(10_000) == 10_000
    assert parse_byte_size("10000") == 10_000
    assert parse_byte_size("10GB") == 10_000_000_000
    assert parse_byte_size("2 GiB") == 2 * 1024**3
    assert parse_byte_size("1.5kb") == 1_500
    assert parse_byte_size("1e9") == 1_000_000_000
    for bad in ("lots", "-5", "10 GBs"):
        with pytest.raises(ValueError, match=r"^is not a size; write bytes \(10000000000\)"):
            parse_byte_size(bad)
    for bad in ("0", 0, -3, True, 2.5):
        with pytest.raises(ValueError, match=r"^should be a positive number of bytes"):
            parse_byte_size(bad)  # type: ignore[arg-type]


def test_human_bytes() -> None:
    assert human_bytes(0) == "0 bytes"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(3 * 1024**4) == "3.0 TiB"


def test_missing_extra_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['google.cloud.bigquery'] = None\n"
        "from custseg.sources import extract\n"
        "from custseg.exceptions import SourceError\n"
        "try:\n"
        "    extract('SELECT 1', 'bigquery://p')\n"
        "except SourceError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert (
        done.stdout.strip() == "BigQuery support is not installed; pip install 'custseg[bigquery]'"
    )
