"""Rebuilding the internal levels after a leaf edit, re-cutting only near the change.

An edit replaces some runs of leaves. At each internal level the old nodes that
hold no changed child are kept as they are; cutting restarts at the first child
of the old node holding a changed child (an old cut, still a cut: the rule looks
only at the entries since the previous cut) and stops as soon as a new cut lands
on an old node boundary past the change, exactly as leaves resync in
``mutate.py``. The result is the tree ``builder.build_root`` would build from
the new leaves (history independence), at a cost proportional to the changed
entries times the depth: entries are named by path (``paths.py``), so no level
is ever listed.

An old node whose changed children all keep their last keys and counts (leaves
re-encoded with values of other sizes whose cuts did not move) keeps its cuts too,
since the rule sees only keys and sizes: it is written again with the new
addresses and nothing is re-cut (a run of such leaves is split into one change per
leaf first). Only the nodes around children whose bounds moved are re-cut.

A change is (first, last, entries): the old entries ``first`` to ``last``
(paths, inclusive) of one level became ``entries`` (possibly none); changes are
sorted and disjoint.

A fresh build stops at the first level with a single entry, so its root never
has exactly one child; when deletions leave the top of the rebuilt tree with
one child, that child is the root.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa

from .builder import ENTRY_OVERHEAD, Entries, build_level
from .nodes import NodeStore
from .paths import Path, TreePaths
from .splitter import find_cuts, key_hashes

Change = tuple[Path, Path, Entries]


def rebuild_root(tree: TreePaths, changes: list[Change]) -> bytes | None:
    """The root after ``changes`` to the leaves of ``tree``; None when no leaf is left."""
    if not changes:
        return tree.root
    changes = _split(tree, changes)
    if all(_same_place(tree, change) for change in changes):
        return _readdress(tree, changes)
    for level in range(1, tree.height + 1):
        changes = _relevel(tree, level, changes)
    ((_, _, top),) = changes  # the root's level: one change, from its first child to its last
    return _top(tree.nodes, tree.height, top)


def _top(nodes: NodeStore, level: int, entries: Entries) -> bytes | None:
    """The root over one whole level of entries."""
    if not len(entries):
        return None
    while len(entries) > 1:
        level += 1
        entries = build_level(nodes, level, entries)
    root = entries.addresses[0]
    while nodes.level(root) > 0 and len(nodes.internal(root).keys) == 1:
        root = nodes.internal(root).addresses[0]
    return root


def _same_place(tree: TreePaths, change: Change) -> bool:
    """Whether a change swaps one entry for one with the same last key and count."""
    first, last, entries = change
    if first != last or len(entries) != 1:
        return False
    key, _, count = tree.entry(first)
    return entries.keys[0] == key and entries.counts[0] == count


def _split(tree: TreePaths, changes: list[Change]) -> list[Change]:
    """``changes`` with each run that swaps its old entries one for one, same last keys
    and counts (a run of edited leaves that kept their bounds), split into one change
    per entry, so that ``_same_place`` sees them and their parents keep their cuts."""
    out: list[Change] = []
    for change in changes:
        first, last, entries = change
        if first == last or not len(entries):
            out.append(change)
            continue
        paths: list[Path] = [first]
        while paths[-1] != last and len(paths) < len(entries):
            following = tree.next(paths[-1])
            if following is None:
                break
            paths.append(following)
        split = [
            (path, path, Entries([key], [address], [count]))
            for path, key, address, count in zip(
                paths, entries.keys, entries.addresses, entries.counts, strict=False
            )
        ]
        if (
            paths[-1] == last
            and len(paths) == len(entries)
            and all(_same_place(tree, one) for one in split)
        ):
            out.extend(split)
        else:
            out.append(change)
    return out


def _readdress(tree: TreePaths, changes: list[Change]) -> bytes:
    """The root when only some leaves' addresses changed: every level keeps its cuts
    (they depend on keys and sizes alone), so only the nodes on the changed leaves'
    paths are written again, level by level up to the root."""
    changed = {first: entries.addresses[0] for first, _, entries in changes}
    for _ in range(tree.height):
        by_parent: dict[Path, list[tuple[int, bytes]]] = defaultdict(list)
        for path, address in changed.items():
            by_parent[path[:-1]].append((path[-1], address))
        written = []
        for parent, children in by_parent.items():
            node = tree.node(parent)
            addresses = list(node.addresses)
            for i, address in children:
                addresses[i] = address
            written.append((node.level, node.keys, addresses, node.counts))
        changed = dict(zip(by_parent, tree.nodes.write_internals(written), strict=True))
    return changed[()]


def _relevel(tree: TreePaths, level: int, changes: list[Change]) -> list[Change]:
    """The changes to the nodes of ``level`` that ``changes`` to their children make."""
    out: list[Change] = []
    i = 0
    while i < len(changes):
        parent = changes[i][0][:-1]
        same = _same_place_children(tree, changes, i, parent)
        if same:  # the node keeps its cuts: only its children's addresses change
            out.append(_readdressed(tree, parent, changes[i : i + same]))
            i += same
            continue
        stream = _Stream(tree, changes, i, (*parent, 0))
        out.append((parent, *_recut(tree.nodes, level, stream)))
        i = stream.next_change
    return out


def _same_place_children(tree: TreePaths, changes: list[Change], i: int, parent: Path) -> int:
    """How many changes from ``i`` on are the changes to ``parent``'s children, when all
    of them are ``_same_place`` (so the node keeps its cuts); else 0."""
    j = i
    while j < len(changes) and changes[j][0][:-1] == parent:
        if not _same_place(tree, changes[j]) or changes[j][1][:-1] != parent:
            return 0
        j += 1
    return j - i


def _readdressed(tree: TreePaths, parent: Path, changes: list[Change]) -> Change:
    """The change to ``parent`` that writing it with its changed children's new
    addresses makes: one entry with its old last key and count."""
    node = tree.node(parent)
    addresses = list(node.addresses)
    for first, _, entries in changes:
        addresses[first[-1]] = entries.addresses[0]
    (written,) = tree.nodes.write_internals([(node.level, node.keys, addresses, node.counts)])
    return (parent, parent, Entries([node.keys[-1]], [written], [int(sum(node.counts))]))


def _recut(nodes: NodeStore, level: int, stream: _Stream) -> tuple[Path, Entries]:
    """Cut the stream's entries into nodes until a cut lands on an old node boundary
    (or the level ends); returns the last old node consumed and the new nodes."""
    pending = Entries()
    boundary: list[bool] = []
    spans: list[tuple[Entries, int, int]] = []
    while True:
        at_end = stream.fill(pending, boundary)
        if not len(pending):
            return stream.last_parent, _write(nodes, level, spans)
        hashes = key_hashes(pa.array(pending.keys, pa.binary()), level)
        sizes = np.fromiter(map(len, pending.keys), np.int64, len(pending)) + ENTRY_OVERHEAD
        start = 0
        for cut in find_cuts(hashes, sizes, nodes.internal_rule):
            spans.append((pending, start, cut))
            start = cut
            if boundary[cut - 1]:  # only the last entry filled can end an old node
                return stream.last_parent, _write(nodes, level, spans)
        if at_end:
            if start < len(pending):  # the end of the level closes its last node
                spans.append((pending, start, len(pending)))
            return stream.last_parent, _write(nodes, level, spans)
        pending = Entries(pending.keys[start:], pending.addresses[start:], pending.counts[start:])
        boundary = boundary[start:]


def _write(nodes: NodeStore, level: int, spans: list[tuple[Entries, int, int]]) -> Entries:
    written = nodes.write_internals(
        [
            (level, e.keys[a:b], e.addresses[a:b], np.asarray(e.counts[a:b], np.int64))
            for e, a, b in spans
        ]
    )
    return Entries(
        [e.keys[b - 1] for e, _, b in spans],
        written,
        [int(sum(e.counts[a:b])) for e, a, b in spans],
    )


class _Stream:
    """One level's new entries from an old node's first child on: the old entries,
    with each change's entries in place of the old ones it replaces."""

    def __init__(self, tree: TreePaths, changes: list[Change], i: int, path: Path) -> None:
        self.tree = tree
        self.changes = changes
        self.next_change = i
        self.position: Path | None = path  # the next old entry, None past the level's end
        self.last_parent = path[:-1]  # the old node of the last old entry passed
        self._settle()

    def _past(self, last: Path) -> None:
        self.last_parent = last[:-1]
        self.position = self.tree.next(last)

    def _settle(self) -> bool:
        """Pass the changes here that leave no entries; whether the position is now
        an old node's first child or the level's end (a boundary of the old level)."""
        changes = self.changes
        while (
            self.next_change < len(changes)
            and self.position == changes[self.next_change][0]
            and not len(changes[self.next_change][2])
        ):
            self._past(changes[self.next_change][1])
            self.next_change += 1
        return self.position is None or self.position[-1] == 0

    def fill(self, out: Entries, boundary: list[bool]) -> bool:
        """Append entries up to the next old node boundary, marking in ``boundary``
        the entries after which one falls; True when the level has ended."""
        changes = self.changes
        while self.position is not None:
            path = self.position
            change = changes[self.next_change] if self.next_change < len(changes) else None
            if change is not None and path == change[0]:
                out.extend(change[2])
                boundary.extend([False] * len(change[2]))
                self._past(change[1])
                self.next_change += 1
            else:
                node = self.tree.node(path[:-1])
                a, b = path[-1], len(node.keys)
                if change is not None and change[0][:-1] == path[:-1]:
                    b = change[0][-1]  # up to the next change, in this node
                out.keys.extend(node.keys[a:b])
                out.addresses.extend(node.addresses[a:b])
                out.counts.extend(node.counts[a:b].tolist())
                boundary.extend([False] * (b - a))
                self._past((*path[:-1], b - 1))
            if self._settle():
                boundary[-1] = True
                return self.position is None
        return True
