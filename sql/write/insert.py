"""INSERT: the new rows as one Arrow batch, written with the statement's conflict clause
(IGNORE, REPLACE, ON CONFLICT / ON DUPLICATE KEY) by ``Table.insert`` or ``Table.upsert``.

INSERT ... SELECT into an empty keyed table (no conflict clause, index or CHECK), whose
query returns the table's column types, is written as DuckDB produces the rows, a
batch at a time (``_streamed``), so loading ``read_parquet(...)`` holds a few batches,
not the file.

INSERT ... VALUES with constants and ``?`` parameters skips DuckDB when every value
already has its column's Python type (``_literal_batch``); ``executemany`` of such an
INSERT builds each column from all parameter sets at once (``insert_many``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import cast

import numpy as np
import pyarrow as pa
from sqlglot import exp

from arbordb.engine.table import Column, Schema, Table

from .. import catalog
from ..errors import NotSupportedError, ProgrammingError
from ..parse.dialect import quote_identifier
from ..read import operands, reads
from .common import (
    Params,
    WriteContext,
    check_constraints,
    default_expr,
    find_column,
    full_row,
    is_default,
    put,
    refuse_returning,
    run_query,
    write_target,
)

__all__ = ["can_insert_many", "insert", "insert_many"]


def insert(session: WriteContext, tree: exp.Insert, params: Params) -> int:
    refuse_returning(tree)
    name, table, columns = _insert_target(session, tree)
    source = tree.expression
    if tree.args.get("default"):
        batch = run_query(session, exp.select(*full_row(table.schema, {})), params)
    elif isinstance(source, exp.Values):
        source = _with_defaults(source, columns)
        rows = [t.expressions if isinstance(t, exp.Tuple) else [t] for t in source.expressions]
        for i, row in enumerate(rows, start=1):
            if len(row) != len(columns):
                raise ProgrammingError(
                    f"INSERT into {name!r}: row {i} has {len(row)} values for {len(columns)} "
                    f"columns ({', '.join(c.name for c in columns)})"
                )
        cells = [[_cell(v) for v in row] for row in rows]
        batch = _literal_batch(table.schema, columns, cells, params)
        if batch is None:
            batch = _values_batch(session, table.schema, columns, source, params)
    elif isinstance(source, exp.Query):
        written = _streamed(session, name, table, columns, tree, params)
        if written is not None:
            return written
        data = run_query(session, source, params)
        if tree.args.get("by_name"):
            columns = [find_column(table.schema, n) for n in data.column_names]
        if data.num_columns != len(columns):
            raise ProgrammingError(
                f"INSERT into {name!r}: the query returns {data.num_columns} columns for "
                f"{len(columns)} target columns ({', '.join(c.name for c in columns)})"
            )
        batch = _completed(session, table.schema, columns, data)
    elif source is None:
        raise ProgrammingError(
            f"INSERT into {name!r} needs the rows: VALUES (...), a query or DEFAULT VALUES"
        )
    else:
        raise NotSupportedError(
            f"INSERT into {name!r}: rows can come from VALUES, a query or DEFAULT VALUES"
        )
    return _write_batch(session, name, table, batch, tree, params)


STREAM_BATCH_ROWS = 1 << 16  # rows per batch of a streamed INSERT ... SELECT


def _streamed(
    session: WriteContext,
    name: str,
    table: Table,
    columns: list[Column],
    tree: exp.Insert,
    params: Params,
) -> int | None:
    """A plain INSERT ... SELECT (no conflict clause, no CHECK) whose query returns the
    table's column types, written as DuckDB produces the rows, a batch at a time
    (``Table.insert_batches``; each batch's chunks spilled to the store), so memory
    holds a few batches whatever the source's size (``read_parquet``, ``read_csv``).
    None when the statement needs the rows whole (casts, defaults, conflicts): the
    caller then reads them at once. The table is put only once every batch passed:
    a refused row (a repeated key, a NULL key) changes nothing."""
    schema = table.schema
    if schema.checks or _conflict_mode(tree) != "insert" or not _loads_whole(table):
        return None
    bound = reads.bind(reads.compile_query(tree.expression, copy=True), session, params)
    returned = session.query_columns(bound.sql, bound.params)
    if tree.args.get("by_name"):
        columns = [find_column(schema, n) for n, _ in returned]
    if len(returned) != len(columns):
        raise ProgrammingError(
            f"INSERT into {name!r}: the query returns {len(returned)} columns for "
            f"{len(columns)} target columns ({', '.join(c.name for c in columns)})"
        )
    if not _fits_as_is(schema, columns, [t for _, t in returned]):
        return None  # decided before running the query: a stream it reads is read once
    reader = session.query_batches(bound.sql, bound.params, STREAM_BATCH_ROWS)
    counted = [0]

    def full_rows() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            counted[0] += batch.num_rows
            yield _full_batch(schema, columns, batch)

    buffer = session.workspace.buffer
    try:
        if bound.names:
            # spilled in step: the query reads relations of this session (its tables),
            # maybe its unsaved chunks, and ``spill`` keeps them readable throughout
            written = table.insert_batches(full_rows(), buffer.spill)
        else:  # it reads only files and Arrow data: spilled behind the writer
            written = table.insert_batches_spilling_behind(full_rows(), buffer)
    finally:
        reader.close()
    put(session, name, written)
    return counted[0]


def _loads_whole(table: Table) -> bool:
    """Whether an INSERT builds ``table`` from nothing (keyed, no index, no rows): its
    batches are cut into leaves as they come. Into rows already there, one insert
    per batch would rewrite the leaves each batch touches (keyless rows land all over
    the tree), so such an INSERT reads its rows whole, as before."""
    s = table.schema
    return not s.is_keyless and not s.indexes and table.rows.count() == 0


def _fits_as_is(schema: Schema, columns: list[Column], types: Sequence[str]) -> bool:
    """Whether query columns of DuckDB ``types`` for ``columns`` are the table's rows as
    they are: each of its column's type, and the columns left out have no DEFAULT."""
    given = {c.name: t for c, t in zip(columns, types, strict=True)}
    return all(
        (c.name in given and not c.logical and given[c.name] == catalog.duck_type(c))
        or (c.name not in given and c.default is None)
        for c in schema.columns
    )


def _full_batch(schema: Schema, columns: list[Column], batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch of the query's columns as the table's rows, in its column order (a
    column of the same SQL type in another Arrow layout, e.g. large_string, cast)."""
    by_name = {c.name: i for i, c in enumerate(columns)}
    arrays = []
    for c in schema.columns:
        if c.name not in by_name:
            arrays.append(pa.nulls(batch.num_rows, c.type))
            continue
        array = batch.column(by_name[c.name])
        arrays.append(array if array.type == c.type else array.cast(c.type))
    return pa.RecordBatch.from_arrays(arrays, names=schema.column_names)


def _conflict_mode(tree: exp.Insert) -> str:
    """insert | ignore | replace | update: what an INSERT does with a key that exists."""
    conflict = tree.args.get("conflict")
    alternative = (tree.args.get("alternative") or "").upper()
    if tree.args.get("ignore") or alternative == "IGNORE":
        return "ignore"
    if alternative == "REPLACE":
        return "replace"
    if conflict is not None:
        action = conflict.args.get("action")
        return "ignore" if action is not None and "NOTHING" in action.name.upper() else "update"
    if alternative:
        raise NotSupportedError(f"INSERT OR {alternative} is not supported")
    return "insert"


def _insert_target(session: WriteContext, tree: exp.Insert) -> tuple[str, Table, list[Column]]:
    target = tree.this
    listed = None
    if isinstance(target, exp.Schema):
        listed, target = target.expressions, target.this
    if isinstance(target, exp.Table) and target.name.lower().startswith("dolt_conflicts_"):
        raise NotSupportedError("rows cannot be inserted into dolt_conflicts tables")
    name, table = write_target(session, target, "insert into")
    if listed is None:
        return name, table, list(table.schema.columns)
    columns = [find_column(table.schema, c.name) for c in listed]
    seen = [c.name for c in columns]
    repeated = sorted({n for n in seen if seen.count(n) > 1})
    if repeated:
        raise ProgrammingError(f"INSERT into {name!r} lists column {repeated[0]!r} twice")
    return name, table, columns


def _with_defaults(values: exp.Values, columns: list[Column]) -> exp.Values:
    """``values`` with each DEFAULT item replaced by its column's default (NULL when the
    column has none), as SQL has it: ``VALUES (1, DEFAULT, 5)``."""
    rows = [t.expressions if isinstance(t, exp.Tuple) else [t] for t in values.expressions]
    if not any(is_default(item) for row in rows for item in row):
        return values
    values = values.copy()
    for row in values.expressions:
        items = row.expressions if isinstance(row, exp.Tuple) else [row]
        for column, item in zip(columns, items, strict=False):  # lengths are checked later
            if is_default(item):
                item.replace(default_expr(column))
    return values


_NOT_A_CELL = object()


def _cell(node: exp.Expr) -> object:
    """A VALUES item as ('const', value) or ('param', index), or _NOT_A_CELL."""
    operand = operands.operand(node)
    if operand.kind in ("const", "param"):
        return operand
    return _NOT_A_CELL


# Python types that become exactly the column's values (DuckDB's casts are not needed).
def _python_types(column: Column) -> tuple[type, ...] | None:
    t = column.type
    if column.logical and column.logical != "json":
        return None
    if pa.types.is_integer(t):
        return (int,)
    if pa.types.is_floating(t):
        return (int, float)
    if pa.types.is_decimal(t):
        return (int, Decimal)
    if pa.types.is_string(t):
        return (str,)
    if pa.types.is_binary(t):
        return (bytes,)
    if pa.types.is_boolean(t):
        return (bool,)
    if pa.types.is_date(t):
        return (date,)
    if pa.types.is_timestamp(t) and t.tz is None:
        return (datetime,)
    if pa.types.is_list(t):
        return (list,)
    return None


def _literal_column(values: list[object], column: Column) -> pa.Array | None:
    allowed = _python_types(column)
    if allowed is None:
        return None
    allowed = (*allowed, type(None))
    if not all(type(v) in allowed for v in values):
        return None
    if pa.types.is_timestamp(column.type) and any(
        isinstance(v, datetime) and v.tzinfo for v in values
    ):
        return None
    try:
        return pa.array(values, column.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None  # DuckDB's cast decides (and words the error)


def _literal_batch(
    schema: Schema, columns: list[Column], cells: list[list[object]], params: Params
) -> pa.Table | None:
    """The rows of a VALUES list of constants and parameters, without DuckDB; None when
    a value needs a cast or a DEFAULT needs evaluating."""
    if any(c is _NOT_A_CELL for row in cells for c in row):
        return None
    operand_rows = cast(list[list[operands.Operand]], cells)  # every item is a cell (above)
    if isinstance(params, Mapping) and any(c.kind == "param" for row in operand_rows for c in row):
        return None
    given = {c.name: i for i, c in enumerate(columns)}
    n = len(operand_rows)
    arrays = []
    for column in schema.columns:
        if column.name in given:
            i = given[column.name]
            values = [
                params[row[i].value] if row[i].kind == "param" else row[i].value
                for row in operand_rows
            ]
        else:
            default = default_expr(column)
            value = operands.constant(default)
            if value is operands.NOT_CONSTANT:
                return None
            values = [value] * n
        array = _literal_column(values, column)
        if array is None:
            return None
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=schema.column_names)


def _values_batch(
    session: WriteContext, schema: Schema, columns: list[Column], values: exp.Values, params: Params
) -> pa.Table:
    """The rows of a VALUES list computed by DuckDB (casts, expressions, DEFAULTs)."""
    source = values.copy()
    names = [f"c{i}" for i in range(len(columns))]
    source.set(
        "alias",
        exp.TableAlias(
            this=exp.to_identifier("__arbor_v"), columns=[exp.to_identifier(n) for n in names]
        ),
    )
    given = {c.name: exp.column(n, table="__arbor_v") for c, n in zip(columns, names, strict=True)}
    select = exp.select(*full_row(schema, given)).from_(source)
    return run_query(session, select, params)


def _completed(
    session: WriteContext, schema: Schema, columns: list[Column], data: pa.Table
) -> pa.Table:
    """``data`` (one column per target column) as full rows of the table's types."""
    by_name = {c.name: i for i, c in enumerate(columns)}
    if all(
        (c.name in by_name and data.column(by_name[c.name]).type == c.type and not c.logical)
        or (c.name not in by_name and c.default is None)
        for c in schema.columns
    ):
        arrays = [
            data.column(by_name[c.name]) if c.name in by_name else pa.nulls(data.num_rows, c.type)
            for c in schema.columns
        ]
        return pa.Table.from_arrays(arrays, names=schema.column_names)
    renamed = data.rename_columns([f"c{i}" for i in range(data.num_columns)])
    relation = session.relations.scratch(renamed, "the inserted rows")
    given = {c.name: exp.column(f"c{i}") for c, i in ((c, by_name[c.name]) for c in columns)}
    select = exp.select(*full_row(schema, given)).from_(relation)
    return session.query_arrow(select.sql("duckdb"))


def _write_batch(
    session: WriteContext,
    name: str,
    table: Table,
    batch: pa.Table,
    tree: exp.Insert,
    params: Params,
) -> int:
    """Apply an INSERT's rows with its conflict clause; returns the rows written."""
    schema = table.schema
    check_constraints(session, schema, batch)
    conflict = tree.args.get("conflict")
    mode = _conflict_mode(tree)
    if schema.is_keyless or mode == "insert":
        put(session, name, table.insert(batch))
        return batch.num_rows
    if mode == "replace":
        keep = table.last_of_each_key(batch)
        put(session, name, table.upsert(batch.take(pa.array(keep))))
        return batch.num_rows
    found, old = table.find_rows(batch)
    if mode == "ignore":
        fresh = np.zeros(len(found), bool)
        fresh[table.first_of_each_key(batch)] = True
        fresh &= ~found
        kept = batch.filter(pa.array(fresh))
        put(session, name, table.insert(kept))
        return kept.num_rows
    hit = pa.array(found)
    assert conflict is not None  # mode "update" comes only from an ON CONFLICT clause
    updated = _conflict_updates(session, table, old, batch.filter(hit), conflict, params)
    fresh = batch.filter(pa.array(~found))
    put(session, name, table.upsert(pa.concat_tables([fresh, updated])))
    return fresh.num_rows + updated.num_rows


def _conflict_updates(
    session: WriteContext,
    table: Table,
    old: pa.Table,
    new: pa.Table,
    conflict: exp.OnConflict,
    params: Params,
) -> pa.Table:
    """ON CONFLICT DO UPDATE / ON DUPLICATE KEY UPDATE: the existing rows, updated."""
    schema = table.schema
    if old.num_rows == 0:
        return old
    target = schema.name
    existing = session.relations.scratch(old, target)
    excluded = session.relations.scratch(new, "excluded")
    sets: dict[str, exp.Expr] = {}
    for assignment in conflict.expressions:
        column = find_column(schema, assignment.this.name)
        sets[column.name] = assignment.expression.transform(_excluded_or_target, target)
    items = full_row(
        schema,
        {c.name: sets.get(c.name, exp.column(c.name, table=target)) for c in schema.columns},
    )
    join = " AND ".join(
        f"{quote_identifier(target)}.{quote_identifier(k)} = excluded.{quote_identifier(k)}"
        for k in schema.primary_key
    )
    select = exp.select(*items).from_(f"{existing} AS {quote_identifier(target)}")
    select = select.join(f"{excluded} AS excluded", on=join)
    where = conflict.args.get("where")
    if where is not None:
        keep = exp.select(*[exp.column(c.name, table=target) for c in schema.columns])
        keep = keep.from_(f"{existing} AS {quote_identifier(target)}")
        keep = keep.join(f"{excluded} AS excluded", on=join).where(exp.not_(where.this.copy()))
        query: exp.Query = exp.union(select.where(where.this.copy()), keep, distinct=False)
    else:
        query = select
    updated = run_query(session, query, params)
    check_constraints(session, schema, updated)
    return updated


def _excluded_or_target(node: exp.Expr, target: str) -> exp.Expr:
    """In an ON CONFLICT update: MySQL's VALUES(c) is excluded.c; a bare column is the
    target table's (as in Postgres)."""
    if (
        isinstance(node, exp.Anonymous)
        and node.name.upper() == "VALUES"
        and len(node.expressions) == 1
    ):
        return exp.column(node.expressions[0].name, table="excluded")
    if isinstance(node, exp.Column) and not node.table:
        return exp.column(node.name, table=target)
    return node


# --- executemany of INSERT ... VALUES (?, ...) ----------------------------------------


def can_insert_many(tree: exp.Insert) -> bool:
    """Whether executemany may write every parameter set of ``tree`` in one batch."""
    source = tree.expression
    conflict = tree.args.get("conflict")
    return (
        isinstance(source, exp.Values)
        and len(source.expressions) == 1
        and not tree.args.get("returning")
        and all(_cell(v) is not _NOT_A_CELL for v in source.expressions[0].expressions)
        and (conflict is None or not any(True for _ in conflict.find_all(exp.Placeholder)))
    )


def insert_many(session: WriteContext, tree: exp.Insert, rows: Sequence[Params]) -> int:
    """executemany of ``INSERT ... VALUES (?, ...)``: one batch, one engine apply."""
    refuse_returning(tree)
    name, table, columns = _insert_target(session, tree)
    (row,) = [t.expressions for t in tree.expression.expressions]
    if len(row) != len(columns):
        raise ProgrammingError(
            f"INSERT into {name!r}: {len(row)} values for {len(columns)} columns"
        )
    # the caller checked that every value is a cell
    cells = cast(list[operands.Operand], [_cell(v) for v in row])
    arrays: dict[str, list[object]] = {}
    for column, cell in zip(columns, cells, strict=True):
        if cell.kind == "param":
            arrays[column.name] = [params[cell.value] for params in rows]
        else:
            arrays[column.name] = [cell.value] * len(rows)
    batch = _columns_batch(session, table.schema, columns, arrays)
    return _write_batch(session, name, table, batch, tree, ())


def _columns_batch(
    session: WriteContext, schema: Schema, columns: list[Column], values: dict[str, list[object]]
) -> pa.Table:
    """Full rows from per-column Python values: directly when the types fit, else
    through DuckDB's casts over the inferred Arrow columns."""
    n = len(next(iter(values.values()))) if values else 0
    arrays = []
    for column in schema.columns:
        if column.name in values:
            array = _literal_column(values[column.name], column)
        else:
            constant = operands.constant(default_expr(column))
            array = (
                None
                if constant is operands.NOT_CONSTANT
                else _literal_column([constant] * n, column)
            )
        if array is None:
            break
        arrays.append(array)
    else:
        return pa.Table.from_arrays(arrays, names=schema.column_names)
    try:
        data = pa.table({f"c{i}": values[c.name] for i, c in enumerate(columns)})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ProgrammingError(f"table {schema.name!r}: parameters of mixed types: {exc}") from None
    return _completed(session, schema, columns, data)
