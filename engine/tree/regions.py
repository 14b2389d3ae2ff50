"""Where a three-way merge can take theirs' leaves whole, without reading a row.

Leaf boundaries are the separator keys of level 1 (each leaf's last key). Cut
the key space at every key that ends a leaf in both base and theirs: between two
such keys each side holds a run of whole leaves, and the runs hold the same rows
exactly when they are the same leaves. A run that differs is a key range theirs
changed. If ours ends leaves at both ends of that range too, and holds the very
same leaves as base inside it, ours changed nothing there: the merged rows in the
range are theirs', and theirs' run of leaves is already their chunking. The cut
rule looks only at the rows since the previous cut, and all three trees cut at
the range's start, so the merged tree holds theirs' run there (history
independence): a swap, which writes no leaf. This holds for any change inside
the range (values, inserts, deletes), and no key in it can be in conflict.

Ranges that do not qualify go to the row-level merge: their leaves unique to
base and to theirs are diffed (``diff.diff_leaves``; shared leaves hold equal
rows), and the edit of ours keeps away from the swapped ranges, whose leaves
ours ends at both sides.

The first range starts below every key and the last ends above every key, so
each side's first and last leaves stand at the two ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .builder import Entries
from .cursor import leaf_entries
from .nodes import NodeStore


class Swaps(NamedTuple):
    """Runs (start, stop, first, last) in key order: ours' leaves ``[start, stop)``
    (level-1 positions) become theirs' leaves ``leaves[first:last]``."""

    runs: list[tuple[int, int, int, int]]
    leaves: Entries  # theirs' level 1

    def taken(self) -> int:
        """How many of theirs' leaves the runs take."""
        return sum(last - first for _, _, first, last in self.runs)


@dataclass(frozen=True)
class Regions:
    """How theirs' changes from base split: ``swaps``, and the leaves only base and
    only theirs hold in the other changed ranges."""

    swaps: Swaps
    only_base: list[bytes]
    only_theirs: list[bytes]


def plan_regions(nodes: NodeStore, base: bytes, ours: bytes, theirs: bytes) -> Regions | None:
    """The swaps and the leaves left to diff; None when a tree is a single leaf."""
    if min(nodes.level(base), nodes.level(ours), nodes.level(theirs)) == 0:
        return None
    b, o, t = (leaf_entries(nodes, root) for root in (base, ours, theirs))
    b_at = {key: i for i, key in enumerate(b.keys)}
    common = [(b_at[key], j) for j, key in enumerate(t.keys) if key in b_at]
    if not common or common[-1] != (len(b) - 1, len(t) - 1):
        common.append((len(b) - 1, len(t) - 1))  # the last range runs above every key
    ends_b = np.array([-1] + [i for i, _ in common])  # range r: (ends[r], ends[r + 1]]
    ends_t = np.array([-1] + [j for _, j in common])
    in_t, in_b = set(t.addresses), set(b.addresses)
    b_shared = _runs_of(np.fromiter((a in in_t for a in b.addresses), bool, len(b)), ends_b)
    t_shared = _runs_of(np.fromiter((a in in_b for a in t.addresses), bool, len(t)), ends_t)
    n_b, n_t = np.diff(ends_b), np.diff(ends_t)
    changed = np.flatnonzero((n_b != n_t) | (b_shared != n_b) | (t_shared != n_t))

    # ours' leaf ending at each base leaf's last key (-2: none), then each range's ends in ours
    o_at = {key: i for i, key in enumerate(o.keys)}
    o_end = np.fromiter((o_at.get(key, -2) for key in b.keys), np.int64, len(b))
    lo_b, hi_b = ends_b[changed], ends_b[changed + 1]
    lo_o = np.where(changed == 0, -1, o_end[lo_b])
    hi_o = np.where(changed == len(ends_b) - 2, len(o) - 1, o_end[hi_b])
    o_in_b = np.concatenate(
        [[0], np.cumsum(np.fromiter((a in in_b for a in o.addresses), bool, len(o)))]
    )
    aligned = (lo_o > -2) & (hi_o > -2)
    lo_o, hi_o = np.where(aligned, lo_o, 0), np.where(aligned, hi_o, 0)
    swap = (
        aligned
        & (hi_b > lo_b)  # a range base holds no leaf of (theirs appended): no leaf to swap out
        & (hi_o - lo_o == hi_b - lo_b)
        & (o_in_b[hi_o + 1] - o_in_b[lo_o + 1] == hi_o - lo_o)
    )
    lo_t, hi_t = ends_t[changed], ends_t[changed + 1]
    runs = zip(
        (lo_o[swap] + 1).tolist(),
        (hi_o[swap] + 1).tolist(),
        (lo_t[swap] + 1).tolist(),
        (hi_t[swap] + 1).tolist(),
        strict=True,
    )
    rest = changed[~swap]
    return Regions(
        Swaps(list(runs), t),
        _unshared(b.addresses, in_t, ends_b, rest),
        _unshared(t.addresses, in_b, ends_t, rest),
    )


def _unshared(
    addresses: list[bytes], other: set[bytes], ends: np.ndarray, ranges: np.ndarray
) -> list[bytes]:
    """The leaves of ``ranges`` (over ``ends``) whose address ``other`` lacks, in order."""
    wanted = np.zeros(len(addresses) + 1, np.int64)
    np.add.at(wanted, ends[ranges] + 1, 1)
    np.add.at(wanted, ends[ranges + 1] + 1, -1)
    inside = np.flatnonzero(np.cumsum(wanted[:-1]) > 0)
    return [a for a in (addresses[i] for i in inside.tolist()) if a not in other]


def _runs_of(flags: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many ``flags`` are set in each range (ends[r], ends[r + 1]]."""
    counts = np.concatenate([[0], np.cumsum(flags)])
    return counts[ends[1:] + 1] - counts[ends[:-1] + 1]
