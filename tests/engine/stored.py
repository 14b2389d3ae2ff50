"""Reading and damaging an LMDB chunk store's records from outside the store (tests):
wherever a record lives, in ``chunks`` whole, in a pack behind a locator, or in a
journal batch (``engine/chunks/lmdb_store.py``'s layout)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lmdb

from arbordb.engine.chunks.journal import parse_batch
from arbordb.engine.chunks.packs import decode_locator, is_locator, pack_key

MAX_DBS = 5  # chunks, journal, refs, meta, packs


def _open(txn: lmdb.Transaction, env: lmdb.Environment, name: bytes):
    try:
        return env.open_db(name, txn=txn, create=False)
    except lmdb.NotFoundError:
        return None


def stored_records(path: str | Path) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
    """(the records ``chunks`` holds, a packed one read from its pack; the records
    journal batches hold) of the store at ``path``."""
    env = lmdb.open(str(path), max_dbs=MAX_DBS, readonly=True, lock=False)
    try:
        with env.begin(buffers=False) as txn:
            chunks_db, journal_db = _open(txn, env, b"chunks"), _open(txn, env, b"journal")
            packs_db = _open(txn, env, b"packs")
            chunks: dict[bytes, bytes] = {}
            for address, value in txn.cursor(db=chunks_db):
                if is_locator(value):
                    number, start, end = decode_locator(value)
                    value = txn.get(pack_key(number), db=packs_db)[start:end]
                chunks[address] = value
            journaled: dict[bytes, bytes] = {}
            if journal_db is not None:
                for batch in txn.cursor(db=journal_db).iternext(keys=False):
                    addresses, offsets = parse_batch(batch)
                    for a, s, e in zip(addresses, offsets[:-1], offsets[1:], strict=True):
                        journaled[a] = batch[s:e]
        return chunks, journaled
    finally:
        env.close()


def record_kinds(path: str | Path) -> dict[int, int]:
    """How many records of each kind the store at ``path`` holds outside the journal."""
    counts: dict[int, int] = {}
    for record in stored_records(path)[0].values():
        counts[record[0]] = counts.get(record[0], 0) + 1
    return counts


def replace_record(
    path: str | Path, address: bytes, change: Callable[[bytes], bytes | None]
) -> None:
    """Store ``change(record)`` as ``address``'s record, unpacked in ``chunks`` (None:
    delete it), behind the store's back. The record must be outside the journal
    (``LmdbChunkStore.compact`` first)."""
    env = lmdb.open(str(path), max_dbs=MAX_DBS)
    try:
        with env.begin(write=True) as txn:
            chunks_db, packs_db = _open(txn, env, b"chunks"), _open(txn, env, b"packs")
            value = txn.get(address, db=chunks_db)
            assert value is not None, "replace_record: the address is not in chunks"
            if is_locator(value):
                number, start, end = decode_locator(value)
                value = txn.get(pack_key(number), db=packs_db)[start:end]
            new = change(value)
            if new is None:
                txn.delete(address, db=chunks_db)
            else:
                txn.put(address, new, db=chunks_db)
    finally:
        env.close()


def unpack_all(path: str | Path) -> None:
    """Rewrite the store at ``path`` (journal compacted) in format 5's layout: every
    record one value of ``chunks``, no ``packs`` sub-database."""
    records, journaled = stored_records(path)
    assert not journaled, "unpack_all: compact the journal first"
    env = lmdb.open(str(path), max_dbs=MAX_DBS)
    try:
        with env.begin(write=True) as txn:
            chunks_db, packs_db = _open(txn, env, b"chunks"), _open(txn, env, b"packs")
            for address, record in records.items():
                txn.put(address, record, db=chunks_db)
            if packs_db is not None:
                txn.drop(packs_db, delete=True)
    finally:
        env.close()
