"""A branch's working state (``WorkspaceState``): the model and invariants of ``Workspace``.

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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ..chunks.buffered import BufferedChunkStore
from ..chunks.store import ChunkStore, RefUpdate
from ..errors import (
    BranchDeleted,
    CommitConflict,
    InvalidInput,
    RevisionNotFound,
    TableNotFound,
)
from ..history import (
    BRANCH_PREFIX,
    WORKING_SET_PREFIX,
    CommitLoader,
    Refs,
    WorkingSet,
    branch_ref,
    decode_working_set,
    encode_working_set,
    working_set_ref,
)
from ..history.reflog import logged
from ..history.revision import (
    Revision,
    RevisionKind,
    parse_time,
    resolve_as_of_time,
    resolve_revision,
)
from ..root import RootValue
from ..table import Table
from ..tree import NodeStore
from ..versioning.reach import chunk_children


@dataclass(frozen=True)
class TableStatus:
    table: str
    staged: bool
    status: str  # 'new table', 'modified', 'deleted', 'conflict', 'constraint violation'


class WorkspaceState:
    """A branch's state as a session read it: roots, persistence, tables, revisions."""

    def __init__(
        self, store: ChunkStore, nodes: NodeStore, loader: CommitLoader, branch: str
    ) -> None:
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
        head, self.ws_address = self.store.get_refs(  # one snapshot: they agree
            [BRANCH_PREFIX + self.branch, WORKING_SET_PREFIX + self.branch]
        )
        self.head = head if head is not None else self._read_head()  # BranchNotFound
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

    # --- revisions -------------------------------------------------------------------

    def revision(self, text: str | datetime | date, *, times: bool = False) -> Revision:
        """What revision ``text`` names, read from this workspace's snapshot: ``HEAD`` is
        ``self.head`` (the commit the session's transaction began on, or its own latest
        commit), even when another writer has moved the branch since. The one resolver
        of the engine: branch, tag, hash or prefix, ``HEAD~N``, ``^N``, remote-tracking
        refs, ``WORKING`` and ``STAGED`` (history/revision.py has the grammar).

        With ``times`` (``AS OF``), a datetime or date, or text that names no revision
        but reads as an ISO time, names the first commit at or before that time on
        HEAD's first-parent history (Dolt's ``AS OF TIMESTAMP``).

        Raises:
            InvalidInput: malformed text, or a time where ``times`` is False.
            RevisionNotFound: nothing has that name (nor, with ``times``, is a time),
                or every commit is later than the time.
            AmbiguousPrefix: a hash prefix matches several chunks.
        """
        if not isinstance(text, str):
            moment = parse_time(text) if times else None
            if moment is None:
                raise InvalidInput(
                    f"revision {text!r} is not text; name a branch, tag or commit hash"
                )
            return Revision(RevisionKind.COMMIT, resolve_as_of_time(self.loader, self.head, moment))
        try:
            return resolve_revision(self.loader, text, current_branch=self.branch, head=self.head)
        except RevisionNotFound:
            moment = parse_time(text) if times else None
            if moment is None:
                raise
            return Revision(RevisionKind.COMMIT, resolve_as_of_time(self.loader, self.head, moment))

    def resolve_commit(self, text: str) -> bytes:
        rev = self.revision(text)
        if rev.kind in (RevisionKind.WORKING, RevisionKind.STAGED):
            raise InvalidInput(f"{text!r} is not a commit (use a branch, tag or commit hash)")
        return rev.commit

    def root_at(self, text: str | datetime | date, *, times: bool = False) -> RootValue:
        """The root value a revision names, WORKING and STAGED included (``times``: as
        ``revision``)."""
        rev = self.revision(text, times=times)
        if rev.kind == RevisionKind.WORKING:
            return self.working
        if rev.kind == RevisionKind.STAGED:
            return self.staged
        return self.commit_root(rev.commit)

    def moved_since_read(self) -> bool:
        """True when another writer moved this branch's head or working set since this
        workspace read them (``reload`` then sees the newer state)."""
        head, ws_address = self.store.get_refs(
            [BRANCH_PREFIX + self.branch, WORKING_SET_PREFIX + self.branch]
        )
        return ws_address != self.ws_address or head != self.head
