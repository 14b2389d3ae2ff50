"""Dolt's procedures for uncommitted work: ``dolt_stash`` and ``dolt_clean``.

Thin over the engine (engine/stashes.py, engine/clean.py), reading arguments with
verbs.py's helpers:

    PROCEDURE    ARGUMENTS                                          RESULT COLUMNS
    dolt_stash   'push', name [-u | --include-untracked | -a]       status, message
                 'pop' | 'drop', name [stash@{N} | N]
                 'clear', name
    dolt_clean   [--dry-run] [tables...]                            status, message

``dolt_stash('push')`` and ``('pop')`` persist the session's working set with the
entry they add or remove, in one write; ``status`` is 1 (and nothing is written) when
``push`` finds no local changes to save, as Dolt's CLI then says "No local changes to
save". ``message`` says what was done, in Dolt's words ("Saved working directory and
index state WIP on refs/heads/main: <hash> <subject>", "Dropped refs/stash@{0}
(<hash>)"); ``dolt_clean``'s lists the tables removed (or, with --dry-run, that would
be). List stashes with the ``dolt_stashes`` system table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyarrow as pa

from arbordb.engine import clean, stashes
from arbordb.engine.hash import format_address

from ..errors import ProgrammingError
from .verbs import _parse

_SUBCOMMANDS = ("push", "pop", "drop", "clear")


def _row(status: int, message: str) -> pa.Table:
    return pa.table(
        {"status": pa.array([status], pa.int64()), "message": pa.array([message], pa.string())}
    )


def dolt_stash(session, args: Sequence[str]) -> pa.Table:
    spelled = {"-u": "untracked", "--include-untracked": "untracked", "-a": "all", "--all": "all"}
    parsed = _parse("dolt_stash", args, spelled, set())
    words = parsed.positional
    if not words or words[0].lower() not in _SUBCOMMANDS:
        raise ProgrammingError(
            "dolt_stash takes a subcommand and a stash name: dolt_stash('push', 'name'), "
            "('pop', 'name' [, 'stash@{N}']), ('drop', 'name' [, 'stash@{N}']) or "
            "('clear', 'name'); list stashes with SELECT * FROM dolt_stashes"
        )
    command = words[0].lower()
    if len(words) < 2:
        raise ProgrammingError(f"dolt_stash('{command}') needs a stash name, e.g. 'dolt-cli'")
    name, rest = words[1], words[2:]
    stashes.check_stash_name(name)
    if len(rest) > (1 if command in ("pop", "drop") else 0):
        raise ProgrammingError(f"dolt_stash('{command}', name) got extra arguments {rest!r}")
    if parsed.flags and command != "push":
        raise ProgrammingError(f"dolt_stash('{command}'): -u / -a apply to 'push' only")
    stash_id = rest[0] if rest else None
    ws = session.workspace
    if command == "push":
        session.wrote()
        try:
            saved = stashes.push(ws, name, include_untracked=bool(parsed.flags))
        except stashes.NothingToStash as exc:
            return _row(1, str(exc))
        session.persisted()
        return _row(0, f"Saved working directory and index state {saved.description}")
    if command == "pop":
        session.wrote()
        stashes.find_stash(session.db.store, name, stash_id)  # refuse a bad id first
        popped = stashes.pop(ws, name, stash_id)
        session.persisted()
        return _row(0, f"Dropped refs/stash@{{{popped.index}}} ({format_address(popped.address)})")
    session.check_writable()
    if command == "drop":
        dropped = stashes.drop(session.db.store, name, stash_id)
        return _row(
            0, f"Dropped refs/stash@{{{dropped.index}}} ({format_address(dropped.address)})"
        )
    count = stashes.clear(session.db.store, name)
    return _row(0, f"Cleared {count} stash entr{'y' if count == 1 else 'ies'} of {name!r}")


def dolt_clean(session, args: Sequence[str]) -> pa.Table:
    parsed = _parse("dolt_clean", args, {"--dry-run": "dry_run"}, set())
    dry_run = bool(parsed.flags.get("dry_run"))
    if not dry_run:
        session.wrote()
    removed = clean.clean(session.workspace, parsed.positional, dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    return _row(0, f"{verb} {', '.join(removed)}" if removed else "Nothing to clean")


PROCEDURES: dict[str, Callable[..., pa.Table]] = {
    "dolt_stash": dolt_stash,
    "dolt_clean": dolt_clean,
}
