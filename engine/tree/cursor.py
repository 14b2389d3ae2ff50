"""Reading a prolly tree: point lookups, leaf ranges, range and full scans.

A lookup descends from the root, at each internal node into the first child
whose last key is >= the key (cost O(log n) node visits, nodes cached by
address). Scans find the leaves that overlap the key range the same way, then
decode them together in one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pyarrow as pa

from ..codec.leaf import leaf_summary
from .builder import Entries
from .keyarray import sortable
from .nodes import NodeStore


def leaf_entries(
    nodes: NodeStore, root: bytes, lo: bytes | None = None, hi: bytes | None = None
) -> Entries:
    """The leaves whose key ranges overlap [lo, hi] (all leaves when both are None)."""
    out = Entries()
    if nodes.level(root) == 0:
        count, last = leaf_summary(nodes.store.get(root))
        out.keys.append(last)
        out.addresses.append(root)
        out.counts.append(count)
        return out
    _collect(nodes, root, lo, hi, out)
    return out


def _collect(
    nodes: NodeStore, address: bytes, lo: bytes | None, hi: bytes | None, out: Entries
) -> None:
    node = nodes.internal(address)
    first = node.child_for(lo) if lo is not None else 0
    last = node.child_for(hi) if hi is not None else len(node.keys) - 1
    if node.level == 1:
        out.keys.extend(node.keys[first : last + 1])
        out.addresses.extend(node.addresses[first : last + 1])
        out.counts.extend(node.counts[first : last + 1].tolist())
        return
    for i in range(first, last + 1):
        _collect(nodes, node.addresses[i], lo, hi, out)


def count(nodes: NodeStore, root: bytes) -> int:
    if nodes.level(root) == 0:
        return leaf_summary(nodes.store.get(root))[0]
    return int(nodes.internal(root).counts.sum())


def get(nodes: NodeStore, root: bytes, types: Sequence[pa.DataType], key: bytes) -> tuple | None:
    """The value row stored under ``key``, or None."""
    address = root
    level = nodes.level(root)
    while level > 0:
        node = nodes.internal(address)
        address = node.addresses[node.child_for(key)]
        level -= 1
    return nodes.row(address, types, key)


def scan(
    nodes: NodeStore,
    root: bytes,
    types: Sequence[pa.DataType],
    lo: bytes | None = None,
    hi: bytes | None = None,
    *,
    hi_inclusive: bool = True,
) -> tuple[pa.BinaryArray, list[pa.Array]]:
    """Keys and value columns of the rows with lo <= key <= hi (or < hi)."""
    leaves = leaf_entries(nodes, root, lo, hi)
    keys, columns = nodes.decode_leaves(leaves.addresses, types)
    if lo is None and hi is None:
        return keys, columns
    s = sortable(keys, max(len(lo or b""), len(hi or b"")))
    width = s.dtype
    start = int(np.searchsorted(s, np.array([lo], width))[0]) if lo is not None else 0
    if hi is not None:
        side: Literal["left", "right"] = "right" if hi_inclusive else "left"
        stop = int(np.searchsorted(s, np.array([hi], width), side)[0])
    else:
        stop = len(keys)
    stop = max(start, stop)
    return keys.slice(start, stop - start), [c.slice(start, stop - start) for c in columns]
