"""Stashes and the reflog as relations.

    dolt_stashes           name, stash_id, branch, hash, commit_message
    dolt_reflog([ref])     ref, ref_timestamp, commit_hash, commit_message
    dolt_reflog('--all')

``dolt_stashes`` lists every stash entry (engine/stashes.py), newest first within
each stash name: ``name`` is the stash (``dolt-cli`` for the command line),
``stash_id`` is ``stash@{N}``, ``branch`` the branch it was made on, ``hash`` and
``commit_message`` that branch's HEAD then (the commit ``pop`` merges against).

``dolt_reflog()`` lists every move of a branch or tag (engine/history/reflog.py),
newest first: ``ref`` is the full ref name (``refs/heads/main``), ``commit_hash`` the
commit it moved to (a tag's commit), ``ref_timestamp`` when. With a name, only that
ref's moves (``main``, ``v1``, ``HEAD`` for the session's branch, or a full name; a
deleted branch's moves stay listed);
``--all`` adds remote-tracking refs.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from arbordb.engine import stashes
from arbordb.engine.arrow_arrays import values_array
from arbordb.engine.errors import InvalidInput
from arbordb.engine.history import peel
from arbordb.engine.history.reflog import reflog_ref
from arbordb.engine.history.refs import REMOTE_PREFIX

from .common import HASH, SystemContext, hashes, text_args, times

_USAGE = "dolt_reflog(), dolt_reflog('main') or dolt_reflog('--all')"


def stashes_table(ctx: SystemContext) -> pa.Table:
    entries = stashes.list_stashes(ctx.db.store)
    return pa.table(
        {
            "name": values_array([s.name for s in entries], pa.string()),
            "stash_id": values_array([s.stash_id for s in entries], pa.string()),
            "branch": values_array([s.entry.branch for s in entries], pa.string()),
            "hash": hashes([s.entry.head for s in entries]),
            "commit_message": values_array([s.entry.message for s in entries], pa.string()),
        }
    )


def reflog_function(ctx: SystemContext, args: Sequence[object] | None) -> pa.Table:
    values = text_args("dolt_reflog", args, 0, 1, _USAGE)
    show_all = values == ["--all"]
    if values and not show_all and values[0].startswith("-"):
        raise InvalidInput(f"dolt_reflog(): unknown option {values[0]!r}; call it as {_USAGE}")
    if values and not show_all:
        name = f"refs/heads/{ctx.branch}" if values[0].upper() == "HEAD" else values[0]
        entries = ctx.db.reflog([reflog_ref(ctx.db.store, name)])
    else:
        entries = [e for e in ctx.db.reflog() if show_all or not e.ref.startswith(REMOTE_PREFIX)]
    commits = [peel(ctx.db.store, e.address) for e in entries]
    return pa.table(
        {
            "ref": values_array([e.ref for e in entries], pa.string()),
            "ref_timestamp": times([e.timestamp for e in entries]),
            "commit_hash": hashes(commits),
            "commit_message": values_array(
                [ctx.db.commit(c).message for c in commits], pa.string()
            ),
        },
        schema=pa.schema(
            [
                ("ref", pa.string()),
                ("ref_timestamp", pa.timestamp("us")),
                ("commit_hash", HASH),
                ("commit_message", pa.string()),
            ]
        ),
    )
