"""The commit graph: loading commits, ancestry walks, log order and merge bases.

Every function takes either a ``ChunkStore`` or a ``CommitLoader``; pass one
``CommitLoader`` to several calls to share its cache. Commits are immutable
and named by their hash, so a cached commit is never stale; a loader is still
bound to one store, so that a commit missing from that store is reported as
missing rather than served from another store's cache.

Heights drive every walk. A commit's height is 1 + the greatest height among
its parents (commit.py), so a parent is always strictly lower than its child,
and walking a priority queue from the highest height down visits every commit
after all of its descendants in the walk. The loader checks that rule on
every parent it loads and raises ``CorruptChunk`` if a stored height breaks it.

Log order (Dolt's): repeatedly take the highest commit not yet listed; equal
heights go newest timestamp first, then by address so the order is total.
Each commit is listed once, however many paths lead to it. ``first_parent``
follows only first parents: the history of the branch itself, without the
commits that merges brought in.

Merge base: paint the ancestors of both commits in height order, marking
where each side reaches; a commit both sides reach is a common ancestor, and
everything below it is marked stale, so only the best common ancestors
(those that are not ancestors of another common ancestor) remain. The walk
stops once every queued commit is stale, so it reads only as deep as the
merge base. With several best common ancestors (a criss-cross merge)
``merge_base`` returns the one with the latest timestamp, as ``git
merge-base`` does (git sorts the merge bases by commit date and prints the
first), ties going to the greater height and then the smaller address.
Like Dolt and unlike git's recursive strategy, we do not merge the bases into
a virtual ancestor.

History index (``history``): a head's commits in log order with each one's position,
so that "is this commit in HEAD's history, and where" is a dictionary lookup.
Commits never change, so an index is never stale; the loader keeps the indexes of
the last few heads (``CommitLoader.HISTORIES``), and a head whose only parent is
indexed extends that index by one entry instead of walking again: a new commit on a
branch costs one commit read, not a walk of its history.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from arbordb.engine.cache import LruCache
from arbordb.engine.chunks.store import ChunkStore
from arbordb.engine.errors import CorruptChunk
from arbordb.engine.hash import format_address

from .commit import Commit, decode_commit, now_timestamp


class LogEntry(NamedTuple):
    """One commit in a walk: its address and the decoded commit."""

    address: bytes
    commit: Commit


class CommitLoader:
    """Loads commits from one store, keeping the most recently used ones decoded.

    Args:
        store: the chunk store to read.
        capacity: how many decoded commits to keep (each is a few hundred bytes).
    """

    __slots__ = ("store", "capacity", "_cache", "histories")

    HISTORIES = 8  # history indexes kept (each holds one entry per commit of a head)

    def __init__(self, store: ChunkStore, capacity: int = 4096) -> None:
        self.store = store
        self.capacity = capacity
        self._cache: LruCache[bytes, Commit] = LruCache(capacity)
        self.histories: LruCache[bytes, History] = LruCache(self.HISTORIES)

    def load(self, address: bytes) -> Commit:
        """Return the commit at ``address``.

        Raises:
            MissingChunk: no chunk has that address.
            CorruptChunk: the chunk is not a valid commit.
        """
        commit = self._cache.get(address)
        if commit is None:
            commit = decode_commit(self.store.get(address))
            self._cache.put(address, commit)
        return commit

    def parents(
        self, address: bytes, commit: Commit, *, first_only: bool = False
    ) -> list[LogEntry]:
        """Return the parents of ``commit`` (stored at ``address``), first parent first.

        Args:
            first_only: load only the first parent.

        Raises:
            CorruptChunk: a parent is not lower than ``commit`` (a broken height).
        """
        out = []
        for parent in commit.parents[:1] if first_only else commit.parents:
            loaded = self.load(parent)
            if loaded.height >= commit.height:
                raise CorruptChunk(
                    address,
                    f"commit height {commit.height} is not above its parent "
                    f"{format_address(parent)} of height {loaded.height}",
                )
            out.append(LogEntry(parent, loaded))
        return out


def _loader(source: ChunkStore | CommitLoader) -> CommitLoader:
    return source if isinstance(source, CommitLoader) else CommitLoader(source)


def load_commit(source: ChunkStore | CommitLoader, address: bytes) -> Commit:
    """Return the commit at ``address`` (MissingChunk / CorruptChunk as ``CommitLoader.load``)."""
    return _loader(source).load(address)


def make_commit(
    source: ChunkStore | CommitLoader,
    *,
    root: bytes,
    parents: Sequence[bytes],
    author: str,
    email: str,
    message: str,
    timestamp: int | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Commit:
    """Build a commit on top of stored parents, computing its height.

    Args:
        timestamp: int microseconds since the epoch; None means now.

    Raises:
        MissingChunk: a parent is not in the store (invariant (2) of refs.py).
        InvalidInput: a field is invalid (see ``Commit``).
    """
    loader = _loader(source)
    height = 1 + max((loader.load(p).height for p in parents), default=0)
    return Commit(
        root=root,
        parents=tuple(parents),
        author=author,
        email=email,
        timestamp=now_timestamp() if timestamp is None else timestamp,
        message=message,
        height=height,
        metadata=dict(metadata or {}),
    )


def _order(entry: LogEntry) -> tuple[int, int, bytes]:
    return (-entry.commit.height, -entry.commit.timestamp, entry.address)


def ancestors(
    source: ChunkStore | CommitLoader, head: bytes, *, first_parent: bool = False
) -> Iterator[LogEntry]:
    """Yield ``head`` and every ancestor once, in log order (see the module docstring).

    Raises:
        MissingChunk, CorruptChunk: while walking, if the graph is damaged.
    """
    loader = _loader(source)
    entry = LogEntry(head, loader.load(head))
    if first_parent:
        while True:
            yield entry
            if not entry.commit.parents:
                return
            entry = loader.parents(entry.address, entry.commit, first_only=True)[0]
    queue = [(_order(entry), entry)]
    seen = {head}
    while queue:
        _, entry = heapq.heappop(queue)
        yield entry
        for parent in loader.parents(entry.address, entry.commit):
            if parent.address not in seen:
                seen.add(parent.address)
                heapq.heappush(queue, (_order(parent), parent))


class History:
    """A head's commits in log order (``ancestors``) and each one's position in it.

    ``entries[0]`` is the head. ``position(address)`` is None for a commit outside
    the head's history. Immutable once built (shared by every reader of the head).
    """

    __slots__ = ("entries", "_positions", "_base", "_extra")

    def __init__(self, entries: list[LogEntry], base: History | None = None) -> None:
        self.entries = entries
        self._base = base  # a parent's index this one extends (positions shifted by one)
        self._extra = entries[0].address if base is not None else None
        self._positions: dict[bytes, int] | None = (
            None if base is not None else {e.address: i for i, e in enumerate(entries)}
        )

    def __len__(self) -> int:
        return len(self.entries)

    def position(self, address: bytes) -> int | None:
        """Where ``address`` is in log order (0 for the head), or None if unreachable."""
        if self._positions is not None:
            return self._positions.get(address)
        if address == self._extra:
            return 0
        assert self._base is not None  # an index without positions extends a base
        found = self._base.position(address)
        return None if found is None else found + 1

    def entry(self, address: bytes) -> LogEntry | None:
        """The log entry of ``address`` if it is in this history."""
        found = self.position(address)
        return None if found is None else self.entries[found]


_MAX_CHAIN = 64  # extensions stacked on one built index before building a flat one


def history(source: ChunkStore | CommitLoader, head: bytes) -> History:
    """The history index of ``head`` (see the module docstring), cached by the loader.

    Raises:
        MissingChunk, CorruptChunk: while walking, if the graph is damaged.
    """
    loader = _loader(source)
    found = loader.histories.get(head)
    if found is not None:
        return found
    commit = loader.load(head)
    base = loader.histories.get(commit.parents[0]) if len(commit.parents) == 1 else None
    if base is not None and _depth(base) < _MAX_CHAIN:
        loader.parents(head, commit)  # checks the parent's height
        built = History([LogEntry(head, commit), *base.entries], base)
    else:
        built = History(list(ancestors(loader, head)))
    loader.histories.put(head, built)
    return built


def _depth(index: History) -> int:
    depth = 0
    while index._base is not None:
        index, depth = index._base, depth + 1
    return depth


def log(
    source: ChunkStore | CommitLoader,
    head: bytes,
    *,
    first_parent: bool = False,
    limit: int | None = None,
) -> list[LogEntry]:
    """Return the history of ``head`` in log order, newest first, at most ``limit`` commits."""
    out: list[LogEntry] = []
    if limit is not None and limit <= 0:
        return out
    for entry in ancestors(source, head, first_parent=first_parent):
        out.append(entry)
        if limit is not None and len(out) >= limit:
            break
    return out


def is_ancestor(source: ChunkStore | CommitLoader, ancestor: bytes, descendant: bytes) -> bool:
    """True if ``ancestor`` is ``descendant`` or reachable from it through parents.

    Reads only the commits of ``descendant``'s history that are higher than ``ancestor``.
    """
    if ancestor == descendant:
        return True
    loader = _loader(source)
    floor = loader.load(ancestor).height
    top = loader.load(descendant)
    queue = [(-top.height, descendant, top)]
    seen = {descendant}
    while queue:
        _, address, commit = heapq.heappop(queue)
        for parent in loader.parents(address, commit):
            if parent.address == ancestor:
                return True
            if parent.commit.height > floor and parent.address not in seen:
                seen.add(parent.address)
                heapq.heappush(queue, (-parent.commit.height, parent.address, parent.commit))
    return False


def ahead_behind(source: ChunkStore | CommitLoader, base: bytes, other: bytes) -> tuple[int, int]:
    """(commits ``other`` reaches that ``base`` does not, commits ``base`` reaches that
    ``other`` does not): how far ``other`` is ahead of and behind ``base``, as git's
    ``rev-list --count base..other`` and ``other..base``. Reads both histories
    (cached indexes, see :func:`history`).
    """
    if base == other:
        return 0, 0
    mine, theirs = history(source, base), history(source, other)
    ahead = sum(1 for e in theirs.entries if mine.position(e.address) is None)
    behind = sum(1 for e in mine.entries if theirs.position(e.address) is None)
    return ahead, behind


_OURS, _THEIRS, _STALE = 1, 2, 4
_BOTH = _OURS | _THEIRS


def merge_bases(source: ChunkStore | CommitLoader, a: bytes, b: bytes) -> list[bytes]:
    """Return every best common ancestor of ``a`` and ``b``, the preferred one first.

    Empty if the histories share no commit. A single element unless the
    history has criss-cross merges; the order is the one ``merge_base`` picks
    from (latest timestamp, then greatest height, then smallest address).
    """
    loader = _loader(source)
    if a == b:
        loader.load(a)
        return [a]
    flags = {a: _OURS, b: _THEIRS}
    commits = {a: loader.load(a), b: loader.load(b)}
    queue = [(-commits[x].height, x) for x in (a, b)]
    heapq.heapify(queue)
    live = 2  # queued commits not marked stale; when none is left, no new base can appear
    found: list[bytes] = []
    while live:
        _, address = heapq.heappop(queue)
        mark = flags[address]
        commit = commits.pop(address)
        if not mark & _STALE:
            live -= 1
            if mark & _BOTH == _BOTH:
                found.append(address)
                mark |= _STALE  # its ancestors are common, but not best
        for parent in loader.parents(address, commit):
            # Height order: a parent is lower than ``address``, so it is not popped yet.
            old = flags.get(parent.address)
            if old is None:
                flags[parent.address] = mark
                commits[parent.address] = parent.commit
                heapq.heappush(queue, (-parent.commit.height, parent.address))
                live += not mark & _STALE
            elif old | mark != old:
                flags[parent.address] = old | mark
                live -= bool(mark & _STALE and not old & _STALE)
    chosen = {x: loader.load(x) for x in found}
    return sorted(found, key=lambda x: (-chosen[x].timestamp, -chosen[x].height, x))


def merge_base(source: ChunkStore | CommitLoader, a: bytes, b: bytes) -> bytes | None:
    """Return the lowest common ancestor of ``a`` and ``b``, or None if there is none.

    See the module docstring for how a criss-cross history is resolved.
    """
    bases = merge_bases(source, a, b)
    return bases[0] if bases else None
