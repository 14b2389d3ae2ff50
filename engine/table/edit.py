"""Sorted batch edits of a table's trees (bulk lookups are ``tree/lookup.py``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..arrow_arrays import bools
from ..tree import ProllyTree

__all__ = ["edit_tree"]


def edit_tree(
    tree: ProllyTree, keys: pa.BinaryArray, columns: Sequence[pa.Array], deleted: np.ndarray
) -> ProllyTree:
    """``tree.edit`` of a sorted batch; an empty tree is built from the upserts in
    bulk instead (the same tree, by history independence, for less work)."""
    if len(keys) == 0:
        return tree
    if tree.count() == 0:
        keep = bools(~np.asarray(deleted, bool))
        return ProllyTree.build(
            tree.nodes, keys.filter(keep), [c.filter(keep) for c in columns], tree.types
        )
    return tree.edit(keys, columns, deleted)
