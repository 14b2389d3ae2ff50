"""Columnar leaf node: sorted keys and their rows' value columns in one chunk.

Byte layout (all integers little-endian)::

    OFFSET  SIZE   DESCRIPTION
    0       1      format version (LEAF_VERSION = 1)
    1       1      level: always 0 for a leaf
    2       2      b, the number of buffers that follow (u16)
    4       4      n, the number of rows (u32)
    8       4      w, key width: > 0 when every key in this leaf is w bytes long
    12      4*b    the byte length of each buffer (u32)
    ...            each buffer, starting at the next offset that is a multiple of 8
                   (zero bytes pad the gaps; no padding after the last buffer)

Buffers, in order:

- keys: when ``w > 0`` one buffer of ``n * w`` bytes; otherwise two: offsets
  (u32 * (n + 1), starting at 0) and the concatenated key bytes. Keys are opaque
  memcmp-ordered byte strings (see ``keys.py``), strictly ascending.
- then each value column in schema order, as ``columns.py`` lays it out.

The schema is not stored here: the table holds it once and passes it to the
decoder. A leaf of ``n = 0`` rows is the empty map.

Canonical form: one set of rows -> exactly one byte string. ``w`` is a function
of the keys (the common length, or 0 when lengths differ or ``n = 0``), columns
obey ``columns.py``'s invariants, and padding is zero.

Worked example: one row, key ``01 80 00 00 00 00 00 00 07`` (BIGINT 7), one
BIGINT value column 42 without NULLs::

    01 00 03 00  01 00 00 00  09 00 00 00      version 1, level 0, b=3, n=1, w=9
    09 00 00 00  00 00 00 00  08 00 00 00      lengths: key 9, validity 0, data 8
    (pad to 32) 01 80 00 00 00 00 00 00 07     the key at offset 32
    (pad to 48) 2a 00 00 00 00 00 00 00        the value at offset 48
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..arrow_arrays import empty
from ..chunks.column_frames import BufferPick, PickedBlock
from ..errors import FormatVersionError
from .columns import PreparedColumn, buffer_count, concat_column, concat_offsets

LEAF_VERSION = 1
_HEADER = struct.Struct("<BBHII")
assert _HEADER.size == 12
LEAF_HEADER_SIZE = _HEADER.size  # layout.py reads the same header, vectorised


def _align8(n: int) -> int:
    return (n + 7) & ~7


class PreparedKeys:
    """A sorted key column as numpy arrays, ready to be sliced into leaves."""

    __slots__ = ("offsets", "data", "lengths")

    def __init__(self, keys: pa.BinaryArray) -> None:
        buffers = keys.buffers()
        wide = keys.type == pa.large_binary()
        offsets = np.frombuffer(buffers[1], np.int64 if wide else np.int32)
        self.offsets = offsets[keys.offset : keys.offset + len(keys) + 1].astype(np.int64)
        data = buffers[2]
        self.data = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
        self.lengths = np.diff(self.offsets)

    def common_width(self, start: int, stop: int) -> int:
        """The length every key of rows [start, stop) has, or 0 (mixed, or none)."""
        if stop <= start:
            return 0
        lengths = self.lengths[start:stop]
        w = int(lengths[0])
        return w if w > 0 and bool((lengths == w).all()) else 0

    def parts(self, start: int, stop: int) -> tuple[int, list[bytes | memoryview]]:
        lo, hi = int(self.offsets[start]), int(self.offsets[stop])
        if stop > start:
            lengths = self.lengths[start:stop]
            w = int(lengths[0])
            if w > 0 and (lengths == w).all():
                return w, [self.data[lo:hi].data]
        offs = (self.offsets[start : stop + 1] - lo).astype("<u4").tobytes()
        return 0, [offs, self.data[lo:hi].data]


def encode_leaves(
    keys: PreparedKeys, columns: Sequence[PreparedColumn], bounds: Sequence[int]
) -> list[bytes]:
    """Encode rows [bounds[i], bounds[i+1]) as leaf i, for every i: byte for byte
    ``encode_leaf`` of each, with the numpy work done once for all the leaves (a
    load cuts ~250 leaves from a batch: per-leaf slicing, rebasing and header
    packing was most of their encoding). Leaves without rows, or keys of mixed
    widths, are encoded one by one."""
    edges = np.asarray(bounds, np.int64)
    starts, stops = edges[:-1], edges[1:]
    count = len(starts)
    if count == 0:
        return []
    width = keys.common_width(int(starts[0]), int(stops[-1]))
    if not width or bool((stops <= starts).any()):
        spans = zip(starts.tolist(), stops.tolist(), strict=True)
        return [encode_leaf(keys, columns, a, b) for a, b in spans]
    lo, hi = keys.offsets[starts], keys.offsets[stops]
    data = keys.data
    spans = zip(lo.tolist(), hi.tolist(), strict=True)
    per_part: list[list[bytes | memoryview]] = [[data[a:b].data for a, b in spans]]
    lengths = [hi - lo]
    for column in columns:
        parts, sizes = column.leaf_parts(starts, stops)
        per_part.extend(parts)
        lengths.extend(sizes)
    n_parts = len(per_part)
    head = np.zeros(count, _head_dtype(n_parts))
    head["version"] = LEAF_VERSION
    head["buffers"] = n_parts
    head["rows"] = stops - starts
    head["width"] = width
    size = np.column_stack(lengths)
    head["lengths"] = size
    heads = memoryview(head.tobytes())
    step = head.itemsize
    # zero padding before each buffer: it starts at the next multiple of 8
    pads = np.empty((count, n_parts), np.int64)
    pos = np.full(count, step, np.int64)
    for j in range(n_parts):
        pads[:, j] = -pos & 7
        pos += pads[:, j] + size[:, j]
    out = []
    for i, leaf_pads in enumerate(pads.tolist()):
        pieces: list[bytes | memoryview] = [heads[i * step : (i + 1) * step]]
        for j, pad in enumerate(leaf_pads):
            pieces.append(_ZEROS[pad])
            pieces.append(per_part[j][i])
        out.append(b"".join(pieces))
    return out


def _head_dtype(n_parts: int) -> np.dtype:
    """The leaf header and its buffer lengths as one packed record (``_HEADER``)."""
    return np.dtype(
        [
            ("version", "u1"),
            ("level", "u1"),
            ("buffers", "<u2"),
            ("rows", "<u4"),
            ("width", "<u4"),
            ("lengths", "<u4", (n_parts,)),
        ]
    )


_ZEROS = [b"\0" * k for k in range(8)]


def encode_leaf(
    keys: PreparedKeys, columns: Sequence[PreparedColumn], start: int, stop: int
) -> bytes:
    width, parts = keys.parts(start, stop)
    for column in columns:
        parts.extend(column.parts(start, stop))
    lengths = [len(p) if isinstance(p, bytes) else p.nbytes for p in parts]
    header = _HEADER.pack(LEAF_VERSION, 0, len(parts), stop - start, width)
    head = header + struct.pack(f"<{len(parts)}I", *lengths)
    pieces: list[bytes | memoryview] = [head]
    pos = len(head)
    for part, length in zip(parts, lengths, strict=True):
        aligned = _align8(pos)
        if aligned != pos:
            pieces.append(b"\0" * (aligned - pos))
        pieces.append(part)
        pos = aligned + length
    return b"".join(pieces)


def leaf_header(data: bytes | memoryview) -> tuple[int, int, list[int], tuple[int, ...]]:
    """(row count, key width, each buffer's start, each buffer's length) of a leaf.

    Raises:
        FormatVersionError: not a leaf of this format version.
        ValueError: the buffers run past the end of ``data``.
        struct.error: ``data`` is shorter than its header.
    """
    version, level, b, n, w = _HEADER.unpack_from(data, 0)
    if version != LEAF_VERSION or level != 0:
        raise FormatVersionError("leaf node", version, LEAF_VERSION)
    lengths = struct.unpack_from(f"<{b}I", data, _HEADER.size)
    pos = _HEADER.size + 4 * b
    starts = []
    for length in lengths:
        pos = _align8(pos)
        starts.append(pos)
        pos += length
    if pos > len(data):
        raise ValueError(f"leaf is truncated: needs {pos} bytes, has {len(data)}")
    return n, w, starts, lengths


def parse_leaf(data: bytes | memoryview) -> tuple[int, int, list[memoryview]]:
    """Split a leaf into (row count, key width, buffers) without copying."""
    n, w, starts, lengths = leaf_header(data)
    view = memoryview(data)
    return n, w, [view[a : a + length] for a, length in zip(starts, lengths, strict=True)]


def decode_leaves(
    chunks: Sequence[bytes | memoryview], types: Sequence[pa.DataType]
) -> tuple[pa.BinaryArray, list[pa.Array]]:
    """Decode many leaves of one tree into one key array and one array per column.

    Per leaf only the header is parsed in Python; joining and offset rebasing are
    vectorised over all leaves at once.
    """
    counts, widths, key_parts, column_parts = _parse_all(chunks)
    keys = _concat_keys(key_parts, widths, counts)
    arrays = []
    pos = 0
    for t in types:
        nb = buffer_count(t)
        slots = list(zip(*[bufs[pos : pos + nb] for bufs in column_parts], strict=True))
        arrays.append(concat_column(t, slots, counts))
        pos += nb
    return keys, arrays


def buffer_pick(types: Sequence[pa.DataType], wanted: Sequence[int], *, keys: bool) -> BufferPick:
    """The buffers of a leaf of value columns ``types`` that hold the value columns
    ``wanted`` (and the keys when ``keys``): what ``decode_picked`` decodes."""
    firsts = np.cumsum([0] + [buffer_count(t) for t in types]).tolist()
    picked = tuple(j for i in sorted(set(wanted)) for j in range(firsts[i], firsts[i + 1]))
    return BufferPick(firsts[-1], picked, keys)


def decode_picked(
    block: PickedBlock,
    types: Sequence[pa.DataType],
    wanted: Sequence[int],
    *,
    keys: bool,
) -> tuple[pa.BinaryArray | None, dict[int, pa.Array]]:
    """``decode_leaves`` of only the value columns ``wanted`` (indexes into ``types``),
    and of the keys only when ``keys``, from the buffers ``buffer_pick(types, wanted,
    keys=keys)`` picked of a block of leaves (``chunks.column_frames``), already
    joined buffer by buffer: a narrow read of wide leaves (two small columns beside a
    long text) never sees the other buffers, and nothing is done per leaf (offsets
    are rebased over all leaves at once)."""
    counts = block.rows
    out = {}
    pos = 0
    for i in sorted(set(wanted)):
        nb = buffer_count(types[i])
        out[i] = concat_column(types[i], block.values[pos : pos + nb], counts)
        pos += nb
    if not keys:
        return None, out
    assert block.keys is not None  # picked with the keys
    return _concat_keys(block.keys, block.widths.tolist(), counts), out


def leaf_keys(chunks: Sequence[bytes | memoryview]) -> pa.BinaryArray:
    """The keys of many leaves as one array (their value buffers left unread)."""
    counts, widths, key_parts, _ = _parse_all(chunks)
    return _concat_keys(key_parts, widths, counts)


def _parse_all(
    chunks: Sequence[bytes | memoryview],
) -> tuple[np.ndarray, list[int], list[list[memoryview]], list[list[memoryview]]]:
    """Row counts, key widths, key buffers and value buffers of each leaf."""
    counts = np.empty(len(chunks), np.int64)
    widths = []
    key_parts: list[list[memoryview]] = []
    column_parts: list[list[memoryview]] = []
    for i, chunk in enumerate(chunks):
        n, w, buffers = parse_leaf(chunk)
        counts[i] = n
        widths.append(w)
        k = 1 if w else 2
        key_parts.append(buffers[:k])
        column_parts.append(buffers[k:])
    return counts, widths, key_parts, column_parts


def _concat_keys(
    parts: Sequence[Sequence[bytes | memoryview]], widths: Sequence[int], counts: np.ndarray
) -> pa.BinaryArray:
    n = int(counts.sum())
    if n == 0:
        return empty(pa.binary())
    w0 = widths[0]
    if w0 and all(w == w0 for w in widths):
        data = b"".join(p[0] for p in parts)
        offsets = np.arange(0, (n + 1) * w0, w0, dtype=np.int32)
        return pa.Array.from_buffers(
            pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        )
    offset_parts: list[bytes | memoryview] = []
    data_parts: list[bytes | memoryview] = []
    for p, w, c in zip(parts, widths, counts, strict=True):
        if w:
            offset_parts.append(np.arange(0, (int(c) + 1) * w, w, dtype="<u4").tobytes())
            data_parts.append(p[0])
        else:
            offset_parts.append(p[0])
            data_parts.append(p[1])
    joined, _ = concat_offsets(offset_parts, counts)
    kind = pa.large_binary() if len(joined) == 8 * (n + 1) else pa.binary()
    return pa.Array.from_buffers(
        kind, n, [None, pa.py_buffer(joined), pa.py_buffer(b"".join(data_parts))]
    )


def leaf_summary(data: bytes | memoryview) -> tuple[int, bytes]:
    """(row count, last key) of a leaf, read from its key buffers only (b"" if empty)."""
    n, w, buffers = parse_leaf(data)
    if n == 0:
        return 0, b""
    if w:
        return n, bytes(buffers[0][(n - 1) * w : n * w])
    offsets = np.frombuffer(buffers[0], "<u4")
    return n, bytes(buffers[1][int(offsets[n - 1]) : int(offsets[n])])
