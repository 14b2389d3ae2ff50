"""The chunk journal of ``LmdbChunkStore``: small writes appended as one batch each.

LMDB keeps ``chunks`` as a B-tree keyed by address, and addresses are random, so a
write of n small records dirties about n different 4 KiB pages, each copied and
fsynced: measured on a store of 60,000 records, 540 records of ~230 bytes (a
merge commit of the benchmark) took 7.2 ms to commit, the same records under
ascending keys 0.9 ms, and one value holding them all 0.3-0.4 ms. So a write of
few bytes is stored as one value of the ``journal`` sub-database, under the next
sequence number (ascending, so it lands at the B-tree's right edge), and every
handle keeps an in-memory index from address to its place in a batch. Once the
journal holds ``COMPACT_RECORDS`` records or ``COMPACT_BYTES`` bytes, the write
that would pass that moves them all into packs (``packs.py``: the records back to
back in values of up to 1 MiB, and a 17-byte locator each in ``chunks``: one pass
over the B-tree's pages for thousands of records, instead of one page per record,
and no rounding of each record up to whole pages). Dolt's chunk journal has the
same shape: an append-only log indexed in memory; its table files are our packs.
The batch format below is also the pack format.

Batch format (the value under one sequence number; little-endian):

    OFFSET         SIZE       DESCRIPTION
    0              4          n: the number of records, >= 1 (u32)
    4              20 * n     their addresses, in write order
    4 + 20n        4 * (n+1)  offsets from the batch's start: record i is the
                              bytes [offset[i], offset[i+1]) (u32, ascending,
                              offset[0] = 4 + 24n + 4, offset[n] = batch length)
    ...            ...        the records (``records.py``), concatenated

Sequence keys are 8-byte big-endian integers, so they sort in write order; meta
``store/journal`` holds the next sequence number and the journal's record and
byte counts (``JOURNAL_STATE``: three u64).

Invariants:
  (1) An address is stored at most once across ``chunks`` and the journal: a
      write stores only records neither holds, in the same transaction.
  (2) A sequence number is never reused (the next one lives in meta and only
      grows), so an index entry (sequence, start, end) names the same bytes for as
      long as its batch exists; a batch is only ever deleted whole, when its
      records move to packs (compaction) in the same transaction.
  (3) An index may hold entries newer than a reader's snapshot (the batch is then
      absent from that snapshot: the chunk is not stored there) or older than it
      (compacted batches: the read goes on to ``chunks`` and its packs). An
      address found in neither refreshes the index from the reader's snapshot
      (adding every batch it holds that the index lacks: those past the highest
      one a refresh read, or all of them when the snapshot predates a compaction
      the index saw) before it is called absent, and again if another thread dropped entries
      meanwhile (``forgets`` changed).
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator, Mapping
from itertools import accumulate

from ..errors import StorageError
from ..hash import ADDRESS_LEN

# Records in the journal that trigger a move into packs, or bytes. Measured
# with 60,000 records of 200 bytes over 2,000 raw chunks: moving them took 93 ms,
# and a new handle's first index refresh 13-16 ms; half that many halves both.
COMPACT_RECORDS = 32768
COMPACT_BYTES = 64 << 20
BATCH_MAX_BYTES = 4 << 20  # a write with more record bytes goes straight to packs

JOURNAL_STATE = struct.Struct("<QQQ")  # next sequence number, records, bytes
_COUNT = struct.Struct("<I")


def sequence_key(seq: int) -> bytes:
    return seq.to_bytes(8, "big")


def encode_batch(records: Mapping[bytes, bytes]) -> bytes:
    """One batch holding ``records`` (address -> record), in the module's format."""
    n = len(records)
    first = 4 + 24 * n + 4
    offsets = accumulate(map(len, records.values()), initial=first)  # < 2**32: BATCH_MAX_BYTES
    return b"".join(
        [_COUNT.pack(n), *records.keys(), struct.pack(f"<{n + 1}I", *offsets), *records.values()]
    )


def parse_batch(batch: bytes | memoryview) -> tuple[list[bytes], list[int]]:
    """The addresses of one batch and its n + 1 record offsets.

    (Plain ``struct``, no numpy: a command that reads a few commits, ``arbor branch``,
    would otherwise load numpy for this alone.)

    Raises:
        StorageError: the batch is shorter than its header says.
    """
    view = memoryview(batch)
    if len(view) < 4:
        raise StorageError("a chunk journal batch is shorter than its 4-byte count")
    (n,) = _COUNT.unpack_from(view)
    first = 4 + 24 * n + 4
    if len(view) < first:
        raise StorageError(f"a chunk journal batch of {len(view)} bytes is cut inside its header")
    raw = view[4 : 4 + ADDRESS_LEN * n].tobytes()
    addresses = [raw[i : i + ADDRESS_LEN] for i in range(0, len(raw), ADDRESS_LEN)]
    offsets = list(struct.unpack_from(f"<{n + 1}I", view, 4 + ADDRESS_LEN * n))
    if offsets[0] != first or offsets[-1] != len(view) or offsets != sorted(offsets):
        raise StorageError("a chunk journal batch has offsets that do not tile its records")
    return addresses, offsets


class JournalIndex:
    """Address -> (sequence, start, end) of the journaled records one handle has seen.

    Safe to share between threads: lookups read a dict; changes hold a lock.
    """

    __slots__ = ("_where", "_by_seq", "forgets", "_lock", "scanned", "floor")

    def __init__(self) -> None:
        self._where: dict[bytes, tuple[int, int, int]] = {}
        self._by_seq: dict[int, list[bytes]] = {}
        self.forgets = 0  # how many times entries were dropped (invariant (3))
        self._lock = threading.Lock()
        # A refresh reads only the batches past ``scanned`` (every batch numbered up
        # to it that a snapshot held is indexed, unless ``floor`` says it was dropped
        # since), so its cost is the new batches, not the journal's length.
        self.scanned = 0  # the highest sequence number a refresh has read
        self.floor = 0  # the journal's first sequence number when entries were last dropped

    def refresh_from(self, first: int) -> int:
        """Where a refresh of a snapshot whose journal starts at ``first`` must read
        from: past ``scanned``, unless the snapshot still holds batches this index
        dropped (an older snapshot than the one that saw them compacted)."""
        with self._lock:
            if first < self.floor:
                self.floor = first
                return first
            return max(first, self.scanned + 1)

    def mark_scanned(self, seq: int) -> None:
        with self._lock:
            self.scanned = max(self.scanned, seq)

    def get(self, address: bytes) -> tuple[int, int, int] | None:
        return self._where.get(address)

    def holds_batch(self, seq: int) -> bool:
        return seq in self._by_seq

    def add(self, seq: int, batch: bytes | memoryview) -> None:
        addresses, offsets = parse_batch(batch)
        starts, ends = offsets[:-1], offsets[1:]
        with self._lock:
            if seq in self._by_seq:
                return
            self._where.update(
                zip(addresses, zip([seq] * len(addresses), starts, ends, strict=True), strict=True)
            )
            self._by_seq[seq] = addresses

    def forget_below(self, seq: int | None = None) -> None:
        """Drop the entries of batches numbered below ``seq`` (default: all), which
        a compaction moved to packs."""
        with self._lock:
            if seq is not None and seq <= self.floor:
                return  # everything below was dropped when ``floor`` was set
            gone = [s for s in self._by_seq if seq is None or s < seq]
            self.floor = max(self.floor, seq if seq is not None else self.scanned + 1)
            for old in gone:
                for address in self._by_seq.pop(old):
                    if self._where.get(address, (None,))[0] == old:
                        del self._where[address]
            if gone:
                self.forgets += 1

    def addresses(self) -> Iterator[bytes]:
        """Every indexed address (some may be compacted or deleted since)."""
        with self._lock:
            return iter(list(self._where))
