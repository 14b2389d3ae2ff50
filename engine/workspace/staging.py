"""Staging and committing: status, add, commit, checkout of tables, reset (see state.py's
invariants (2), (5))."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..config import Config
from ..errors import (
    InvalidInput,
    MergeInProgress,
    NothingToCommit,
    TableNotFound,
    UnresolvedConflicts,
    UnstagedMergeResults,
)
from ..history import (
    encode_commit,
    make_commit,
    timestamp_from_datetime,
)
from ..root import RootValue
from ..versioning.artifacts import Artifacts
from .ignore import IgnoreConflict, IgnoreRules
from .state import TableStatus, WorkspaceState


class Staging(WorkspaceState):
    """``WorkspaceState`` plus the verbs that move changes working -> staged -> HEAD."""

    # --- status / add ----------------------------------------------------------

    def status(self, *, ignored: bool = False) -> list[TableStatus]:
        """Staged changes, unstaged ones, then tables with conflicts or violations; new
        tables dolt_ignore leaves unstaged only with ``ignored`` (``ignore.py``)."""
        head = self.head_root
        out = [TableStatus(t, True, s) for t, s in _changes(head, self.staged)]
        hidden = set() if ignored else self.ignored_new_tables()
        for t, s in _changes(self.staged, self.working):
            if t not in hidden:
                out.append(TableStatus(t, False, s))
        for name in self.working:
            table = self.table(name)
            if table.artifacts is not None:
                art = Artifacts.load(self.nodes, table.artifacts)
                if art.conflicts.count():
                    out.append(TableStatus(name, False, "conflict"))
                if art.violations.count():
                    out.append(TableStatus(name, False, "constraint violation"))
        return out

    def ignored_new_tables(self) -> set[str]:
        """New tables (not staged) that dolt_ignore leaves unstaged; one whose patterns
        disagree counts as not ignored here (staging it is what is refused)."""
        rules = IgnoreRules.of(self.working, self.nodes)
        out = set()
        for name in self.working:
            if rules.patterns and self.staged.find(name) is None:
                try:
                    if rules.ignores(name):
                        out.add(name)
                except IgnoreConflict:
                    continue
        return out

    def _everything_staged(self) -> RootValue:
        """The working root without the new tables dolt_ignore leaves unstaged.

        Raises:
            IgnoreConflict: a new table's patterns disagree (nothing is staged).
        """
        new = [t for t in self.working if self.staged.find(t) is None]
        staged = self.working
        for name in IgnoreRules.of(self.working, self.nodes).unstaged(new):
            staged = staged.without_table(name)
        return staged

    def add(
        self, tables: Sequence[str] = (), *, all_tables: bool = False, force: bool = False
    ) -> None:
        """Stage tables (Dolt's ``add``); ``all_tables`` stages every change, drops included
        (the CLI's ``.`` and ``-A``, translated by the SQL procedure), except new tables
        dolt_ignore leaves out; a named new table it ignores is refused unless ``force``.

        Raises:
            TableNotFound: a named table is neither in the working nor the staged root.
            InvalidInput: a named new table is ignored (and not ``force``).
            IgnoreConflict: a new table's dolt_ignore patterns disagree.
        """
        if all_tables:
            self.staged = self._everything_staged()
            return
        rules = IgnoreRules.of(self.working, self.nodes)
        staged = self.staged
        for name in tables:
            found = self.working.find(name)
            if found is not None:
                if not force and staged.find(found) is None and rules.ignores(found):
                    raise InvalidInput(
                        f"table {found!r} is ignored by dolt_ignore; stage it anyway with "
                        f"dolt_add('--force', {found!r}) (arbor add -f), or change dolt_ignore"
                    )
                staged = staged.with_table(found, self.working[found])
            elif (dropped := staged.find(name)) is not None:
                staged = staged.without_table(dropped)  # a dropped table
            else:
                raise TableNotFound(
                    self.working.missing_message(name, f" on branch {self.branch!r}")
                )
        self.staged = staged

    # --- commit ---------------------------------------------------------------------

    def commit(
        self,
        message: str,
        *,
        author: tuple[str, str] | None = None,
        date: datetime | None = None,
        allow_empty: bool = False,
        stage_modified: bool = False,
        stage_all: bool = False,
        metadata: Mapping[str, Any] | None = None,
        persist: bool = True,
        amend: bool = False,
    ) -> bytes:
        """Commit the staged root (Dolt's ``commit``; -a / -A stage first).

        ``amend`` replaces HEAD instead (``commit --amend``): the new commit has HEAD's
        parents, HEAD's author unless ``author`` is given, and HEAD's message when
        ``message`` is empty; the replaced commit stays in the reflog.

        Persists, unless ``persist`` is False: then the new commit is this workspace's
        tip and the next ``persist`` moves the branch to it (verbs that make several
        commits in one write)."""
        self._refuse_artifacts("commit")
        if amend:
            if self.merge is not None:
                raise MergeInProgress(
                    "cannot amend during a merge (conclude it with a commit, or abort it "
                    "with dolt_merge('--abort'))"
                )
            replaced = self.loader.load(self.tip)
            message = message or replaced.message
            author = author or (replaced.author, replaced.email)
            allow_empty = True  # rewording alone is an amend's purpose
        staged = self.staged
        if stage_all:
            staged = self._everything_staged()
        elif stage_modified:
            for t, s in _changes(self.staged, self.working):
                if s != "new table":
                    staged = (
                        staged.without_table(t)
                        if s == "deleted"
                        else staged.with_table(t, self.working[t])
                    )
        tip = self.tip
        self._refuse_unstaged_merge_results(staged)
        parents = list(replaced.parents) if amend else [tip]
        meta = dict(metadata or {})
        if self.merge is not None and not self.merge.squash:
            parents.append(self.merge.theirs)
            meta.update(self.merge.details.get("commit_metadata", {}))
        if staged.address == self.tip_root.address and not allow_empty and self.merge is None:
            raise NothingToCommit(
                "nothing to commit: no staged changes (stage with dolt_add / `arbor add`, "
                "use -a/-A, or pass --allow-empty)"
            )
        name, email = author or Config(self.store).author()
        commit = make_commit(
            self.loader,
            root=self._store_root(staged),
            parents=parents,
            author=name,
            email=email,
            message=message,
            timestamp=timestamp_from_datetime(date) if date else None,
            metadata=meta,
        )
        (address,) = self.nodes.write([encode_commit(commit)])
        before = (self.staged, self.merge, self._new_head)
        self.staged = staged
        self.merge = None
        self._new_head = address
        if persist:
            try:
                self.persist()
            except Exception:
                self.staged, self.merge, self._new_head = before
                raise
        return address

    @property
    def tip(self) -> bytes:
        """The commit the branch will point at after ``persist`` (HEAD, or a verb's new commit)."""
        return self._new_head if self._new_head is not None else self.head

    @property
    def tip_root(self) -> RootValue:
        return self.commit_root(self.tip)

    def _refuse_unstaged_merge_results(self, staged: RootValue) -> None:
        """Invariant (5): a table the merge changed must not be committed as HEAD had it
        while its working version still differs (its merge results were never staged)."""
        if self.merge is None:
            return
        head = self.tip_root
        left_out = [
            name
            for name in self.merge.details.get("merged_tables", [])
            if self.working.get(name) != head.get(name) and staged.get(name) == head.get(name)
        ]
        if left_out:
            names = ", ".join(left_out)
            raise UnstagedMergeResults(
                f"cannot commit the merge: table(s) {names} hold merge results that are not "
                f"staged, and the commit would leave them out (stage them with "
                f"dolt_add('{left_out[0]}') / `arbor add {left_out[0]}`, commit with -a / -A, "
                f"or discard them with dolt_checkout('{left_out[0]}'))"
            )

    def schema_conflicts(self) -> list[dict]:
        """Schema conflicts of the merge in progress (table, column, description)."""
        return list(self.merge.details.get("schema_conflicts", [])) if self.merge else []

    def _refuse_artifacts(self, verb: str) -> None:
        bad = [s.table for s in self.status() if s.status in ("conflict", "constraint violation")]
        bad += [c["table"] for c in self.schema_conflicts()]
        if bad:
            raise UnresolvedConflicts(
                f"cannot {verb}: table(s) {', '.join(sorted(set(bad)))} have unresolved merge "
                "conflicts or constraint violations (resolve them with dolt_conflicts_resolve, "
                "edit dolt_conflicts_<table>, or abort with dolt_merge('--abort'))"
            )

    # --- checkout / reset ---------------------------------------------------------

    def checkout_tables(self, tables: Iterable[str]) -> None:
        """Discard working changes to tables (restore them from the staged root)."""
        working = self.working
        for name in tables:
            found = self.staged.find(name)
            if found is not None:
                working = working.with_table(found, self.staged[found])
            elif (dropped := working.find(name)) is not None:
                working = working.without_table(dropped)
            else:
                raise TableNotFound(
                    self.working.missing_message(name, f" on branch {self.branch!r}")
                )
        self.working = working

    def reset(
        self, mode: str = "mixed", revision: str | None = None, tables: Sequence[str] = ()
    ) -> None:
        """Dolt's reset: --hard / --soft / (default) unstage, optionally to a revision."""
        if tables:
            staged = self.staged
            head = self.head_root
            for name in tables:
                found = head.find(name)
                dropped = staged.find(name)
                staged = (
                    staged.with_table(found, head[found])
                    if found
                    else (staged.without_table(dropped) if dropped else staged)
                )
            self.staged = staged
            return
        target = self.head
        if revision is not None:
            target = self.resolve_commit(revision)
        root = self.commit_root(target)
        if target != self.head:
            self._new_head = target
        if mode == "hard":
            # Dolt's --hard resets tracked tables; an untracked one (in the working set
            # only: never staged nor committed) stays, unless the target has that name.
            head, working = self.head_root, root
            for name in self.working:
                untracked = self.staged.find(name) is None and head.find(name) is None
                if untracked and root.find(name) is None:
                    working = working.with_table(name, self.working[name])
            self.working, self.staged = working, root
            self.merge = None
        elif mode == "soft":
            if revision is None:
                self.staged = root
        else:
            self.staged = root


def _changes(a: RootValue, b: RootValue) -> list[tuple[str, str]]:
    out = []
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name), b.get(name)
        if x == y:
            continue
        out.append((name, "new table" if x is None else "deleted" if y is None else "modified"))
    return out
