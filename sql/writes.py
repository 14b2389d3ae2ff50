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

``run`` sends each statement to its module: inserts.py, updates.py and deletes.py
(DML, with the one-batch ``executemany`` forms ``insert_many`` and ``update_many``),
conflict_writes.py (DML on ``dolt_conflicts_<t>``) and ddl.py (CREATE, DROP, ALTER);
write_common.py holds what they share. TRUNCATE is run here.
"""

from __future__ import annotations

from sqlglot import exp

from .ddl import alter, create, drop
from .deletes import delete
from .inserts import insert
from .updates import update
from .write_common import Params, emptied, put, write_target

__all__ = ["STATEMENTS", "run"]

STATEMENTS = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
)


def run(session, tree: exp.Expression, params: Params) -> int:
    """Run one DDL or DML statement; returns its row count (-1 for DDL, as PEP 249 asks
    for statements without one)."""
    if isinstance(tree, exp.Insert):
        return insert(session, tree, params)
    if isinstance(tree, exp.Update):
        return update(session, tree, params)
    if isinstance(tree, exp.Delete):
        return delete(session, tree, params)
    if isinstance(tree, exp.TruncateTable):
        for node in tree.expressions:
            name, table = write_target(session, node)
            put(session, name, emptied(session, table))
        return -1
    if isinstance(tree, exp.Create):
        create(session, tree, params)
    elif isinstance(tree, exp.Drop):
        drop(session, tree)
    else:
        alter(session, tree, params)
    return -1
