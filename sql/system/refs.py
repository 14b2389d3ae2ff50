"""Branches, tags and the session's working state as relations.

    dolt_branches      name, hash, latest_committer, latest_committer_email,
                       latest_commit_date, latest_commit_message, remote, branch, dirty
    dolt_tags          tag_name, tag_hash, tagger, email, date, message
    dolt_status        table_name, staged, status
    dolt_status_ignored   the same, with the new tables dolt_ignore leaves unstaged, and
                       ignored (true for those)
    dolt_ignore        pattern, ignored: read before its first INSERT, no rows
    dolt_merge_status  is_merging, source, source_commit, target, unmerged_tables
    dolt_branch_status('base', 'rev', ...)   branch, commits_ahead, commits_behind:
                       per ``rev`` as written, the commits it reaches that ``base``
                       does not, and the reverse (Dolt's table function)

``remote`` and ``branch`` name the branch's upstream (set by ``dolt_push -u`` or
a clone), empty when it has none. ``dirty`` is true when a branch's working root
differs from its head; for the session's own branch it is read from the session,
whose working root may hold changes not yet committed with SQL COMMIT.
``tag_hash`` is the hash of the tagged commit. ``dolt_status`` lists staged
changes, then unstaged ones, then tables with conflicts, schema conflicts or
constraint violations; status is one of 'new table', 'modified', 'deleted',
'renamed', 'conflict', 'schema conflict', 'constraint violation'.
``unmerged_tables`` is the sorted, comma-separated list of tables with any of
the last three.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from arbordb.engine.arrow_arrays import values_array
from arbordb.engine.history import ahead_behind, branch_ref
from arbordb.engine.remote.config import upstreams

from .common import HASH, SystemContext, commit_of, hash_text, hashes, text_args, times
from .conflicts import session_schema_conflicts

_UNMERGED = ("conflict", "schema conflict", "constraint violation")


def branches_table(ctx: SystemContext) -> pa.Table:
    infos = ctx.db.branches()
    dirty = [
        ctx.workspace.dirty if b.name == ctx.branch else ctx.db.workspace(b.name).dirty
        for b in infos
    ]
    ups = upstreams(ctx.db.store)
    return pa.table(
        {
            "name": values_array([b.name for b in infos], pa.string()),
            "hash": hashes([b.hash for b in infos]),
            "latest_committer": values_array([b.commit.author for b in infos], pa.string()),
            "latest_committer_email": values_array([b.commit.email for b in infos], pa.string()),
            "latest_commit_date": times([b.commit.timestamp for b in infos]),
            "latest_commit_message": values_array([b.commit.message for b in infos], pa.string()),
            "remote": values_array([ups.get(b.name, ("", ""))[0] for b in infos], pa.string()),
            "branch": values_array([ups.get(b.name, ("", ""))[1] for b in infos], pa.string()),
            "dirty": values_array(dirty, pa.bool_()),
        }
    )


def tags_table(ctx: SystemContext) -> pa.Table:
    tags = ctx.db.tags()
    return pa.table(
        {
            "tag_name": values_array([name for name, _ in tags], pa.string()),
            "tag_hash": hashes([t.target for _, t in tags]),
            "tagger": values_array([t.tagger for _, t in tags], pa.string()),
            "email": values_array([t.email for _, t in tags], pa.string()),
            "date": times([t.timestamp for _, t in tags]),
            "message": values_array([t.message for _, t in tags], pa.string()),
        }
    )


def _status_rows(ctx: SystemContext, *, ignored: bool = False) -> list[tuple[str, bool, str]]:
    rows = [(s.table, s.staged, s.status) for s in ctx.workspace.status(ignored=ignored)]
    rows += [(c.table, False, "schema conflict") for c in session_schema_conflicts(ctx)]
    return rows


def status_table(ctx: SystemContext) -> pa.Table:
    rows = _status_rows(ctx)
    return pa.table(
        {
            "table_name": values_array([r[0] for r in rows], pa.string()),
            "staged": values_array([r[1] for r in rows], pa.bool_()),
            "status": values_array([r[2] for r in rows], pa.string()),
        }
    )


def status_ignored_table(ctx: SystemContext) -> pa.Table:
    """dolt_status with the new tables dolt_ignore leaves unstaged, and ``ignored``."""
    rows = _status_rows(ctx, ignored=True)
    hidden = ctx.workspace.ignored_new_tables()
    return pa.table(
        {
            "table_name": values_array([r[0] for r in rows], pa.string()),
            "staged": values_array([r[1] for r in rows], pa.bool_()),
            "status": values_array([r[2] for r in rows], pa.string()),
            "ignored": values_array([not r[1] and r[0] in hidden for r in rows], pa.bool_()),
        }
    )


def ignore_table_before_insert(_ctx: SystemContext) -> pa.Table:
    """``dolt_ignore`` read before any pattern is inserted: no rows, Dolt's columns."""
    return pa.table(
        {"pattern": values_array([], pa.string()), "ignored": values_array([], pa.bool_())}
    )


def merge_status_table(ctx: SystemContext) -> pa.Table:
    merge = ctx.workspace.merge
    if merge is None:
        values: list[object] = [False, None, None, None, None]
    else:
        unmerged = sorted({t for t, _, s in _status_rows(ctx) if s in _UNMERGED})
        values = [
            True,
            merge.theirs_label or hash_text(merge.theirs),
            hash_text(merge.theirs),
            branch_ref(ctx.branch),
            ", ".join(unmerged),
        ]
    names = ["is_merging", "source", "source_commit", "target", "unmerged_tables"]
    types = [pa.bool_(), pa.string(), HASH, pa.string(), pa.string()]
    return pa.table([values_array([v], t) for v, t in zip(values, types, strict=True)], names=names)


def branch_status_function(ctx: SystemContext, args: Sequence[object] | None) -> pa.Table:
    usage = "dolt_branch_status('base', 'branch' [, 'branch' ...])"
    values = text_args("dolt_branch_status", args, 1, max(1, len(args or ())), usage)
    base = commit_of(ctx, values[0])
    counts = [ahead_behind(ctx.workspace.loader, base, commit_of(ctx, v)) for v in values[1:]]
    return pa.table(
        {
            "branch": values_array(values[1:], pa.string()),
            "commits_ahead": values_array([a for a, _ in counts], pa.uint64()),
            "commits_behind": values_array([b for _, b in counts], pa.uint64()),
        }
    )
