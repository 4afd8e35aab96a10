"""Reads that stream many rows (CSV exports, ledger checks): a server-side cursor that lives
inside a transaction.

On PostgreSQL, ``QuerySet.iterator()`` reads through a server-side cursor. Outside a
transaction Django declares it WITH HOLD, which costs twice:

- PostgreSQL computes and stores the whole result when the DECLARE's own transaction commits,
  before the first row is sent;
- the cursor outlives that transaction, so each later FETCH is a transaction of its own. Behind
  pgbouncer in transaction pooling, a FETCH may then reach another server connection, where the
  cursor does not exist: the download fails now and then, under load.

Inside a transaction the cursor is not holdable: rows flow as PostgreSQL produces them, and every
FETCH travels in the one transaction, which pgbouncer keeps on one server connection.

``DATABASE_PGBOUNCER=1`` sets Django's DISABLE_SERVER_SIDE_CURSORS for every other
``iterator()`` (form choices, the admin's export: short reads, fine in memory); the streams read
here keep their server-side cursor, which is safe in its transaction.

SQLite has no server-side cursors and reads in chunks anyway; a transaction there would take the
database's write lock (BEGIN IMMEDIATE) for the whole download, so none is opened.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet


def _needs_transaction(using: str) -> bool:
    connection = connections[using]
    return connection.vendor == "postgresql" and connection.get_autocommit()


@contextmanager
def streaming_transaction(using: str = DEFAULT_DB_ALIAS, *, one_snapshot: bool = False):
    """A transaction for streamed reads on PostgreSQL, unless one is open already; nothing on
    SQLite.

    Streams read side by side (a merge of sorted streams) need one around them all: each opening
    its own, the first to finish would end the others'. ``one_snapshot``: every read sees the
    database as it was at the first one (REPEATABLE READ), so that writes committed meanwhile
    are seen by none of them rather than by some.
    """
    if not _needs_transaction(using):
        yield
        return
    with transaction.atomic(using=using):
        if one_snapshot:
            with connections[using].cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def stream_rows(queryset: QuerySet, *, chunk_size: int) -> Iterator:
    """The rows of ``queryset`` (as it yields them: models, dicts or tuples), read ``chunk_size``
    at a time from a server-side cursor inside a transaction (PostgreSQL), or in chunks (SQLite).

    A generator: the transaction starts with the first row and ends after the last, or when the
    consumer stops early (a download cut short closes the response's generators).
    """
    using = queryset.db
    with streaming_transaction(using):
        if connections[using].vendor == "postgresql":
            # Not iterator(): with DISABLE_SERVER_SIDE_CURSORS it would read the whole result into
            # memory, and inside this transaction a server-side cursor is safe behind pgbouncer.
            yield from queryset._iterator(use_chunked_fetch=True, chunk_size=chunk_size)
        else:
            yield from queryset.iterator(chunk_size=chunk_size)
