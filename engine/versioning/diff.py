"""Diffs between two versions: which tables changed, their schema changes, and rows.

Row diffs come from the tree diff (``tree/diff.py``), so they cost what changed,
not the table size, whenever both versions store the same value columns. When a
schema change altered the stored columns, both versions are decoded, aligned by
column tag (a renamed column keeps its tag), and diffed by key.

Output shape (Dolt's ``dolt_diff``): one row per changed row, with
``to_<column>`` and ``from_<column>`` for every column of the union of both
schemas (named as in the newer one) and ``diff_type`` in
{'added', 'modified', 'removed'}, in primary-key order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow_arrays import bools, int64s, numpy_bools, scalar, values_array
from ..table import Schema, Table, diff_schemas, keyless_counts, rows_to_arrow
from ..tree import ADDED, DIFF_TYPE_NAMES, MODIFIED, REMOVED, NodeStore, TreeDiff
from ..tree.diff import column_equal, diff_rows
from ..tree.keyarray import comparable


@dataclass(frozen=True)
class TableDelta:
    """One table that differs between two roots (None where it does not exist)."""

    from_name: str | None
    to_name: str | None
    from_table: Table | None
    to_table: Table | None

    @property
    def name(self) -> str:
        return self.to_name or self.from_name or ""

    @property
    def kind(self) -> str:
        if self.from_table is None:
            return "added"
        if self.to_table is None:
            return "dropped"
        if self.from_name != self.to_name:
            return "renamed"
        return "modified"

    @property
    def schema_changed(self) -> bool:
        f, t = self.from_table, self.to_table
        return f is None or t is None or f.schema != t.schema

    @property
    def data_changed(self) -> bool:
        f, t = self.from_table, self.to_table
        if f is None or t is None:
            return (f or t).count() > 0  # type: ignore[union-attr]
        return f.rows.root != t.rows.root


def table_deltas(nodes: NodeStore, from_root, to_root) -> list[TableDelta]:
    """Tables whose address differs between two roots (name -> address mappings).

    A table dropped under one name and added under another with the same
    schema tags and data is reported once, as renamed.
    """
    out: list[TableDelta] = []
    dropped: list[tuple[str, Table]] = []
    added: list[tuple[str, Table]] = []
    for name in sorted(set(from_root) | set(to_root)):
        a, b = from_root.get(name), to_root.get(name)
        if a == b:
            continue
        ta = Table.load(nodes, a) if a is not None else None
        tb = Table.load(nodes, b) if b is not None else None
        if ta is None:
            assert tb is not None  # a != b, so b names a table
            added.append((name, tb))
        elif tb is None:
            dropped.append((name, ta))
        else:
            out.append(TableDelta(name, name, ta, tb))
    for old_name, old in dropped:
        match = next(
            (
                x
                for x in added
                if x[1].rows.root == old.rows.root and _same_tags(x[1].schema, old.schema)
            ),
            None,
        )
        if match is not None:
            added.remove(match)
            out.append(TableDelta(old_name, match[0], old, match[1]))
        else:
            out.append(TableDelta(old_name, None, old, None))
    out.extend(TableDelta(None, name, None, t) for name, t in added)
    return sorted(out, key=lambda d: d.name)


def _same_tags(a: Schema, b: Schema) -> bool:
    return [c.tag for c in a.columns] == [c.tag for c in b.columns]


def schema_changes(delta: TableDelta) -> list:
    if delta.from_table is None or delta.to_table is None:
        return []
    return diff_schemas(delta.from_table.schema, delta.to_table.schema)


def tree_diff(delta: TableDelta) -> tuple[TreeDiff, Schema, Schema]:
    """The raw row diff of a delta, each side in its own schema's stored columns.

    When the two versions' keys cannot be compared (the primary key's columns or
    types changed, or the table gained or lost its key, e.g. dropped and re-created
    between the two versions), every old row is removed and every new row added:
    the removed rows first, then the added ones, each part in its own key order.
    """
    f, t = delta.from_table, delta.to_table
    if f is not None and t is not None and not _same_key_layout(f.schema, t.schema):
        return _disjoint(f, t), f.schema, t.schema
    if (
        f is not None
        and t is not None
        and f.rows.types == t.rows.types
        and f.schema.primary_key == t.schema.primary_key
        and _same_tags(f.schema, t.schema)  # equal bytes mean equal cells only then
    ):
        return f.rows.diff(t.rows), f.schema, t.schema
    from_keys, from_cols = f.rows.scan() if f is not None else (values_array([], pa.binary()), [])
    to_keys, to_cols = t.rows.scan() if t is not None else (values_array([], pa.binary()), [])
    fs = f.schema if f is not None else t.schema  # type: ignore[union-attr]
    ts = t.schema if t is not None else fs
    if f is None:
        from_cols = [values_array([], ty) for ty in t.rows.types]  # type: ignore[union-attr]
    if t is None:
        to_cols = [values_array([], ty) for ty in f.rows.types]  # type: ignore[union-attr]
    return _diff_across_schemas(from_keys, from_cols, to_keys, to_cols), fs, ts


def _same_key_layout(a: Schema, b: Schema) -> bool:
    """Whether row keys of ``a`` and ``b`` encode the same columns the same way."""
    return a.is_keyless == b.is_keyless and [(c.tag, c.type) for c in a.key_columns] == [
        (c.tag, c.type) for c in b.key_columns
    ]


def _disjoint(f: Table, t: Table) -> TreeDiff:
    """Every row of ``f`` removed, then every row of ``t`` added."""
    from_keys, from_cols = f.rows.scan()
    to_keys, to_cols = t.rows.scan()
    m, k = len(from_keys), len(to_keys)
    return TreeDiff(
        pa.concat_arrays([from_keys, to_keys]),
        [pa.concat_arrays([c, pa.nulls(k, c.type)]) for c in _arrays(from_cols)],
        [pa.concat_arrays([pa.nulls(m, c.type), c]) for c in _arrays(to_cols)],
        np.concatenate([np.full(m, REMOVED), np.full(k, ADDED)]).astype(np.int8),
    )


def _arrays(columns) -> list[pa.Array]:
    return [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]


def _diff_across_schemas(from_keys, from_cols, to_keys, to_cols) -> TreeDiff:
    """Row diff when the two sides store different columns (a schema change).

    Keys present on both sides all come out MODIFIED here (each side gets a
    distinct marker value); ``row_diff`` then drops the rows whose values are
    equal once the columns are aligned by tag.
    """
    marks = diff_rows(
        from_keys,
        [values_array(np.zeros(len(from_keys), np.int8), pa.int8())],
        to_keys,
        [values_array(np.ones(len(to_keys), np.int8), pa.int8())],
    )
    from_take = _positions(from_keys, marks.keys)
    to_take = _positions(to_keys, marks.keys)
    return TreeDiff(
        marks.keys,
        [c.take(from_take) for c in from_cols],
        [c.take(to_take) for c in to_cols],
        marks.kinds,
    )


def _positions(keys: pa.BinaryArray, wanted: pa.BinaryArray) -> pa.Array:
    have, want = comparable(keys, wanted)
    pos = np.searchsorted(have, want)
    clipped = np.minimum(pos, max(len(have) - 1, 0))
    found = (pos < len(have)) & (have[clipped] == want) if len(have) else np.zeros(len(want), bool)
    return int64s(np.where(found, pos, 0), ~found)


def row_diff(delta: TableDelta) -> pa.Table:
    """The changed rows of a delta as Dolt's to_/from_ columns plus diff_type."""
    raw, fs, ts = tree_diff(delta)
    kinds = raw.kinds
    before = _side(fs, raw.keys, raw.from_columns, kinds != ADDED)
    after = _side(ts, raw.keys, raw.to_columns, kinds != REMOVED)
    # Columns of the union of both schemas by tag, named as in the newer schema.
    to_by_tag = {c.tag: c for c in ts.columns}
    from_by_tag = {c.tag: c for c in fs.columns}
    # A column dropped and re-added under its name (a new tag, e.g. another type, or the
    # table re-created) shows as one column: its old values cast to the new type.
    new_names = {c.name: c.tag for c in ts.columns}
    for c in fs.columns:
        tag = new_names.get(c.name)
        if c.tag not in to_by_tag and tag is not None and tag not in from_by_tag:
            from_by_tag[tag] = from_by_tag.pop(c.tag)
    order = [c.tag for c in ts.columns] + [
        c.tag for c in fs.columns if c.tag in from_by_tag and c.tag not in to_by_tag
    ]
    present_before = kinds != ADDED
    present_after = kinds != REMOVED
    arrays, names = [], []
    changed_any = np.zeros(len(kinds), bool)
    for tag in order:
        name = (to_by_tag.get(tag) or from_by_tag[tag]).name
        to_col = (
            _masked(after.column(to_by_tag[tag].name), present_after) if tag in to_by_tag else None
        )
        from_col = (
            _masked(before.column(from_by_tag[tag].name), present_before)
            if tag in from_by_tag
            else None
        )
        if to_col is None:
            to_col = pa.nulls(len(kinds), from_col.type)  # type: ignore[union-attr]
        if from_col is None:
            from_col = pa.nulls(len(kinds), to_col.type)
        if from_col.type != to_col.type:
            from_col = _coerce(from_col, to_col.type)
        changed_any |= ~column_equal(from_col, to_col)
        arrays += [to_col, from_col]
        names += [f"to_{name}", f"from_{name}"]
    if fs.is_keyless or ts.is_keyless:
        return _keyless_copies(raw, fs, ts, arrays, names, changed_any)
    keep = (kinds != MODIFIED) | changed_any
    kind_names = values_array(list(DIFF_TYPE_NAMES), pa.string()).take(int64s(kinds))
    table = pa.table(arrays + [kind_names], names=names + ["diff_type"])
    return table.filter(bools(keep)) if not keep.all() else table


def _copies(schema: Schema, columns: list[pa.Array], present: np.ndarray) -> np.ndarray:
    """How many copies of each diff row one side holds (a keyed table: 1 where present)."""
    if schema.is_keyless:
        return keyless_counts(columns)
    return present.astype(np.int64)


def _keyless_copies(
    raw: TreeDiff,
    fs: Schema,
    ts: Schema,
    arrays: list[pa.Array],
    names: list[str],
    changed: np.ndarray,
) -> pa.Table:
    """A keyless table's diff as Dolt shows it: one 'removed' row per copy gone and one
    'added' row per copy new (three identical copies deleted: three removed rows).

    A stored row whose copy count changed gives the difference, added or removed; a row
    whose values changed (a schema change) gives every old copy removed and every new
    copy added. Rows come in key order, removed copies before added ones.
    """
    kinds = raw.kinds
    before = _copies(fs, raw.from_columns, kinds != ADDED)
    after = _copies(ts, raw.to_columns, kinds != REMOVED)
    same = (kinds == MODIFIED) & ~changed
    removed = np.where(same, np.maximum(before - after, 0), before)
    added = np.where(same, np.maximum(after - before, 0), after)
    n = len(kinds)
    to_side, from_side = arrays[0::2], arrays[1::2]

    def side(kind: str, keep_to: bool) -> pa.Table:
        cols = []
        for to_col, from_col in zip(to_side, from_side, strict=True):
            cols.append(to_col if keep_to else pa.nulls(n, to_col.type))
            cols.append(pa.nulls(n, from_col.type) if keep_to else from_col)
        cols.append(values_array([kind] * n, pa.string()))
        return pa.table(cols, names=[*names, "diff_type"])

    both = pa.concat_tables([side("removed", keep_to=False), side("added", keep_to=True)])
    rows = np.concatenate([np.repeat(np.arange(n), removed), np.repeat(np.arange(n), added)])
    take = np.concatenate([np.repeat(np.arange(n), removed), np.repeat(np.arange(n, 2 * n), added)])
    order = np.argsort(rows, kind="stable")
    return both.take(int64s(take[order]))


def _coerce(values: pa.Array, kind: pa.DataType) -> pa.Array:
    """``values`` cast to ``kind``; NULL where no value casts (as Dolt shows a column
    re-added with a type its old values do not fit)."""
    try:
        return values.cast(kind, safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pa.nulls(len(values), kind)


def _side(
    schema: Schema, keys: pa.BinaryArray, columns: list[pa.Array], present: np.ndarray
) -> pa.Table:
    """One side of a raw diff in ``schema``'s columns; only the rows the side holds are
    decoded (a key of the other side may not decode in this schema), the rest NULL."""
    if present.all():
        return rows_to_arrow(schema, keys, columns)
    held = int64s(np.flatnonzero(present))
    table = rows_to_arrow(schema, keys.take(held), [c.take(held) for c in columns])
    if table.num_rows == 0:
        return pa.table([pa.nulls(len(present), f.type) for f in table.schema], schema=table.schema)
    slots = np.maximum(np.cumsum(present) - 1, 0)
    return table.take(int64s(slots, ~present))


def _masked(column: pa.ChunkedArray | pa.Array, present: np.ndarray) -> pa.Array:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if present.all():
        return array
    return pc.if_else(bools(present), array, pa.nulls(len(array), array.type))


def changed_columns(delta: TableDelta) -> list[tuple[str, str]]:
    """(column, 'added' | 'removed' | 'modified') for each column ``delta`` changes, as
    Dolt's dolt_column_diff: every column of a created table is added and of a dropped
    one removed; otherwise a column only one schema has (by tag) is added or removed,
    and a column both have is modified when a changed row's value in it differs (an
    added or deleted row changes each column it holds a value in). Columns in the
    newer schema's order, then the dropped ones."""
    f, t = delta.from_table, delta.to_table
    if f is None or t is None:
        kind = "added" if f is None else "removed"
        return [(c.name, kind) for c in (t or f).schema.columns]  # type: ignore[union-attr]
    old = {c.tag for c in f.schema.columns}
    new = {c.tag for c in t.schema.columns}
    out = [(c.name, "added") for c in t.schema.columns if c.tag not in old]
    kept = [c.name for c in t.schema.columns if c.tag in old]
    if kept and f.rows.root != t.rows.root:
        rows = row_diff(delta)
        for name in kept:
            to_col, from_col = rows.column(f"to_{name}"), rows.column(f"from_{name}")
            if not column_equal(from_col.combine_chunks(), to_col.combine_chunks()).all():
                out.append((name, "modified"))
    order = {c.name: i for i, c in enumerate(t.schema.columns)}
    out.sort(key=lambda pair: order[pair[0]])
    return out + [(c.name, "removed") for c in f.schema.columns if c.tag not in new]


@dataclass(frozen=True)
class DiffStat:
    table_name: str
    rows_unmodified: int
    rows_added: int
    rows_deleted: int
    rows_modified: int
    cells_added: int
    cells_deleted: int
    cells_modified: int
    old_row_count: int
    new_row_count: int
    old_cell_count: int
    new_cell_count: int


def diff_stat(delta: TableDelta) -> DiffStat:
    """Dolt's dolt_diff_stat numbers for one table, from the row diff."""
    rows = row_diff(delta)
    kinds = rows.column("diff_type")
    added = int(numpy_bools(pc.equal(kinds, scalar("added", pa.string()))).sum())
    removed = int(numpy_bools(pc.equal(kinds, scalar("removed", pa.string()))).sum())
    is_modified = numpy_bools(pc.equal(kinds, scalar("modified", pa.string())))
    modified = int(is_modified.sum())
    n_to = len(delta.to_table.schema.columns) if delta.to_table else 0
    n_from = len(delta.from_table.schema.columns) if delta.from_table else 0
    cells_modified = 0
    if modified:
        mod = rows.filter(bools(is_modified))
        for i in range(0, mod.num_columns - 1, 2):
            cells_modified += int(
                (
                    ~column_equal(
                        mod.column(i).combine_chunks(), mod.column(i + 1).combine_chunks()
                    )
                ).sum()
            )
    old_rows = delta.from_table.count() if delta.from_table else 0
    new_rows = delta.to_table.count() if delta.to_table else 0
    return DiffStat(
        table_name=delta.name,
        rows_unmodified=old_rows - removed - modified,
        rows_added=added,
        rows_deleted=removed,
        rows_modified=modified,
        cells_added=added * n_to,
        cells_deleted=removed * n_from,
        cells_modified=cells_modified,
        old_row_count=old_rows,
        new_row_count=new_rows,
        old_cell_count=old_rows * n_from,
        new_cell_count=new_rows * n_to,
    )
