"""Pack files: many chunks in one immutable file on a remote, with an index at its end.

A push writes the chunks the remote lacked as one pack; a reader finds a chunk by
its pack's index and fetches it with one ranged read (or takes the whole pack). A
pack is named by the text address (BLAKE3, ``hash.format_address``) of its bytes,
so a name says what the file must hold, and writing one twice is harmless.

Byte layout (integers little-endian)::

    OFFSET      SIZE     DESCRIPTION
    0           4        magic b"APAK"
    4           1        format version (PACK_VERSION = 1)
    5           ...      entries, back to back, in the order written; entry:
                           1    kind: 0 raw, 1 zstd, 2 delta
                           20   base address (kind 2 only)
                           n    body to the entry's end: the chunk (kind 0), a
                                zstd frame of it with its content size (kind 1),
                                or a delta body against the base (kind 2,
                                ``chunks/delta.py``'s format)
    X           32 * n   index, sorted by address: address (20), offset of
                         the entry's kind byte (u64), length of the entry (u32)
    end - 16    8        X, the offset of the index (u64)
    end - 8     4        n, the number of entries (u32)
    end - 4     4        magic b"APKI"

Worked example: a pack holding one 3-byte raw chunk ``abc`` is 5 + 4 + 32 + 16 =
57 bytes: ``APAK 01``, the entry ``00 61 62 63`` at offset 5, one index row
(address, ``05 00 00 00 00 00 00 00``, ``04 00 00 00``), then
``09 00 00 00 00 00 00 00``, ``01 00 00 00``, ``APKI``.

Invariants:
  (1) Every entry decodes to bytes whose BLAKE3 is the address the index files
      it under; ``decode_entry`` checks that (after applying a delta) and raises
      ``CorruptChunk`` otherwise, so a damaged pack is never trusted.
  (2) A delta entry's base is a chunk the receiver holds or finds in the packs
      of the same remote; the writer sends a delta only then (sync.py).
  (3) Index rows are sorted and unique; entries never overlap the index.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable

import numpy as np
import zstandard

from ..chunks.delta import apply_delta
from ..errors import CorruptChunk, CorruptPack
from ..hash import ADDRESS_LEN, address_of, format_address

MAGIC = b"APAK"
INDEX_MAGIC = b"APKI"
PACK_VERSION = 1
HEADER_LEN = 5
FOOTER = struct.Struct("<QI4s")  # index offset, entry count, magic
assert FOOTER.size == 16
INDEX_ROW = np.dtype([("address", "S20"), ("offset", "<u8"), ("length", "<u4")])
assert INDEX_ROW.itemsize == 32 and ADDRESS_LEN == 20

KIND_RAW, KIND_ZSTD, KIND_DELTA = 0, 1, 2
ZSTD_LEVEL = 3
MAX_CHUNK = 1 << 28  # a zstd entry claiming more is damaged, never a huge allocation
_COMPRESS_FROM = 512  # smaller chunks are sent raw: zstd cannot win much on them


class PackWriter:
    """Collects entries, then ``finish`` returns the pack's name and bytes."""

    def __init__(self) -> None:
        self._parts: list[bytes] = [MAGIC, bytes([PACK_VERSION])]
        self._rows: list[tuple[bytes, int, int]] = []
        self._size = HEADER_LEN
        self._zstd = zstandard.ZstdCompressor(level=ZSTD_LEVEL)

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def size(self) -> int:
        return self._size

    def add_chunk(self, address: bytes, data: bytes) -> None:
        """Add a whole chunk (compressed when that saves space)."""
        body, kind = data, KIND_RAW
        if len(data) >= _COMPRESS_FROM:
            frame = self._zstd.compress(data)
            if len(frame) < len(data):
                body, kind = frame, KIND_ZSTD
        self._add(address, bytes([kind]) + body)

    def add_delta(self, address: bytes, base: bytes, body: bytes) -> None:
        """Add a chunk as a delta body against ``base`` (invariant (2))."""
        self._add(address, bytes([KIND_DELTA]) + base + body)

    def _add(self, address: bytes, entry: bytes) -> None:
        self._rows.append((address, self._size, len(entry)))
        self._parts.append(entry)
        self._size += len(entry)

    def finish(self) -> tuple[str, bytes]:
        rows = np.array(sorted(self._rows), dtype=INDEX_ROW)
        if len(np.unique(rows["address"])) != len(rows):
            raise ValueError("a pack may hold each chunk once")  # the writer's own bug
        data = b"".join(
            [*self._parts, rows.tobytes(), FOOTER.pack(self._size, len(rows), INDEX_MAGIC)]
        )
        return format_address(address_of(data)), data


def parse_footer(name: str, tail: bytes, size: int) -> tuple[int, int]:
    """Return (index offset, entry count) from a pack's last 16 bytes (CorruptChunk if bad)."""
    if len(tail) != FOOTER.size:
        raise _corrupt(name, "it is shorter than its footer")
    offset, count, magic = FOOTER.unpack(tail)
    if magic != INDEX_MAGIC or offset + count * INDEX_ROW.itemsize + FOOTER.size != size:
        raise _corrupt(name, "its footer does not describe its index")
    return offset, count


def parse_index(name: str, raw: bytes, index_offset: int) -> np.ndarray:
    """The index rows (``INDEX_ROW``) of a pack, checked against invariant (3)."""
    if len(raw) % INDEX_ROW.itemsize:
        raise _corrupt(name, "its index is not a whole number of rows")
    rows = np.frombuffer(raw, dtype=INDEX_ROW)
    ends = rows["offset"].astype(np.int64) + rows["length"]
    addresses = rows["address"]
    if len(rows) and (
        (rows["offset"] < HEADER_LEN).any()
        or (ends > index_offset).any()
        or (rows["length"] < 1).any()
        or (addresses[1:] <= addresses[:-1]).any()
    ):
        raise _corrupt(name, "its index rows are out of order or point outside its entries")
    return rows


def read_pack(name: str, data: bytes) -> np.ndarray:
    """The index of a whole pack held in memory (CorruptChunk if the framing is bad)."""
    if data[:4] != MAGIC or len(data) < HEADER_LEN + FOOTER.size:
        raise _corrupt(name, "it does not start with a pack header")
    if data[4] != PACK_VERSION:
        raise _corrupt(name, f"format version {data[4]}, this ArborDB reads {PACK_VERSION}")
    offset, count = parse_footer(name, data[-FOOTER.size :], len(data))
    return parse_index(name, data[offset : offset + count * INDEX_ROW.itemsize], offset)


def index_rows(rows: np.ndarray) -> list[tuple[bytes, int, int]]:
    """(address, offset, length) of each index row (numpy's "S20" would drop an
    address's trailing zero bytes, so addresses are cut from the raw rows)."""
    raw = rows.tobytes()
    size = INDEX_ROW.itemsize
    addresses = [raw[i : i + ADDRESS_LEN] for i in range(0, len(raw), size)]
    return list(zip(addresses, rows["offset"].tolist(), rows["length"].tolist(), strict=True))


def entry_base(entry: bytes) -> bytes | None:
    """The base address of a delta entry, None for a whole chunk."""
    return bytes(entry[1 : 1 + ADDRESS_LEN]) if entry[:1] == bytes([KIND_DELTA]) else None


def decode_entry(
    address: bytes, entry: bytes, base: Callable[[bytes], bytes], *, check: bool = True
) -> tuple[bytes, bytes | None, bytes | None]:
    """Return (chunk bytes, delta base or None, delta body or None), checked against
    ``address`` (invariant (1)) unless ``check`` is False: then the caller must check
    the bytes before it trusts them (a batch of them at once, ``hash.addresses_of``).

    ``base(address)`` returns the bytes of a delta's base chunk.
    """
    kind = entry[0] if entry else -1
    try:
        if kind == KIND_RAW:
            data, base_address, body = bytes(entry[1:]), None, None
        elif kind == KIND_ZSTD:
            data = _decompressor().decompress(entry[1:], max_output_size=MAX_CHUNK)
            base_address = body = None
        elif kind == KIND_DELTA:
            base_address = bytes(entry[1 : 1 + ADDRESS_LEN])
            body = bytes(entry[1 + ADDRESS_LEN :])
            data = apply_delta(base(base_address), body, address)
        else:
            raise CorruptChunk(address, f"pack entry kind {kind} is unknown", 0)
    except zstandard.ZstdError as exc:
        raise CorruptChunk(address, f"its compressed pack entry does not decode ({exc})") from None
    if check and address_of(data) != address:
        raise mismatch(address)
    return data, base_address, body


def mismatch(address: bytes) -> CorruptChunk:
    return CorruptChunk(address, "the bytes received do not hash to its address (BLAKE3)")


_LOCAL = threading.local()


def _decompressor() -> zstandard.ZstdDecompressor:
    """One decompression context per thread (making one per entry cost ~0.3 ms each)."""
    found = getattr(_LOCAL, "zstd", None)
    if found is None:
        found = _LOCAL.zstd = zstandard.ZstdDecompressor()
    return found


def _corrupt(name: str, reason: str) -> CorruptPack:
    return CorruptPack(name, reason)
