"""DELETE: ``SELECT key (whole row when keyless) FROM t WHERE ...``, removed by
``Table.delete``; a DELETE without WHERE, USING, ORDER or LIMIT empties the table.
DELETE of ``dolt_conflicts_<t>`` is conflicts.py's.
"""

from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

from .common import (
    Params,
    emptied,
    encoded_keys,
    first_of_each,
    put,
    refuse_returning,
    run_query,
    with_sources,
    write_target,
)
from .conflicts import delete_conflicts

__all__ = ["delete"]


def delete(session, tree: exp.Delete, params: Params) -> int:
    refuse_returning(tree)
    target = tree.this
    if isinstance(target, exp.Table) and target.name.lower().startswith("dolt_conflicts_"):
        return delete_conflicts(session, tree, params)
    name, table = write_target(session, target, "delete from")
    schema = table.schema
    if not any(tree.args.get(a) for a in ("where", "using", "limit", "order")):
        count = table.count()
        put(session, name, emptied(session, table))
        return count
    alias = target.alias_or_name
    wanted = schema.primary_key or tuple(schema.column_names)
    select = exp.select(*[exp.column(k, table=alias, quoted=True) for k in wanted])
    select = select.from_(target.copy())
    select = with_sources(tree, select, "using")
    for arg in ("where", "order", "limit"):
        if tree.args.get(arg) is not None:
            select.set(arg, tree.args[arg].copy())
    data = run_query(session, select, params, owned=True).rename_columns(list(wanted))
    if data.num_rows == 0:
        return 0
    if tree.args.get("using") and not schema.is_keyless:
        data = data.take(pa.array(first_of_each(encoded_keys(schema, data))))
    put(session, name, table.delete(data))
    return data.num_rows
