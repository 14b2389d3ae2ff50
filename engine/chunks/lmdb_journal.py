"""The LMDB store's side of the journal: small writes appended as one batch, compaction
into packs (``journal.py`` has the batch format and why, ``packs.py`` the packs;
``lmdb_store.py`` the sub-databases). All of it runs inside a write transaction of
``LmdbChunkStore``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lmdb

from ..errors import StorageError
from .journal import (
    BATCH_MAX_BYTES,
    COMPACT_BYTES,
    COMPACT_RECORDS,
    JOURNAL_STATE,
    encode_batch,
    parse_batch,
    sequence_key,
)
from .lmdb_packs import PackWrites
from .packs import PACK_BYTES, split_packs

__all__ = ["META_JOURNAL", "JournalWrites"]

META_JOURNAL = b"store/journal"


class JournalWrites(PackWrites):
    """The journal's in-transaction operations, mixed into ``LmdbChunkStore``."""

    path: Path
    _journal: Any
    _meta: Any

    def _add_records(
        self, txn: lmdb.Transaction, records: dict[bytes, bytes], journal: bool = True
    ) -> tuple[tuple[int, bytes] | None, bool]:
        """Store ``records`` (none stored yet) in ``txn``: as one journal batch, or in
        packs when they are large, ``journal`` is False (a bulk write: a load that
        journaled its chunks would soon move them all again, holding the whole
        journal in one transaction's dirty pages), or the journal is full (compacting
        it first).
        Returns the (sequence, batch) appended or None, and whether it compacted."""
        if not records:
            return None, False
        size = sum(map(len, records.values()))
        seq, count, journal_bytes = self._journal_state(txn)
        if size > BATCH_MAX_BYTES or not journal:
            self._pack_in(txn, records)
            return None, False
        if count + len(records) > COMPACT_RECORDS or journal_bytes + size > COMPACT_BYTES:
            self._compact_in(txn, records)
            return None, True
        batch = encode_batch(records)
        txn.put(sequence_key(seq), batch, db=self._journal, append=True)
        state = JOURNAL_STATE.pack(seq + 1, count + len(records), journal_bytes + len(batch))
        txn.put(META_JOURNAL, state, db=self._meta)
        return (seq, batch), False

    def _journal_state(self, txn: lmdb.Transaction) -> tuple[int, int, int]:
        """(next sequence number, records, bytes) of the journal in ``txn``."""
        raw = txn.get(META_JOURNAL, db=self._meta)
        if raw is None:
            return 1, 0, 0
        if len(raw) != JOURNAL_STATE.size:
            raise StorageError(
                f"the chunk store at {self.path} has a damaged journal state "
                f"({len(raw)} bytes, not {JOURNAL_STATE.size}); restore it from a copy"
            )
        return JOURNAL_STATE.unpack(bytes(raw))

    def _compact_in(self, txn: lmdb.Transaction, also: dict[bytes, bytes] | None = None) -> int:
        """Move every journaled record into packs (in journal order, then ``also``:
        records of this write, none stored yet) and empty the journal, in ``txn``
        (journal invariant (2)). Returns how many journaled records moved. A pack at
        a time: a copy of the whole journal would be up to ``COMPACT_BYTES``."""
        seq, count, _ = self._journal_state(txn)
        if not count:
            self._pack_in(txn, also or {})
            return 0
        moved = 0
        waiting: dict[bytes, bytes] = {}  # records not yet packed, under PACK_BYTES
        keys = [bytes(k) for k in txn.cursor(db=self._journal).iternext(values=False)]
        for key in keys:
            found = txn.get(key, db=self._journal)
            assert found is not None  # the key was just listed in this transaction
            raw = bytes(found)  # buffers die at the next write
            addresses, offsets = parse_batch(raw)
            starts, ends = offsets[:-1], offsets[1:]
            waiting.update((a, raw[s:e]) for a, s, e in zip(addresses, starts, ends, strict=True))
            moved += len(addresses)
            if sum(map(len, waiting.values())) >= PACK_BYTES:
                *full, waiting = split_packs(waiting)
                for group in full:
                    self._pack_in(txn, group)
        self._pack_in(txn, {**waiting, **(also or {})})
        txn.drop(self._journal, delete=False)
        txn.put(META_JOURNAL, JOURNAL_STATE.pack(seq, 0, 0), db=self._meta)
        return moved
