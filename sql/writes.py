"""Writes: DDL and DML as engine edits, one Arrow batch per statement.

Every DML statement is computed first, then applied in one call:

    STATEMENT                 COMPUTED (DuckDB over the target's relation)       APPLIED
    INSERT ... VALUES/SELECT  the new rows, cast to the column types, DEFAULTs   Table.insert
    INSERT ... ON CONFLICT    + the existing rows the new keys hit, updated      Table.upsert
    UPDATE t SET ... WHERE    SELECT old key, new values FROM t WHERE ...        Table.apply
    DELETE FROM t WHERE ...   SELECT key (whole row when keyless) FROM t WHERE   Table.delete

Constraints are checked on the computed batch before anything is written: CHECK by
DuckDB here, NOT NULL, PRIMARY KEY and UNIQUE by the engine (engine/table/table.py
invariant (1)); so a refused statement writes nothing. The new table value replaces
the old one in the session's working root (``Workspace.put_table``).

INSERT ... VALUES with constants and ``?`` parameters skips DuckDB when every value
already has its column's Python type (``_literal_batch``); ``executemany`` of such an
INSERT builds each column from all parameter sets at once (``insert_many``).

Views live in Dolt's ``dolt_schemas`` table of the working root (so they are
versioned, diffed and merged like rows): one row per view with ``type`` 'view',
``name``, ``fragment`` (``CREATE VIEW name AS <query>`` in DuckDB SQL with AS OF
kept), ``extra`` (JSON) and ``sql_mode``. ``CREATE TEMP VIEW`` views live in the
session only.

Writes to ``dolt_conflicts_<t>`` resolve merge conflicts, as in Dolt: ``DELETE``
accepts our row for the deleted conflicts (they are removed); ``UPDATE`` of
``our_<column>`` columns writes those values to the table's row (the conflict stays
until deleted or resolved).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from arbordb.engine.codec.key_batch import encode_keys
from arbordb.engine.errors import AlreadyExists, TableNotFound
from arbordb.engine.table import Check, Column, Index, Schema, Table
from arbordb.engine.table.lookup import lookup
from arbordb.engine.table.rows import rows_to_arrow
from arbordb.engine.versioning.merge import resolve_table_conflicts

from . import catalog, reads
from .dialect import to_duckdb, versioned_dialect
from .errors import IntegrityError, NotSupportedError, ObjectNotFound, ProgrammingError

__all__ = ["STATEMENTS", "can_insert_many", "insert_many", "run"]

STATEMENTS = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
)

SCHEMAS_SCHEMA = Schema(
    (
        Column("type", None, pa.string(), nullable=False),
        Column("name", None, pa.string(), nullable=False),
        Column("fragment", None, pa.string()),
        Column("extra", None, pa.string(), logical="json"),
        Column("sql_mode", None, pa.string()),
    ),
    ("type", "name"),
    name=reads.SCHEMAS_TABLE,
)

_Params = Sequence[object] | Mapping[str, object]


def run(session, tree: exp.Expression, params: _Params) -> int:
    """Run one DDL or DML statement; returns its row count (-1 for DDL, as PEP 249 asks
    for statements without one)."""
    if isinstance(tree, exp.Insert):
        return _insert(session, tree, params)
    if isinstance(tree, exp.Update):
        return _update(session, tree, params)
    if isinstance(tree, exp.Delete):
        return _delete(session, tree, params)
    if isinstance(tree, exp.TruncateTable):
        for node in tree.expressions:
            name, table = _target(session, node)
            _put(session, name, _emptied(session, table))
        return -1
    if isinstance(tree, exp.Create):
        _create(session, tree, params)
    elif isinstance(tree, exp.Drop):
        _drop(session, tree)
    else:
        _alter(session, tree, params)
    return -1


# --- names -------------------------------------------------------------------------


def _target(session, node: exp.Expression, verb: str = "change") -> tuple[str, Table]:
    """The working-root table a statement writes: (stored name, table)."""
    if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier):
        raise NotSupportedError(f"cannot {verb} {node.sql('duckdb')!r}: name a table")
    if node.args.get("version") is not None:
        raise ProgrammingError(
            f"cannot {verb} {node.name!r} AS OF a revision: history is read-only "
            "(check out a branch to change it)"
        )
    ws = session.workspace
    found = ws.working.find(node.name)
    if found is None:
        lowered = node.name.lower()
        if lowered in session.temp_views or reads.view_text(session, ws.working, node.name):
            raise ProgrammingError(f"cannot {verb} {node.name!r}: it is a view, not a table")
        raise TableNotFound(ws.working.missing_message(node.name, f" on branch {ws.branch!r}"))
    return found, ws.table(found).named(found)


def _column(schema: Schema, name: str) -> Column:
    lowered = name.lower()
    for column in schema.columns:
        if column.name.lower() == lowered:
            return column
    raise ObjectNotFound(
        f"table {schema.name!r} has no column {name!r} (columns: {', '.join(schema.column_names)})"
    )


def _put(session, name: str, table: Table) -> None:
    session.wrote()
    session.workspace.put_table(name, table)


def _emptied(session, table: Table) -> Table:
    empty = Table.create(session.workspace.nodes, table.schema)
    return empty.with_artifacts(table.artifacts) if table.artifacts else empty


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cast(node: exp.Expression, column: Column) -> exp.Expression:
    return exp.Cast(this=node, to=exp.DataType.build(catalog.duck_type(column), dialect="duckdb"))


def _default(column: Column) -> exp.Expression:
    if column.default is None:
        return exp.null()
    return exp.maybe_parse(column.default, dialect="duckdb")


def _query(session, tree: exp.Expression, params: _Params) -> pa.Table:
    """Run a query tree (tables resolved as for any SELECT) and fetch it as Arrow."""
    bound = reads.bind(reads.compile_query(tree), session, params)
    return session.query_arrow(bound.sql, bound.params)


def _refuse_returning(tree: exp.Expression) -> None:
    if tree.args.get("returning"):
        raise NotSupportedError("RETURNING is not supported; run a SELECT after the statement")


# --- INSERT --------------------------------------------------------------------------


def _insert(session, tree: exp.Insert, params: _Params) -> int:
    _refuse_returning(tree)
    name, table, columns = _insert_target(session, tree)
    source = tree.expression
    if tree.args.get("default"):
        batch = _query(session, exp.select(*_full_row(table.schema, {})), params)
    elif isinstance(source, exp.Values):
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
        data = _query(session, source, params)
        if tree.args.get("by_name"):
            columns = [_column(table.schema, n) for n in data.column_names]
        if data.num_columns != len(columns):
            raise ProgrammingError(
                f"INSERT into {name!r}: the query returns {data.num_columns} columns for "
                f"{len(columns)} target columns ({', '.join(c.name for c in columns)})"
            )
        batch = _completed(session, table.schema, columns, data)
    else:
        raise NotSupportedError(f"INSERT from {type(source).__name__} is not supported")
    return _write_batch(session, name, table, batch, tree, params)


def _insert_target(session, tree: exp.Insert) -> tuple[str, Table, list[Column]]:
    target = tree.this
    listed = None
    if isinstance(target, exp.Schema):
        listed, target = target.expressions, target.this
    if isinstance(target, exp.Table) and target.name.lower().startswith("dolt_conflicts_"):
        raise NotSupportedError("rows cannot be inserted into dolt_conflicts tables")
    name, table = _target(session, target, "insert into")
    if listed is None:
        return name, table, list(table.schema.columns)
    columns = [_column(table.schema, c.name) for c in listed]
    seen = [c.name for c in columns]
    repeated = sorted({n for n in seen if seen.count(n) > 1})
    if repeated:
        raise ProgrammingError(f"INSERT into {name!r} lists column {repeated[0]!r} twice")
    return name, table, columns


_NOT_A_CELL = object()


def _cell(node: exp.Expression) -> object:
    """A VALUES item as ('const', value) or ('param', index), or _NOT_A_CELL."""
    operand = reads.operand(node)
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
    if pa.types.is_timestamp(column.type) and any(v is not None and v.tzinfo for v in values):
        return None
    try:
        return pa.array(values, column.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None  # DuckDB's cast decides (and words the error)


def _literal_batch(
    schema: Schema, columns: list[Column], cells: list[list[object]], params: _Params
) -> pa.Table | None:
    """The rows of a VALUES list of constants and parameters, without DuckDB; None when
    a value needs a cast or a DEFAULT needs evaluating."""
    if any(c is _NOT_A_CELL for row in cells for c in row):
        return None
    if isinstance(params, Mapping) and any(c.kind == "param" for row in cells for c in row):
        return None
    given = {c.name: i for i, c in enumerate(columns)}
    n = len(cells)
    arrays = []
    for column in schema.columns:
        if column.name in given:
            i = given[column.name]
            values = [
                params[row[i].value] if row[i].kind == "param" else row[i].value for row in cells
            ]
        else:
            default = _default(column)
            value = reads.constant(default)
            if value is reads.NOT_CONSTANT:
                return None
            values = [value] * n
        array = _literal_column(values, column)
        if array is None:
            return None
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=schema.column_names)


def _full_row(schema: Schema, given: Mapping[str, exp.Expression]) -> list[exp.Expression]:
    """One expression per column: the given value or the DEFAULT, cast to the column type."""
    return [
        exp.alias_(_cast(given.get(c.name, _default(c)), c), c.name, quoted=True)
        for c in schema.columns
    ]


def _values_batch(
    session, schema: Schema, columns: list[Column], values: exp.Values, params: _Params
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
    select = exp.select(*_full_row(schema, given)).from_(source)
    return _query(session, select, params)


def _completed(session, schema: Schema, columns: list[Column], data: pa.Table) -> pa.Table:
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
    select = exp.select(*_full_row(schema, given)).from_(relation)
    return session.query_arrow(select.sql("duckdb"))


def _check_constraints(session, schema: Schema, rows: pa.Table) -> None:
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


def _write_batch(
    session, name: str, table: Table, batch: pa.Table, tree: exp.Insert, params: _Params
) -> int:
    """Apply an INSERT's rows with its conflict clause; returns the rows written."""
    schema = table.schema
    _check_constraints(session, schema, batch)
    conflict = tree.args.get("conflict")
    alternative = (tree.args.get("alternative") or "").upper()
    if tree.args.get("ignore") or alternative == "IGNORE":
        mode = "ignore"
    elif alternative == "REPLACE":
        mode = "replace"
    elif conflict is not None:
        action = conflict.args.get("action")
        mode = "ignore" if action is not None and "NOTHING" in action.name.upper() else "update"
    elif alternative:
        raise NotSupportedError(f"INSERT OR {alternative} is not supported")
    else:
        mode = "insert"
    if schema.is_keyless or mode == "insert":
        _put(session, name, table.insert(batch))
        return batch.num_rows
    keys = encode_keys([batch.column(c) for c in schema.primary_key], schema.key_types)
    if mode == "replace":
        keep = _last_of_each(keys)
        _put(session, name, table.upsert(batch.take(pa.array(keep))))
        return batch.num_rows
    found, values = lookup(table.rows, keys)
    first = _first_of_each(keys)
    if mode == "ignore":
        fresh = np.zeros(len(found), bool)
        fresh[first] = True
        fresh &= ~found
        kept = batch.filter(pa.array(fresh))
        _put(session, name, table.insert(kept))
        return kept.num_rows
    hit = pa.array(found)
    old = rows_to_arrow(schema, keys.filter(hit), [v.filter(hit) for v in values])
    updated = _conflict_updates(session, table, old, batch.filter(hit), conflict, params)
    fresh = batch.filter(pa.array(~found))
    _put(session, name, table.upsert(pa.concat_tables([fresh, updated])))
    return fresh.num_rows + updated.num_rows


def _first_of_each(keys: pa.BinaryArray) -> np.ndarray:
    _, first = np.unique(np.array(keys.to_pylist(), dtype=object), return_index=True)
    return first


def _last_of_each(keys: pa.BinaryArray) -> np.ndarray:
    n = len(keys)
    reversed_keys = np.array(keys.to_pylist()[::-1], dtype=object)
    _, first = np.unique(reversed_keys, return_index=True)
    return np.sort(n - 1 - first)


def _conflict_updates(
    session, table: Table, old: pa.Table, new: pa.Table, conflict: exp.OnConflict, params: _Params
) -> pa.Table:
    """ON CONFLICT DO UPDATE / ON DUPLICATE KEY UPDATE: the existing rows, updated."""
    schema = table.schema
    if old.num_rows == 0:
        return old
    target = schema.name
    existing = session.relations.scratch(old, target)
    excluded = session.relations.scratch(new, "excluded")
    sets: dict[str, exp.Expression] = {}
    for assignment in conflict.expressions:
        column = _column(schema, assignment.this.name)
        sets[column.name] = assignment.expression.transform(_excluded_or_target, target)
    items = _full_row(
        schema,
        {c.name: sets.get(c.name, exp.column(c.name, table=target)) for c in schema.columns},
    )
    join = " AND ".join(
        f"{_quote(target)}.{_quote(k)} = excluded.{_quote(k)}" for k in schema.primary_key
    )
    select = exp.select(*items).from_(f"{existing} AS {_quote(target)}")
    select = select.join(f"{excluded} AS excluded", on=join)
    where = conflict.args.get("where")
    if where is not None:
        keep = exp.select(*[exp.column(c.name, table=target) for c in schema.columns])
        keep = keep.from_(f"{existing} AS {_quote(target)}")
        keep = keep.join(f"{excluded} AS excluded", on=join).where(exp.not_(where.this.copy()))
        select = exp.union(select.where(where.this.copy()), keep, distinct=False)
    updated = _query(session, select, params)
    _check_constraints(session, schema, updated)
    return updated


def _excluded_or_target(node: exp.Expression, target: str) -> exp.Expression:
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


def insert_many(session, tree: exp.Insert, rows: Sequence[Sequence[object]]) -> int:
    """executemany of ``INSERT ... VALUES (?, ...)``: one batch, one engine apply."""
    _refuse_returning(tree)
    name, table, columns = _insert_target(session, tree)
    (row,) = [t.expressions for t in tree.expression.expressions]
    if len(row) != len(columns):
        raise ProgrammingError(
            f"INSERT into {name!r}: {len(row)} values for {len(columns)} columns"
        )
    cells = [_cell(v) for v in row]
    arrays: dict[str, list[object]] = {}
    for column, cell in zip(columns, cells, strict=True):
        if cell.kind == "param":
            arrays[column.name] = [params[cell.value] for params in rows]
        else:
            arrays[column.name] = [cell.value] * len(rows)
    batch = _columns_batch(session, table.schema, columns, arrays)
    return _write_batch(session, name, table, batch, tree, ())


def _columns_batch(
    session, schema: Schema, columns: list[Column], values: dict[str, list[object]]
) -> pa.Table:
    """Full rows from per-column Python values: directly when the types fit, else
    through DuckDB's casts over the inferred Arrow columns."""
    n = len(next(iter(values.values()))) if values else 0
    arrays = []
    for column in schema.columns:
        if column.name in values:
            array = _literal_column(values[column.name], column)
        else:
            constant = reads.constant(_default(column))
            array = (
                None if constant is reads.NOT_CONSTANT else _literal_column([constant] * n, column)
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


# --- UPDATE / DELETE --------------------------------------------------------------------


def _sources(tree: exp.Expression, select: exp.Select, arg: str) -> exp.Select:
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


def _update(session, tree: exp.Update, params: _Params) -> int:
    _refuse_returning(tree)
    target = tree.this
    if isinstance(target, exp.Table) and target.name.lower().startswith("dolt_conflicts_"):
        return _update_conflicts(session, tree, params)
    name, table = _target(session, target, "update")
    schema = table.schema
    alias = target.alias_or_name
    sets: dict[str, exp.Expression] = {}
    for assignment in tree.expressions:
        column = _column(schema, assignment.this.name)
        if column.name in sets:
            raise ProgrammingError(f"UPDATE of {name!r} sets column {column.name!r} twice")
        sets[column.name] = assignment.expression.copy()
    old = schema.primary_key if not schema.is_keyless else tuple(c.name for c in schema.columns)
    items = [
        exp.alias_(exp.column(k, table=alias, quoted=True), f"__arbor_old_{i}", quoted=True)
        for i, k in enumerate(old)
    ]
    items += _full_row(
        schema,
        {
            c.name: sets.get(c.name, exp.column(c.name, table=alias, quoted=True))
            for c in schema.columns
        },
    )
    select = exp.select(*items).from_(target.copy())
    select = _sources(tree, select, "from_")
    for arg in ("where", "order", "limit"):
        if tree.args.get(arg) is not None:
            select.set(arg, tree.args[arg].copy())
    data = _query(session, select, params)
    if data.num_rows == 0:
        return 0
    before = data.select(list(range(len(old)))).rename_columns(list(old))
    after = data.select(list(range(len(old), data.num_columns))).rename_columns(schema.column_names)
    if tree.args.get("from_") and not schema.is_keyless:
        keep = pa.array(_first_of_each(_keys(schema, before)))
        before, after = before.take(keep), after.take(keep)
    _check_constraints(session, schema, after)
    if schema.is_keyless:
        _put(session, name, table.apply(after, before))
    elif any(k in sets for k in schema.primary_key):
        _put(session, name, table.apply(after, before, replace=False))
    else:
        _put(session, name, table.apply(after, None, replace=True))
    return after.num_rows


def _keys(schema: Schema, rows: pa.Table) -> pa.BinaryArray:
    return encode_keys([rows.column(k) for k in schema.primary_key], schema.key_types)


def _delete(session, tree: exp.Delete, params: _Params) -> int:
    _refuse_returning(tree)
    target = tree.this
    if isinstance(target, exp.Table) and target.name.lower().startswith("dolt_conflicts_"):
        return _delete_conflicts(session, tree, params)
    name, table = _target(session, target, "delete from")
    schema = table.schema
    if not any(tree.args.get(a) for a in ("where", "using", "limit", "order")):
        count = table.count()
        _put(session, name, _emptied(session, table))
        return count
    alias = target.alias_or_name
    wanted = schema.primary_key or tuple(schema.column_names)
    select = exp.select(*[exp.column(k, table=alias, quoted=True) for k in wanted])
    select = select.from_(target.copy())
    select = _sources(tree, select, "using")
    for arg in ("where", "order", "limit"):
        if tree.args.get(arg) is not None:
            select.set(arg, tree.args[arg].copy())
    data = _query(session, select, params).rename_columns(list(wanted))
    if data.num_rows == 0:
        return 0
    if tree.args.get("using") and not schema.is_keyless:
        data = data.take(pa.array(_first_of_each(_keys(schema, data))))
    _put(session, name, table.delete(data))
    return data.num_rows


# --- dolt_conflicts_<t> ---------------------------------------------------------------


def _conflict_target(session, node: exp.Table) -> tuple[str, Table, pa.BinaryArray, pa.Table]:
    from .system.conflicts import conflict_rows

    base = node.name[len("dolt_conflicts_") :]
    name, table = _target(session, exp.to_table(base), "resolve conflicts of")
    keys, rows = conflict_rows(session, name)
    return name, table, keys, rows


def _conflict_select(session, tree, node, rows: pa.Table, items, params) -> pa.Table:
    relation = session.relations.scratch(rows, node.name)
    alias = node.alias_or_name
    select = exp.select(*items).from_(f"{relation} AS {_quote(alias)}")
    if tree.args.get("where") is not None:
        select.set("where", tree.args["where"].copy())
    bound = reads.bind(reads.compile_query(select), session, params)
    return session.query_arrow(bound.sql, bound.params)


def _delete_conflicts(session, tree: exp.Delete, params: _Params) -> int:
    """DELETE FROM dolt_conflicts_<t>: keep our rows for those conflicts (Dolt)."""
    name, table, keys, rows = _conflict_target(session, tree.this)
    ids = _conflict_select(session, tree, tree.this, rows, [exp.column("dolt_conflict_id")], params)
    chosen = pc.is_in(rows.column("dolt_conflict_id"), value_set=ids.column(0))
    selected = keys.filter(chosen)
    if len(selected) == 0:
        return 0
    resolved = resolve_table_conflicts(session.workspace.nodes, table, "ours", selected)
    _put(session, name, resolved)
    return len(selected)


def _update_conflicts(session, tree: exp.Update, params: _Params) -> int:
    """UPDATE dolt_conflicts_<t> SET our_<c> = ...: write those values to the table's rows."""
    name, table, keys, rows = _conflict_target(session, tree.this)
    schema = table.schema
    sets: dict[str, exp.Expression] = {}
    for assignment in tree.expressions:
        target = assignment.this.name
        if not target.lower().startswith("our_"):
            raise ProgrammingError(
                f"only our_<column> columns of dolt_conflicts_{name} can be updated, not {target!r}"
            )
        column = _column(schema, target[len("our_") :])
        if column.name in schema.primary_key:
            raise ProgrammingError(f"the key column our_{column.name} of a conflict cannot change")
        sets[column.name] = assignment.expression.copy()
    items = [
        exp.alias_(
            _cast(sets.get(c.name, exp.column(f"our_{c.name}", quoted=True)), c),
            c.name,
            quoted=True,
        )
        for c in schema.columns
    ]
    items.append(exp.column("our_diff_type"))
    data = _conflict_select(session, tree, tree.this, rows, items, params)
    alive = pc.not_equal(data.column("our_diff_type"), "removed")
    data = data.filter(alive).drop_columns(["our_diff_type"])
    if data.num_rows:
        _check_constraints(session, schema, data)
        _put(session, name, table.upsert(data))
    return data.num_rows


# --- CREATE ----------------------------------------------------------------------------


def _create(session, tree: exp.Create, params: _Params) -> int:
    kind = (tree.args.get("kind") or "").upper()
    if kind == "TABLE":
        return _create_table(session, tree, params)
    if kind == "VIEW":
        return _create_view(session, tree, params)
    if kind == "INDEX":
        return _create_index(session, tree)
    raise NotSupportedError(f"CREATE {kind} is not supported (tables, views and indexes are)")


def _temporary(tree: exp.Expression) -> bool:
    properties = tree.args.get("properties")
    return properties is not None and any(
        isinstance(p, exp.TemporaryProperty) for p in properties.expressions
    )


def _create_table(session, tree: exp.Create, params: _Params) -> int:
    if _temporary(tree):
        raise NotSupportedError("temporary tables are not supported; create a table and drop it")
    definition = tree.this
    node = definition.this if isinstance(definition, exp.Schema) else definition
    name = node.name
    ws = session.workspace
    if name.lower().startswith("dolt_"):
        raise ProgrammingError(f"table name {name!r} is reserved: names starting dolt_ are Dolt's")
    existing = ws.working.find(name) or (
        name if reads.view_text(session, ws.working, name) else None
    )
    if existing is not None:
        if tree.args.get("exists"):
            return 0
        if not tree.args.get("replace"):
            raise AlreadyExists(
                f"table {existing!r} already exists (use IF NOT EXISTS, or drop it)"
            )
        ws.drop_table(existing)
        session.wrote()
    query = tree.expression
    if query is not None:
        if isinstance(definition, exp.Schema) and definition.expressions:
            raise NotSupportedError(
                "CREATE TABLE with both columns and AS SELECT is not supported; "
                "create the table, then INSERT ... SELECT"
            )
        data = _query(session, query, params)
        schema = catalog.schema_from_arrow(name, data.schema)
        table = Table.create(ws.nodes, schema, data)
    else:
        table = Table.create(ws.nodes, catalog.schema_from_create(name, definition))
    session.wrote()
    ws.create_table(name, table)
    return 0


def _create_view(session, tree: exp.Create, params: _Params) -> int:
    definition = tree.this
    node = definition.this if isinstance(definition, exp.Schema) else definition
    name = node.name
    query = tree.expression
    if any(True for _ in query.find_all(exp.Placeholder)):
        raise ProgrammingError("a view cannot use parameters")
    columns = definition.expressions if isinstance(definition, exp.Schema) else []
    head = _quote(name) + (f" ({', '.join(_quote(c.name) for c in columns)})" if columns else "")
    fragment = f"CREATE VIEW {head} AS {query.sql(versioned_dialect('duckdb'))}"
    check = reads.bind(reads.view_template(fragment), session, [])
    session.query_arrow(f"SELECT * FROM ({check.sql}) LIMIT 0")
    lowered = name.lower()
    ws = session.workspace
    taken = lowered in session.temp_views or reads.view_text(session, ws.working, name)
    if ws.working.find(name) is not None or taken:
        if tree.args.get("exists"):
            return 0
        if not (tree.args.get("replace") and taken):
            raise AlreadyExists(f"a table or view named {name!r} already exists")
    if _temporary(tree):
        session.temp_views[lowered] = fragment
        return 0
    stored = ws.working.find(reads.SCHEMAS_TABLE)
    schemas = ws.table(stored) if stored else Table.create(ws.nodes, SCHEMAS_SCHEMA)
    row = {
        "type": ["view"],
        "name": [name],
        "fragment": [fragment],
        "extra": [json.dumps({"CreatedAt": 0})],
        "sql_mode": [None],
    }
    old = [n for n in reads.views(session, ws.working) if n == lowered]
    if old:
        _drop_stored_view(session, name)
        stored = ws.working.find(reads.SCHEMAS_TABLE)
        schemas = ws.table(stored) if stored else Table.create(ws.nodes, SCHEMAS_SCHEMA)
    _put(session, reads.SCHEMAS_TABLE, schemas.insert(pa.table(row)))
    return 0


def _create_index(session, tree: exp.Create) -> int:
    index = tree.this
    name, table = _target(session, index.args["table"], "index")
    columns = []
    for item in index.args["params"].args.get("columns") or []:
        node = item.this if isinstance(item, exp.Ordered) else item
        if not isinstance(node, exp.Column):
            raise NotSupportedError(f"index {index.name!r}: only column lists can be indexed")
        columns.append(_column(table.schema, node.name).name)
    if any(i.name.lower() == index.name.lower() for i in table.schema.indexes):
        if tree.args.get("exists"):
            return 0
        raise AlreadyExists(f"table {name!r} already has an index named {index.name!r}")
    unique = bool(tree.args.get("unique"))
    _put(session, name, table.add_index(Index(index.name, tuple(columns), unique)))
    return 0


# --- DROP --------------------------------------------------------------------------------


def _drop(session, tree: exp.Drop) -> int:
    kind = (tree.args.get("kind") or "").upper()
    exists = bool(tree.args.get("exists"))
    ws = session.workspace
    for node in tree.args.get("tables") or tree.expressions:
        name = node.name
        if kind == "TABLE":
            found = ws.working.find(name)
            if found is None:
                if name.lower() in session.temp_views or reads.view_text(session, ws.working, name):
                    raise ProgrammingError(f"{name!r} is a view: use DROP VIEW {name}")
                if exists:
                    continue
                raise TableNotFound(ws.working.missing_message(name, f" on branch {ws.branch!r}"))
            session.wrote()
            ws.drop_table(found)
        elif kind == "VIEW":
            if session.temp_views.pop(name.lower(), None) is not None:
                continue
            if not _drop_stored_view(session, name):
                if ws.working.find(name) is not None:
                    raise ProgrammingError(f"{name!r} is a table: use DROP TABLE {name}")
                if not exists:
                    raise ObjectNotFound(f"view {name!r} not found on branch {ws.branch!r}")
        elif kind == "INDEX":
            _drop_index(session, tree, name, exists)
        else:
            raise NotSupportedError(f"DROP {kind} is not supported")
    return 0


def _drop_stored_view(session, name: str) -> bool:
    ws = session.workspace
    stored = ws.working.find(reads.SCHEMAS_TABLE)
    if stored is None:
        return False
    schemas = ws.table(stored)
    rows = reads.table_arrow(schemas)
    names = rows.column("name").to_pylist()
    kinds = rows.column("type").to_pylist()
    match = [
        (k, n)
        for k, n in zip(kinds, names, strict=True)
        if k == "view" and n.lower() == name.lower()
    ]
    if not match:
        return False
    remaining = schemas.delete(
        pa.table({"type": [m[0] for m in match], "name": [m[1] for m in match]})
    )
    session.wrote()
    if remaining.count() == 0:
        ws.drop_table(stored)
    else:
        ws.put_table(stored, remaining)
    return True


def _drop_index(session, tree: exp.Drop, name: str, exists: bool) -> None:
    ws = session.workspace
    on = tree.args.get("cluster")
    candidates = [on.this.name] if isinstance(on, exp.OnProperty) else list(ws.working)
    for table_name in candidates:
        found = ws.working.find(table_name)
        if found is None:
            raise TableNotFound(ws.working.missing_message(table_name, f" on branch {ws.branch!r}"))
        table = ws.table(found).named(found)
        for index in table.schema.indexes:
            if index.name.lower() == name.lower():
                _put(session, found, table.drop_index(index.name))
                return
    if not exists:
        raise ObjectNotFound(f"index {name!r} not found on branch {ws.branch!r}")


# --- ALTER ---------------------------------------------------------------------------------


def _alter(session, tree: exp.Alter, params: _Params) -> int:
    if (tree.args.get("kind") or "TABLE").upper() != "TABLE":
        raise NotSupportedError(f"ALTER {tree.args.get('kind')} is not supported")
    name, table = _target(session, tree.this, "alter")
    ws = session.workspace
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            table = _add_column(session, table, action)
        elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
            for column in action.args.get("tables") or action.expressions:
                table = table.drop_column(_column(table.schema, column.name).name)
        elif isinstance(action, exp.RenameColumn):
            old = _column(table.schema, action.this.name).name
            table = table.rename_column(old, action.args["to"].name)
        elif isinstance(action, exp.AlterRename):
            new = action.this.name
            session.wrote()
            ws.put_table(name, table)
            ws.rename_table(name, new)
            name, table = new, ws.table(new).named(new)
            continue
        elif isinstance(action, exp.AlterColumn):
            table = _alter_column(session, table, action)
        else:
            raise NotSupportedError(
                f"ALTER TABLE {name}: {action.sql('duckdb')!r} is not supported (supported: "
                "ADD / DROP / RENAME COLUMN, RENAME TO, ALTER COLUMN TYPE / DEFAULT / NOT NULL)"
            )
    _put(session, name, table)
    return 0


def _add_column(session, table: Table, definition: exp.ColumnDef) -> Table:
    column, indexes, checks = catalog.column_from_def(definition, table.name)
    if any(
        isinstance(c.args.get("kind"), exp.PrimaryKeyColumnConstraint)
        for c in definition.args.get("constraints") or []
    ):
        raise NotSupportedError("a primary-key column cannot be added to an existing table")
    fill = None
    if column.default is not None:
        fill = session.evaluate(f"CAST(({column.default}) AS {catalog.duck_type(column)})")
    table = table.add_column(column, fill)
    for index in indexes:
        table = table.add_index(index)
    for n, (check_name, text) in enumerate(checks, start=len(table.schema.checks) + 1):
        check = Check(check_name or f"{table.name}_chk_{n}", text)
        _check_constraints(
            session, dataclasses.replace(table.schema, checks=(check,)), reads.table_arrow(table)
        )
        table = table.add_check(check)
    return table


def _alter_column(session, table: Table, action: exp.AlterColumn) -> Table:
    name = _column(table.schema, action.this.name).name
    if action.args.get("dtype") is not None:
        arrow, _ = catalog.column_type(action.args["dtype"], name)
        return table.set_column_type(name, arrow)
    if action.args.get("drop") and action.args.get("allow_null") is None:
        return table.set_default(name, None)
    if action.args.get("default") is not None:
        return table.set_default(name, action.args["default"].sql("duckdb"))
    if action.args.get("allow_null") is not None:
        return table.set_nullable(name, bool(action.args["allow_null"]))
    raise NotSupportedError(f"ALTER COLUMN {action.sql('duckdb')!r} is not supported")


# --- executemany of UPDATE ... WHERE <pk> = ? ---------------------------------------


def _pk_placeholders(tree: exp.Update, schema: Schema) -> dict[str, int] | None:
    """{pk column: parameter index} when the WHERE is exactly ``pk = ?`` per key column."""
    where = tree.args.get("where")
    if where is None:
        return None
    found: dict[str, int] = {}
    for term in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        if not isinstance(term, exp.EQ):
            return None
        column, value = term.this, term.expression
        if isinstance(column, exp.Placeholder):
            column, value = value, column
        if not (isinstance(column, exp.Column) and isinstance(value, exp.Placeholder)):
            return None
        name = next((k for k in schema.primary_key if k.lower() == column.name.lower()), None)
        if name is None or name in found or not value.name.startswith("__arbor_p"):
            return None
        found[name] = int(value.name[len("__arbor_p") :])
    return found if len(found) == len(schema.primary_key) else None


def update_many(session, tree: exp.Update, rows: Sequence[Sequence[object]]) -> int | None:
    """executemany of ``UPDATE t SET ... WHERE <pk> = ?``: one batch, one engine apply.

    Each parameter set names one row by its key, so when the keys are distinct the
    statements are independent and running them together equals running them in
    turn: the rows are read with one ``get_many``, the SET expressions evaluated by
    one DuckDB query over (rows JOIN parameters), and the result applied once.
    Returns None (the caller runs the statements one by one) when the statement
    is not of that shape, when keys repeat, or when the parameters do not form
    columns.
    """
    target = tree.this
    if (
        not isinstance(target, exp.Table)
        or target.args.get("version") is not None
        or target.name.lower().startswith("dolt_")
        or any(tree.args.get(a) for a in ("from_", "joins", "order", "limit", "returning"))
        or any(True for _ in tree.find_all(exp.Subquery, exp.Select))
    ):
        return None
    name, table = _target(session, target, "update")
    schema = table.schema
    if schema.is_keyless:
        return None
    keys_at = _pk_placeholders(tree, schema)
    if keys_at is None:
        return None
    sets: dict[str, exp.Expression] = {}
    for assignment in tree.expressions:
        column = _column(schema, assignment.this.name)
        if column.name in sets or column.name in schema.primary_key:
            return None
        sets[column.name] = assignment.expression
    try:
        keys = pa.table(
            {k: pa.array([r[i] for r in rows], schema.column(k).type) for k, i in keys_at.items()}
        )
        params = pa.table({f"__p{i}": pa.array([r[i] for r in rows]) for i in range(len(rows[0]))})
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError, IndexError):
        return None
    if len(set(zip(*(keys.column(k).to_pylist() for k in keys_at), strict=True))) != len(rows):
        return None  # a key updated twice: order matters, run them in turn
    current = table.get_many(keys)
    if current.num_rows == 0:
        return 0
    alias = target.alias_or_name
    rows_name = session.relations.scratch(current, f"the rows of {name}")
    params_name = session.relations.scratch(params, "the parameters")

    def bind(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name.startswith("__arbor_p"):
            return exp.column(f"__p{node.name[len('__arbor_p'):]}", table="__arbor_params")
        return node

    given = {
        c.name: sets[c.name].copy().transform(bind)
        if c.name in sets
        else exp.column(c.name, table=alias, quoted=True)
        for c in schema.columns
    }
    on = exp.and_(
        *(
            exp.EQ(
                this=exp.column(k, table=alias, quoted=True),
                expression=exp.column(f"__p{i}", table="__arbor_params"),
            )
            for k, i in keys_at.items()
        )
    )
    select = (
        exp.select(*_full_row(schema, given))
        .from_(exp.table_(rows_name, alias=alias))
        .join(exp.table_(params_name, alias="__arbor_params"), on=on)
    )
    after = session.query_arrow(to_duckdb(select))
    _check_constraints(session, schema, after)
    _put(session, name, table.apply(after, None, replace=True))
    return after.num_rows
