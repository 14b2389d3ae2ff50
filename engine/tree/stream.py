"""Streamed reads of a prolly tree: a key range as a sequence of column batches.

The leaves of the range are found from internal nodes alone (their row counts are
there), one lowest internal node at a time as the stream goes, and grouped into
batches: the first about ``FIRST_BATCH_ROWS`` rows, each next one ``GROWTH`` times
more, up to ``MAX_BATCH_ROWS``. A reader that stops early
(a ``LIMIT``) has decoded one small batch; a full scan gets a few large ones. A
group's leaves are read and decoded ``MAX_BATCH_BYTES`` of chunk bytes at a time
(the chunks a scan holds at once: a narrow read of wide leaves keeps little of
them), and the decoded windows are joined into parts of up to ``PART_BYTES`` of
decoded columns, so a batch's string data stays far below 2 GiB (streams never
need 64-bit offsets) and DuckDB still gets large batches.

Only the wanted value columns are decoded, the keys only when asked for (a range
also needs them to trim: in the first group for a lower bound, in every group for
an upper one, since the last group is not known ahead), unless the internal nodes
show that the bound falls on a leaf boundary (``_cuts_leaves``; every split's
bounds do, so a split's value columns are read without keys: 1M rows of the bench
shape, a label and a score: ~100 ms of CPU without the keys, ~140 with them).

``ColumnCache`` keeps decoded columns by (group, column), a group named by a hash of
its leaves' content addresses, so an entry is never stale. Its byte budget is a
hard bound: an entry that would pass it evicts the least recently used ones, and an
entry larger than the whole budget is not kept.

Splits (``splits``) cut a tree into disjoint key ranges at subtree boundaries, each
with its exact row count (summed from internal nodes): one unit of work for a
parallel reader, read with ``stream`` like any range.
"""

from __future__ import annotations

import gc
import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa

from ..cache import LruCache
from ..chunks.column_frames import BufferPick, PickedBlock, join_blocks
from ..codec.leaf import buffer_pick
from .cursor import count
from .keyarray import sortable
from .nodes import NodeStore

__all__ = ["ColumnCache", "Split", "splits", "stream"]

FIRST_BATCH_ROWS = 2048
GROWTH = 4
MAX_BATCH_ROWS = 1 << 20
MAX_BATCH_BYTES = 4 << 20  # chunk bytes read and decoded at a time (a scan's working set)
PART_BYTES = 4 << 20  # decoded bytes joined into one batch part (narrow reads of wide leaves)
KEYS = -1  # the cache slot of a group's keys
PREFETCH_INTERNALS = 64  # lowest internal nodes read at once (the first alone: a LIMIT's)


class ColumnCache(LruCache[tuple[bytes, int], list[pa.Array]]):
    """Decoded columns of leaf groups by (group, column slot), least recently used
    evicted, never more than ``budget`` bytes held (``bytes``; ``peak`` is the most
    ever held)."""

    __slots__ = ()

    def __init__(self, budget: int) -> None:
        super().__init__(budget, weigh=_parts_size)

    @property
    def bytes(self) -> int:
        return self.units


def _parts_size(parts: list[pa.Array]) -> int:
    return sum(_size(a) for a in parts)


def _size(array: pa.Array) -> int:
    return array.get_total_buffer_size()


def stream(
    nodes: NodeStore,
    root: bytes,
    types: Sequence[pa.DataType],
    wanted: Sequence[int],
    *,
    keys: bool,
    lo: bytes | None = None,
    hi: bytes | None = None,
    hi_inclusive: bool = False,
    cache: ColumnCache | None = None,
    prepare: Callable[[pa.Array], pa.Array] | None = None,
) -> Iterator[tuple[pa.BinaryArray | None, dict[int, pa.Array]]]:
    """(keys or None, {column index: values}) of the rows with lo <= key < hi (or
    <= hi), batch by batch in key order (see the module docstring). ``prepare``
    turns each freshly decoded value column into what is kept and returned (e.g. a
    dictionary-encoded copy); it must keep the values."""
    trim_lo, trim_hi = _cuts_leaves(nodes, root, lo, hi, hi_inclusive)
    for g, group in enumerate(_groups(_blocks(nodes, root, lo, hi))):
        # only the range's first and last leaf can hold rows outside it; the last
        # group is not known ahead (leaves are found as the stream goes), so with an
        # upper bound inside a leaf every group is checked
        trim = (trim_lo and g == 0) or trim_hi
        parts = _decoded(nodes, types, group, wanted, keys or trim, cache, prepare)
        for part_keys, columns in parts:
            if trim:
                assert part_keys is not None  # a trimmed group is decoded with its keys
                start, stop = _trim(part_keys, lo, hi, hi_inclusive)
                if stop <= start:
                    continue
                if stop - start < len(part_keys):
                    part_keys = part_keys.slice(start, stop - start)
                    columns = {i: c.slice(start, stop - start) for i, c in columns.items()}
            yield (part_keys if keys else None), columns


def _cuts_leaves(
    nodes: NodeStore, root: bytes, lo: bytes | None, hi: bytes | None, hi_inclusive: bool
) -> tuple[bool, bool]:
    """Whether the range's first leaf may hold keys below ``lo``, and its last leaf
    keys above ``hi``: told from internal nodes alone (each child's last key), so a
    range whose bounds fall on leaf boundaries (every split's do) is read without
    decoding its keys. A leaf holds the keys after its left neighbour's last key, up
    to its own last key."""
    if nodes.level(root) == 0:
        return lo is not None, hi is not None
    cut_lo = cut_hi = False
    if lo is not None:
        node, before = nodes.internal(root), None  # the last key before the first leaf
        while True:
            i = node.child_for(lo)
            if i:
                before = node.keys[i - 1]
            if node.level == 1:
                break
            node = nodes.internal(node.addresses[i])
        # no key lies between ``before`` and ``before + 0x00`` (memcmp order)
        cut_lo = before is None or before + b"\x00" < lo
    if hi is not None:
        node = nodes.internal(root)
        while node.level > 1:
            node = nodes.internal(node.addresses[node.child_for(hi)])
        last = node.keys[node.child_for(hi)]  # the last leaf's last key
        cut_hi = last > hi if hi_inclusive else last >= hi
    return cut_lo, cut_hi


def _blocks(
    nodes: NodeStore, root: bytes, lo: bytes | None, hi: bytes | None
) -> Iterator[tuple[list[bytes], np.ndarray]]:
    """The leaves overlapping [lo, hi], in key order, as (addresses, row counts) of
    one lowest internal node at a time: found as the stream goes, so the first batch
    waits for one root-to-leaf path, not for every internal node of the range. The
    lowest internal nodes after the first are read in runs of up to
    ``PREFETCH_INTERNALS`` (1, 8, 64, ...), one store read each, not one per node."""
    if nodes.level(root) == 0:
        yield [root], np.array([count(nodes, root)], np.int64)
        return
    node = nodes.internal(root)
    first = node.child_for(lo) if lo is not None else 0
    last = node.child_for(hi) if hi is not None else len(node.keys) - 1
    if node.level == 1:
        yield node.addresses[first : last + 1], node.counts[first : last + 1]
        return
    children = node.addresses[first : last + 1]
    done, step = 0, 1
    while done < len(children):
        run = children[done : done + step]
        if node.level == 2:  # the lowest internal nodes, a run in one store read
            nodes.prefetch_internals(run)
        for child in run:
            yield from _blocks(nodes, child, lo, hi)
        done, step = done + len(run), min(step * 8, PREFETCH_INTERNALS)


def _groups(blocks: Iterator[tuple[list[bytes], np.ndarray]]) -> Iterator[list[bytes]]:
    """Runs of leaves holding at least the growing row targets (the last may hold
    fewer); cut points found on each block's running row count, not leaf by leaf."""
    target = FIRST_BATCH_ROWS
    group: list[bytes] = []
    rows = 0
    for addresses, counts in blocks:
        ends = np.cumsum(np.asarray(counts, np.int64))
        start = 0
        while start < len(ends):
            base = int(ends[start - 1]) if start else 0
            stop = int(np.searchsorted(ends, base + target - rows))  # first leaf reaching it
            if stop >= len(ends):
                group.extend(addresses[start:])
                rows += int(ends[-1]) - base
                break
            group.extend(addresses[start : stop + 1])
            yield group
            group, rows, start = [], 0, stop + 1
            target = min(target * GROWTH, MAX_BATCH_ROWS)
    if group:
        yield group


def _decoded(
    nodes: NodeStore,
    types: Sequence[pa.DataType],
    addresses: list[bytes],
    wanted: Sequence[int],
    keys: bool,
    cache: ColumnCache | None,
    prepare: Callable[[pa.Array], pa.Array] | None,
) -> Iterator[tuple[pa.BinaryArray | None, dict[int, pa.Array]]]:
    """The group's wanted columns, part by part: from the cache when it holds every
    one, else read and decoded a part at a time (kept in the cache afterwards when
    the whole group fits its budget). Parts are kept as they are, not joined into
    one per group: joining held the group twice (LLM filter at 1M rows: 62 -> 54
    MiB peak without it) and DuckDB scans parts of >= 2 MiB as fast."""
    group = hashlib.blake2b(b"".join(addresses), digest_size=16).digest()
    slots = ([KEYS] if keys else []) + list(wanted)
    found = [cache.get((group, s)) for s in slots] if cache is not None else [None]
    hits = [parts for parts in found if parts is not None]
    if len(hits) == len(found):
        by_slot = dict(zip(slots, hits, strict=True))
        for p in range(len(hits[0])):
            yield (by_slot[KEYS][p] if keys else None), {s: by_slot[s][p] for s in wanted}
        return
    kept: dict[int, list[pa.Array]] | None = {s: [] for s in slots} if cache is not None else None
    held = 0
    pick = buffer_pick(types, wanted, keys=keys)
    parts = _joined(nodes, types, wanted, keys, _parts(nodes, addresses, pick))
    part = next(parts, None)
    while part is not None:
        part_keys, values = part
        del part
        if prepare is not None:
            values = {s: prepare(v) for s, v in values.items()}
        if kept is not None:
            assert cache is not None  # kept is made only with a cache
            if keys:
                kept[KEYS].append(part_keys)
            for s in wanted:
                kept[s].append(values[s])
            held += sum(_size(values[s]) for s in wanted) + (_size(part_keys) if keys else 0)
            if held > cache.budget:
                kept = None  # the group does not fit: stream it without keeping it
        part = next(parts, None)
        if part is None and kept is not None:  # kept before the last yield: a reader
            assert cache is not None  # kept is made only with a cache
            for slot, kept_parts in kept.items():  # may stop there
                cache.put((group, slot), kept_parts)
        yield part_keys, values


def _joined(
    nodes: NodeStore,
    types: Sequence[pa.DataType],
    wanted: Sequence[int],
    keys: bool,
    windows: Iterator[tuple[list[bytes], PickedBlock]],
) -> Iterator[tuple[pa.BinaryArray | None, dict[int, pa.Array]]]:
    """The windows' wanted columns decoded, consecutive windows joined into parts of
    at least half ``PART_BYTES`` of decoded data (each window's chunks dropped once
    decoded). A window that decodes to that much alone is handed on as it is, so only
    narrow reads of wide leaves pay for a join (its copy comes from Arrow's pool)."""
    pending: list[tuple[pa.BinaryArray | None, dict[int, pa.Array]]] = []
    size = 0
    for window_addresses, window_leaves in windows:
        with _collector_paused():
            decoded = nodes.decode_some(window_addresses, window_leaves, types, wanted, keys)
        del window_leaves
        pending.append(decoded)
        size += sum(_size(v) for v in decoded[1].values()) + (_size(decoded[0]) if keys else 0)
        if 2 * size >= PART_BYTES:
            yield _join(pending, keys)
            pending, size = [], 0
    if pending:
        yield _join(pending, keys)


def _join(
    decoded: list[tuple[pa.BinaryArray | None, dict[int, pa.Array]]], keys: bool
) -> tuple[pa.BinaryArray | None, dict[int, pa.Array]]:
    if len(decoded) == 1:
        return decoded[0]
    joined_keys = pa.concat_arrays([k for k, _ in decoded]) if keys else None
    slots = decoded[0][1].keys()
    # a part is far below 2 GiB (half PART_BYTES plus one window), so its windows' columns
    # all came back with 32-bit offsets and join as they are
    return joined_keys, {s: pa.concat_arrays([v[s] for _, v in decoded]) for s in slots}


_paused = 0  # threads inside ``_collector_paused`` now
_paused_lock = threading.Lock()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off while a block of leaves is read
    or decoded: that makes a few small objects per leaf (its buffers, their lists),
    none in a cycle, and the collections they set off scanned every object of the
    process (the SQL layer's modules too) for nothing: about a quarter of the CPU
    time of the LLM filter at 200K rows (0.39 s against 0.29 s, same process).
    Counted, since DuckDB may pull streams on several threads at once: the
    collector comes back (if it was on) when the last one leaves."""
    global _paused, _resume
    with _paused_lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()


_resume = False  # whether the collector was on when the first pause began


READ_LEAVES = 128  # leaves read from the store at a time, at first
READ_MOST = 4096  # ... and at most, when the columns read are narrow


def _parts(
    nodes: NodeStore, addresses: list[bytes], pick: BufferPick
) -> Iterator[tuple[list[bytes], PickedBlock]]:
    """The group's leaves' picked buffers read a block of leaves at a time and cut
    into windows of at most ``MAX_BATCH_BYTES`` of those buffers (one leaf at least);
    deterministic in the chunks. A narrow read of wide leaves reads (and holds) only
    the narrow columns' bytes, and reads larger blocks (up to ``READ_MOST`` leaves,
    sized by the bytes the leaves read so far gave each): the cost per block (one
    read transaction, the vectorised pick) is then spread over more leaves. A block
    holds at most half ``MAX_BATCH_BYTES`` of picked bytes beyond its first
    ``READ_LEAVES`` leaves. Blocks come joined (``PickedBlock``) and are cut into
    windows by their leaves' sizes, with no object per leaf."""
    part_addresses: list[bytes] = []
    part_blocks: list[PickedBlock] = []
    size = 0
    start, block_leaves = 0, READ_LEAVES
    while start < len(addresses):
        block = addresses[start : start + block_leaves]
        start += len(block)
        with _collector_paused():
            picked = nodes.read_buffers(block, pick)
        total = int(picked.sizes.sum())
        if size + total <= MAX_BATCH_BYTES:  # the whole block joins the window
            part_addresses += block
            part_blocks.append(picked)
            size += total
        else:
            lo, ends = 0, np.cumsum(picked.sizes)
            while lo < len(block):
                # the leaves [lo, hi) that fit the window (one at least, when it is empty)
                room = MAX_BATCH_BYTES - size + (int(ends[lo - 1]) if lo else 0)
                hi = int(np.searchsorted(ends, room, side="right"))
                if hi <= lo:
                    if size:
                        yield part_addresses, join_blocks(part_blocks)
                        part_addresses, part_blocks, size = [], [], 0
                        continue
                    hi = lo + 1
                part_addresses += block[lo:hi]
                part_blocks.append(picked.part(lo, hi))
                size += int(ends[hi - 1]) - (int(ends[lo - 1]) if lo else 0)
                lo = hi
        each = max(total // len(block), 1)
        block_leaves = min(max(MAX_BATCH_BYTES // 2 // each, READ_LEAVES), READ_MOST)
    if part_addresses:
        yield part_addresses, join_blocks(part_blocks)


def _trim(
    keys: pa.BinaryArray, lo: bytes | None, hi: bytes | None, hi_inclusive: bool
) -> tuple[int, int]:
    """The row range [start, stop) of ``keys`` inside the bounds."""
    s = sortable(keys, max(len(lo or b""), len(hi or b"")))
    start = int(np.searchsorted(s, np.array([lo], s.dtype))[0]) if lo is not None else 0
    stop = len(keys)
    if hi is not None:
        side: Literal["left", "right"] = "right" if hi_inclusive else "left"
        stop = int(np.searchsorted(s, np.array([hi], s.dtype), side)[0])
    return start, stop


# --- splits ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Split:
    """Rows with ``after < key <= last`` (None: unbounded), ``rows`` of them exactly."""

    after: bytes | None
    last: bytes | None
    rows: int


def splits(nodes: NodeStore, root: bytes, target_rows: int) -> list[Split]:
    """Disjoint key ranges covering the tree, cut at subtree boundaries: each holds
    whole subtrees totalling at most ``target_rows`` rows, or one leaf when a leaf
    alone holds more. Row counts come from internal nodes (no leaf is read)."""
    if target_rows < 1:
        raise ValueError("target_rows must be at least 1")
    if nodes.level(root) == 0:
        return [Split(None, None, count(nodes, root))]
    runs: list[tuple[bytes, int]] = []  # (last key, rows) of each cut, in key order
    pending_rows, pending_key = 0, b""  # rows and last key of the split being filled

    def visit(address: bytes) -> None:
        nonlocal pending_rows, pending_key
        node = nodes.internal(address)
        for key, child, rows in zip(node.keys, node.addresses, node.counts.tolist(), strict=True):
            if rows > target_rows and node.level > 1:
                flush()
                visit(child)
                continue
            if pending_rows and pending_rows + rows > target_rows:
                flush()
            pending_rows += rows
            pending_key = key

    def flush() -> None:
        nonlocal pending_rows
        if pending_rows:
            runs.append((pending_key, pending_rows))
            pending_rows = 0

    visit(root)
    flush()
    out = []
    after = None
    for i, (last, rows) in enumerate(runs):
        out.append(Split(after, None if i == len(runs) - 1 else last, rows))
        after = last
    return out or [Split(None, None, 0)]
