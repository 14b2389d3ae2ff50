"""Content hashes users can quote: ``dolt_hashof_table`` and ``dolt_hashof_db``.

    dolt_hashof_table(table [, revision])   the table's address: the hash of its
                                            header chunk (schema, rows, indexes)
    dolt_hashof_db([revision])              the root value's address: every table's
                                            name and address

Without a revision both read the session's working root (uncommitted changes
included, as Dolt's do); a revision is anything ``AS OF`` takes (branch, tag,
hash, ``HEAD~N``, ``WORKING``, ``STAGED``). The table header carries no table
name, and trees and header are history-independent (engine/table/table.py
invariant (2)), so a table's hash is equal whenever its schema and rows are,
whatever edits produced them; any cell change changes it. The hash is the
32-character text form of a commit hash (engine/hash.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from arbordb.engine.errors import TableNotFound
from arbordb.engine.hash import format_address
from arbordb.engine.root import RootValue

from .common import SystemContext, text_args

__all__ = ["hashof_db", "hashof_table", "table_hash"]


def _root(ctx: SystemContext, revision: str | None) -> tuple[RootValue, str]:
    ws = ctx.workspace
    if revision is None:
        return ws.working, f" on branch {ctx.branch!r}"
    return ws.root_at(revision), f" at revision {revision!r}"


def table_hash(ctx: SystemContext, table: str, revision: str | None = None) -> str:
    """The address of ``table`` at ``revision`` (default: the working root), as text.

    Raises:
        TableNotFound: the root has no such table.
        RevisionNotFound: the revision names nothing.
    """
    root, where = _root(ctx, revision)
    found = root.find(table)
    if found is None:
        raise TableNotFound(root.missing_message(table, where))
    return format_address(root[found])


def hashof_table(ctx: SystemContext, args: Sequence[object]) -> str:
    values = text_args("dolt_hashof_table", args, 1, 2, "dolt_hashof_table('table' [, 'revision'])")
    return table_hash(ctx, values[0], values[1] if len(values) == 2 else None)


def hashof_db(ctx: SystemContext, args: Sequence[object]) -> str:
    values = text_args("dolt_hashof_db", args, 0, 1, "dolt_hashof_db(['revision'])")
    root, _ = _root(ctx, values[0] if values else None)
    return format_address(root.address)
