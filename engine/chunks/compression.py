"""zstd for the records of ``LmdbChunkStore``: whole chunks (``records.py`` record
kind 1: which chunks are stored compressed, and the frames that hold them), and the
frames of a leaf stored buffer by buffer (kind 3, ``column_frames.py``, which leaves
are written that way since format version 5: kind 1 now holds internal nodes and
other objects that compress, and leaves of version-4 stores).

A compressed record's body (after the record header of ``records.py``) is::

    OFFSET  SIZE  DESCRIPTION
    0       1     the chunk's byte 1 (a tree node's level), copied so that garbage
                  collection learns a leaf from the header without decompressing
    1       n     one zstd frame of the FULL chunk: content size written, no
                  checksum (the record's xxh3 covers the chunk), no dictionary id

Worked example: the first leaf of the benchmark table (id, 10-character label from
1,000 values, score; 200K rows), 15,216 bytes, is stored as a 7,258-byte record::

    01                        kind 1
    7f 15 d4 75 94 89 4c 7d   xxh3-64 of the leaf
    00                        the leaf's level byte
    28 b5 2f fd               zstd frame magic
    60 70 3a                  frame header: single segment, content size
                              0x3a70 + 256 = 15,216 bytes
    35 ...                    the compressed blocks

When and how, measured on the leaves of a freshly loaded repository (bench shape,
200K rows, 377 leaves of ~16.5 KB; LLM text shape, 20K rows, 1,337 leaves of ~17 KB):

- level: 1 and 3 compress the bench leaves to 0.478 and 0.477 of their size and the
  text leaves to 0.322 and 0.307; levels 6 and 9 gain at most 0.013 more for 2-8x
  the time. ``ZSTD_LEVEL`` = 3 (zstd's default): decompression speed does not depend
  on the level.
- a chunk is stored compressed only when that saves at least ``1 / MIN_GAIN`` of it
  and it is at least ``MIN_SIZE`` bytes: internal nodes (addresses, which do not
  compress) and small objects stay raw and cost nothing to read.
- a dictionary trained per table (64 KiB, from 200 sampled leaves) would give 0.377
  (bench) and 0.260 (text); it is not used: a dictionary is one more object that
  every record would name, that garbage collection must keep and a remote must
  carry, for a 10-20% smaller repository.
- what a read pays: a whole record is decompressed even when a scan decodes one
  column of it. Cold scans measured raw against compressed stores in one run (new
  process each, alternating, machine loaded ~7x its cores): GROUP BY over the bench
  shape (1M rows) fastest 0.354 s raw against 0.377 s (+6.5%; medians too noisy to
  read); the LLM filter (``lang``, ``quality`` of 100K text rows) 2.25 s against
  4.79 s (2.1x), nearly all of it decompressing the text it does not read.
- per-column compression (each column buffer a frame of its own, and a read that
  asks for the buffers it decodes) spares that: ``column_frames.py`` (version 5).
  Like kind 1 it keeps the leaf format, and every codec that addresses cells
  inside a leaf (``codec/layout.py``, ``patch.py``, ``sparse.py``), unchanged: a
  whole read rebuilds the leaf's bytes.

The chunk's address stays the BLAKE3 of its uncompressed bytes: content addressing
(deduplication, deltas, remotes, fsck) is independent of how a store keeps a chunk,
and a store may keep the same chunk raw in one place and compressed in another.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TypedDict

import numpy as np
import zstandard

from ..errors import CorruptChunk

ZSTD_LEVEL = 3
MIN_SIZE = 256  # smaller chunks stay raw: a frame's header alone is ~10 bytes
MIN_GAIN = 8  # compress only when that saves at least 1/8 of the chunk
MAX_CHUNK = 1 << 30  # a frame claiming more is damaged, never a huge allocation
_THREADS_FROM = 64  # chunks per batch from which zstd compresses on two threads


class FrameParams(TypedDict):
    """The zstd frame flags every chunk and delta is written with."""

    write_content_size: bool
    write_checksum: bool
    write_dict_id: bool


_PARAMS: FrameParams = {"write_content_size": True, "write_checksum": False, "write_dict_id": False}

_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    """This thread's compressor (a ``ZstdCompressor`` is not safe to share)."""
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, **_PARAMS)
    return compressor


def _decompressor() -> zstandard.ZstdDecompressor:
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    return decompressor


def compress_many(chunks: Sequence[bytes]) -> list[bytes | None]:
    """The zstd frame of each chunk where storing it compressed pays, else None."""
    todo = [i for i, chunk in enumerate(chunks) if len(chunk) >= MIN_SIZE]
    out: list[bytes | None] = [None] * len(chunks)
    if not todo:
        return out
    compressor = _compressor()
    if len(todo) >= _THREADS_FROM:
        frames = compressor.multi_compress_to_buffer([chunks[i] for i in todo], threads=2)
        made = [frames[k].tobytes() for k in range(len(todo))]
    else:
        made = [compressor.compress(chunks[i]) for i in todo]
    for i, frame in zip(todo, made, strict=True):
        if (len(frame) + 1) * MIN_GAIN <= len(chunks[i]) * (MIN_GAIN - 1):
            out[i] = frame
    return out


def compress_buffers(pieces: Sequence[bytes | memoryview]) -> list[bytes]:
    """A zstd frame of each piece, on two threads for a large batch (a load's leaves)."""
    if not pieces:
        return []
    compressor = _compressor()
    if len(pieces) >= _THREADS_FROM:
        frames = compressor.multi_compress_to_buffer(list(pieces), threads=2)
        return [frames[k].tobytes() for k in range(len(pieces))]
    return [compressor.compress(piece) for piece in pieces]


def decompress_frame(frame: memoryview, length: int, address: bytes, offset: int) -> bytes:
    """The ``length`` bytes in a zstd ``frame`` of one buffer of the record of
    ``address`` (``offset``: where the frame starts in the record, for errors).

    Raises:
        CorruptChunk: the frame is malformed or does not give ``length`` bytes.
    """
    try:
        data = _decompressor().decompress(frame, max_output_size=length)
    except zstandard.ZstdError as exc:
        raise CorruptChunk(address, f"its zstd frame does not decompress ({exc})", offset) from None
    if len(data) != length:
        raise CorruptChunk(address, f"its zstd frame gave {len(data)} of {length} bytes", offset)
    return data


def decompress_frames(frames: Sequence[memoryview], lengths: np.ndarray) -> list[bytes] | None:
    """The buffers in zstd ``frames`` (of one buffer of many leaves: a scan's block),
    each to be ``lengths[i]`` bytes; None when a frame is malformed or gives another
    length (the caller then reads frame by frame, naming the damage)."""
    decompress = _decompressor().decompress
    try:
        sized = zip(frames, lengths.tolist(), strict=True)
        made = [decompress(f, max_output_size=n) for f, n in sized]
    except zstandard.ZstdError:
        return None
    if np.fromiter(map(len, made), np.int64, len(made)).tolist() != lengths.tolist():
        return None
    return made


def decompress_many(
    frames: Sequence[bytes | memoryview], addresses: Sequence[bytes], offset: int
) -> list[bytes]:
    """``decompress`` of many frames (those of ``addresses``' records), one by one:
    zstd's two-thread batch decompression copies each frame in and each chunk out
    once more, which a scan holding a block of leaves paid in memory (about twice
    the block), and gained nothing measurable on a loaded two-core machine."""
    return [decompress(f, a, offset) for f, a in zip(frames, addresses, strict=True)]


def decompress(frame: bytes | memoryview, address: bytes, offset: int) -> bytes:
    """The chunk in a zstd ``frame`` of the record of ``address`` (``offset``: where
    the frame starts in the record, for errors).

    Raises:
        CorruptChunk: the frame is malformed, claims an unknown or huge size, or
            decompresses to another length than it claims.
    """
    try:
        size = zstandard.frame_content_size(frame)
    except zstandard.ZstdError as exc:
        raise CorruptChunk(address, f"its zstd frame has no valid header ({exc})", offset) from None
    if size < 0 or size > MAX_CHUNK:
        raise CorruptChunk(address, f"its zstd frame claims {size} bytes", offset)
    try:
        data = _decompressor().decompress(frame)
    except zstandard.ZstdError as exc:
        raise CorruptChunk(address, f"its zstd frame does not decompress ({exc})", offset) from None
    if len(data) != size:
        raise CorruptChunk(address, f"its zstd frame gave {len(data)} of {size} bytes", offset)
    return data
