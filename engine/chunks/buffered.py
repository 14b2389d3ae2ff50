"""``BufferedChunkStore``: turn one logical operation into one write transaction.

An edit writes many chunks (tree nodes, a table header, a root value, a commit)
and then moves a ref. Written one ``put`` at a time, that would be many durable
transactions and a window in which a crash leaves chunks that nothing names.
This wrapper keeps ``put`` in memory and hands everything to ``inner.commit``
together with the ref updates, in one atomic write:

    IDLE --put/put_many--> PENDING --flush(refs) True--> IDLE
                           PENDING --flush(refs) False--> PENDING (retry or discard)
                           PENDING --discard()/close()--> IDLE

Invariants:
  (1) A pending chunk is visible to this wrapper's reads at once, and to nobody
      else until ``flush`` (or ``commit``) returns ``True``.
  (2) ``flush`` writes every pending chunk together with the ref updates, so each
      ref lands with the chunks it names (store invariant (2)).
  (3) A lost compare-and-swap keeps the pending chunks: the caller may re-read,
      rebuild its ref updates and flush again, or ``discard``.
  (4) With ``children``, ``flush`` writes only the pending chunks that its ref updates
      reach: a long operation that rewrote the same rows many times made many
      versions of their nodes, and only the last is named; the others are dropped
      with the flush (a delta hint to a dropped chunk moves to that chunk's own base).
      A chunk that its refs do not name must not be pending in such a buffer if it is
      to be stored.

Garbage collection (store invariant (5)): given ``children`` (what a chunk
names), the wrapper reads the store's gc epoch when it is made (before its
writer reads anything) and hands it to every ``inner.commit``; a commit that
succeeds ran at that epoch, with refs naming what the writer built on. If a
collection deleted chunks since, the commit raises ``GcEpochMoved``; the
wrapper then checks that every stored chunk its pending chunks name is still
stored (they were read before the collection, or deduplicated against it) and
commits again, or, when one was collected, raises ``CommitConflict`` and writes
nothing: the operation built on data that no ref reached any more, and is run
again on a fresh read. Without ``children`` (a writer whose chunks name only
what it writes with them, or what its ref updates' compare-and-swap vouch for)
no epoch is checked.

Delta hints (``put_many``'s ``bases``) travel with their pending chunks to
``inner.commit`` and are dropped with them; they never change what is read.

``spill`` (a gc-checked wrapper only) stores the pending chunks in ``inner`` early,
with no ref naming them, so that a long write (a streamed load) holds none of them
in memory: they are visible to other readers before the refs land, as garbage
that nothing names, and a commit that meets a moved gc epoch checks that every
spilled chunk is still stored (``CommitConflict`` if not).

Refs and meta are never buffered: ``get_ref``/``list_refs`` read ``inner``, and
``set_meta`` writes through at once. Not thread-safe: one operation, one wrapper.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping, Sequence

from ..errors import AmbiguousPrefix, CommitConflict, CorruptChunk, GcEpochMoved, MissingChunk
from ..hash import address_of, addresses_of, prefix_range, require_address
from .column_frames import (
    BufferPick,
    PickedBlock,
    PointLeaf,
    block_of_leaves,
    pick_from_leaves,
    point_leaf_of_chunk,
    read_buffers,
    read_point_leaf,
)
from .store import ChunkStore, RefUpdate, unique_match


class BufferedChunkStore:
    """A write buffer over any ``ChunkStore`` (see the module docstring).

    Args:
        inner: the store that ``flush`` commits to; ``close`` closes it too.
        children: ``(address, bytes) -> addresses the chunk names``; when given,
            commits are checked against garbage collection (module docstring).
    """

    def __init__(
        self, inner: ChunkStore, children: Callable[[bytes, bytes], list[bytes]] | None = None
    ) -> None:
        self.inner = inner
        self._children = children
        self._gc_epoch = inner.gc_epoch() if children is not None else None
        self._pending: dict[bytes, bytes] = {}
        self._bases: dict[bytes, bytes] = {}  # pending chunk -> the chunk it replaces
        self._base_chunks: dict[bytes, bytes] = {}  # a base -> its bytes, held by the writer
        self._deltas: dict[bytes, bytes] = {}  # pending chunk -> its body against its base
        self._spilled: list[bytes] = []  # stored early by ``spill``, no ref names them yet

    @property
    def pending_count(self) -> int:
        """How many distinct chunks wait for ``flush``."""
        return len(self._pending)

    @property
    def pending_bytes(self) -> int:
        """How many bytes the pending chunks hold."""
        return sum(map(len, self._pending.values()))

    def flush(self, ref_updates: Sequence[RefUpdate] = ()) -> bool:
        """Commit the pending chunks and ``ref_updates`` in one transaction of ``inner``.

        Returns ``inner.commit``'s answer: ``True`` empties the buffer; ``False`` (a
        ref moved) leaves it as it was (invariant (3)).
        """
        return self.commit({}, ref_updates)

    def discard(self) -> None:
        """Forget every pending chunk (the operation is abandoned; spilled chunks
        stay stored, unnamed, for garbage collection)."""
        self._pending.clear()
        self._bases.clear()
        self._base_chunks.clear()
        self._deltas.clear()
        self._spilled.clear()

    def spill(self) -> None:
        """Store the pending chunks in ``inner`` now, without refs, and forget their
        bytes (see the module docstring). Does nothing on a wrapper made without
        ``children``, which cannot check them against garbage collection."""
        if not self._pending or self._children is None:
            return
        addresses = list(self._pending)
        self.inner.put_many(
            list(self._pending.values()),
            [self._bases.get(a) for a in addresses],
            self._base_chunks,
            [self._deltas.get(a) for a in addresses],
            bulk=True,
            addresses=addresses,
        )
        self._spilled.extend(addresses)
        self._pending = {}
        self._bases = {}
        self._base_chunks = {}
        self._deltas = {}

    def detach_spill(self) -> Callable[[], None]:
        """``spill`` in two steps: the pending chunks leave the buffer now, and the
        call returned stores them in ``inner``. It may run on another thread while the
        writer goes on building (a streamed load overlaps its zstd and LMDB work with
        the next batch), but nothing may read those chunks, flush or commit before it
        has returned (``spill`` keeps them readable throughout)."""
        if not self._pending or self._children is None:
            return lambda: None
        addresses = list(self._pending)
        chunks = list(self._pending.values())
        bases = [self._bases.get(a) for a in addresses]
        base_chunks = self._base_chunks
        deltas = [self._deltas.get(a) for a in addresses]
        self._spilled.extend(addresses)
        self._pending = {}
        self._bases = {}
        self._base_chunks = {}
        self._deltas = {}

        def store() -> None:
            self.inner.put_many(chunks, bases, base_chunks, deltas, bulk=True, addresses=addresses)

        return store

    # --- writes -------------------------------------------------------------------

    def put(self, data: bytes) -> bytes:
        return self.put_many([data])[0]

    def put_many(
        self,
        chunks: Sequence[bytes],
        bases: Sequence[bytes | None] | None = None,
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Sequence[bytes | None] | None = None,
        *,
        bulk: bool = False,
        addresses: Sequence[bytes] | None = None,
    ) -> list[bytes]:
        owned = [bytes(chunk) for chunk in chunks]
        addresses = list(addresses) if addresses is not None else addresses_of(owned)
        self._pending.update(zip(addresses, owned, strict=True))  # invariant (1)
        if bases is not None:
            for address, base in zip(addresses, bases, strict=True):
                if base is not None:
                    self._bases[address] = base
        if base_chunks:
            self._base_chunks.update(base_chunks)
        if deltas is not None:
            for address, body in zip(addresses, deltas, strict=True):
                if body is not None:
                    self._deltas[address] = body
        return addresses

    def commit(
        self,
        chunks: Mapping[bytes, bytes],
        ref_updates: Sequence[RefUpdate] = (),
        bases: Mapping[bytes, bytes] | None = None,
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Mapping[bytes, bytes] | None = None,
        gc_epoch: int | None = None,
    ) -> bool:
        """``flush`` with extra ``chunks``: they are written only if the commit succeeds.
        ``gc_epoch``: the caller's epoch, checked instead of this wrapper's (the
        caller then handles ``GcEpochMoved``)."""
        batch: Mapping[bytes, bytes] = {**self._pending, **chunks} if chunks else self._pending
        hints: Mapping[bytes, bytes] = {**self._bases, **bases} if bases else self._bases
        held = {**self._base_chunks, **base_chunks} if base_chunks else self._base_chunks
        made: Mapping[bytes, bytes] = {**self._deltas, **deltas} if deltas else self._deltas
        if self._children is not None:  # invariant (4)
            batch, hints, made = self._reachable(batch, ref_updates, chunks, hints, made)
        while True:
            try:
                if not self.inner.commit(  # invariant (2)
                    batch,
                    ref_updates,
                    bases=hints,
                    base_chunks=held,
                    deltas=made,
                    gc_epoch=self._gc_epoch if gc_epoch is None else gc_epoch,
                ):
                    return False
                break
            except GcEpochMoved:
                if gc_epoch is not None or self._children is None:
                    raise
                epoch = self.inner.gc_epoch()
                self._check_still_stored(batch, self._spilled)
                self._gc_epoch = epoch  # what that check found holds from this epoch on
        # The commit ran at epoch ``self._gc_epoch``, and its refs name what this
        # writer built on: the epoch stays the one to check next time.
        self._pending = {}
        self._bases = {}
        self._base_chunks = {}
        self._deltas = {}
        self._spilled = []
        return True

    def _reachable(
        self,
        batch: Mapping[bytes, bytes],
        ref_updates: Sequence[RefUpdate],
        extra: Mapping[bytes, bytes],
        hints: Mapping[bytes, bytes],
        made: Mapping[bytes, bytes],
    ) -> tuple[Mapping[bytes, bytes], Mapping[bytes, bytes], Mapping[bytes, bytes]]:
        """The pending chunks that ``ref_updates`` reach (and ``extra``), with the delta
        hints of those kept re-pointed past the chunks dropped (invariant (4))."""
        assert self._children is not None
        kept: dict[bytes, bytes] = {}
        work = [u.new for u in ref_updates if u.new is not None] + list(extra)
        while work:
            address = work.pop()
            data = batch.get(address)
            if data is None or address in kept:
                continue  # stored already: what it names is stored too (store invariant (2))
            kept[address] = data
            try:
                work.extend(self._children(address, data))
            except CorruptChunk:
                return batch, hints, made  # a chunk no walk can read: write everything
        if len(kept) == len(batch):
            return batch, hints, made
        rehinted: dict[bytes, bytes] = {}
        for address, base in hints.items():
            if address not in kept:
                continue
            steps = 0
            found: bytes | None = base
            while found is not None and found in batch and found not in kept and steps < len(batch):
                found, steps = hints.get(found), steps + 1  # past a superseded version
            if found is not None and found != address:
                rehinted[address] = found
        bodies = {a: b for a, b in made.items() if a in kept and rehinted.get(a) == hints.get(a)}
        return kept, rehinted, bodies

    def _check_still_stored(self, batch: Mapping[bytes, bytes], spilled: Sequence[bytes]) -> None:
        """Raise ``CommitConflict`` if a chunk ``batch`` names, outside it, or one of
        ``spilled``, is not stored."""
        assert self._children is not None  # only a checked buffer passes an epoch
        named = {kid for address, data in batch.items() for kid in self._children(address, data)}
        outside = [address for address in {*named, *spilled} if address not in batch]
        missing = [a for a, s in zip(outside, self.inner.has_many(outside), strict=True) if not s]
        if missing:
            raise CommitConflict(
                f"garbage collection removed {len(missing)} chunk(s) this change builds on "
                "(data no branch, tag or working set reached any more); nothing was written "
                "(reload the branch and run the change again)"
            )

    def delete_many(self, addresses: Sequence[bytes]) -> int:
        checked = list(dict.fromkeys(require_address(address) for address in addresses))
        stored = self.inner.has_many(checked)
        only_pending = sum(
            self._pending.pop(address, None) is not None and not was_stored
            for address, was_stored in zip(checked, stored, strict=True)
        )
        for address in checked:
            self._bases.pop(address, None)
            self._deltas.pop(address, None)
        return self.inner.delete_many(checked) + only_pending

    def set_meta(self, key: str, value: bytes) -> None:
        self.inner.set_meta(key, value)

    def gc_epoch(self) -> int:
        return self.inner.gc_epoch()

    def collect_garbage(self, mark: Callable[..., set[bytes]]) -> dict[str, int]:
        """``inner``'s collection; pending chunks are not stored, so not collected."""
        return self.inner.collect_garbage(mark)

    # --- reads --------------------------------------------------------------------

    def get(self, address: bytes) -> bytes:
        data = self._pending.get(address)
        return data if data is not None else self.inner.get(address)

    def get_many(self, addresses: Sequence[bytes]) -> list[bytes]:
        pending = self._pending
        if not pending:
            return self.inner.get_many(addresses)
        misses = [a for a in addresses if a not in pending]
        found = dict(zip(misses, self.inner.get_many(misses), strict=True))
        return [pending[a] if a in pending else found[a] for a in addresses]

    def get_buffers(self, addresses: Sequence[bytes], pick: BufferPick) -> PickedBlock:
        """Some buffers of many leaves (``column_frames.read_buffers``): buffered ones
        sliced from their bytes, the others read through the inner store."""
        pending = self._pending
        if not pending:
            return read_buffers(self.inner, addresses, pick)
        misses = [a for a in addresses if a not in pending]
        read = read_buffers(self.inner, misses, pick).leaves() if misses else []
        found = dict(zip(misses, read, strict=True))
        mine = [a for a in addresses if a in pending]
        found.update(zip(mine, pick_from_leaves([pending[a] for a in mine], pick), strict=True))
        return block_of_leaves([found[a] for a in addresses], pick.keys)

    def get_point_leaf(self, address: bytes) -> PointLeaf:
        """One leaf's buffers for a point read (``column_frames.read_point_leaf``)."""
        data = self._pending.get(address)
        if data is not None:
            return point_leaf_of_chunk(data)
        return read_point_leaf(self.inner, address)

    def has(self, address: bytes) -> bool:
        return address in self._pending or self.inner.has(address)

    def has_many(self, addresses: Sequence[bytes]) -> list[bool]:
        stored = self.inner.has_many(addresses)
        return [s or a in self._pending for a, s in zip(addresses, stored, strict=True)]

    def resolve_prefix(self, text_prefix: str) -> bytes:
        low, high = prefix_range(text_prefix)
        mine = [a for a in self._pending if low <= a <= high]
        try:
            stored = [self.inner.resolve_prefix(text_prefix)]
        except MissingChunk:
            stored = []
        except AmbiguousPrefix as exc:
            extra = sum(not was_stored for was_stored in self.inner.has_many(mine))
            raise AmbiguousPrefix(text_prefix, exc.count + extra) from None
        return unique_match(text_prefix, sorted({*mine, *stored}))

    def iter_addresses(self) -> Iterator[bytes]:
        previous = None
        for address in heapq.merge(sorted(self._pending), self.inner.iter_addresses()):
            if address != previous:
                yield address
            previous = address

    def verify(self, address: bytes) -> None:
        data = self._pending.get(address)
        if data is None:
            self.inner.verify(address)
        elif address_of(data) != address:
            raise CorruptChunk(address, "its bytes do not hash to its address (BLAKE3)")

    def stats(self) -> dict[str, int]:
        """``inner``'s stats, counting pending chunks it lacks, plus ``pending_chunks``
        and ``pending_bytes``."""
        out = dict(self.inner.stats())
        pending = list(self._pending)
        new = [a for a, s in zip(pending, self.inner.has_many(pending), strict=True) if not s]
        out["chunks"] += len(new)
        out["stored_bytes"] += sum(len(self._pending[a]) for a in new)
        out["pending_chunks"] = len(pending)
        out["pending_bytes"] = self.pending_bytes
        return out

    def get_ref(self, name: str) -> bytes | None:
        return self.inner.get_ref(name)

    def get_refs(self, names: Sequence[str]) -> list[bytes | None]:
        return self.inner.get_refs(names)

    def list_refs(self, prefix: str = "") -> dict[str, bytes]:
        return self.inner.list_refs(prefix)

    def get_meta(self, key: str) -> bytes | None:
        return self.inner.get_meta(key)

    def close(self) -> None:
        """Discard what is pending (an unflushed operation is abandoned), close ``inner``."""
        self.discard()
        self.inner.close()
