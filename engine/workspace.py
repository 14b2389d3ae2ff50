"""A branch's working state and the version verbs that act on it.

A ``Workspace`` is what one session holds for its current branch: the head
commit it read, the working and staged roots, the merge state, and a write
buffer of the chunks its edits made. Edits change the in-memory roots only;
``persist`` writes the buffered chunks, the new working set and any moved
branch head in ONE store transaction, compare-and-swapped against what this
workspace read, so two writers never silently overwrite each other.

State (per branch, as Dolt keeps it)::

    HEAD commit --(add)--> staged root --(commit)--> new HEAD commit
         ^                     ^
         |                     +-- working root (every edit lands here)
         +-- merge state: theirs, ours, pre-merge working root (for --abort)

Invariants:
  (1) ``persist`` moves ``workingSets/heads/<b>`` from ``self.ws_address`` and, when
      the verb moved the head, ``refs/heads/<b>`` from ``self.head``; a lost race
      raises ``CommitConflict`` and writes nothing.
  (2) Conflicts and constraint violations live only in the working root; a
      commit is refused while any table has them.
  (3) A refused verb leaves the workspace exactly as it was.
  (4) ``persist`` also compare-and-swaps ``refs/heads/<b>`` from ``self.head`` when the
      head does not move, so a working set is never written for a branch that another
      connection deleted (or moved) meanwhile: ``BranchDeleted`` / ``CommitConflict``.
  (5) A merge (or a cherry-pick or revert that conflicted) stages every table that
      merged cleanly; a table it left with conflicts is staged when its last conflict
      is resolved (``put_resolved``), and a commit is refused while a table the merge
      changed (``merged_tables`` in the merge state's details) has its merge results
      unstaged (``UnstagedMergeResults``), so a merge commit never drops theirs'
      changes silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .chunks.buffered import BufferedChunkStore
from .chunks.store import ChunkStore, RefUpdate
from .config import Config
from .errors import (
    BranchDeleted,
    CommitConflict,
    DirtyWorkingSet,
    InvalidInput,
    MergeInProgress,
    NoMergeInProgress,
    NothingToCommit,
    TableNotFound,
    UnresolvedConflicts,
    UnstagedMergeResults,
)
from .hash import format_address
from .history import (
    Commit,
    CommitLoader,
    MergeState,
    Refs,
    WorkingSet,
    branch_ref,
    decode_working_set,
    encode_commit,
    encode_working_set,
    make_commit,
    merge_base,
    timestamp_from_datetime,
    working_set_ref,
)
from .history.reflog import logged
from .history.revision import Revision, RevisionKind, resolve_revision
from .root import RootValue
from .table import Table
from .tree import NodeStore
from .versioning.artifacts import Artifacts
from .versioning.merge import MergeOptions, RootMerge, merge_roots, resolve_table_conflicts
from .versioning.reach import chunk_children


@dataclass(frozen=True)
class TableStatus:
    table: str
    staged: bool
    status: str  # 'new table', 'modified', 'deleted', 'conflict', 'constraint violation'


@dataclass(frozen=True)
class MergeOutcome:
    """Dolt's dolt_merge result row: hash, fast_forward, conflicts, message."""

    hash: bytes | None
    fast_forward: bool
    conflicts: int
    message: str
    resolutions: list[dict] = field(default_factory=list)


class Workspace:
    """One branch's working state as a session sees it (see the module docstring)."""

    def __init__(self, store: ChunkStore, nodes: NodeStore, loader: CommitLoader, branch: str) -> None:
        self.store = store
        self.loader = loader
        self.branch = branch
        self._shared_nodes = nodes
        self.reload()

    # --- loading and persisting ----------------------------------------------

    def reload(self) -> None:
        """Discard unpersisted edits and read the branch's state afresh."""
        self.buffer = BufferedChunkStore(self.store, children=chunk_children)  # gc-checked
        self.nodes = self._shared_nodes.with_store(self.buffer)
        self.head = self._read_head()
        self.ws_address = self.store.get_ref(working_set_ref(self.branch))
        if self.ws_address is None:
            root = self.commit_root(self.head)
            self.working, self.staged, self.merge = root, root, None
        else:
            ws = decode_working_set(self.store.get(self.ws_address))
            self.working = self.root(ws.working)
            self.staged = self.root(ws.staged)
            self.merge = ws.merge
        self._new_head: bytes | None = None

    def _read_head(self) -> bytes:
        return Refs(self.store).branch_head(self.branch)

    def root(self, address: bytes) -> RootValue:
        return RootValue.decode(self.nodes.store.get(address), address)

    def commit_root(self, commit: bytes) -> RootValue:
        return self.root(self.loader.load(commit).root)

    @property
    def head_root(self) -> RootValue:
        return self.commit_root(self.head)

    @property
    def dirty(self) -> bool:
        """True when the working root differs from HEAD's (the REPL's ``*``)."""
        return self.working.address != self.head_root.address

    def _store_root(self, root: RootValue) -> bytes:
        self.nodes.write([root.encode()])
        return root.address

    def persist(self, extra: Sequence[RefUpdate] = ()) -> None:
        """Write buffered chunks, the working set, a moved head and ``extra`` ref updates
        atomically (invariants (1), (4))."""
        ws_addr = self.write_working_set()
        head = self._new_head if self._new_head is not None else self.head
        updates = [
            RefUpdate(working_set_ref(self.branch), self.ws_address, ws_addr),
            RefUpdate(branch_ref(self.branch), self.head, head),  # invariant (4)
            *extra,
        ]
        if not self.buffer.flush(logged(updates)):  # with their reflog entries
            self.refuse_lost_race()
        self.ws_address = ws_addr
        self.head = head
        self._new_head = None

    def write_working_set(self) -> bytes:
        """Buffer the working set (roots and merge state); returns its address."""
        ws = WorkingSet(
            working=self._store_root(self.working),
            staged=self._store_root(self.staged),
            merge=self.merge,
        )
        (address,) = self.nodes.write([encode_working_set(ws)])
        return address

    def refuse_lost_race(self) -> None:
        """Raise the error for a lost compare-and-swap: the branch is gone, or it moved.

        The buffer keeps its chunks (they are what the in-memory roots name); the caller
        reloads (discarding them) or rebuilds its change and retries."""
        if self.store.get_ref(branch_ref(self.branch)) is None:
            raise BranchDeleted(
                f"branch {self.branch!r} was deleted by another connection; nothing was "
                "written and its uncommitted changes are discarded (check out another branch)"
            )
        raise CommitConflict(
            f"branch {self.branch!r} was changed by another writer since this session read it; "
            "nothing was written (reload the branch and run the change again)"
        )

    # --- tables ----------------------------------------------------------------

    def table_names(self) -> list[str]:
        return list(self.working)

    def table(self, name: str, root: RootValue | None = None) -> Table:
        root = self.working if root is None else root
        found = root.find(name)
        if found is None:
            raise TableNotFound(root.missing_message(name, f" on branch {self.branch!r}"))
        return Table.load(self.nodes, root[found])

    def put_table(self, name: str, table: Table) -> None:
        self.working = self.working.with_table(name, table.address)

    def create_table(self, name: str, table: Table) -> None:
        self.working = self.working.with_table(name, table.address, replace=False)

    def drop_table(self, name: str) -> None:
        found = self.working.find(name)
        if found is None:
            raise TableNotFound(self.working.missing_message(name, f" on branch {self.branch!r}"))
        self.working = self.working.without_table(found)

    def rename_table(self, old: str, new: str) -> None:
        table = self.table(old)
        dropped = self.working.without_table(self.working.find(old) or old)
        self.working = dropped.with_table(new, table.address, replace=False)

    # --- status / add ----------------------------------------------------------

    def status(self) -> list[TableStatus]:
        head = self.head_root
        out = [TableStatus(t, True, s) for t, s in _changes(head, self.staged)]
        for t, s in _changes(self.staged, self.working):
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

    def add(self, tables: Sequence[str] = (), *, all_tables: bool = False) -> None:
        """Stage tables (Dolt's ``add``): '.' or all_tables stages every change incl. drops."""
        if all_tables or "." in tables or "-A" in tables:
            self.staged = self.working
            return
        staged = self.staged
        for name in tables:
            found = self.working.find(name)
            if found is not None:
                staged = staged.with_table(found, self.working[found])
            elif staged.find(name) is not None:
                staged = staged.without_table(staged.find(name))  # a dropped table
            else:
                raise TableNotFound(self.working.missing_message(name, f" on branch {self.branch!r}"))
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
            staged = self.working
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
            elif working.find(name) is not None:
                working = working.without_table(working.find(name))
            else:
                raise TableNotFound(self.working.missing_message(name, f" on branch {self.branch!r}"))
        self.working = working

    def reset(self, mode: str = "mixed", revision: str | None = None, tables: Sequence[str] = ()) -> None:
        """Dolt's reset: --hard / --soft / (default) unstage, optionally to a revision."""
        if tables:
            staged = self.staged
            head = self.head_root
            for name in tables:
                found = head.find(name)
                staged = staged.with_table(found, head[found]) if found else (
                    staged.without_table(staged.find(name)) if staged.find(name) else staged
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

    def revision(self, text: str) -> Revision:
        """What revision ``text`` names, read from this workspace's snapshot: ``HEAD`` is
        ``self.head`` (the commit the session's transaction began on, or its own latest
        commit), even when another writer has moved the branch since."""
        return resolve_revision(self.loader, text, current_branch=self.branch, head=self.head)

    def resolve_commit(self, text: str) -> bytes:
        rev = self.revision(text)
        if rev.kind in (RevisionKind.WORKING, RevisionKind.STAGED):
            raise InvalidInput(f"{text!r} is not a commit (use a branch, tag or commit hash)")
        return rev.address

    def root_at(self, text: str) -> RootValue:
        """The root value a revision names, WORKING and STAGED included."""
        rev = self.revision(text)
        if rev.kind == RevisionKind.WORKING:
            return self.working
        if rev.kind == RevisionKind.STAGED:
            return self.staged
        return self.commit_root(rev.address)

    # --- merge ----------------------------------------------------------------------

    def merge_revision(
        self,
        revision: str,
        *,
        no_ff: bool = False,
        no_commit: bool = False,
        squash: bool = False,
        message: str | None = None,
        author: tuple[str, str] | None = None,
        options: MergeOptions | None = None,
    ) -> MergeOutcome:
        """Dolt's merge. Conflicts stay in the working set; otherwise commits (persists)."""
        if self.merge is not None:
            raise MergeInProgress(
                "a merge is already in progress on this branch (commit it after resolving "
                "conflicts, or run dolt_merge('--abort'))"
            )
        if self.working.address != self.head_root.address:
            raise DirtyWorkingSet(
                f"cannot merge into {self.branch!r}: the working set has uncommitted changes "
                "(commit them with dolt_commit, or discard them with dolt_reset('--hard'))"
            )
        theirs = self.resolve_commit(revision)
        base = merge_base(self.loader, self.head, theirs)
        label = revision
        if theirs == self.head or base == theirs:
            return MergeOutcome(self.head, False, 0, "Everything up-to-date")
        if base == self.head and not no_ff and not squash:
            root = self.commit_root(theirs)
            self.working = self.staged = root
            self._new_head = theirs
            if not no_commit:
                self.persist()
            return MergeOutcome(theirs, True, 0, "merge successful")
        result = merge_roots(
            self.nodes,
            self.commit_root(base) if base else RootValue(),
            self.head_root,
            self.commit_root(theirs),
            options or MergeOptions(),
        )
        return self._finish_merge(result, theirs, base, label, no_commit, squash, message, author)

    def _finish_merge(
        self, result: RootMerge, theirs, base, label, no_commit, squash, message, author
    ) -> MergeOutcome:
        pre_merge = self._store_root(self.working)
        details: dict = {}
        if result.resolutions:
            details["commit_metadata"] = {"merge_resolutions": result.resolutions}
        if result.schema_conflicts:
            details["schema_conflicts"] = [c.as_dict() for c in result.schema_conflicts]
        self.working = result.root
        if result.conflicts or result.schema_conflicts or result.violations or no_commit:
            self._enter_merge(
                result,
                MergeState(
                    theirs=theirs,
                    ours=self.head,
                    pre_merge_working=pre_merge,
                    base_root=self._store_root(self.commit_root(base)) if base else None,
                    theirs_label=label,
                    squash=squash,
                    no_commit=no_commit,
                    details=details,
                ),
            )
            self.persist()
            n = result.conflicts + len(result.schema_conflicts)
            msg = "conflicts found" if n else ("constraint violations found" if result.violations else "merge successful")
            return MergeOutcome(None, False, n, msg, result.resolutions)
        self.staged = result.root
        if squash:
            self.persist()
            return MergeOutcome(None, False, 0, "merge successful", result.resolutions)
        self.merge = MergeState(
            theirs=theirs, ours=self.head, pre_merge_working=pre_merge, base_root=None,
            theirs_label=label, details=details,
        )
        text = message or f"Merge branch '{label}' into {self.branch}"
        address = self.commit(text, author=author)
        return MergeOutcome(address, False, 0, "merge successful", result.resolutions)

    def _enter_merge(self, result: RootMerge, state: MergeState) -> None:
        """Leave ``result`` in the working set with merge state ``state`` (invariant (5)):
        tables that merged cleanly are staged; a table left with conflicts, violations or a
        schema conflict keeps HEAD's version staged until it is resolved (``put_resolved``)."""
        head = self.tip_root
        root = result.root
        merged = sorted(n for n in set(root) | set(head) if root.get(n) != head.get(n))
        self.merge = replace(state, details={**state.details, "merged_tables": merged})
        self.working = result.root
        unresolved = set(result.per_table_conflicted) | {c.table for c in result.schema_conflicts}
        staged = result.root
        for name in unresolved:
            head_address = head.get(name)
            if head_address is not None:
                staged = staged.with_table(name, head_address)
            elif name in staged:
                staged = staged.without_table(name)
        self.staged = staged

    def merge_abort(self, operation: str | None = None) -> None:
        """Give up the merge in progress (or, with ``operation`` 'cherry-pick', only a
        cherry-pick that stopped on conflicts) and restore the pre-merge working set."""
        if self.merge is None or (
            operation is not None and self.merge.details.get("operation") != operation
        ):
            raise NoMergeInProgress(f"there is no {operation or 'merge'} to abort on this branch")
        pre = self.root(self.merge.pre_merge_working)
        self.working = pre
        self.staged = self.head_root
        self.merge = None
        self.persist()

    def resolve_conflicts(self, tables: Sequence[str], strategy: str) -> None:
        """Resolve every conflict of ``tables`` ('ours', 'theirs' or 'combine')."""
        names = list(self.working) if tables in ((".",), ["."]) else list(tables)
        schema_conflicted = {c["table"] for c in self.schema_conflicts()}
        for name in names:
            if name in schema_conflicted:
                self._resolve_schema_conflict(name, strategy)
                continue
            found = self.working.find(name) or name
            resolved = resolve_table_conflicts(self.nodes, self.table(name), strategy)
            self.put_resolved(found, resolved)

    def put_resolved(self, name: str, table: Table) -> None:
        """Store ``table`` after conflicts of it were resolved; once none is left, stage
        it, as ``dolt_conflicts_resolve`` does (invariant (5))."""
        self.put_table(name, table)
        if table.artifacts is None:
            self.staged = self.staged.with_table(name, table.address)

    def schema_conflicts(self) -> list[dict]:
        """Schema conflicts of the merge in progress (table, column, description)."""
        return list(self.merge.details.get("schema_conflicts", [])) if self.merge else []

    def _resolve_schema_conflict(self, name: str, strategy: str) -> None:
        """A table whose schemas conflict is resolved whole: ours or theirs."""
        if strategy == "theirs":
            theirs = self.commit_root(self.merge.theirs)
            found = theirs.find(name)
            self.working = (
                self.working.with_table(name, theirs[found])
                if found
                else self.working.without_table(name)
            )
        elif strategy != "ours":
            raise InvalidInput(
                f"table {name!r} has a schema conflict, which only --ours or --theirs resolves"
            )
        found = self.working.find(name)
        self.staged = (
            self.staged.with_table(found, self.working[found])
            if found
            else (self.staged.without_table(name) if name in self.staged else self.staged)
        )
        remaining = [c for c in self.schema_conflicts() if c["table"] != name]
        details = {**self.merge.details, "schema_conflicts": remaining}
        self.merge = replace(self.merge, details=details)

    def apply_commits(
        self, commits: Sequence[bytes], *, revert: bool, author=None, label: str = ""
    ) -> MergeOutcome:
        """Cherry-pick (revert=False) or revert (revert=True) commits onto HEAD, one new
        commit each, persisted in ONE write. The first that conflicts stops there: its
        conflicts stay in the working set with a merge state (operation 'cherry-pick' or
        'revert'; ``merge_abort`` undoes it), the commits made before it are kept."""
        verb = "revert" if revert else "cherry-pick"
        self._refuse_artifacts(verb)
        if self.merge is not None:
            raise MergeInProgress(
                f"cannot {verb}: a merge is in progress on this branch (commit it, or abort "
                "it with dolt_merge('--abort'))"
            )
        if self.working.address != self.head_root.address:
            raise DirtyWorkingSet(
                f"cannot {verb}: the working set has uncommitted changes (commit them with "
                "dolt_commit, or discard them with dolt_reset('--hard'))"
            )
        loaded = [self.loader.load(commit) for commit in commits]
        for commit, c in zip(commits, loaded, strict=True):
            if not c.parents:
                raise InvalidInput(
                    f"cannot {verb} commit {format_address(commit)}: it is the initial commit"
                )
        outcome = MergeOutcome(None, False, 0, "")
        for commit, c in zip(commits, loaded, strict=True):
            outcome = self._apply_commit(commit, c, revert, author, label)
            if outcome.conflicts:
                break
        self.persist()
        return outcome

    def _apply_commit(
        self, commit: bytes, c: Commit, revert: bool, author, label: str
    ) -> MergeOutcome:
        parent_root = self.commit_root(c.parents[0])
        this_root = self.root(c.root)
        base, theirs = (this_root, parent_root) if revert else (parent_root, this_root)
        ours = self.tip_root
        result = merge_roots(self.nodes, base, ours, theirs, MergeOptions())
        if result.conflicts or result.schema_conflicts:
            details: dict = {"operation": "revert" if revert else "cherry-pick"}
            if result.schema_conflicts:
                details["schema_conflicts"] = [x.as_dict() for x in result.schema_conflicts]
            state = MergeState(
                theirs=c.parents[0] if revert else commit,
                ours=self.tip,
                pre_merge_working=self._store_root(self.working),
                base_root=self._store_root(base),
                theirs_label=label,
                squash=True,  # the commit that concludes it has one parent, as Dolt's
                details=details,
            )
            self._enter_merge(result, state)
            n = result.conflicts + len(result.schema_conflicts)
            return MergeOutcome(None, False, n, "conflicts found")
        self.working = self.staged = result.root
        message = f'Revert "{c.message}"' if revert else c.message
        address = self.commit(
            message,
            author=author or ((c.author, c.email) if not revert else None),
            persist=False,
        )
        return MergeOutcome(address, False, 0, message)


def _changes(a: RootValue, b: RootValue) -> list[tuple[str, str]]:
    out = []
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name), b.get(name)
        if x == y:
            continue
        out.append((name, "new table" if x is None else "deleted" if y is None else "modified"))
    return out

