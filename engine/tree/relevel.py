"""Rebuilding the internal levels after a leaf edit, re-cutting only near the change.

An edit replaces some runs of leaf entries. At each internal level the old
nodes that hold no changed child are kept as they are; cutting restarts at the
first old node holding a changed child (its start is an old cut, still a cut)
and stops as soon as a new cut lands on an old node boundary past the change,
exactly as leaves resync in ``mutate.py``. The result is the tree that
``builder.build_root`` would build from the new leaf list (history
independence), at a cost proportional to the changed entries, not the level.

A change is (old_start, old_stop, new_start, new_stop): children
``old[old_start:old_stop]`` became ``new[new_start:new_stop]``; changes are
sorted and disjoint, and the children between them are equal on both sides.
"""

from __future__ import annotations

import bisect

import numpy as np
import pyarrow as pa

from .builder import ENTRY_OVERHEAD, Entries, build_level
from .nodes import NodeStore
from .splitter import find_cuts, key_hashes

Change = tuple[int, int, int, int]


def rebuild_root(
    nodes: NodeStore,
    old_root: bytes,
    old_leaves: Entries,
    new_leaves: Entries,
    changes: list[Change],
) -> bytes:
    """The root over ``new_leaves``, reusing the old tree's internal nodes where possible."""
    if not changes:
        return old_root
    old_levels = _old_levels(nodes, old_root)  # level -> (node addresses, child bounds)
    if _only_addresses(old_leaves, new_leaves, changes):
        return _readdress(nodes, old_levels, new_leaves, [c[0] for c in changes])
    old_children, new_children = old_leaves, new_leaves
    level = 0
    while len(new_children) > 1:
        level += 1
        if level not in old_levels or not changes:  # the tree grew taller, or went dense
            new_children = build_level(nodes, level, new_children)
            changes = []
            continue
        addresses, bounds = old_levels[level]
        if len(changes) * 4 > len(bounds):
            # Changes in most nodes of this level (scattered edits): cutting the whole
            # level at once is cheaper than re-cutting around each change.
            new_children = build_level(nodes, level, new_children)
            changes = []
            continue
        old_nodes = _entries_of(old_children, addresses, bounds)
        new_children, changes = _relevel(
            nodes, level, old_children, new_children, bounds, old_nodes, changes
        )
        old_children = old_nodes
    return new_children.addresses[0]


def _only_addresses(old: Entries, new: Entries, changes: list[Change]) -> bool:
    """Whether every change swaps one child for one with the same key and count."""
    return len(old) == len(new) and all(
        oa + 1 == ob and oa == na and na + 1 == nb and old.keys[oa] == new.keys[na]
        and old.counts[oa] == new.counts[na]
        for oa, ob, na, nb in changes
    )


def _readdress(nodes: NodeStore, old_levels, children: Entries, changed: list[int]) -> bytes:
    """The root when only some children's addresses changed: every level keeps its
    cuts (they depend on keys and sizes alone), so only the nodes holding a changed
    child are written again, level by level up to the root."""
    for level in sorted(old_levels):
        addresses, bounds = old_levels[level]
        parents = sorted({bisect.bisect_right(bounds, c) - 1 for c in changed})
        counts = children.counts
        written = nodes.write_internals(
            [
                (
                    level,
                    children.keys[bounds[p] : bounds[p + 1]],
                    children.addresses[bounds[p] : bounds[p + 1]],
                    np.asarray(counts[bounds[p] : bounds[p + 1]], np.int64),
                )
                for p in parents
            ]
        )
        level_entries = _entries_of(children, addresses, bounds)
        for p, address in zip(parents, written, strict=True):
            level_entries.addresses[p] = address
        children, changed = level_entries, parents
    return children.addresses[0]


def _old_levels(nodes: NodeStore, root: bytes) -> dict[int, tuple[list[bytes], list[int]]]:
    levels: dict[int, tuple[list[bytes], list[int]]] = {}
    top = nodes.level(root)
    frontier = [root]
    for level in range(top, 0, -1):
        bounds = [0]
        children: list[bytes] = []
        for address in frontier:
            kids = nodes.internal(address).addresses
            children.extend(kids)
            bounds.append(bounds[-1] + len(kids))
        levels[level] = (frontier, bounds)
        frontier = children
    return levels


def _entries_of(children: Entries, addresses: list[bytes], bounds: list[int]) -> Entries:
    counts = np.concatenate([[0], np.cumsum(children.counts)])
    return Entries(
        [children.keys[b - 1] for b in bounds[1:]],
        list(addresses),
        [int(counts[b] - counts[a]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
    )


def _relevel(nodes, level, old_children, new_children, bounds, old_nodes, changes):
    """New entries of one level and the changes they make for the level above."""
    out = Entries()
    up: list[Change] = []
    n_old_nodes = len(bounds) - 1
    shift = 0  # new child index - old child index, in unchanged stretches
    next_node = 0
    i = 0
    while i < len(changes):
        oa = changes[i][0]
        first = min(max(bisect.bisect_right(bounds, oa) - 1, 0), n_old_nodes - 1)
        if first < next_node:
            first = next_node
        _copy(old_nodes, next_node, first, out)
        start = bounds[first] + shift
        out_start = len(out)
        last_node, i, shift = _recut(
            nodes, level, new_children, bounds, changes, i, shift, start, out
        )
        up.append((first, last_node, out_start, len(out)))
        next_node = last_node
    _copy(old_nodes, next_node, n_old_nodes, out)
    return out, up


def _recut(nodes, level, new_children, bounds, changes, i, shift, start, out):
    """Cut new children from ``start`` until a cut lands on an old node boundary past
    every change consumed; returns (index of the old node that starts there, next
    change, shift there)."""
    n = len(new_children)
    window = 256
    while True:
        stop = min(start + window, n)
        keys = new_children.keys[start:stop]
        hashes = key_hashes(pa.array(keys, pa.binary()), level)
        sizes = np.fromiter((len(k) for k in keys), np.int64, len(keys)) + ENTRY_OVERHEAD
        cuts = [start + c for c in find_cuts(hashes, sizes, nodes.internal_rule)]
        if stop == n and (not cuts or cuts[-1] != n):
            cuts.append(n)  # the end of the level closes its last node
        j, s = i, shift
        for cut in cuts:
            # consume the changes that end at or before this cut
            while j < len(changes) and changes[j][3] <= cut:
                s += (changes[j][3] - changes[j][2]) - (changes[j][1] - changes[j][0])
                j += 1
            inside = j < len(changes) and changes[j][2] < cut
            old = cut - s
            node = bisect.bisect_left(bounds, old)
            synced = not inside and node < len(bounds) and bounds[node] == old and j > i
            if synced or cut == n:
                _write(nodes, level, new_children, _spans_until(start, cuts, cut), out)
                return (len(bounds) - 1 if cut == n else node), j, s
        if stop == n:
            raise AssertionError("unreachable: the end of the level always closes a node")
        window *= 4


def _spans_until(start: int, cuts: list[int], last: int) -> list[tuple[int, int]]:
    spans, a = [], start
    for c in cuts:
        if c > last:
            break
        spans.append((a, c))
        a = c
    return spans


def _write(nodes: NodeStore, level: int, children: Entries, spans, out: Entries) -> None:
    if not spans:
        return
    counts = children.counts
    addresses = nodes.write_internals(
        [
            (level, children.keys[a:b], children.addresses[a:b], np.asarray(counts[a:b], np.int64))
            for a, b in spans
        ]
    )
    for (a, b), address in zip(spans, addresses, strict=True):
        out.keys.append(children.keys[b - 1])
        out.addresses.append(address)
        out.counts.append(int(sum(counts[a:b])))


def _copy(entries: Entries, start: int, stop: int, out: Entries) -> None:
    out.keys.extend(entries.keys[start:stop])
    out.addresses.extend(entries.addresses[start:stop])
    out.counts.extend(entries.counts[start:stop])
