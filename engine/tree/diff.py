"""Two-way diff of prolly trees: the rows added, removed and modified from A to B.

Equal subtrees have equal addresses, so the diff walks both trees level by
level and drops every node address the two sides share before descending; what
reaches the leaf level is only the leaves that differ. A key held by a leaf
unique to A is never in a leaf both trees share (a shared leaf holds the same
rows in both), so diffing the rows of the unique leaves is the whole diff. Cost
is proportional to the changed leaves times the tree height, not to the table.

When only values changed, sparsely (each unique leaf of A has a counterpart in
B with the same keys laid out alike), the pairs are compared as bytes and only
the rows owning a differing byte are read (``codec/sparse.py``); the diff then
also reports the leaf pairs (``LeafPairs``), which a merge uses to take theirs'
leaves whole. Otherwise the unique leaves of each side are decoded in bulk,
joined on key with numpy, and the rows present on both sides compared column by
column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow_arrays import bools, int64s, numpy_bools
from ..codec.layout import LeafLayouts
from ..codec.sparse import changed_rows, take_rows
from .keyarray import comparable
from .nodes import DECODE_ERRORS, NodeStore

ADDED, MODIFIED, REMOVED = 0, 1, 2
DIFF_TYPE_NAMES = ("added", "modified", "removed")


@dataclass(frozen=True)
class LeafPairs:
    """Where a value-only diff found its rows: changed leaf ``a[i]`` of A became
    leaf ``b[i]`` of B, which holds the same keys laid out alike with every value
    of the same byte length (so editing ``a[i]`` with the diff's rows in it keeps
    every row's size and gives exactly ``b[i]``); ``of_row`` is each diff row's
    pair."""

    a: list[bytes]
    b: list[bytes]
    of_row: np.ndarray


@dataclass(frozen=True)
class TreeDiff:
    """Changed rows in key order. ``from_columns`` are NULL for added rows and
    ``to_columns`` NULL for removed ones; ``kinds`` holds ADDED/MODIFIED/REMOVED.
    ``pairs`` is set when every changed leaf became one leaf alike (``LeafPairs``)."""

    keys: pa.BinaryArray
    from_columns: list[pa.Array]
    to_columns: list[pa.Array]
    kinds: np.ndarray
    pairs: LeafPairs | None = None

    def __len__(self) -> int:
        return len(self.keys)


class LeafDifference(NamedTuple):
    """The leaves only one of two trees has, each list in key order."""

    only_a: list[bytes]
    only_b: list[bytes]


def differing_leaves(nodes: NodeStore, a: bytes, b: bytes) -> LeafDifference:
    """Addresses of the leaves only A has and only B has, each in key order."""
    side_a, side_b = [a], [b]
    level_a, level_b = nodes.level(a), nodes.level(b)
    while level_a > level_b:
        side_a = _children(nodes, side_a)
        level_a -= 1
    while level_b > level_a:
        side_b = _children(nodes, side_b)
        level_b -= 1
    while True:
        shared = set(side_a).intersection(side_b)
        if shared:
            side_a = [x for x in side_a if x not in shared]
            side_b = [x for x in side_b if x not in shared]
        if level_a == 0 or (not side_a and not side_b):
            return LeafDifference(side_a, side_b)
        side_a, side_b = _children(nodes, side_a), _children(nodes, side_b)
        level_a -= 1


def _children(nodes: NodeStore, addresses: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for address in addresses:
        out.extend(nodes.internal(address).addresses)
    return out


def diff_trees(nodes: NodeStore, a: bytes, b: bytes, types: Sequence[pa.DataType]) -> TreeDiff:
    """Rows that differ between trees A and B (both storing value columns ``types``)."""
    only_a, only_b = differing_leaves(nodes, a, b) if a != b else ([], [])
    return diff_leaves(nodes, only_a, only_b, types)


def diff_leaves(
    nodes: NodeStore, only_a: list[bytes], only_b: list[bytes], types: Sequence[pa.DataType]
) -> TreeDiff:
    """Rows that differ between two sets of leaves, each in key order, that hold the
    same key ranges (leaves only one tree has, as ``differing_leaves`` gives)."""
    if only_a and len(only_a) == len(only_b):
        in_place = _diff_value_bytes(nodes, only_a, only_b, types)
        if in_place is not None:
            return in_place
    keys_a, cols_a = nodes.decode_leaves(only_a, types)
    keys_b, cols_b = nodes.decode_leaves(only_b, types)
    return diff_rows(keys_a, cols_a, keys_b, cols_b)


def _diff_value_bytes(
    nodes: NodeStore, only_a: list[bytes], only_b: list[bytes], types: Sequence[pa.DataType]
) -> TreeDiff | None:
    """The diff when the i-th unique leaf of each side holds the same keys laid out
    alike (an edit that only replaced values): the pairs are compared as bytes and
    only the rows that own a differing byte are read (``codec/sparse.py``). None
    when they are not alike, or do not parse (the decoding path names the culprit)."""
    try:
        old = LeafLayouts(nodes.read(only_a))
        new = LeafLayouts(nodes.read(only_b))
        found = changed_rows(old, new, types)
        if found is None:
            return None
        leaf, row, lengths_kept = found
        keys, before = take_rows(old, leaf, row, types)
        _, after = take_rows(new, leaf, row, types)
    except DECODE_ERRORS:
        return None
    return _modified(keys, before, after, (only_a, only_b, leaf) if lengths_kept else None)


def _modified(
    keys: pa.BinaryArray,
    before: Sequence[pa.Array],
    after: Sequence[pa.Array],
    leaves: tuple[list[bytes], list[bytes], np.ndarray] | None = None,
) -> TreeDiff:
    """The rows of two aligned runs (same keys, row by row) whose values differ;
    ``leaves``: the leaf pairs they came from and each row's pair (``LeafPairs``)."""
    changed = np.flatnonzero(~rows_equal(before, after))
    take = int64s(changed)
    pairs = None if leaves is None else LeafPairs(leaves[0], leaves[1], leaves[2][changed])
    return TreeDiff(
        keys.take(take),
        [c.take(take) for c in before],
        [c.take(take) for c in after],
        np.full(len(take), MODIFIED, np.int8),
        pairs,
    )


def diff_rows(
    keys_a: pa.BinaryArray,
    cols_a: Sequence[pa.Array],
    keys_b: pa.BinaryArray,
    cols_b: Sequence[pa.Array],
) -> TreeDiff:
    """Diff two sorted runs of rows by key."""
    if keys_a.equals(keys_b):
        return _modified(keys_a, cols_a, cols_b)  # only values changed: rows align
    sa, sb = comparable(keys_a, keys_b)
    pos = np.searchsorted(sa, sb, "left")
    clipped = np.minimum(pos, max(len(sa) - 1, 0))
    matched = (pos < len(sa)) & (sa[clipped] == sb) if len(sa) else np.zeros(len(sb), bool)
    in_b = np.zeros(len(sa), bool)
    in_b[pos[matched]] = True
    both_a, both_b = pos[matched], np.flatnonzero(matched)
    equal = rows_equal(
        [c.take(int64s(both_a)) for c in cols_a], [c.take(int64s(both_b)) for c in cols_b]
    )
    mod_a, mod_b = both_a[~equal], both_b[~equal]
    removed = np.flatnonzero(~in_b)
    added = np.flatnonzero(~matched)

    # Order the output by key: positions in the union of both sides.
    sort_keys = np.concatenate([sa[removed], sb[added], sb[mod_b]])
    order = np.argsort(sort_keys, kind="stable")
    n_r, n_a = len(removed), len(added)
    kinds = np.concatenate(
        [
            np.full(n_r, REMOVED, np.int8),
            np.full(n_a, ADDED, np.int8),
            np.full(len(mod_b), MODIFIED, np.int8),
        ]
    )[order]
    from_idx = np.concatenate([removed, np.full(n_a, -1), mod_a])[order]
    to_idx = np.concatenate([np.full(n_r, -1), added, mod_b])[order]
    from_take = int64s(from_idx, from_idx < 0)
    to_take = int64s(to_idx, to_idx < 0)
    key_source = np.where(from_idx >= 0, from_idx, to_idx)
    keys = _pick_keys(keys_a, keys_b, key_source, from_idx >= 0)
    return TreeDiff(
        keys,
        [c.take(from_take) for c in cols_a],
        [c.take(to_take) for c in cols_b],
        kinds,
    )


def _pick_keys(keys_a, keys_b, index: np.ndarray, from_a: np.ndarray) -> pa.BinaryArray:
    a_part = keys_a.take(int64s(np.where(from_a, index, 0))) if len(keys_a) else None
    b_part = keys_b.take(int64s(np.where(from_a, 0, index))) if len(keys_b) else None
    if a_part is None:
        return b_part if b_part is not None else pa.nulls(0, pa.binary())
    if b_part is None:
        return a_part
    return pc.if_else(bools(from_a), a_part, b_part)


def rows_equal(cols_a: Sequence[pa.Array], cols_b: Sequence[pa.Array]) -> np.ndarray:
    """Row-wise equality of two aligned sets of columns; NULL equals NULL, NaN equals NaN."""
    n = len(cols_a[0]) if cols_a else (len(cols_b[0]) if cols_b else 0)
    equal = np.ones(n, bool)
    for a, b in zip(cols_a, cols_b, strict=True):
        equal &= column_equal(a, b)
    return equal


def column_equal(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Element-wise equality of two arrays of one type; NULL equals NULL, NaN equals NaN."""
    if len(a) == 0:
        return np.ones(0, bool)
    null_a = numpy_bools(a.is_null())
    null_b = numpy_bools(b.is_null())
    t = a.type
    if pa.types.is_list(t):
        same = _lists_equal(a, b)
    else:
        same = numpy_bools(pc.equal(a, b))
        if pa.types.is_floating(t):
            same |= numpy_bools(pc.is_nan(a)) & numpy_bools(pc.is_nan(b))
    return np.where(null_a | null_b, null_a & null_b, same)


def _lists_equal(a: pa.ListArray, b: pa.ListArray) -> np.ndarray:
    len_a = pc.list_value_length(a).fill_null(0).to_numpy(zero_copy_only=False)
    len_b = pc.list_value_length(b).fill_null(0).to_numpy(zero_copy_only=False)
    same = len_a == len_b
    rows = np.flatnonzero(same & (len_a > 0))
    if len(rows):
        lengths = len_a[rows]
        start_a = a.offsets.to_numpy()[rows]
        start_b = b.offsets.to_numpy()[rows]
        step = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        items_a = a.values.take(int64s(np.repeat(start_a, lengths) + step))
        items_b = b.values.take(int64s(np.repeat(start_b, lengths) + step))
        item_equal = column_equal(items_a, items_b)
        row_equal = np.logical_and.reduceat(item_equal, np.cumsum(lengths) - lengths)
        same[rows] = row_equal
    return same
