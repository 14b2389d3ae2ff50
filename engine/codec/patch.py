"""Writing new values of existing rows straight into encoded leaves.

An update that keeps every cell's byte size (a label fixed to another label of
the same length, a new score) changes a leaf only inside its value buffers: the
header, the keys, the offsets and the validity bits stay as they are. This
module writes the new values over the old leaves' bytes (``leaf.py`` layout),
for all the leaves of one edit in one vectorised pass, with no decode and no
re-encode.

Invariant: the result is byte-identical to encoding the updated rows from
scratch, because nothing but the replaced values moves and ``PreparedColumn``
gives those in canonical form (NaN bit pattern, see ``columns.py``). Where that
could not hold, ``patch_leaves`` returns None and the caller re-encodes:

- a new value is NULL (the validity buffer could appear or change);
- an old value is NULL (a NULL variable-width slot has zero bytes);
- a bool or list column (bit-packed or nested buffers);
- a variable-width value whose new byte length differs from the old one.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..errors import FormatVersionError
from .columns import PreparedColumn, buffer_count
from .leaf import LEAF_VERSION

_HEADER_SIZE = 12


def patch_leaves(
    chunks: Sequence[bytes],
    leaf_of_row: np.ndarray,
    row_in_leaf: np.ndarray,
    columns: Sequence[PreparedColumn],
) -> list[bytes] | None:
    """``chunks`` with edit row i's values written at row ``row_in_leaf[i]`` of
    leaf ``chunks[leaf_of_row[i]]``; None when a value cannot be written in place.

    ``columns`` are the edit's value columns in schema order, one row per edit.
    """
    starts, lengths, key_buffers = _layouts(chunks)
    sizes = np.fromiter(map(len, chunks), np.int64, len(chunks))
    chunk_start = np.cumsum(sizes) - sizes
    leaf_of_row = np.asarray(leaf_of_row, np.int64)
    row = np.asarray(row_in_leaf, np.int64)
    buffer = np.frombuffer(bytearray().join(chunks), np.uint8)
    writes: list[tuple[np.ndarray, np.ndarray]] = []  # (byte positions, new bytes)
    index = key_buffers[leaf_of_row]  # the buffer index of each column, per edit row
    for column in columns:
        t = column.type
        if column.valid is not None or pa.types.is_boolean(t) or pa.types.is_list(t):
            return None
        validity = chunk_start[leaf_of_row] + starts[leaf_of_row, index]
        if not _all_valid(buffer, validity, lengths[leaf_of_row, index], row):
            return None
        values_at = chunk_start[leaf_of_row] + starts[leaf_of_row, index + 1]
        if column.offsets is None:  # fixed width
            width = column.width
            assert width is not None
            writes.append((_ranges(values_at + row * width, width, len(row)), column.values))
            index = index + 2
            continue
        old = _gather_u32(buffer, values_at + 4 * row, 2)
        new_lengths = np.diff(column.offsets.astype(np.int64))
        if not np.array_equal(old[:, 1] - old[:, 0], new_lengths):
            return None
        data_at = chunk_start[leaf_of_row] + starts[leaf_of_row, index + 2] + old[:, 0]
        first = int(column.offsets[0])
        new_bytes = column.values[first : first + int(new_lengths.sum())]
        writes.append((_var_ranges(data_at, new_lengths), new_bytes))
        index = index + buffer_count(t)
    for positions, values in writes:
        buffer[positions] = values
    raw = memoryview(buffer)
    ends = chunk_start + sizes
    return [raw[a:b].tobytes() for a, b in zip(chunk_start.tolist(), ends.tolist(), strict=True)]


def _layouts(chunks: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per leaf: each buffer's start and length (padded to the widest buffer count
    among the leaves) and how many key buffers come first."""
    heads = []
    for chunk in chunks:
        version, level, b = struct.unpack_from("<BBH", chunk, 0)
        if version != LEAF_VERSION or level != 0:
            raise FormatVersionError("leaf node", version, LEAF_VERSION)
        heads.append(struct.unpack_from(f"<II{b}I", chunk, 4))
    most = max(len(h) for h in heads) - 2
    table = np.zeros((len(heads), most + 2), np.int64)
    for i, head in enumerate(heads):
        table[i, : len(head)] = head
    counts = np.fromiter((len(h) - 2 for h in heads), np.int64, len(heads))
    lengths = table[:, 2:]
    starts = np.zeros_like(lengths)
    pos = _HEADER_SIZE + 4 * counts
    for j in range(most):
        real = j < counts  # past a leaf's own buffers: padding of the table only
        pos = np.where(real, (pos + 7) & ~7, pos)
        starts[:, j] = pos
        pos = pos + lengths[:, j]
    if (pos > np.fromiter(map(len, chunks), np.int64, len(chunks))).any():
        raise ValueError("a leaf is truncated: its buffers run past its end")
    key_buffers = np.where(table[:, 1] > 0, 1, 2)  # w > 0: one fixed-width key buffer
    return starts, lengths, key_buffers


def _all_valid(buffer: np.ndarray, at: np.ndarray, length: np.ndarray, row: np.ndarray) -> bool:
    """Whether every edited row's old value is non-NULL (no validity, or its bit set)."""
    has = length > 0
    if not has.any():
        return True
    bits = buffer[at[has] + row[has] // 8] >> (row[has] % 8).astype(np.uint8)
    return bool((bits & 1).all())


def _gather_u32(buffer: np.ndarray, at: np.ndarray, count: int) -> np.ndarray:
    """``count`` little-endian u32 values starting at each position (unaligned)."""
    raw = buffer[_ranges(at, 4 * count, len(at))].reshape(len(at), 4 * count)
    return np.ascontiguousarray(raw).view("<u4").astype(np.int64)


def _ranges(starts: np.ndarray, width: int, n: int) -> np.ndarray:
    return (starts[:n, None] + np.arange(width)).reshape(-1)


def _var_ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, s + n)`` for each start s and size n."""
    total = int(sizes.sum())
    offsets = np.cumsum(sizes) - sizes
    return np.arange(total) - np.repeat(offsets - starts, sizes)
