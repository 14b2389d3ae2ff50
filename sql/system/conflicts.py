"""Merge artifacts as relations, and merge previews.

    dolt_conflicts                         table, num_conflicts
    dolt_conflicts_<t>                     from_root_ish, base_<c>..., our_<c>..., our_diff_type,
                                           their_<c>..., their_diff_type, dolt_conflict_id
    dolt_schema_conflicts                  table_name, base_schema, our_schema, their_schema,
                                           description
    dolt_constraint_violations             table, num_violations
    dolt_constraint_violations_<t>         violation_type, <c>..., violation_info
    dolt_preview_merge_conflicts_summary(base_branch, merge_branch)
                                           table, num_data_conflicts, num_schema_conflicts
    dolt_preview_merge_conflicts(base_branch, merge_branch, table)
                                           the dolt_conflicts_<t> columns, for a merge not run

``from_root_ish`` is the hash of the commit being merged in (``theirs``).
``dolt_conflict_id`` names one conflict: the first 16 bytes of
BLAKE3-160(theirs commit address + the row's key bytes), in base64 without
padding (22 characters, like Dolt's). So a preview and the conflict the same
merge then stores carry the same id, and the writes that resolve conflicts can
map an id back to its row key (``conflict_rows`` returns both).

Schema conflicts are not stored by the merge; they are recomputed from the
merge state (base root, ours and theirs commits) with the engine's schema merge,
so they show for as long as the merge is in progress.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arbordb.engine.arrow_arrays import int64s, values_array
from arbordb.engine.errors import InvalidInput, TableNotFound
from arbordb.engine.hash import address_of
from arbordb.engine.history import merge_base
from arbordb.engine.root import EMPTY_ROOT, RootValue
from arbordb.engine.table import NodeStore, Schema, Table, encode_primary_keys, row_hashes
from arbordb.engine.versioning.artifacts import Artifacts
from arbordb.engine.versioning.merge import MergeOptions, preview_merge, table_conflicts
from arbordb.engine.versioning.schema_merge import merge_schemas

from .common import (
    HASH,
    SystemContext,
    commit_of,
    constant,
    create_table_sql,
    empty,
    hash_text,
    require_table,
    text_args,
)

_ID_BYTES = 16


# --- ids -----------------------------------------------------------------------


def conflict_ids(keys: pa.BinaryArray, theirs: bytes | None) -> pa.Array:
    """``dolt_conflict_id`` of each conflict key (see the module docstring)."""
    salt = theirs or b""
    ids = [
        base64.b64encode(address_of(salt + key)[:_ID_BYTES]).rstrip(b"=").decode("ascii")
        for key in keys.to_pylist()
    ]
    return values_array(ids, pa.string())


def _dress(rows: pa.Table, keys: pa.BinaryArray, theirs: bytes | None) -> pa.Table:
    """Add from_root_ish in front and dolt_conflict_id at the end."""
    rows = rows.add_column(0, "from_root_ish", constant(hash_text(theirs), rows.num_rows, HASH))
    return rows.append_column("dolt_conflict_id", conflict_ids(keys, theirs))


def _conflict_shape(schema: Schema) -> pa.Table:
    names, types = [], []
    for prefix in ("base", "our", "their"):
        names += [f"{prefix}_{c.name}" for c in schema.columns]
        types += [c.type for c in schema.columns]
        if prefix != "base":
            names.append(f"{prefix}_diff_type")
            types.append(pa.string())
    return empty(["from_root_ish", *names, "dolt_conflict_id"], [HASH, *types, pa.string()])


# --- stored conflicts -------------------------------------------------------------


def _artifacts(nodes: NodeStore, table: Table) -> Artifacts | None:
    return None if table.artifacts is None else Artifacts.load(nodes, table.artifacts)


def _artifact_counts(ctx: SystemContext, kind: str, column: str) -> pa.Table:
    """(table, count) for each working-root table with stored ``kind`` artifacts."""
    names, counts = [], []
    for name, table in _tables(ctx):
        art = _artifacts(ctx.workspace.nodes, table)
        n = getattr(art, kind).count() if art else 0
        if n:
            names.append(name)
            counts.append(n)
    return pa.table(
        [values_array(names, pa.string()), values_array(counts, pa.uint64())],
        names=["table", column],
    )


def conflicts_table(ctx: SystemContext) -> pa.Table:
    return _artifact_counts(ctx, "conflicts", "num_conflicts")


def conflict_rows(ctx: SystemContext, name: str) -> tuple[pa.BinaryArray, pa.Table]:
    """The conflicts of table ``name``: their row keys and the ``dolt_conflicts_<t>`` rows."""
    _, table = require_table(ctx, name, f"dolt_conflicts_{name}")
    merge = ctx.workspace.merge
    theirs = merge.theirs if merge is not None else None
    keys, rows = table_conflicts(ctx.workspace.nodes, table)
    return keys, _dress(rows, keys, theirs)


def violations_summary(ctx: SystemContext) -> pa.Table:
    return _artifact_counts(ctx, "violations", "num_violations")


def violations_table(ctx: SystemContext, name: str) -> pa.Table:
    """``dolt_constraint_violations_<t>``: each violating row of the merged table."""
    _, table = require_table(ctx, name, f"dolt_constraint_violations_{name}")
    art = _artifacts(ctx.workspace.nodes, table)
    if art is None:
        keys, kinds, infos = (
            values_array([], pa.binary()),
            values_array([], pa.string()),
            values_array([], pa.string()),
        )
    else:
        keys, (kinds, infos) = art.violations.scan()
    rows = table.rows_by_key(keys)
    rows = rows.add_column(0, "violation_type", kinds)
    return rows.append_column("violation_info", infos)


def _tables(ctx: SystemContext) -> list[tuple[str, Table]]:
    ws = ctx.workspace
    return [(name, Table.load(ws.nodes, ws.working[name], name)) for name in ws.working]


# --- schema conflicts ---------------------------------------------------------------


@dataclass(frozen=True)
class TableSchemaConflict:
    table: str
    base: Schema | None
    ours: Schema | None
    theirs: Schema | None
    description: str


def root_schema_conflicts(
    nodes: NodeStore, base: RootValue, ours: RootValue, theirs: RootValue
) -> list[TableSchemaConflict]:
    """Tables whose schemas cannot merge (the engine's merge rules, versioning/merge.py)."""
    out = []
    for name in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(name), ours.get(name), theirs.get(name)
        if o == t or t == b or o == b:
            continue
        tb, to, tt = (Table.load(nodes, a, name) if a is not None else None for a in (b, o, t))
        sb, so, st = (x.schema if x is not None else None for x in (tb, to, tt))
        if so is None or st is None:
            side = "ours" if so is None else "theirs"
            found = [f"table {name!r} was dropped on {side} and changed on the other side"]
        else:
            found = [c.description for c in merge_schemas(name, sb, so, st)[1]]
        if found:
            out.append(TableSchemaConflict(name, sb, so, st, "; ".join(found)))
    return out


def session_schema_conflicts(ctx: SystemContext) -> list[TableSchemaConflict]:
    """Schema conflicts of the merge in progress on the session's branch (none if no merge)."""
    ws = ctx.workspace
    merge = ws.merge
    if merge is None:
        return []
    base = ws.root(merge.base_root) if merge.base_root is not None else EMPTY_ROOT
    return root_schema_conflicts(
        ws.nodes, base, ws.commit_root(merge.ours), ws.commit_root(merge.theirs)
    )


def schema_conflicts_table(ctx: SystemContext) -> pa.Table:
    found = session_schema_conflicts(ctx)

    def text(c: TableSchemaConflict, schema: Schema | None) -> str:
        return create_table_sql(c.table, schema) if schema is not None else ""

    columns = {
        "table_name": [c.table for c in found],
        "base_schema": [text(c, c.base) for c in found],
        "our_schema": [text(c, c.ours) for c in found],
        "their_schema": [text(c, c.theirs) for c in found],
        "description": [c.description for c in found],
    }
    return pa.table({k: values_array(v, pa.string()) for k, v in columns.items()})


# --- previews ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Preview:
    theirs: bytes
    base: RootValue
    ours: RootValue
    theirs_root: RootValue


def _preview_roots(
    ctx: SystemContext, function: str, args, with_table: bool
) -> tuple[_Preview, list[str]]:
    usage = f"{function}(base_branch, merge_branch{', table' if with_table else ''})"
    n = 3 if with_table else 2
    values = text_args(function, args, n, n, usage)
    ws = ctx.workspace
    ours, theirs = commit_of(ctx, values[0]), commit_of(ctx, values[1])
    base = merge_base(ws.loader, ours, theirs)
    base_root = ws.commit_root(base) if base is not None else EMPTY_ROOT
    return _Preview(theirs, base_root, ws.commit_root(ours), ws.commit_root(theirs)), values


def preview_summary(ctx: SystemContext, args: Sequence[object] | None) -> pa.Table:
    """``dolt_preview_merge_conflicts_summary(base_branch, merge_branch)``; writes nothing."""
    p, _ = _preview_roots(ctx, "dolt_preview_merge_conflicts_summary", args, False)
    nodes = ctx.workspace.nodes
    counts, clashes, _ = preview_merge(nodes, p.base, p.ours, p.theirs_root, MergeOptions())
    schema = Counter(c.table for c in clashes)
    names = sorted({t for t, n in counts.items() if n} | set(schema))
    data = [None if t in schema else counts[t] for t in names]
    return pa.table(
        [
            values_array(names, pa.string()),
            values_array(data, pa.uint64()),
            values_array([schema.get(t, 0) for t in names], pa.uint64()),
        ],
        names=["table", "num_data_conflicts", "num_schema_conflicts"],
    )


def preview_conflicts(ctx: SystemContext, args: Sequence[object] | None) -> pa.Table:
    """``dolt_preview_merge_conflicts(base_branch, merge_branch, table)``; writes nothing."""
    function = "dolt_preview_merge_conflicts"
    p, values = _preview_roots(ctx, function, args, True)
    name = values[2]
    ours_name, theirs_name = p.ours.find(name), p.theirs_root.find(name)
    if ours_name is None or theirs_name is None:
        where, root = (values[0], p.ours) if ours_name is None else (values[1], p.theirs_root)
        raise TableNotFound(f"{function}(): " + root.missing_message(name, f" at {where!r}"))
    nodes = ctx.workspace.nodes
    base_name = p.base.find(name)
    one = RootValue({ours_name: p.ours[ours_name]})
    theirs_one = RootValue({ours_name: p.theirs_root[theirs_name]})
    base_one = RootValue({ours_name: p.base[base_name]}) if base_name else EMPTY_ROOT
    clash = root_schema_conflicts(nodes, base_one, one, theirs_one)
    if clash:
        raise InvalidInput(
            f"{function}(): table {name!r} has schema conflicts ({clash[0].description}); "
            "row conflicts cannot be previewed until the schemas merge"
        )
    _, _, details = preview_merge(nodes, base_one, one, theirs_one, MergeOptions())
    base_schema = Table.load(nodes, base_one[ours_name]).schema if base_one else None
    ours_schema = Table.load(nodes, one[ours_name]).schema
    theirs_schema = Table.load(nodes, theirs_one[ours_name]).schema
    schema, _ = merge_schemas(ours_name, base_schema, ours_schema, theirs_schema)
    rows = details.get(ours_name)
    if rows is None:
        return _conflict_shape(schema)
    return _dress(rows, _row_keys(schema, rows), p.theirs)


def _row_keys(schema: Schema, rows: pa.Table) -> pa.BinaryArray:
    """The row key of each conflict row (its primary key, or a keyless row's hash)."""
    if schema.is_keyless:
        # the row as the side that still has it: ours, or theirs where ours removed it
        ours = pa.table({c.name: rows.column(f"our_{c.name}") for c in schema.columns})
        theirs = pa.table({c.name: rows.column(f"their_{c.name}") for c in schema.columns})
        removed = pc.equal(rows.column("our_diff_type"), "removed").to_numpy(zero_copy_only=False)
        n = rows.num_rows
        take = int64s(np.arange(n) + np.where(removed, n, 0))
        return row_hashes(schema, pa.concat_tables([ours, theirs]).take(take))
    columns = []
    for c in schema.key_columns:
        base, our, their = (rows.column(f"{p}_{c.name}") for p in ("base", "our", "their"))
        columns.append(pc.coalesce(our, their, base))
    return encode_primary_keys(schema, columns)
