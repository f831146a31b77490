"""Google BigQuery warehouses: ``bigquery://PROJECT[/DATASET][?location=EU]``.

Before a query runs, a dry run asks BigQuery how many bytes it will process; with a
``max_bytes_billed`` limit a query above it is refused before anything is billed, and
the limit is also set on the real job so BigQuery itself enforces it. Results come
back as Arrow (through the BigQuery Storage API when it is installed).

Google's libraries are an optional extra (``pip install 'custseg[bigquery]'``)
imported only here, only when a BigQuery URL is used. The client is created by a
``client_factory(project, credentials)``, which tests replace with a fake client.

The warehouse's own options (:class:`BigQueryOptions`: ``credentials``,
``max_bytes_billed`` and, for Python callers, ``client_factory``) are declared here,
and reach :class:`custseg.sources.DataSource` and the command line through
:data:`WAREHOUSE`, its entry in :data:`custseg.sources.registry.WAREHOUSES`.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from .._utils.checks import is_int
from .._utils.masking import mask_url
from .._utils.progress import NO_PROGRESS, Progress
from ..exceptions import ConfigError, SourceError
from ._urls import url_scheme
from ._warehouse import Notify, QueryResult, Warehouse, warehouse_option

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "WAREHOUSE",
    "BigQueryOptions",
    "BigQueryTarget",
    "ClientFactory",
    "default_client_factory",
    "parse_bigquery_url",
    "parse_byte_size",
    "run_bigquery",
    "human_bytes",
]

ClientFactory = Callable[[str, Any], Any]
"""``(project, credentials or None) -> client`` with the ``google.cloud.bigquery.Client`` API."""


@dataclass(frozen=True)
class BigQueryTarget:
    """Where a BigQuery query runs: billing project, default dataset, location."""

    project: str
    dataset: str | None = None
    location: str | None = None

    @property
    def default_dataset(self) -> str | None:
        """``project.dataset`` for unqualified table names, or ``None``."""
        if self.dataset is None:
            return None
        return self.dataset if "." in self.dataset else f"{self.project}.{self.dataset}"

    def describe(self) -> str:
        """The URL the target was parsed from (it holds no secret)."""
        text = f"bigquery://{self.project}" + (f"/{self.dataset}" if self.dataset else "")
        return text + (f"?location={self.location}" if self.location else "")


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgtp]i?b|b|bytes)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "bytes": 1}
for _exponent, _letter in enumerate("kmgtp", start=1):
    _UNITS[f"{_letter}b"] = 1000**_exponent
    _UNITS[f"{_letter}ib"] = 1024**_exponent


def parse_byte_size(value: int | str) -> int:
    """A byte limit: ``10_000_000_000``, ``"10GB"`` (10 * 1000**3) or ``"2GiB"`` (2 * 1024**3).

    Raises
    ------
    ValueError
        Not a positive size; the message says how to write one.
    """
    if isinstance(value, str):
        match = _SIZE.fullmatch(value)
        if match is None:
            raise ValueError(
                "is not a size; write bytes (10000000000) or a size with a unit (10GB, 500MiB)"
            )
        value = int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])
    if not is_int(value) or value < 1:
        raise ValueError("should be a positive number of bytes, e.g. 10000000000 or 10GB")
    return int(value)


def _key_file(value: str | os.PathLike[str]) -> Path:
    if not isinstance(value, str | os.PathLike):
        raise ValueError("should be the path of a service-account key file (JSON)")
    return Path(value)


def _client_factory(value: Any) -> ClientFactory:
    if not callable(value):
        raise ValueError("should be a function (project, credentials) -> client")
    return value


@dataclass(frozen=True)
class BigQueryOptions:
    """BigQuery's own options, checked by :class:`custseg.sources.DataSource`.

    Attributes
    ----------
    credentials : pathlib.Path or None
        Service-account key file (JSON); ``None``: Application Default Credentials.
    max_bytes_billed : int or None
        Refuse a query whose dry run processes more bytes; also set on the job.
    client_factory : callable or None
        ``(project, credentials) -> client``, to supply a client (Python only).
    """

    credentials: Path | None = warehouse_option(
        "--credentials",
        help="BigQuery: service-account key file (JSON). Default: Application Default Credentials.",
        check=_key_file,
        text=Path,
    )
    max_bytes_billed: int | None = warehouse_option(
        "--max-bytes-billed",
        help="BigQuery: refuse a query whose dry run processes more than this, e.g. "
        "10000000000, 10GB or 2GiB.",
        check=parse_byte_size,
    )
    client_factory: ClientFactory | None = warehouse_option(check=_client_factory)


def parse_bigquery_url(url: str) -> BigQueryTarget:
    """Parse ``bigquery://PROJECT[/DATASET][?location=LOCATION]``.

    Parameters
    ----------
    url : str
        The warehouse URL.

    Returns
    -------
    BigQueryTarget

    Raises
    ------
    ConfigError
        No project, too many path parts, a user or password (``user:pw@project``), or
        an unknown option; the message shows the URL masked.
    """
    rest = url.partition("://")[2]
    path, _, query = rest.partition("?")
    if "@" in path:
        # BigQuery signs in with Google credentials: a user part here is a misplaced secret.
        raise ConfigError(
            f"warehouse {mask_url(url)!r} holds a user or password; BigQuery URLs carry none: "
            "write bigquery://PROJECT[/DATASET] and sign in with 'gcloud auth "
            "application-default login', GOOGLE_APPLICATION_CREDENTIALS or a service-account "
            "key file: credentials='key.json' (--credentials key.json)"
        )
    parts = [part for part in path.split("/") if part]
    if not parts or len(parts) > 2:
        raise ConfigError(
            f"warehouse {mask_url(url)!r} should be bigquery://PROJECT or"
            " bigquery://PROJECT/DATASET, e.g. bigquery://my-project/analytics"
        )
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - {"location"})
    if unknown:
        raise ConfigError(
            f"unknown option {unknown[0]!r} in {mask_url(url)!r}; the only option is ?location=EU "
            "(or another BigQuery location)"
        )
    dataset = parts[1] if len(parts) == 2 else None
    return BigQueryTarget(parts[0], dataset, options.get("location") or None)


def default_client_factory(project: str, credentials: Any) -> Any:
    """A real ``google.cloud.bigquery.Client`` (Application Default Credentials if ``None``)."""
    from google.cloud import bigquery

    return bigquery.Client(project=project, credentials=credentials)


def run_bigquery(
    sql: str,
    target: BigQueryTarget,
    *,
    credentials: str | os.PathLike[str] | None = None,
    max_bytes_billed: int | None = None,
    client_factory: ClientFactory | None = None,
    notify: Callable[[str], None] | None = None,
    progress: Progress = NO_PROGRESS,
) -> tuple[pa.Table, int]:
    """Dry-run, check the byte limit, run ``sql`` on BigQuery and return Arrow rows.

    Parameters
    ----------
    sql : str
        GoogleSQL query.
    target : BigQueryTarget
        Billing project, default dataset and location.
    credentials : path-like, optional
        Service-account key file (JSON). ``None`` uses Application Default
        Credentials (``gcloud auth application-default login`` or
        ``GOOGLE_APPLICATION_CREDENTIALS``).
    max_bytes_billed : int, optional
        Refuse a query whose dry run processes more bytes; also set on the job.
    client_factory : callable, optional
        ``(project, credentials) -> client``; default :func:`default_client_factory`.
    notify : callable, optional
        Receives one line with the dry run's estimate before the query runs.
    progress : Progress, default NO_PROGRESS
        Receives the dry-run, query and download stages.

    Returns
    -------
    (pyarrow.Table, int)
        The rows and the bytes processed.

    Raises
    ------
    SourceError
        The extra is not installed, credentials are missing or rejected, a table is
        not found, the SQL is invalid, or the query is above ``max_bytes_billed``.
    """
    bigquery, api_errors, auth_errors = _import_google()
    factory = client_factory or default_client_factory
    loaded = _load_credentials(credentials, auth_errors) if credentials is not None else None
    try:
        client = factory(target.project, loaded)
        with progress.stage("BigQuery dry run") as stage:
            dry = client.query(
                sql,
                job_config=_job_config(bigquery, target, dry_run=True, use_query_cache=False),
                location=target.location,
            )
            stage.advance()
        estimate = int(dry.total_bytes_processed or 0)
        if notify is not None:
            notify(
                f"BigQuery dry run: the query will process {estimate:,} bytes "
                f"({human_bytes(estimate)})"
            )
        if max_bytes_billed is not None and estimate > max_bytes_billed:
            raise SourceError(
                f"the query would process {estimate:,} bytes ({human_bytes(estimate)}), above "
                f"max_bytes_billed={max_bytes_billed} ({human_bytes(max_bytes_billed)}); select "
                "fewer columns, filter on partitions, or raise the limit"
            )
        with progress.stage("Running the query on BigQuery") as stage:
            job = client.query(
                sql,
                job_config=_job_config(bigquery, target, maximum_bytes_billed=max_bytes_billed),
                location=target.location,
            )
            rows = job.result()
            stage.advance()
        with progress.stage("Downloading rows", total=rows.total_rows) as stage:
            table = rows.to_arrow(create_bqstorage_client=_has_storage_api())
            stage.advance(table.num_rows)
        processed = job.total_bytes_processed
        return table, int(processed) if processed is not None else estimate
    except auth_errors.DefaultCredentialsError as exc:
        raise SourceError(
            f"no Google credentials found ({_message(exc)}); run 'gcloud auth "
            "application-default login', set GOOGLE_APPLICATION_CREDENTIALS, or pass a "
            "service-account key file: credentials='key.json' (--credentials key.json)"
        ) from exc
    except (auth_errors.RefreshError, api_errors.Unauthorized) as exc:
        raise SourceError(
            f"Google rejected the credentials: {_message(exc)}; renew them (gcloud auth "
            "application-default login) or check the key file"
        ) from exc
    except api_errors.Forbidden as exc:
        raise SourceError(
            f"access denied by BigQuery: {_message(exc)}; ask for the BigQuery Job User role "
            f"on project {target.project!r} and read access to the tables"
        ) from exc
    except api_errors.NotFound as exc:
        raise SourceError(
            f"not found in BigQuery: {_message(exc)}; check the project, dataset and table "
            "names (and ?location= for datasets outside the US)"
        ) from exc
    except api_errors.BadRequest as exc:
        if _reason(exc) == "bytesBilledLimitExceeded":
            raise SourceError(
                f"BigQuery stopped the query at max_bytes_billed={max_bytes_billed}: "
                f"{_message(exc)}; select fewer columns, filter on partitions, or raise the "
                "limit"
            ) from exc
        raise SourceError(f"BigQuery rejected the query: {_message(exc)}; fix the SQL") from exc
    except api_errors.GoogleAPICallError as exc:
        raise SourceError(f"BigQuery error: {_message(exc)}; try again or check the query") from exc


def _claims(url: str | None) -> bool:
    return url is not None and url_scheme(url) == "bigquery"


def _describe(url: str | None) -> str:
    try:
        return parse_bigquery_url(str(url)).describe()
    except ConfigError:
        return mask_url(str(url))


def _run(
    sql: str,
    url: str | None,
    options: BigQueryOptions,
    progress: Progress,
    notify: Notify | None,
) -> QueryResult:
    table, processed = run_bigquery(
        sql,
        parse_bigquery_url(str(url)),
        credentials=options.credentials,
        max_bytes_billed=options.max_bytes_billed,
        client_factory=options.client_factory,
        notify=notify,
        progress=progress,
    )
    return QueryResult(table, processed)


WAREHOUSE = Warehouse(
    kind="bigquery",
    label="bigquery://",
    claims=_claims,
    run=_run,
    describe=_describe,
    example="bigquery://PROJECT[/DATASET]",
    options=BigQueryOptions,
)
"""Google BigQuery: ``bigquery://PROJECT[/DATASET][?location=EU]``."""


def human_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"`` (binary units, as BigQuery bills per TiB)."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _job_config(bigquery: ModuleType, target: BigQueryTarget, **settings: Any) -> Any:
    # QueryJobConfig stores an explicit None as the text "None": pass only real values.
    options = {name: value for name, value in settings.items() if value is not None}
    if target.default_dataset is not None:
        options["default_dataset"] = target.default_dataset
    return bigquery.QueryJobConfig(**options)


def _import_google() -> tuple[ModuleType, ModuleType, ModuleType]:
    try:
        from google.api_core import exceptions as api_errors
        from google.auth import exceptions as auth_errors
        from google.cloud import bigquery
    except ImportError as exc:
        raise SourceError(
            "BigQuery support is not installed; pip install 'custseg[bigquery]'"
        ) from exc
    return bigquery, api_errors, auth_errors


def _load_credentials(path: str | os.PathLike[str], auth_errors: ModuleType) -> Any:
    from google.oauth2 import service_account

    key = Path(path)
    if not key.is_file():
        raise SourceError(
            f"credentials file not found: {os.fspath(path)!r}; pass the path of a "
            "service-account key file (JSON)"
        )
    try:
        # Only service-account keys: loading any credential type from a file is unsafe.
        return service_account.Credentials.from_service_account_file(str(key))
    except (auth_errors.DefaultCredentialsError, ValueError, KeyError) as exc:
        raise SourceError(
            f"{os.fspath(path)!r} is not a usable Google credentials file: {_message(exc)}; "
            "download a service-account key (JSON) from the Google Cloud console"
        ) from exc


def _has_storage_api() -> bool:
    # Without the package, asking for a Storage API client only earns a warning.
    try:
        return importlib.util.find_spec("google.cloud.bigquery_storage") is not None
    except ModuleNotFoundError:
        return False


def _reason(exc: BaseException) -> str | None:
    errors = getattr(exc, "errors", None) or []
    first = errors[0] if errors else None
    return first.get("reason") if isinstance(first, dict) else None


def _message(exc: BaseException) -> str:
    text = getattr(exc, "message", None)
    if not text:
        # google.auth errors carry (message, response): show the message only.
        text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
