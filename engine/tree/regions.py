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

import numpy as np

from .builder import Entries
from .cursor import leaf_entries
from .nodes import NodeStore


@dataclass(frozen=True)
class Swap:
    """Ours' leaves ``[start, stop)`` (level-1 positions) become theirs' ``leaves``."""

    start: int
    stop: int
    leaves: Entries


@dataclass(frozen=True)
class Regions:
    """How theirs' changes from base split: ``swaps`` (in key order), and the
    leaves only base and only theirs hold in the other changed ranges."""

    swaps: list[Swap]
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

    o_at = {key: i for i, key in enumerate(o.keys)}
    o_in_b = np.concatenate([[0], np.cumsum(np.fromiter((a in in_b for a in o.addresses), bool, len(o)))])
    swaps: list[Swap] = []
    only_base: list[bytes] = []
    only_theirs: list[bytes] = []
    last = len(ends_b) - 2
    for r in changed.tolist():
        lo_b, hi_b = int(ends_b[r]), int(ends_b[r + 1])
        lo_t, hi_t = int(ends_t[r]), int(ends_t[r + 1])
        lo_o = -1 if r == 0 else o_at.get(b.keys[lo_b], -2)
        hi_o = len(o) - 1 if r == last else o_at.get(b.keys[hi_b], -2)
        if (
            lo_o > -2
            and hi_o > -2
            and hi_o - lo_o == hi_b - lo_b
            and o_in_b[hi_o + 1] - o_in_b[lo_o + 1] == hi_o - lo_o
        ):
            swaps.append(Swap(lo_o + 1, hi_o + 1, _slice(t, lo_t + 1, hi_t + 1)))
        else:
            only_base.extend(a for a in b.addresses[lo_b + 1 : hi_b + 1] if a not in in_t)
            only_theirs.extend(a for a in t.addresses[lo_t + 1 : hi_t + 1] if a not in in_b)
    return Regions(swaps, only_base, only_theirs)


def _runs_of(flags: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many ``flags`` are set in each range (ends[r], ends[r + 1]]."""
    counts = np.concatenate([[0], np.cumsum(flags)])
    return counts[ends[1:] + 1] - counts[ends[:-1] + 1]


def _slice(entries: Entries, start: int, stop: int) -> Entries:
    return Entries(
        list(entries.keys[start:stop]), list(entries.addresses[start:stop]), list(entries.counts[start:stop])
    )
