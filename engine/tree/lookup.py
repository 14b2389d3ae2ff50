"""Many point lookups or seeks in a prolly tree in one pass.

A batch of probe keys is placed against the last keys of the leaves that
cover its range (read from cached internal nodes); the keys of the leaves that
hold an answer are decoded together, every probe is answered with one
``searchsorted``, and only the answering rows' values are read from the leaf
bytes (``NodeStore.take_rows``). Cost: the touched leaves, not the tree, and no
Python step per probe. Probes need not be sorted or unique.

Probe and stored keys must be of one kind (self-delimiting keys from
codec/keys.py, or fixed-width hashes), so that the comparable forms of
``keyarray.py`` order and compare them as memcmp does.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..arrow_arrays import binaries, bools, int64s
from ..codec.sparse import find_rows
from .cursor import leaf_entries
from .keyarray import comparable
from .nodes import Joined
from .prolly import ProllyTree

__all__ = ["Joined", "lookup", "lookup_in_leaves", "seek", "seek_in_leaves"]


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
    return seek_in_leaves(tree, probes, ncols)[:3]


def seek_in_leaves(
    tree: ProllyTree, probes: pa.BinaryArray, ncols: int = 0
) -> tuple[np.ndarray, pa.BinaryArray, list[pa.Array], Joined | None]:
    """For each probe, the first stored row whose key is >= the probe.

    Args:
        tree: the tree to search.
        probes: probe keys (any order).
        ncols: how many leading value columns to return.

    Returns:
        (hit, keys, columns, joined): ``hit[i]`` says whether a row >= probe i
        exists; ``keys`` and the first ``ncols`` value columns hold that row,
        aligned with the probes (NULL where there is no hit); ``joined``: the
        leaves read, with their addresses (None if none was read), which an edit
        of the same leaves may take (``ProllyTree.edit``).
    """
    n = len(probes)
    types = list(tree.types[:ncols])
    if n == 0:
        return np.zeros(0, bool), pa.nulls(0, pa.binary()), [pa.nulls(0, t) for t in types], None
    (probe_s,) = comparable(probes)
    lo, hi = probes[int(np.argmin(probe_s))].as_py(), probes[int(np.argmax(probe_s))].as_py()
    leaves = leaf_entries(tree.nodes, tree.root, lo, hi)
    last_s, probe_s = comparable(binaries(leaves.keys), probes)
    leaf_of = np.searchsorted(last_s, probe_s, "left")
    hit = leaf_of < len(leaves.keys)
    if not hit.any():
        return hit, pa.nulls(n, pa.binary()), [pa.nulls(n, t) for t in types], None
    touched, leaf = np.unique(leaf_of[hit], return_inverse=True)
    addresses = [leaves.addresses[i] for i in touched]
    layouts = tree.nodes.leaf_layouts(addresses)
    probed = probes.filter(bools(hit))
    found = find_rows(layouts, leaf, probed)
    if found is None:  # keys of several widths: decode them
        stored = tree.nodes.leaf_keys(addresses)
        keys_s, probe_s = comparable(stored, probed)
        at = np.searchsorted(keys_s, probe_s, "left")
        starts = np.cumsum(layouts.counts) - layouts.counts
        row = at - starts[leaf]
    else:
        row = found[0]
    answered = row < layouts.counts[leaf]  # an empty leaf (the empty tree) holds no answer
    hit[hit] = answered
    if not hit.any():
        return hit, pa.nulls(n, pa.binary()), [pa.nulls(n, t) for t in types], None
    # read each answering row once, then spread the rows over the probes
    wanted = (leaf[answered] << 32) | row[answered]
    rows, probe_row = np.unique(wanted, return_inverse=True)
    keys, columns = tree.nodes.take_rows(addresses, layouts, rows >> 32, rows & 0xFFFFFFFF, types)
    spread = np.zeros(n, np.int64)
    spread[hit] = probe_row
    take = int64s(spread, ~hit)
    return hit, keys.take(take), [c.take(take) for c in columns], Joined(addresses, layouts)


def lookup(
    tree: ProllyTree, keys: pa.BinaryArray, ncols: int | None = None
) -> tuple[np.ndarray, list[pa.Array]]:
    """Which ``keys`` the tree holds, and their rows' first ``ncols`` value columns.

    Returns:
        (found, columns): ``found[i]`` is True where key i is stored; columns are
        aligned with ``keys`` and NULL where the key is absent.
    """
    return lookup_in_leaves(tree, keys, ncols)[:2]


def lookup_in_leaves(
    tree: ProllyTree, keys: pa.BinaryArray, ncols: int | None = None
) -> tuple[np.ndarray, list[pa.Array], Joined | None]:
    """``lookup``, and the leaves it read (as ``seek_in_leaves``)."""
    ncols = len(tree.types) if ncols is None else ncols
    hit, at, columns, joined = seek_in_leaves(tree, keys, ncols)
    if not hit.any():
        return hit, columns, joined
    at_s, key_s = comparable(at.filter(bools(hit)), keys)
    found = hit.copy()
    found[hit] = at_s == key_s[hit]
    if found.all():
        return found, columns, joined
    index = int64s(np.arange(len(found)), ~found)  # NULL where the key is absent
    return found, [c.take(index) for c in columns], joined
