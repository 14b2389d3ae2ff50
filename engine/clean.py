"""Untracked tables and Dolt's ``clean`` (``dolt clean``, ``dolt_clean()``).

A table is untracked when it is in the working set only: neither staged nor in
HEAD (a table created and never added). ``clean`` drops untracked tables from the
working set: all of them, or the ones named, each of which must be untracked (a
tracked one is refused, naming the verb that discards its changes instead).
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import InvalidInput, TableNotFound
from .workspace import Workspace


def untracked_tables(ws: Workspace) -> list[str]:
    """Tables in the working set that are neither staged nor in HEAD, sorted."""
    head = ws.head_root
    return sorted(t for t in ws.working if ws.staged.find(t) is None and head.find(t) is None)


def clean(ws: Workspace, tables: Sequence[str] = (), *, dry_run: bool = False) -> list[str]:
    """Drop untracked ``tables`` (default: every untracked table) from the working set;
    with ``dry_run`` only say which. Changes the workspace, does not persist.

    Raises:
        TableNotFound: a named table is not in the working set.
        InvalidInput: a named table is tracked (staged or committed).
    """
    untracked = untracked_tables(ws)
    chosen = untracked if not tables else []
    for name in dict.fromkeys(tables):
        found = ws.working.find(name)
        if found is None:
            raise TableNotFound(ws.working.missing_message(name, f" on branch {ws.branch!r}"))
        if found not in untracked:
            raise InvalidInput(
                f"table {found!r} is tracked (staged or committed), and clean removes only "
                f"untracked tables; discard its changes with `arbor checkout {found}` / "
                f"dolt_checkout('{found}'), or drop it with DROP TABLE"
            )
        chosen.append(found)
    if not dry_run:
        working = ws.working
        for name in chosen:
            working = working.without_table(name)
        ws.working = working
    return chosen
