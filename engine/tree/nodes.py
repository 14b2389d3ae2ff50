"""Reading and writing tree nodes through a chunk store, with decoded-node caches.

``NodeStore`` is the only part of the tree that touches the chunk store. Nodes
are immutable and addressed by content, so a decoded node cached by address is
never stale. Internal nodes are small and few (about one per 110 leaves) and
stay cached; the bytes of recently read or written chunks are kept in a bounded
LRU (an ``engine.cache.LruCache``), from which point lookups read their row directly
(``codec/point.py``), with the leaf's parsed header kept by address beside it. Leaves
whose column types that reader does not handle are decoded for point lookups and kept
in a small LRU of their own.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeVar, cast

import numpy as np
import pyarrow as pa

from ..cache import LruCache
from ..chunks.column_frames import (
    BufferPick,
    PickedLeaf,
    pick_from_leaf,
    pick_from_leaves,
    read_buffers,
)
from ..chunks.store import ChunkStore
from ..codec import point
from ..codec.internal import decode_internal, encode_internal, node_level
from ..codec.layout import LeafLayouts
from ..codec.leaf import decode_leaves, decode_picked, leaf_header, leaf_keys
from ..codec.sparse import take_rows
from ..errors import CorruptChunk, FormatVersionError
from .keyarray import sortable
from .splitter import INTERNAL_RULE, LEAF_RULE, ChunkRule

# what parsing a malformed node raises; callers turn it into CorruptChunk
DECODE_ERRORS = (ValueError, IndexError, struct.error, FormatVersionError, pa.ArrowException)
_Parsed = TypeVar("_Parsed")
HEADER_CACHE = 16_384  # leaf headers kept for point lookups


@dataclass(frozen=True, slots=True)
class Internal:
    """A decoded internal node: children's last keys, addresses and row counts."""

    level: int
    keys: list[bytes]
    addresses: list[bytes]
    counts: np.ndarray

    def child_for(self, key: bytes) -> int:
        """Index of the child whose range holds ``key`` (the last child if past the end)."""
        return min(bisect.bisect_left(self.keys, key), len(self.keys) - 1)


@dataclass(frozen=True, slots=True)
class Joined:
    """Leaves joined for byte-level work (``NodeStore.leaf_layouts``), with their
    addresses: one reader hands them to the next that needs the same leaves."""

    addresses: list[bytes]
    layouts: LeafLayouts


class Leaf:
    """A decoded leaf with what point lookups need where ``codec/point.py`` cannot
    read the row from bytes (decimal, date, timestamp, list columns): a binary
    search over its keys (numpy, over a zero-copy view when the keys have one
    width) and one row's values read from the Arrow columns."""

    __slots__ = ("keys", "columns", "_sortable")

    def __init__(self, keys: pa.BinaryArray, columns: list[pa.Array]) -> None:
        self.keys = keys
        self.columns = columns
        self._sortable: np.ndarray | None = None

    def find(self, key: bytes) -> int:
        """Row index of ``key``, or -1."""
        if self._sortable is None:
            self._sortable = sortable(self.keys)
        keys = self._sortable
        if len(key) > keys.dtype.itemsize or not len(keys):
            return -1
        i = int(np.searchsorted(keys, key))
        return i if i < len(keys) and self.keys[i].as_py() == key else -1

    def row(self, i: int) -> tuple:
        return tuple(c[i].as_py() for c in self.columns)


class NodeStore:
    """Decodes nodes from a chunk store and writes new ones to it."""

    def __init__(
        self,
        store: ChunkStore,
        leaf_cache_size: int = 1024,
        *,
        chunk_cache_bytes: int = 128 << 20,
        leaf_rule: ChunkRule = LEAF_RULE,
        internal_rule: ChunkRule = INTERNAL_RULE,
    ) -> None:
        self.store = store
        # The chunking rules are part of the on-disk format; tests pass tiny ones
        # to get deep trees from a few rows.
        self.leaf_rule = leaf_rule
        self.internal_rule = internal_rule
        self._internal: dict[bytes, Internal] = {}
        self._leaves: LruCache[tuple[bytes, tuple], Leaf] = LruCache(leaf_cache_size)
        # Recently read or written chunk bytes: an edit reads the leaves it rewrites, and
        # the diff or merge that follows reads them again; with the store's delta records
        # each read would rebuild the chunk from its base. A chunk over a quarter of the
        # budget is not kept.
        self._chunks: LruCache[bytes, bytes] = LruCache(
            chunk_cache_bytes, weigh=len, max_unit=chunk_cache_bytes // 4
        )
        # The parsed headers of leaves point lookups read (a few hundred bytes each).
        self._headers: LruCache[bytes, tuple] = LruCache(HEADER_CACHE)

    def with_store(self, store: ChunkStore) -> NodeStore:
        """A NodeStore over another store (e.g. a write buffer) sharing these caches.

        Safe because nodes are immutable and addressed by content: a cached node is
        the same whichever store holds its bytes.
        """
        other = NodeStore.__new__(NodeStore)
        other.store = store
        other.leaf_rule, other.internal_rule = self.leaf_rule, self.internal_rule
        other._internal, other._leaves = self._internal, self._leaves
        other._chunks = self._chunks
        other._headers = self._headers
        return other

    # --- reading -----------------------------------------------------------

    def level(self, address: bytes) -> int:
        node = self._internal.get(address)
        if node is not None:
            return node.level
        return node_level(self.store.get(address))

    def internal(self, address: bytes) -> Internal:
        node = self._internal.get(address)
        if node is None:
            data = self.store.get(address)
            try:
                node = Internal(*decode_internal(data))
            except (ValueError, IndexError, FormatVersionError) as exc:
                raise CorruptChunk(address, f"internal node does not decode: {exc}") from exc
            if len(self._internal) > 100_000:
                self._internal.clear()
            self._internal[address] = node
        return node

    def leaf(self, address: bytes, types: Sequence[pa.DataType]) -> Leaf:
        cache_key = (address, tuple(types))
        leaf = self._leaves.get(cache_key)
        if leaf is None:
            keys, columns = self.decode_leaves([address], types)
            leaf = Leaf(keys, columns)
            self._leaves.put(cache_key, leaf)
        return leaf

    def row(self, address: bytes, types: Sequence[pa.DataType], key: bytes) -> tuple | None:
        """The value row under ``key`` in leaf ``address``, or None.

        Read straight from the leaf's bytes (``codec/point.py``; the bytes kept in
        the chunk cache) where the column types allow, else from the decoded leaf.
        """
        if point.readable(types):
            chunk = self._chunks.get(address)
            if chunk is None:
                chunk = self.store.get(address)
                self._chunks.put(address, chunk)
            try:
                header = self._headers.get(address)
                if header is None:
                    header = leaf_header(chunk)
                    self._headers.put(address, header)
                return point.row_of(chunk, key, types, header)
            except DECODE_ERRORS:
                pass  # decoding below names the damaged leaf
        leaf = self.leaf(address, types)
        i = leaf.find(key)
        return leaf.row(i) if i >= 0 else None

    def decode_leaves(
        self, addresses: Sequence[bytes], types: Sequence[pa.DataType]
    ) -> tuple[pa.BinaryArray, list[pa.Array]]:
        """Keys and columns of many leaves, in the given order, decoded in bulk."""
        if not addresses:
            return pa.array([], pa.binary()), [pa.array([], t) for t in types]
        return self._parsed(addresses, partial(decode_leaves, types=types), types)

    def decode_some(
        self,
        addresses: Sequence[bytes],
        leaves: Sequence[PickedLeaf],
        types: Sequence[pa.DataType],
        wanted: Sequence[int],
        keys: bool,
    ) -> tuple[pa.BinaryArray | None, dict[int, pa.Array]]:
        """Some value columns (and the keys when ``keys``) of leaves whose buffers
        were read with ``read_buffers``; see ``codec.leaf.decode_picked``."""
        parse = partial(decode_picked, leaves, types=types, wanted=wanted, keys=keys)
        try:
            return parse()
        except DECODE_ERRORS as exc:
            bad = _first_bad_leaf(addresses, self.read(addresses, keep=False), types)
            if bad is None:
                raise  # every leaf decodes alone: a limit, not damage
            raise CorruptChunk(bad, f"leaf does not decode: {exc}") from exc

    def read_buffers(self, addresses: Sequence[bytes], pick: BufferPick) -> list[PickedLeaf]:
        """The buffers ``pick`` asks for of many leaves (``chunks.column_frames``): from
        the chunk cache where it holds the leaf, the rest from the store, which reads
        only those buffers' bytes of a leaf stored buffer by buffer. Nothing enters
        the cache (a scan does not evict what edits and lookups reuse)."""
        cached = self._chunks.get_many(addresses)
        missing = [a for a, c in zip(addresses, cached, strict=True) if c is None]
        try:
            if not missing:
                return pick_from_leaves(cast(list[bytes], cached), pick)
            fetched = read_buffers(self.store, missing, pick)
            if len(missing) == len(addresses):
                return fetched
            held = [c for c in cached if c is not None]
            from_cache = iter(pick_from_leaves(held, pick))
            from_store = iter(fetched)
            return [next(from_store if c is None else from_cache) for c in cached]
        except DECODE_ERRORS as exc:
            chunks = self.read(addresses, keep=False)
            for address, chunk in zip(addresses, chunks, strict=True):
                try:
                    pick_from_leaf(chunk, pick)
                except DECODE_ERRORS:
                    raise CorruptChunk(address, f"leaf does not decode: {exc}") from exc
            raise

    def leaf_keys(self, addresses: Sequence[bytes]) -> pa.BinaryArray:
        """The keys of many leaves as one array."""
        return self._parsed(addresses, leaf_keys)

    def leaf_layouts(self, addresses: Sequence[bytes]) -> LeafLayouts:
        """The leaves' bytes joined, with their buffer tables (``codec/layout.py``)."""
        return self._parsed(addresses, LeafLayouts)

    def _parsed(
        self,
        addresses: Sequence[bytes],
        parse: Callable[[Sequence[bytes]], _Parsed],
        types: Sequence[pa.DataType] = (),
        chunks: Sequence[bytes] | None = None,
    ) -> _Parsed:
        """``parse`` of the leaves' bytes; a failure names the first damaged leaf."""
        if chunks is None:
            chunks = self.read(addresses)
        try:
            return parse(chunks)
        except DECODE_ERRORS as exc:
            bad = _first_bad_leaf(addresses, chunks, types)
            if bad is None:
                raise  # every leaf decodes alone: a limit, not damage
            raise CorruptChunk(bad, f"leaf does not decode: {exc}") from exc

    def take_rows(
        self,
        addresses: Sequence[bytes],
        layouts: LeafLayouts,
        leaf: np.ndarray,
        row: np.ndarray,
        types: Sequence[pa.DataType],
    ) -> tuple[pa.BinaryArray, list[pa.Array]]:
        """Keys and value columns of row ``row[i]`` of leaf ``addresses[leaf[i]]``
        (``layouts`` of those leaves), reading only those rows (``codec/sparse.py``);
        list columns decode the leaves whole."""
        if not any(pa.types.is_list(t) for t in types):
            try:
                return take_rows(layouts, leaf, row, types)
            except DECODE_ERRORS:
                pass  # decoding below names the damaged leaf
        keys, columns = self.decode_leaves(addresses, types)
        take = pa.array((np.cumsum(layouts.counts) - layouts.counts)[leaf] + row, pa.int64())
        return keys.take(take), [c.take(take) for c in columns]

    def read(self, addresses: Sequence[bytes], *, keep: bool = True) -> list[bytes]:
        """Chunk bytes, from the cache where possible, the rest in one store read.

        ``keep=False`` (a streamed scan) leaves the chunks it fetched out of the cache,
        so a scan does not evict the leaves that edits, diffs and lookups reuse.
        """
        chunks = self._chunks.get_many(addresses)
        missing = [i for i, c in enumerate(chunks) if c is None]
        if missing:
            wanted = [addresses[i] for i in missing]
            fetched = self.store.get_many(wanted)
            for i, data in zip(missing, fetched, strict=True):
                chunks[i] = data
            if keep:
                self._chunks.put_many(zip(wanted, fetched, strict=True))
        return cast(list[bytes], chunks)  # every missing entry was filled from the store

    # --- writing -----------------------------------------------------------

    def write(
        self,
        chunks: Sequence[bytes],
        bases: Sequence[bytes | None] | None = None,
        deltas: Sequence[bytes] | None = None,
        *,
        keep: bool = True,
    ) -> list[bytes]:
        """Store new nodes; returns their addresses (identical nodes dedup).

        ``bases``: for each node, the old node it replaces (or None), a hint that
        lets the store keep it as a delta (``ChunkStore.put_many``); the bytes of
        those held in the chunk cache go along, so the store need not read them.
        ``deltas``: for each node, its delta body against its base if the caller
        made one while writing it (``codec/patch.py``). ``keep=False`` (a streamed
        load) leaves them out of the chunk cache.
        """
        if not chunks:
            return []
        if bases is None:  # sinks that take no hints (checker's) stay valid stores
            addresses = self.store.put_many(chunks)
        else:
            held = {b: data for b in bases if b is not None and (data := self._chunks.peek(b))}
            addresses = self.store.put_many(chunks, bases=bases, base_chunks=held, deltas=deltas)
        if keep:  # a diff or edit right after reads them
            self._chunks.put_many(zip(addresses, chunks, strict=True))
        return addresses

    def write_internals(
        self, nodes: Sequence[tuple[int, list[bytes], list[bytes], np.ndarray]]
    ) -> list[bytes]:
        """Store internal nodes given as (level, keys, addresses, counts); keep them cached."""
        addresses = self.write([encode_internal(*node) for node in nodes])
        for address, node in zip(addresses, nodes, strict=True):
            self._internal[address] = Internal(
                node[0], node[1], node[2], np.asarray(node[3], np.int64)
            )
        return addresses


def _first_bad_leaf(
    addresses: Sequence[bytes], chunks: Sequence[bytes], types: Sequence[pa.DataType]
) -> bytes | None:
    """The first leaf that does not decode on its own, or None when each does (the
    chunk store already checked every chunk's bytes against its checksum)."""
    for address, chunk in zip(addresses, chunks, strict=True):
        try:
            decode_leaves([chunk], types)
        except DECODE_ERRORS:
            return address
    return None
