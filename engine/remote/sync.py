"""Push, fetch, clone and pull: move the chunks the other side lacks, then move refs.

Sending (push): walk from the commits and tags being pushed, level by level; ask
the remote which chunks of each level it holds (its pack indexes, in one batch)
and stop there; read the rest from the local store and write them into one pack.
A chunk the local store keeps as a delta is sent as that delta when the remote
holds its base or the same pack carries it; otherwise whole (zstd-compressed).
Tree leaves are known as such from their parent, so a leaf sent as a delta is
never rebuilt. The pack is uploaded first and the manifest swapped last.

Receiving (fetch, clone): the same walk against the local store, reading pack
entries from the remote; every entry is rebuilt and hashed (pack invariant (1))
before anything is stored, and all chunks plus the ref updates are one atomic
commit to the local store, so a damaged pack stores nothing and moves no ref.

Invariants:
  (1) A remote branch moves only to a descendant of its current head, unless
      forced; a head the local store does not hold is refused ("fetch first").
  (2) The manifest names a pack only after the pack is whole on the remote;
      a lost compare-and-swap re-reads the manifest and checks (1) again, so two
      pushers never lose each other's refs, and a refused one changes nothing.
  (3) Local refs (remote-tracking, tags, branches) move only in the same
      commit that stores the chunks they reach.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from ..chunks.store import ChunkStore, RefUpdate
from ..errors import (
    BranchNotFound,
    CommitConflict,
    DirtyWorkingSet,
    InvalidInput,
    MergeInProgress,
    MissingChunk,
    PushRejected,
    RemoteError,
    RemoteNotFound,
    TagNotFound,
)
from ..hash import addresses_of, format_address
from ..history import Refs, is_ancestor
from ..history.commit import COMMIT_MAGIC
from ..history.reflog import logged
from ..history.refs import BRANCH_PREFIX, REMOTE_PREFIX, TAG_PREFIX, check_branch_name
from ..workspace import MergeOutcome, Workspace
from . import config
from .manifest import Manifest
from .opening import open_transport
from .pack import PackWriter, decode_entry, entry_base, mismatch
from .repository import RemoteRepository
from .walk import children

Progress = Callable[[int, int], None]  # (chunks, bytes) moved since the last call
SWAP_ATTEMPTS = 16
_REPORT: ContextVar[Progress | None] = ContextVar("remote_progress", default=None)


@contextmanager
def reporting(progress: Progress) -> Iterator[None]:
    """Send the progress of every transfer in this context to ``progress`` (a UI's bar),
    for callers that reach the transfer through layers that do not pass it on (SQL)."""
    token = _REPORT.set(progress)
    try:
        yield
    finally:
        _REPORT.reset(token)


def _quiet(chunks: int, size: int) -> None:
    report = _REPORT.get()
    if report is not None:
        report(chunks, size)


# --- sending ------------------------------------------------------------------------


def build_pack(store: ChunkStore, remote: RemoteRepository, wants: Sequence[bytes]) -> PackWriter:
    """A pack of every chunk reachable from ``wants`` that the remote lacks."""
    seen: set[bytes] = set()
    leaves: set[bytes] = set()
    missing: list[bytes] = []
    full: dict[bytes, bytes] = {}
    frontier = list(wants)
    while frontier:
        frontier = [a for a in dict.fromkeys(frontier) if a not in seen]
        seen.update(frontier)
        held = remote.has_many(frontier)
        level = [a for a, h in zip(frontier, held, strict=True) if not h]
        missing += level
        inner = [a for a in level if a not in leaves]
        frontier = []
        for address, data in zip(inner, store.get_many(inner), strict=True):
            full[address] = data
            kids, are_leaves = children(address, data)
            frontier += kids
            if are_leaves:
                leaves.update(kids)
    delta_forms = getattr(store, "delta_forms", None)
    forms = delta_forms(missing) if delta_forms else [None] * len(missing)
    sending = set(missing)
    bases = list({f[0] for f in forms if f is not None and f[0] not in sending})
    remote_bases = {b for b, h in zip(bases, remote.has_many(bases), strict=True) if h}
    usable = [
        f if f is not None and (f[0] in sending or f[0] in remote_bases) else None for f in forms
    ]
    rebuild = [a for a, f in zip(missing, usable, strict=True) if f is None and a not in full]
    full.update(zip(rebuild, store.get_many(rebuild), strict=True))
    writer = PackWriter()
    for address, form in zip(missing, usable, strict=True):
        if form is None:
            writer.add_chunk(address, full[address])
        else:
            writer.add_delta(address, *form)
    return writer


@dataclass
class PushedRef:
    """One ref a push moved (or found up to date)."""

    local: str | None  # None: the push deletes ``remote_ref``
    remote_ref: str
    old: bytes | None
    new: bytes | None


def push(
    store: ChunkStore,
    remote_name: str,
    refs: Sequence[tuple[str | None, str]],
    *,
    force: bool = False,
    progress: Progress = _quiet,
) -> list[PushedRef]:
    """Push each (local ref, remote ref) pair, e.g. ("refs/heads/main", "refs/heads/main");
    a local ref of None deletes the remote ref (git's ``:branch`` refspec).

    Raises:
        RemoteNotFound: no such remote. BranchNotFound / TagNotFound: no such local ref.
        PushRejected: a remote branch would not move forward (invariant (1)).
        RemoteUnreachable: the remote's storage failed.
    """
    url = config.remote_url(store, remote_name)
    remote = RemoteRepository(open_transport(url))
    plan = []
    for local, remote_ref in refs:
        if local is None:
            old = remote.manifest.refs.get(remote_ref)
            if old is None:
                raise BranchNotFound(
                    f"cannot delete {remote_ref!r} on {url}: it does not exist there"
                )
            plan.append(PushedRef(None, remote_ref, old, None))
            continue
        new = store.get_ref(local)
        if new is None:
            kind, name = (
                ("tag", local[len(TAG_PREFIX) :])
                if local.startswith(TAG_PREFIX)
                else ("branch", local[len(BRANCH_PREFIX) :])
            )
            error = TagNotFound if kind == "tag" else BranchNotFound
            raise error(f"cannot push {kind} {name!r}: there is no such local {kind}")
        old = remote.manifest.refs.get(remote_ref)
        _check_forward(store, url, remote_ref, old, new, force)
        plan.append(PushedRef(local, remote_ref, old, new))
    writer = build_pack(
        store, remote, [p.new for p in plan if p.new is not None and p.old != p.new]
    )
    packs: dict[str, int] = {}
    if len(writer):
        name, data = writer.finish()
        remote.transport.put_pack(name, data)  # invariant (2): the pack first
        packs[name] = len(data)
        progress(len(writer), len(data))
    if any(p.old != p.new for p in plan):
        _swap_refs(store, remote, plan, packs, force)
    _track(store, remote_name, {p.remote_ref: p.new for p in plan})
    return plan


def _swap_refs(
    store: ChunkStore,
    remote: RemoteRepository,
    plan: list[PushedRef],
    packs: dict[str, int],
    force: bool,
) -> None:
    """Move the remote refs of ``plan`` and name ``packs`` in one manifest swap (invariant (2))."""
    for _ in range(SWAP_ATTEMPTS):
        current = remote.manifest
        for p in plan:
            moved = current.refs.get(p.remote_ref)
            if moved != p.old and p.new is not None:
                _check_forward(store, remote.url, p.remote_ref, moved, p.new, force)
        moved_refs = {**current.refs, **{p.remote_ref: p.new for p in plan}}
        refs = {name: address for name, address in moved_refs.items() if address is not None}
        head = current.head
        if head is None or BRANCH_PREFIX + head not in refs:
            pushed = [
                p.remote_ref[len(BRANCH_PREFIX) :]
                for p in plan
                if p.new and p.remote_ref.startswith(BRANCH_PREFIX)
            ]
            head = "main" if BRANCH_PREFIX + "main" in refs else (pushed[0] if pushed else head)
        manifest = Manifest(refs, {**current.packs, **packs}, head)
        if remote.transport.swap_manifest(manifest.encode(), remote.token):
            return
        remote.reload()
    raise RemoteError(f"the remote at {remote.url} kept changing while pushing; try again")


def _check_forward(
    store: ChunkStore, url: str, ref: str, old: bytes | None, new: bytes, force: bool
) -> None:
    """Invariant (1)."""
    if force or old is None or old == new:
        return
    name = ref.removeprefix(BRANCH_PREFIX).removeprefix(TAG_PREFIX)
    if ref.startswith(TAG_PREFIX):
        raise PushRejected(
            f"! [rejected] {name} -> {name} (already exists): tag {name!r} on {url} names "
            "another commit; delete it there first, or push with --force"
        )
    if not store.has(old) or not store.get(old)[:4] == COMMIT_MAGIC:
        raise PushRejected(
            f"! [rejected] {name} -> {name} (fetch first): the remote {url} contains work that "
            "you do not have locally; fetch first (arbor pull, or fetch and merge), then push "
            "again, or push with --force to overwrite it"
        )
    if not is_ancestor(store, old, new):
        raise PushRejected(
            f"! [rejected] {name} -> {name} (non-fast-forward): the tip of your branch is behind "
            f"its remote counterpart on {url}; fetch first and merge the remote changes "
            "(arbor pull), then push again, or push with --force to overwrite them"
        )


def _track(store: ChunkStore, remote_name: str, moved: dict[str, bytes | None]) -> None:
    """Move the remote-tracking refs of pushed or fetched branches (tags are not tracked)."""
    for _ in range(SWAP_ATTEMPTS):
        updates = []
        for ref, new in moved.items():
            if not ref.startswith(BRANCH_PREFIX):
                continue
            name = f"{REMOTE_PREFIX}{remote_name}/{ref[len(BRANCH_PREFIX) :]}"
            current = store.get_ref(name)
            if current != new:
                updates.append(RefUpdate(name, current, new))  # new None: deleted remotely
        if not updates or store.commit({}, logged(updates)):
            return
    raise CommitConflict("remote-tracking refs kept changing; run the command again")


# --- receiving ----------------------------------------------------------------------


@dataclass
class Received:
    """Chunks read from a remote, checked, with their delta forms."""

    chunks: dict[bytes, bytes] = field(default_factory=dict)
    bases: dict[bytes, bytes] = field(default_factory=dict)
    deltas: dict[bytes, bytes] = field(default_factory=dict)
    base_chunks: dict[bytes, bytes] = field(default_factory=dict)
    pending: dict[bytes, bytes] = field(default_factory=dict)  # fetched base entries
    unchecked: list[bytes] = field(default_factory=list)  # decoded, not yet hashed
    wire_bytes: int = 0


def receive(
    store: ChunkStore,
    remote: RemoteRepository,
    wants: Sequence[bytes],
    progress: Progress = _quiet,
    *,
    store_is_empty: bool = False,
) -> Received:
    """Every chunk reachable from ``wants`` that ``store`` lacks, read and verified
    (level by level: a level's chunks are hashed in one batch before their children
    are read from them)."""
    got = Received()
    seen: set[bytes] = set()
    frontier = list(wants)
    while frontier:
        frontier = [a for a in dict.fromkeys(frontier) if a not in seen]
        seen.update(frontier)
        held = [False] * len(frontier) if store_is_empty else store.has_many(frontier)
        need = [a for a, h in zip(frontier, held, strict=True) if not h]
        entries = remote.entries(need)
        size = sum(len(e) for e in entries.values())
        size += _gather_bases(store, remote, got, entries)
        for address in need:
            _resolve(store, remote, got, address, entries[address])
        _verify(got)
        frontier = [kid for address in need for kid in children(address, got.chunks[address])[0]]
        got.wire_bytes += size
        progress(len(need), size)
    return got


def _verify(got: Received) -> None:
    """Hash the chunks decoded since the last call (pack invariant (1))."""
    addresses, got.unchecked = got.unchecked, []
    actual = addresses_of([got.chunks[a] for a in addresses])
    for address, found in zip(addresses, actual, strict=True):
        if found != address:
            raise mismatch(address)


def _gather_bases(
    store: ChunkStore, remote: RemoteRepository, got: Received, entries: dict[bytes, bytes]
) -> int:
    """Make every delta base of ``entries`` available in one batch per chain link: read
    from the local store, or fetched from the remote into ``got.pending``. Returns the
    bytes fetched."""
    fetched = 0
    todo = entries
    while todo:
        bases = {b for e in todo.values() if (b := entry_base(e)) is not None}
        bases -= got.chunks.keys() | got.base_chunks.keys() | got.pending.keys() | entries.keys()
        if not bases:
            return fetched
        order = list(bases)
        try:  # a fetch's bases are nearly always the local versions of the chunks it replaces
            got.base_chunks.update(zip(order, store.get_many(order), strict=True))
        except MissingChunk:
            local = [b for b, h in zip(order, store.has_many(order), strict=True) if h]
            got.base_chunks.update(zip(local, store.get_many(local), strict=True))
        todo = remote.entries([b for b in order if b not in got.base_chunks])
        got.pending.update(todo)
        fetched += sum(len(e) for e in todo.values())
    return fetched


def _resolve(
    store: ChunkStore, remote: RemoteRepository, got: Received, address: bytes, entry: bytes
) -> bytes:
    if address in got.chunks:
        return got.chunks[address]

    def base(b: bytes) -> bytes:
        if b in got.chunks:
            return got.chunks[b]
        if b in got.base_chunks:
            return got.base_chunks[b]
        if b in got.pending:
            return _resolve(store, remote, got, b, got.pending.pop(b))
        if store.has(b):
            got.base_chunks[b] = store.get(b)
            return got.base_chunks[b]
        return _resolve(store, remote, got, b, remote.entries([b])[b])

    data, base_address, body = decode_entry(address, entry, base, check=False)
    got.chunks[address] = data
    got.unchecked.append(address)
    if base_address is not None:
        assert body is not None  # decode_entry gives a delta entry its body
        got.bases[address] = base_address
        got.deltas[address] = body
    return data


def _store(
    store: ChunkStore,
    got: Received,
    updates: list[RefUpdate],
    extra: dict[bytes, bytes] | None = None,
) -> None:
    chunks = {**got.chunks, **(extra or {})}
    if not store.commit(
        chunks, logged(updates), bases=got.bases, base_chunks=got.base_chunks, deltas=got.deltas
    ):
        raise CommitConflict("local refs changed while fetching; nothing was stored: run it again")


@dataclass
class FetchResult:
    remote: str
    url: str
    updated: dict[str, tuple[bytes | None, bytes | None]]  # tracking ref -> (old, new)
    chunks: int
    wire_bytes: int


def fetch(
    store: ChunkStore,
    remote_name: str,
    branches: Sequence[str] = (),
    *,
    prune: bool = False,
    progress: Progress = _quiet,
) -> FetchResult:
    """Fetch ``branches`` (all when empty) and the tags the local store lacks.

    Raises:
        RemoteNotFound: no such remote. BranchNotFound: a branch the remote lacks.
        CorruptChunk: a pack entry does not hash to its address; nothing was stored.
    """
    url = config.remote_url(store, remote_name)
    remote = RemoteRepository(open_transport(url))
    if not remote.exists:
        raise RemoteNotFound(
            f"the remote {remote_name!r} at {url} holds no repository (push to it first)"
        )
    on_remote = remote.manifest.branches()
    names = list(branches) or list(on_remote)
    for name in names:
        if name not in on_remote:
            raise BranchNotFound(
                f"branch {name!r} not found on remote {remote_name!r} "
                f"(its branches: {', '.join(on_remote) or 'none'})"
            )
    tags = {
        t: a for t, a in remote.manifest.tags().items() if store.get_ref(TAG_PREFIX + t) is None
    }
    got = receive(store, remote, [on_remote[n] for n in names] + list(tags.values()), progress)
    updates: list[RefUpdate] = []
    moved: dict[str, tuple[bytes | None, bytes | None]] = {}
    prefix = f"{REMOTE_PREFIX}{remote_name}/"
    for name in names:
        ref = prefix + name
        current = store.get_ref(ref)
        if current != on_remote[name]:
            updates.append(RefUpdate(ref, current, on_remote[name]))
            moved[ref] = (current, on_remote[name])
    if prune:
        for ref, address in store.list_refs(prefix).items():
            if ref[len(prefix) :] not in on_remote:
                updates.append(RefUpdate(ref, address, None))
                moved[ref] = (address, None)
    updates += [RefUpdate(TAG_PREFIX + t, None, a) for t, a in tags.items()]
    _store(store, got, updates)
    return FetchResult(remote_name, url, moved, len(got.chunks), got.wire_bytes)


def clone_into(
    directory: Path,
    open_store: Callable[[Path], ChunkStore],
    url: str,
    *,
    branch: str | None = None,
    remote_name: str = "origin",
    progress: Progress = _quiet,
) -> str:
    """Make ``directory`` a clone of the repository at ``url``; return the branch checked out.

    ``open_store(path)`` creates a repository's store in directory ``path``. The clone
    is built in a hidden sibling directory and renamed into place when complete, so
    ``directory`` never holds half a repository: on any failure it is as it was (absent,
    or empty).

    Raises:
        InvalidInput: ``directory`` exists and is not empty.
        RemoteNotFound: nothing was ever pushed to ``url``.
        BranchNotFound: ``branch`` is not on the remote.
    """
    check_branch_name(remote_name)
    directory = Path(directory).absolute()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InvalidInput(
            f"cannot clone into {str(directory)!r}: it exists and is not an empty directory"
        )
    remote = RemoteRepository(open_transport(config.normalise_url(url)), whole_packs=True)
    on_remote = remote.manifest.branches()
    if not remote.exists or not on_remote:
        raise RemoteNotFound(
            f"no ArborDB repository at {url} (nothing has been pushed there; check the URL, "
            "or push a repository to it first)"
        )
    if branch is None:
        branch = (
            remote.manifest.head if remote.manifest.head in on_remote else next(iter(on_remote))
        )
    elif branch not in on_remote:
        raise BranchNotFound(
            f"branch {branch!r} not found on {url} (its branches: {', '.join(on_remote)})"
        )
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.clone-", dir=directory.parent))
    try:
        store = open_store(staging)
        try:
            _fill_clone(store, remote, url, branch, remote_name, progress)
        finally:
            store.close()
        if directory.exists():
            directory.rmdir()  # empty, checked above
        staging.rename(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return branch


def _fill_clone(
    store: ChunkStore,
    remote: RemoteRepository,
    url: str,
    branch: str,
    remote_name: str,
    progress: Progress,
) -> None:
    on_remote = remote.manifest.branches()
    tags = remote.manifest.tags()
    got = receive(
        store, remote, [*on_remote.values(), *tags.values()], progress, store_is_empty=True
    )
    refs = Refs(store)
    chunks, default = refs.default_branch_update(branch)
    updates = [RefUpdate(BRANCH_PREFIX + branch, None, on_remote[branch]), default]
    updates += [
        RefUpdate(f"{REMOTE_PREFIX}{remote_name}/{b}", None, a) for b, a in on_remote.items()
    ]
    updates += [RefUpdate(TAG_PREFIX + t, None, a) for t, a in tags.items()]
    _store(store, got, updates, chunks)
    config.add_remote(store, remote_name, config.normalise_url(url))
    config.set_upstream(store, branch, remote_name, branch)


# --- pull ---------------------------------------------------------------------------


def pull(
    ws: Workspace,
    remote_name: str | None = None,
    branch: str | None = None,
    *,
    ff_only: bool = False,
    progress: Progress = _quiet,
) -> MergeOutcome:
    """Fetch ``branch`` of ``remote_name`` (default: the branch's upstream) and merge it.

    Conflicts stay in the working set as with a local merge; a dirty working set
    is refused before anything is fetched.

    Raises:
        DirtyWorkingSet: uncommitted changes; nothing changed.
        MergeInProgress: a merge is not yet concluded; nothing changed.
        InvalidInput: ``ff_only`` and the branches have diverged; only the fetch happened.
    """
    store = ws.store
    if ws.merge is not None:
        raise MergeInProgress(
            f"cannot pull into {ws.branch!r}: a merge is in progress (commit or abort it first)"
        )
    if ws.status():
        raise DirtyWorkingSet(
            f"cannot pull into {ws.branch!r}: the working set has uncommitted changes "
            "(commit them, or discard them with `arbor reset --hard`); nothing was fetched"
        )
    remote_name, branch = upstream_of(store, ws.branch, remote_name, branch)
    fetched = fetch(store, remote_name, [branch], progress=progress)
    tracking = f"{remote_name}/{branch}"
    theirs = store.get_ref(REMOTE_PREFIX + tracking)
    if theirs is None:  # fetch just set it (it raises BranchNotFound for a branch the remote lacks)
        raise BranchNotFound(f"the remote branch {tracking!r} is gone; fetch it again")
    if ff_only and not is_ancestor(store, ws.head, theirs):
        raise InvalidInput(
            f"cannot fast-forward {ws.branch!r} to {tracking}: the branches have diverged "
            "(pull without --ff-only to merge them); the fetch was kept"
        )
    message = f"Merge branch '{branch}' of {fetched.url} into {ws.branch}"
    return ws.merge_revision(tracking, message=message)


def upstream_of(
    store: ChunkStore, local: str, remote_name: str | None, branch: str | None
) -> tuple[str, str]:
    """The remote and branch a pull or push of ``local`` means when not named."""
    upstream = config.upstreams(store).get(local)
    if remote_name is None:
        if upstream is not None:
            remote_name = upstream[0]
        else:
            known = config.remotes(store)
            if not known:
                raise RemoteNotFound(
                    "this repository has no remotes; add one with `arbor remote add origin URL` "
                    "(or CALL dolt_remote('add', 'origin', URL))"
                )
            if len(known) != 1 and "origin" not in known:
                raise RemoteNotFound(
                    f"branch {local!r} has no upstream and there is no single remote to use; "
                    "name the remote (and set an upstream with push -u)"
                )
            remote_name = "origin" if "origin" in known else next(iter(known))
    if branch is None:
        branch = upstream[1] if upstream is not None and upstream[0] == remote_name else local
    return remote_name, branch


# --- maintenance --------------------------------------------------------------------


def gc_remote(url: str, *, grace_seconds: float = 3600.0) -> int:
    """Delete the packs a remote's manifest does not name (left by interrupted pushes)
    that are older than ``grace_seconds`` (younger ones may belong to a push in
    flight). Returns how many were deleted."""
    remote = RemoteRepository(open_transport(config.normalise_url(url)))
    listed = set(remote.manifest.packs)
    doomed = [
        n
        for n, age in remote.transport.list_packs().items()
        if n not in listed and age >= grace_seconds
    ]
    for name in doomed:
        remote.transport.delete_pack(name)
    return len(doomed)


def describe(address: bytes | None) -> str:
    return "(none)" if address is None else format_address(address)
