"""Finding changed rows between pairs of leaves byte by byte, and reading a few
rows out of encoded leaves without decoding them whole.

When an edit only replaced values (same keys, same cell sizes), each changed
leaf and the leaf it replaced have equal headers and key buffers and differ only
inside value buffers. ``changed_rows`` compares all such pairs as bytes in one
vectorised pass (eight bytes at a time) and maps every differing byte to the
rows that own it, by the buffer it lies in:

- validity bits or bool values: the eight rows its bits stand for;
- fixed-width values: the row at (offset in the buffer) / width;
- variable-width offsets: the two rows that offset ends and starts;
- variable-width data: the row whose [start, end) holds it, by the old offsets
  and by the new ones.

Adjacent differing bytes of one buffer form a run, which maps to the range of
rows between its first and last byte's rows. These are candidates: a byte can
differ while the values stay equal (a NaN is canonical, but a validity byte
covers eight rows), so callers compare the candidates' values (``take_rows`` on
both sides). The cost is one pass over the
leaves' bytes plus work per candidate row; no leaf is decoded whole.

``changed_rows`` returns None (decode the leaves instead) when a pair's headers
or key buffers differ, a column is a list, or the changes are dense (more than
one differing 8-byte word per ``_DENSE_WORDS`` rows: then reading every row is
cheaper than mapping every byte).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import pyarrow as pa

from ..parallel import in_halves
from .columns import buffer_count, value_width
from .layout import LeafLayouts, ranges

_VALIDITY, _FIXED, _BITS, _OFFSETS, _DATA = range(5)
# More than one differing 8-byte word per this many rows: decode instead. Measured on
# 1M rows (~2,000 leaf pairs): 100,000 changed rows (~250,000 words) took 300 ms
# byte by byte against ~60 ms decoded; 1,000 changed rows take ~4 ms by bytes.
_DENSE_WORDS = 8


def changed_rows(
    old: LeafLayouts, new: LeafLayouts, types: Sequence[pa.DataType]
) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """(leaf, row) of every row that may differ between leaf i of ``old`` and leaf i
    of ``new``, sorted and unique, and whether every value kept its byte length
    (no offset differs); None when the pairs are not laid out alike.
    """
    if any(pa.types.is_list(t) for t in types):
        return None
    if old.lengths.shape != new.lengths.shape or not (
        np.array_equal(old.sizes, new.sizes)
        and np.array_equal(old.counts, new.counts)
        and np.array_equal(old.widths, new.widths)
        and np.array_equal(old.lengths, new.lengths)
    ):
        return None
    words = np.concatenate(
        in_halves(partial(_differing_words, old, new), _halves(len(old.buffer) // 8), 2)
    )
    if len(words) * _DENSE_WORDS > old.counts.sum():
        return None  # dense changes: decoding the leaves whole is cheaper
    near = (words[:, None] * 8 + np.arange(8)).reshape(-1)
    pos = near[old.buffer[near] != new.buffer[near]]
    if not len(pos):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), True
    leaf = np.searchsorted(old.chunk_start, pos, "right") - 1
    buffer = (old.starts[leaf] <= pos[:, None]).sum(axis=1) - 1
    if (buffer < old.first_value[leaf]).any():
        return None  # a header or a key differs: rows moved
    # runs of adjacent differing bytes in one buffer: each run maps to a range of rows
    run = np.ones(len(pos), bool)
    run[1:] = (np.diff(pos) != 1) | (np.diff(buffer) != 0) | (np.diff(leaf) != 0)
    first = np.flatnonzero(run)
    last = np.append(first[1:] - 1, len(pos) - 1)
    leaf, buffer = leaf[first], buffer[first]
    start = pos[first] - old.starts[leaf, buffer]
    stop = pos[last] - old.starts[leaf, buffer]  # offsets of the run's first and last byte
    roles, widths = _buffer_roles(types)
    role, width = roles[buffer - old.first_value[leaf]], widths[buffer - old.first_value[leaf]]
    lo, hi = np.zeros(len(first), np.int64), np.zeros(len(first), np.int64)
    bits = (role == _VALIDITY) | (role == _BITS)
    lo[bits], hi[bits] = start[bits] * 8, stop[bits] * 8 + 7
    fixed = role == _FIXED
    lo[fixed], hi[fixed] = start[fixed] // width[fixed], stop[fixed] // width[fixed]
    offsets = role == _OFFSETS
    lo[offsets], hi[offsets] = start[offsets] // 4 - 1, stop[offsets] // 4
    data = role == _DATA
    if data.any():
        # the rows owning the run's ends, by each side's offsets (one side's when equal)
        sides = (old, new) if offsets.any() else (old,)
        n = int(data.sum())
        counts = np.tile(old.counts[leaf[data]], 2)
        owners = []
        for side in sides:  # one search for both ends of every run
            at = np.tile(side.starts[leaf[data], buffer[data] - 1], 2)  # the offsets buffer
            owners.append(_row_holding(side, at, counts, np.concatenate([start[data], stop[data]])))
        lo[data] = np.minimum.reduce([o[:n] for o in owners])
        hi[data] = np.maximum.reduce([o[n:] for o in owners])
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, old.counts[leaf] - 1)
    keep = hi >= lo
    rows = ranges(lo[keep], hi[keep] - lo[keep] + 1)
    both = np.unique((np.repeat(leaf[keep], hi[keep] - lo[keep] + 1) << 32) | rows)
    return both >> 32, both & 0xFFFFFFFF, not offsets.any()


def _halves(n: int) -> list[tuple[int, int]]:
    return [(0, n // 2), (n // 2, n)]


def _differing_words(
    old: LeafLayouts, new: LeafLayouts, spans: Sequence[tuple[int, int]]
) -> list[np.ndarray]:
    """For each (start, stop) span of 8-byte words, the words that differ (numpy
    drops the GIL here: two spans compare at once, ``parallel.in_halves``)."""
    a, b = old.buffer.view(np.uint64), new.buffer.view(np.uint64)
    return [start + np.flatnonzero(a[start:stop] != b[start:stop]) for start, stop in spans]


def find_rows(
    layouts: LeafLayouts, leaf: np.ndarray, probes: pa.BinaryArray
) -> tuple[np.ndarray, np.ndarray] | None:
    """For each probe, searched in leaf ``leaf[i]``: the row of the first key >= it
    (the leaf's row count if none) and whether that key equals it. A vectorised
    binary search over the leaves' key bytes, with no key decoded; None unless
    every searched leaf and every probe has one key width.
    """
    if not len(leaf):
        return np.zeros(0, np.int64), np.zeros(0, bool)
    counts = layouts.counts[leaf]
    if not counts.any():  # only empty leaves (the empty tree)
        return np.zeros(len(leaf), np.int64), np.zeros(len(leaf), bool)
    widths = layouts.widths[leaf][counts > 0]
    offsets = np.frombuffer(probes.buffers()[1], np.int32)[
        probes.offset : probes.offset + len(probes) + 1
    ]
    width = int(widths[0])
    if width == 0 or (widths != width).any() or (np.diff(offsets) != width).any():
        return None
    data = np.frombuffer(probes.buffers()[2], np.uint8)
    wanted = data[int(offsets[0]) : int(offsets[-1])].reshape(len(probes), width)
    key_at = layouts.starts[leaf, 0]
    lo = np.zeros(len(leaf), np.int64)
    hi = counts.astype(np.int64)
    step = np.arange(width)
    while (lo < hi).any():
        mid = (lo + hi) // 2
        active = lo < hi
        stored = layouts.buffer[np.where(active, key_at + mid * width, 0)[:, None] + step]
        below = active & _memcmp_less(stored, wanted)
        lo = np.where(below, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)
    inside = lo < counts
    at = layouts.buffer[np.where(inside, key_at + lo * width, 0)[:, None] + step]
    equal = inside & (at == wanted).all(axis=1)
    return lo, equal


def _memcmp_less(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise ``a < b`` of two (n, w) byte matrices, in memcmp order."""
    differ = a != b
    first = differ.argmax(axis=1)
    rows = np.arange(len(a))
    return differ[rows, first] & (a[rows, first] < b[rows, first])


def take_rows(
    layouts: LeafLayouts, leaf: np.ndarray, row: np.ndarray, types: Sequence[pa.DataType]
) -> tuple[pa.BinaryArray, list[pa.Array]]:
    """The keys and value columns of row ``row[i]`` of leaf ``leaf[i]``, for each i."""
    n = len(row)
    fixed_keys = layouts.widths[leaf] > 0
    key_start = np.empty(n, np.int64)
    key_length = np.empty(n, np.int64)
    w = layouts.widths[leaf[fixed_keys]]
    key_start[fixed_keys] = layouts.starts[leaf[fixed_keys], 0] + row[fixed_keys] * w
    key_length[fixed_keys] = w
    var = ~fixed_keys
    if var.any():
        bounds = layouts.gather_u32(layouts.starts[leaf[var], 0] + 4 * row[var], 2)
        key_start[var] = layouts.starts[leaf[var], 1] + bounds[:, 0]
        key_length[var] = bounds[:, 1] - bounds[:, 0]
    keys = _binary(pa.binary(), layouts, key_start, key_length, None)
    columns = []
    index = layouts.first_value[leaf]
    for t in types:
        has_validity = layouts.lengths[leaf, index] > 0
        valid = np.ones(n, bool)
        valid[has_validity] = layouts.bits(
            layouts.starts[leaf, index][has_validity], row[has_validity]
        )
        validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
        values_at = layouts.starts[leaf, index + 1]
        if pa.types.is_boolean(t):
            flags = layouts.bits(values_at, row)
            data = pa.py_buffer(np.packbits(flags, bitorder="little"))
            columns.append(pa.Array.from_buffers(t, n, [validity, data]))
        elif buffer_count(t) == 3:  # string / binary
            bounds = layouts.gather_u32(values_at + 4 * row, 2)
            start = layouts.starts[leaf, index + 2] + bounds[:, 0]
            columns.append(_binary(t, layouts, start, bounds[:, 1] - bounds[:, 0], validity))
        else:
            width = value_width(t)
            assert width is not None
            data = layouts.buffer[ranges(values_at + row * width, np.full(n, width))]
            columns.append(pa.Array.from_buffers(t, n, [validity, pa.py_buffer(data)]))
        index = index + buffer_count(t)
    return keys, columns


def _buffer_roles(types: Sequence[pa.DataType]) -> tuple[np.ndarray, np.ndarray]:
    """Role and value width of each value buffer, in leaf order."""
    roles, widths = [], []
    for t in types:
        if pa.types.is_boolean(t):
            roles += [_VALIDITY, _BITS]
            widths += [0, 0]
        elif buffer_count(t) == 3:
            roles += [_VALIDITY, _OFFSETS, _DATA]
            widths += [0, 4, 0]
        else:
            width = value_width(t)
            assert width is not None  # two buffers and not bool: a fixed-width type
            roles += [_VALIDITY, _FIXED]
            widths += [0, width]
    return np.array(roles, np.int64), np.array(widths, np.int64)


def _row_holding(
    layouts: LeafLayouts, offsets_at: np.ndarray, counts: np.ndarray, byte: np.ndarray
) -> np.ndarray:
    """For each data byte offset, the last row r < count with offsets[r] <= byte
    (a vectorised binary search over each leaf's own offsets buffer)."""
    lo = np.zeros(len(byte), np.int64)
    hi = counts.astype(np.int64).copy()
    while (lo < hi).any():
        active = lo < hi
        mid = (lo + hi) // 2
        value = np.zeros(len(byte), np.int64)
        value[active] = layouts.gather_u32(offsets_at[active] + 4 * mid[active])[:, 0]
        right = active & (value <= byte)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
    return lo - 1


def _binary(
    t: pa.DataType, layouts: LeafLayouts, start: np.ndarray, length: np.ndarray, validity
) -> pa.Array:
    offsets = np.zeros(len(start) + 1, np.int32)
    np.cumsum(length, out=offsets[1:])
    data = layouts.buffer[ranges(start, length)]
    return pa.Array.from_buffers(
        t, len(start), [validity, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
