"""Leaves stored column buffer by column buffer (``records.py`` record kind 3), so
that a scan reads, checks and decompresses only the buffers of the columns it asks
for, and never touches the bytes of the others (a long text beside two small columns).

A leaf (``codec/leaf.py``: a 12-byte header, a u32 length per buffer, then the
buffers, each starting at a multiple of 8 with zero padding between them) is stored
as (little-endian throughout)::

    OFFSET  SIZE  DESCRIPTION
    0       1     kind 3
    1       8     xxh3-64 of the FULL leaf (as every record: ``records.py``)
    9       4     h, the length of the head: bytes [0, h)
    13      8     xxh3-64 of head bytes [21, h), checked by every read of the head
    21      12    the leaf's own header, verbatim: version 1, level 0 (so byte 22,
                  which garbage collection reads, is 0), b buffers, n rows, key width
    33      4*b   L_j, each buffer's length (the leaf's own buffer table, verbatim)
    ..      4*b   S_j, each buffer's stored size: S_j = L_j stored as it is,
                  S_j < L_j a zstd frame (content size written, no checksum)
    ..      8*c   xxh3-64 of each of the c frames, in buffer order
    ..            the buffers stored as they are, in buffer order, unpadded (end: h)
    h             the frames, in buffer order, to the end of the record

So the head holds everything a narrow read of small columns needs; a frame is read
(checked, then decompressed) only when its buffer is asked for. The leaf is rebuilt
by laying the buffers out again with their zero padding; the full xxh3 is checked
on that. A read of some buffers checks the head's xxh3 and each frame's it reads
(records invariant (1) for a partial read).

Worked example: a leaf of the LLM table (15 rows of id, text, source, lang,
quality; 16,616 bytes, b = 12 buffers) is a 5,426-byte record: a 685-byte head (the
21-byte top; 116 bytes of tables: header, lengths, stored sizes, one frame checksum;
then 548 bytes stored as they are: the keys, the text's offsets, source, lang and
quality) and one frame, the text's bytes (15,996 -> 4,741). The filter on ``lang``
and ``quality`` checks the head and copies 214 bytes of it; it never reads the
text's frame.

Which buffers are compressed, and why (measured on freshly loaded leaves: bench
shape 200K rows, ~437 leaves of ~14 KB, and 1M rows, 1,873 leaves; LLM shape 20K
rows, ~1,366 leaves of ~17 KB):

- a buffer of at least ``MIN_FRAME`` bytes whose frame (with its 8-byte checksum)
  saves at least ``1 / MIN_GAIN`` of it; smaller ones (a few rows' offsets, short
  columns) are not worth a frame's header and a decompression call. With 128
  bytes, the offsets of ``lang`` in leaves of 31 rows or more were framed, and the
  LLM filter decompressed a small frame per leaf (10-12 us a leaf picked, against
  7-9 with 1,024); the LLM store's size did not change measurably (99 MiB at 200K
  rows either way).
- probing: a batch of leaves (a load's spill) compresses the buffers of each slot
  (one buffer index of leaves with as many buffers: a column of one table) only
  when one of its first ``PROBE`` buffers was worth a frame. Random floats (the
  bench shape's ``score``) shrink to 0.95 of their size, never worth one: zstd spent
  a fifth of a load's compression on them (1M rows: 31 of 140 ms CPU at level 3,
  one thread) to store them as they are. A column that compresses only further
  into a batch stays uncompressed in that batch; the leaves are the same.
- a leaf is stored this way only when at least one buffer is compressed; otherwise
  it stays a raw record (kind 0), which a full read copies once.
- against one frame per leaf (kind 1): bench records 0.443 of the leaves against
  0.478 (1M rows; a column's values look alike, its neighbours' do not), LLM 0.319
  against 0.301 (the text alone compresses a little less than beside the other
  columns): a 1M-row LLM store is 496 MiB, 1.14x the Parquet file.
- level: ``ZSTD_LEVEL`` = 3 (compression.py). Records of the same leaves at levels
  1, 3 and 6: bench 0.452, 0.444, 0.441 of the leaves; LLM 0.331, 0.319, 0.309;
  level 1 took 0.9x level 3's time, level 6 2.2-2.9x. Decompression speed does not
  depend on the level. A small commit (1% of a 100K-row table: ~100 leaves
  rewritten) compresses almost nothing: its leaves become deltas (``delta.py``);
  compressing its few whole records took 0.2 ms of its ~100 ms (loaded machine).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ..errors import CorruptChunk, FormatVersionError
from ..hash import checksum
from .compression import MAX_CHUNK, compress_buffers, decompress_frame, decompress_frames

KIND_COLUMNS = 3
TOP = struct.Struct("<BQIQ")  # kind, xxh3 of the leaf, head length, xxh3 of head[21:h]
TOP_LEN = 21
assert TOP.size == TOP_LEN
LEVEL_OFFSET = TOP_LEN + 1  # the leaf's level byte (0), read by garbage collection
_LEAF = struct.Struct("<BBHII")  # codec/leaf.py's header: version, level, b, n, key width
_LEAF_LEN = 12
LEAF_VERSION = 1
MIN_FRAME = 1024  # buffers below this stay as they are
MIN_GAIN = 8  # compress a buffer only when its frame saves at least 1/8 of it
PROBE = 8  # buffers of a slot tried before the slot's others are (module docstring)
_CHECK = struct.Struct("<Q")


class BufferPick(NamedTuple):
    """Which buffers of each leaf a read wants.

    A leaf's buffers are its key buffers (one or two: ``codec/leaf.py``) followed by
    ``values`` value buffers. ``wanted``: value buffers by index among those (sorted);
    ``keys``: the key buffers too, first.
    """

    values: int
    wanted: tuple[int, ...]
    keys: bool

    def indexes(self, b: int) -> list[int]:
        """The buffer indexes picked in a leaf of ``b`` buffers."""
        k = b - self.values
        return ([*range(k)] if self.keys else []) + [k + j for j in self.wanted]


class PickedLeaf(NamedTuple):
    """The picked buffers of one leaf (``BufferPick.indexes`` order) with its row
    count, key width and the buffers' total length."""

    rows: int
    key_width: int
    buffers: list[bytes | memoryview]
    size: int


class JoinedBuffer(NamedTuple):
    """One picked buffer of every leaf of a block, end to end (``data``), with each
    leaf's length (``lengths``, int64): a decoder joins nothing per leaf."""

    data: bytes | memoryview
    lengths: np.ndarray

    def pieces(self) -> list[bytes | memoryview]:
        """Each leaf's buffer (views of ``data``): for the rare decodes that need them
        one by one (validity with NULLs, booleans)."""
        view = memoryview(self.data)
        ends = np.cumsum(self.lengths).tolist()
        return [view[e - n : e] for e, n in zip(ends, self.lengths.tolist(), strict=True)]

    def part(self, lo: int, hi: int) -> JoinedBuffer:
        """Leaves [lo, hi) of the block (a view of ``data``)."""
        start = int(self.lengths[:lo].sum())
        lengths = self.lengths[lo:hi]
        return JoinedBuffer(memoryview(self.data)[start : start + int(lengths.sum())], lengths)


class PickedBlock(NamedTuple):
    """The picked buffers of a block of leaves, joined: per leaf its row count
    (``rows``), key width (``widths``) and picked bytes (``sizes``), all int64 arrays;
    ``keys``: each leaf's key buffers (one, or offsets and bytes) when picked, else
    None; ``values``: one ``JoinedBuffer`` per picked value buffer. A block read
    makes no object per leaf (the trim path's keys aside)."""

    rows: np.ndarray
    widths: np.ndarray
    sizes: np.ndarray
    keys: list[list[bytes | memoryview]] | None
    values: list[JoinedBuffer]

    def __len__(self) -> int:  # type: ignore[override]  # leaves, not fields
        return len(self.rows)

    def part(self, lo: int, hi: int) -> PickedBlock:
        """Leaves [lo, hi) of the block."""
        keys = self.keys[lo:hi] if self.keys is not None else None
        return PickedBlock(
            self.rows[lo:hi],
            self.widths[lo:hi],
            self.sizes[lo:hi],
            keys,
            [v.part(lo, hi) for v in self.values],
        )

    def leaves(self) -> list[PickedLeaf]:
        """The block as one ``PickedLeaf`` per leaf (merging with leaves read apart)."""
        by_value = [v.pieces() for v in self.values]
        keys = self.keys if self.keys is not None else [[] for _ in range(len(self.rows))]
        per_leaf = zip(*by_value, strict=True) if by_value else [()] * len(self.rows)
        return [
            PickedLeaf(n, w, [*k, *v], size)
            for n, w, k, v, size in zip(
                self.rows.tolist(),
                self.widths.tolist(),
                keys,
                per_leaf,
                self.sizes.tolist(),
                strict=True,
            )
        ]


def block_of_leaves(leaves: Sequence[PickedLeaf], keys: bool) -> PickedBlock:
    """The ``PickedBlock`` of leaves picked one by one (``keys``: their buffers start
    with their key buffers, one when the key width is set, else two)."""
    count = len(leaves)
    rows = np.fromiter((leaf.rows for leaf in leaves), np.int64, count)
    widths = np.fromiter((leaf.key_width for leaf in leaves), np.int64, count)
    sizes = np.fromiter((leaf.size for leaf in leaves), np.int64, count)
    if keys:
        firsts = [1 if leaf.key_width else 2 for leaf in leaves]
        key_parts = [leaf.buffers[:f] for leaf, f in zip(leaves, firsts, strict=True)]
        values = [leaf.buffers[f:] for leaf, f in zip(leaves, firsts, strict=True)]
    else:
        key_parts, values = None, [leaf.buffers for leaf in leaves]
    slots = list(zip(*values, strict=True)) if count else []
    return PickedBlock(rows, widths, sizes, key_parts, [_joined(slot) for slot in slots])


def _joined(pieces: Sequence[bytes | memoryview]) -> JoinedBuffer:
    lengths = np.fromiter(
        (len(p) if isinstance(p, bytes) else p.nbytes for p in pieces), np.int64, len(pieces)
    )
    return JoinedBuffer(b"".join(pieces), lengths)


def join_blocks(blocks: Sequence[PickedBlock]) -> PickedBlock:
    """One block of consecutive blocks' leaves (the first itself when alone)."""
    if len(blocks) == 1:
        return blocks[0]
    keys = None
    if blocks[0].keys is not None:
        keys = [k for block in blocks for k in block.keys or ()]
    return PickedBlock(
        np.concatenate([b.rows for b in blocks]),
        np.concatenate([b.widths for b in blocks]),
        np.concatenate([b.sizes for b in blocks]),
        keys,
        [
            JoinedBuffer(
                b"".join([b.values[j].data for b in blocks]),
                np.concatenate([b.values[j].lengths for b in blocks]),
            )
            for j in range(len(blocks[0].values))
        ],
    )


def _align8(n: int) -> int:
    return (n + 7) & ~7


@lru_cache(maxsize=64)
def _tables(b: int) -> struct.Struct:
    """The leaf header, buffer lengths and stored sizes of a leaf of ``b`` buffers."""
    return struct.Struct(f"<BBHII{b}I{b}I")


def leaf_buffers(data: bytes | memoryview) -> tuple[int, int, list[int], list[int]] | None:
    """(rows, key width, each buffer's start, each buffer's length) of a chunk in
    canonical leaf layout (version 1, level 0, zero padding, nothing after the last
    buffer), or None when it is not one: only those are stored buffer by buffer,
    since only they are rebuilt exactly."""
    try:
        n, w, starts, lengths = _layout(data)
    except (ValueError, struct.error, FormatVersionError):
        return None
    pos = _LEAF_LEN + 4 * len(lengths)
    for start, length in zip(starts, lengths, strict=True):
        if start != pos and any(data[pos:start]):
            return None
        pos = start + length
    return (n, w, starts, lengths) if pos == len(data) else None


def _layout(data: bytes | memoryview) -> tuple[int, int, list[int], list[int]]:
    """(rows, key width, buffer starts, buffer lengths) of a leaf (``codec/leaf.py``).

    Raises:
        FormatVersionError: not a leaf of format version 1.
        ValueError: the buffers run past the end of ``data``.
        struct.error: ``data`` is shorter than its header.
    """
    version, level, b, n, w = _LEAF.unpack_from(data)
    if version != LEAF_VERSION or level != 0:
        raise FormatVersionError("leaf node", version, LEAF_VERSION)
    lengths = list(struct.unpack_from(f"<{b}I", data, _LEAF_LEN))
    starts = []
    pos = _LEAF_LEN + 4 * b
    for length in lengths:
        pos = (pos + 7) & ~7
        starts.append(pos)
        pos += length
    if pos > len(data):
        raise ValueError(f"leaf is truncated: needs {pos} bytes, has {len(data)}")
    return n, w, starts, lengths


def encode_column_records(chunks: Sequence[bytes], digests: Sequence[int]) -> list[bytes | None]:
    """The kind-3 record of each chunk that is a leaf with at least one buffer worth
    compressing, else None. ``digests``: each chunk's xxh3-64.

    The buffers of one slot (the same buffer of leaves with as many buffers: one
    column of one table) are probed first: when none of the first ``PROBE`` of them
    is worth a frame, the slot's other buffers in this batch stay as they are
    without being compressed (see the module docstring)."""
    layouts = [
        leaf_buffers(chunk) if len(chunk) > 1 and chunk[1] == 0 else None for chunk in chunks
    ]
    slots: dict[tuple[int, int], list[tuple[int, int, memoryview]]] = {}
    for i, layout in enumerate(layouts):
        if layout is None:
            continue
        view = memoryview(chunks[i])
        b = len(layout[3])
        for j, (start, length) in enumerate(zip(layout[2], layout[3], strict=True)):
            if length >= MIN_FRAME:
                slots.setdefault((b, j), []).append((i, j, view[start : start + length]))
    chosen: dict[int, dict[int, bytes]] = {}
    probed = _frames_worth([c for candidates in slots.values() for c in candidates[:PROBE]])
    for (i, j), frame in probed.items():
        chosen.setdefault(i, {})[j] = frame
    rest = [
        c
        for candidates in slots.values()
        if any((i, j) in probed for i, j, _ in candidates[:PROBE])
        for c in candidates[PROBE:]
    ]
    for (i, j), frame in _frames_worth(rest).items():
        chosen.setdefault(i, {})[j] = frame
    out: list[bytes | None] = [None] * len(chunks)
    for i, framed in chosen.items():
        layout = layouts[i]
        assert layout is not None  # only leaves had candidates
        out[i] = _record(chunks[i], digests[i], layout, framed)
    return out


def _frames_worth(
    candidates: Sequence[tuple[int, int, memoryview]],
) -> dict[tuple[int, int], bytes]:
    """The zstd frame of each (chunk, buffer, bytes) candidate whose frame saves at
    least ``1 / MIN_GAIN`` of it, by (chunk, buffer)."""
    frames = compress_buffers([piece for _, _, piece in candidates])
    return {
        (i, j): frame
        for (i, j, piece), frame in zip(candidates, frames, strict=True)
        if (len(frame) + _CHECK.size) * MIN_GAIN <= len(piece) * (MIN_GAIN - 1)
    }


def _record(
    chunk: bytes,
    digest: int,
    layout: tuple[int, int, list[int], list[int]],
    framed: dict[int, bytes],
) -> bytes:
    _, _, starts, lengths = layout
    b = len(lengths)
    view = memoryview(chunk)
    stored = list(lengths)
    raws: list[memoryview] = []
    frames: list[bytes] = []
    checks: list[int] = []
    for j, start in enumerate(starts):  # one pass, buffer order (a load's leaves: hot)
        frame = framed.get(j)
        if frame is None:
            raws.append(view[start : start + lengths[j]])
        else:
            stored[j] = len(frame)
            frames.append(frame)
            checks.append(checksum(frame))
    head_body = b"".join(
        (
            view[: _LEAF_LEN + 4 * b],
            _words(b, "I").pack(*stored),
            _words(len(checks), "Q").pack(*checks),
            *raws,
        )
    )
    top = TOP.pack(KIND_COLUMNS, digest, TOP_LEN + len(head_body), checksum(head_body))
    return b"".join((top, head_body, *frames))


@lru_cache(maxsize=128)
def _words(count: int, code: str) -> struct.Struct:
    """``count`` little-endian words of struct ``code``."""
    return struct.Struct(f"<{count}{code}")


class _Parsed(NamedTuple):
    rows: int
    key_width: int
    lengths: tuple[int, ...]
    stored: tuple[int, ...]
    starts: list[int]  # where each buffer's stored bytes start in the record
    checks: list[int]  # per buffer: its frame's xxh3, or -1 when stored as it is


def _parse(address: bytes, record: bytes | memoryview) -> _Parsed:
    """The head of a kind-3 record, checked (its xxh3 and its extents)."""
    size = len(record)
    if size < TOP_LEN + _LEAF_LEN:
        raise CorruptChunk(address, f"its column record is {size} bytes, too short", 0)
    _, _, h, head_digest = TOP.unpack_from(record)
    if not TOP_LEN + _LEAF_LEN <= h <= size:
        raise CorruptChunk(address, f"its column record's head length {h} is out of range", 9)
    if checksum(record[TOP_LEN:h]) != head_digest:
        raise CorruptChunk(
            address, "the xxh3 checksum of its column record's head does not match", 13
        )
    b = record[TOP_LEN + 2] | record[TOP_LEN + 3] << 8
    tables = _tables(b)
    if TOP_LEN + tables.size > h:
        raise CorruptChunk(address, f"its column record's head is too short for {b} buffers", 21)
    fields = tables.unpack_from(record, TOP_LEN)
    n, w = fields[3], fields[4]
    lengths, stored = fields[5 : 5 + b], fields[5 + b :]
    framed = [j for j in range(b) if stored[j] != lengths[j]]
    pos = TOP_LEN + tables.size + 8 * len(framed)
    frame_pos = h
    starts, checks = [], []
    k = 0
    for length, size_j in zip(lengths, stored, strict=True):
        if size_j == length:
            starts.append(pos)
            checks.append(-1)
            pos += size_j
        elif size_j > length:
            raise CorruptChunk(address, "a buffer's stored size is above its length", 21)
        else:
            starts.append(frame_pos)
            checks.append(_CHECK.unpack_from(record, TOP_LEN + tables.size + 8 * k)[0])
            frame_pos += size_j
            k += 1
    if pos != h or frame_pos != len(record) or sum(lengths) > MAX_CHUNK:
        raise CorruptChunk(address, "its column record's extents do not add up", 21)
    return _Parsed(n, w, lengths, stored, starts, checks)


def _buffer(
    address: bytes, record: bytes | memoryview, parsed: _Parsed, j: int, *, copy: bool
) -> bytes | memoryview:
    start, size, length = parsed.starts[j], parsed.stored[j], parsed.lengths[j]
    piece = memoryview(record)[start : start + size]
    if parsed.checks[j] < 0:
        return bytes(piece) if copy else piece
    if checksum(piece) != parsed.checks[j]:
        raise CorruptChunk(
            address, f"the xxh3 checksum of its buffer {j}'s frame does not match", start
        )
    return decompress_frame(piece, length, address, start)


def decode_column_record(address: bytes, record: bytes | memoryview) -> bytes:
    """The full leaf in a kind-3 record (the record's own xxh3 is checked by the caller).

    Raises:
        CorruptChunk: the head or a frame is damaged.
    """
    parsed = _parse(address, record)
    b = len(parsed.lengths)
    view = memoryview(record)
    pieces: list[bytes | memoryview] = [view[TOP_LEN : TOP_LEN + _LEAF_LEN + 4 * b]]
    pos = _LEAF_LEN + 4 * b
    for j, length in enumerate(parsed.lengths):
        aligned = _align8(pos)
        if aligned != pos:
            pieces.append(bytes(aligned - pos))
        pieces.append(_buffer(address, record, parsed, j, copy=False))
        pos = aligned + length
    return b"".join(pieces)


def pick_column_record(address: bytes, record: bytes | memoryview, pick: BufferPick) -> PickedLeaf:
    """The buffers ``pick`` asks for from a kind-3 record, reading (checking,
    decompressing) only theirs and the head. Raw buffers are copied out of
    ``record`` (which may be a view of a transaction's pages).

    Raises:
        CorruptChunk: the head, or a frame read, is damaged.
    """
    parsed = _parse(address, record)
    indexes = pick.indexes(len(parsed.lengths))
    if indexes and not 0 <= indexes[0] <= indexes[-1] < len(parsed.lengths):
        raise CorruptChunk(address, f"its column record has {len(parsed.lengths)} buffers", 23)
    return PickedLeaf(
        parsed.rows,
        parsed.key_width,
        [_buffer(address, record, parsed, j, copy=True) for j in indexes],
        sum(parsed.lengths[j] for j in indexes),
    )


def pick_from_leaf(chunk: bytes | memoryview, pick: BufferPick) -> PickedLeaf:
    """The buffers ``pick`` asks for from a whole leaf's bytes (views, not copies).

    Raises:
        FormatVersionError: not a leaf of format version 1.
        ValueError: the leaf is truncated, or has fewer buffers than asked for.
        struct.error: ``chunk`` is shorter than a leaf's header.
    """
    n, w, starts, lengths = _layout(chunk)
    indexes = pick.indexes(len(lengths))
    if indexes and not 0 <= indexes[0] <= indexes[-1] < len(lengths):
        raise ValueError(f"the leaf has {len(lengths)} buffers, fewer than its columns need")
    view = memoryview(chunk)
    return PickedLeaf(
        n,
        w,
        [view[starts[j] : starts[j] + lengths[j]] for j in indexes],
        sum(lengths[j] for j in indexes),
    )


# --- one leaf, for point reads -----------------------------------------------------
# A point read wants one row of one leaf: the key buffers to search and the row's cells,
# never the leaf's canonical bytes. ``point_leaf_of_record`` lays the buffers of a kind-3
# record end to end (raw ones copied out of the head, frames checked and decompressed),
# without the padding, the header and the full-leaf xxh3 of a rebuild. Every byte is
# still checked: the head's xxh3 covers the raw buffers, each frame's its own (records
# invariant (1) for a partial read). Frames are decompressed whole: measured on the
# bench leaves (1M rows, 3 frames of 4.4, 2.0 and 4.9 KB), decompression time follows
# the bytes made, not the frame count (one frame of the same buffers: 23 us of CPU
# against 22 us for three, loaded machine), so the record layout stays as it is.

# (rows, key width, each buffer's start in the data, each buffer's length): the shape of
# ``codec/leaf.py::leaf_header``, so that ``codec/point.py`` reads either form.
PointHeader = tuple[int, int, list[int], tuple[int, ...]]
PointLeaf = tuple[bytes, PointHeader]  # a leaf's buffers (at the header's starts), header


def point_leaf_of_record(address: bytes, record: bytes | memoryview) -> PointLeaf:
    """The buffers of the leaf in a kind-3 record, end to end, with their header.

    Raises:
        CorruptChunk: the head or a frame is damaged.
        FormatVersionError: the record holds a leaf of another format version.
    """
    size = len(record)
    b = record[TOP_LEN + 2] | record[TOP_LEN + 3] << 8 if size > _POINT_MIN else 0
    tables = _record_tables(b)
    if b == 0 or size < tables.size:
        return _point_leaf_checked(address, record)
    fields = tables.unpack_from(record)  # the head in one call (``_parse``, unrolled)
    h, head_digest, version, level, _, n, w = fields[:7]
    lengths, stored = fields[7 : 7 + b], fields[7 + b :]
    if not tables.size <= h <= size or checksum(record[TOP_LEN:h]) != head_digest:
        return _point_leaf_checked(address, record)
    if version != LEAF_VERSION or level != 0:
        raise FormatVersionError("leaf node", version, LEAF_VERSION)
    framed = sum(s != length for s, length in zip(stored, lengths, strict=True))
    raw_at, frame_at, check_at = tables.size + 8 * framed, h, tables.size
    view = memoryview(record)
    pieces: list[bytes | memoryview] = []
    starts: list[int] = []
    pos = 0
    for length, size_j in zip(lengths, stored, strict=True):
        starts.append(pos)
        pos += length
        if size_j == length:
            if length:
                pieces.append(view[raw_at : raw_at + length])
                raw_at += length
            continue
        frame = view[frame_at : frame_at + size_j]
        if size_j > length or checksum(frame) != _CHECK.unpack_from(record, check_at)[0]:
            return _point_leaf_checked(address, record)
        pieces.append(decompress_frame(frame, length, address, frame_at))
        frame_at += size_j
        check_at += 8
    if raw_at != h or frame_at != size or pos > MAX_CHUNK:
        return _point_leaf_checked(address, record)
    return b"".join(pieces), (n, w, starts, lengths)


_POINT_MIN = TOP_LEN + _LEAF_LEN  # shorter: not a column record's head


def _point_leaf_checked(address: bytes, record: bytes | memoryview) -> PointLeaf:
    """``point_leaf_of_record`` of a record that failed a check of its fast path: the
    checks of ``_parse`` and ``_buffer``, which raise naming what is damaged."""
    parsed = _parse(address, record)
    if record[TOP_LEN] != LEAF_VERSION or record[LEVEL_OFFSET] != 0:
        raise FormatVersionError("leaf node", record[TOP_LEN], LEAF_VERSION)
    pieces = [_buffer(address, record, parsed, j, copy=False) for j in range(len(parsed.lengths))]
    starts = [sum(parsed.lengths[:j]) for j in range(len(parsed.lengths))]
    return b"".join(pieces), (parsed.rows, parsed.key_width, starts, parsed.lengths)


def point_leaf_of_chunk(chunk: bytes) -> PointLeaf:
    """A whole leaf's bytes as a ``PointLeaf`` (its buffers stay where they are).

    Raises:
        FormatVersionError: not a leaf of format version 1.
        ValueError: the leaf is truncated.
        struct.error: ``chunk`` is shorter than a leaf's header.
    """
    n, w, starts, lengths = _layout(chunk)
    return chunk, (n, w, starts, tuple(lengths))


def read_point_leaf(store: object, address: bytes) -> PointLeaf:
    """The ``PointLeaf`` of one leaf of ``store``: through its ``get_point_leaf`` when it
    has one (``LmdbChunkStore``, ``BufferedChunkStore``), else from the whole chunk.

    Raises:
        ValueError, struct.error, FormatVersionError: the chunk is not a leaf.
    """
    reader = getattr(store, "get_point_leaf", None)
    if reader is not None:
        leaf: PointLeaf = reader(address)
        return leaf
    return point_leaf_of_chunk(store.get(address))  # type: ignore[attr-defined]


# --- many leaves at once ------------------------------------------------------------
# A scan reads thousands of leaves of one table, which nearly always have the same
# number of buffers: their heads are unpacked one call per leaf into one numpy table,
# and every extent is computed for all of them at once; the per-leaf Python work is
# the unpack, the head's checksum and a slice per picked buffer.


@lru_cache(maxsize=64)
def _record_dtype(b: int) -> np.dtype:
    """A kind-3 record's top and tables as a numpy record (packed, little-endian):
    kind, leaf xxh3, then ``_record_tables``' fields."""
    return np.dtype(
        [
            ("kind", "u1"),
            ("digest_leaf", "<u8"),
            ("h", "<u4"),
            ("digest", "<u8"),
            ("version", "u1"),
            ("level", "u1"),
            ("b", "<u2"),
            ("n", "<u4"),
            ("w", "<u4"),
            ("t", "<u4", (2 * b,)),
        ]
    )


@lru_cache(maxsize=64)
def _record_tables(b: int) -> struct.Struct:
    """A kind-3 record's top (without its first 9 bytes) and tables, for ``b`` buffers:
    head length, head xxh3, version, level, b, rows, key width, lengths, stored sizes."""
    return struct.Struct(f"<9xIQBBHII{b}I{b}I")


def pick_column_records(
    addresses: Sequence[bytes], records: Sequence[bytes | memoryview], pick: BufferPick
) -> list[PickedLeaf]:
    """``pick_column_record`` of many kind-3 records (raw buffers copied out).

    Raises:
        CorruptChunk: a head, or a frame read, is damaged.
    """
    if not records:
        return []
    picked = pick_records(addresses, records, pick)
    if picked is None:  # leaf by leaf: names the damage
        return [pick_column_record(a, r, pick) for a, r in zip(addresses, records, strict=True)]
    return picked.leaves()


def pick_records(
    addresses: Sequence[bytes], records: Sequence[bytes | memoryview], pick: BufferPick
) -> PickedBlock | None:
    """``pick_column_records`` of records that are all healthy kind-3 records of one
    shape (a scan's block: told from one numpy table of their heads); None when one
    is not (another kind, damage: the caller then reads them one by one)."""
    first = records[0] if records else b""
    b = first[TOP_LEN + 2] | first[TOP_LEN + 3] << 8 if len(first) > TOP_LEN + 3 else -1
    if b < 0:
        return None
    tables = _record_tables(b)
    dtype = _record_dtype(b)
    # every record's kind and tables side by side (one slice each), as one numpy table
    blob = b"".join([r[: tables.size] for r in records])
    if len(blob) != dtype.itemsize * len(records):  # a record shorter than its tables
        return None
    found = np.frombuffer(blob, dtype)
    if (found["kind"] != KIND_COLUMNS).any():
        return None
    table = found["t"].astype(np.int64)
    h = found["h"].astype(np.int64)
    version, level, bs, counts, widths = (
        found[f].astype(np.int64) for f in ("version", "level", "b", "n", "w")
    )
    sizes = np.fromiter(map(len, records), np.int64, len(records))
    if ((h < TOP_LEN + _LEAF_LEN) | (h > sizes)).any():
        return None
    ends = h.tolist()
    digests = np.fromiter(
        (checksum(r[TOP_LEN:e]) for r, e in zip(records, ends, strict=True)), "<u8", len(records)
    )
    if (digests != found["digest"]).any():
        return None
    lengths, stored = table[:, :b], table[:, b:]
    raw = stored == lengths
    framed = ~raw
    raw_sizes, frame_sizes = np.where(raw, stored, 0), np.where(framed, stored, 0)
    raw_base = tables.size + 8 * framed.sum(1)  # the tables cover bytes [0, tables.size)
    bad = (
        (bs != b)
        | (version != LEAF_VERSION)
        | (level != 0)
        | (stored > lengths).any(1)
        | (raw_base + raw_sizes.sum(1) != h)
        | (h + frame_sizes.sum(1) != sizes)
    )
    if bad.any():
        return None
    starts = np.where(
        raw,
        raw_base[:, None] + np.cumsum(raw_sizes, 1) - raw_sizes,
        h[:, None] + np.cumsum(frame_sizes, 1) - frame_sizes,
    )
    indexes = pick.indexes(b)
    if indexes and not 0 <= indexes[0] <= indexes[-1] < b:
        return None
    columns = _picked_columns(
        records,
        starts[:, indexes],
        stored[:, indexes],
        lengths[:, indexes],
        framed[:, indexes],
        tables.size + 8 * (np.cumsum(framed, 1) - framed)[:, indexes],
    )
    if columns is None:  # a frame failed a check
        return None
    key_parts = None
    if pick.keys:
        k = b - pick.values
        key_parts = [list(p) for p in zip(*[c.pieces() for c in columns[:k]], strict=True)]
        columns = columns[k:]
    return PickedBlock(counts, widths, lengths[:, indexes].sum(1), key_parts, columns)


def _picked_columns(
    records: Sequence[bytes | memoryview],
    starts: np.ndarray,
    sizes: np.ndarray,
    lengths: np.ndarray,
    framed: np.ndarray,
    checks_at: np.ndarray,
) -> list[JoinedBuffer] | None:
    """Each picked buffer of every leaf, joined (``starts``, ``sizes``, ``lengths``,
    ``framed``, ``checks_at``: leaves by picked buffers; where each buffer's stored
    bytes start and end, its length, whether it is a frame and where its frame's
    xxh3 lies), buffer by buffer, each joined into one ``JoinedBuffer`` for the
    block: raw buffers from views of the (checked) heads, joined in one call (a numpy
    take of the bytes from the heads joined end to end measured slower: LLM filter
    at 1M rows, 0.68 against 0.57 s of CPU); frames checked and decompressed, one
    loop over the leaves.
    None when a frame fails a check or does not give its length (the caller then
    goes leaf by leaf, which names the damage)."""
    ends = starts + sizes
    columns: list[JoinedBuffer] = []
    for k in range(starts.shape[1]):
        is_frame = framed[:, k]
        if not is_frame.any():
            if not sizes[:, k].any():  # a validity without NULLs in every leaf
                columns.append(JoinedBuffer(b"", sizes[:, k]))
            else:
                spans = zip(records, starts[:, k].tolist(), ends[:, k].tolist(), strict=True)
                columns.append(JoinedBuffer(b"".join([r[s:e] for r, s, e in spans]), sizes[:, k]))
            continue
        if is_frame.all():
            made = _frames(records, starts[:, k], ends[:, k], lengths[:, k], checks_at[:, k])
            if made is None:
                return None
            columns.append(JoinedBuffer(b"".join(made), lengths[:, k]))
            continue
        # framed in some leaves only (random floats save about 1/8, near MIN_GAIN)
        rows = np.flatnonzero(is_frame)
        from_frames = _frames(
            [records[i] for i in rows.tolist()],
            starts[rows, k],
            ends[rows, k],
            lengths[rows, k],
            checks_at[rows, k],
        )
        if from_frames is None:
            return None
        spans = zip(records, starts[:, k].tolist(), ends[:, k].tolist(), strict=True)
        flags = is_frame.tolist()
        mixed = [b"" if f else r[s:e] for (r, s, e), f in zip(spans, flags, strict=True)]
        for i, data in zip(rows.tolist(), from_frames, strict=True):
            mixed[i] = data
        columns.append(JoinedBuffer(b"".join(mixed), lengths[:, k]))
    return columns


def _frames(
    records: Sequence[bytes | memoryview],
    starts: np.ndarray,
    ends: np.ndarray,
    lengths: np.ndarray,
    checks_at: np.ndarray,
) -> list[bytes] | None:
    """One framed buffer of each record, checked against its xxh3 and decompressed;
    None when one fails (the caller goes leaf by leaf to name it)."""
    spans = zip(records, starts.tolist(), ends.tolist(), strict=True)
    pieces = [memoryview(r)[s:e] for r, s, e in spans]
    expected = b"".join([r[c : c + 8] for r, c in zip(records, checks_at.tolist(), strict=True)])
    if np.fromiter(map(checksum, pieces), "<u8", len(pieces)).tobytes() != expected:
        return None
    return decompress_frames(pieces, lengths)


def pick_from_leaves(chunks: Sequence[bytes | memoryview], pick: BufferPick) -> list[PickedLeaf]:
    """``pick_from_leaf`` of many whole leaves (views, not copies).

    Raises:
        FormatVersionError: a chunk is not a leaf of format version 1.
        ValueError: a leaf is truncated, or has fewer buffers than asked for.
        struct.error: a chunk is shorter than a leaf's header.
    """
    if not chunks:
        return []
    first = chunks[0]
    b = first[2] | first[3] << 8 if len(first) >= _LEAF_LEN else -1
    try:
        rows = [_leaf_tables(b).unpack_from(c) for c in chunks] if b >= 0 else None
    except struct.error:
        rows = None
    if rows is None:
        return [pick_from_leaf(c, pick) for c in chunks]
    table = np.array(rows, np.int64)
    lengths = table[:, 5:]
    if (table[:, 2] != b).any() or (table[:, 0] != LEAF_VERSION).any() or (table[:, 1] != 0).any():
        return [pick_from_leaf(c, pick) for c in chunks]
    starts = np.empty_like(lengths)
    pos = np.full(len(chunks), _LEAF_LEN + 4 * b, np.int64)
    for j in range(b):
        pos = (pos + 7) & ~7
        starts[:, j] = pos
        pos += lengths[:, j]
    sizes = np.fromiter(map(len, chunks), np.int64, len(chunks))
    indexes = pick.indexes(b)
    if (pos > sizes).any() or (indexes and not 0 <= indexes[0] <= indexes[-1] < b):
        return [pick_from_leaf(c, pick) for c in chunks]
    starts_picked = starts[:, indexes].tolist()
    ends = (starts + lengths)[:, indexes].tolist()
    counts, widths = table[:, 3].tolist(), table[:, 4].tolist()
    picked_sizes = lengths[:, indexes].sum(1).tolist()
    views = [memoryview(c) for c in chunks]
    return [
        PickedLeaf(
            counts[i],
            widths[i],
            [v[s:e] for s, e in zip(starts_picked[i], ends[i], strict=True)],
            picked_sizes[i],
        )
        for i, v in enumerate(views)
    ]


@lru_cache(maxsize=64)
def _leaf_tables(b: int) -> struct.Struct:
    return struct.Struct(f"<BBHII{b}I")


def read_buffers(store: object, addresses: Sequence[bytes], pick: BufferPick) -> PickedBlock:
    """The buffers ``pick`` asks for of many leaves of ``store``: through its
    ``get_buffers`` when it has one (``LmdbChunkStore``, ``BufferedChunkStore``), else
    sliced from whole chunks (``get_many``).

    Raises:
        ValueError: a chunk is not a leaf with the buffers asked for.
    """
    reader = getattr(store, "get_buffers", None)
    if reader is not None:
        picked: PickedBlock = reader(addresses, pick)
        return picked
    chunks = store.get_many(addresses)  # type: ignore[attr-defined]
    return block_of_leaves(pick_from_leaves(chunks, pick), pick.keys)
