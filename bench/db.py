"""Database plumbing of the benchmark: its own database, raw psycopg connections, indexes.

The benchmark never touches the database named in DATABASE_URL: it creates (and by default
drops afterwards) a database of its own on the same server.
"""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.db import connection

DATABASE_NAME = "stockroom_bench"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def database_url(server_url: str, name: str) -> str:
    """``server_url`` with its database replaced by ``name``."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_connect(server_url: str):
    return psycopg.connect(server_url, autocommit=True)


def create_database(server_url: str, name: str) -> None:
    """Create ``name`` on the server of ``server_url``, dropping any database of that name."""
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a plain database name")
    with _admin_connect(server_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(server_url: str, name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a plain database name")
    with _admin_connect(server_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_exists(server_url: str, name: str) -> bool:
    with _admin_connect(server_url) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None


def connection_params(alias_connection=connection) -> dict:
    """psycopg keyword arguments reaching the database Django's ``connection`` uses."""
    settings = alias_connection.settings_dict
    params = {"dbname": settings["NAME"]}
    for key, name in (("USER", "user"), ("PASSWORD", "password"), ("HOST", "host")):
        if settings.get(key):
            params[name] = settings[key]
    if settings.get("PORT"):
        params["port"] = str(settings["PORT"])
    return params


def connection_url() -> str:
    """A postgres:// URL of the database Django's default connection uses (for subprocesses)."""
    params = connection_params()
    credentials = params.get("user", "")
    if params.get("password"):
        credentials += f":{params['password']}"
    host = params.get("host", "localhost")
    if params.get("port"):
        host += f":{params['port']}"
    return f"postgres://{credentials}@{host}/{params['dbname']}"


def raw_connect(*, autocommit: bool = True) -> psycopg.Connection:
    """A plain psycopg connection to Django's database: what the raw-SQL floors use.

    Statements are never prepared (as with Django's connections): a prepared statement may
    be given a generic plan, which cannot use an index for ``LIKE 'ABC%'`` with a bound
    pattern; each query is planned with its values instead."""
    return psycopg.connect(**connection_params(), autocommit=autocommit, prepare_threshold=None)


@dataclass(frozen=True)
class SavedIndex:
    table: str
    name: str
    definition: str


@dataclass(frozen=True)
class SavedConstraint:
    table: str
    name: str
    definition: str


def _secondary_indexes(cursor, tables: Sequence[str]) -> list[SavedIndex]:
    """Indexes of ``tables`` that no constraint owns (primary and unique keys stay)."""
    cursor.execute(
        """
        SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        ORDER BY t.relname, i.relname
        """,
        [list(tables)],
    )
    return [SavedIndex(*row) for row in cursor.fetchall()]


def _foreign_keys(cursor, tables: Sequence[str]) -> list[SavedConstraint]:
    cursor.execute(
        """
        SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        WHERE c.contype = 'f' AND t.relname = ANY(%s)
        ORDER BY t.relname, c.conname
        """,
        [list(tables)],
    )
    return [SavedConstraint(*row) for row in cursor.fetchall()]


@contextmanager
def bulk_load(tables: Sequence[str], *, progress=None) -> Iterator[None]:
    """Drop the secondary indexes and foreign keys of ``tables`` for a bulk load, and build
    them again afterwards (also after an error): building an index once over ten million
    rows is several times faster than maintaining it row by row, and adding a foreign key
    checks it with one join instead of one probe per row."""
    with connection.cursor() as cursor:
        indexes = _secondary_indexes(cursor, tables)
        foreign_keys = _foreign_keys(cursor, tables)
        for key in foreign_keys:
            cursor.execute(f'ALTER TABLE "{key.table}" DROP CONSTRAINT "{key.name}"')
        for index in indexes:
            cursor.execute(f'DROP INDEX "{index.name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            # Session settings only: the server keeps its defaults.
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for index in indexes:
                if progress:
                    progress(f"index {index.name}")
                cursor.execute(index.definition)
            for key in foreign_keys:
                if progress:
                    progress(f"foreign key {key.name}")
                cursor.execute(
                    f'ALTER TABLE "{key.table}" ADD CONSTRAINT "{key.name}" {key.definition}'
                )
            cursor.execute("RESET maintenance_work_mem")


def reset_sequence(cursor, table: str) -> None:
    """Point ``table``'s id sequence after its largest id (rows were copied with their ids)."""
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) "
        f'FROM "{table}"',
        [table],
    )
