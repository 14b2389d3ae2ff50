"""``MemoryChunkStore``: the reference ``ChunkStore``, three dicts and a lock.

It shows the protocol's semantics without storage details, and it is the store
most tests use. Nothing is durable. Chunks are kept as immutable ``bytes``, so
they cannot be corrupted in place and ``get`` does no integrity check.

Concurrency: every write, and every read that spans several items, holds one
``threading.Lock``, so a commit is atomic to other threads (store invariant (3))
and ``get_many`` / ``list_refs`` see one state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence

from ..errors import CorruptChunk, GcEpochMoved, MissingChunk
from ..hash import address_of, addresses_of, prefix_range, require_address
from .store import (
    RefUpdate,
    check_chunk_addresses,
    check_ref_updates,
    dangling_ref,
    encode_name,
    unique_match,
)


class MemoryChunkStore:
    """A ``ChunkStore`` held in process memory.

    Args:
        check_addresses: re-hash the chunks of every ``commit`` against the
            addresses given for them (on by default: this store serves tests).
    """

    def __init__(self, *, check_addresses: bool = True) -> None:
        self._chunks: dict[bytes, bytes] = {}
        self._refs: dict[str, bytes] = {}
        self._meta: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._check_addresses = check_addresses
        self._gc_epoch = 0  # how many collections deleted chunks

    # --- chunks ---------------------------------------------------------------

    def get(self, address: bytes) -> bytes:
        address = require_address(address)
        try:
            return self._chunks[address]
        except KeyError:
            raise MissingChunk(address) from None

    def get_many(self, addresses: Sequence[bytes]) -> list[bytes]:
        checked = [require_address(address) for address in addresses]
        with self._lock:
            try:
                return [self._chunks[address] for address in checked]
            except KeyError as exc:
                raise MissingChunk(exc.args[0]) from None

    def has(self, address: bytes) -> bool:
        return require_address(address) in self._chunks

    def has_many(self, addresses: Sequence[bytes]) -> list[bool]:
        with self._lock:
            return [require_address(address) in self._chunks for address in addresses]

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
        """``ChunkStore.put_many``; delta hints and ``bulk`` are ignored (chunks are kept whole)."""
        owned = [bytes(chunk) for chunk in chunks]  # a caller's bytearray may change later
        addresses = list(addresses) if addresses is not None else addresses_of(owned)
        with self._lock:
            for address, data in zip(addresses, owned, strict=True):
                self._chunks.setdefault(address, data)
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
        """``ChunkStore.commit``; delta hints are ignored (chunks are kept whole)."""
        updates = check_ref_updates(ref_updates)
        owned = {require_address(address): bytes(data) for address, data in chunks.items()}
        if self._check_addresses:
            check_chunk_addresses(owned)
        with self._lock:
            if gc_epoch is not None and gc_epoch != self._gc_epoch:
                raise GcEpochMoved("garbage collection ran since this write began")
            for _, (name, expected, _) in updates:
                if self._refs.get(name) != expected:
                    return False  # invariant (4): nothing written
            for _, (name, _, new) in updates:
                if new is not None and new not in owned and new not in self._chunks:
                    raise dangling_ref(name, new)  # invariant (2)
            for address, data in owned.items():
                self._chunks.setdefault(address, data)
            for _, (name, _, new) in updates:
                if new is None:
                    self._refs.pop(name, None)
                else:
                    self._refs[name] = new
        return True

    def resolve_prefix(self, text_prefix: str) -> bytes:
        low, high = prefix_range(text_prefix)
        with self._lock:
            matches = [address for address in self._chunks if low <= address <= high]
        return unique_match(text_prefix, matches)

    def iter_addresses(self) -> Iterator[bytes]:
        with self._lock:
            addresses = sorted(self._chunks)
        return iter(addresses)

    def delete_many(self, addresses: Sequence[bytes]) -> int:
        checked = [require_address(address) for address in addresses]
        with self._lock:
            return sum(self._chunks.pop(address, None) is not None for address in checked)

    def gc_epoch(self) -> int:
        return self._gc_epoch

    def collect_garbage(self, mark: Callable[..., set[bytes]]) -> dict[str, int]:
        """``ChunkStore.collect_garbage``: mark and sweep under the lock, one state."""

        def read_many(addresses: Sequence[bytes]) -> list[bytes]:
            try:
                return [self._chunks[address] for address in addresses]
            except KeyError as exc:
                raise MissingChunk(exc.args[0]) from None

        with self._lock:
            keep = mark(list(self._refs.values()), read_many, set())
            doomed = [address for address in self._chunks if address not in keep]
            freed = sum(len(self._chunks.pop(address)) for address in doomed)
            if doomed:
                self._gc_epoch += 1
        return {"kept": len(keep), "deleted": len(doomed), "freed_bytes": freed}

    def verify(self, address: bytes) -> None:
        data = self.get(address)
        if address_of(data) != address:
            raise CorruptChunk(address, "its bytes do not hash to its address (BLAKE3)")

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "chunks": len(self._chunks),
                "stored_bytes": sum(map(len, self._chunks.values())),
                "refs": len(self._refs),
            }

    # --- refs and meta ----------------------------------------------------------

    def get_ref(self, name: str) -> bytes | None:
        encode_name(name)
        return self._refs.get(name)

    def get_refs(self, names: Sequence[str]) -> list[bytes | None]:
        for name in names:
            encode_name(name)
        with self._lock:
            return [self._refs.get(name) for name in names]

    def list_refs(self, prefix: str = "") -> dict[str, bytes]:
        with self._lock:
            names = sorted(n for n in self._refs if n.startswith(prefix))
            return {name: self._refs[name] for name in names}

    def get_meta(self, key: str) -> bytes | None:
        encode_name(key, "meta key")
        return self._meta.get(key)

    def set_meta(self, key: str, value: bytes) -> None:
        encode_name(key, "meta key")
        with self._lock:
            self._meta[key] = bytes(value)

    def close(self) -> None:
        """Nothing to release; the data lives as long as this object."""
