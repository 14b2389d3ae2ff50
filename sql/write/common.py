"""What every write statement shares: the table it writes and the rows it computes.

``write_target`` resolves a statement's table in the session's working root (views and
``AS OF`` revisions are refused) and ``find_column`` its columns; ``full_row`` builds one
expression per column (the given value or the DEFAULT, cast to the column type) and
``check_constraints`` refuses a computed batch that breaks a CHECK before anything is
written (NOT NULL, PRIMARY KEY and UNIQUE are the engine's: engine/table/table.py
invariant (1)); ``put`` replaces the table value in the working root
(``Workspace.put_table``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import pyarrow as pa
from sqlglot import exp

from arbordb.engine.errors import TableNotFound
from arbordb.engine.table import Column, Schema, Table
from arbordb.engine.workspace.ignore import IGNORE_SCHEMA, IGNORE_TABLE

from .. import catalog
from ..errors import IntegrityError, NotSupportedError, ObjectNotFound, ProgrammingError
from ..procedures import data_tests
from ..read import reads
from ..read.reads import ReadContext

__all__ = [
    "WriteContext",
    "Params",
    "cast_to",
    "check_constraints",
    "default_expr",
    "emptied",
    "find_column",
    "full_row",
    "is_default",
    "put",
    "refuse_returning",
    "run_query",
    "with_sources",
    "write_target",
]

Params = Sequence[object] | Mapping[str, object]


class WriteContext(ReadContext, Protocol):
    """What writes need from a session: reads, plus marking the transaction WRITE and
    running a query to Arrow."""

    def wrote(self) -> None: ...

    def query_arrow(
        self, sql: str, params: Sequence[object] | Mapping[str, object] = ()
    ) -> pa.Table: ...

    def query_batches(
        self, sql: str, params: Sequence[object] | Mapping[str, object], batch_rows: int
    ) -> pa.RecordBatchReader: ...

    def query_columns(
        self, sql: str, params: Sequence[object] | Mapping[str, object]
    ) -> list[tuple[str, str]]: ...


# Dolt's configuration tables: read as empty until the first INSERT creates them
_ALWAYS_THERE: dict[str, tuple[str, Schema]] = {
    data_tests.TESTS_TABLE: (data_tests.TESTS_TABLE, data_tests.TESTS_SCHEMA),
    IGNORE_TABLE: (IGNORE_TABLE, IGNORE_SCHEMA),
}


def write_target(session: WriteContext, node: exp.Expr, verb: str = "change") -> tuple[str, Table]:
    """The working-root table a statement writes: (stored name, table)."""
    if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier):
        what = f" {node.sql('duckdb')!r}" if isinstance(node, exp.Expression) else ""
        raise NotSupportedError(f"cannot {verb}{what}: name a table")
    if node.args.get("version") is not None:
        raise ProgrammingError(
            f"cannot {verb} {node.name!r} AS OF a revision: history is read-only "
            "(check out a branch to change it)"
        )
    ws = session.workspace
    found = ws.working.find(node.name)
    if found is None and verb == "insert into" and node.name.lower() in _ALWAYS_THERE:
        name, schema = _ALWAYS_THERE[node.name.lower()]
        return name, Table.create(ws.nodes, schema)  # Dolt's always exist: the first INSERT
    if found is None:
        lowered = node.name.lower()
        if lowered in session.temp_views or reads.view_text(session, ws.working, node.name):
            raise ProgrammingError(f"cannot {verb} {node.name!r}: it is a view, not a table")
        raise TableNotFound(ws.working.missing_message(node.name, f" on branch {ws.branch!r}"))
    return found, ws.table(found).named(found)


def find_column(schema: Schema, name: str) -> Column:
    lowered = name.lower()
    for column in schema.columns:
        if column.name.lower() == lowered:
            return column
    raise ObjectNotFound(
        f"table {schema.name!r} has no column {name!r} (columns: {', '.join(schema.column_names)})"
    )


def put(session: WriteContext, name: str, table: Table) -> None:
    session.wrote()
    session.workspace.put_table(name, table)


def emptied(session: WriteContext, table: Table) -> Table:
    empty = Table.create(session.workspace.nodes, table.schema)
    return empty.with_artifacts(table.artifacts) if table.artifacts else empty


def cast_to(node: exp.Expr, column: Column) -> exp.Expr:
    return exp.Cast(this=node, to=exp.DataType.build(catalog.duck_type(column), dialect="duckdb"))


def default_expr(column: Column) -> exp.Expr:
    if column.default is None:
        return exp.null()
    return exp.maybe_parse(column.default, dialect="duckdb")


def is_default(node: exp.Expr) -> bool:
    """Whether a VALUES item or SET value is the keyword DEFAULT (the column's default).
    sqlglot reads it as a variable in VALUES, as an unquoted column in SET (DEFAULT is
    reserved in every dialect: a column named so is quoted)."""
    if isinstance(node, exp.Column) and not node.table:
        node = node.this
        return not node.args.get("quoted") and node.name.upper() == "DEFAULT"
    return isinstance(node, exp.Var) and node.name.upper() == "DEFAULT"


def run_query(
    session: WriteContext, tree: exp.Expr, params: Params, *, owned: bool = False
) -> pa.Table:
    """Run a query tree (tables resolved as for any SELECT) and fetch it as Arrow.

    ``owned``: the caller built ``tree`` for this call alone, so compiling may
    rewrite it instead of a copy (a copy of a 1,000-value IN list costs ~30 ms).
    """
    bound = reads.bind(reads.compile_query(tree, copy=not owned, once=owned), session, params)
    return session.query_arrow(bound.sql, bound.params)


def refuse_returning(tree: exp.Expr) -> None:
    if tree.args.get("returning"):
        raise NotSupportedError("RETURNING is not supported; run a SELECT after the statement")


def full_row(schema: Schema, given: Mapping[str, exp.Expr]) -> list[exp.Expr]:
    """One expression per column: the given value or the DEFAULT, cast to the column type."""
    return [
        exp.alias_(cast_to(given.get(c.name, default_expr(c)), c), c.name, quoted=True)
        for c in schema.columns
    ]


def check_constraints(session: WriteContext, schema: Schema, rows: pa.Table) -> None:
    """Refuse rows that break a CHECK (NULL passes, as in SQL)."""
    if not schema.checks or rows.num_rows == 0:
        return
    relation = session.relations.scratch(rows, f"the new rows of {schema.name}")
    tests = ", ".join(f"count_if(NOT coalesce(({c.expression}), true))" for c in schema.checks)
    counts = session.query_arrow(f"SELECT {tests} FROM {relation}").to_pylist()[0]
    for check, failed in zip(schema.checks, counts.values(), strict=True):
        if failed:
            raise IntegrityError(
                f"table {schema.name!r}: CHECK constraint {check.name!r} ({check.expression}) "
                f"fails for {failed} row(s); nothing was written"
            )


def with_sources(tree: exp.Expr, select: exp.Select, arg: str) -> exp.Select:
    """Add UPDATE ... FROM / DELETE ... USING tables to ``select`` as cross joins."""
    extra = tree.args.get(arg)
    if not extra:
        return select
    tables = (
        extra.expressions
        if isinstance(extra, exp.From) and extra.expressions
        else ([extra.this] if isinstance(extra, exp.From) else list(extra))
    )
    for node in tables:
        select = select.join(node.copy(), join_type="cross")
    return select
