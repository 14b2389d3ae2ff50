"""The ref verbs straight to the engine: ``arbor branch``, ``tag`` and ``checkout`` when
they only create, delete, list or switch refs, and ``arbor status`` of a clean branch.

These commands run in a new process each time, and the SQL layer (DuckDB, sqlglot,
pyarrow, pandas) takes seconds to load on a busy machine while the verb itself is
one ref write. So they open the repository as a ``Database`` and call the engine
verbs that ``CALL dolt_branch`` / ``dolt_tag`` / ``dolt_checkout`` call (STYLE G12:
the verbs are implemented once, in the engine), in the same order, so that every
refusal is the same error with the same message (``cli/explain.py`` prints an
engine error's message as the SQL layer's translation of it would be printed).

A command takes this way only in the cases spelled out below; every other form
(renames, remote-tracking branches, ``--check``, tables to restore, a switch with
uncommitted changes to carry, the REPL's shared session) goes through SQL.

    COMMAND                       ENGINE CALLS (as the procedure makes them)
    arbor branch NAME [START]     resolve START (default HEAD) on the checked-out
                                  branch; create_branch(NAME, that commit, force=-f)
    arbor branch -d/-D NAMES      delete_branches(NAMES, force, current=checked out)
    arbor branch -c OLD NEW       copy_branch(OLD, NEW, force=-f)
    arbor branch [-v]             the branches, their heads and subjects
    arbor branch --show-current   the checked-out branch
    arbor tag NAME [REV] [-m M]   resolve REV (default HEAD); create_tag(NAME, ...)
    arbor tag -d NAMES            delete_tags(NAMES)
    arbor tag                     the tag names
    arbor checkout BRANCH         when the checked-out branch has no uncommitted
                                  changes (its working set is its HEAD's root, no
                                  merge): nothing to carry, so the switch is
                                  set_default_branch(BRANCH), as ``check_out`` does
    arbor status                  when it has none either: "nothing to commit"
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from arbordb.engine.db import Database
from arbordb.engine.hash import format_address
from arbordb.engine.history import decode_working_set

from .invocation import Invocation, find_repository

__all__ = ["Direct", "direct"]


class Direct:
    """One repository opened by the engine alone, on its checked-out branch."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.current = db.default_branch()

    # --- branches -----------------------------------------------------------------------

    def create_branch(self, name: str, start: str | None, *, force: bool) -> None:
        head = self.db.resolve_commit(start or "HEAD", self.current)
        self.db.create_branch(name, format_address(head), branch=self.current, force=force)

    def delete_branches(self, names: tuple[str, ...], *, force: bool) -> None:
        self.db.delete_branches(names, force=force, current=self.current)

    def copy_branch(self, source: str, dest: str, *, force: bool) -> None:
        self.db.copy_branch(source, dest, force=force, current=self.current)

    def branches(self) -> list[tuple[str, str, str]]:
        """(name, hash, commit message) of every branch, by name (``dolt_branches``)."""
        return [(b.name, format_address(b.hash), b.commit.message) for b in self.db.branches()]

    # --- tags ---------------------------------------------------------------------------

    def create_tag(self, name: str, revision: str | None, message: str | None) -> None:
        target = self.db.resolve_commit(revision or "HEAD", self.current)
        self.db.create_tag(name, format_address(target), message=message or "", branch=self.current)

    def delete_tags(self, names: tuple[str, ...]) -> None:
        self.db.delete_tags(names)

    def tag_names(self) -> list[str]:
        return list(self.db.refs.tags())  # sorted by name (the store's contract)

    # --- switching ----------------------------------------------------------------------

    def is_branch(self, name: str) -> bool:
        return name in self.db.refs.branches()

    def clean(self) -> bool:
        """Whether the checked-out branch has nothing uncommitted to carry: no working set,
        or one whose working and staged roots are its HEAD's, with no merge running.
        (False may be wrong only in the safe direction: SQL then decides.)"""
        address = self.db.refs.working_set(self.current)
        if address is None:
            return True
        ws = decode_working_set(self.db.store.get(address))
        head_root = self.db.commit(self.db.refs.branch_head(self.current)).root
        return ws.merge is None and ws.working == ws.staged == head_root

    def switch(self, name: str) -> None:
        """Make ``name`` the checked-out branch (``Connection.check_out``)."""
        self.db.set_default_branch(name)


@contextmanager
def direct(invocation: Invocation) -> Iterator[Direct | None]:
    """The repository as a ``Direct``, or None where the command must go through SQL: in
    the REPL (its session is shared), or when the repository does not open cleanly here
    (SQL then reports it the way it always has)."""
    if invocation.shared is not None:
        yield None
        return
    path = find_repository(invocation.directory)
    handle: Direct | None = None
    try:
        db = Database.open(path)
    except Exception:  # noqa: BLE001 - the SQL path reports it, as it always has
        db = None
    if db is not None:
        try:
            handle = Direct(db)
        except Exception:  # noqa: BLE001 - as above (e.g. a repository with no branch)
            handle = None
    try:
        yield handle
    finally:
        if db is not None:
            db.close()
