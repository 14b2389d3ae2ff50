"""Packs of ``LmdbChunkStore``: the records of a large write, many to one LMDB value.

Why: LMDB stores a value over ~2 KiB in overflow pages of its own, rounded up to
whole 4 KiB pages (``ceil((len + 16) / 4096)``), so a record of a few KiB wastes
half a page on average. A bulk load's leaf records are ~7.2 KiB each (~16.5 KB
leaves after ``column_frames.py``): stored one value each they took ~1.29x their
bytes, data.mdb ~1.3x the Parquet file. Stored back to back in values of up to
``PACK_BYTES``, they waste half a page per pack instead: ~0.2%.

A pack is one value of the ``packs`` sub-database under an 8-byte big-endian pack
number (ascending, so a write appends at the B-tree's right edge); its bytes are a
journal batch (``journal.py``'s batch format: count, addresses, offsets, records),
so a pack names the addresses it holds, which garbage collection reads to find a
pack's live records. Each packed record's address maps, in ``chunks``, to a
locator, a value small enough to live in the B-tree's leaf pages:

Locator format (little-endian):

    OFFSET  SIZE  DESCRIPTION
    0       1     kind: 4 (``KIND_PACKED``; ``records.py``'s record kinds are 0-3,
                  so a ``chunks`` value is a record or a locator by its first byte)
    1       8     the pack number (u64)
    9       4     start: the record is the pack's bytes [start, end) (u32)
    13      4     end (u32)

Worked example: the third record of pack 7, at bytes 7,452-14,903::

    04                        kind 4
    07 00 00 00 00 00 00 00   pack 7
    1c 1d 00 00               start 7,452
    37 3a 00 00               end 14,903

One locator per packed address, one canonical encoding. A change to this format
bumps ``lmdb_format.FORMAT_VERSION`` (packs came with version 6).

Invariants (``lmdb_store.py``'s layout; cited as "packs invariant (n)"):
  (1) A locator names a pack of the same snapshot, and the record bytes its range
      holds are the record of the locator's address: a pack is written before, or
      in the same transaction as, the locators naming it, and deleted only in a
      transaction that deletes or rewrites every locator still naming it.
  (2) A pack's header may list addresses no locator names it for any more (the
      chunk was deleted, or its record moved to another pack or into ``chunks``):
      those bytes are dead. Garbage collection deletes a pack with no live record
      and rewrites one whose live records are under ``REWRITE_LIVE`` of its record
      bytes (``lmdb_packs.py``).
  (3) Pack contents are only ever read through a transaction's own snapshot (no
      handle caches a pack across transactions), so a pack number freed by a
      collection may be given to a later pack.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping

from ..errors import StorageError
from .journal import encode_batch

KIND_PACKED = 4  # a ``chunks`` value that locates a record in a pack (never a record kind)
LOCATOR = "<BQII"  # kind, pack number, start, end
LOCATOR_LEN = 17
assert struct.calcsize(LOCATOR) == LOCATOR_LEN
LOCATOR_STRUCT = struct.Struct(LOCATOR)
_PACKED_BYTE = bytes([KIND_PACKED])

# Record bytes per pack: the rounding wasted is half a page per pack (0.2% of 1 MiB),
# and a collection that rewrites a mostly dead pack copies at most this much. A
# record larger than this is a pack of its own.
PACK_BYTES = 1 << 20
# A collection rewrites a pack whose live records hold under this share of its
# record bytes, so dead bytes stay under a quarter of what packs hold.
REWRITE_LIVE = 0.75


def encode_locator(pack: int, start: int, end: int) -> bytes:
    return LOCATOR_STRUCT.pack(KIND_PACKED, pack, start, end)


def is_locator(value: bytes | memoryview) -> bool:
    """Whether a ``chunks`` value is a locator (else it is a record)."""
    return value[:1] == _PACKED_BYTE


def decode_locator(value: bytes | memoryview) -> tuple[int, int, int]:
    """(pack number, start, end) of a locator.

    Raises:
        StorageError: the value is not a locator of ``LOCATOR_LEN`` bytes.
    """
    if len(value) != LOCATOR_LEN:
        raise StorageError(
            f"a chunk locator is {len(value)} bytes, not {LOCATOR_LEN}; restore the store "
            "from a copy"
        )
    _, pack, start, end = LOCATOR_STRUCT.unpack(value)
    return pack, start, end


def pack_key(pack: int) -> bytes:
    return pack.to_bytes(8, "big")


def split_packs(records: Mapping[bytes, bytes]) -> Iterator[dict[bytes, bytes]]:
    """``records`` in write order, cut into groups of at most ``PACK_BYTES`` record
    bytes (a larger record alone)."""
    group: dict[bytes, bytes] = {}
    size = 0
    for address, record in records.items():
        if group and size + len(record) > PACK_BYTES:
            yield group
            group, size = {}, 0
        group[address] = record
        size += len(record)
    if group:
        yield group


def encode_pack(records: Mapping[bytes, bytes]) -> tuple[bytes, list[tuple[int, int]]]:
    """One pack holding ``records`` and each record's (start, end) in it, in order."""
    pack = encode_batch(records)
    first = 4 + 24 * len(records) + 4
    spans = []
    for record in records.values():
        spans.append((first, first + len(record)))
        first += len(record)
    return pack, spans
