"""``LmdbChunkStore``: the on-disk ``ChunkStore``, one LMDB environment.

Layout: ``path`` is a directory holding LMDB's ``data.mdb`` and ``lock.mdb``, with
three named sub-databases (keys sort as unsigned bytes):

    chunks   address (20 bytes)      -> record (``records.py``: raw, or a delta
                                        against another chunk)
    refs     ref name (UTF-8)        -> address (20 bytes)
    meta     key (UTF-8)             -> value bytes; keys starting "store/" belong
                                        to this module ("store/format_version")

``FORMAT_VERSION`` (ASCII decimal in meta ``store/format_version``) is 2; a change
to the record format, the sub-databases or ``hash.ADDRESS_LEN`` bumps it, and a
store of another version refuses to open (``FormatVersionError``). Version 1 (the
same records without kind 2) is still opened; a writable handle marks it 2.

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
- ``max_dbs=3``: the three sub-databases above.
- Deltas: which chunks become deltas, and the chain caps, are ``records.py``'s.
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
      storing existing bytes again costs a lookup and writes nothing.
  (3) The map is remapped (grown or adopted) only while no transaction of this
      handle is open: every call holds the ``_ResizeGate`` shared, a resize holds it
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
  (7) ``delete_many`` never strands a delta: in its write transaction, before
      deleting, it rewrites each kept delta whose base is deleted
      (``records.rebase_records``, records invariant (4)). Finding them reads
      every record's header, O(store) per call, which suits garbage collection,
      its one caller.

Concurrency: LMDB allows one writer per environment across all processes (its
lock file) and any number of readers on snapshots, which never block the writer.
Within a process, writes also take ``_write_lock``. Every call uses its own short
transaction, so one handle may be shared by threads; a process opens a given
environment once (LMDB's rule) and a child process opens its own handle.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import lmdb

from ..errors import CorruptChunk, FormatVersionError, MissingChunk, StorageError
from ..hash import address_of, addresses_of, prefix_range, require_address
from .records import (
    KIND_DELTA,
    KIND_RAW,
    RebuiltCache,
    RecordInfo,
    decode_record,
    describe_record,
    encode_record,
    is_delta_on,
    load_bases,
    load_chunks,
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

FORMAT_VERSION = 2
DEFAULT_MAP_SIZE = 64 << 30
DEFAULT_DELTA_CACHE = 32 << 20  # bytes of rebuilt chunks kept per handle

_DB_CHUNKS, _DB_REFS, _DB_META = b"chunks", b"refs", b"meta"
_STORE_META_PREFIX = "store/"
_META_FORMAT_VERSION = b"store/format_version"
_UPGRADABLE_VERSION = b"1"  # raw records only: opened, and marked 2 by a writable handle
_ITER_BATCH = 4096  # addresses per read transaction in iter_addresses

_T = TypeVar("_T")


class LmdbChunkStore:
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
        self._cache = RebuiltCache(delta_cache_bytes)
        self.readonly = readonly
        self._check_addresses = check_addresses
        self._gate = _ResizeGate()
        self._write_lock = threading.Lock()
        if not readonly:
            self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._env = lmdb.open(
                str(self.path),
                map_size=map_size,
                readonly=readonly,
                create=not readonly,
                sync=True,
                metasync=True,
                writemap=False,
                max_dbs=3,
                max_spare_txns=4,
            )
        except lmdb.Error as exc:
            raise StorageError(f"cannot open the chunk store at {self.path}: {exc}") from exc
        try:
            self._chunks, self._refs, self._meta = self._open_databases()
            self._check_format_version()
        except BaseException:
            self._env.close()
            raise

    # --- chunks ---------------------------------------------------------------

    def get(self, address: bytes) -> bytes:
        address = require_address(address)

        def read(txn: lmdb.Transaction) -> bytes:
            record = txn.get(address, db=self._chunks)
            if record is not None and len(record) and record[0] == KIND_RAW:
                return decode_record(address, record)  # the common case, without the chain walk
            known: dict[bytes, bytes] = {}
            load_chunks(partial(txn.get, db=self._chunks), [address], known, {}, self._cache)
            return known[address]

        return self._read(read)

    def get_many(self, addresses: Sequence[bytes]) -> list[bytes]:
        return self._load([require_address(address) for address in addresses], self._cache)

    def _load(self, addresses: list[bytes], cache: RebuiltCache | None) -> list[bytes]:
        def read(txn: lmdb.Transaction) -> list[bytes]:
            known: dict[bytes, bytes] = {}
            load_chunks(partial(txn.get, db=self._chunks), addresses, known, {}, cache)
            return [known[address] for address in addresses]

        return self._read(read)

    def has(self, address: bytes) -> bool:
        return self.has_many([address])[0]

    def has_many(self, addresses: Sequence[bytes]) -> list[bool]:
        checked = [require_address(address) for address in addresses]

        def read(txn: lmdb.Transaction) -> list[bool]:
            get, chunks = txn.get, self._chunks
            return [get(address, db=chunks) is not None for address in checked]

        return self._read(read)

    def put(self, data: bytes) -> bytes:
        return self.put_many([data])[0]

    def put_many(
        self,
        chunks: Sequence[bytes],
        bases: Sequence[bytes | None] | None = None,
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Sequence[bytes | None] | None = None,
    ) -> list[bytes]:
        owned = [bytes(chunk) for chunk in chunks]
        addresses = addresses_of(owned)
        hints = {} if bases is None else dict(zip(addresses, bases, strict=True))
        made = {} if deltas is None else dict(zip(addresses, deltas, strict=True))
        made = {address: body for address, body in made.items() if body is not None}
        self._store(dict(zip(addresses, owned, strict=True)), hints, [], base_chunks, made)
        return addresses

    def commit(
        self,
        chunks: Mapping[bytes, bytes],
        ref_updates: Sequence[RefUpdate] = (),
        bases: Mapping[bytes, bytes] | None = None,
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Mapping[bytes, bytes] | None = None,
    ) -> bool:
        updates = check_ref_updates(ref_updates)
        owned = {require_address(address): bytes(data) for address, data in chunks.items()}
        if self._check_addresses:
            check_chunk_addresses(owned)
        return self._store(owned, bases or {}, updates, base_chunks, deltas)

    def _store(
        self,
        owned: dict[bytes, bytes],
        bases: Mapping[bytes, bytes | None],
        updates: list[tuple[bytes, RefUpdate]],
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Mapping[bytes, bytes | None] | None = None,
    ) -> bool:
        """Write ``owned`` (deltas where ``bases`` hints allow) and the ref updates."""
        # Build records before taking the write lock: hashing, diffing and copying
        # are the slow part.
        records, outside = self._records(owned, bases, base_chunks or {}, deltas or {})

        def write(txn: lmdb.Transaction) -> tuple[bool, bool]:
            for raw, (_, expected, _) in updates:
                if txn.get(raw, db=self._refs) != expected:
                    return False, False  # store invariant (4): abort, nothing written
            for _, (name, _, new) in updates:
                if new is not None and new not in owned and txn.get(new, db=self._chunks) is None:
                    raise dangling_ref(name, new)  # store invariant (2); aborts
            for address, base in outside.items():
                if txn.get(base, db=self._chunks) is None:  # invariant (6): base deleted since
                    records[address] = encode_record(owned[address])
            if records:
                rows = list(records.items())
                txn.cursor(db=self._chunks).putmulti(rows, overwrite=False)  # invariant (2)
            for raw, (_, _, new) in updates:
                if new is None:
                    txn.delete(raw, db=self._refs)
                else:
                    txn.put(raw, new, db=self._refs)
            return True, True

        stored = self._write(write, sum(map(len, records.values())))
        if stored:  # a later read of these, through another node store, rebuilds nothing
            as_deltas = (a for a, record in records.items() if record[0] == KIND_DELTA)
            self._cache.put_many((a, owned[a]) for a in as_deltas)
        return stored

    def _records(
        self,
        owned: dict[bytes, bytes],
        bases: Mapping[bytes, bytes | None],
        base_chunks: Mapping[bytes, bytes],
        deltas: Mapping[bytes, bytes | None],
    ) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
        """``plan_records`` for ``owned``, after reading the hinted bases (one
        snapshot; a base in ``base_chunks`` is taken from there once its record's
        checksum vouches for it; ``deltas``: bodies the writer made)."""
        hints = {
            address: require_address(base, "delta base hint")
            for address, base in bases.items()
            if base is not None and address in owned and base != address
        }
        if not hints:
            return {address: encode_record(data) for address, data in owned.items()}, {}

        fresh, known, links, roots = self._read(
            lambda txn: load_bases(
                partial(txn.get, db=self._chunks),
                hints,
                self._cache,
                base_chunks,
                {a for a, body in deltas.items() if body is not None},
            )
        )
        return plan_records(owned, fresh, known, links, roots, made=deltas)

    def resolve_prefix(self, text_prefix: str) -> bytes:
        low, high = prefix_range(text_prefix)

        def read(txn: lmdb.Transaction) -> bytes:
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
            return unique_match(text_prefix, first, count)

        return self._read(read, buffers=False)

    def iter_addresses(self) -> Iterator[bytes]:
        after: bytes | None = None
        while True:
            batch = self._read(lambda txn, start=after: self._address_batch(txn, start), False)
            yield from batch
            if len(batch) < _ITER_BATCH:
                return
            after = batch[-1]

    def _address_batch(self, txn: lmdb.Transaction, after: bytes | None) -> list[bytes]:
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

        def write(txn: lmdb.Transaction) -> tuple[bool, int]:
            get = partial(txn.get, db=self._chunks)
            doomed = {address for address in checked if get(address) is not None}
            if not doomed:
                return True, 0
            rewrites = self._rebase_dependents(txn, doomed)
            for address, record in rewrites.items():  # invariant (7): before the deletes
                txn.put(address, record, db=self._chunks)
            for address in doomed:
                txn.delete(address, db=self._chunks)
            return True, len(doomed)

        return self._write(write, buffers=True)

    def _rebase_dependents(self, txn: lmdb.Transaction, doomed: set[bytes]) -> dict[bytes, bytes]:
        """New records for the surviving deltas whose base is in ``doomed``."""
        dependents = []
        cursor = txn.cursor(db=self._chunks)
        for address, record in cursor.iternext():
            if is_delta_on(record, doomed) and bytes(address) not in doomed:
                dependents.append(bytes(address))
        if not dependents:
            return {}
        return rebase_records(partial(txn.get, db=self._chunks), dependents, doomed)

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
            record = txn.get(address, db=self._chunks)
            if record is None:
                raise MissingChunk(address)
            return describe_record(record)

        return self._read(read)

    def stats(self) -> dict[str, int]:
        """``chunks``, ``stored_bytes`` (pages the chunks sub-database occupies),
        ``refs``, ``file_bytes`` (size of data.mdb) and ``map_size``."""

        def read(txn: lmdb.Transaction) -> dict[str, int]:
            chunks, refs = txn.stat(self._chunks), txn.stat(self._refs)
            pages = chunks["branch_pages"] + chunks["leaf_pages"] + chunks["overflow_pages"]
            return {
                "chunks": chunks["entries"],
                "stored_bytes": pages * chunks["psize"],
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

    def list_refs(self, prefix: str = "") -> dict[str, bytes]:
        start = prefix.encode("utf-8")

        def read(txn: lmdb.Transaction) -> dict[str, bytes]:
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
        """Close the environment; call it once no other thread uses this store."""
        self._env.close()

    def __enter__(self) -> LmdbChunkStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- transactions -------------------------------------------------------------

    def _read(self, fn: Callable[[lmdb.Transaction], _T], buffers: bool = True) -> _T:
        """Run ``fn`` in a fresh read transaction (a snapshot), adopting a grown map."""
        while True:
            self._gate.enter()  # invariant (3)
            try:
                with self._env.begin(buffers=buffers) as txn:
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
                    txn = self._env.begin(write=True, buffers=buffers)
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
                    self._gate.alone(lambda t=txn: (t.abort(), self._double_map()))
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

    def _double_map(self) -> None:
        self._env.set_mapsize(2 * self._env.info()["map_size"])

    def _failure(self, exc: lmdb.Error) -> StorageError:
        return StorageError(f"LMDB failed on the chunk store at {self.path}: {exc}")

    # --- opening ----------------------------------------------------------------

    def _open_databases(self) -> tuple[Any, Any, Any]:
        try:
            return tuple(  # type: ignore[return-value]
                self._env.open_db(name, create=not self.readonly)
                for name in (_DB_CHUNKS, _DB_REFS, _DB_META)
            )
        except lmdb.Error as exc:
            raise StorageError(
                f"{self.path} is not an ArborDB chunk store ({exc}); open it without "
                "readonly=True to create one"
            ) from exc

    def _check_format_version(self) -> None:
        current = str(FORMAT_VERSION).encode()

        def write(txn: lmdb.Transaction) -> tuple[bool, None]:
            found = txn.get(_META_FORMAT_VERSION, db=self._meta)
            if found is None or found == _UPGRADABLE_VERSION:
                # version 1 holds raw records only, all readable here; from now on
                # it may hold deltas, which version-1 code must refuse to read
                txn.put(_META_FORMAT_VERSION, current, db=self._meta)
            return True, None

        if not self.readonly:
            self._write(write)  # a no-op when the version is already there
        found = self._read(lambda txn: txn.get(_META_FORMAT_VERSION, db=self._meta), False)
        if found != current and not (self.readonly and found == _UPGRADABLE_VERSION):
            version = int(found) if found and found.isdigit() else -1
            raise FormatVersionError(f"chunk store {self.path}", version, FORMAT_VERSION)


class _ResizeGate:
    """Any number of calls may use the environment at once, or one action alone.

    The actions are remapping (invariant (3)) and aborting a write transaction
    (invariant (5)). A waiting action holds back new calls, so a stream of readers
    cannot starve it.
    """

    __slots__ = ("_lock", "_changed", "_users", "_closed_to_new")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._users = 0
        self._closed_to_new = False

    def enter(self) -> None:
        with self._lock:
            while self._closed_to_new:
                self._changed.wait()
            self._users += 1

    def leave(self) -> None:
        with self._lock:
            self._users -= 1
            if self._closed_to_new and not self._users:
                self._changed.notify_all()

    def alone(self, action: Callable[[], object]) -> None:
        """Run ``action`` once no call is inside; the caller must not be inside."""
        with self._lock:
            while self._closed_to_new:
                self._changed.wait()
            self._closed_to_new = True
            try:
                while self._users:
                    self._changed.wait()
                action()
            finally:
                self._closed_to_new = False
                self._changed.notify_all()
