"""Where each buffer of many encoded leaves lies, for byte-level work on them.

``patch.py`` (writing values in place) and ``sparse.py`` (diffing and reading a
few rows without decoding whole leaves) address single cells inside leaves laid
out as ``leaf.py`` describes. ``LeafLayouts`` joins the leaves into one flat
byte buffer and tables, per leaf, every buffer's start (in that flat buffer)
and length, so that a cell's position is a vectorised lookup.

Buffer numbering follows the leaf: the key buffers first (one when the key width
``w > 0``, else two: offsets and bytes), then each column's buffers in schema
order (``columns.buffer_count``). Rows of the tables are padded to the largest
buffer count among the leaves with a start past the end and a length of 0.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..errors import FormatVersionError
from .leaf import LEAF_VERSION

_HEADER_SIZE = 12


class LeafLayouts:
    """Many leaves as one byte buffer, with each leaf's header fields and buffer table.

    Attributes:
        buffer: the leaves' bytes joined, as a writable uint8 array, zero-padded to a
            multiple of ``pad_to`` bytes.
        chunk_start: each leaf's first byte in ``buffer``; ``sizes`` its length.
        counts, widths: each leaf's row count and key width.
        starts, lengths: (leaves, buffers) tables; ``starts`` are in ``buffer``.
        first_value: each leaf's index of its first value buffer (1 or 2).
    """

    __slots__ = ("buffer", "chunk_start", "sizes", "counts", "widths", "starts", "lengths", "first_value")

    def __init__(self, chunks: Sequence[bytes], pad_to: int = 1) -> None:
        heads = []
        for chunk in chunks:
            version, level, b = struct.unpack_from("<BBH", chunk, 0)
            if version != LEAF_VERSION or level != 0:
                raise FormatVersionError("leaf node", version, LEAF_VERSION)
            heads.append(struct.unpack_from(f"<II{b}I", chunk, 4))
        most = max((len(h) for h in heads), default=2) - 2
        table = np.zeros((len(heads), most + 2), np.int64)
        for i, head in enumerate(heads):
            table[i, : len(head)] = head
        own = np.fromiter((len(h) - 2 for h in heads), np.int64, len(heads))
        self.sizes = np.fromiter(map(len, chunks), np.int64, len(chunks))
        self.chunk_start = np.cumsum(self.sizes) - self.sizes
        self.counts, self.widths = table[:, 0], table[:, 1]
        self.lengths = table[:, 2:]
        local = np.zeros_like(self.lengths)
        pos = _HEADER_SIZE + 4 * own
        for j in range(most):
            real = j < own
            pos = np.where(real, (pos + 7) & ~7, pos)
            local[:, j] = np.where(real, pos, self.sizes)
            pos = pos + self.lengths[:, j]
        if (pos > self.sizes).any():
            raise ValueError("a leaf is truncated: its buffers run past its end")
        self.starts = local + self.chunk_start[:, None]
        self.first_value = np.where(self.widths > 0, 1, 2)
        self.buffer = _joined(chunks, self.chunk_start, self.sizes, pad_to)

    def split(self) -> list[bytes]:
        """The (possibly edited) buffer cut back into one bytes object per leaf."""
        raw = memoryview(self.buffer)
        ends = (self.chunk_start + self.sizes).tolist()
        return [raw[a:b].tobytes() for a, b in zip(self.chunk_start.tolist(), ends, strict=True)]

    def gather_u32(self, at: np.ndarray, count: int = 1) -> np.ndarray:
        """``count`` little-endian u32 values starting at each position (unaligned), as
        an (n, count) int64 array."""
        raw = self.buffer[(at[:, None] + np.arange(4 * count)).reshape(-1)]
        return raw.reshape(len(at), 4 * count).view("<u4").astype(np.int64)

    def bits(self, at: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Bit ``index`` (LSB first) of the bit-packed buffer starting at each ``at``."""
        return ((self.buffer[at + index // 8] >> (index % 8).astype(np.uint8)) & 1).astype(bool)


def ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, s + n)`` for each start s and size n."""
    total = int(sizes.sum())
    offsets = np.cumsum(sizes) - sizes
    return np.arange(total) - np.repeat(offsets - starts, sizes)


def _joined(chunks: Sequence[bytes], starts: np.ndarray, sizes: np.ndarray, pad_to: int) -> np.ndarray:
    """The chunks copied into one buffer from Arrow's memory pool.

    The pool keeps freed memory for reuse, so the tens of MB an edit or a diff
    joins do not cost fresh pages from the OS each time (first-touch page faults
    made a ``bytes`` join several times slower than the copy itself).
    """
    total = int(sizes.sum())
    padded = total + (-total % pad_to)
    out = np.frombuffer(pa.allocate_buffer(padded), np.uint8)
    view = memoryview(out)
    for chunk, start, size in zip(chunks, starts.tolist(), sizes.tolist(), strict=True):
        view[start : start + size] = chunk
    out[total:] = 0
    return out
