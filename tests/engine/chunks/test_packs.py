"""Packed records (``engine/chunks/packs.py``, store format 6): a large write's and a
journal compaction's records stored many to one LMDB value, a locator each in
``chunks``; garbage collection deletes dead packs and rewrites mostly dead ones; a
version 5 store (every record one value of ``chunks``) is read, written, collected
and checked beside them."""

from __future__ import annotations

import tempfile
from pathlib import Path

import lmdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.engine.chunks import LmdbChunkStore, lmdb_journal, lmdb_reader, packs
from arbordb.engine.chunks.journal import parse_batch
from arbordb.engine.chunks.lmdb_reader import SnapshotReader
from arbordb.engine.chunks.packs import decode_locator, is_locator
from arbordb.engine.db import REPO_DIR
from arbordb.engine.errors import CorruptChunk
from arbordb.engine.hash import address_of
from tests.engine.chunks.sample import label_rows
from tests.engine.stored import MAX_DBS, stored_records, unpack_all


def _layout(path) -> tuple[dict[bytes, tuple[int, int, int]], dict[int, bytes], int]:
    """(address -> locator of each packed record, pack number -> pack, how many
    ``chunks`` values are records) of the store at ``path``."""
    env = lmdb.open(str(path), max_dbs=MAX_DBS, readonly=True, lock=False)
    try:
        with env.begin(buffers=False) as txn:
            chunks_db = env.open_db(b"chunks", txn=txn, create=False)
            packs_db = env.open_db(b"packs", txn=txn, create=False)
            located, whole = {}, 0
            for address, value in txn.cursor(db=chunks_db):
                if is_locator(value):
                    located[address] = decode_locator(value)
                else:
                    whole += 1
            held = {int.from_bytes(k, "big"): v for k, v in txn.cursor(db=packs_db)}
        return located, held, whole
    finally:
        env.close()


def _check_packs(path) -> None:
    """Packs invariants (1)-(2) as garbage collection leaves them: every locator names
    a stored pack's range listing its address; no pack is dead, none mostly dead."""
    located, held, _ = _layout(path)
    live: dict[int, int] = {}
    for address, (number, start, end) in located.items():
        addresses, offsets = parse_batch(held[number])
        assert (address, start, end) in set(zip(addresses, offsets[:-1], offsets[1:], strict=True))
        live[number] = live.get(number, 0) + end - start
    for number, pack in held.items():
        _, offsets = parse_batch(pack)
        assert live.get(number, 0) >= packs.REWRITE_LIVE * (offsets[-1] - offsets[0])


def _chunk(i: int) -> bytes:
    """Chunk ``i``: a leaf (level byte 0) of family ``i % 3``, close to its family's
    other chunks so that a hinted write stores it as a delta."""
    family = np.random.default_rng(i % 3).integers(0, 256, 600 + 400 * (i % 3), np.uint8)
    body = bytearray(family.tobytes())
    body[1] = 0
    for k in range(4):
        body[(37 * i + 101 * k) % (len(body) - 2) + 2] = (i * 7 + k) % 256
    return bytes(body)


_ids = st.lists(st.integers(0, 40), min_size=1, max_size=12, unique=True)
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("put_many"), _ids, st.booleans()),
        st.tuples(st.just("hinted"), _ids),
        st.tuples(st.just("delete"), _ids),
        st.tuples(st.just("compact")),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=40, deadline=None)
@given(ops=_ops)
def test_packed_store_matches_a_dict_through_writes_deletes_and_compactions(ops):
    with (
        tempfile.TemporaryDirectory(prefix="packs-model-") as tmp,
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setattr(packs, "PACK_BYTES", 3000)  # a few records a pack: many packs
        mp.setattr(lmdb_journal, "PACK_BYTES", 3000)
        mp.setattr(lmdb_journal, "COMPACT_RECORDS", 20)  # the journal fills now and then
        model: dict[bytes, bytes] = {}
        gone: set[bytes] = set()
        with LmdbChunkStore(Path(tmp), delta_cache_bytes=0) as store:
            for op in ops:
                if op[0] == "put_many":
                    chunks = [_chunk(i) for i in op[1]]
                    assert store.put_many(chunks, bulk=op[2]) == [address_of(c) for c in chunks]
                elif op[0] == "hinted":  # deltas against chunks stored or not
                    chunks = [_chunk(i) for i in op[1]]
                    bases = [address_of(_chunk(i + 3)) for i in op[1]]
                    store.put_many(chunks, bases=bases, bulk=len(chunks) > 6)
                elif op[0] == "delete":
                    doomed = [address_of(_chunk(i)) for i in op[1]]
                    assert store.delete_many(doomed) == len(set(doomed) & model.keys())
                    for address in doomed:
                        model.pop(address, None)
                    gone.update(doomed)
                else:
                    store.compact()
                if op[0] in ("put_many", "hinted"):
                    for c in chunks:
                        model[address_of(c)] = c
                        gone.discard(address_of(c))
                addresses = list(model)
                assert store.get_many(addresses) == [model[a] for a in addresses]
                assert sorted(store.iter_addresses()) == sorted(model)
                assert not any(store.has_many(sorted(gone)))
                for address in addresses:
                    store.verify(address)
            store.compact()
        _check_packs(tmp)
        with LmdbChunkStore(Path(tmp), readonly=True) as store:
            assert store.get_many(list(model)) == list(model.values())


def _noise(seed: int, n: int) -> bytes:
    """``n`` incompressible bytes: stored raw."""
    return np.random.default_rng(seed).integers(0, 256, n, np.uint8).tobytes()


def test_a_bulk_write_is_packed_and_a_scan_reads_it_from_few_packs(tmp_path):
    chunks = [bytes([i % 251, 0]) + _noise(i, 7_000) for i in range(600)]  # 7 KiB records
    with LmdbChunkStore(tmp_path) as store:
        addresses = store.put_many(chunks, bulk=True)
        record_bytes = sum(len(c) + 9 for c in chunks)  # raw records: kind and xxh3
        assert store.stats()["packs"] == -(-record_bytes // packs.PACK_BYTES)
        assert store.get_many(addresses) == chunks
    located, held, whole = _layout(tmp_path)
    assert whole == 0 and located.keys() == set(addresses)
    assert sorted(located[a][0] for a in addresses) == [located[a][0] for a in addresses]


def test_gc_deletes_dead_packs_rewrites_mostly_dead_ones_and_keeps_the_rest(tmp_path):
    chunks = [bytes([i % 251, 1, i // 251]) + _noise(i, 5_000) for i in range(800)]
    with LmdbChunkStore(tmp_path) as store:
        addresses = store.put_many(chunks, bulk=True)
    before, _, _ = _layout(tmp_path)
    per_pack: dict[int, list[bytes]] = {}
    for a in addresses:
        per_pack.setdefault(before[a][0], []).append(a)
    first, second, third = sorted(per_pack)[:3]
    doomed = per_pack[first]  # all of one pack
    doomed += per_pack[second][: len(per_pack[second]) * 2 // 3]  # most of another
    doomed += per_pack[third][:2]  # a little of a third
    with LmdbChunkStore(tmp_path) as store:
        assert store.delete_many(doomed) == len(doomed)
        kept = [(a, c) for a, c in zip(addresses, chunks, strict=True) if a not in set(doomed)]
        assert store.get_many([a for a, _ in kept]) == [c for _, c in kept]
    after, held, _ = _layout(tmp_path)
    assert first not in held and second not in held and third in held
    moved = per_pack[second][len(per_pack[second]) * 2 // 3 :]
    assert all(after[a][0] > max(per_pack) for a in moved)  # into a new pack
    assert all(after[a] == before[a] for a in per_pack[third][2:])
    _check_packs(tmp_path)


def test_a_version_5_store_is_read_committed_to_collected_and_checked(tmp_path):
    first, second = label_rows(60_000, 1), label_rows(60_000, 2)
    path = tmp_path / "r"
    repo = arbordb.Repo(path)
    repo.write("t", first, primary_key=["id"])
    repo.commit("first")
    repo.write("t", second.slice(0, 500), primary_key=["id"], mode="upsert")
    repo.commit("second")
    repo.close()
    store_path = path / REPO_DIR
    with LmdbChunkStore(store_path) as store:
        store.compact()
    unpack_all(store_path)  # format 5's layout: every record one value of ``chunks``
    env = lmdb.open(str(store_path), max_dbs=MAX_DBS)
    with env.begin(write=True) as txn:
        txn.put(b"store/format_version", b"5", db=env.open_db(b"meta", txn=txn))
    env.close()
    old_records, _ = stored_records(store_path)

    with LmdbChunkStore(store_path, readonly=True) as store:  # read as it is
        assert store.get_meta("store/format_version") == b"5"
    expected = first.to_pylist()
    expected[:500] = second.slice(0, 500).to_pylist()
    repo = arbordb.Repo(path)
    assert repo.table("t").sort_by("id").to_pylist() == expected
    repo.write("t", label_rows(60_000, 3), primary_key=["id"], mode="upsert")  # a bulk write
    repo.commit("third")
    repo.checkout("scratch", create=True)  # chunks that only a deleted branch reaches
    repo.write("u", label_rows(30_000, 4), primary_key=["id"])
    repo.commit("scratch")
    repo.checkout("main")
    repo.delete_branch("scratch", force=True)
    repo.close()
    located, held, whole = _layout(store_path)
    assert located and held and whole  # packed and unpacked records side by side
    repo = arbordb.Repo(path)
    stats = repo.db.gc()
    assert stats["deleted"] > 0
    assert repo.db.fsck() == []
    assert repo.table("t").sort_by("id").to_pylist() == label_rows(60_000, 3).to_pylist()
    assert repo.table("t", as_of="HEAD~1").sort_by("id").to_pylist() == expected
    repo.close()
    with LmdbChunkStore(store_path) as store:
        assert store.get_meta("store/format_version") == b"6"
    records, _ = stored_records(store_path)
    assert records.keys() & old_records.keys()  # the old records still stored
    _check_packs(store_path)


def test_gc_of_a_dropped_load_deletes_its_packs_and_shrinks_the_file(tmp_path):
    path = tmp_path / "r"
    repo = arbordb.Repo(path)
    repo.write("t", label_rows(2_000, 5), primary_key=["id"])
    repo.commit("small")
    repo.checkout("big", create=True)
    repo.write("u", label_rows(200_000, 6), primary_key=["id"])  # a bulk load: packed
    repo.commit("big")
    repo.checkout("main")
    repo.delete_branch("big", force=True)
    repo.close()
    store_path = path / REPO_DIR
    _, held, _ = _layout(store_path)
    loaded = (store_path / "data.mdb").stat().st_size
    repo = arbordb.Repo(path)
    stats = repo.db.gc()
    assert stats["shrunk"] == 1 and stats["file_bytes"] < loaded / 4
    assert repo.db.fsck() == []
    assert repo.table("t").sort_by("id").to_pylist() == label_rows(2_000, 5).to_pylist()
    repo.close()
    _, left, _ = _layout(store_path)
    held_bytes, left_bytes = (sum(map(len, p.values())) for p in (held, left))
    assert left_bytes < held_bytes / 10  # the load's packs are gone
    _check_packs(store_path)


def test_a_block_read_fetches_each_pack_once(tmp_path, monkeypatch):
    """The scan's block read (``get_buffers`` over ``SnapshotReader.many``): one cursor
    call for the block's locators, then one fetch per pack, not one per record."""
    chunks = [bytes([i % 251, 0]) + _noise(i, 7_000) for i in range(400)]
    fetched: list[int] = []
    real_key = lmdb_reader.pack_key
    monkeypatch.setattr(lmdb_reader, "pack_key", lambda n: fetched.append(n) or real_key(n))
    with LmdbChunkStore(tmp_path) as store:
        addresses = store.put_many(chunks, bulk=True)
        records = store._read(
            lambda txn: [bytes(r) for r in SnapshotReader(store, txn).many(addresses)]
        )
        assert [r[9:] for r in records] == chunks  # raw records: kind and xxh3, then the chunk
        packed = store.stats()["packs"]
        assert packed >= 2 and sorted(fetched) == sorted(set(fetched)) == [*range(1, packed + 1)]


def test_a_block_read_takes_its_locators_at_once_and_still_names_a_missing_pack(
    tmp_path, monkeypatch
):
    """A bulk load's block (every address packed): its locators are read as one table,
    not followed one by one; a block with a missing pack falls back to the one-by-one
    path, which names the damaged chunk."""
    chunks = [bytes([i % 251, 0]) + _noise(i, 7_000) for i in range(300)]
    with LmdbChunkStore(tmp_path) as store:
        addresses = store.put_many(chunks, bulk=True)
        real_record = SnapshotReader.record

        def one_by_one(self, address, value):
            raise AssertionError("a packed block's locators are read at once")

        monkeypatch.setattr(SnapshotReader, "record", one_by_one)
        records = store._read(
            lambda txn: [bytes(r) for r in SnapshotReader(store, txn).many(addresses)]
        )
        assert [r[9:] for r in records] == chunks
        monkeypatch.setattr(SnapshotReader, "record", real_record)
    env = lmdb.open(str(tmp_path), max_dbs=MAX_DBS)
    with env.begin(write=True) as txn:
        txn.delete((1).to_bytes(8, "big"), db=env.open_db(b"packs", txn=txn))
    env.close()
    with LmdbChunkStore(tmp_path) as store:
        with pytest.raises(CorruptChunk, match="pack 1") as info:
            store._read(lambda txn: SnapshotReader(store, txn).many(addresses))
        assert info.value.address == addresses[0]


def test_a_missing_pack_is_reported_as_corruption_of_its_chunks(tmp_path):
    chunks = [bytes([i % 251, 0]) + _noise(i, 7_000) for i in range(4)]
    with LmdbChunkStore(tmp_path) as store:
        addresses = store.put_many(chunks, bulk=True)
    env = lmdb.open(str(tmp_path), max_dbs=MAX_DBS)
    with env.begin(write=True) as txn:
        txn.delete((1).to_bytes(8, "big"), db=env.open_db(b"packs", txn=txn))
    env.close()
    with LmdbChunkStore(tmp_path) as store:
        for read in (store.get, lambda a: store.get_many([a]), store.verify):
            with pytest.raises(CorruptChunk, match="pack 1") as info:
                read(addresses[2])
            assert info.value.address == addresses[2]
        assert store.has(addresses[2])  # present, but unreadable: fsck reports it
