"""``dolt_patch(from, to[, table])``: the SQL that turns one version into another.

Columns: statement_order, from_commit_hash, to_commit_hash, table_name,
diff_type ('schema' or 'data'), statement. The hashes are commit hashes, or
WORKING / STAGED. Arguments are dolt_diff's (common.py).

Statements are written in the connection's dialect, so feeding them back through
``cursor.execute`` at ``from`` gives ``to`` exactly: identifiers in double quotes
(MySQL: backticks), string literals with ``'`` doubled (MySQL: ``\\`` doubled
too, as MySQL reads a backslash as an escape), check and default expressions
rewritten from DuckDB's SQL by sqlglot. Per changed table, in table-name order:
schema statements, data statements in primary-key order, then the schema
statements that need the new data (below).

    change                         statements
    table added                    CREATE TABLE (+ CREATE INDEX), INSERT per row
    table dropped                  DROP TABLE
    table renamed                  ALTER TABLE .. RENAME TO, then as modified
    primary key or checks changed  DROP TABLE, CREATE TABLE, INSERT per row (ArborDB, like
                                   DuckDB, has no ALTER TABLE .. ADD / DROP CONSTRAINT)
    schema changed                 ALTER TABLE per change: dropped indexes,
                                   then column changes, then the table's data statements,
                                   then SET NOT NULL for columns that became (or were
                                   added) NOT NULL, then added indexes
    row added / removed            INSERT INTO t (all columns) VALUES (...) / DELETE .. WHERE pk
    row modified                   UPDATE t SET <changed columns> WHERE pk
    keyless row count changed      INSERT one row per added copy; fewer copies:
                                   DELETE every copy, then INSERT the copies that remain

Values are SQL literals, rendered a column at a time with Arrow compute (no
Python step per row, except BLOB values, which are written as unhex('..')).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot

from arbordb.engine.arrow_arrays import bools, numpy_numbers, scalar, values_array
from arbordb.engine.table import (
    Column,
    Index,
    Schema,
    diff_schemas,
    keyless_counts,
    rows_to_arrow,
)
from arbordb.engine.versioning.diff import TableDelta, column_equal, tree_diff

from ..catalog import duck_type
from ..parse.dialect import quote_identifier, versioned_dialect
from .common import (
    HASH,
    SystemContext,
    aligned_diff,
    column_sql,
    create_statements,
    diff_endpoints,
    index_sql,
    layout,
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


@dataclass(frozen=True)
class Spelling:
    """How the connection's dialect writes names, string literals and expressions."""

    dialect: str = "duckdb"

    @property
    def backslash_escapes(self) -> bool:
        return self.dialect == "mysql"

    def ident(self, name: str) -> str:
        return quote_identifier(name, self.dialect)

    def strings(self, values: pa.Array) -> pa.Array:
        if self.backslash_escapes:
            values = pc.replace_substring(values, "\\", "\\\\")
        return _cat("'", pc.replace_substring(values, "'", "''"), "'")

    def expression(self, text: str) -> str:
        """A stored expression (DuckDB's SQL) as the dialect writes it."""
        if self.dialect == "duckdb":
            return text
        tree = sqlglot.parse_one(text, read=versioned_dialect("duckdb"))
        return tree.sql(versioned_dialect(self.dialect))


def patch_function(ctx: SystemContext, args: Sequence[object] | None) -> pa.Table:
    start, end, name = diff_endpoints(ctx, "dolt_patch", args, table_required=False)
    sp = Spelling(getattr(ctx, "dialect", "duckdb"))  # a session has one; other contexts: DuckDB
    tables, kinds, statements = [], [], []
    for delta in changed_tables(ctx, "dolt_patch", start, end, name):
        for kind, text in _table_patch(delta, sp):
            tables.append(delta.name)
            kinds.append(kind)
            statements.append(text)
    n = len(statements)
    return pa.table(
        [
            values_array(np.arange(1, n + 1), pa.int64()),
            values_array([start.hash_or_label] * n, HASH),
            values_array([end.hash_or_label] * n, HASH),
            values_array(tables, pa.string()),
            values_array(kinds, pa.string()),
            values_array(statements, pa.string()),
        ],
        names=_COLUMNS,
    )


def _table_patch(delta: TableDelta, sp: Spelling) -> list[tuple[str, str]]:
    before, after = delta.from_table, delta.to_table
    if after is None:
        return [("schema", f"DROP TABLE {sp.ident(delta.from_name)};")]  # type: ignore[arg-type]
    name = delta.to_name or ""
    if before is None:
        return _create(name, after.schema, sp) + _data(delta, sp)
    out = []
    if delta.from_name != name:
        old_name = sp.ident(delta.from_name)  # type: ignore[arg-type]
        out.append(("schema", f"ALTER TABLE {old_name} RENAME TO {sp.ident(name)};"))
    old, new = before.schema, after.schema
    if _rebuild(old, new):
        out.append(("schema", f"DROP TABLE {sp.ident(name)};"))
        return out + _create(name, new, sp) + _data(TableDelta(None, name, None, after), sp)
    before_data, after_data = _alter(name, old, new, sp)
    return (
        out
        + [("schema", s) for s in before_data]
        + _data(delta, sp)
        + [("schema", s) for s in after_data]
    )


def _rebuild(old: Schema, new: Schema) -> bool:
    """Whether only re-creating the table turns ``old`` into ``new``: its primary key or
    its checks changed, a keyless table gained or lost a column, a column was dropped and
    re-added under its name (there is no ALTER TABLE .. ADD / DROP CONSTRAINT), or ALTER TABLE
    cannot reach ``new``'s column order (ADD COLUMN appends) or names (a rename onto a
    name another kept column still has)."""
    if [c.tag for c in old.key_columns] != [c.tag for c in new.key_columns]:
        return True
    if old.checks != new.checks:
        return True
    if new.is_keyless and {c.tag for c in old.columns} != {c.tag for c in new.columns}:
        return True  # a keyless row is its values: a column added or dropped changes every row
    old_by_name = {c.name.lower(): c.tag for c in old.columns}
    if any(old_by_name.get(c.name.lower(), c.tag) != c.tag for c in new.columns):
        return True  # a column dropped and re-added under its name: its diff shows one column
    new_tags = {c.tag: c.name.lower() for c in new.columns}
    kept = [c for c in old.columns if c.tag in new_tags]
    old_tags = {c.tag for c in old.columns}
    added = [c.tag for c in new.columns if c.tag not in old_tags]
    if [c.tag for c in kept] + added != [c.tag for c in new.columns]:
        return True
    kept_names = {c.name.lower(): c.tag for c in kept}
    return any(
        kept_names.get(new_tags[c.tag], c.tag) != c.tag
        for c in kept
        if new_tags[c.tag] != c.name.lower()
    )


def _create(name: str, schema: Schema, sp: Spelling) -> list[tuple[str, str]]:
    return [("schema", s) for s in create_statements(name, schema, sp.ident, sp.expression)]


def _alter(table: str, old: Schema, new: Schema, sp: Spelling) -> tuple[list[str], list[str]]:
    """Statements from ``old`` to ``new`` (same primary key and checks): those to run before
    the data statements (dropped indexes, then column changes) and those to run after
    them (NOT NULL, which needs the data filled first; then added indexes)."""
    t = sp.ident(table)
    first, columns, last, after = [], [], [], []
    # Drops, then renames, then the rest: a name a change frees is free for the next.
    rank = {"column_dropped": 0, "column_renamed": 1}
    for ch in sorted(diff_schemas(old, new), key=lambda ch: rank.get(ch.kind, 2)):
        kind, name = ch.kind, sp.ident(ch.name)
        if kind == "column_added":
            new_column = cast(Column, ch.new)  # a column_added change carries the new Column
            added = column_sql(replace(new_column, nullable=True), sp.ident, sp.expression)
            columns.append(f"ALTER TABLE {t} ADD COLUMN {added};")
            if not new_column.nullable:
                after.append(f"ALTER TABLE {t} ALTER COLUMN {name} SET NOT NULL;")
        elif kind == "column_dropped":
            columns.append(f"ALTER TABLE {t} DROP COLUMN {name};")
        elif kind == "column_renamed":
            columns.append(
                f"ALTER TABLE {t} RENAME COLUMN {sp.ident(cast(str, ch.old))} TO {name};"
            )
        elif kind in ("type_changed", "logical_changed"):
            columns.append(
                f"ALTER TABLE {t} ALTER COLUMN {name} "
                f"SET DATA TYPE {duck_type(new.column(ch.name))};"
            )
        elif kind == "nullable_changed":
            (columns if ch.new else after).append(
                f"ALTER TABLE {t} ALTER COLUMN {name} {'DROP' if ch.new else 'SET'} NOT NULL;"
            )
        elif kind == "default_changed":
            action = (
                "DROP DEFAULT"
                if ch.new is None
                else f"SET DEFAULT {sp.expression(cast(str, ch.new))}"
            )
            columns.append(f"ALTER TABLE {t} ALTER COLUMN {name} {action};")
        elif kind.startswith("index_"):
            if kind != "index_added":
                first.append(f"DROP INDEX {name};")
            if kind != "index_dropped":
                last.append(index_sql(table, cast(Index, ch.new), sp.ident))  # the new Index
    return list(dict.fromkeys(first + columns)), after + last  # dict: type + logical say one thing


# --- data --------------------------------------------------------------------------


def _data(delta: TableDelta, sp: Spelling) -> list[tuple[str, str]]:
    schema = delta.to_table.schema  # type: ignore[union-attr]
    if schema.is_keyless:
        texts = _keyless_data(delta, schema, sp)
    else:
        texts = _keyed_data(delta, schema, sp)
    return [("data", s) for s in texts]


def _text(value: str) -> pa.Scalar:
    """A string scalar for a compute function (given a Python value, one imports pandas)."""
    return scalar(value, pa.string())


def _cat(*parts: str | pa.Array) -> pa.Array:
    """The parts joined row by row; a Python string is the same in every row."""
    arrays = [_text(p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*arrays, _text(""))


def _join(parts: Sequence[pa.Array], separator: str, n: int) -> pa.Array:
    """The non-null parts of each row joined by ``separator`` ('' when none is).

    Not ``binary_join_element_wise(null_handling="skip")``: pyarrow 26 drops the rows
    whose parts are all null from its result."""
    if not parts:
        return values_array([""] * n, pa.string())
    pieces = [_cat(separator, p).fill_null(_text("")) for p in parts]
    joined = pieces[0] if len(pieces) == 1 else _cat(*pieces)
    return pc.utf8_slice_codeunits(joined, len(separator))


def _insert(table: str, schema: Schema, values: Sequence[pa.Array], sp: Spelling) -> pa.Array:
    n = len(values[0])
    names = ", ".join(sp.ident(c.name) for c in schema.columns)
    literals = [sql_literals(v, sp) for v in values]
    head = f"INSERT INTO {sp.ident(table)} ({names}) VALUES ("
    return _cat(head, _join(literals, ", ", n), ");")


def _keyed_data(delta: TableDelta, schema: Schema, sp: Spelling) -> list[str]:
    table = sp.ident(delta.to_name or "")
    lay = layout(schema)
    rows = aligned_diff(delta, lay, lay)
    n = len(rows)
    if n == 0:
        return []
    kinds = rows.diff_type
    position = {c.name: i for i, c in enumerate(schema.columns)}

    def where(side: Sequence[pa.Array]) -> pa.Array:
        parts = [
            _cat(f"{sp.ident(c)} = ", sql_literals(side[position[c]], sp))
            for c in schema.primary_key
        ]
        return _join(parts, " AND ", n)

    sets = []
    for c in schema.value_columns:
        i = position[c.name]
        changed = bools(~column_equal(rows.to[i], rows.from_[i]))
        piece = _cat(f"{sp.ident(c.name)} = ", sql_literals(rows.to[i], sp))
        sets.append(pc.if_else(changed, piece, pa.nulls(n, pa.string())))
    set_clause = _join(sets, ", ", n)
    update = _cat(f"UPDATE {table} SET ", set_clause, " WHERE ", where(rows.to), ";")
    update = pc.if_else(pc.equal(set_clause, _text("")), pa.nulls(n, pa.string()), update)
    delete = _cat(f"DELETE FROM {table} WHERE ", where(rows.from_), ";")
    insert = _insert(delta.to_name or "", schema, rows.to, sp)
    text = pc.case_when(
        pc.make_struct(pc.equal(kinds, _text("added")), pc.equal(kinds, _text("removed"))),
        insert,
        delete,
        update,
    )
    return [s for s in text.to_pylist() if s is not None]


def _keyless_data(delta: TableDelta, schema: Schema, sp: Spelling) -> list[str]:
    """Per changed distinct row: fewer copies deletes every copy and inserts those that
    remain; more copies inserts the new ones. Every DELETE comes before every INSERT, as
    a DELETE matches by the columns both versions share (a row added after a schema
    change may match a removed one on those)."""
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
            f"{sp.ident(c.name)} IS NOT DISTINCT FROM ",
            sql_literals(before.column(by_tag[c.tag]).combine_chunks(), sp),
        )
        for c in schema.columns
        if c.tag in by_tag
    ]
    where = _join(match, " AND ", n)
    delete = _cat(f"DELETE FROM {sp.ident(table)} WHERE ", where, ";").to_pylist()
    values = [after.column(c.name).combine_chunks() for c in schema.columns]
    insert = _insert(table, schema, values, sp).to_pylist()
    old, new = keyless_counts(raw.from_columns), keyless_counts(raw.to_columns)
    deletes, inserts = [], []
    for i in range(n):  # one step per changed distinct row: the copies decide the statements
        if new[i] < old[i]:
            deletes.append(delete[i])
            inserts += [insert[i]] * int(new[i])
        else:
            inserts += [insert[i]] * int(new[i] - old[i])
    return deletes + inserts


# --- literals ------------------------------------------------------------------------


def sql_literals(values: pa.Array, sp: Spelling) -> pa.Array:
    """Each value as a SQL literal of the connection's dialect (NULL for nulls)."""
    t = values.type
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if len(values) == 0 or values.null_count == len(values):
        return values_array(["NULL"] * len(values), pa.string())
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        text = sp.strings(values)
    elif pa.types.is_boolean(t):
        text = pc.if_else(values, _text("TRUE"), _text("FALSE"))
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
        text = values_array(
            [None if v is None else f"unhex('{v.hex().upper()}')" for v in values.to_pylist()],
            pa.string(),
        )
    elif pa.types.is_list(t):
        counts = pc.list_value_length(values)
        lengths = numpy_numbers(counts.fill_null(scalar(0, counts.type)))
        offsets = values_array(np.concatenate([[0], np.cumsum(lengths)]), pa.int32())
        inner = sql_literals(pc.list_flatten(values), sp)
        joined = pc.binary_join(pa.ListArray.from_arrays(offsets, inner), ", ")
        text = pc.if_else(
            values.is_null(), pa.nulls(len(values), pa.string()), _cat("[", joined, "]")
        )
    else:
        text = values.cast(pa.string())
    return text.fill_null(_text("NULL"))
