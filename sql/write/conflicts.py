"""Writes to ``dolt_conflicts_<t>``: they resolve merge conflicts, as in Dolt.

``DELETE`` accepts our row for the deleted conflicts (they are removed); once a table
has none left it is staged, as ``dolt_conflicts_resolve`` stages it (engine/workspace/state.py
invariant (5)). ``UPDATE`` of ``our_<column>`` columns writes those values to the table's
row, which the conflict then shows as ours (it stays until deleted or resolved).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from arbordb.engine.table import Table
from arbordb.engine.versioning.merge import refresh_our_rows, resolve_table_conflicts

from ..errors import ProgrammingError
from ..parse.dialect import quote_identifier
from ..read import reads
from .common import Params, WriteContext, cast_to, check_constraints, find_column, put, write_target

__all__ = ["delete_conflicts", "update_conflicts"]


def _conflict_target(
    session: WriteContext, node: exp.Table
) -> tuple[str, Table, pa.BinaryArray, pa.Table]:
    from ..system.conflicts import conflict_rows

    base = node.name[len("dolt_conflicts_") :]
    name, table = write_target(session, exp.to_table(base), "resolve conflicts of")
    keys, rows = conflict_rows(session, name)
    return name, table, keys, rows


def _conflict_select(session: WriteContext, tree, node, rows: pa.Table, items, params) -> pa.Table:
    relation = session.relations.scratch(rows, node.name)
    alias = node.alias_or_name
    select = exp.select(*items).from_(f"{relation} AS {quote_identifier(alias)}")
    if tree.args.get("where") is not None:
        select.set("where", tree.args["where"].copy())
    bound = reads.bind(reads.compile_query(select), session, params)
    return session.query_arrow(bound.sql, bound.params)


def delete_conflicts(session: WriteContext, tree: exp.Delete, params: Params) -> int:
    """DELETE FROM dolt_conflicts_<t>: keep our rows for those conflicts (Dolt)."""
    name, table, keys, rows = _conflict_target(session, tree.this)
    ids = _conflict_select(session, tree, tree.this, rows, [exp.column("dolt_conflict_id")], params)
    chosen = pc.is_in(rows.column("dolt_conflict_id"), value_set=ids.column(0))
    selected = keys.filter(chosen)
    if len(selected) == 0:
        return 0
    resolved = resolve_table_conflicts(session.workspace.nodes, table, "ours", selected)
    session.wrote()
    session.workspace.put_resolved(name, resolved)
    return len(selected)


def update_conflicts(session: WriteContext, tree: exp.Update, params: Params) -> int:
    """UPDATE dolt_conflicts_<t> SET our_<c> = ...: write those values to the table's rows."""
    name, table, keys, rows = _conflict_target(session, tree.this)
    schema = table.schema
    sets: dict[str, exp.Expr] = {}
    for assignment in tree.expressions:
        target = assignment.this.name
        if not target.lower().startswith("our_"):
            raise ProgrammingError(
                f"only our_<column> columns of dolt_conflicts_{name} can be updated, not {target!r}"
            )
        column = find_column(schema, target[len("our_") :])
        if column.name in schema.primary_key:
            raise ProgrammingError(f"the key column our_{column.name} of a conflict cannot change")
        sets[column.name] = assignment.expression.copy()
    items = [
        exp.alias_(
            cast_to(sets.get(c.name, exp.column(f"our_{c.name}", quoted=True)), c),
            c.name,
            quoted=True,
        )
        for c in schema.columns
    ]
    items.append(exp.column("our_diff_type"))
    items.append(exp.column("dolt_conflict_id"))
    data = _conflict_select(session, tree, tree.this, rows, items, params)
    alive = pc.not_equal(data.column("our_diff_type"), "removed")
    data = data.filter(alive)
    chosen = pc.is_in(rows.column("dolt_conflict_id"), value_set=data.column("dolt_conflict_id"))
    data = data.drop_columns(["our_diff_type", "dolt_conflict_id"])
    if data.num_rows:
        check_constraints(session, schema, data)
        updated = table.upsert(data)
        put(session, name, refresh_our_rows(session.workspace.nodes, updated, keys.filter(chosen)))
    return data.num_rows
