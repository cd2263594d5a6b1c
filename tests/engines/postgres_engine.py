"""A private PostgreSQL cluster for the tests: initdb in a temporary folder, served on 127.0.0.1 only."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa

from engines.engine import Engine

# The server's default session time zone. It is far from UTC, so a view whose days depend on the
# session time zone instead of the project time zone gives other days than the reference.
SERVER_TIME_ZONE = "Pacific/Kiritimati"
SUPERUSER = "postgres"
DATABASE = "healthlayer_test"

# Arrow types and the PostgreSQL types their columns are loaded as.
_ARROW_TYPES = [
    (pa.types.is_string, "text"),
    (pa.types.is_large_string, "text"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_integer, "bigint"),
    (pa.types.is_floating, "double precision"),
    (pa.types.is_date, "date"),
]


class ServerUnavailable(Exception):
    """PostgreSQL's server programs are not installed or the server did not start."""


def find_bin_dir() -> Path:
    """Return the folder of initdb and pg_ctl: on PATH, or the newest Debian /usr/lib/postgresql/<major>/bin."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda path: int(Path(path).parent.parent.name) if Path(path).parent.parent.name.isdigit() else 0)
    if not candidates:
        raise ServerUnavailable("initdb was not found on PATH or in /usr/lib/postgresql/*/bin; "
                                "install PostgreSQL's server (Debian: apt-get install postgresql)")
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A throwaway cluster owned by the current user, or by the `postgres` user when running as root.

    PostgreSQL refuses to run as root, so as root the folder is given to the `postgres` system
    user and initdb and pg_ctl run through runuser. Clients connect over TCP on 127.0.0.1 with a
    password (scram-sha-256); the Unix socket lives in the cluster's folder.
    """

    def __init__(self) -> None:
        self.bin_dir = find_bin_dir()
        self.folder = Path(tempfile.mkdtemp(prefix="healthlayer-postgres-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.password = secrets.token_urlsafe(18)
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        self.started = False

    def _command(self, program: str, *arguments: str) -> list[str]:
        command = [str(self.bin_dir / program), *arguments]
        return ["runuser", "-u", SUPERUSER, "--", *command] if self._as_root else command

    def _run(self, program: str, *arguments: str) -> None:
        result = subprocess.run(self._command(program, *arguments), capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise ServerUnavailable(f"{program} failed with exit code {result.returncode}: "
                                    f"{result.stderr.strip() or result.stdout.strip()}\n{log}")

    def start(self) -> None:
        password_file = self.folder / "password"
        password_file.write_text(self.password + "\n")
        if self._as_root:
            shutil.chown(self.folder, SUPERUSER, SUPERUSER)
            shutil.chown(password_file, SUPERUSER, SUPERUSER)
        os.chmod(self.folder, 0o700)
        os.chmod(password_file, 0o600)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, f"--pwfile={password_file}",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C")
        password_file.unlink()
        options = " ".join([
            "-c listen_addresses=127.0.0.1", f"-c port={self.port}", f"-c unix_socket_directories={self.folder}",
            f"-c timezone={SERVER_TIME_ZONE}", "-c fsync=off", "-c synchronous_commit=off",
            "-c full_page_writes=off", "-c max_connections=40", "-c jit=off",
        ])
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log), "-o", options)
        self.started = True
        with self.connect("postgres") as connection:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.data))
            self.started = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def connect(self, dbname: str = DATABASE) -> psycopg.Connection[Any]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, password=self.password,
                               dbname=dbname, autocommit=True)

    def settings(self, schema: str) -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": self.port, "user": SUPERUSER, "password": self.password,
                "dbname": DATABASE, "schema": schema, "sslmode": "disable"}


def column_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "timestamp with time zone" if arrow_type.tz else "timestamp without time zone"
    for matches, name in _ARROW_TYPES:
        if matches(arrow_type):
            return name
    raise TypeError(f"no PostgreSQL column type for Arrow type {arrow_type}")


class PostgresEngine(Engine):
    adapter_type = "postgres"

    # Tables whose time-zone-aware timestamps are loaded as `timestamp without time zone` holding
    # UTC, so that the examples read both kinds of timestamp column: the SaaS health score reads
    # support tickets through the conversion of naive timestamps, its events through that of aware ones.
    NAIVE_TIMESTAMP_TABLES = frozenset({"support_tickets"})

    def __init__(self, server: PostgresServer) -> None:
        self.server = server

    def settings(self, schema: str) -> dict[str, Any]:
        return self.server.settings(schema)

    def load(self, schema: str, tables: dict[str, pa.Table]) -> None:
        with self.server.connect() as connection:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            for name, table in tables.items():
                if name in self.NAIVE_TIMESTAMP_TABLES:
                    table = naive_utc(table)
                columns = ", ".join(f'"{field.name}" {column_type(field.type)}' for field in table.schema)
                connection.execute(f'DROP TABLE IF EXISTS "{schema}"."{name}"')
                connection.execute(f'CREATE TABLE "{schema}"."{name}" ({columns})')
                names = ", ".join(f'"{field.name}"' for field in table.schema)
                with connection.cursor() as cursor:
                    with cursor.copy(f'COPY "{schema}"."{name}" ({names}) FROM STDIN') as copy:
                        for row in zip(*(column.to_pylist() for column in table.columns)):
                            copy.write_row(row)


def naive_utc(table: pa.Table) -> pa.Table:
    """Return the table with every time-zone-aware timestamp column as naive UTC wall-clock time."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz:
            naive = table.column(index).cast(pa.timestamp(field.type.unit, tz="UTC")).cast(pa.timestamp(field.type.unit))
            table = table.set_column(index, pa.field(field.name, naive.type), naive)
    return table
