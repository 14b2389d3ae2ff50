"""``dolt_patch(from, to[, table])``: the SQL that turns one version into another.

Columns: statement_order, from_commit_hash, to_commit_hash, table_name,
diff_type ('schema' or 'data'), statement. The hashes are commit hashes, or
WORKING / STAGED. Arguments are dolt_diff's (common.py).

Statements are written in the connection's SQL (DuckDB's, identifiers in double
quotes), so feeding them back through ``cursor.execute`` applies the patch.
Per changed table, in table-name order: schema statements, data statements in
primary-key order, then the schema statements that need the new data (below).

    change                         statements
    table added                    CREATE TABLE (+ CREATE INDEX), INSERT per row
    table dropped                  DROP TABLE
    table renamed                  ALTER TABLE .. RENAME TO, then as modified
    primary key changed            DROP TABLE, CREATE TABLE, INSERT per row
    schema changed                 ALTER TABLE per change: dropped indexes and checks,
                                   then column changes, then the table's data statements,
                                   then SET NOT NULL for columns that became (or were
                                   added) NOT NULL, then added indexes and checks
    row added / removed            INSERT INTO t (all columns) VALUES (...) / DELETE .. WHERE pk
    row modified                   UPDATE t SET <changed columns> WHERE pk
    keyless row count changed      INSERT one row per added copy; fewer copies:
                                   DELETE every copy, then INSERT the copies that remain

Values are SQL literals, rendered a column at a time with Arrow compute (no
Python step per row, except BLOB values, which are written as unhex('..')).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arbordb.engine.table import Schema, diff_schemas, keyless_counts, rows_to_arrow
from arbordb.engine.tree.diff import column_equal
from arbordb.engine.versioning.diff import TableDelta, tree_diff

from ..catalog import duck_type
from .common import (
    HASH,
    SystemContext,
    aligned_diff,
    column_sql,
    create_statements,
    diff_endpoints,
    index_sql,
    layout,
    quote,
)
from .diffs import changed_tables

_COLUMNS = [
    "statement_order",
    "from_commit_hash",
    "to_commit_hash",
    "table_name",
    "diff_type",
    "statement",
]


def patch_function(ctx: SystemContext, args: Sequence[object] | None) -> pa.Table:
    start, end, name = diff_endpoints(ctx, "dolt_patch", args, table_required=False)
    tables, kinds, statements = [], [], []
    for delta in changed_tables(ctx, "dolt_patch", start, end, name):
        for kind, text in _table_patch(delta):
            tables.append(delta.name)
            kinds.append(kind)
            statements.append(text)
    n = len(statements)
    return pa.table(
        [
            pa.array(np.arange(1, n + 1), pa.int64()),
            pa.array([start.hash_or_label] * n, HASH),
            pa.array([end.hash_or_label] * n, HASH),
            pa.array(tables, pa.string()),
            pa.array(kinds, pa.string()),
            pa.array(statements, pa.string()),
        ],
        names=_COLUMNS,
    )


def _table_patch(delta: TableDelta) -> list[tuple[str, str]]:
    before, after = delta.from_table, delta.to_table
    if after is None:
        return [("schema", f"DROP TABLE {quote(delta.from_name)};")]  # type: ignore[arg-type]
    name = delta.to_name or ""
    if before is None:
        return _create(name, after.schema) + _data(delta)
    out = []
    if delta.from_name != name:
        out.append(("schema", f"ALTER TABLE {quote(delta.from_name)} RENAME TO {quote(name)};"))  # type: ignore[arg-type]
    old, new = before.schema, after.schema
    if [c.tag for c in old.key_columns] != [c.tag for c in new.key_columns]:
        out.append(("schema", f"DROP TABLE {quote(name)};"))
        return out + _create(name, new) + _data(TableDelta(None, name, None, after))
    before_data, after_data = _alter(name, old, new)
    return (
        out
        + [("schema", s) for s in before_data]
        + _data(delta)
        + [("schema", s) for s in after_data]
    )


def _create(name: str, schema: Schema) -> list[tuple[str, str]]:
    return [("schema", s) for s in create_statements(name, schema)]


def _alter(table: str, old: Schema, new: Schema) -> tuple[list[str], list[str]]:
    """Statements from ``old`` to ``new`` (same primary key): those to run before the data
    statements (drops of indexes and checks, then column changes) and those to run after
    them (NOT NULL, which needs the data filled first; then added indexes and checks)."""
    t = quote(table)
    first, columns, last, after = [], [], [], []
    for ch in diff_schemas(old, new):
        kind, name = ch.kind, quote(ch.name)
        if kind == "column_added":
            columns.append(
                f"ALTER TABLE {t} ADD COLUMN {column_sql(replace(ch.new, nullable=True))};"
            )
            if not ch.new.nullable:
                after.append(f"ALTER TABLE {t} ALTER COLUMN {name} SET NOT NULL;")
        elif kind == "column_dropped":
            columns.append(f"ALTER TABLE {t} DROP COLUMN {name};")
        elif kind == "column_renamed":
            columns.append(f"ALTER TABLE {t} RENAME COLUMN {quote(ch.old)} TO {name};")
        elif kind in ("type_changed", "logical_changed"):
            columns.append(
                f"ALTER TABLE {t} ALTER COLUMN {name} SET DATA TYPE {duck_type(new.column(ch.name))};"
            )
        elif kind == "nullable_changed":
            (columns if ch.new else after).append(
                f"ALTER TABLE {t} ALTER COLUMN {name} {'DROP' if ch.new else 'SET'} NOT NULL;"
            )
        elif kind == "default_changed":
            action = "DROP DEFAULT" if ch.new is None else f"SET DEFAULT {ch.new}"
            columns.append(f"ALTER TABLE {t} ALTER COLUMN {name} {action};")
        elif kind.startswith("index_"):
            if kind != "index_added":
                first.append(f"DROP INDEX {name};")
            if kind != "index_dropped":
                last.append(index_sql(table, ch.new))
        elif kind.startswith("check_"):
            if kind != "check_added":
                first.append(f"ALTER TABLE {t} DROP CONSTRAINT {name};")
            if kind != "check_dropped":
                last.append(f"ALTER TABLE {t} ADD CONSTRAINT {name} CHECK ({ch.new.expression});")
    return list(dict.fromkeys(first + columns)), after + last  # dict: type + logical say one thing


# --- data --------------------------------------------------------------------------


def _data(delta: TableDelta) -> list[tuple[str, str]]:
    schema = delta.to_table.schema  # type: ignore[union-attr]
    texts = _keyless_data(delta, schema) if schema.is_keyless else _keyed_data(delta, schema)
    return [("data", s) for s in texts]


def _cat(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _join(parts: Sequence[pa.Array], separator: str, n: int) -> pa.Array:
    if not parts:
        return pa.array([""] * n, pa.string())
    return pc.binary_join_element_wise(*parts, separator, null_handling="skip")


def _insert(table: str, schema: Schema, values: Sequence[pa.Array]) -> pa.Array:
    n = len(values[0])
    names = ", ".join(quote(c.name) for c in schema.columns)
    literals = [sql_literals(v) for v in values]
    return _cat(f"INSERT INTO {quote(table)} ({names}) VALUES (", _join(literals, ", ", n), ");")


def _keyed_data(delta: TableDelta, schema: Schema) -> list[str]:
    table = delta.to_name or ""
    lay = layout(schema)
    rows = aligned_diff(delta, lay, lay)
    n = len(rows)
    if n == 0:
        return []
    kinds = rows.diff_type
    position = {c.name: i for i, c in enumerate(schema.columns)}

    def where(side: Sequence[pa.Array]) -> pa.Array:
        parts = [
            _cat(f"{quote(c)} = ", sql_literals(side[position[c]])) for c in schema.primary_key
        ]
        return _join(parts, " AND ", n)

    sets = []
    for c in schema.value_columns:
        i = position[c.name]
        changed = pa.array(~column_equal(rows.to[i], rows.from_[i]))
        piece = _cat(f"{quote(c.name)} = ", sql_literals(rows.to[i]))
        sets.append(pc.if_else(changed, piece, pa.nulls(n, pa.string())))
    set_clause = _join(sets, ", ", n)
    update = _cat(f"UPDATE {quote(table)} SET ", set_clause, " WHERE ", where(rows.to), ";")
    update = pc.if_else(pc.equal(set_clause, ""), pa.nulls(n, pa.string()), update)
    delete = _cat(f"DELETE FROM {quote(table)} WHERE ", where(rows.from_), ";")
    insert = _insert(table, schema, rows.to)
    text = pc.case_when(
        pc.make_struct(pc.equal(kinds, "added"), pc.equal(kinds, "removed")), insert, delete, update
    )
    return [s for s in text.to_pylist() if s is not None]


def _keyless_data(delta: TableDelta, schema: Schema) -> list[str]:
    table = delta.to_name or ""
    raw, old_schema, _ = tree_diff(delta)
    if len(raw) == 0:
        return []
    after = rows_to_arrow(schema, raw.keys, raw.to_columns)
    before = rows_to_arrow(old_schema, raw.keys, raw.from_columns)
    by_tag = {c.tag: c.name for c in old_schema.columns}
    n = len(raw)
    match = [
        _cat(
            f"{quote(c.name)} IS NOT DISTINCT FROM ",
            sql_literals(before.column(by_tag[c.tag]).combine_chunks()),
        )
        for c in schema.columns
        if c.tag in by_tag
    ]
    delete = _cat(f"DELETE FROM {quote(table)} WHERE ", _join(match, " AND ", n), ";").to_pylist()
    insert = _insert(
        table, schema, [after.column(c.name).combine_chunks() for c in schema.columns]
    ).to_pylist()
    old, new = keyless_counts(raw.from_columns), keyless_counts(raw.to_columns)
    out = []
    for i in range(n):  # one step per changed distinct row: the copies decide the statements
        if new[i] < old[i]:
            out.append(delete[i])
            out += [insert[i]] * int(new[i])
        else:
            out += [insert[i]] * int(new[i] - old[i])
    return out


# --- literals ------------------------------------------------------------------------


def sql_literals(values: pa.Array) -> pa.Array:
    """Each value as a SQL literal of the connection's dialect (NULL for nulls)."""
    t = values.type
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if len(values) == 0 or values.null_count == len(values):
        return pa.array(["NULL"] * len(values), pa.string())
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        text = _cat("'", pc.replace_substring(values, "'", "''"), "'")
    elif pa.types.is_boolean(t):
        text = pc.if_else(values, "TRUE", "FALSE")
    elif pa.types.is_integer(t) or pa.types.is_decimal(t):
        text = values.cast(pa.string())
    elif pa.types.is_floating(t):
        plain = values.cast(pa.string())
        odd = pc.or_(pc.is_nan(values), pc.is_inf(values))
        text = pc.if_else(odd, _cat("'", plain, "'::DOUBLE"), plain)
    elif pa.types.is_date(t):
        text = _cat("DATE '", values.cast(pa.string()), "'")
    elif pa.types.is_timestamp(t):
        stamp = values.cast(pa.string())
        if t.tz is not None:
            text = _cat("TIMESTAMPTZ '", pc.replace_substring_regex(stamp, "Z$", "+00:00"), "'")
        else:
            text = _cat("TIMESTAMP '", stamp, "'")
    elif pa.types.is_binary(t):
        text = pa.array(
            [None if v is None else f"unhex('{v.hex().upper()}')" for v in values.to_pylist()],
            pa.string(),
        )
    elif pa.types.is_list(t):
        lengths = pc.list_value_length(values).fill_null(0).to_numpy(zero_copy_only=False)
        offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
        inner = sql_literals(pc.list_flatten(values))
        joined = pc.binary_join(pa.ListArray.from_arrays(offsets, inner), ", ")
        text = pc.if_else(
            values.is_null(), pa.nulls(len(values), pa.string()), _cat("[", joined, "]")
        )
    else:
        text = values.cast(pa.string())
    return text.fill_null("NULL")
