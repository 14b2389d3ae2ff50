"""Naming the entries of a prolly tree's levels by the way down to them, not by index.

An entry of level L (a leaf for L = 0, an internal node above) is named by the
child indices that lead to it from the root: a tuple of (height - L) ints, the
root's own path being ``()``. Paths order as their entries do, so an edit finds
the leaves it touches, their neighbours and the ends of a level by stepping
through the few internal nodes on the way, never by listing a level: the cost
of an edit is the changed leaves times the depth, whatever the table's size.
Nodes are read once per ``TreePaths`` (one edit) and come from ``NodeStore``'s
cache of internal nodes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..arrow_arrays import binaries
from ..codec.leaf import leaf_summary
from .keyarray import comparable
from .nodes import Internal, NodeStore

Path = tuple[int, ...]

_BISECT_BELOW = 64  # fewer edit keys than this are placed one by one (bisect), not vectorised


class TreePaths:
    """The internal nodes of one tree by path, read as an edit reaches them."""

    __slots__ = ("nodes", "root", "height", "_by_path")

    def __init__(self, nodes: NodeStore, root: bytes) -> None:
        self.nodes = nodes
        self.root = root
        self.height = nodes.level(root)  # the length of a leaf's path
        self._by_path: dict[Path, Internal] = {}

    def node(self, path: Path) -> Internal:
        """The internal node at ``path`` (shorter than ``height``)."""
        node = self._by_path.get(path)
        if node is None:
            address = self.root if not path else self.node(path[:-1]).addresses[path[-1]]
            node = self.nodes.internal(address)
            self._by_path[path] = node
        return node

    def entry(self, path: Path) -> tuple[bytes, bytes, int]:
        """(last key, address, row count) of the entry at ``path``."""
        if not path:  # the root; a tree of one leaf
            count, last = leaf_summary(self.nodes.store.get(self.root))
            return last, self.root, count
        parent = self.node(path[:-1])
        i = path[-1]
        return parent.keys[i], parent.addresses[i], int(parent.counts[i])

    def address(self, path: Path) -> bytes:
        return self.node(path[:-1]).addresses[path[-1]] if path else self.root

    def next(self, path: Path) -> Path | None:
        """The entry after ``path`` on its level, or None at the level's end."""
        if not path:
            return None
        parent = path[:-1]
        if path[-1] + 1 < len(self.node(parent).keys):
            return (*parent, path[-1] + 1)
        up = self.next(parent)
        return None if up is None else (*up, 0)

    def leaf_paths(self) -> list[Path]:
        """Every leaf's path, in key order: a listing of the whole tree, for callers
        that already name leaves by index (a merge's swaps)."""
        paths: list[Path] = [()]
        for _ in range(self.height):
            paths = [(*p, i) for p in paths for i in range(len(self.node(p).keys))]
        return paths

    def locate(self, keys: pa.BinaryArray) -> tuple[list[Path], np.ndarray]:
        """The leaves that hold (or would hold) the sorted ``keys``: their paths in
        order, and each key's index among them. A key above every stored key
        belongs to the last leaf. Only the nodes on the way to those leaves are read."""
        n = len(keys)
        leaf_of_key = np.zeros(n, np.int64)
        if self.height == 0:
            return [()], leaf_of_key
        paths: list[Path] = []
        listed = keys.to_pylist() if n < _BISECT_BELOW else None

        def visit(path: Path, lo: int, hi: int) -> None:
            node = self.node(path)
            if listed is not None:
                child = np.array([node.child_for(k) for k in listed[lo:hi]], np.int64)
            else:
                wanted, held = comparable(keys.slice(lo, hi - lo), binaries(node.keys))
                child = np.minimum(np.searchsorted(held, wanted, "left"), len(node.keys) - 1)
            starts = np.concatenate([[0], np.flatnonzero(np.diff(child)) + 1])
            stops = np.append(starts[1:], hi - lo)
            for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
                below = (*path, int(child[a]))
                if len(below) == self.height:
                    leaf_of_key[lo + a : lo + b] = len(paths)
                    paths.append(below)
                else:
                    visit(below, lo + a, lo + b)

        visit((), 0, n)
        return paths, leaf_of_key
