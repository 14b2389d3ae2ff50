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

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..errors import FormatVersionError
from .leaf import LEAF_HEADER_SIZE, LEAF_VERSION


class LeafLayouts:
    """Many leaves as one byte buffer, with each leaf's header fields and buffer table.

    Attributes:
        buffer: the leaves' bytes joined, as a writable uint8 array; each leaf starts
            at a multiple of 8 and zero bytes pad the gaps and the end, so every
            leaf buffer is 8-aligned in it. ``words`` is the same bytes as u32.
        chunk_start: each leaf's first byte in ``buffer``; ``sizes`` its length.
        counts, widths: each leaf's row count and key width.
        starts, lengths: (leaves, buffers) tables; ``starts`` are in ``buffer``.
        first_value: each leaf's index of its first value buffer (1 or 2).
    """

    __slots__ = (
        "buffer",
        "words",
        "chunk_start",
        "sizes",
        "counts",
        "widths",
        "starts",
        "lengths",
        "first_value",
    )

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self.sizes = np.fromiter(map(len, chunks), np.int64, len(chunks))
        if (self.sizes < LEAF_HEADER_SIZE).any():
            raise ValueError("a leaf is shorter than its header")
        padded = (self.sizes + 7) & ~7
        self.chunk_start = np.cumsum(padded) - padded
        self.buffer = _joined(chunks, self.chunk_start, self.sizes)
        self.words = self.buffer.view("<u4")
        # headers, read from the joined bytes for all leaves at once
        head = self.chunk_start // 4
        first = self.buffer[self.chunk_start] if len(chunks) else self.sizes
        level = self.buffer[self.chunk_start + 1] if len(chunks) else self.sizes
        bad = np.flatnonzero((first != LEAF_VERSION) | (level != 0))
        if len(bad):
            raise FormatVersionError("leaf node", int(first[bad[0]]), LEAF_VERSION)
        own = (self.words[head] >> 16).astype(np.int64)  # b: the buffer count
        most = int(own.max(initial=0))
        if ((LEAF_HEADER_SIZE + 4 * own) > self.sizes).any():
            raise ValueError("a leaf is truncated inside its header")
        self.counts = self.words[head + 1].astype(np.int64)
        self.widths = self.words[head + 2].astype(np.int64)
        column = np.arange(most)
        inside = column < own[:, None]
        at = np.where(inside, head[:, None] + 3 + column, 0)
        self.lengths = np.where(inside, self.words[at], 0).astype(np.int64)
        local = np.zeros_like(self.lengths)
        pos = LEAF_HEADER_SIZE + 4 * own
        for j in range(most):
            real = j < own
            pos = np.where(real, (pos + 7) & ~7, pos)
            local[:, j] = np.where(real, pos, self.sizes)
            pos = pos + self.lengths[:, j]
        if (pos > self.sizes).any():
            raise ValueError("a leaf is truncated: its buffers run past its end")
        self.starts = local + self.chunk_start[:, None]
        self.first_value = np.where(self.widths > 0, 1, 2)

    def split(self) -> list[bytes]:
        """The (possibly edited) buffer cut back into one bytes object per leaf."""
        raw = self.buffer.data
        ends = self.chunk_start + self.sizes
        return [
            raw[a:b].tobytes()
            for a, b in zip(self.chunk_start.tolist(), ends.tolist(), strict=True)
        ]

    def gather_u32(self, at: np.ndarray, count: int = 1) -> np.ndarray:
        """``count`` little-endian u32 values starting at each position (a multiple
        of 4: offsets buffers are 8-aligned), as an (n, count) int64 array."""
        return self.words[(at // 4)[:, None] + np.arange(count)].astype(np.int64)

    def bits(self, at: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Bit ``index`` (LSB first) of the bit-packed buffer starting at each ``at``."""
        return ((self.buffer[at + index // 8] >> (index % 8).astype(np.uint8)) & 1).astype(bool)


def ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, s + n)`` for each start s and size n."""
    total = int(sizes.sum())
    offsets = np.cumsum(sizes) - sizes
    return np.arange(total) - np.repeat(offsets - starts, sizes)


def _joined(chunks: Sequence[bytes], starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The chunks copied into one zero-padded buffer from Arrow's memory pool, each
    at its (8-aligned) start.

    The pool keeps freed memory for reuse, so the tens of MB an edit or a diff
    joins do not cost fresh pages from the OS each time (first-touch page faults
    made a ``bytes`` join several times slower than the copy itself).
    """
    total = int(starts[-1] + ((sizes[-1] + 7) & ~7)) if len(sizes) else 0
    out = np.frombuffer(pa.allocate_buffer(total), np.uint8)
    view = out.data
    for chunk, start, size in zip(chunks, starts.tolist(), sizes.tolist(), strict=True):
        view[start : start + size] = chunk
        pad = -size % 8
        view[start + size : start + size + pad] = _ZEROS[:pad]
    return out


_ZEROS = bytes(8)
