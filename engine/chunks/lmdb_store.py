"""``LmdbChunkStore``: the on-disk ``ChunkStore``, one LMDB environment.

This module is the store (reads, writes, gc, refs, transactions); its parts are
``lmdb_env.py`` (opening and sharing the environment, the data-file check,
shrinking), ``lmdb_gate.py`` (the resize gate), ``lmdb_reader.py`` (point reads in a
transaction), ``lmdb_journal.py`` (journal batches and compaction in a transaction)
and ``lmdb_format.py`` (the format version and upgrades).

Layout: ``path`` is a directory holding LMDB's ``data.mdb`` and ``lock.mdb`` (and
``holders.lock``, read-locked by each process that has the environment open: see
``SharedEnvironment.shrink``), with
five named sub-databases (keys sort as unsigned bytes):

    chunks   address (20 bytes)      -> record (``records.py``: raw, or a delta
                                        against another chunk), or a locator of
                                        17 bytes: (pack, start, end) (``packs.py``)
    packs    pack (8 bytes, BE)      -> the records of a large write or a journal
                                        compaction, back to back (``packs.py``)
    journal  sequence (8 bytes, BE)  -> a batch of records of one small write
                                        (``journal.py``)
    refs     ref name (UTF-8)        -> address (20 bytes)
    meta     key (UTF-8)             -> value bytes; keys starting "store/" belong
                                        to this module ("store/format_version",
                                        "store/journal", "store/gc_epoch", "store/gc_last")

A chunk is in ``chunks`` (its record, or a locator of its record in a pack) or in
one journal batch, never both (journal invariant (1)); every point read looks in
the journal index first, then ``chunks``, following a locator to its pack
(``SnapshotReader``). ``FORMAT_VERSION`` (ASCII decimal in meta
``store/format_version``) is 6; a change to the record format, the sub-databases or
``hash.ADDRESS_LEN`` bumps it, and a store of another version refuses to open
(``FormatVersionError``). Versions 1-5 are still opened and marked 6 by a writable
handle (``lmdb_format.py``); their records stay unpacked in ``chunks``, beside the
locators of records packed since.

Settings and why:

- ``map_size`` (``DEFAULT_MAP_SIZE`` = 64 GiB): the most the data file may grow
  to. On Linux the map is sparse and costs address space only, never disk or
  speed, so it is set large; every open store reserves it, which is why it is not
  larger still. A write that overflows it is never failed: the store doubles the
  map and runs the write again (invariant (4)). A store whose map another
  process grew adopts that size when LMDB reports ``MapResizedError``.
- ``sync=True, metasync=True``: LMDB fsyncs the data and then the meta page at
  every commit, so a write that returned survives a crash or power loss. Measured
  on this project's 2-core machines: a one-chunk commit with a ref CAS takes
  0.4-0.7 ms on an idle disk and up to ~8 ms on a busy one (about half that with
  ``metasync=False``; 0.01 ms with no fsync at all); a ``put_many`` of 2,000
  chunks of 16 KiB takes 65-150 ms, nearly all of it LMDB writing 32 MiB, with
  or without the fsyncs. So durability is cheap per
  transaction, and one transaction per logical operation (``put_many``,
  ``commit``, ``BufferedChunkStore.flush``) keeps it so. ``metasync=False`` would
  save one fsync but may undo the last commit in a power loss, which breaks a
  promise made to the user, so it is not offered.
- ``writemap=False``: the map is read-only in this process, so a stray write in
  a native extension cannot corrupt the file.
- ``max_dbs=5``: the five sub-databases above.
- Small writes go to the journal, large ones (over ``journal.BATCH_MAX_BYTES``, or
  bulk: ``put_many(bulk=True)``) straight to packs; ``journal.py`` says why and when
  the journal is compacted into packs.
- Deltas: which chunks become deltas, and the chain caps, are ``records.py``'s.
- Page rounding, and why records are packed: a value over ~2 KiB is stored in
  overflow pages of its own (``ceil((len + 16) / 4096)`` pages), so each wastes
  half a page on average. A bulk load's leaf records (~7.2 KiB from ~16.5 KB
  leaves) stored one value each took ~1.29x their bytes (format 5: at 1M bench
  rows 13.1 MiB of records filled 16.9 MiB of pages, data.mdb 1.31x the Parquet
  file). Since format 6 a large write and a journal compaction store their records
  back to back in packs of up to ``packs.PACK_BYTES`` (1 MiB), which waste half a
  page each, and ``chunks`` holds a 17-byte locator per record in its leaf pages
  (~45 bytes with LMDB's node header and the key): at 4M bench rows 55.3 MB of
  records take a 57.1 MB data.mdb (1.03x; format 5: 72.0 MB), 1.03x the Parquet
  file (``tests/engine/test_disk_after_load.py``). The price is one more B-tree
  lookup per point read of a packed record (the pack's, ~2 us). A scan's block
  read (``get_buffers``) finds the locators with one cursor call and slices each
  pack, fetched once, without a copy: a bulk load's leaves lie in key order in
  few packs.
- Reading a delta costs one record fetch and ~6-10 us per link (``delta.py``),
  paid once per handle: ``delta_cache_bytes`` (``DEFAULT_DELTA_CACHE`` = 32 MiB,
  about one 1M-row table's leaves) keeps rebuilt chunks, and the chunks a write
  stores as deltas, so that chains are walked once and a read of new chunks
  through any node store of this process rebuilds nothing.

Invariants:
  (1) Every read of a chunk goes through ``records.load_chunks``, which checks
      each record (records invariant (1)); ``verify`` re-hashes with BLAKE3 as
      well, rebuilding deltas without the cache.
  (2) Each ``put``, ``put_many``, ``commit``, ``delete_many`` and ``set_meta`` is
      one write transaction; chunks are inserted with ``overwrite=False``, so
      storing existing bytes again costs a lookup and writes nothing (only
      ``delete_many`` replaces a ``chunks`` value: a record it moves, invariants
      (7) and (10)).
  (3) The map is remapped (grown or adopted) only while no transaction of this
      handle is open: every call holds the ``ResizeGate`` shared, a resize holds it
      alone, under ``_write_lock``.
  (4) A write first grows the map if its bytes might not fit; should LMDB still
      raise ``MapFullError``, the transaction is aborted (nothing of it is
      written), the map doubles, and the whole write runs again.
  (5) A write transaction is aborted, and the map resized, only while no other
      call of this handle is inside LMDB and under ``_write_lock``. (py-lmdb 3's
      abort waits for every in-flight operation on the environment, so a busy
      reader thread would otherwise stall it for seconds; an aborting write is
      a lost compare-and-swap, an invalid ref target, or a full map.)
  (6) Delta records are planned from one read snapshot (records invariant (3));
      a delta whose base is no longer stored when the write transaction runs is
      stored whole instead.
  (7) ``delete_many`` never strands a delta: in its write transaction, it first
      compacts the journal, then, before deleting, rewrites each kept delta whose base is deleted
      (``records.rebase_records``, records invariant (4)), into a new pack.
      Finding them reads every record's header (a packed one's in its pack),
      O(store) per call, which suits garbage collection, its one caller.
  (8) ``collect_garbage`` marks from the refs of one read snapshot, then, in the
      write transaction that deletes, marks again from the refs as they are
      there (stopping at what it marked already) and deletes only chunks that
      snapshot held: a chunk written after the mark began is never deleted, nor
      one a ref that moved meanwhile reaches. A collection that deletes anything
      adds one to meta ``store/gc_epoch`` (u64, little-endian) in the same
      transaction; a ``commit`` given the epoch its writer read raises
      ``GcEpochMoved`` and writes nothing when it moved, so a writer that planned
      on chunks read before the collection (deduplicated, or named by its new
      nodes) checks they are still stored before it writes (``buffered.py``).
  (9) After a collection that deleted chunks, data.mdb is rewritten compacted
      (``SharedEnvironment.shrink``) only when no other handle or process has the
      environment open; otherwise LMDB reuses the freed pages for later writes.
      Meta ``store/gc_last`` (two u64, little-endian) holds the last
      collection's transaction id and how many chunks it kept: when no write
      transaction committed since, a collection returns at once.
  (10) In the same write transaction as (7)'s deletes, every pack that lost a
      record is read: one left with no live record is deleted, one whose live
      records hold under ``packs.REWRITE_LIVE`` of its record bytes is rewritten
      (its live records into a new pack, their locators replaced, then it is
      deleted; packs invariants (1)-(2)). So a collection's deleted chunks free
      their pages (and (9)'s shrink returns them to the file system) but for the
      dead bytes of packs more than ``REWRITE_LIVE`` alive.

Concurrency: LMDB allows one writer per environment across all processes (its
lock file) and any number of readers on snapshots, which never block the writer.
Within a process, writes also take ``_write_lock``. Every call uses its own short
transaction, so one handle may be shared by threads. LMDB lets a process open
an environment once: every handle of one path in a process shares it
(``SharedEnvironment``), and a child process opens its own.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Literal, NamedTuple, TypeVar, overload

import lmdb

from ..errors import CorruptChunk, GcEpochMoved, MissingChunk, StorageError
from ..hash import address_of, addresses_of, prefix_range, require_address
from .column_frames import (
    KIND_COLUMNS,
    BufferPick,
    PickedBlock,
    PickedLeaf,
    PointLeaf,
    block_of_leaves,
    pick_column_records,
    pick_from_leaves,
    pick_records,
    point_leaf_of_chunk,
    point_leaf_of_record,
)
from .lmdb_env import SharedEnvironment
from .lmdb_format import check_format_version
from .lmdb_journal import JournalWrites
from .lmdb_reader import PackedRecords, SnapshotReader
from .packs import decode_locator, is_locator, pack_key
from .records import (
    KIND_DELTA,
    KIND_RAW,
    KIND_ZSTD,
    RebuiltCache,
    RecordInfo,
    chain_roots_of,
    decode_record,
    delta_parts,
    describe_record,
    encode_records,
    is_delta_on,
    load_bases,
    load_chunks,
    names_nothing,
    plan_records,
    rebase_records,
)
from .store import (
    RefUpdate,
    check_chunk_addresses,
    check_ref_updates,
    dangling_ref,
    encode_name,
    unique_match,
)

DEFAULT_MAP_SIZE = 64 << 30
DEFAULT_DELTA_CACHE = 32 << 20  # bytes of rebuilt chunks kept per handle
_KNOWN_ROOTS = 1 << 18  # chain roots remembered per handle (then forgotten at once)

_STORE_META_PREFIX = "store/"
_META_GC_EPOCH = b"store/gc_epoch"  # u64 LE: how many collections deleted chunks
_META_GC_LAST = b"store/gc_last"  # u64 LE x2: the last collection's transaction id, chunks kept
_GC_LAST = struct.Struct("<QQ")
_GC_EPOCH = struct.Struct("<Q")
_ITER_BATCH = 4096  # addresses per read transaction in iter_addresses
# record kinds that hold their chunk, not a delta of it
_WHOLE = (KIND_RAW, KIND_ZSTD, KIND_COLUMNS)
_COLUMNS_KIND = bytes([KIND_COLUMNS])
_LEAF = b"\x00\x00"  # what gc's mark reads for a leaf: level 0, names nothing

_T = TypeVar("_T")
# gc's mark: (roots, read_many, known) -> the addresses reachable from roots outside known
Mark = Callable[[list[bytes], Callable[[Sequence[bytes]], list[bytes]], set[bytes]], set[bytes]]


class LmdbChunkStore(JournalWrites):
    """A durable ``ChunkStore`` in the LMDB environment directory ``path``.

    Args:
        path: the environment directory; created (with parents) unless ``readonly``.
        readonly: open without write access; every write raises ``StorageError``.
        map_size: initial map size in bytes (grown on demand, see the module docstring).
        check_addresses: re-hash every ``commit``'s chunks against their given
            addresses (for tests; off on the hot path).
        delta_cache_bytes: how many bytes of chunks rebuilt from deltas (or just
            written as deltas) this handle keeps, so that reading them again does
            not walk their chains.

    Raises:
        StorageError: ``path`` is not a chunk store that can be opened.
        FormatVersionError: the store was written by another format version.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        map_size: int = DEFAULT_MAP_SIZE,
        check_addresses: bool = False,
        delta_cache_bytes: int = DEFAULT_DELTA_CACHE,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._check_addresses = check_addresses
        self._closed = False
        if not readonly:
            self.path.mkdir(parents=True, exist_ok=True)
        self._shared = SharedEnvironment.attach(self.path, readonly, map_size, delta_cache_bytes)
        shared = self._shared
        self._env, self._gate, self._write_lock = shared.env, shared.gate, shared.write_lock
        self._cache, self._index, self._roots = shared.cache, shared.index, shared.roots
        try:
            databases = shared.databases(readonly)
            self._chunks, self._journal, self._refs, self._meta, self._packs = databases
            check_format_version(self)
        except BaseException:
            self.close()
            raise

    # --- chunks ---------------------------------------------------------------

    def get(self, address: bytes) -> bytes:
        address = require_address(address)

        def read(txn: lmdb.Transaction) -> bytes:
            get = SnapshotReader(self, txn)
            record = get(address)
            if record is not None and len(record) and record[0] in _WHOLE:
                return decode_record(address, record)  # the common case, without the chain walk
            known: dict[bytes, bytes] = {}
            load_chunks(get, [address], known, {}, self._cache)
            return known[address]

        return self._read(read)

    def get_many(self, addresses: Sequence[bytes]) -> list[bytes]:
        return self._load([require_address(address) for address in addresses], self._cache)

    def _load(self, addresses: list[bytes], cache: RebuiltCache | None) -> list[bytes]:
        def read(txn: lmdb.Transaction) -> list[bytes]:
            known: dict[bytes, bytes] = {}
            load_chunks(SnapshotReader(self, txn), addresses, known, {}, cache)
            return [known[address] for address in addresses]

        return self._read(read)

    def get_buffers(self, addresses: Sequence[bytes], pick: BufferPick) -> PickedBlock:
        """The buffers ``pick`` asks for of many leaves, from one consistent state: a
        leaf stored buffer by buffer (``column_frames.py``) reads only those buffers'
        bytes; any other record is read whole, then sliced.

        Raises:
            MissingChunk: an address is not stored.
            CorruptChunk: a record fails its checks.
            ValueError: a chunk read whole is not a leaf with the buffers asked for.
        """
        checked = [require_address(address) for address in addresses]

        def read(txn: lmdb.Transaction) -> PickedBlock:
            get = SnapshotReader(self, txn)
            records = get.many(checked)
            if records and None not in records:  # a bulk load's block: all column records
                block = pick_records(checked, records, pick)
                if block is not None:
                    return block
            columns = [i for i, r in enumerate(records) if r is not None and r[:1] == _COLUMNS_KIND]
            found = [records[i] for i in columns]
            others = [i for i, r in enumerate(records) if r is None or r[:1] != _COLUMNS_KIND]
            picked = pick_column_records([checked[i] for i in columns], found, pick)
            if not others:
                return block_of_leaves(picked, pick.keys)
            out: list[PickedLeaf | None] = [None] * len(checked)
            for i, leaf in zip(columns, picked, strict=True):
                out[i] = leaf
            known: dict[bytes, bytes] = {}
            load_chunks(get, [checked[i] for i in others], known, {}, self._cache)
            whole = pick_from_leaves([known[checked[i]] for i in others], pick)
            for i, leaf in zip(others, whole, strict=True):
                out[i] = leaf
            return block_of_leaves(out, pick.keys)  # type: ignore[arg-type]  # all filled

        return self._read(read)

    def get_point_leaf(self, address: bytes) -> PointLeaf:
        """One leaf's buffers for a point read (``column_frames.point_leaf_of_record``):
        a leaf stored buffer by buffer is not rebuilt; any other record is read whole.

        Raises:
            MissingChunk: the address is not stored.
            CorruptChunk: the record fails its checks.
            ValueError: the chunk is not a leaf.
        """
        address = require_address(address)

        def read(txn: lmdb.Transaction) -> PointLeaf:
            get = SnapshotReader(self, txn)
            record = get(address)
            if record is not None and record[:1] == _COLUMNS_KIND:
                return point_leaf_of_record(address, record)
            known: dict[bytes, bytes] = {}
            load_chunks(get, [address], known, {}, self._cache)
            return point_leaf_of_chunk(known[address])

        return self._read(read)

    def has(self, address: bytes) -> bool:
        return self.has_many([address])[0]

    def has_many(self, addresses: Sequence[bytes]) -> list[bool]:
        checked = [require_address(address) for address in addresses]

        def read(txn: lmdb.Transaction) -> list[bool]:
            stored = SnapshotReader(self, txn).stored
            return [stored(address) for address in checked]

        return self._read(read)

    def put(self, data: bytes) -> bytes:
        return self.put_many([data])[0]

    def put_many(
        self,
        chunks: Sequence[bytes],
        bases: Sequence[bytes | None] | None = None,
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Sequence[bytes | None] | None = None,
        *,
        bulk: bool = False,
        addresses: Sequence[bytes] | None = None,
    ) -> list[bytes]:
        owned = [bytes(chunk) for chunk in chunks]
        addresses = list(addresses) if addresses is not None else addresses_of(owned)
        hints = {} if bases is None else dict(zip(addresses, bases, strict=True))
        made = {} if deltas is None else dict(zip(addresses, deltas, strict=True))
        made = {address: body for address, body in made.items() if body is not None}
        self._store(
            dict(zip(addresses, owned, strict=True)), hints, [], base_chunks, made, journal=not bulk
        )
        return addresses

    def commit(
        self,
        chunks: Mapping[bytes, bytes],
        ref_updates: Sequence[RefUpdate] = (),
        bases: Mapping[bytes, bytes] | None = None,
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Mapping[bytes, bytes] | None = None,
        gc_epoch: int | None = None,
    ) -> bool:
        updates = check_ref_updates(ref_updates)
        owned = {require_address(address): bytes(data) for address, data in chunks.items()}
        if self._check_addresses:
            check_chunk_addresses(owned)
        return self._store(owned, bases or {}, updates, base_chunks, deltas, gc_epoch)

    def _store(
        self,
        owned: dict[bytes, bytes],
        bases: Mapping[bytes, bytes | None],
        updates: list[tuple[bytes, RefUpdate]],
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Mapping[bytes, bytes | None] | None = None,
        gc_epoch: int | None = None,
        journal: bool = True,
    ) -> bool:
        """Write ``owned`` (deltas where ``bases`` hints allow) and the ref updates;
        with ``gc_epoch``, only if no collection deleted chunks since (invariant (8)).
        ``journal=False`` writes the records straight to ``chunks`` (a bulk write)."""
        # Build records before taking the write lock: hashing, diffing and copying
        # are the slow part.
        records, outside, unstored = self._records(owned, bases, base_chunks or {}, deltas or {})

        added: list[tuple[int, bytes] | None] = [None]  # the journal batch written, if any
        compacted = [False]

        def write(txn: lmdb.Transaction) -> tuple[bool, bool]:
            if gc_epoch is not None and self._gc_epoch_in(txn) != gc_epoch:
                raise GcEpochMoved(f"garbage collection ran on {self.path} since this write began")
            for raw, (_, expected, _) in updates:
                if txn.get(raw, db=self._refs) != expected:
                    return False, False  # store invariant (4): abort, nothing written
            stored = SnapshotReader(self, txn).stored
            for _, (name, _, new) in updates:
                if new is not None and new not in owned and not stored(new):
                    raise dangling_ref(name, new)  # store invariant (2); aborts
            for address, base in outside.items():
                if not stored(base):  # invariant (6): base deleted since
                    records.update(encode_records({address: owned[address]}))
            if (
                unstored is not None
                and txn.id() == unstored.snapshot + 1
                and unstored.generation == self._shared.generation
            ):
                # no write since the snapshot that found these unstored: still so
                fresh = {a: r for a, r in records.items() if a in unstored.addresses}
            else:
                fresh = {a: r for a, r in records.items() if not stored(a)}  # invariant (2)
            added[0], compacted[0] = self._add_records(txn, fresh, journal)
            for raw, (_, _, new) in updates:
                if new is None:
                    txn.delete(raw, db=self._refs)
                else:
                    txn.put(raw, new, db=self._refs)
            return True, True

        stored = self._write(write, 2 * sum(map(len, records.values())))
        if stored:
            if compacted[0]:
                self._index.forget_below()
            if added[0] is not None:
                self._index.add(*added[0])
            # a later read of these, through another node store, rebuilds nothing
            as_deltas = (a for a, record in records.items() if record[0] == KIND_DELTA)
            self._cache.put_many((a, owned[a]) for a in as_deltas)
            if len(self._roots) > _KNOWN_ROOTS:
                self._roots.clear()
            self._roots.update(chain_roots_of(records, self._roots))
        return stored

    def compact(self) -> int:
        """Move every journaled record into the ``chunks`` sub-database (one write
        transaction; readers see the same chunks before and after). Writes compact
        on their own once the journal is full, and ``delete_many`` before it deletes;
        this is for tools and tests that read ``chunks`` directly. Returns how many
        records moved."""
        moved = self._write(lambda txn: (True, self._compact_in(txn)))
        self._index.forget_below()
        return moved

    def _records(
        self,
        owned: dict[bytes, bytes],
        bases: Mapping[bytes, bytes | None],
        base_chunks: Mapping[bytes, bytes],
        deltas: Mapping[bytes, bytes | None],
    ) -> tuple[dict[bytes, bytes], dict[bytes, bytes], _Unstored | None]:
        """``plan_records`` for ``owned``, after reading the hinted bases (one
        snapshot; a base in ``base_chunks`` is taken from there once its record's
        checksum vouches for it; ``deltas``: bodies the writer made). Also returns
        which chunks that snapshot did not hold, if it read one."""
        hints = {
            address: require_address(base, "delta base hint")
            for address, base in bases.items()
            if base is not None and address in owned and base != address
        }
        if not hints:
            return encode_records(owned), {}, None

        def read(txn: lmdb.Transaction):
            reader = SnapshotReader(self, txn)
            loaded = load_bases(
                reader,
                hints,
                self._cache,
                base_chunks,
                {a for a, body in deltas.items() if body is not None},
                self._roots,
            )
            fresh = loaded[0]
            unhinted = (a for a in owned if a not in hints)
            unstored = {*fresh, *(a for a in unhinted if not reader.stored(a))}
            return loaded, _Unstored(txn.id(), unstored, self._shared.generation)

        (fresh, known, links, roots), unstored = self._read(read)
        return (*plan_records(owned, fresh, known, links, roots, made=deltas), unstored)

    def resolve_prefix(self, text_prefix: str) -> bytes:
        low, high = prefix_range(text_prefix)

        def read(txn: lmdb.Transaction[bytes]) -> bytes:
            cursor = txn.cursor(db=self._chunks)
            first: list[bytes] = []
            count = 0
            if cursor.set_range(low):
                for key in cursor.iternext(values=False):
                    if key > high:
                        break
                    if not first:
                        first.append(key)
                    count += 1
            journaled = SnapshotReader(self, txn).journaled_in(low, high)
            return unique_match(text_prefix, sorted(first + journaled), count + len(journaled))

        return self._read(read, buffers=False)

    def iter_addresses(self) -> Iterator[bytes]:
        after: bytes | None = None
        while True:
            batch = self._read(partial(self._address_batch, after=after), False)
            yield from batch
            if len(batch) < _ITER_BATCH:
                break
            after = batch[-1]
        yield from self._read(lambda txn: SnapshotReader(self, txn).journaled_in())

    def _address_batch(self, txn: lmdb.Transaction[bytes], after: bytes | None) -> list[bytes]:
        cursor = txn.cursor(db=self._chunks)
        if not (cursor.set_range(after) if after is not None else cursor.first()):
            return []
        batch: list[bytes] = []
        for key in cursor.iternext(values=False):
            if key != after:
                batch.append(key)
                if len(batch) == _ITER_BATCH:
                    break
        return batch

    def delete_many(self, addresses: Sequence[bytes]) -> int:
        """Delete chunks; a stored delta whose base is deleted is first rewritten
        against its nearest surviving ancestor, or whole (invariant (7))."""
        checked = [require_address(address) for address in addresses]
        self._cache.discard(checked)
        deleted = self._write(lambda txn: (True, self._delete_in(txn, checked)[0]), buffers=True)
        self._index.forget_below()
        self._roots.clear()
        return deleted

    def _delete_in(self, txn: lmdb.Transaction, addresses: Iterable[bytes]) -> tuple[int, int]:
        """Delete the stored ones of ``addresses`` in ``txn`` (invariant (7)), and the
        packs they leave empty or mostly dead (invariant (10)); returns how many
        were stored and the bytes their records held. Everything is read before
        the first write (buffers die at it)."""
        self._compact_in(txn)  # invariant (7): every chunk is in ``chunks`` now
        sizes: dict[bytes, int] = {}
        touched: set[int] = set()  # packs that lose records
        for address in addresses:
            value = txn.get(address, db=self._chunks)
            if value is None:
                continue
            if is_locator(value):
                number, start, end = decode_locator(value)
                touched.add(number)
                sizes[address] = end - start
            else:
                sizes[address] = len(value)
        if not sizes:
            return 0, 0
        records = PackedRecords(txn, self._chunks, self._packs)
        rewrites = {a: bytes(r) for a, r in self._rebase_dependents(records, set(sizes)).items()}
        for address in rewrites:  # their old records, packed or not, are dropped
            value = txn.get(address, db=self._chunks)
            if value is not None and is_locator(value):
                touched.add(decode_locator(value)[0])
        drop, moving = self._sweep_packs(txn, touched, sizes.keys() | rewrites.keys())
        # invariant (7): the rebased deltas before the deletes; packs invariant (1):
        # every live record of a dropped pack gets a new locator before it goes
        self._pack_in(txn, {**rewrites, **moving}, overwrite=True)
        for number in drop:
            txn.delete(pack_key(number), db=self._packs)
        for address in sizes:
            txn.delete(address, db=self._chunks)
        return len(sizes), sum(sizes.values())

    # --- garbage collection -------------------------------------------------------

    def gc_epoch(self) -> int:
        return self._read(self._gc_epoch_in, buffers=False)

    def _gc_epoch_in(self, txn: lmdb.Transaction) -> int:
        raw = txn.get(_META_GC_EPOCH, db=self._meta)
        return 0 if raw is None else _GC_EPOCH.unpack(bytes(raw))[0]

    def collect_garbage(self, mark: Mark) -> dict[str, int]:
        """Delete every chunk no ref reaches, safely beside writers (invariant (8)).

        ``mark(roots, read_many, known)`` returns the addresses reachable from
        ``roots`` outside ``known`` (a set it may stop at), reading chunks with
        ``read_many``. Returns ``kept``, ``deleted`` and ``freed_bytes`` (the
        deleted records' bytes).
        """

        roots: dict[bytes, bytes] = {}  # delta -> its chain root, for names_nothing
        last = self._meta_value(_META_GC_LAST)
        if last is not None and len(last) == _GC_LAST.size:
            txn_id, kept = _GC_LAST.unpack(last)
            if self._env.info()["last_txnid"] == txn_id:  # no write since the last gc
                return self._gc_counts(kept, 0, 0, False)

        def snapshot(txn: lmdb.Transaction) -> tuple[set[bytes], list[bytes]]:
            reader = SnapshotReader(self, txn)
            keep = mark(self._ref_values(txn), partial(self._mark_reads, reader, roots), set())
            stored = self._addresses_in(txn, reader)
            return keep, [address for address in stored if address not in keep]

        keep, candidates = self._read(snapshot)

        def sweep(txn: lmdb.Transaction) -> tuple[bool, tuple[int, int]]:
            # refs moved since the snapshot name chunks the first mark did not see
            reader = SnapshotReader(self, txn)
            moved = mark(self._ref_values(txn), partial(self._mark_reads, reader, roots), keep)
            keep.update(moved)
            deleted, freed = self._delete_in(txn, (a for a in candidates if a not in keep))
            if deleted:
                epoch = _GC_EPOCH.pack(self._gc_epoch_in(txn) + 1)
                txn.put(_META_GC_EPOCH, epoch, db=self._meta)
            self._note_gc(txn, len(keep))
            return True, (deleted, freed)

        self._cache.discard(candidates)
        deleted, freed = self._write(sweep, buffers=True)
        self._index.forget_below()
        self._roots.clear()
        shrunk = [False]
        if deleted and not self.readonly:
            with self._write_lock:  # invariant (9)
                self._gate.alone(lambda: shrunk.__setitem__(0, self._shrink()))
            if shrunk[0]:  # the copy numbers transactions afresh: mark this state again

                def note(txn: lmdb.Transaction) -> tuple[bool, None]:
                    self._note_gc(txn, len(keep))
                    return True, None

                self._write(note)
        return self._gc_counts(len(keep), deleted, freed, shrunk[0])

    def _note_gc(self, txn: lmdb.Transaction, kept: int) -> None:
        txn.put(_META_GC_LAST, _GC_LAST.pack(txn.id(), kept), db=self._meta)

    def _gc_counts(self, kept: int, deleted: int, freed: int, shrunk: bool) -> dict[str, int]:
        return {
            "kept": kept,
            "deleted": deleted,
            "freed_bytes": freed,
            "shrunk": int(shrunk),
            "file_bytes": os.path.getsize(self.path / "data.mdb"),
        }

    def _meta_value(self, key: bytes) -> bytes | None:
        return self._read(lambda txn: txn.get(key, db=self._meta), buffers=False)

    def _shrink(self) -> bool:
        if not self._shared.shrink():
            return False
        self._env = self._shared.env
        databases = self._shared.databases(False)
        self._chunks, self._journal, self._refs, self._meta, self._packs = databases
        return True

    def _ref_values(self, txn: lmdb.Transaction) -> list[bytes]:
        return [bytes(value) for value in txn.cursor(db=self._refs).iternext(keys=False)]

    def _mark_reads(
        self, reader: SnapshotReader, roots: dict[bytes, bytes], addresses: Sequence[bytes]
    ) -> list[bytes]:
        """The chunks for gc's mark: a leaf's stand-in (``_LEAF``, level 0) read from
        record headers alone (records invariant (5)), every other chunk whole."""
        out: list[bytes] = []
        whole: list[int] = []
        for address in addresses:
            record = reader(address)
            if record is None:
                raise MissingChunk(address)
            if names_nothing(reader, address, record, roots):
                out.append(_LEAF)
            else:
                whole.append(len(out))
                out.append(b"")
        if whole:
            known: dict[bytes, bytes] = {}
            load_chunks(reader, [addresses[i] for i in whole], known, {}, self._cache)
            for i in whole:
                out[i] = known[addresses[i]]
        return out

    def _addresses_in(self, txn: lmdb.Transaction, reader: SnapshotReader) -> list[bytes]:
        """Every address stored in ``txn``'s snapshot, in ``chunks`` or journaled."""
        keys = txn.cursor(db=self._chunks).iternext(values=False)
        return [bytes(key) for key in keys] + reader.journaled_in()

    def _rebase_dependents(self, records: PackedRecords, doomed: set[bytes]) -> dict[bytes, bytes]:
        """New records for the surviving deltas whose base is in ``doomed``."""
        dependents = []
        for address, value in records.cursor():
            record = records.record(address, value)
            if is_delta_on(record, doomed) and bytes(address) not in doomed:
                dependents.append(bytes(address))
        if not dependents:
            return {}
        return rebase_records(records, dependents, doomed)

    def verify(self, address: bytes) -> None:
        (data,) = self._load([require_address(address)], None)  # checks every xxh3
        if address_of(data) != address:
            raise CorruptChunk(address, "its bytes do not hash to its address (BLAKE3)")

    def record_info(self, address: bytes) -> RecordInfo:
        """How one chunk is stored: its record's kind, depth, delta base and length
        (for ``dump-chunk``, tests and benchmarks; the bytes are not checked).

        Raises:
            MissingChunk: no chunk has this address.
        """
        address = require_address(address)

        def read(txn: lmdb.Transaction) -> RecordInfo:
            record = SnapshotReader(self, txn)(address)
            if record is None:
                raise MissingChunk(address)
            return describe_record(record)

        return self._read(read)

    def delta_forms(self, addresses: Sequence[bytes]) -> list[tuple[bytes, bytes] | None]:
        """For each chunk, (base address, delta body) when it is stored as a delta,
        else None (stored whole, or not stored): the compact form a push sends
        (``remote/sync.py``), read from one snapshot without rebuilding anything."""
        checked = [require_address(address) for address in addresses]

        def read(txn: lmdb.Transaction) -> list[tuple[bytes, bytes] | None]:
            get = SnapshotReader(self, txn)
            out = []
            for address in checked:
                record = get(address)
                out.append(None if record is None else delta_parts(record))
            return out

        return self._read(read)

    def stats(self) -> dict[str, int]:
        """``chunks``, ``journaled`` (how many of them wait in the journal),
        ``stored_bytes`` (pages the chunks, journal and packs sub-databases occupy),
        ``packs``, ``refs``, ``file_bytes`` (size of data.mdb) and ``map_size``."""

        def read(txn: lmdb.Transaction) -> dict[str, int]:
            refs, chunks = txn.stat(self._refs), txn.stat(self._chunks)
            more = (self._journal, self._packs)
            stats = [chunks] + [txn.stat(db) for db in more if db is not None]
            packs = 0 if self._packs is None else txn.stat(self._packs)["entries"]
            pages = sum(s["branch_pages"] + s["leaf_pages"] + s["overflow_pages"] for s in stats)
            journaled = self._journal_state(txn)[1] if self._journal is not None else 0
            return {
                "chunks": chunks["entries"] + journaled,
                "journaled": journaled,
                "stored_bytes": pages * chunks["psize"],
                "packs": packs,
                "refs": refs["entries"],
            }

        out = self._read(read)
        out["file_bytes"] = os.path.getsize(self.path / "data.mdb")
        out["map_size"] = self._env.info()["map_size"]
        return out

    # --- refs and meta ----------------------------------------------------------

    def get_ref(self, name: str) -> bytes | None:
        raw = encode_name(name)
        return self._read(lambda txn: txn.get(raw, db=self._refs), buffers=False)

    def get_refs(self, names: Sequence[str]) -> list[bytes | None]:
        raws = [encode_name(name) for name in names]
        refs = self._refs
        return self._read(lambda txn: [txn.get(raw, db=refs) for raw in raws], buffers=False)

    def list_refs(self, prefix: str = "") -> dict[str, bytes]:
        start = prefix.encode("utf-8")

        def read(txn: lmdb.Transaction[bytes]) -> dict[str, bytes]:
            cursor = txn.cursor(db=self._refs)
            out: dict[str, bytes] = {}
            if cursor.set_range(start):
                for key, value in cursor:
                    if not key.startswith(start):
                        break
                    out[key.decode("utf-8")] = value
            return out

        return self._read(read, buffers=False)

    def get_meta(self, key: str) -> bytes | None:
        raw = encode_name(key, "meta key")
        return self._read(lambda txn: txn.get(raw, db=self._meta), buffers=False)

    def set_meta(self, key: str, value: bytes) -> None:
        raw = encode_name(key, "meta key")
        if key.startswith(_STORE_META_PREFIX):
            raise StorageError(
                f"meta key {key!r} is reserved by the chunk store (pick a key not "
                f"starting with {_STORE_META_PREFIX!r})"
            )
        value = bytes(value)
        self._write(lambda txn: (True, txn.put(raw, value, db=self._meta)))

    def close(self) -> None:
        """Release this handle; the environment closes with the process's last handle
        on it. Call it once no other thread uses this handle."""
        if not self._closed:
            self._closed = True
            self._shared.detach()

    def __enter__(self) -> LmdbChunkStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- transactions -------------------------------------------------------------

    @overload
    def _read(self, fn: Callable[[lmdb.Transaction[bytes]], _T], buffers: Literal[False]) -> _T: ...

    @overload
    def _read(self, fn: Callable[[lmdb.Transaction], _T], buffers: bool = True) -> _T: ...

    def _read(
        self,
        fn: Callable[[lmdb.Transaction[bytes]], _T] | Callable[[lmdb.Transaction], _T],
        buffers: bool = True,
    ) -> _T:
        """Run ``fn`` in a fresh read transaction (a snapshot), adopting a grown map."""
        while True:
            self._gate.enter()  # invariant (3)
            try:
                # lmdb's stubs type begin() only for a literal buffers flag
                with self._env.begin(buffers=buffers) as txn:  # type: ignore[call-overload]
                    return fn(txn)
            except lmdb.MapResizedError:
                pass  # another process grew the map past ours: adopt it, then retry
            except lmdb.Error as exc:
                raise self._failure(exc) from exc
            finally:
                self._gate.leave()
            with self._write_lock:  # invariant (5): no write transaction is open
                self._gate.alone(self._adopt_map)

    def _write(
        self,
        fn: Callable[[lmdb.Transaction], tuple[bool, _T]],
        size: int = 0,
        buffers: bool = False,
    ) -> _T:
        """Run ``fn`` in one write transaction: commit if it returns ``(True, value)``,
        abort if ``(False, value)`` or if it raises. ``size`` (bytes about to be
        written) lets the map grow before the transaction rather than after it fails.
        ``buffers``: reads return buffers, valid only until the transaction's next write."""
        if self.readonly:
            raise StorageError(
                f"the chunk store at {self.path} was opened read-only; open it without "
                "readonly=True to write"
            )
        with self._write_lock:
            self._make_room(size)
            while True:
                self._gate.enter()  # invariant (3)
                try:
                    # lmdb's stubs type begin() only for a literal buffers flag
                    txn = self._env.begin(write=True, buffers=buffers)  # type: ignore[call-overload]
                except lmdb.MapResizedError:
                    self._gate.leave()
                    self._gate.alone(self._adopt_map)
                    continue
                except lmdb.Error as exc:
                    self._gate.leave()
                    raise self._failure(exc) from exc
                try:
                    keep, value = fn(txn)
                    if keep:
                        txn.commit()
                except lmdb.MapFullError:
                    self._gate.leave()  # invariant (4): abort, double the map, run again
                    self._gate.alone(partial(self._abort_and_grow, txn))
                    continue
                except BaseException as exc:
                    self._gate.leave()
                    self._gate.alone(txn.abort)  # invariant (5)
                    if isinstance(exc, lmdb.Error):
                        raise self._failure(exc) from exc
                    raise
                self._gate.leave()
                if not keep:
                    self._gate.alone(txn.abort)  # invariant (5)
                return value

    def _make_room(self, size: int) -> None:
        """Grow the map before a write of about ``size`` bytes that might not fit."""
        info = self._env.info()
        page = self._env.stat()["psize"]
        # Copy-on-write touches a few branch pages per key, so leave twice the room.
        needed = (info["last_pgno"] + 64) * page + 2 * size
        new_size = info["map_size"]
        while new_size < needed:
            new_size *= 2
        if new_size > info["map_size"]:
            self._gate.alone(lambda: self._env.set_mapsize(new_size))

    def _adopt_map(self) -> None:
        self._env.set_mapsize(0)  # LMDB reads the size another process set

    def _abort_and_grow(self, txn: lmdb.Transaction) -> None:
        txn.abort()
        self._double_map()

    def _double_map(self) -> None:
        self._env.set_mapsize(2 * self._env.info()["map_size"])

    def _failure(self, exc: lmdb.Error) -> StorageError:
        return StorageError(f"LMDB failed on the chunk store at {self.path}: {exc}")


class _Unstored(NamedTuple):
    """The chunks of a write that the snapshot ``snapshot`` (its transaction id) did
    not hold: a write transaction numbered ``snapshot + 1`` follows no other write
    since, so it need not look them up again."""

    snapshot: int
    addresses: set[bytes]
    generation: int  # the environment's, which a shrink (a new file) moves
