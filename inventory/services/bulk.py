"""Set-based INSERT and UPDATE of many rows, for the writer and the count sessions, and model
instances built cheaply from the rows of hand-written queries.

On PostgreSQL each batch is ONE statement whose values travel as one typed array per column
(``INSERT ... SELECT * FROM unnest(...)``, ``UPDATE ... FROM unnest(...)``): no per-row SQL,
no per-value ORM preparation, and a query plan that does not grow with the row count. A
100,000-line count writes its movements and stock lines in a few statements; a one-line
adjustment writes its movement and its line in one (``write_changes``), since what it waits
for is round trips. SQLite (the embedded demo) has no array type and no network round trip:
``bulk_create`` and ``executemany`` are fast there.
"""

from collections.abc import Sequence
from functools import cache
from operator import attrgetter

from django.db import connection, models

try:  # PostgreSQL's driver; absent where only SQLite is used
    import psycopg
except ImportError:  # pragma: no cover
    psycopg = None

#: Rows per UPDATE statement on PostgreSQL. Up to about this many, the planner joins the
#: arrays to the table through its primary key; more, and it reads the whole table (a
#: million stock lines) to hash or merge it, once per statement.
PG_UPDATE_BATCH = 10_000
#: Rows per INSERT statement: large enough that round trips do not matter, small enough
#: that one statement's arrays stay a few megabytes.
PG_INSERT_BATCH = 20_000
#: From this many rows, new rows go in with COPY, PostgreSQL's fastest way in (three times
#: faster than INSERT ... unnest at 100,000 movements); below it one INSERT is quicker.
COPY_THRESHOLD = 2_000
SQLITE_BATCH = 2_000

#: Integer column types (primary keys and foreign keys included).
INTEGER_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
    }
)

#: Field types whose Python values psycopg adapts as they are, so the ORM's per-value
#: preparation (the bulk of bulk_create's cost at 100,000 rows) can be skipped.
NATIVE_TYPES = INTEGER_TYPES | {
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "TextField",
    "UUIDField",
}


def _internal_type(field) -> str:
    return (field.target_field if field.is_relation else field).get_internal_type()


#: Column types whose values travel as one array literal in text (see ``_array``): psycopg
#: dumps a list of numbers element by element in Python, two (integers) to six (decimals)
#: times slower than ``str()`` joined in C.
LITERAL_ARRAY_TYPES = INTEGER_TYPES | {"DecimalField"}


@cache
def _field_traits(field) -> tuple[bool, bool]:
    """(values need no ORM preparation, values travel as an array literal)."""
    internal_type = _internal_type(field)
    return internal_type in NATIVE_TYPES, internal_type in LITERAL_ARRAY_TYPES


def _array_param(field) -> str:
    # Without the length or precision (varchar[], numeric[]) as Django's own UNNEST insert
    # does: the table's column type still applies on the way in.
    array_type = f"{field.db_type(connection).split('(')[0]}[]"
    if _field_traits(field)[1]:
        return f"%t::{array_type}"
    # %b: the array travels in binary, dumped by psycopg's C code, instead of being spelled
    # out as SQL text by Django's client-side binding (half the time at 100,000 rows).
    return f"%b::{array_type}"


def number_array(values) -> str:
    """An array literal of numbers (ints or Decimals, None for NULL): ``str()`` of either is
    a valid literal of its type (digits, sign, point, exponent)."""
    return "{" + ",".join("NULL" if value is None else str(value) for value in values) + "}"


def _array(field, values: list):
    """The parameter of ``_array_param(field)`` for these values."""
    return number_array(values) if _field_traits(field)[1] else values


def bulk_cursor():
    """A cursor for the PostgreSQL statements below: server-side binding (so ``%b`` works),
    wrapped like any Django cursor so that query logging and counting still see it."""
    connection.ensure_connection()
    return connection._prepare_cursor(psycopg.Cursor(connection.connection))


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _insertable_fields(model) -> tuple:
    return tuple(
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and not getattr(field, "generated", False)
    )


@cache
def _insert_sql(model, single: bool) -> str:
    """INSERT of new rows of ``model``: one row of plain parameters, or one array per column.
    Built once per model and shape (PostgreSQL only)."""
    fields = _insertable_fields(model)
    columns = ", ".join(_quote(field.column) for field in fields)
    if single:
        source = f"VALUES ({', '.join(['%s'] * len(fields))})"
    else:
        source = f"SELECT * FROM unnest({', '.join(_array_param(field) for field in fields)})"
    return f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) {source}"


@cache
def _update_sql(model, field_names: tuple[str, ...], single: bool) -> str:
    """UPDATE of ``field_names`` by primary key: of one row, or of one row per array element.
    Built once per model, fields and shape (PostgreSQL only)."""
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    table, pk = _quote(meta.db_table), _quote(meta.pk.column)
    if single:
        assignments = ", ".join(f"{_quote(field.column)} = %s" for field in fields)
        return f"UPDATE {table} SET {assignments} WHERE {pk} = %s"
    aliases = [f"c{index}" for index in range(len(fields))]
    assignments = ", ".join(
        f"{_quote(field.column)} = v.{alias}" for field, alias in zip(fields, aliases, strict=True)
    )
    arrays = ", ".join(_array_param(field) for field in fields)
    return (
        f"UPDATE {table} SET {assignments} FROM unnest({arrays}, {_array_param(meta.pk)}) "
        f"AS v({', '.join(aliases)}, pk) WHERE {table}.{pk} = v.pk"
    )


def _insert_values(field, objs: Sequence[models.Model]) -> list:
    if type(field).pre_save is models.Field.pre_save:
        # The value as it is (Field.pre_save): read directly, 100,000 times.
        values = list(map(attrgetter(field.attname), objs))
    else:
        # pre_save fills auto_now_add dates and the like, as Model.save() would.
        values = [field.pre_save(obj, True) for obj in objs]
    return _prepared(field, values)


def _insert_params(objs: Sequence[models.Model]) -> list:
    fields = _insertable_fields(type(objs[0]))
    if len(objs) == 1:
        return [_insert_values(field, objs)[0] for field in fields]
    return [_array(field, _insert_values(field, objs)) for field in fields]


def _update_params(fields, rows: Sequence[Sequence]) -> list:
    """The parameters of ``_update_sql`` for (pk, value of each field) rows."""
    if len(rows) == 1:
        (pk, *values) = rows[0]
        return [
            _prepared(field, [value])[0] for field, value in zip(fields, values, strict=True)
        ] + [pk]
    columns = [list(column) for column in zip(*rows, strict=True)]
    return [
        _array(field, _prepared(field, column))
        for field, column in zip(fields, columns[1:], strict=True)
    ] + [columns[0]]


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
    pk_column = _quote(model._meta.pk.column)
    with bulk_cursor() as cursor:
        for start in range(0, len(objs), PG_INSERT_BATCH):
            chunk = objs[start : start + PG_INSERT_BATCH]
            sql = _insert_sql(model, len(chunk) == 1)
            if ignore_conflicts:
                cursor.execute(f"{sql} ON CONFLICT DO NOTHING", _insert_params(chunk))
                continue
            cursor.execute(f"{sql} RETURNING {pk_column}", _insert_params(chunk))
            # Rows come back in the order unnest produced them, as Django's bulk_create
            # (which also inserts through unnest on PostgreSQL) relies on.
            _saved(chunk, [pk for (pk,) in cursor.fetchall()])


def _copy_objects(model, objs: Sequence[models.Model]) -> None:
    """COPY many rows in: the primary keys are drawn from the table's sequence first (in
    order, so ids follow the list as they would with INSERT), then sent with the rows."""
    meta = model._meta
    fields = _insertable_fields(model)
    columns = ", ".join(_quote(field.column) for field in [meta.pk, *fields])
    with bulk_cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        pks = sorted(pk for (pk,) in cursor.fetchall())
        values = [_insert_values(field, objs) for field in fields]
        with cursor.copy(f"COPY {_quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in zip(pks, *values, strict=True):
                copy.write_row(row)
    _saved(objs, pks)


def _saved(objs: Sequence[models.Model], pks: list) -> None:
    alias = connection.alias
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias


def _rows(objs: Sequence[models.Model], field_names: Sequence[str]) -> list[tuple]:
    meta = type(objs[0])._meta
    values = attrgetter(meta.pk.attname, *(meta.get_field(name).attname for name in field_names))
    return list(map(values, objs))


def update_objects(objs: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """UPDATE ``field_names`` of saved instances of one model to their in-memory values."""
    if objs:
        update_rows(type(objs[0]), field_names, _rows(objs, field_names))


def update_rows(model, field_names: Sequence[str], rows: Sequence[Sequence]) -> None:
    """UPDATE rows given as (pk, value of each of ``field_names``) tuples."""
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    if connection.vendor != "postgresql":
        assignments = ", ".join(f"{_quote(field.column)} = %s" for field in fields)
        sql = (
            f"UPDATE {_quote(meta.db_table)} SET {assignments} WHERE {_quote(meta.pk.column)} = %s"
        )
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
    with bulk_cursor() as cursor:
        for start in range(0, len(rows), PG_UPDATE_BATCH):
            chunk = rows[start : start + PG_UPDATE_BATCH]
            sql = _update_sql(model, tuple(field_names), len(chunk) == 1)
            cursor.execute(sql, _update_params(fields, chunk))


def write_changes(
    *, new: Sequence[Sequence[models.Model]], changed: Sequence[models.Model], fields: Sequence[str]
) -> None:
    """INSERT each list of new instances (one model per list, primary keys set in order) and
    UPDATE ``fields`` of the ``changed`` instances (of one model).

    On PostgreSQL a small batch (an adjustment, an order) is ONE statement, the inserts and the
    update as data-modifying WITH clauses; a large one is COPY and array statements.
    """
    new = [objs for objs in new if objs]
    small = all(len(objs) < COPY_THRESHOLD for objs in new) and len(changed) <= PG_UPDATE_BATCH
    if connection.vendor != "postgresql" or not small or not new or not changed:
        for objs in new:
            insert_objects(objs)
        update_objects(changed, fields)
        return
    field_names = tuple(fields)
    model = type(changed[0])
    meta = model._meta
    update_params = _update_params(
        [meta.get_field(name) for name in field_names], _rows(changed, field_names)
    )
    inserts = tuple((type(objs[0]), len(objs) == 1) for objs in new)
    sql = _combined_sql(inserts, (model, field_names, len(changed) == 1))
    with bulk_cursor() as cursor:
        if len(new) == 1:
            # The UPDATE first (its WITH clause comes first), the INSERT's ids as rows.
            cursor.execute(sql, update_params + _insert_params(new[0]))
            _saved(new[0], [pk for (pk,) in cursor.fetchall()])
            return
        params = []
        for objs in new:
            params += _insert_params(objs)
        cursor.execute(sql, params + update_params)
        pks = cursor.fetchone()
    for objs, ids in zip(new, pks, strict=True):
        _saved(objs, ids)


@cache
def _combined_sql(inserts: tuple, update: tuple) -> str:
    """One statement writing the rows of ``inserts`` ((model, single row) pairs) and the
    update (``_update_sql`` arguments)."""
    if len(inserts) == 1:
        # The simplest statement to plan (which an adjustment pays for every time).
        model, single = inserts[0]
        pk = _quote(model._meta.pk.column)
        return (
            f"WITH changed AS ({_update_sql(*update)}) {_insert_sql(model, single)} RETURNING {pk}"
        )
    clauses = [
        f"new{index} AS ({_insert_sql(model, single)} RETURNING {_quote(model._meta.pk.column)})"
        for index, (model, single) in enumerate(inserts)
    ]
    clauses.append(f"changed AS ({_update_sql(*update)})")
    # The ids of each INSERT in the order of its rows: a sequence hands them out in the order
    # the rows go in, which is the order of the arrays.
    ids = ", ".join(
        f"ARRAY(SELECT {_quote(model._meta.pk.column)} FROM new{index} "
        f"ORDER BY {_quote(model._meta.pk.column)})"
        for index, (model, _) in enumerate(inserts)
    )
    return f"WITH {', '.join(clauses)} SELECT {ids}"


def _prepared(field, values: list) -> list:
    if _field_traits(field)[0]:
        return values
    return [field.get_db_prep_save(value, connection) for value in values]


class RowReader:
    """Builds instances of a model from its concrete columns as a hand-written query selects
    them, converting values as the ORM would (SQLite returns times as text, decimals as
    floats; PostgreSQL's driver needs no conversion)."""

    def __init__(self, model):
        self.model = model
        fields = model._meta.concrete_fields
        self.names = [field.attname for field in fields]
        self.converters = []
        for index, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            functions = connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            )
            if functions:
                self.converters.append((index, column, functions))

    def columns(self, alias: str) -> list[str]:
        quote = connection.ops.quote_name
        return [f"{alias}.{quote(field.column)}" for field in self.model._meta.concrete_fields]

    def build(self, values: Sequence, alias: str):
        if self.converters:
            values = list(values)
            for index, column, functions in self.converters:
                for function in functions:
                    values[index] = function(values[index], column, connection)
        return self.model.from_db(alias, self.names, values)


class PositionalFields:
    """A model's concrete fields in order, so that an instance can be built from positional
    arguments (``Model(*values)``, what Django itself does for rows it reads)."""

    def __init__(self, model):
        self.names = [field.attname for field in model._meta.concrete_fields]

    def values(self, **given) -> list:
        return [given.get(name) for name in self.names]
