"""UPDATE: ``SELECT old key, new values FROM t WHERE ...``, applied by ``Table.apply``.

The old key (the whole old row when the table is keyless) names the row each new row
replaces; with ``UPDATE ... FROM`` the first match of each key wins. ``executemany``
of ``UPDATE t SET ... WHERE <pk> = ?`` with distinct keys runs as one batch
(``update_many``). UPDATE of ``dolt_conflicts_<t>`` is conflicts.py's.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
from sqlglot import exp

from arbordb.engine.table import Schema

from ..errors import ProgrammingError
from ..parse.dialect import to_duckdb
from ..parse.holes import param_index
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
    with_sources,
    write_target,
)
from .conflicts import update_conflicts

__all__ = ["update", "update_many"]


def update(session: WriteContext, tree: exp.Update, params: Params) -> int:
    refuse_returning(tree)
    target = tree.this
    if isinstance(target, exp.Table) and target.name.lower().startswith("dolt_conflicts_"):
        return update_conflicts(session, tree, params)
    name, table = write_target(session, target, "update")
    schema = table.schema
    alias = target.alias_or_name
    sets: dict[str, exp.Expr] = {}
    for assignment in tree.expressions:
        _check_assignment(name, assignment)
        column = find_column(schema, assignment.this.name)
        if column.name in sets:
            raise ProgrammingError(f"UPDATE of {name!r} sets column {column.name!r} twice")
        value = assignment.expression
        sets[column.name] = default_expr(column) if is_default(value) else value.copy()
    old = schema.primary_key if not schema.is_keyless else tuple(c.name for c in schema.columns)
    items = [
        exp.alias_(exp.column(k, table=alias, quoted=True), f"__arbor_old_{i}", quoted=True)
        for i, k in enumerate(old)
    ]
    items += full_row(
        schema,
        {
            c.name: sets.get(c.name, exp.column(c.name, table=alias, quoted=True))
            for c in schema.columns
        },
    )
    select = exp.select(*items).from_(target.copy())
    select = with_sources(tree, select, "from_")
    for arg in ("where", "order", "limit"):
        if tree.args.get(arg) is not None:
            select.set(arg, tree.args[arg].copy())
    data = run_query(session, select, params, owned=True)  # built above, from copies
    if data.num_rows == 0:
        return 0
    before = data.select(list(range(len(old)))).rename_columns(list(old))
    after = data.select(list(range(len(old), data.num_columns))).rename_columns(schema.column_names)
    if tree.args.get("from_") and not schema.is_keyless:
        keep = pa.array(table.first_of_each_key(before))
        before, after = before.take(keep), after.take(keep)
    check_constraints(session, schema, after)
    if schema.is_keyless:
        put(session, name, table.apply(after, before))
    elif any(k in sets for k in schema.primary_key):
        put(session, name, table.apply(after, before, replace=False))
    else:
        put(session, name, table.apply(after, None, replace=True))
    return after.num_rows


def _check_assignment(name: str, assignment: exp.Expr) -> None:
    """Refuse a SET item that is not ``column = value``."""
    if not (
        isinstance(assignment, exp.EQ)
        and isinstance(assignment.this, exp.Column)
        and assignment.expression is not None
    ):
        raise ProgrammingError(
            f"UPDATE of {name!r}: each SET item is column = value, as in SET v = 'x'"
        )


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
        index = param_index(value)
        if name is None or name in found or index is None:
            return None
        found[name] = index
    return found if len(found) == len(schema.primary_key) else None


def update_many(
    session: WriteContext, tree: exp.Update, rows: Sequence[Sequence[object]]
) -> int | None:
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
    name, table = write_target(session, target, "update")
    schema = table.schema
    if schema.is_keyless:
        return None
    keys_at = _pk_placeholders(tree, schema)
    if keys_at is None:
        return None
    sets: dict[str, exp.Expr] = {}
    for assignment in tree.expressions:
        _check_assignment(name, assignment)
        column = find_column(schema, assignment.this.name)
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

    def bind(node: exp.Expr) -> exp.Expr:
        index = param_index(node)
        if index is not None:
            return exp.column(f"__p{index}", table="__arbor_params")
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
        exp.select(*full_row(schema, given))
        .from_(exp.table_(rows_name, alias=alias))
        .join(exp.table_(params_name, alias="__arbor_params"), on=on)
    )
    after = session.query_arrow(to_duckdb(select))
    check_constraints(session, schema, after)
    put(session, name, table.apply(after, None, replace=True))
    return after.num_rows
