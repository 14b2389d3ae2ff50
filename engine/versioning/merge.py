"""Three-way merge of root values: tables, schemas, rows, conflicts and violations.

Per table name (b = base, o = ours, t = theirs; "same" = same table address):

- o same as t, or t same as b: ours; o same as b: theirs (no row work at all);
- added on one side only: that side's table; dropped on one side and unchanged
  on the other: dropped; dropped on one side and changed on the other, or added
  on both with different schemas: a schema conflict naming the table;
- changed on both: the schemas merge by column tag (``merge_schemas``); a column
  changed differently on the two sides is a schema conflict naming the table and
  column, and the table keeps our version; otherwise each side's rows are
  brought to the merged schema and merged by ``tree.merge`` (cell by cell).

Row conflicts go to the table's artifacts (``artifacts.py``) and keep our row
(Dolt's behaviour). Constraint violations that only the merged rows have
(NOT NULL, UNIQUE) are recorded as violation artifacts, not dropped. Rules that
resolved cells automatically are returned so the merge commit can record them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow_arrays import (
    binaries,
    bools,
    empty,
    int64s,
    numpy_bools,
    numpy_numbers,
    texts,
    values_array,
)
from ..errors import InvalidInput
from ..root import RootValue
from ..table import Schema, Table, rows_to_arrow
from ..tree import REMOVED, NodeStore, ProllyTree
from ..tree.diff import DIFF_TYPE_NAMES, column_equal
from ..tree.lookup import lookup
from ..tree.merge import MergeResult
from ..tree.merge import merge as merge_trees
from ..tree.merge import preview as preview_trees
from .artifacts import Artifacts
from .schema_merge import SchemaConflict, merge_schemas
from .unique_check import unique_violations

Rule = str | Callable[[object, object, object], object]


@dataclass
class MergeOptions:
    """How to merge: ``mode`` 'cell' or 'row' (per merge, or per table in ``table_modes``)
    and resolution rules per table: {table: {column or '*': rule}}."""

    mode: str = "cell"
    table_modes: Mapping[str, str] = field(default_factory=dict)
    rules: Mapping[str, Mapping[str, Rule]] = field(default_factory=dict)

    def mode_for(self, table: str) -> str:
        mode = self.table_modes.get(table, self.mode)
        if mode not in ("cell", "row"):
            raise InvalidInput(f"merge mode {mode!r} is not one of 'cell', 'row'")
        return mode


@dataclass
class RootMerge:
    root: RootValue
    conflicts: int = 0
    violations: int = 0
    schema_conflicts: list[SchemaConflict] = field(default_factory=list)
    resolutions: list[dict] = field(default_factory=list)
    per_table: dict[str, int] = field(default_factory=dict)

    @property
    def per_table_conflicted(self) -> list[str]:
        """Tables left with row conflicts or constraint violations."""
        return [name for name, n in self.per_table.items() if n]


def merge_roots(
    nodes: NodeStore, base: RootValue, ours: RootValue, theirs: RootValue, options: MergeOptions
) -> RootMerge:
    out = RootMerge(ours)
    for name in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(name), ours.get(name), theirs.get(name)
        if o == t or t == b:
            continue
        if o == b:
            out.root = out.root.without_table(name) if t is None else out.root.with_table(name, t)
            continue
        if o is None or t is None:
            side = "ours" if o is None else "theirs"
            out.schema_conflicts.append(
                SchemaConflict(
                    name,
                    None,
                    f"table {name!r} was dropped on {side} and changed on the other side",
                )
            )
            continue
        tb = Table.load(nodes, b) if b is not None else None
        to, tt = Table.load(nodes, o), Table.load(nodes, t)
        merged = _merge_table(nodes, name, tb, to, tt, options, out)
        if merged is not None:
            out.root = out.root.with_table(name, merged.address)
    return out


def _merge_table(nodes, name, tb, to, tt, options, out: RootMerge) -> Table | None:
    base_schema = tb.schema if tb is not None else None
    schema, conflicts = merge_schemas(name, base_schema, to.schema, tt.schema)
    if conflicts:
        out.schema_conflicts.extend(conflicts)
        return None
    base = _conform(nodes, tb, schema) if tb is not None else Table.create(nodes, schema)
    ours, theirs = _conform(nodes, to, schema), _conform(nodes, tt, schema)
    result = merge_trees(
        base.rows,
        ours.rows,
        theirs.rows,
        mode=options.mode_for(name),
        **_rules_for(schema, options.rules.get(name, {})),
    )
    merged = ours.with_rows(result.tree)
    n_conflicts = len(result.conflicts.keys)
    settled = {ix.name for ix in to.schema.indexes if ix.unique and ix in schema.indexes}
    violations = _violations(ours, merged, settled)
    if n_conflicts or len(violations[0]):
        artifacts = _artifacts(nodes, merged, result, violations)
        merged = merged.with_artifacts(artifacts.store(nodes))
    out.conflicts += n_conflicts
    out.violations += len(violations[0])
    out.per_table[name] = n_conflicts + len(violations[0])
    for r in result.resolutions:
        column = schema.value_columns[r.column].name if r.column is not None else None
        out.resolutions.append(
            {"table": name, "column": column, "rule": r.rule, "rows": len(r.keys)}
        )
    return merged


def _rules_for(schema: Schema, rules: Mapping[str, Rule]) -> dict:
    if not rules:
        return {}
    value_names = [c.name for c in schema.value_columns]
    by_index = {}
    for column, rule in rules.items():
        if column == "*":
            continue
        if column not in value_names:
            raise InvalidInput(
                f"merge rule names column {column!r}, which is not a non-key column "
                f"(columns: {', '.join(value_names)})"
            )
        by_index[value_names.index(column)] = rule
    return {"rules": by_index, "default_rule": rules.get("*")}


def _conform(nodes: NodeStore, table: Table, schema: Schema) -> Table:
    """The table's rows laid out in ``schema`` (columns matched by tag)."""
    if table.schema == schema:
        return table
    rows = table.to_arrow()
    by_tag = {c.tag: c.name for c in table.schema.columns}
    arrays = []
    for column in schema.columns:
        if column.tag in by_tag:
            arrays.append(rows.column(by_tag[column.tag]).cast(column.type))
        else:
            arrays.append(pa.nulls(len(rows), column.type))
    data = pa.table(arrays, names=[c.name for c in schema.columns])
    # The rows need not meet the merged schema's NOT NULL and UNIQUE constraints:
    # what breaks them is recorded as a violation (``_violations``), not refused. So
    # the rows are laid out under a schema without those, then given the real one.
    relaxed = replace(
        schema,
        columns=tuple(replace(c, nullable=True) for c in schema.columns),
        indexes=tuple(replace(ix, unique=False) for ix in schema.indexes),
    )
    rows = Table.create(nodes, relaxed).insert(data).rows
    return Table.create(nodes, schema).with_rows(rows)


def _violations(
    ours: Table, merged: Table, settled: Collection[str]
) -> tuple[pa.BinaryArray, list[pa.Array]]:
    """NOT NULL and UNIQUE violations that the merged rows have (keys, [type, info]).

    NOT NULL is checked on the rows the merge wrote over ours (a tree diff, so the
    cost follows the change); UNIQUE from the index entries the merge added
    (``unique_check.py``; ``settled``: the UNIQUE indexes ours had). Only violating
    keys reach Python.
    """
    schema = merged.schema
    required = [c for c in schema.value_columns if not c.nullable]
    uniques = [ix for ix in schema.indexes if ix.unique]
    found: dict[bytes, tuple[str, str]] = {}
    if schema.primary_key and required and ours.rows.root != merged.rows.root:
        changed = ours.rows.diff(merged.rows)
        rows = rows_to_arrow(schema, changed.keys, changed.to_columns)
        present = bools(changed.kinds != REMOVED)
        for column in required:
            bad = pc.and_(present, rows.column(column.name).is_null())
            info = json.dumps({"columns": [column.name]})
            for key in changed.keys.filter(bad).to_pylist():
                found.setdefault(key, ("not null", info))
    if schema.primary_key and uniques:
        for key, index_name in unique_violations(ours, merged, settled).items():
            columns = list(schema.index(index_name).columns)
            info = json.dumps({"index": index_name, "columns": columns})
            found.setdefault(key, ("unique index", info))
    order = sorted(found)
    return (
        binaries(order),
        [texts([found[k][0] for k in order]), texts([found[k][1] for k in order])],
    )


def _artifacts(nodes: NodeStore, table: Table, result: MergeResult, violations) -> Artifacts:
    art = Artifacts.empty(nodes, table.rows.types)
    c = result.conflicts
    if len(c.keys):
        names = values_array(list(DIFF_TYPE_NAMES), pa.string())
        columns = [
            bools(np.asarray(c.base_present, bool)),
            *c.base,
            *c.ours,
            names.take(int64s(c.our_kinds)),
            *c.theirs,
            names.take(int64s(c.their_kinds)),
        ]
        art = Artifacts(
            ProllyTree.build(nodes, c.keys, columns, art.conflicts.types), art.violations
        )
    keys, cols = violations
    if len(keys):
        art = Artifacts(art.conflicts, ProllyTree.build(nodes, keys, cols, art.violations.types))
    return art


def preview_merge(
    nodes: NodeStore, base: RootValue, ours: RootValue, theirs: RootValue, options: MergeOptions
) -> tuple[dict[str, int], list[SchemaConflict], dict[str, pa.Table]]:
    """What a merge would conflict on, per table, writing nothing."""
    counts: dict[str, int] = {}
    details: dict[str, pa.Table] = {}
    schema_conflicts: list[SchemaConflict] = []
    for name in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(name), ours.get(name), theirs.get(name)
        if o == t or t == b or o == b:
            continue
        if o is None or t is None:
            schema_conflicts.append(
                SchemaConflict(
                    name, None, f"table {name!r} dropped on one side and changed on the other"
                )
            )
            continue
        tb = Table.load(nodes, b) if b is not None else None
        to, tt = Table.load(nodes, o), Table.load(nodes, t)
        schema, conflicts = merge_schemas(name, tb.schema if tb else None, to.schema, tt.schema)
        if conflicts:
            schema_conflicts.extend(conflicts)
            continue
        base_t = _conform(nodes, tb, schema) if tb is not None else Table.create(nodes, schema)
        p = preview_trees(
            base_t.rows,
            _conform(nodes, to, schema).rows,
            _conform(nodes, tt, schema).rows,
            mode=options.mode_for(name),
        )
        counts[name] = len(p.conflicts.keys)
        if len(p.conflicts.keys):
            details[name] = conflicts_to_arrow(schema, p.conflicts)
    return counts, schema_conflicts, details


def conflicts_to_arrow(schema: Schema, c) -> pa.Table:
    """Conflicts as Dolt's dolt_conflicts_<t> columns (base_*, our_*, their_* ...)."""
    names = values_array(list(DIFF_TYPE_NAMES), pa.string())
    base = rows_to_arrow(schema, c.keys, c.base)
    ours = rows_to_arrow(schema, c.keys, c.ours)
    theirs = rows_to_arrow(schema, c.keys, c.theirs)
    present = np.asarray(c.base_present, bool)
    our_kinds = np.asarray(c.our_kinds, np.int64)
    their_kinds = np.asarray(c.their_kinds, np.int64)
    arrays, out_names = [], []
    for col in schema.columns:
        arrays.append(_null_where(base.column(col.name), ~present))
        out_names.append(f"base_{col.name}")
    for col in schema.columns:
        arrays.append(_null_where(ours.column(col.name), our_kinds == 2))
        out_names.append(f"our_{col.name}")
    arrays.append(names.take(int64s(our_kinds)))
    out_names.append("our_diff_type")
    for col in schema.columns:
        arrays.append(_null_where(theirs.column(col.name), their_kinds == 2))
        out_names.append(f"their_{col.name}")
    arrays.append(names.take(int64s(their_kinds)))
    out_names.append("their_diff_type")
    return pa.table(arrays, names=out_names)


def _null_where(column, mask: np.ndarray):
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not mask.any():
        return array
    return pc.if_else(bools(mask), pa.nulls(len(array), array.type), array)


def table_conflicts(nodes: NodeStore, table: Table) -> tuple[pa.BinaryArray, pa.Table]:
    """A table's stored conflicts: their keys and Dolt's conflict columns."""
    if table.artifacts is None:
        return empty(pa.binary()), conflicts_to_arrow(table.schema, _EmptyConflicts(table))
    art = Artifacts.load(nodes, table.artifacts)
    keys, cols = art.conflicts.scan()
    n = len(table.rows.types)
    c = _StoredConflicts(keys, cols, n)
    return keys, conflicts_to_arrow(table.schema, c)


class _StoredConflicts:
    def __init__(self, keys, cols, n):
        self.keys = keys
        self.base_present = numpy_bools(cols[0])
        self.base = cols[1 : 1 + n]
        self.ours = cols[1 + n : 1 + 2 * n]
        self.our_kinds = _kind_codes(cols[1 + 2 * n])
        self.theirs = cols[2 + 2 * n : 2 + 3 * n]
        self.their_kinds = _kind_codes(cols[2 + 3 * n])


def _kind_codes(names: pa.Array) -> np.ndarray:
    """'added' / 'modified' / 'removed' as the tree's ADDED / MODIFIED / REMOVED codes."""
    codes = pc.index_in(names, value_set=values_array(list(DIFF_TYPE_NAMES), pa.string()))
    return numpy_numbers(codes).astype(np.int64)


class _EmptyConflicts(_StoredConflicts):
    def __init__(self, table):
        types = table.rows.types
        super().__init__(
            empty(pa.binary()),
            [
                empty(pa.bool_()),
                *[empty(t) for t in types],
                *[empty(t) for t in types],
                empty(pa.string()),
                *[empty(t) for t in types],
                empty(pa.string()),
            ],
            len(types),
        )


def resolve_table_conflicts(
    nodes: NodeStore, table: Table, strategy: str, keys: pa.BinaryArray | None = None
) -> Table:
    """Resolve a table's conflicts ('ours', 'theirs', 'combine'); only ``keys`` if given."""
    if strategy not in ("ours", "theirs", "combine"):
        raise InvalidInput(f"unknown resolution {strategy!r} (use --ours, --theirs or --combine)")
    if table.artifacts is None:
        return table
    art = Artifacts.load(nodes, table.artifacts)
    all_keys, cols = art.conflicts.scan()
    n = len(table.rows.types)
    stored = _StoredConflicts(all_keys, cols, n)
    chosen = np.ones(len(all_keys), bool)
    if keys is not None:
        chosen = numpy_bools(pc.is_in(all_keys, value_set=keys))
    idx = int64s(np.flatnonzero(chosen))
    sel_keys = all_keys.take(idx)
    if strategy != "ours" and len(sel_keys):
        theirs = [c.take(idx) for c in stored.theirs]
        their_removed = stored.their_kinds[chosen] == 2
        if strategy == "combine":
            base = [c.take(idx) for c in stored.base]
            ours = [c.take(idx) for c in stored.ours]
            our_removed = stored.our_kinds[chosen] == 2
            values = []
            for b, o, t in zip(base, ours, theirs, strict=True):
                their_changed = ~column_equal(b, t)
                v = pc.if_else(bools(their_changed), t, o)
                values.append(pc.coalesce(v, o, t) if not pa.types.is_list(v.type) else v)
            values = [
                pc.if_else(bools(our_removed), t, v) for v, t in zip(values, theirs, strict=True)
            ]
            removed = our_removed & their_removed
        else:
            values, removed = theirs, their_removed
        table = table.with_rows(table.rows.edit(sel_keys, values, removed))
    remaining = ~chosen
    conflicts = art.conflicts
    if not remaining.all():
        delete = np.ones(len(sel_keys), bool)
        conflicts = conflicts.edit(
            sel_keys, [pa.nulls(len(sel_keys), t) for t in conflicts.types], delete
        )
    art = Artifacts(conflicts, art.violations)
    return table.with_artifacts(None if art.is_empty() else art.store(nodes))


def refresh_our_rows(nodes: NodeStore, table: Table, keys: pa.BinaryArray) -> Table:
    """Store the table's current rows as the ``our`` side of its conflicts on ``keys``
    (sorted), after those rows were written through ``dolt_conflicts_<t>``: the conflict
    then shows, and ``--combine`` then uses, the row the merge now keeps."""
    if table.artifacts is None or len(keys) == 0:
        return table
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    art = Artifacts.load(nodes, table.artifacts)
    found, stored = lookup(art.conflicts, keys)
    keys = keys.filter(bools(found))
    stored = [c.filter(bools(found)) for c in stored]
    _, current = lookup(table.rows, keys)
    n = len(table.rows.types)
    columns = [stored[0], *stored[1 : 1 + n], *current, *stored[1 + 2 * n :]]
    conflicts = art.conflicts.edit(keys, columns, np.zeros(len(keys), bool))
    return table.with_artifacts(Artifacts(conflicts, art.violations).store(nodes))
