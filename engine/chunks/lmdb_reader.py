"""Point reads of chunk records in one LMDB transaction: the journal, then ``chunks``
(``lmdb_store.py``'s layout; journal invariant (3)), following a locator found there
to its pack (``packs.py``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import lmdb
import numpy as np

from ..errors import CorruptChunk, StorageError
from .journal import sequence_key
from .packs import KIND_PACKED, LOCATOR_LEN, LOCATOR_STRUCT, pack_key

if TYPE_CHECKING:
    from .lmdb_store import LmdbChunkStore

__all__ = ["PackedRecords", "SnapshotReader"]

# ``packs.LOCATOR`` as a numpy record, to read a block's locators at once
_LOCATORS = np.dtype([("kind", "u1"), ("pack", "<u8"), ("start", "<u4"), ("end", "<u4")])
assert _LOCATORS.itemsize == LOCATOR_LEN


class PackedRecords:
    """Records of ``chunks`` in one transaction, a locator followed to its pack (each
    pack fetched once per instance: a buffer of the map in a ``buffers``
    transaction, valid until the transaction writes). Calling it returns the record
    or None, as ``txn.get`` does."""

    __slots__ = ("_txn", "_chunks", "_packs", "_held")

    def __init__(self, txn: lmdb.Transaction, chunks: Any, packs: Any) -> None:
        self._txn = txn
        self._chunks = chunks
        self._packs = packs
        self._held: dict[int, Any] = {}  # pack number -> its bytes (None: not stored)

    def packed(self, address: bytes) -> Any:
        """The record of ``address`` in ``chunks``, or None."""
        value = self._txn.get(address, db=self._chunks)
        # the kind byte read inline: this is every point read's path
        return self.record(address, value) if value and value[0] == KIND_PACKED else value

    __call__ = packed

    def cursor(self) -> Iterator[tuple[Any, Any]]:
        """Every (address, value) of ``chunks``: a record, or a locator for ``record``."""
        return self._txn.cursor(db=self._chunks).iternext()

    def record(self, address: bytes, value: Any) -> Any:
        """The record ``value`` (a ``chunks`` value of ``address``) stands for.

        Raises:
            CorruptChunk: the value is a locator whose pack or range is missing.
        """
        if not value or value[0] != KIND_PACKED:
            return value
        if len(value) != LOCATOR_LEN:
            raise CorruptChunk(address, f"its locator is {len(value)} bytes, not {LOCATOR_LEN}")
        _, number, start, end = LOCATOR_STRUCT.unpack(value)
        held = self._held
        pack = held.get(number, held)
        if pack is held:
            packs = self._packs
            pack = None if packs is None else self._txn.get(pack_key(number), db=packs)
            held[number] = pack
        if pack is None or not start <= end <= len(pack):
            raise CorruptChunk(address, f"its record is missing from pack {number}")
        return pack[start:end]


class SnapshotReader(PackedRecords):
    """Point reads of chunk records in one transaction, through the handle's journal
    index first (a batch this snapshot holds has the only copy of its records),
    then ``chunks`` and its packs; an address found in neither refreshes the index
    from this snapshot before it is called absent (journal invariant (3)).

    Calling it returns the record (a buffer slice in a ``buffers`` transaction) or
    None, as ``txn.get`` does; ``stored`` answers without fetching a batch.
    """

    __slots__ = ("_store", "_seen_forgets", "_batches", "_present")

    def __init__(self, store: LmdbChunkStore, txn: lmdb.Transaction) -> None:
        super().__init__(txn, store._chunks, store._packs)
        self._store = store
        self._seen_forgets = -1  # the index's ``forgets`` at this reader's last refresh
        self._batches: dict[int, Any] = {}  # sequence -> batch (None: not in this snapshot)
        self._present: dict[int, bool] = {}  # sequence -> whether this snapshot holds it

    def __call__(self, address: bytes) -> Any:
        while True:
            record = self._journaled(address)
            if record is None:
                record = self.packed(address)
            if record is not None or not self._refresh():
                return record

    def many(self, addresses: Sequence[bytes]) -> list[Any]:
        """``self(address)`` of many addresses: those the journal index names one by
        one, the others in one cursor call (a scan's leaves; about a fifth of the
        time of a ``get`` each), then each locator to its pack: a bulk load's leaves
        lie in key order in few packs, each fetched once."""
        journaled = self._store._index.get
        plain = [a for a in addresses if journaled(a) is None]
        pairs = self._txn.cursor(db=self._chunks).getmulti(plain) if plain else []
        if len(pairs) == len(addresses):  # every one found in ``chunks``, in order
            located = self._located([value for _, value in pairs])
            if located is not None:
                return located
        found = dict(pairs)
        record = self.record
        return [record(a, found[a]) if a in found else self(a) for a in addresses]

    def _located(self, values: list[Any]) -> list[Any] | None:
        """The records ``values`` locate when every one is a locator whose pack and
        range are there (a bulk load's leaves), the locators read at once; else None
        (``record`` then goes one by one and names what is missing)."""
        blob = b"".join(values)
        if len(blob) != LOCATOR_LEN * len(values):
            return None
        found = np.frombuffer(blob, _LOCATORS)
        if (found["kind"] != KIND_PACKED).any() or (found["start"] > found["end"]).any():
            return None
        numbers, starts, ends = (found[f].tolist() for f in ("pack", "start", "end"))
        held = self._held
        packs = self._packs
        for number in set(numbers) - held.keys():
            held[number] = None if packs is None else self._txn.get(pack_key(number), db=packs)
        if any(held[n] is None or len(held[n]) < e for n, e in zip(numbers, ends, strict=True)):
            return None
        return [held[n][s:e] for n, s, e in zip(numbers, starts, ends, strict=True)]

    def stored(self, address: bytes) -> bool:
        while True:
            where = self._store._index.get(address)
            if where is not None and self._holds(where[0]):
                return True
            if self._txn.get(address, db=self._chunks) is not None:
                return True
            if not self._refresh():
                return False

    def journaled_in(self, low: bytes = b"", high: bytes | None = None) -> list[bytes]:
        """The journaled addresses in [low, high] this snapshot holds, sorted."""
        self._refresh()
        index = self._store._index
        found = []
        for address in index.addresses():
            if low <= address and (high is None or address <= high):
                where = index.get(address)
                if where is not None and self._holds(where[0]):
                    found.append(address)
        return sorted(found)

    def _journaled(self, address: bytes) -> Any:
        where = self._store._index.get(address)
        if where is None:
            return None
        seq, start, end = where
        batch = self._batches.get(seq, self)
        if batch is self:
            batch = self._batches[seq] = self._txn.get(sequence_key(seq), db=self._store._journal)
        return None if batch is None else batch[start:end]

    def _holds(self, seq: int) -> bool:
        present = self._present.get(seq)
        if present is None:
            cursor = self._txn.cursor(db=self._store._journal)
            present = self._present[seq] = cursor.set_key(sequence_key(seq))
        return present

    def _refresh(self) -> bool:
        """Bring the index up to this snapshot, unless it is already and no entries
        were dropped since; returns whether it did (then look again)."""
        index, journal = self._store._index, self._store._journal
        if journal is None or index.forgets == self._seen_forgets:
            return False
        cursor = self._txn.cursor(db=journal)
        if not cursor.first():
            index.forget_below()
            self._seen_forgets = index.forgets
            return True
        first = int.from_bytes(cursor.key(), "big")
        index.forget_below(first)  # batches below the first are compacted away
        self._seen_forgets = index.forgets
        held = []
        if cursor.set_range(sequence_key(index.refresh_from(first))):
            held = [int.from_bytes(key, "big") for key in cursor.iternext(values=False)]
        for seq in held:
            if not index.holds_batch(seq):
                try:
                    batch = self._txn.get(sequence_key(seq), db=journal)
                    assert batch is not None  # seq was listed in this same read transaction
                    index.add(seq, batch)
                except StorageError as exc:
                    raise StorageError(
                        f"the chunk store at {self._store.path} has a damaged journal batch "
                        f"{seq} ({exc}); restore the store from a copy"
                    ) from exc
        if held:
            index.mark_scanned(held[-1])
        return True
