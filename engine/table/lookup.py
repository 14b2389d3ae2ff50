"""Bulk access to a prolly tree: many point lookups or seeks in one pass, and
sorted batch edits.

A batch of probe keys is placed against the last keys of the leaves that
cover its range (read from cached internal nodes), the leaves that hold an
answer are decoded together in one vectorised call, and every probe is
answered with one ``searchsorted``. Cost: the touched leaves, not the tree,
and no Python step per probe. Probes need not be sorted or unique.

Probe and stored keys must be of one kind (self-delimiting keys from
codec/keys.py, or fixed-width hashes), so that the comparable forms of
``tree/keyarray.py`` order and compare them as memcmp does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..tree import ProllyTree
from ..tree.cursor import leaf_entries
from ..tree.keyarray import comparable

__all__ = ["edit_tree", "lookup", "seek"]


def seek(
    tree: ProllyTree, probes: pa.BinaryArray, ncols: int = 0
) -> tuple[np.ndarray, pa.BinaryArray, list[pa.Array]]:
    """For each probe, the first stored row whose key is >= the probe.

    Args:
        tree: the tree to search.
        probes: probe keys (any order).
        ncols: how many leading value columns to return.

    Returns:
        (hit, keys, columns): ``hit[i]`` says whether a row >= probe i exists;
        ``keys`` and the first ``ncols`` value columns hold that row, aligned
        with the probes (NULL where there is no hit).
    """
    n = len(probes)
    types = list(tree.types[:ncols])
    if n == 0:
        return np.zeros(0, bool), pa.nulls(0, pa.binary()), [pa.nulls(0, t) for t in types]
    (probe_s,) = comparable(probes)
    lo, hi = probes[int(np.argmin(probe_s))].as_py(), probes[int(np.argmax(probe_s))].as_py()
    leaves = leaf_entries(tree.nodes, tree.root, lo, hi)
    last_s, probe_s = comparable(pa.array(leaves.keys, pa.binary()), probes)
    leaf_of = np.searchsorted(last_s, probe_s, "left")
    hit = leaf_of < len(leaves.keys)
    if not hit.any():
        return hit, pa.nulls(n, pa.binary()), [pa.nulls(n, t) for t in types]
    touched = np.unique(leaf_of[hit])
    keys, columns = tree.nodes.decode_leaves([leaves.addresses[i] for i in touched], types)
    keys_s, probe_s = comparable(keys, probes)
    pos = np.searchsorted(keys_s, probe_s, "left")
    hit &= pos < len(keys)  # an empty leaf (the empty tree) holds no answer
    if not hit.any():
        return hit, pa.nulls(n, pa.binary()), [pa.nulls(n, t) for t in types]
    take = pa.array(np.where(hit, pos, 0), pa.int64(), mask=~hit)
    return hit, keys.take(take), [c.take(take) for c in columns]


def lookup(
    tree: ProllyTree, keys: pa.BinaryArray, ncols: int | None = None
) -> tuple[np.ndarray, list[pa.Array]]:
    """Which ``keys`` the tree holds, and their rows' first ``ncols`` value columns.

    Returns:
        (found, columns): ``found[i]`` is True where key i is stored; columns are
        aligned with ``keys`` and NULL where the key is absent.
    """
    ncols = len(tree.types) if ncols is None else ncols
    hit, at, columns = seek(tree, keys, ncols)
    if not hit.any():
        return hit, columns
    at_s, key_s = comparable(at.filter(pa.array(hit)), keys)
    found = hit.copy()
    found[hit] = at_s == key_s[hit]
    if found.all():
        return found, columns
    mask = pa.array(~found)
    return found, [_null_where(c, mask) for c in columns]


def _null_where(values: pa.Array, mask: pa.BooleanArray) -> pa.Array:
    """``values`` with NULL where ``mask`` is True."""
    index = pa.array(np.arange(len(values)), pa.int64(), mask=mask.to_numpy(zero_copy_only=False))
    return values.take(index)


def edit_tree(
    tree: ProllyTree, keys: pa.BinaryArray, columns: Sequence[pa.Array], deleted: np.ndarray
) -> ProllyTree:
    """``tree.edit`` of a sorted batch; an empty tree is built from the upserts in
    bulk instead (the same tree, by history independence, for less work)."""
    if len(keys) == 0:
        return tree
    if tree.count() == 0:
        keep = pa.array(~np.asarray(deleted, bool))
        return ProllyTree.build(
            tree.nodes, keys.filter(keep), [c.filter(keep) for c in columns], tree.types
        )
    return tree.edit(keys, columns, deleted)
