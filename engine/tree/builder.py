"""Building prolly trees bottom-up from sorted items.

``build_leaves`` cuts a sorted run of rows into leaves with the splitter's rule
and writes them; ``build_root`` stacks internal levels over a list of leaf
entries until one node remains. Both are pure functions of their input items
(history independence), and unchanged nodes come out byte-identical, so the
store dedups them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..codec.columns import PreparedColumn
from ..codec.leaf import PreparedKeys, encode_leaf, encode_leaves
from .nodes import NodeStore
from .splitter import find_cuts, key_hashes

ENTRY_OVERHEAD = 28  # address (20) + row count (8): an internal entry's size beyond its key


@dataclass
class Entries:
    """One level's nodes, in key order: last key, address and row count of each."""

    keys: list[bytes] = field(default_factory=list)
    addresses: list[bytes] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def extend(self, other: Entries) -> None:
        self.keys.extend(other.keys)
        self.addresses.extend(other.addresses)
        self.counts.extend(other.counts)

    def __len__(self) -> int:
        return len(self.keys)


class LeafItems:
    """Sorted rows prepared for chunking: keys, value columns, hashes and sizes."""

    __slots__ = ("keys", "source", "prepared_keys", "columns", "_hashes", "sizes")

    def __init__(self, keys: pa.BinaryArray, columns: Sequence[pa.Array]) -> None:
        self.keys = keys
        self.source = list(columns)
        self.prepared_keys = PreparedKeys(keys)
        self.columns = [PreparedColumn(c) for c in columns]
        self._hashes: np.ndarray | None = None
        self.sizes = _sizes(self.prepared_keys.lengths, self.columns)

    @property
    def hashes(self) -> np.ndarray:
        """The boundary hash of every key (computed when a cut is first looked for)."""
        if self._hashes is None:
            self._hashes = key_hashes(self.keys, 0)
        return self._hashes

    def __len__(self) -> int:
        return len(self.keys)

    def slice(self, start: int, stop: int) -> LeafItems:
        n = stop - start
        return LeafItems(self.keys.slice(start, n), [c.slice(start, n) for c in self.source])

    def concat(self, other: LeafItems) -> LeafItems:
        return LeafItems(
            pa.concat_arrays([self.keys, other.keys]),
            [pa.concat_arrays([a, b]) for a, b in zip(self.source, other.source, strict=True)],
        )


def _sizes(key_lengths: np.ndarray, columns: Sequence[PreparedColumn]) -> np.ndarray:
    sizes = key_lengths.astype(np.int64)
    for column in columns:
        sizes += column.row_sizes()
    return sizes


def item_sizes(keys: pa.BinaryArray, columns: Sequence[pa.Array]) -> np.ndarray:
    """The size the splitter counts for each row (key bytes plus its columns' bytes)."""
    return _sizes(PreparedKeys(keys).lengths, [PreparedColumn(c) for c in columns])


def cut_leaves(
    nodes: NodeStore, items: LeafItems, close_last: bool, start: int = 0, stop: int | None = None
) -> tuple[list[int], bool]:
    """Leaf bounds [start, c1, c2, ...] over items[start:stop] and whether the last
    bound is a real cut (True) or only the end of the items (False)."""
    stop = len(items) if stop is None else stop
    cuts = find_cuts(items.hashes[start:stop], items.sizes[start:stop], nodes.leaf_rule)
    bounds = [start, *(start + c for c in cuts)]
    if bounds[-1] == stop:
        return bounds, True
    if close_last:
        bounds.append(stop)
    return bounds, False


def write_leaves(
    nodes: NodeStore, items: LeafItems, bounds: Sequence[int], keep: bool = True
) -> Entries:
    """Encode and store the leaves between consecutive ``bounds`` (``keep``: as
    ``NodeStore.write``), encoded together (``encode_leaves``)."""
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    chunks = encode_leaves(items.prepared_keys, items.columns, bounds)
    return _stored(nodes, items, spans, chunks, None, keep)


def write_spans(
    nodes: NodeStore,
    items: LeafItems,
    spans: Sequence[tuple[int, int]],
    bases: Sequence[bytes | None] | None = None,
    keep: bool = True,
) -> Entries:
    """Encode and store one leaf per (start, stop) span of ``items``, in one write;
    ``bases`` gives the old leaf each replaces (a delta hint, ``NodeStore.write``)."""
    chunks = [encode_leaf(items.prepared_keys, items.columns, a, b) for a, b in spans]
    return _stored(nodes, items, spans, chunks, bases, keep)


def _stored(
    nodes: NodeStore,
    items: LeafItems,
    spans: Sequence[tuple[int, int]],
    chunks: list[bytes],
    bases: Sequence[bytes | None] | None,
    keep: bool,
) -> Entries:
    """Store the leaves ``chunks`` of ``spans`` of ``items``; their entries."""
    addresses = nodes.write(chunks, bases, keep=keep)
    offsets = items.prepared_keys.offsets
    ends = np.array([b for _, b in spans], np.int64)
    lasts = np.maximum(ends - 1, 0)
    lo, hi = offsets[lasts].tolist(), offsets[ends].tolist()
    data = items.prepared_keys.data
    keys = [
        data[x:y].tobytes() if b > a else b"" for (a, b), x, y in zip(spans, lo, hi, strict=True)
    ]
    return Entries(keys, addresses, [b - a for a, b in spans])


def build_leaves(nodes: NodeStore, keys: pa.BinaryArray, columns: Sequence[pa.Array]) -> Entries:
    items = LeafItems(keys, columns)
    bounds, _ = cut_leaves(nodes, items, close_last=True)
    if len(bounds) == 1:  # no rows: the empty leaf
        bounds = [0, 0]
    return write_leaves(nodes, items, bounds)


class LeafStream:
    """Leaves cut from sorted rows that arrive in runs, each run's keys above the
    last run's: the same leaves, byte for byte, as ``build_leaves`` over all the rows
    at once (a cut depends only on the rows since the previous cut, and the rows
    after the last cut are carried into the next run). Holds the rows after the
    last cut, under one leaf's worth, and the entries of the leaves written; the
    leaves stay out of the node store's chunk cache (a load would fill it)."""

    def __init__(self, nodes: NodeStore) -> None:
        self.nodes = nodes
        self.entries = Entries()
        self._tail: LeafItems | None = None

    def add(self, keys: pa.BinaryArray, columns: Sequence[pa.Array]) -> None:
        """Cut and write the leaves that ``keys`` (ascending, above every key before)
        and their value ``columns`` close."""
        if self._tail is not None:  # joined before preparing: the batch is prepared once
            tail = self._tail
            keys = pa.concat_arrays([tail.keys, keys])
            columns = [pa.concat_arrays([a, b]) for a, b in zip(tail.source, columns, strict=True)]
        items = LeafItems(keys, columns)
        bounds, _ = cut_leaves(self.nodes, items, close_last=False)
        if len(bounds) > 1:
            self.entries.extend(write_leaves(self.nodes, items, bounds, keep=False))
        rest = bounds[-1]
        self._tail = items.slice(rest, len(items)) if rest < len(items) else None

    def finish(self) -> Entries:
        """Write the last leaf and return the entries of every leaf, in key order
        (at least one row must have come: ``ProllyTree.empty`` builds no rows)."""
        if self._tail is not None:
            self.entries.extend(
                write_leaves(self.nodes, self._tail, [0, len(self._tail)], keep=False)
            )
        self._tail = None
        return self.entries


def build_root(nodes: NodeStore, leaves: Entries) -> bytes:
    """Stack internal levels over ``leaves`` (level 0) and return the root address."""
    level_entries = leaves
    level = 0
    while len(level_entries) > 1:
        level += 1
        level_entries = build_level(nodes, level, level_entries)
    return level_entries.addresses[0]


def _binary_array(values: list[bytes]) -> tuple[pa.BinaryArray, np.ndarray]:
    """``values`` as an Arrow binary array, built from its buffers, and their lengths
    (``pa.array`` on a list imports pandas on first use: 0.3 s of a 1M-row load)."""
    lengths = np.fromiter(map(len, values), np.int64, len(values))
    offsets = np.zeros(len(values) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(values))]
    return pa.Array.from_buffers(pa.large_binary(), len(values), buffers), lengths


def build_level(nodes: NodeStore, level: int, children: Entries) -> Entries:
    keys, lengths = _binary_array(children.keys)
    hashes = key_hashes(keys, level)
    sizes = lengths + ENTRY_OVERHEAD
    cuts = find_cuts(hashes, sizes, nodes.internal_rule)
    bounds = [0, *cuts]
    if bounds[-1] != len(children):
        bounds.append(len(children))
    counts = np.asarray(children.counts, np.int64)
    groups = list(zip(bounds[:-1], bounds[1:], strict=True))
    addresses = nodes.write_internals(
        [(level, children.keys[a:b], children.addresses[a:b], counts[a:b]) for a, b in groups]
    )
    return Entries(
        [children.keys[b - 1] for _, b in groups],
        addresses,
        [int(counts[a:b].sum()) for a, b in groups],
    )
