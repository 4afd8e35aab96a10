"""Query expressions Django does not ship as public API."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import EmptyResultSet
from django.db.models import BooleanField, Expression, F, Lookup, Subquery, Value


class RowComparison(Expression):
    """``(a, b, c) > (x, y, z)``: the row comparison of SQL, lexicographic.

    Written as one comparison of rows rather than ``a > x OR (a = x AND ...)``, PostgreSQL
    seeks straight to the row in an index on (a, b, c); the spelled-out form only bounds the
    first column, and a page among 100,000 lines sharing one value of ``a`` read all of them
    first. The left side takes expressions or field names, the right side plain values
    (typed as the left side's expressions) or expressions.
    """

    output_field = BooleanField()
    conditional = True
    OPERATORS = frozenset({"<", "<=", ">", ">="})

    def __init__(self, left, operator: str, right):
        if operator not in self.OPERATORS:
            raise ValueError(f"not a row comparison operator: {operator!r}")
        left, right = list(left), list(right)
        if not left or len(left) != len(right):
            raise ValueError("a row comparison needs rows of the same, non-zero length")
        super().__init__()
        self.left = [F(item) if isinstance(item, str) else item for item in left]
        self.operator = operator
        self.right = [
            item if hasattr(item, "resolve_expression") else Value(item) for item in right
        ]

    def get_source_expressions(self):
        return [*self.left, *self.right]

    def set_source_expressions(self, expressions):
        count = len(self.left)
        self.left, self.right = list(expressions[:count]), list(expressions[count:])

    def resolve_expression(self, *args, **kwargs):
        resolved = super().resolve_expression(*args, **kwargs)
        # Each value takes its column's type, so it is sent as a lookup on that column would.
        resolved.right = [
            Value(value.value, output_field=column.output_field)
            if isinstance(value, Value)
            else value
            for column, value in zip(resolved.left, resolved.right, strict=True)
        ]
        return resolved

    def as_sql(self, compiler, connection):
        params = []
        rows = []
        for row in (self.left, self.right):
            parts = []
            for expression in row:
                sql, expression_params = compiler.compile(expression)
                parts.append(sql)
                params.extend(expression_params)
            rows.append(f"({', '.join(parts)})")
        return f"{rows[0]} {self.operator} {rows[1]}", params


class AnyOf(Lookup):
    """``lhs IN (v1, v2, ...)``, sent to PostgreSQL as ``lhs = ANY(%s)``: the values as one
    array parameter.

    The database plans both alike (PostgreSQL turns an IN list into ``= ANY``), but Django and
    psycopg prepare one parameter instead of one per value, and the query stays short enough
    for psycopg's cache: a search's 70 matching variants, sent in the page and its three
    counts, cost 1.5 ms of Python a request as IN lists. Other databases get the IN list.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def __init__(self, lhs, values):
        super().__init__(F(lhs) if isinstance(lhs, str) else lhs, tuple(values))

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        placeholders = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs_sql} IN ({placeholders})", (*lhs_params, *self.rhs)

    def as_postgresql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        array_type = self.lhs.output_field.cast_db_type(connection)
        return f"{lhs_sql} = ANY(%s::{array_type}[])", (*lhs_params, list(self.rhs))


#: name -> (SQL, params) of the subqueries shared by the statement being compiled.
_shared_subqueries: ContextVar[dict[str, tuple[str, tuple]] | None] = ContextVar(
    "shared_subqueries", default=None
)


class SharedSubquery(Subquery):
    """A subquery that a statement compiled under ``sharing_subqueries()`` computes once,
    as ``WITH name AS (...)``, however many of its parts use it; elsewhere a plain subquery.

    The inventory list counts lines three times in one statement (matching, Low stock,
    Stockout): under a broad search each count built the set of matching variants again,
    6 ms each.
    """

    def __init__(self, queryset, name: str, **extra):
        super().__init__(queryset, **extra)
        self.name = name

    def as_sql(self, compiler, connection, template=None, **extra):
        shared = _shared_subqueries.get()
        if shared is None:
            return super().as_sql(compiler, connection, template, **extra)
        sql, params = self.query.as_sql(compiler, connection)
        body = (sql[1:-1] if sql.startswith("(") else sql, tuple(params))
        if shared.setdefault(self.name, body) != body:
            # Another subquery under the same name: not the same set, so not shared.
            return super().as_sql(compiler, connection, template, **extra)
        return f"(SELECT * FROM {connection.ops.quote_name(self.name)})", ()


@contextmanager
def sharing_subqueries() -> Iterator[dict[str, tuple[str, tuple]]]:
    """Compile a statement's parts in this block; then put ``with_clause(shared)`` first."""
    shared: dict[str, tuple[str, tuple]] = {}
    token = _shared_subqueries.set(shared)
    try:
        yield shared
    finally:
        _shared_subqueries.reset(token)


def with_clause(shared: dict[str, tuple[str, tuple]], connection) -> tuple[str, list]:
    """``WITH a AS MATERIALIZED (...), b AS ... `` and its parameters ("" when none)."""
    if not shared:
        return "", []
    # PostgreSQL would inline a CTE used once; SQLite materializes one used more than once.
    materialized = " MATERIALIZED" if connection.vendor == "postgresql" else ""
    parts, params = [], []
    for name, (sql, sql_params) in shared.items():
        parts.append(f"{connection.ops.quote_name(name)} AS{materialized} ({sql})")
        params.extend(sql_params)
    return f"WITH {', '.join(parts)} ", params
