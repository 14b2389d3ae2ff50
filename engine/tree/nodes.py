"""Reading and writing tree nodes through a chunk store, with decoded-node caches.

``NodeStore`` is the only part of the tree that touches the chunk store. Nodes
are immutable and addressed by content, so a decoded node cached by address is
never stale. Internal nodes are small and few (about one per 110 leaves) and
stay cached; the bytes of recently read or written chunks are kept in a bounded
LRU (an ``engine.cache.LruCache``). Point lookups read their row straight from a
leaf's buffers (``codec/point.py``), kept by address with their parsed header in an LRU
of their own (``point_leaf``): a leaf stored buffer by buffer is never rebuilt for them
(``column_frames.point_leaf_of_record``). ``PointReader`` is a lookup prepared for one
tree (its root, its column readers), as a cached statement holds it. Leaves whose column
types that reader does not handle are decoded for point lookups and kept in a small LRU
of their own.
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

from ..arrow_arrays import empty
from ..cache import LruCache
from ..chunks.column_frames import (
    BufferPick,
    PickedBlock,
    PointLeaf,
    block_of_leaves,
    pick_from_leaf,
    pick_from_leaves,
    point_leaf_of_chunk,
    read_buffers,
    read_point_leaf,
)
from ..chunks.store import ChunkStore
from ..codec import point
from ..codec.internal import decode_internal, encode_internal, node_level
from ..codec.layout import LeafLayouts
from ..codec.leaf import decode_leaves, decode_picked, leaf_keys
from ..codec.sparse import take_rows
from ..errors import CorruptChunk, FormatVersionError
from .keyarray import sortable
from .splitter import INTERNAL_RULE, LEAF_RULE, ChunkRule

# what parsing a malformed node raises; callers turn it into CorruptChunk
DECODE_ERRORS = (ValueError, IndexError, struct.error, FormatVersionError, pa.ArrowException)
_Parsed = TypeVar("_Parsed")
# codec/point.py's ``row_reader``: (leaf buffers, key, header) -> the value row or None
_RowReader = Callable[[bytes, bytes, tuple[int, int, list[int], tuple[int, ...]]], tuple | None]
# Leaves kept for point lookups, as their buffers end to end (about a leaf's size each):
# as the chunk cache, which point lookups no longer fill, enough for the ~1,900 leaves of
# a 1M-row table of three columns, or ~8,000 leaves in all.
POINT_CACHE_BYTES = 128 << 20


def _point_weight(leaf: PointLeaf) -> int:
    return len(leaf[0])


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


class PointReader:
    """Point lookups in one tree, prepared: its root, height and column readers are found
    once, so a lookup is a descent through cached internal nodes (a ``bisect`` each) and
    one row read from the leaf's cached buffers (``NodeStore.point_leaf``). A statement
    run in a loop keeps one per table value (``sql/session/fastpath.py``)."""

    __slots__ = ("_nodes", "_root", "_types", "_height", "_read")

    def __init__(self, nodes: NodeStore, root: bytes, types: Sequence[pa.DataType]) -> None:
        self._nodes = nodes
        self._root = root
        self._types = tuple(types)
        self._height = nodes.level(root)
        self._read = point.row_reader(self._types)

    def get(self, key: bytes) -> tuple | None:
        """The value row stored under ``key``, or None (``cursor.get``'s answer)."""
        nodes = self._nodes
        address = self._root
        if self._height:
            internal = nodes._internal
            for _ in range(self._height):
                node = internal.get(address) or nodes.internal(address)
                keys = node.keys
                i = bisect.bisect_left(keys, key)
                address = node.addresses[i if i < len(keys) else -1]
        read = self._read
        if read is not None:  # ``NodeStore._row``, inlined
            found = nodes._points.get(address)
            data, header = found if found is not None else nodes.point_leaf(address)
            try:
                return read(data, key, header)
            except DECODE_ERRORS:
                pass  # decoding names the damaged leaf
        return nodes._row(address, self._types, None, key)


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
        # The leaves point lookups read, with their parsed headers (``point_leaf``).
        self._points: LruCache[bytes, PointLeaf] = LruCache(
            POINT_CACHE_BYTES, weigh=_point_weight, max_unit=POINT_CACHE_BYTES // 4
        )

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
        other._points = self._points
        return other

    # --- reading -----------------------------------------------------------

    def level(self, address: bytes) -> int:
        node = self._internal.get(address)
        if node is not None:
            return node.level
        data = self.store.get(address)
        level = node_level(data)
        if level:  # an internal node: kept decoded, as its reader asks for it next
            self._keep_internal(address, data)
        return level

    def internal(self, address: bytes) -> Internal:
        node = self._internal.get(address)
        if node is None:
            node = self._keep_internal(address, self.store.get(address))
        return node

    def prefetch_internals(self, addresses: Sequence[bytes]) -> None:
        """Read the internal nodes of ``addresses`` not cached yet in one store read
        (a scan's lowest internal nodes: one read transaction, not one each)."""
        missing = [a for a in addresses if a not in self._internal]
        if missing:
            for address, data in zip(missing, self.store.get_many(missing), strict=True):
                self._keep_internal(address, data)

    def _keep_internal(self, address: bytes, data: bytes) -> Internal:
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

        Read straight from the leaf's buffers (``codec/point.py``, ``point_leaf``) where
        the column types allow, else from the decoded leaf.
        """
        read = point.row_reader(types) if point.readable(types) else None
        return self._row(address, types, read, key)

    def _row(
        self, address: bytes, types: Sequence[pa.DataType], read: _RowReader | None, key: bytes
    ) -> tuple | None:
        if read is not None:
            data, header = self.point_leaf(address)
            try:
                return read(data, key, header)
            except DECODE_ERRORS:
                pass  # decoding below names the damaged leaf
        leaf = self.leaf(address, types)
        i = leaf.find(key)
        return leaf.row(i) if i >= 0 else None

    def point_leaf(self, address: bytes) -> PointLeaf:
        """Leaf ``address``'s buffers and header for point reads, cached by address: from
        the chunk cache when it holds the leaf, else read without rebuilding the leaf
        (``column_frames.read_point_leaf``).

        Raises:
            CorruptChunk: the leaf's record is damaged or the chunk is not a leaf.
        """
        found = self._points.get(address)
        if found is None:
            chunk = self._chunks.peek(address)
            try:
                if chunk is not None:
                    found = point_leaf_of_chunk(chunk)
                else:
                    found = read_point_leaf(self.store, address)
            except DECODE_ERRORS as exc:
                raise CorruptChunk(address, f"leaf does not decode: {exc}") from exc
            self._points.put(address, found)
        return found

    def decode_leaves(
        self, addresses: Sequence[bytes], types: Sequence[pa.DataType]
    ) -> tuple[pa.BinaryArray, list[pa.Array]]:
        """Keys and columns of many leaves, in the given order, decoded in bulk."""
        if not addresses:
            return empty(pa.binary()), [empty(t) for t in types]
        return self._parsed(addresses, partial(decode_leaves, types=types), types)

    def decode_some(
        self,
        addresses: Sequence[bytes],
        block: PickedBlock,
        types: Sequence[pa.DataType],
        wanted: Sequence[int],
        keys: bool,
    ) -> tuple[pa.BinaryArray | None, dict[int, pa.Array]]:
        """Some value columns (and the keys when ``keys``) of leaves whose buffers
        were read with ``read_buffers``; see ``codec.leaf.decode_picked``."""
        parse = partial(decode_picked, block, types=types, wanted=wanted, keys=keys)
        try:
            return parse()
        except DECODE_ERRORS as exc:
            bad = _first_bad_leaf(addresses, self.read(addresses, keep=False), types)
            if bad is None:
                raise  # every leaf decodes alone: a limit, not damage
            raise CorruptChunk(bad, f"leaf does not decode: {exc}") from exc

    def read_buffers(self, addresses: Sequence[bytes], pick: BufferPick) -> PickedBlock:
        """The buffers ``pick`` asks for of many leaves (``chunks.column_frames``), as
        one joined block: from the chunk cache where it holds the leaf, the rest from
        the store, which reads only those buffers' bytes of a leaf stored buffer by
        buffer. Nothing enters the cache (a scan does not evict what edits and
        lookups reuse)."""
        cached = self._chunks.get_many(addresses)
        missing = [a for a, c in zip(addresses, cached, strict=True) if c is None]
        try:
            if not missing:
                return block_of_leaves(pick_from_leaves(cast(list[bytes], cached), pick), pick.keys)
            fetched = read_buffers(self.store, missing, pick)
            if len(missing) == len(addresses):
                return fetched
            held = [c for c in cached if c is not None]
            from_cache = iter(pick_from_leaves(held, pick))
            from_store = iter(fetched.leaves())
            merged = [next(from_store if c is None else from_cache) for c in cached]
            return block_of_leaves(merged, pick.keys)
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
