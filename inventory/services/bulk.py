"""Set-based INSERT and UPDATE of many rows, for the writer and the count sessions.

On PostgreSQL each batch is ONE statement whose values travel as one typed array per column
(``INSERT ... SELECT * FROM unnest(...)``, ``UPDATE ... FROM unnest(...)``): no per-row SQL,
no per-value ORM preparation, and a query plan that does not grow with the row count. A
100,000-line count writes its movements and stock lines in a few statements. SQLite (the
embedded demo) has no array type and no network round trip: ``bulk_create`` and
``executemany`` are fast there.
"""

from collections.abc import Sequence

from django.db import connection, models

try:  # PostgreSQL's driver; absent where only SQLite is used
    import psycopg
except ImportError:  # pragma: no cover
    psycopg = None

#: Rows per statement on PostgreSQL: large enough that round trips do not matter, small
#: enough that one statement's arrays stay a few megabytes.
PG_BATCH = 20_000
#: From this many rows, new rows go in with COPY, PostgreSQL's fastest way in (three times
#: faster than INSERT ... unnest at 100,000 movements); below it one INSERT is quicker.
COPY_THRESHOLD = 2_000
SQLITE_BATCH = 2_000

#: Field types whose Python values psycopg adapts as they are, so the ORM's per-value
#: preparation (the bulk of bulk_create's cost at 100,000 rows) can be skipped.
NATIVE_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateField",
        "DateTimeField",
        "DecimalField",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
        "UUIDField",
    }
)


def _internal_type(field) -> str:
    return (field.target_field if field.is_relation else field).get_internal_type()


def _array_type(field) -> str:
    # Without the length or precision (varchar[], numeric[]) as Django's own UNNEST insert
    # does: the table's column type still applies on the way in.
    return field.db_type(connection).split("(")[0] + "[]"


def _array_param(field) -> str:
    # %b: the array travels in binary, dumped by psycopg's C code, instead of being spelled
    # out as SQL text by Django's client-side binding (half the time at 100,000 rows).
    return f"%b::{_array_type(field)}"


def _bulk_cursor():
    """A cursor for the PostgreSQL statements below: server-side binding (so ``%b`` works),
    wrapped like any Django cursor so that query logging and counting still see it."""
    connection.ensure_connection()
    return connection._prepare_cursor(psycopg.Cursor(connection.connection))


def _insert_values(field, objs: Sequence[models.Model]) -> list:
    # pre_save fills auto_now_add dates and the like, as Model.save() would.
    return _prepared(field, [field.pre_save(obj, True) for obj in objs])


def _insertable_fields(model) -> list:
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and not getattr(field, "generated", False)
    ]


def insert_objects(objs: Sequence[models.Model], *, ignore_conflicts: bool = False) -> None:
    """INSERT new model instances of one model and set their primary keys, in order.

    With ``ignore_conflicts``, rows that would break a unique constraint are skipped and no
    primary key is set (as ``bulk_create(ignore_conflicts=True)``).
    """
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=SQLITE_BATCH, ignore_conflicts=ignore_conflicts)
        return
    if len(objs) >= COPY_THRESHOLD and not ignore_conflicts:
        _copy_objects(model, objs)
        return
    meta = model._meta
    fields = _insertable_fields(model)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    arrays = ", ".join(_array_param(field) for field in fields)
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT * FROM unnest({arrays})"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    else:
        sql += f" RETURNING {quote(meta.pk.column)}"
    with _bulk_cursor() as cursor:
        for start in range(0, len(objs), PG_BATCH):
            chunk = objs[start : start + PG_BATCH]
            cursor.execute(sql, [_insert_values(field, chunk) for field in fields])
            if ignore_conflicts:
                continue
            # Rows come back in the order unnest produced them, as Django's bulk_create
            # (which also inserts through unnest on PostgreSQL) relies on.
            _saved(chunk, [pk for (pk,) in cursor.fetchall()])


def _copy_objects(model, objs: Sequence[models.Model]) -> None:
    """COPY many rows in: the primary keys are drawn from the table's sequence first (in
    order, so ids follow the list as they would with INSERT), then sent with the rows."""
    meta = model._meta
    fields = _insertable_fields(model)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in [meta.pk, *fields])
    with _bulk_cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        pks = sorted(pk for (pk,) in cursor.fetchall())
        values = [_insert_values(field, objs) for field in fields]
        with cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in zip(pks, *values, strict=True):
                copy.write_row(row)
    _saved(objs, pks)


def _saved(objs: Sequence[models.Model], pks: list) -> None:
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def update_objects(objs: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """UPDATE ``field_names`` of saved instances of one model to their in-memory values."""
    if not objs:
        return
    meta = type(objs[0])._meta
    attnames = [meta.get_field(name).attname for name in field_names]
    update_rows(
        type(objs[0]),
        field_names,
        [(obj.pk, *(getattr(obj, attname) for attname in attnames)) for obj in objs],
    )


def update_rows(model, field_names: Sequence[str], rows: Sequence[Sequence]) -> None:
    """UPDATE rows given as (pk, value of each of ``field_names``) tuples."""
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    if connection.vendor != "postgresql":
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"
        params = [
            [
                field.get_db_prep_save(value, connection)
                for field, value in zip(fields, row[1:], strict=True)
            ]
            + [row[0]]
            for row in rows
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
        return
    aliases = [f"c{index}" for index in range(len(fields))]
    assignments = ", ".join(
        f"{quote(field.column)} = v.{alias}" for field, alias in zip(fields, aliases, strict=True)
    )
    arrays = ", ".join([_array_param(meta.pk)] + [_array_param(field) for field in fields])
    sql = (
        f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v(pk, {', '.join(aliases)}) "
        f"WHERE {table}.{pk} = v.pk"
    )
    with _bulk_cursor() as cursor:
        for start in range(0, len(rows), PG_BATCH):
            chunk = rows[start : start + PG_BATCH]
            columns = [list(column) for column in zip(*chunk, strict=True)]
            params = [columns[0]] + [
                _prepared(field, column) for field, column in zip(fields, columns[1:], strict=True)
            ]
            cursor.execute(sql, params)


def _prepared(field, values: list) -> list:
    if _internal_type(field) in NATIVE_TYPES:
        return values
    return [field.get_db_prep_save(value, connection) for value in values]
