"""Where a prolly tree cuts its items into nodes: a size-aware rule on key hashes.

The rule (history independence rests on it): walking the items of one level in
key order from the previous cut, item i closes the current node when

    s_i >= MAX,  or  s_i >= MIN  and  u_i < 1 - exp(A(s_i - d_i) - A(s_i))

where d_i is the item's size in bytes, s_i the node's size including it,
A(s) = (s / LAMBDA) ** K is the cumulative hazard of a Weibull distribution
(K = 4) and u_i in [0, 1) is derived from a 64-bit hash of the item's KEY only.
So a cut depends on nothing but the items since the previous cut: the same set
of rows always gives the same nodes and the same root address, whatever order
the edits came in, and an edit only moves cuts until the chunker falls back
into step with the old ones. Values count only through their size, which keeps
nodes near the target size: a size-blind rule gives leaves from 60 B to 37 KB
at a 4 KiB target; this one keeps them within about 0.4x-2x of it.

Sizes (on-disk format: changing any constant here changes every root address
and needs a FORMAT_VERSION bump in the tree):

- leaves target 16 KiB (MIN 4 KiB, MAX 64 KiB): DESIGN.md's measurements at
  1M rows put 16 KiB at 1.6-1.8x plain Arrow for scan+query and 13% LMDB space
  overhead, against 2.6-3.5x and 52% at 4 KiB; scattered edits touch nearly
  every leaf at any size, so smaller leaves buy little for updates.
- internal nodes target 4 KiB (about 110 children of a 9-byte key): enough
  fan-out for 3 levels over 1M rows while a path rewrite stays small.

The key hash is ours and stable: 8-byte little-endian lanes of the key bytes
(zero padded), each folded in by a multiply and an xor-shift, seeded with the
level and the key length, then the splitmix64 finaliser. It is computed for a
whole column with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .keyarray import key_buffers, padded_matrix

WEIBULL_K = 4  # hard-wired in _hazard as two squarings
HASH_BLOCK = 16_384  # keys hashed at a time (128 KiB lanes)


@dataclass(frozen=True)
class ChunkRule:
    target: int
    min_size: int
    max_size: int

    @property
    def scale(self) -> float:
        # mean of Weibull(K, LAMBDA) = LAMBDA * Gamma(1 + 1/K); Gamma(1.25) = 0.9064
        return self.target / 0.9064


LEAF_RULE = ChunkRule(target=16 * 1024, min_size=4 * 1024, max_size=64 * 1024)
INTERNAL_RULE = ChunkRule(target=4 * 1024, min_size=1024, max_size=16 * 1024)

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def key_hashes(keys: pa.BinaryArray, level: int) -> np.ndarray:
    """A stable 64-bit hash of every key, salted by the tree level."""
    offsets, data = key_buffers(keys)
    lengths = np.diff(offsets)
    n = len(lengths)
    width = int(lengths[0]) if n else 0
    seed = np.uint64(((level + 1) * int(_GOLDEN)) & 0xFFFFFFFFFFFFFFFF)
    if n and width and (lengths == width).all():
        # one width: one seed for all, and the lanes read in place (strided views),
        # no padded copy; folded into each fresh lane array in place, a block of keys
        # at a time (arrays that stay in cache: 2x faster than whole-batch temporaries)
        start = _mix(np.array([seed ^ np.uint64(width)]))[0]
        out = np.empty(n, np.uint64)
        for first in range(0, n, HASH_BLOCK):
            count = min(HASH_BLOCK, n - first)
            block = data[first * width : (first + count) * width]
            h: np.ndarray | np.uint64 = start
            for j in range(0, width, 8):
                lane = _lane(block, count, width, j)
                lane ^= h
                lane *= _M1
                lane ^= lane >> np.uint64(32)
                h = lane
            out[first : first + count] = _mix_in_place(np.asarray(h))
        return out
    h = _mix(seed ^ lengths.astype(np.uint64))
    matrix, _ = padded_matrix(keys, multiple=8)
    lanes = matrix.view("<u8")
    n_lanes = (lengths + 7) // 8
    for j in range(lanes.shape[1]):
        h = np.where(j < n_lanes, _fold(h, lanes[:, j]), h)
    return _mix(h)


def _mix_in_place(x: np.ndarray) -> np.ndarray:
    """``_mix`` of a fresh array, overwriting it."""
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def _fold(h: np.ndarray, lane: np.ndarray) -> np.ndarray:
    mixed = (h ^ lane) * _M1
    mixed ^= mixed >> np.uint64(32)
    return mixed


def _lane(data: np.ndarray, n: int, width: int, start: int) -> np.ndarray:
    """Bytes [start, start + 8) of every fixed-width key as a little-endian u64,
    zero-padded past the key's end (the same value the padded matrix gives)."""
    if start + 8 <= width:
        return np.ndarray((n,), "<u8", data, start, (width,)).astype(np.uint64)
    lane = np.zeros(n, np.uint64)
    for b in range(width - start):
        lane |= data[start + b :: width][:n].astype(np.uint64) << np.uint64(8 * b)
    return lane


def _hazard(x):
    """A(s) = (s / LAMBDA) ** K for K = 4, as two squarings (pow is slow)."""
    x2 = x * x
    return x2 * x2


def _closing_chance(before, size, lam: float):
    """p(s) of the rule for a node of ``size`` bytes that was ``before`` bytes without
    its last item (floats; the one expression every chunking path evaluates)."""
    return -np.expm1(_hazard(before / lam) - _hazard(size / lam))


def find_cuts(hashes: np.ndarray, sizes: np.ndarray, rule: ChunkRule) -> list[int]:
    """Exclusive end index of every node the rule closes within these items.

    Items after the last returned cut do not close a node here; the caller
    either appends more items or, at the end of the level, makes them the last
    node.

    One walk from cut to cut, comparing integers. Most nodes close before twice
    the target (``reach``), and an item can close a node no larger than that only
    when its u is below the rule's chance at ``reach``, which is at most
    ``A'(reach) * d`` (the chance grows with the node's size; 1 - e^-y <= y):
    those items, a few percent, are the candidates, found with numpy. For each,
    ``_thresholds`` finds the smallest node size at which it closes, so a node
    started where the running size is x closes at the first candidate whose
    running size minus its threshold reaches x. A node that grows past ``reach``
    before one closes it (about 2e-5 of nodes, or an item larger than ``reach``)
    is chunked by evaluating the rule at every item up to MAX. The result is the
    sequential rule's (tests/engine/test_splitter.py).
    """
    n = len(sizes)
    if not n:
        return []
    csum = np.zeros(n + 1, np.int64)
    np.cumsum(sizes, out=csum[1:])
    uniform = (hashes >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    lam = rule.scale
    reach = min(2 * rule.target, rule.max_size - 1)  # below MAX: only the hazard cuts there
    slope = 4.0 * (reach / lam) ** 3 / lam * (1 + 1e-9)  # A'(reach), rounded up
    candidates = np.flatnonzero(uniform < slope * sizes)
    ends = csum[candidates + 1]  # the node's size up to each, from csum[start]
    threshold = _thresholds(uniform[candidates], sizes[candidates], reach, rule)
    # candidate i closes a node started where csum is x iff x <= ends[i] - threshold[i]
    closing = (ends - threshold).tolist()
    where = candidates.tolist()
    ends_list = ends.tolist()
    cuts: list[int] = []
    start, j, m = 0, 0, len(where)
    while start < n:
        x = int(csum[start])
        limit = x + reach
        while j < m and where[j] < start:
            j += 1
        while j < m and ends_list[j] <= limit and closing[j] < x:
            j += 1
        if j < m and ends_list[j] <= limit:
            cut = where[j] + 1
        else:
            found = _cut_past_reach(csum, uniform, start, rule)
            if found is None:
                return cuts
            cut = found
        cuts.append(cut)
        start = cut
    return cuts


def _thresholds(uniform: np.ndarray, sizes: np.ndarray, reach: int, rule: ChunkRule) -> np.ndarray:
    """For each item (its u and size): the smallest node size, counting the item, at
    which the rule closes the node at it, if that is at most ``reach`` bytes, else
    ``reach + 1``. Solved for all the items at once: Newton's method on the hazard
    difference A(s) - A(s - d) = -log(1 - u) (increasing and convex in s, so the
    steps from ``reach`` descend onto the root), then the integer size settled by
    the rule's own expression (``_closing_chance``) at it and one byte below."""
    lam = rule.scale
    d = sizes.astype(np.int64)
    low = np.maximum(d, rule.min_size)
    never = np.full(len(d), reach + 1, np.int64)
    at_reach = (low <= reach) & _closes_at(uniform, d, np.full(len(d), reach, np.int64), lam)
    if not at_reach.any():
        return never
    target = -np.log1p(-uniform)
    s = np.full(len(d), float(reach))
    df = d.astype(np.float64)
    for _ in range(8):
        a, b = s / lam, (s - df) / lam
        gap = a * a * a * a - b * b * b * b - target
        slope = 4.0 * (a * a * a - b * b * b) / lam
        s = s - gap / np.where(slope > 0, slope, 1.0)
    guess = np.clip(np.ceil(s).astype(np.int64), low, reach)
    guess = np.where(at_reach, guess, reach)
    rows = np.flatnonzero(at_reach)
    while len(rows):  # settle: the rule closes at guess and not one byte below
        g = guess[rows]
        up = ~_closes_at(uniform[rows], d[rows], g, lam)
        down = ~up & (g > low[rows]) & _closes_at(uniform[rows], d[rows], g - 1, lam)
        guess[rows[up]] += 1
        guess[rows[down]] -= 1
        rows = rows[up | down]
    return np.where(at_reach, guess, never)


def _closes_at(uniform: np.ndarray, d: np.ndarray, size: np.ndarray, lam: float) -> np.ndarray:
    """Whether the rule's chance at node ``size`` (item of ``d`` bytes) exceeds u."""
    return uniform < _closing_chance((size - d).astype(np.float64), size, lam)


def _cut_past_reach(
    csum: np.ndarray, uniform: np.ndarray, start: int, rule: ChunkRule
) -> int | None:
    """The cut of the node starting at item ``start``, by the rule at every item up to
    MAX bytes (None: the items end first)."""
    n = len(uniform)
    x = csum[start]
    stop = min(n, int(np.searchsorted(csum, x + rule.max_size, "left")))
    size = (csum[start + 1 : stop + 1] - x).astype(np.float64)
    before = (csum[start:stop] - x).astype(np.float64)
    p = _closing_chance(before, size, rule.scale)
    closes = ((size >= rule.min_size) & (uniform[start:stop] < p)) | (size >= rule.max_size)
    hits = np.flatnonzero(closes)
    return start + int(hits[0]) + 1 if len(hits) else None


def find_cuts_in_segments(
    hashes: np.ndarray,
    sizes: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    rule: ChunkRule,
    first_only: bool = False,
) -> tuple[list[list[int]], np.ndarray]:
    """``find_cuts`` for many independent segments [starts[r], stops[r]) at once.

    Returns each segment's cuts (absolute indices) and whether its last cut is
    at its stop. All segments advance together, one node per round, so the
    numpy work is shared: typically one or two rounds when each segment is an
    edited leaf.
    """
    stops = np.asarray(stops, np.int64)
    if not len(starts):
        return [], np.zeros(0, bool)
    lo, hi = int(np.min(starts)), int(np.max(stops))
    uniform = (hashes[lo:hi] >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    csum = np.zeros(hi - lo + 1, np.int64)
    np.cumsum(sizes[lo:hi], out=csum[1:])
    lam = rule.scale
    # Necessary condition for a cut inside a short window (s <= 2 * target): the
    # hazard grows with s, so u must be below its value at s = 2 * target.
    reach = 2.0 * rule.target
    item = np.minimum(sizes[lo:hi], reach).astype(np.float64)
    bound = -np.expm1(_hazard((reach - item) / lam) - _hazard(reach / lam))
    candidates = np.flatnonzero(uniform < bound)
    cuts: list[list[int]] = [[] for _ in range(len(starts))]
    starts = np.asarray(starts, np.int64) - lo
    stops = stops - lo
    synced = starts >= stops
    active = np.flatnonzero(~synced)
    current = starts.copy()
    # Most nodes close before twice the target: a segment looks that far first,
    # at the candidate items only, and widens its window to MAX (every item)
    # after a round without a close.
    wide = np.zeros(len(starts), bool)
    while len(active):
        wide_before = wide[active]
        base = csum[current[active]]
        window = np.where(wide_before, rule.max_size, 2 * rule.target)
        ends = np.minimum(np.searchsorted(csum, base + window, "left"), stops[active])
        first = np.where(wide_before, current[active], np.searchsorted(candidates, current[active]))
        last = np.where(wide_before, ends, np.searchsorted(candidates, ends))
        counts = last - first
        owner = np.repeat(np.arange(len(active)), counts)
        position = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        position += np.repeat(first, counts)
        item = (
            np.where(
                wide_before[owner],
                position,
                candidates[np.minimum(position, max(len(candidates) - 1, 0))],
            )
            if len(position)
            else position
        )
        size = (csum[item + 1] - base[owner]).astype(np.float64)
        before = (csum[item] - base[owner]).astype(np.float64)
        p = -np.expm1(_hazard(before / lam) - _hazard(size / lam))
        closes = ((size >= rule.min_size) & (uniform[item] < p)) | (size >= rule.max_size)
        hits = np.flatnonzero(closes)
        first_owner, first_at = np.unique(owner[hits], return_index=True)
        cut_at = item[hits[first_at]] + 1
        closed = np.zeros(len(active), bool)
        closed[first_owner] = True
        for r, cut in zip(active[first_owner].tolist(), cut_at.tolist(), strict=True):
            cuts[r].append(cut + lo)
        current[active[first_owner]] = cut_at
        done = closed & (current[active] >= stops[active])
        synced[active[done]] = True
        wide[active] = ~closed
        retry = ~closed & ~wide_before & (ends < stops[active])
        keep = (closed & ~done) | retry
        if first_only:
            keep &= ~closed
        active = active[keep]
    return cuts, synced
