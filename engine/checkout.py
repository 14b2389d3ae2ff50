"""Switching branches the way Dolt's command line does: uncommitted changes move along.

``dolt_checkout`` in SQL leaves a branch's changes on it (each connection has its
own branch, so moving changes would disturb others); Dolt's CLI ``dolt checkout``
carries them to the branch it switches to, as git does (the procedure's ``--move``).
``move_changes`` is that, implemented once for the CLI, ``dolt_checkout('--move')``
and ``Repo.checkout(move=True)``:

- The changed tables are those whose working or staged version differs from HEAD's.
  They are carried when the target's HEAD has each of them exactly as the current
  HEAD has it (so nothing the target committed is overwritten); otherwise the switch
  is refused, naming the tables (Dolt's "Your local changes to the following tables
  would be overwritten by checkout"), and nothing changes.
- A target with uncommitted changes of its own refuses a non-empty carry.
- ``force`` (``checkout -f``) discards the changes instead and switches.
- The source's working set is reset to its HEAD and the target's written in ONE write
  (``Workspace.persist`` with the target's refs as extra compare-and-swaps).
"""

from __future__ import annotations

from .chunks.store import RefUpdate
from .errors import DirtyWorkingSet, MergeInProgress
from .history import WorkingSet, branch_ref, encode_working_set, working_set_ref
from .root import RootValue
from .workspace import Workspace


def changed_tables(ws: Workspace) -> list[str]:
    """Tables whose working or staged version differs from HEAD's."""
    head = ws.head_root
    names = set(head) | set(ws.working) | set(ws.staged)
    return sorted(
        t for t in names if ws.working.get(t) != head.get(t) or ws.staged.get(t) != head.get(t)
    )


def carry_conflicts(ws: Workspace, target_head: RootValue) -> list[str]:
    """Changed tables that the target's HEAD has otherwise than this HEAD (not carried)."""
    head = ws.head_root
    return [t for t in changed_tables(ws) if target_head.get(t) != head.get(t)]


def refuse_conflicting_carry(ws: Workspace, target_head: RootValue, target: str) -> None:
    """Raise MergeInProgress during a merge, or DirtyWorkingSet naming the changed tables
    a switch to ``target``, whose HEAD root is ``target_head``, would overwrite."""
    if ws.merge is not None:
        raise MergeInProgress(
            f"cannot switch to {target!r} during a merge (commit it after resolving "
            "conflicts, abort it with `arbor merge --abort`, or discard it with -f)"
        )
    conflicts = carry_conflicts(ws, target_head)
    if conflicts:
        raise DirtyWorkingSet(
            "Your local changes to the following tables would be overwritten by checkout: "
            f"{', '.join(conflicts)} (commit them, stash them with `arbor stash`, or "
            f"discard them with -f); nothing was changed and you are still on {ws.branch!r}"
        )


def move_changes(ws: Workspace, other: Workspace, *, force: bool = False) -> None:
    """Carry ``ws``'s uncommitted changes to ``other``'s branch (or, with ``force``,
    discard them), persisting both working sets in one write; the caller then switches
    to a fresh workspace of that branch (``other`` is stale afterwards).

    Raises:
        MergeInProgress: a merge is in progress here (without ``force``).
        DirtyWorkingSet: a changed table differs on the target's HEAD, or the target
            has uncommitted changes of its own (without ``force``); nothing changed.
    """
    target = other.branch
    changed = changed_tables(ws)
    if not changed and ws.merge is None:
        return
    head = ws.head_root
    if force:
        ws.working, ws.staged, ws.merge = head, head, None
        ws.persist()
        return
    refuse_conflicting_carry(ws, other.head_root, target)
    if other.dirty or other.staged.address != other.head_root.address:
        raise DirtyWorkingSet(
            f"branch {target!r} has uncommitted changes of its own; carrying this branch's "
            f"changes ({', '.join(changed)}) there would mix them (commit or stash them "
            "first, or use -f to discard this branch's changes)"
        )
    working, staged = (
        other.head_root.with_tables_of(ws.working, changed),
        other.head_root.with_tables_of(ws.staged, changed),
    )
    ws.nodes.write([working.encode(), staged.encode()])
    (target_ws,) = ws.nodes.write(
        [encode_working_set(WorkingSet(working=working.address, staged=staged.address))]
    )
    before = (ws.working, ws.staged)
    ws.working, ws.staged = head, head
    try:
        ws.persist(
            extra=[
                RefUpdate(working_set_ref(target), other.ws_address, target_ws),
                RefUpdate(branch_ref(target), other.head, other.head),  # still there
            ]
        )
    except Exception:
        ws.working, ws.staged = before
        raise
