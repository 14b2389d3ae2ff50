"""``ProllyTree``: an immutable ordered map from key bytes to rows of typed columns.

History independence: the same set of rows gives the same root address,
whatever the order of the edits that produced it (see ``splitter.py``). A tree
value is just (node store, root address, value column types); every edit
returns a new tree and leaves the old one valid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa

from ..errors import InvalidInput
from . import cursor
from .builder import build_leaves, build_root
from .checker import check_tree
from .diff import TreeDiff, diff_trees
from .keyarray import sortable
from .mutate import apply_edits
from .nodes import Joined, NodeStore, PointReader


class ProllyTree:
    __slots__ = ("nodes", "root", "types")

    def __init__(self, nodes: NodeStore, root: bytes, types: Sequence[pa.DataType]) -> None:
        self.nodes = nodes
        self.root = root
        self.types = tuple(types)

    # --- construction ------------------------------------------------------

    @classmethod
    def build(
        cls,
        nodes: NodeStore,
        keys: pa.BinaryArray,
        columns: Sequence[pa.Array],
        types: Sequence[pa.DataType] | None = None,
    ) -> ProllyTree:
        """Build from rows whose keys are strictly ascending (checked, vectorised)."""
        types = [c.type for c in columns] if types is None else list(types)
        columns = [_combine(c) for c in columns]
        _check_sorted(keys)
        return cls(nodes, build_root(nodes, build_leaves(nodes, keys, columns)), types)

    @classmethod
    def empty(cls, nodes: NodeStore, types: Sequence[pa.DataType]) -> ProllyTree:
        columns = [pa.nulls(0, t) for t in types]
        return cls.build(nodes, pa.nulls(0, pa.binary()), columns, types)

    # --- reading -----------------------------------------------------------

    def count(self) -> int:
        return cursor.count(self.nodes, self.root)

    def get(self, key: bytes) -> tuple | None:
        return cursor.get(self.nodes, self.root, self.types, key)

    def point_reader(self) -> PointReader:
        """``get`` prepared for many lookups in this tree (``nodes.PointReader``)."""
        return PointReader(self.nodes, self.root, self.types)

    def scan(
        self, lo: bytes | None = None, hi: bytes | None = None, *, hi_inclusive: bool = True
    ) -> tuple[pa.BinaryArray, list[pa.Array]]:
        return cursor.scan(self.nodes, self.root, self.types, lo, hi, hi_inclusive=hi_inclusive)

    def height(self) -> int:
        return self.nodes.level(self.root) + 1

    # --- writing -----------------------------------------------------------

    def edit(
        self,
        keys: pa.BinaryArray,
        columns: Sequence[pa.Array],
        deleted: np.ndarray | None = None,
        reuse: Mapping[bytes, bytes] | None = None,
        joined: Joined | None = None,
    ) -> ProllyTree:
        """Upsert rows and delete keys in one sorted batch (see ``mutate.apply_edits``)."""
        columns = [_combine(c) for c in columns]
        root = apply_edits(self.nodes, self.root, self.types, keys, columns, deleted, reuse, joined)
        assert root is not None  # apply_edits answers None only to a call with swaps
        return ProllyTree(self.nodes, root, self.types)

    # --- comparing ---------------------------------------------------------

    def diff(self, other: ProllyTree) -> TreeDiff:
        """Rows that differ from this tree to ``other``."""
        return diff_trees(self.nodes, self.root, other.root, self.types)

    def check(self, canonical: bool = True) -> int:
        return check_tree(self.nodes, self.root, self.types, canonical)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProllyTree) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)


def _combine(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _check_sorted(keys: pa.BinaryArray) -> None:
    s = sortable(keys)
    if len(s) > 1 and not (s[1:] > s[:-1]).all():
        raise InvalidInput("rows must be sorted by key with no duplicate keys")
