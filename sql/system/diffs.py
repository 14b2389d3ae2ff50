"""Diff table functions between any two revisions.

    dolt_diff(from, to, t)            to_<c>..., to_commit, to_commit_date, from_<c>...,
                                      from_commit, from_commit_date, diff_type
    dolt_diff_stat(from, to[, t])     table_name, rows_unmodified, rows_added, rows_deleted,
                                      rows_modified, cells_added, cells_deleted, cells_modified,
                                      old_row_count, new_row_count, old_cell_count, new_cell_count
    dolt_diff_summary(from, to[, t])  from_table_name, to_table_name, diff_type, data_change,
                                      schema_change
    dolt_schema_diff(from, to[, t])   from_table_name, to_table_name, from_create_statement,
                                      to_create_statement

Each also takes ``'from..to'`` and ``'from...to'`` (from the merge base) in
place of the first two arguments (common.py). Revisions include WORKING and
STAGED. Everything comes from the engine's root diff, which skips unchanged
tables by address and unchanged subtrees by hash, so a diff costs what changed.

``dolt_diff()`` shows the ``to_`` columns in the schema at ``to`` and the
``from_`` columns in the schema at ``from`` (a table missing at one side takes
the other side's schema), as Dolt does. ``dolt_diff_stat`` lists tables whose
data changed; for a keyless table only rows_added and rows_deleted are known
(the others are NULL), as in Dolt. ``dolt_diff_summary`` lists every changed
table with diff_type 'added', 'dropped', 'modified' or 'renamed'; a rename
counts as a schema change. Names missing on one side are ''.

A table named as the third argument but present at neither revision (never
created, or created and dropped in between) gives dolt_diff_summary and
dolt_schema_diff no rows and makes dolt_diff, dolt_diff_stat and dolt_patch
fail with TableNotFound, as in Dolt. A table dropped and re-created between the
two revisions is compared by name ('modified'); when its primary key changed,
every old row is removed and every new row added.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from arbordb.engine.arrow_arrays import values_array
from arbordb.engine.errors import TableNotFound
from arbordb.engine.versioning.diff import TableDelta, diff_stat, table_deltas

from .common import (
    Endpoint,
    SystemContext,
    cached_row_diff,
    create_table_sql,
    diff_endpoints,
    diff_relation,
    layout,
    load,
)

_STAT_COLUMNS = [
    "table_name",
    "rows_unmodified",
    "rows_added",
    "rows_deleted",
    "rows_modified",
    "cells_added",
    "cells_deleted",
    "cells_modified",
    "old_row_count",
    "new_row_count",
    "old_cell_count",
    "new_cell_count",
]


def diff_function(ctx: SystemContext, args: Sequence[object] | None) -> pa.Table:
    """``dolt_diff(from, to, table)``: the table's changed rows between two revisions."""
    start, end, name = diff_endpoints(ctx, "dolt_diff", args, table_required=True)
    assert name is not None
    from_name, to_name = start.root.find(name), end.root.find(name)
    if from_name is None and to_name is None:
        raise TableNotFound(
            f"dolt_diff(): table {name!r} exists neither at {start.label!r} nor at {end.label!r}"
        )
    before, after = load(ctx, start.root, from_name), load(ctx, end.root, to_name)
    delta = TableDelta(from_name, to_name, before, after)
    to_lay = layout((after or before).schema)  # type: ignore[union-attr]
    from_lay = layout((before or after).schema)  # type: ignore[union-attr]
    return diff_relation(delta, to_lay, from_lay, start, end)


def changed_tables(
    ctx: SystemContext,
    function: str,
    start: Endpoint,
    end: Endpoint,
    name: str | None,
    *,
    missing_ok: bool = False,
) -> list[TableDelta]:
    """The tables that differ between two revisions (only ``name``'s, if given).

    A ``name`` that exists at neither revision (never created, or created and dropped
    in between) is TableNotFound, or no tables when ``missing_ok`` (Dolt's
    dolt_diff_summary and dolt_schema_diff; its dolt_diff, dolt_diff_stat and
    dolt_patch refuse it).
    """
    deltas = table_deltas(ctx.workspace.nodes, start.root, end.root)
    if name is None:
        return deltas
    if start.root.find(name) is None and end.root.find(name) is None:
        if missing_ok:
            return []
        raise TableNotFound(
            f"{function}(): table {name!r} exists neither at {start.label!r} nor at {end.label!r}"
        )
    wanted = name.lower()
    return [d for d in deltas if wanted in ((d.from_name or "").lower(), (d.to_name or "").lower())]


def stat_function(ctx: SystemContext, args: Sequence[object] | None) -> pa.Table:
    """``dolt_diff_stat(from, to[, table])``: row and cell counts of each data change."""
    start, end, name = diff_endpoints(ctx, "dolt_diff_stat", args, table_required=False)
    rows = []
    for d in changed_tables(ctx, "dolt_diff_stat", start, end, name):
        if not d.data_changed:
            continue
        if (d.to_table or d.from_table).schema.is_keyless:  # type: ignore[union-attr]
            added, deleted = _keyless_changes(d)
            rows.append([d.name, None, added, deleted] + [None] * 8)
            continue
        s = diff_stat(d)
        rows.append([d.name] + [getattr(s, c) for c in _STAT_COLUMNS[1:]])
    columns: list[Sequence[object]] = (
        list(zip(*rows, strict=True)) if rows else [[] for _ in _STAT_COLUMNS]
    )
    types = [pa.string()] + [pa.int64()] * (len(_STAT_COLUMNS) - 1)
    return pa.table(
        [values_array(c, t) for c, t in zip(columns, types, strict=True)], names=_STAT_COLUMNS
    )


def _keyless_changes(delta: TableDelta) -> tuple[int, int]:
    """Rows added and deleted in a keyless table: one per copy, as the row diff shows them."""
    kinds = cached_row_diff(delta).column("diff_type")
    added = pc.sum(pc.equal(kinds, "added")).as_py() or 0
    return int(added), int(pc.sum(pc.equal(kinds, "removed")).as_py() or 0)


def summary_function(ctx: SystemContext, args: Sequence[object] | None) -> pa.Table:
    """``dolt_diff_summary(from, to[, table])``: each changed table and how it changed."""
    start, end, name = diff_endpoints(ctx, "dolt_diff_summary", args, table_required=False)
    deltas = changed_tables(ctx, "dolt_diff_summary", start, end, name, missing_ok=True)
    return pa.table(
        {
            "from_table_name": values_array([d.from_name or "" for d in deltas], pa.string()),
            "to_table_name": values_array([d.to_name or "" for d in deltas], pa.string()),
            "diff_type": values_array([d.kind for d in deltas], pa.string()),
            "data_change": values_array([d.data_changed for d in deltas], pa.bool_()),
            "schema_change": values_array(
                [d.schema_changed or d.kind == "renamed" for d in deltas], pa.bool_()
            ),
        }
    )


def schema_diff_function(ctx: SystemContext, args: Sequence[object] | None) -> pa.Table:
    """``dolt_schema_diff(from, to[, table])``: CREATE TABLE text of each schema change."""
    start, end, name = diff_endpoints(ctx, "dolt_schema_diff", args, table_required=False)
    deltas = [
        d
        for d in changed_tables(ctx, "dolt_schema_diff", start, end, name, missing_ok=True)
        if d.schema_changed or d.kind == "renamed"
    ]

    def text(table_name: str | None, table) -> str:
        if table is None:
            return ""
        assert table_name is not None  # a delta names each table it holds
        return create_table_sql(table_name, table.schema)

    return pa.table(
        {
            "from_table_name": values_array([d.from_name or "" for d in deltas], pa.string()),
            "to_table_name": values_array([d.to_name or "" for d in deltas], pa.string()),
            "from_create_statement": values_array(
                [text(d.from_name, d.from_table) for d in deltas], pa.string()
            ),
            "to_create_statement": values_array(
                [text(d.to_name, d.to_table) for d in deltas], pa.string()
            ),
        }
    )
