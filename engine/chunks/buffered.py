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

Delta hints (``put_many``'s ``bases``) travel with their pending chunks to
``inner.commit`` and are dropped with them; they never change what is read.

Refs and meta are never buffered: ``get_ref``/``list_refs`` read ``inner``, and
``set_meta`` writes through at once. Not thread-safe: one operation, one wrapper.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence

from ..errors import AmbiguousPrefix, CorruptChunk, MissingChunk
from ..hash import address_of, addresses_of, prefix_range, require_address
from .store import ChunkStore, RefUpdate, unique_match


class BufferedChunkStore:
    """A write buffer over any ``ChunkStore`` (see the module docstring).

    Args:
        inner: the store that ``flush`` commits to; ``close`` closes it too.
    """

    def __init__(self, inner: ChunkStore) -> None:
        self.inner = inner
        self._pending: dict[bytes, bytes] = {}
        self._bases: dict[bytes, bytes] = {}  # pending chunk -> the chunk it replaces
        self._base_chunks: dict[bytes, bytes] = {}  # a base -> its bytes, held by the writer
        self._deltas: dict[bytes, bytes] = {}  # pending chunk -> its body against its base

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
        """Forget every pending chunk (the operation is abandoned)."""
        self._pending.clear()
        self._bases.clear()
        self._base_chunks.clear()
        self._deltas.clear()

    # --- writes -------------------------------------------------------------------

    def put(self, data: bytes) -> bytes:
        return self.put_many([data])[0]

    def put_many(
        self,
        chunks: Sequence[bytes],
        bases: Sequence[bytes | None] | None = None,
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Sequence[bytes | None] | None = None,
    ) -> list[bytes]:
        owned = [bytes(chunk) for chunk in chunks]
        addresses = addresses_of(owned)
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
    ) -> bool:
        """``flush`` with extra ``chunks``: they are written only if the commit succeeds."""
        batch = {**self._pending, **chunks} if chunks else self._pending
        hints = {**self._bases, **bases} if bases else self._bases
        held = {**self._base_chunks, **base_chunks} if base_chunks else self._base_chunks
        made = {**self._deltas, **deltas} if deltas else self._deltas
        if not self.inner.commit(  # invariant (2)
            batch, ref_updates, bases=hints, base_chunks=held, deltas=made
        ):
            return False
        self._pending = {}
        self._bases = {}
        self._base_chunks = {}
        self._deltas = {}
        return True

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

    def list_refs(self, prefix: str = "") -> dict[str, bytes]:
        return self.inner.list_refs(prefix)

    def get_meta(self, key: str) -> bytes | None:
        return self.inner.get_meta(key)

    def close(self) -> None:
        """Discard what is pending (an unflushed operation is abandoned), close ``inner``."""
        self.discard()
        self.inner.close()
