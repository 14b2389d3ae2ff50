"""``Database``: a repository's store, refs and version verbs, implemented once.

Concurrency model (LMDB's, written down as G11 asks):

- Every persistent change is one LMDB write transaction: buffered chunks plus
  compare-and-swapped refs (``BufferedChunkStore.flush``). LMDB serialises
  write transactions across threads and processes; a writer that read a ref
  which has since moved gets ``CommitConflict`` (retryable) and wrote nothing.
- Readers read immutable chunks under short read transactions (snapshots) and
  never block the writer. A reader holding an old root keeps seeing it: chunks
  are never changed, only garbage-collected when no ref reaches them.
- A ``Database`` object may be shared by threads for reads; each session (SQL
  connection, CLI command) holds its own ``Workspace`` and write buffer.
- ``gc`` marks on a snapshot, then marks what refs moved meanwhile reach and
  sweeps in one write transaction, deleting only chunks the snapshot held
  (``LmdbChunkStore`` invariant (8)); a writer that planned before it checks
  its new chunks' references again (``BufferedChunkStore``). Committing
  writers in any process lose nothing. A reader of a root that no ref names
  any more can miss chunks after a gc (``MissingChunk``, as with any GC'd store).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .chunks.buffered import BufferedChunkStore
from .chunks.lmdb_store import LmdbChunkStore
from .chunks.memory import MemoryChunkStore
from .chunks.store import ChunkStore, RefUpdate
from .config import Config
from .errors import (
    AlreadyExists,
    BranchNotFound,
    CorruptChunk,
    InvalidInput,
    MissingChunk,
    NotFound,
    TagNotFound,
    UnmergedBranch,
)
from .hash import address_of, format_address
from .history import (
    BRANCH_PREFIX,
    TAG_PREFIX,
    WORKING_SET_PREFIX,
    Commit,
    CommitLoader,
    LogEntry,
    Refs,
    Tag,
    branch_ref,
    check_branch_name,
    check_tag_name,
    decode_tag,
    encode_commit,
    encode_tag,
    is_ancestor,
    log,
    make_commit,
    merge_base,
    now_timestamp,
    resolve_revision,
    tag_ref,
    working_set_ref,
)
from .history.reflog import ReflogEntry, expire_updates, logged, read_reflog
from .history.revision import RevisionKind

if TYPE_CHECKING:
    from .tree import NodeStore
    from .workspace import Workspace

# The table, tree and workspace layers (and with them pyarrow) are imported by the
# methods that use them: a command that only moves refs or reads commits (``arbor
# branch``, ``arbor tag``) opens a ``Database`` without loading them.

REPO_DIR = ".arbor"
INIT_MESSAGE = "Initialize data repository"


@dataclass(frozen=True)
class BranchInfo:
    name: str
    hash: bytes
    commit: Commit


class Database:
    """A repository: open it, then take a ``Workspace`` per branch for edits."""

    def __init__(self, store: ChunkStore, nodes: NodeStore | None = None) -> None:
        self.store = store
        self._nodes = nodes
        self.refs = Refs(store)
        self.loader = CommitLoader(store)
        self.config = Config(store)

    @property
    def nodes(self) -> NodeStore:
        """The node store tables are read through (made on first use: see the imports)."""
        if self._nodes is None:
            from .tree import NodeStore

            self._nodes = NodeStore(self.store)
        return self._nodes

    # --- opening ---------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        create: bool = True,
        read_only: bool = False,
        initial_branch: str | None = None,
        author: tuple[str, str] | None = None,
    ) -> Database:
        """Open the repository in directory ``path`` (its data in ``path/.arbor``).

        A repository made here starts on ``initial_branch`` (default: the
        ``init.defaultbranch`` setting, else ``main``), its first commit by ``author``
        (default: the configured user).
        """
        directory = Path(path)
        data = directory / REPO_DIR
        if not data.exists():
            if not create or read_only:
                raise NotFound(
                    f"no ArborDB repository at {str(directory)!r} (run `arbor init` there first)"
                )
            data.mkdir(parents=True, exist_ok=True)
        db = cls(LmdbChunkStore(data, readonly=read_only))
        if not db.refs.branches() and not read_only:
            db.init(initial_branch or db.config.get("init.defaultbranch") or "main", author)
        return db

    @staticmethod
    def store_at(directory: str | Path, *, read_only: bool = False) -> ChunkStore:
        """The chunk store of the repository in ``directory`` (its data in
        ``directory/.arbor``), for verbs that fill one before it is a ``Database``
        (clone)."""
        return LmdbChunkStore(Path(directory) / REPO_DIR, readonly=read_only)

    @classmethod
    def memory(cls) -> Database:
        db = cls(MemoryChunkStore())
        db.init()
        return db

    def close(self) -> None:
        self.store.close()

    def init(self, branch: str = "main", author: tuple[str, str] | None = None) -> bytes:
        """One commit "Initialize data repository" on ``branch`` (an empty root)."""
        if self.refs.branches():
            raise AlreadyExists("the repository is already initialised")
        from .root import RootValue

        buffer = BufferedChunkStore(self.store)
        root = RootValue()
        buffer.put(root.encode())
        name, email = author or self.config.author()
        commit = make_commit(
            buffer, root=root.address, parents=[], author=name, email=email, message=INIT_MESSAGE
        )
        address = buffer.put(encode_commit(commit))
        chunks, default = self.refs.default_branch_update(branch)
        buffer.put_many(list(chunks.values()))
        if not buffer.flush(logged([RefUpdate(branch_ref(branch), None, address), default])):
            raise AlreadyExists("another process initialised the repository at the same moment")
        return address

    # --- reading ---------------------------------------------------------------

    def workspace(self, branch: str | None = None) -> Workspace:
        from .workspace import Workspace

        return Workspace(self.store, self.nodes, self.loader, branch or self.default_branch())

    def default_branch(self) -> str:
        name = self.refs.default_branch()
        branches = self.refs.branches()
        if name in branches:
            return name
        if "main" in branches:
            return "main"
        if not branches:
            raise BranchNotFound("the repository has no branches")
        return sorted(branches)[0]

    def set_default_branch(self, name: str) -> None:
        self.refs.branch_head(name)
        chunks, update = self.refs.default_branch_update(name)
        self.refs.update([update], chunks)

    def branches(self) -> list[BranchInfo]:
        return [
            BranchInfo(n, h, self.loader.load(h)) for n, h in sorted(self.refs.branches().items())
        ]

    def tags(self) -> list[tuple[str, Tag]]:
        return [(n, decode_tag(self.store.get(a))) for n, a in sorted(self.refs.tags().items())]

    def resolve(self, text: str, branch: str | None = None) -> bytes:
        """The commit ``text`` names on ``branch`` (WORKING / STAGED: that root's address),
        through the branch's ``Workspace.revision``, the one resolver."""
        ws = self.workspace(branch)
        rev = ws.revision(text)
        if rev.kind in (RevisionKind.WORKING, RevisionKind.STAGED):
            return (ws.working if rev.kind == RevisionKind.WORKING else ws.staged).address
        return rev.commit

    def resolve_commit(self, text: str, branch: str | None = None) -> bytes:
        """The commit ``text`` names on ``branch`` (default: the default branch), as
        ``Workspace.resolve_commit`` resolves it on a fresh workspace of that branch (the
        same revisions, errors and messages) without reading its working set."""
        name = branch or self.default_branch()
        head = self.refs.branch_head(name)  # BranchNotFound, as opening a workspace raises
        rev = resolve_revision(self.loader, text, current_branch=name, head=head)
        if rev.kind in (RevisionKind.WORKING, RevisionKind.STAGED):
            raise InvalidInput(f"{text!r} is not a commit (use a branch, tag or commit hash)")
        return rev.commit

    def commit(self, address: bytes) -> Commit:
        return self.loader.load(address)

    def log(
        self,
        revision: str = "HEAD",
        *,
        branch: str | None = None,
        first_parent: bool = False,
        limit: int | None = None,
    ) -> list[LogEntry]:
        start = self.resolve_commit(revision, branch)
        return log(self.loader, start, first_parent=first_parent, limit=limit)

    def merge_base(self, a: str, b: str, branch: str | None = None) -> bytes | None:
        return merge_base(
            self.loader, self.resolve_commit(a, branch), self.resolve_commit(b, branch)
        )

    # --- branches and tags -----------------------------------------------------------

    def create_branch(
        self,
        name: str,
        start: str | bytes = "HEAD",
        *,
        branch: str | None = None,
        force: bool = False,
        workspace: Workspace | None = None,
    ) -> bytes:
        """Create (or with ``force`` move) branch ``name`` at ``start`` (revision text, or
        the address of a commit), with a clean working set at its new head (as Dolt's
        NewBranchAtCommit: a moved branch's uncommitted changes, or a deleted one's,
        never resurface).

        With ``workspace`` (the session's, on another branch), its working set is
        persisted in the same write (``dolt_checkout -b``): both land, or neither.

        The lean path of a ref write: the name is checked once, ``start`` resolved once,
        the branch's two refs read in one snapshot, then one write transaction."""
        check_branch_name(name)
        head = self._start_commit(start, branch, workspace)
        ref, ws_ref = BRANCH_PREFIX + name, WORKING_SET_PREFIX + name
        current, stale = self.store.get_refs([ref, ws_ref])
        if current is not None and not force:
            raise AlreadyExists(f"branch {name!r} already exists (use -f to move it)")
        if workspace is not None and name == workspace.branch:
            raise InvalidInput(f"branch {name!r} is checked out here; it cannot be re-created")
        if current is not None and name == branch:
            raise _forced_current(name)
        updates = [RefUpdate(ref, current, head)]
        if stale is not None:  # a branch without a working set is clean at its head
            updates.append(RefUpdate(ws_ref, stale, None))
        if workspace is not None:
            workspace.persist(extra=updates)
        else:
            self.refs.update(updates, commits=(head,))
        return head

    def _start_commit(
        self, start: str | bytes, branch: str | None, workspace: Workspace | None
    ) -> bytes:
        """The commit a new branch or tag starts at: ``start`` resolved in ``workspace``'s
        snapshot (else on ``branch``), or given as an address; either way loaded as a
        commit (``CommitLoader.load``: no read when it was loaded before, as a session's
        head is), so the ref write need not read its chunk again (``Refs.update``)."""
        if isinstance(start, bytes):
            head = start
        elif workspace is not None:
            head = workspace.resolve_commit(start)
        else:
            head = self.resolve_commit(start, branch)
        self.loader.load(head)  # MissingChunk, or CorruptChunk if it is no commit
        return head

    def delete_branch(self, name: str, *, force: bool = False, current: str | None = None) -> None:
        self.delete_branches([name], force=force, current=current)

    def delete_branches(
        self, names: Sequence[str], *, force: bool = False, current: str | None = None
    ) -> None:
        """Delete branches and their working sets, all in one write after checking every
        name first: a refused name deletes none."""
        checked_out = current or self.default_branch()
        branches = self.refs.branches()
        updates = []
        for name in dict.fromkeys(names):
            head = self.refs.branch_head(name)
            if name == checked_out and not force:
                raise InvalidInput(
                    f"cannot delete branch {name!r}: it is checked out (check out another "
                    "branch first)"
                )
            if not force:
                merged_into = [
                    b
                    for b, h in branches.items()
                    if b != name and is_ancestor(self.loader, head, h)
                ]
                if not merged_into:
                    raise UnmergedBranch(
                        f"branch {name!r} is not fully merged into any other branch "
                        "(use -D / --force to delete it anyway)"
                    )
            updates.append(RefUpdate(branch_ref(name), head, None))
            ws = self.store.get_ref(working_set_ref(name))
            if ws is not None:
                updates.append(RefUpdate(working_set_ref(name), ws, None))
        self.refs.update(updates)

    def rename_branch(
        self, old: str, new: str, *, force: bool = False, workspace: Workspace | None = None
    ) -> None:
        """Rename branch ``old`` (its working set moves with it). With ``workspace`` (the
        session's, on ``old``), the session's working set is what moves, in the same write."""
        check_branch_name(new)
        head = self.refs.branch_head(old)
        target = self.store.get_ref(branch_ref(new))
        if target is not None and not force:
            raise AlreadyExists(f"branch {new!r} already exists (use -f to overwrite it)")
        if new == old:
            return
        mine = workspace if workspace is not None and workspace.branch == old else None
        updates = [
            RefUpdate(branch_ref(old), mine.head if mine is not None else head, None),
            RefUpdate(branch_ref(new), target, head),
        ]
        ws_old = mine.ws_address if mine is not None else self.store.get_ref(working_set_ref(old))
        ws_moved = mine.write_working_set() if mine is not None else ws_old
        ws_new = self.store.get_ref(working_set_ref(new))
        if ws_old is not None:
            updates.append(RefUpdate(working_set_ref(old), ws_old, None))
        if ws_moved is not None or ws_new is not None:
            updates.append(RefUpdate(working_set_ref(new), ws_new, ws_moved))
        chunks: dict[bytes, bytes] = {}
        if self.refs.default_branch() == old:
            chunks, update = self.refs.default_branch_update(new)
            updates.append(update)
        if mine is not None:
            mine.buffer.put_many(list(chunks.values()))
            if not mine.buffer.flush(logged(updates)):
                mine.refuse_lost_race()
        else:
            self.refs.update(updates, chunks)

    def copy_branch(
        self, source: str, dest: str, *, force: bool = False, current: str | None = None
    ) -> None:
        """Copy branch ``source`` to ``dest`` (with ``force`` over an existing one, but
        never over ``current``, the caller's checked-out branch)."""
        check_branch_name(dest)
        head = self.refs.branch_head(source)
        existing = self.store.get_ref(branch_ref(dest))
        if existing is not None and not force:
            raise AlreadyExists(f"branch {dest!r} already exists (use -f to overwrite it)")
        if existing is not None and dest == current:
            raise _forced_current(dest)
        self.refs.update(
            [RefUpdate(branch_ref(dest), existing, head), *self._fresh_working_set(dest)]
        )

    def _fresh_working_set(self, branch: str) -> list[RefUpdate]:
        """The update dropping ``branch``'s stored working set, if it has one: a branch
        without one is clean at its head."""
        stale = self.store.get_ref(working_set_ref(branch))
        return [] if stale is None else [RefUpdate(working_set_ref(branch), stale, None)]

    def create_tag(
        self,
        name: str,
        revision: str | bytes = "HEAD",
        *,
        message: str = "",
        author: tuple[str, str] | None = None,
        branch: str | None = None,
    ) -> bytes:
        """Tag the commit ``revision`` names on ``branch`` (or the commit at that address)
        as ``name``; returns the commit."""
        check_tag_name(name)
        if self.store.get_ref(TAG_PREFIX + name) is not None:
            raise AlreadyExists(f"tag {name!r} already exists (delete it first with -d)")
        target = self._start_commit(revision, branch, None)
        who, email = author or self.config.author()
        tag = Tag(
            target=target,
            name=name,
            tagger=who,
            email=email,
            timestamp=now_timestamp(),
            message=message,
        )
        data = encode_tag(tag)
        address = address_of(data)
        self.refs.update([RefUpdate(TAG_PREFIX + name, None, address)], {address: data})
        return target

    def delete_tag(self, name: str) -> None:
        self.delete_tags([name])

    def delete_tags(self, names: Sequence[str]) -> None:
        """Delete tags in one write after checking every name: a missing one deletes none."""
        updates = []
        for name in dict.fromkeys(names):
            current = self.store.get_ref(tag_ref(name))
            if current is None:
                raise TagNotFound(
                    f"tag {name!r} not found (tags: {', '.join(self.refs.tags()) or 'none'})"
                )
            updates.append(RefUpdate(tag_ref(name), current, None))
        self.refs.update(updates)

    # --- maintenance --------------------------------------------------------------------

    def reachable(self) -> set[bytes]:
        """Every chunk address reachable from any ref (commits, roots, tables, nodes)."""
        from .versioning.reach import mark

        return mark(self.store.list_refs().values(), self.store.get_many)

    def _children(self, address: bytes) -> list[bytes]:
        from .versioning.reach import chunk_children

        return chunk_children(address, self.store.get(address))

    def gc(self) -> dict[str, int]:
        """Delete every chunk no ref, working set, stash or reflog entry reaches, safely
        beside writers and readers in other processes (store invariant (5)); reflog
        entries of deleted refs, and beyond the newest ``REFLOG_KEEP`` of each ref, are
        dropped first (history/reflog.py). Returns ``kept``, ``deleted`` and ``freed_bytes``."""
        from .versioning.reach import mark

        expired = expire_updates(self.store)
        if expired:  # a lost race (another gc expired them) changes nothing: go on
            self.store.commit({}, expired)
        return self.store.collect_garbage(mark)

    def reflog(self, refs: Sequence[str] | None = None) -> list[ReflogEntry]:
        """Reflog entries, newest first: of the full ref names ``refs``, or of every ref."""
        return read_reflog(self.store, refs)

    def fsck(self) -> list[str]:
        """Check every reachable chunk: present, hashes to its address, decodes.

        Returns problems.
        """
        from .table import Table

        problems: list[str] = []
        seen: set[bytes] = set()
        work = list(self.store.list_refs().items())
        while work:
            where, address = work.pop()
            if address in seen:
                continue
            seen.add(address)
            try:
                self.store.verify(address)
                kids = list(self._children(address))
            except (MissingChunk, CorruptChunk) as exc:
                problems.append(f"{where}: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - fsck reports, it does not stop
                problems.append(f"{where}: chunk {format_address(address)} does not decode: {exc}")
                continue
            work.extend((where, k) for k in kids)
        for name in self.refs.branches():
            try:
                for table_addr in self.workspace(name).head_root.values():
                    Table.load(self.nodes, table_addr).rows.check(canonical=False)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"branch {name!r}: tree invariant: {exc}")
        return problems


def _forced_current(name: str) -> InvalidInput:
    return InvalidInput(
        f"cannot force-update branch {name!r}: it is checked out (to move it, use "
        "dolt_reset --hard <revision>, or check out another branch first)"
    )
