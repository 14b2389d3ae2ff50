"""Dolt's version-control procedures (``CALL dolt_commit('-am', 'msg')``), thin over the engine.

Each procedure reads its arguments as Dolt's command-line flags (short flags may be
combined, ``-Am msg``; a value follows its flag; ``--`` ends the flags) and returns
Dolt's result row. The verbs themselves are the engine's (``Workspace`` and
``Database``: STYLE G12, implemented once); the CLI calls ``call_procedure`` too.

    PROCEDURE               ARGUMENTS                                     RESULT COLUMNS
    dolt_add                tables... | '.' | -A                          status
    dolt_commit             -m msg, -a, -A, --allow-empty, --author        hash
                            "Name <email>", --date ISO-8601, --amend
    dolt_branch             name [start] | -c src dest | -m [old] new |   status
                            -d/-D names | -f
    dolt_checkout           branch [-f] [--move] | -b/-B new [start]      status, message
                            [--move] | [--] tables...
    dolt_merge              rev [--no-ff] [--no-commit] [--squash] [-m]   hash, fast_forward,
                            [--check group] | --abort                     conflicts, message
    dolt_reset              [--soft | --hard] [rev] | tables...           status
    dolt_revert             revs... [--author "Name <email>"]             status
    dolt_cherry_pick        rev | --abort                                 hash, data_conflicts,
                                                                          schema_conflicts,
                                                                          constraint_violations
    dolt_tag                name [rev] [-m msg] [--check group] | -d name status
    dolt_conflicts_resolve  --ours | --theirs | --combine, tables... | .  status
    dolt_gc                                                               status
    dolt_remote, dolt_clone, dolt_fetch, dolt_push, dolt_pull: see sql/procedures/remotes.py
    dolt_stash, dolt_clean: see sql/procedures/working.py

Transactions: verbs that move a branch or tag head (commit, merge, checkout of a
branch, branch, tag, reset, revert, cherry-pick, gc) persist the session's working set
as part of their work, as Dolt's do; ``dolt_add``, ``dolt_conflicts_resolve`` and
checking out tables change the session's working set only, like any other statement of
the open transaction. A refused verb changes nothing (engine/workspace/state.py invariant (3)):
each checks every argument before it writes, and writes once (``dolt_branch -d a b``
deletes both or neither; ``dolt_checkout -b`` persists the transaction together with the
new branch; ``dolt_revert a b`` lands both commits or none). Flags that contradict each
other (``--squash --no-ff``, ``-c -d``) are refused. ``dolt_merge``'s ``conflicts`` is
Dolt's 0/1 flag (conflicts or constraint violations left to resolve).

``--check GROUP`` (dolt_merge, dolt_tag) gates the verb on the tests of ``GROUP`` in
``dolt_tests``, run on the version the verb would make before anything is written
(sql/procedures/data_tests.py); a failure raises ``DataTestsFailed``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np
import pyarrow as pa

from arbordb.engine import checkout
from arbordb.engine.arrow_arrays import int64s, texts
from arbordb.engine.errors import BranchNotFound, InvalidInput
from arbordb.engine.hash import format_address
from arbordb.engine.workspace.merging import merge_message

from ..errors import ObjectNotFound, ProgrammingError
from ..read.reads import ReadContext
from . import data_tests

__all__ = ["PROCEDURES", "ProcedureContext"]


class ProcedureContext(ReadContext, Protocol):
    """What the version verbs need from a session: reads, plus its transaction's state
    and the calls that move it (``Session`` in sql/session/session.py)."""

    gc_counts: dict[str, int]

    @property
    def state(self) -> str: ...

    def check_writable(self) -> None: ...

    def wrote(self) -> None: ...

    def persisted(self) -> None: ...

    def switch_branch(self, branch: str) -> None: ...

    def query_arrow(
        self, sql: str, params: Sequence[object] | Mapping[str, object] = ()
    ) -> pa.Table: ...


_STATUS = {"status": pa.int64()}


# --- arguments ----------------------------------------------------------------------


@dataclass
class _Args:
    flags: dict[str, str | bool] = field(default_factory=dict)
    positional: list[str] = field(default_factory=list)

    def value(self, flag: str) -> str | None:
        found = self.flags.get(flag)
        return found if isinstance(found, str) else None


def _parse(procedure: str, args: Sequence[str], spelled: dict[str, str], valued: set[str]) -> _Args:
    """Read Dolt-style flags. ``spelled`` maps every spelling (``-m``, ``--message``) to a
    canonical name; canonical names in ``valued`` take the next argument as value."""
    out = _Args()
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            out.positional += args[i:]
            break
        if arg.startswith("--"):
            flag, eq, inline = arg.partition("=")
            names = [flag]
        elif arg.startswith("-") and len(arg) > 1:
            names, eq, inline = [f"-{c}" for c in arg[1:]], "", ""
        else:
            out.positional.append(arg)
            continue
        for n, spelling in enumerate(names):
            canonical = spelled.get(spelling)
            if canonical is None:
                known = ", ".join(sorted(spelled))
                raise ProgrammingError(
                    f"{procedure}: unknown option {spelling!r} (options: {known})"
                )
            if canonical not in valued:
                out.flags[canonical] = True
                continue
            if eq:
                out.flags[canonical] = inline
            elif n == len(names) - 1 and i < len(args):
                out.flags[canonical] = args[i]
                i += 1
            else:
                raise ProgrammingError(f"{procedure}: option {spelling} needs a value")
    return out


def _exclusive(
    procedure: str,
    parsed: _Args,
    spelled: dict[str, str],
    groups: Sequence[str | tuple[str, ...]],
) -> None:
    """Refuse flags that contradict each other: at most one of ``groups`` (canonical
    names; a tuple is one choice with several flags) may be given."""
    given = []
    for group in groups:
        names = (group,) if isinstance(group, str) else group
        found = next((n for n in names if parsed.flags.get(n)), None)
        if found is not None:
            given.append(next(flag for flag, name in spelled.items() if name == found))
    if len(given) > 1:
        raise ProgrammingError(
            f"{procedure}: {' and '.join(given)} contradict each other (pass one of them)"
        )


_AUTHOR = re.compile(r"^\s*(.*?)\s*<([^>]*)>\s*$")


def _author(procedure: str, text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    match = _AUTHOR.match(text)
    if match is None:
        raise ProgrammingError(f'{procedure}: --author must look like "Name <email>", got {text!r}')
    return match.group(1), match.group(2)


def _date(procedure: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ProgrammingError(
            f"{procedure}: --date must be ISO 8601 (e.g. 2026-03-01T12:00:00), got {text!r}"
        ) from None


# Result rows are built from buffers (``engine.arrow_arrays``): ``pa.array`` of Python values
# imports pandas, which costs a first CALL in a new process far more than the verb itself.


def _int64(value: int) -> pa.Array:
    return int64s(np.array([value], np.int64))


def _text(value: str) -> pa.Array:
    return texts([value])


def _status(code: int = 0) -> pa.Table:
    return pa.Table.from_arrays([_int64(code)], names=["status"])


def _status_message(message: str, code: int = 0) -> pa.Table:
    return pa.Table.from_arrays([_int64(code), _text(message)], names=["status", "message"])


def _persist(session: ProcedureContext) -> None:
    session.workspace.persist()
    session.persisted()


# --- procedures ---------------------------------------------------------------------


def dolt_add(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    spelled = {"-A": "all", "--all": "all", "-f": "force", "--force": "force"}
    parsed = _parse("dolt_add", args, spelled, set())
    every = bool(parsed.flags.get("all")) or "." in parsed.positional  # Dolt's -A and .
    if not parsed.positional and not every:
        raise ProgrammingError("dolt_add: name the tables to stage, or '.' / -A for every table")
    session.wrote()
    session.workspace.add(
        parsed.positional, all_tables=every, force=bool(parsed.flags.get("force"))
    )
    return _status()


def dolt_commit(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    spelled = {
        "-m": "message", "--message": "message", "-a": "modified", "--all": "modified",
        "-A": "all", "--ALL": "all", "--allow-empty": "allow_empty", "--author": "author",
        "--date": "date", "--amend": "amend",
    }  # fmt: skip
    parsed = _parse("dolt_commit", args, spelled, {"message", "author", "date"})
    message, amend = parsed.value("message"), bool(parsed.flags.get("amend"))
    if (message is None and not amend) or parsed.positional:
        raise ProgrammingError("dolt_commit needs a message: CALL dolt_commit('-m', 'message')")
    session.wrote()
    address = session.workspace.commit(
        message or "",
        amend=amend,
        author=_author("dolt_commit", parsed.value("author")),
        date=_date("dolt_commit", parsed.value("date")),
        allow_empty=bool(parsed.flags.get("allow_empty")),
        stage_modified=bool(parsed.flags.get("modified")),
        stage_all=bool(parsed.flags.get("all")),
    )
    session.persisted()
    return pa.table({"hash": _text(format_address(address))})


def dolt_branch(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    spelled = {
        "-c": "copy", "--copy": "copy", "-m": "move", "--move": "move", "-d": "delete",
        "--delete": "delete", "-D": "force_delete", "-f": "force", "--force": "force",
    }  # fmt: skip
    parsed = _parse("dolt_branch", args, spelled, set())
    _exclusive("dolt_branch", parsed, spelled, ["copy", "move", ("delete", "force_delete")])
    db, ws, names = session.db, session.workspace, parsed.positional
    force = bool(parsed.flags.get("force"))
    session.check_writable()
    if parsed.flags.get("delete") or parsed.flags.get("force_delete"):
        if not names:
            raise ProgrammingError("dolt_branch -d needs the branch name(s) to delete")
        db.delete_branches(
            names, force=force or bool(parsed.flags.get("force_delete")), current=ws.branch
        )
    elif parsed.flags.get("copy"):
        if len(names) != 2:
            raise ProgrammingError("dolt_branch -c takes a source and a new branch name")
        db.copy_branch(names[0], names[1], force=force, current=ws.branch)
    elif parsed.flags.get("move"):
        if len(names) not in (1, 2):
            raise ProgrammingError("dolt_branch -m takes [old name] and the new name")
        old, new = (ws.branch, names[0]) if len(names) == 1 else names
        if old == ws.branch:  # the session's working set moves with the branch, in one write
            db.rename_branch(old, new, force=force, workspace=ws)
            session.switch_branch(new)
        else:
            db.rename_branch(old, new, force=force)
    else:
        if len(names) not in (1, 2):
            raise ProgrammingError("dolt_branch takes a new branch name and an optional start")
        start = _in_snapshot(ws, names[1] if len(names) == 2 else "HEAD")
        db.create_branch(names[0], start, branch=ws.branch, force=force)
    return _status()


def _in_snapshot(ws, revision: str) -> bytes:
    """The address of the commit ``revision`` names in the session's snapshot (``HEAD``
    is the commit the transaction began on, not the branch's newest), passed on as an
    address so that the verb does not resolve it again."""
    return ws.resolve_commit(revision)


def dolt_checkout(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    spelled = {
        "-b": "create", "-B": "force_create", "-f": "force", "--force": "force",
        "--move": "move",
    }  # fmt: skip
    parsed = _parse("dolt_checkout", args, spelled, set())
    _exclusive("dolt_checkout", parsed, spelled, ["create", "force_create"])
    names = parsed.positional
    create = parsed.flags.get("create") or parsed.flags.get("force_create")
    # --move (Dolt's CLI): uncommitted changes go along to the branch switched to;
    # -f discards them instead (engine/checkout.py)
    move, force = bool(parsed.flags.get("move")), bool(parsed.flags.get("force"))
    ws = session.workspace
    if create:
        if len(names) not in (1, 2):
            raise ProgrammingError("dolt_checkout -b takes a new branch name and an optional start")
        session.check_writable()
        start = _in_snapshot(ws, names[1] if len(names) == 2 else "HEAD")
        if move and not force:  # refused before the branch exists
            checkout.refuse_conflicting_carry(ws, ws.commit_root(start), names[0])
        # the open transaction is persisted with the new branch, in one write
        session.db.create_branch(
            names[0], start, force=bool(parsed.flags.get("force_create")), workspace=ws
        )
        if move or force:
            checkout.move_changes(ws, session.db.workspace(names[0]), force=force)
        session.switch_branch(names[0])
        return _status_message(f"Switched to branch '{names[0]}'")
    if not names:
        raise ProgrammingError("dolt_checkout needs a branch name or table names")
    refs = session.db.refs
    # one ref read for the branch named, not a listing of every branch (O(1) in branches);
    # the listing is made only for an error message
    if len(names) == 1 and "--" not in args and refs.find_branch(names[0]) is not None:
        if names[0] != ws.branch:
            if move or force:
                session.check_writable()
                checkout.move_changes(ws, session.db.workspace(names[0]), force=force)
            # uncommitted changes stay on the branch they were made on (if another
            # connection deleted it, they have nowhere to stay)
            elif session.state == "write" and refs.find_branch(ws.branch) is not None:
                _persist(session)
            session.switch_branch(names[0])
        return _status_message(f"Switched to branch '{names[0]}'")
    if move or force:
        raise ProgrammingError(
            f"dolt_checkout: --move and -f apply to switching branches, and {names[0]!r} is "
            f"no branch (branches: {', '.join(sorted(refs.branches()))})"
        )
    missing = [n for n in names if ws.working.find(n) is None and ws.staged.find(n) is None]
    if missing:
        if len(names) == 1:
            raise BranchNotFound(
                f"dolt_checkout: {names[0]!r} is neither a branch nor a table "
                f"(branches: {', '.join(sorted(refs.branches()))})"
            )
        raise ObjectNotFound(f"dolt_checkout: table {missing[0]!r} not found")
    session.wrote()
    ws.checkout_tables(names)
    return _status_message("")


def dolt_merge(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    spelled = {
        "--no-ff": "no_ff", "--no-commit": "no_commit", "--squash": "squash",
        "--abort": "abort", "-m": "message", "--message": "message", "--author": "author",
        "--check": "check",
    }  # fmt: skip
    parsed = _parse("dolt_merge", args, spelled, {"message", "author", "check"})
    _exclusive("dolt_merge", parsed, spelled, ["squash", "no_ff"])
    session.wrote()
    if parsed.flags.get("abort"):
        if parsed.positional or len(parsed.flags) > 1:
            raise ProgrammingError("dolt_merge --abort takes no other arguments")
        session.workspace.merge_abort()
        session.persisted()
        return _merge_row("", False, 0, "merge aborted")
    if len(parsed.positional) != 1:
        raise ProgrammingError("dolt_merge takes one branch or revision to merge")
    revision, message = parsed.positional[0], parsed.value("message")
    if (check := parsed.value("check")) is not None:  # gate: the group's tests pass on the result
        revision = data_tests.check_merge(session, revision, check)
        message = message or merge_message(parsed.positional[0], session.branch)
    outcome = session.workspace.merge_revision(
        revision,
        no_ff=bool(parsed.flags.get("no_ff")),
        no_commit=bool(parsed.flags.get("no_commit")),
        squash=bool(parsed.flags.get("squash")),
        message=message,
        author=_author("dolt_merge", parsed.value("author")),
    )
    session.persisted()  # merge_revision wrote whatever it changed
    address = format_address(outcome.hash) if outcome.hash is not None else ""
    return _merge_row(address, outcome.fast_forward, outcome.conflicts, outcome.message)


def _merge_row(address: str, fast_forward: bool, conflicts: int, message: str) -> pa.Table:
    return pa.Table.from_arrays(
        [
            _text(address),
            _int64(int(fast_forward)),
            _int64(int(conflicts > 0)),  # Dolt's 0/1 flag
            _text(message),
        ],
        names=["hash", "fast_forward", "conflicts", "message"],
    )


def dolt_reset(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    spelled = {"--hard": "hard", "--soft": "soft"}
    parsed = _parse("dolt_reset", args, spelled, set())
    if parsed.flags.get("hard") and parsed.flags.get("soft"):
        raise ProgrammingError("dolt_reset takes --hard or --soft, not both")
    mode = "hard" if parsed.flags.get("hard") else "soft" if parsed.flags.get("soft") else "mixed"
    ws = session.workspace
    names = parsed.positional
    session.wrote()
    tables = [n for n in names if _is_table(ws, n)]
    if mode == "mixed" and names and len(tables) == len(names):
        ws.reset(mode, None, tables)
    else:
        if len(names) > 1:
            raise ProgrammingError("dolt_reset takes one revision (or table names without flags)")
        ws.reset(mode, names[0] if names else None)
    _persist(session)
    return _status()


def _is_table(ws, name: str) -> bool:
    return any(root.find(name) is not None for root in (ws.working, ws.staged, ws.head_root))


def dolt_revert(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    parsed = _parse("dolt_revert", args, {"--author": "author"}, {"author"})
    if not parsed.positional:
        raise ProgrammingError("dolt_revert needs the commit(s) to revert")
    author = _author("dolt_revert", parsed.value("author"))
    ws = session.workspace
    session.wrote()
    commits = [ws.resolve_commit(r) for r in parsed.positional]
    outcome = ws.apply_commits(commits, revert=True, author=author)
    session.persisted()
    return _status(1 if outcome.conflicts else 0)


def dolt_cherry_pick(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    parsed = _parse("dolt_cherry_pick", args, {"--abort": "abort"}, set())
    ws = session.workspace
    if parsed.flags.get("abort"):
        if parsed.positional:
            raise ProgrammingError("dolt_cherry_pick --abort takes no other arguments")
        session.wrote()
        ws.merge_abort("cherry-pick")
        session.persisted()
        return _cherry_pick_row("", 0)
    if len(parsed.positional) != 1:
        raise ProgrammingError("dolt_cherry_pick takes one commit to apply")
    session.wrote()
    revision = parsed.positional[0]
    outcome = ws.apply_commits([ws.resolve_commit(revision)], revert=False, label=revision)
    session.persisted()
    return _cherry_pick_row(format_address(outcome.hash) if outcome.hash else "", outcome.conflicts)


def _cherry_pick_row(address: str, conflicts: int) -> pa.Table:
    return pa.table(
        {
            "hash": _text(address),
            "data_conflicts": _int64(conflicts),
            "schema_conflicts": _int64(0),
            "constraint_violations": _int64(0),
        }
    )


def dolt_tag(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    spelled = {
        "-m": "message", "--message": "message", "-d": "delete", "--delete": "delete",
        "--check": "check",
    }  # fmt: skip
    parsed = _parse("dolt_tag", args, spelled, {"message", "check"})
    names = parsed.positional
    session.check_writable()
    if parsed.flags.get("delete"):
        if not names:
            raise ProgrammingError("dolt_tag -d needs the tag name(s) to delete")
        session.db.delete_tags(names)
        return _status()
    if len(names) not in (1, 2):
        raise ProgrammingError("dolt_tag takes a tag name and an optional revision")
    if (check := parsed.value("check")) is not None:  # gate: the group's tests pass on that commit
        target = names[1] if len(names) == 2 else "HEAD"
        root = session.workspace.commit_root(session.workspace.resolve_commit(target))
        data_tests.check_revision(session, check, root, f"tag {names[0]!r}")
    session.db.create_tag(
        names[0],
        _in_snapshot(session.workspace, names[1] if len(names) == 2 else "HEAD"),
        message=parsed.value("message") or "",
        branch=session.branch,
    )
    return _status()


def dolt_conflicts_resolve(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    spelled = {"--ours": "ours", "--theirs": "theirs", "--combine": "combine"}
    parsed = _parse("dolt_conflicts_resolve", args, spelled, set())
    strategies = [s for s in ("ours", "theirs", "combine") if parsed.flags.get(s)]
    if len(strategies) != 1 or not parsed.positional:
        raise ProgrammingError(
            "dolt_conflicts_resolve takes one of --ours, --theirs, --combine and the tables "
            "(or '.' for every table)"
        )
    ws = session.workspace
    for name in parsed.positional:
        if name != "." and ws.working.find(name) is None:
            raise ObjectNotFound(ws.working.missing_message(name, f" on branch {ws.branch!r}"))
    session.wrote()
    every = "." in parsed.positional  # Dolt's . for every table
    found = [] if every else [ws.working.find(n) for n in parsed.positional]
    tables = [name for name in found if name is not None]  # each was checked to exist above
    ws.resolve_conflicts(tables, strategies[0], all_tables=every)
    return _status()


def dolt_gc(session: ProcedureContext, args: Sequence[str]) -> pa.Table:
    if args:
        raise InvalidInput("dolt_gc takes no arguments")
    session.wrote()
    _persist(session)
    session.gc_counts = session.db.gc()
    return _status()


PROCEDURES: dict[str, Callable[..., pa.Table]] = {
    "dolt_add": dolt_add,
    "dolt_commit": dolt_commit,
    "dolt_branch": dolt_branch,
    "dolt_checkout": dolt_checkout,
    "dolt_merge": dolt_merge,
    "dolt_reset": dolt_reset,
    "dolt_revert": dolt_revert,
    "dolt_cherry_pick": dolt_cherry_pick,
    "dolt_tag": dolt_tag,
    "dolt_conflicts_resolve": dolt_conflicts_resolve,
    "dolt_gc": dolt_gc,
}
