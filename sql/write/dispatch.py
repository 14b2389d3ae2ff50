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

``WRITERS`` maps each statement kind to the function that runs it (``writer_for``
finds it): insert.py, update.py and delete.py (DML), conflicts.py (DML on
``dolt_conflicts_<t>``, reached from those), ddl.py (CREATE, DROP, ALTER); TRUNCATE
is run here; common.py holds what they share. ``BATCH_WRITERS`` holds the one-batch
``executemany`` forms (``insert_many``, ``update_many``); ``write_many`` runs one, or
returns None when the statement must run once per parameter set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlglot import exp

from .common import Params, WriteContext, emptied, put, write_target
from .ddl import alter, create, drop
from .delete import delete
from .insert import can_insert_many, insert, insert_many
from .update import update, update_many

__all__ = ["BATCH_WRITERS", "WRITERS", "Writer", "write_many", "writer_for"]

# (session, statement, parameters) -> rows changed (-1 for DDL, as PEP 249 asks for
# statements without a row count)
Writer = Callable[[WriteContext, Any, Params], int]
# (session, statement, parameter sets) -> rows changed, or None: run it once per set
BatchWriter = Callable[[WriteContext, Any, Sequence[Params]], int | None]


def _truncate(session: WriteContext, tree: exp.TruncateTable, params: Params) -> int:
    for node in tree.expressions:
        name, table = write_target(session, node)
        put(session, name, emptied(session, table))
    return -1


def _create(session: WriteContext, tree: exp.Create, params: Params) -> int:
    create(session, tree, params)
    return -1


def _drop(session: WriteContext, tree: exp.Drop, params: Params) -> int:
    drop(session, tree)
    return -1


def _alter(session: WriteContext, tree: exp.Alter, params: Params) -> int:
    alter(session, tree, params)
    return -1


def _insert_batch(session: WriteContext, tree: exp.Insert, rows: Sequence[Params]) -> int | None:
    return insert_many(session, tree, rows) if can_insert_many(tree) else None


def _update_batch(session: WriteContext, tree: exp.Update, rows: Sequence[Params]) -> int | None:
    positional = [r for r in rows if not isinstance(r, Mapping)]
    if len(positional) != len(rows):  # named parameters: no key placeholders to batch on
        return None
    return update_many(session, tree, positional) if positional else None


WRITERS: dict[type[exp.Expr], Writer] = {
    exp.Insert: insert,
    exp.Update: update,
    exp.Delete: delete,
    exp.TruncateTable: _truncate,
    exp.Create: _create,
    exp.Drop: _drop,
    exp.Alter: _alter,
}

BATCH_WRITERS: dict[type[exp.Expr], BatchWriter] = {
    exp.Insert: _insert_batch,
    exp.Update: _update_batch,
}


def _kind_in(table: dict, tree: exp.Expr):
    for kind in type(tree).__mro__:  # a subclass of a statement kind is that kind
        found = table.get(kind)
        if found is not None:
            return found
    return None


def writer_for(tree: exp.Expr) -> Writer | None:
    """The function that runs ``tree``, or None when it is not DDL or DML."""
    return _kind_in(WRITERS, tree)


def write_many(session: WriteContext, tree: exp.Expr, rows: Sequence[Params]) -> int | None:
    """Run ``tree`` once for all ``rows`` in one batch and return its row count, or
    None when it has no batch form (the caller runs it once per parameter set)."""
    batch = _kind_in(BATCH_WRITERS, tree)
    return None if batch is None else batch(session, tree, rows)
