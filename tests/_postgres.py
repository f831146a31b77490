"""A throwaway PostgreSQL server on 127.0.0.1 for the tests and the benchmarks.

``make test`` installs Debian's binaries (scripts/ensure-postgresql.sh). The server runs
from a fresh data folder in the system's temporary folder, as the ``postgres`` system
user when the tests run as root (PostgreSQL refuses to run as root), listens on a free
port of 127.0.0.1 only, requires a password (scram-sha-256) and is stopped and deleted
afterwards.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

USER = "custseg_admin"
# Unencoded ?, # and / are legal in a SQLAlchemy URL password and must never be shown.
PASSWORD = "pa?ss#w/rd-Xq7"


@dataclass(frozen=True)
class PostgresServer:
    """Where the server listens and how to reach it."""

    port: int
    data: Path

    def url(self, database: str = "postgres", *, encoded: bool = False) -> str:
        """A SQLAlchemy URL with the password written as is (or percent-encoded)."""
        password = quote(PASSWORD, safe="") if encoded else PASSWORD
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):  # type: ignore[no-untyped-def]
        """A psycopg connection (autocommit)."""
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=USER,
            password=PASSWORD,
            dbname=database,
            autocommit=True,
        )


def bin_dir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl`` (newest installed version)."""
    versions = Path("/usr/lib/postgresql")
    found = sorted(
        (p for p in versions.glob("*/bin/initdb") if p.parts[4].isdigit()),
        key=lambda p: int(p.parts[4]),
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError(
        "PostgreSQL is not installed; run `make test` or scripts/ensure-postgresql.sh"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a server for the duration of the block."""
    binaries = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="custseg-pg-"))
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    root.chmod(0o700)
    password_file = root / "password"
    password_file.write_text(PASSWORD + "\n")
    if as_user:
        os.chown(password_file, pwd.getpwnam("postgres").pw_uid, -1)
    port = _free_port()
    log = root / "server.log"

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    try:
        run(
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "--encoding=UTF8",
            "--locale=C",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c shared_buffers=128MB -c work_mem=64MB"
        )
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        server = PostgresServer(port, data)
        deadline = time.monotonic() + 60
        while True:
            try:
                with server.connect():
                    break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def load_frame(server: PostgresServer, frame, table: str) -> None:  # type: ignore[no-untyped-def]
    """Create ``table`` from a DataFrame (text columns TEXT, the rest DOUBLE PRECISION)."""
    import pandas as pd

    def numeric(series) -> bool:  # type: ignore[no-untyped-def]
        return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)

    columns = ", ".join(
        f'"{name}" {"DOUBLE PRECISION" if numeric(frame[name]) else "TEXT"}'
        for name in frame.columns
    )
    with server.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TABLE {table} ({columns})")
        names = ", ".join(f'"{name}"' for name in frame.columns)
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in frame.itertuples(index=False, name=None):
                copy.write_row([None if pd.isna(v) else v for v in row])
        cursor.execute(f"ANALYZE {table}")


def create_role(server: PostgresServer, user: str, password: str, *tables: str) -> None:
    """A login role that may read ``tables``; names and passwords are quoted by psycopg."""
    from psycopg import sql

    with server.connect() as connection, connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(user), sql.Literal(password)
            )
        )
        for table in tables:
            cursor.execute(
                sql.SQL("GRANT SELECT ON {} TO {}").format(
                    sql.Identifier(table), sql.Identifier(user)
                )
            )


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound, then released)."""
    return _free_port()
