"""Dolt's remote procedures, thin over ``arbordb.engine.remote`` (STYLE G12).

    PROCEDURE     ARGUMENTS                                          RESULT COLUMNS
    dolt_remote   'add', name, url | 'remove' / 'rm', name            status
    dolt_clone    [-b branch] [--remote name] url [directory]         status
    dolt_fetch    [remote] [branch...] [--prune]                      status
    dolt_push     [-u | --set-upstream] [-f | --force] [--all]        status, message
                  [--tags] [remote] [branch | tag | :branch]
    dolt_pull     [--ff-only] [remote] [branch]                       fast_forward, conflicts,
                                                                      message

A branch with an upstream (``dolt_push('-u', ...)``, or a clone's checked-out
branch) pushes and pulls with no arguments. ``dolt_clone`` makes a new repository
in ``directory`` (default: the URL's last path part, in the current directory);
the session stays on its own repository. ``dolt_pull`` merges like ``dolt_merge``:
conflicts stay in the working set, and a dirty working set is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa

from arbordb.engine.db import Database
from arbordb.engine.history.refs import BRANCH_PREFIX, TAG_PREFIX
from arbordb.engine.remote import config, sync
from arbordb.engine.remote.sync import gc_remote, reporting

from ..errors import ProgrammingError
from .verbs import ProcedureContext, _merge_row, _parse, _persist, _status


def dolt_remote(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    if not args:
        raise ProgrammingError("dolt_remote: say 'add' NAME URL or 'remove' NAME")
    verb, rest = args[0].lower(), list(args[1:])
    store = session.db.store
    if verb == "add" and len(rest) == 2:
        config.add_remote(store, rest[0], rest[1])
    elif verb in ("remove", "rm") and len(rest) == 1:
        config.remove_remote(store, rest[0])
    else:
        raise ProgrammingError(
            f"dolt_remote: cannot read {list(args)!r}; use dolt_remote('add', 'origin', URL) "
            "or dolt_remote('remove', 'origin')"
        )
    return _status()


def dolt_clone(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    spelled = {"-b": "branch", "--branch": "branch", "--remote": "remote"}
    parsed = _parse("dolt_clone", args, spelled, {"branch", "remote"})
    if not 1 <= len(parsed.positional) <= 2:
        raise ProgrammingError("dolt_clone takes a URL and, optionally, a directory")
    url = parsed.positional[0]
    name = parsed.positional[1] if len(parsed.positional) == 2 else _last_part(url)
    directory = Path(name)
    sync.clone_into(
        directory,
        Database.store_at,
        url,
        branch=parsed.value("branch"),
        remote_name=parsed.value("remote") or "origin",
    )
    return _status()


def _last_part(url: str) -> str:
    part = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    if not part:
        raise ProgrammingError(f"dolt_clone: cannot name a directory after {url!r}; give one")
    return part


def dolt_fetch(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    parsed = _parse("dolt_fetch", args, {"--prune": "prune", "-p": "prune"}, set())
    names = parsed.positional
    remote = (
        names[0] if names else sync.upstream_of(session.db.store, session.branch, None, None)[0]
    )
    sync.fetch(session.db.store, remote, names[1:], prune=bool(parsed.flags.get("prune")))
    return _status()


def dolt_push(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    spelled = {
        "-u": "upstream", "--set-upstream": "upstream", "-f": "force", "--force": "force",
        "--all": "all", "--tags": "tags",
    }  # fmt: skip
    parsed = _parse("dolt_push", args, spelled, set())
    store = session.db.store
    names = parsed.positional
    if len(names) > 2:
        raise ProgrammingError("dolt_push takes at most a remote and a branch or tag")
    remote, target = sync.upstream_of(store, session.branch, names[0] if names else None, None)
    pairs: list[tuple[str | None, str]]
    if parsed.flags.get("all") or parsed.flags.get("tags"):
        pairs = []
        if parsed.flags.get("all"):
            pairs += [(BRANCH_PREFIX + b,) * 2 for b in session.db.refs.branches()]
        if parsed.flags.get("tags"):
            pairs += [(TAG_PREFIX + t,) * 2 for t in session.db.refs.tags()]
    elif len(names) == 2 and names[1].startswith(":"):
        pairs = [(None, BRANCH_PREFIX + names[1][1:])]  # git's refspec :branch deletes it
    elif (
        len(names) == 2
        and store.get_ref(BRANCH_PREFIX + names[1]) is None
        and store.get_ref(TAG_PREFIX + names[1]) is not None
    ):
        pairs = [(TAG_PREFIX + names[1],) * 2]
    else:
        local = names[1] if len(names) == 2 else session.branch
        target = local if len(names) == 2 else target
        pairs = [(BRANCH_PREFIX + local, BRANCH_PREFIX + target)]
    pushed = sync.push(store, remote, pairs, force=bool(parsed.flags.get("force")))
    if parsed.flags.get("upstream"):
        for p in pushed:
            if p.local is not None and p.local.startswith(BRANCH_PREFIX):
                config.set_upstream(
                    store, p.local[len(BRANCH_PREFIX) :], remote, p.remote_ref[len(BRANCH_PREFIX) :]
                )
    moved = [p for p in pushed if p.old != p.new]
    lines = [
        f"{_short(p.local)} -> {_short(p.remote_ref)}"
        if p.local
        else f"- [deleted] {_short(p.remote_ref)}"
        for p in moved
    ]
    message = "\n".join(lines) or "Everything up-to-date"
    return pa.table(
        {"status": pa.array([0], pa.int64()), "message": pa.array([message], pa.string())}
    )


def _short(ref: str) -> str:
    return ref.removeprefix(BRANCH_PREFIX).removeprefix(TAG_PREFIX)


def dolt_pull(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    parsed = _parse("dolt_pull", args, {"--ff-only": "ff_only"}, set())
    names = parsed.positional
    if len(names) > 2:
        raise ProgrammingError("dolt_pull takes at most a remote and a branch")
    session.wrote()
    outcome = sync.pull(
        session.workspace,
        names[0] if names else None,
        names[1] if len(names) == 2 else None,
        ff_only=bool(parsed.flags.get("ff_only")),
    )
    _persist(session)
    table = _merge_row("", outcome.fast_forward, outcome.conflicts, outcome.message)
    return table.drop_columns(["hash"])


__all__ = ["PROCEDURES", "gc_remote", "reporting"]

PROCEDURES = {
    "dolt_remote": dolt_remote,
    "dolt_clone": dolt_clone,
    "dolt_fetch": dolt_fetch,
    "dolt_push": dolt_push,
    "dolt_pull": dolt_pull,
}
