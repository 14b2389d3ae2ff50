"""The chunk journal of ``LmdbChunkStore``: small writes land as one batch, every
handle finds them through its index, and compaction moves them into ``chunks``
without changing what any reader sees."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import lmdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.chunks import LmdbChunkStore, lmdb_journal, lmdb_reader
from arbordb.engine.chunks.journal import encode_batch, parse_batch
from arbordb.engine.errors import StorageError
from arbordb.engine.hash import address_of


def small(i: int) -> bytes:
    return b"small chunk %d" % i


def test_batch_round_trip_and_refusals():
    records = {address_of(small(i)): small(i) * (i + 1) for i in range(5)}
    addresses, offsets = parse_batch(encode_batch(records))
    batch = encode_batch(records)
    assert addresses == list(records)
    assert [batch[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)] == list(
        records.values()
    )
    with pytest.raises(StorageError, match="cut inside its header"):
        parse_batch(batch[:30])
    with pytest.raises(StorageError, match="do not tile"):
        parse_batch(batch[:-1])


def test_small_writes_are_journaled_then_compacted(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        addresses = store.put_many([small(i) for i in range(10)])
        assert store.stats()["journaled"] == 10 and store.stats()["chunks"] == 10
        assert store.get_many(addresses) == [small(i) for i in range(10)]
        assert store.has_many([*addresses, address_of(b"absent")]) == [True] * 10 + [False]
        assert store.compact() == 10
        assert store.stats()["journaled"] == 0 and store.stats()["chunks"] == 10
        assert store.get_many(addresses) == [small(i) for i in range(10)]
        assert store.compact() == 0
    with LmdbChunkStore(tmp_path, readonly=True) as store:
        assert store.get_many(addresses) == [small(i) for i in range(10)]


def test_storing_again_writes_nothing_wherever_the_record_is(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        (a,) = store.put_many([small(1)])
        store.put_many([small(1), small(2)])
        assert store.stats()["chunks"] == 2
        store.compact()
        store.put_many([small(1)])
        assert (store.stats()["chunks"], store.stats()["journaled"]) == (2, 0)
        assert store.get(a) == small(1)


def test_large_write_goes_straight_to_a_pack(tmp_path, monkeypatch):
    monkeypatch.setattr(lmdb_journal, "BATCH_MAX_BYTES", 100)
    with LmdbChunkStore(tmp_path) as store:
        addresses = store.put_many([small(i) * 10 for i in range(5)])
        assert (store.stats()["journaled"], store.stats()["packs"]) == (0, 1)
        assert store.get_many(addresses) == [small(i) * 10 for i in range(5)]


def test_a_full_journal_is_compacted_by_the_write_that_overflows_it(tmp_path, monkeypatch):
    monkeypatch.setattr(lmdb_journal, "COMPACT_RECORDS", 10)
    with LmdbChunkStore(tmp_path) as store:
        first = store.put_many([small(i) for i in range(6)])
        assert store.stats()["journaled"] == 6
        second = store.put_many([small(i) for i in range(6, 12)])
        assert store.stats()["journaled"] == 0 and store.stats()["chunks"] == 12
        assert store.stats()["packs"] == 1  # the journal's records and the write's
        third = store.put_many([small(12)])
        assert store.stats()["journaled"] == 1
        assert store.get_many(first + second + third) == [small(i) for i in range(13)]


def test_prefixes_and_iteration_see_journaled_chunks(tmp_path):
    from arbordb.engine.hash import format_address

    with LmdbChunkStore(tmp_path) as store:
        stored = store.put_many([small(i) for i in range(3)])
        store.compact()
        journaled = store.put_many([small(i) for i in range(3, 6)])
        assert sorted(store.iter_addresses()) == sorted(stored + journaled)
        for address in stored + journaled:
            assert store.resolve_prefix(format_address(address)[:12]) == address


def test_delete_many_compacts_then_deletes(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        kept, doomed = store.put_many([small(1), small(2)])
        assert store.delete_many([doomed]) == 1
        assert store.has_many([kept, doomed]) == [True, False]
        assert (store.stats()["chunks"], store.stats()["journaled"]) == (1, 0)


def test_damaged_batch_is_named_by_a_new_handle(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        (a,) = store.put_many([small(1)])
    env = lmdb.open(str(tmp_path), max_dbs=4)
    with env.begin(write=True, db=env.open_db(b"journal")) as txn:
        key, batch = next(iter(txn.cursor()))
        txn.put(key, batch[:10])
    env.close()
    with (
        LmdbChunkStore(tmp_path) as store,
        pytest.raises(StorageError, match="damaged journal batch 1"),
    ):
        store.get(a)


WRITER = """
    import sys
    from arbordb.engine.chunks import LmdbChunkStore
    store = LmdbChunkStore(sys.argv[1])
    for line in sys.stdin:
        if line.startswith("compact"):
            store.compact()
        else:
            store.put_many([line.strip().encode()])
        print("ok", flush=True)
"""


def test_another_process_sees_journaled_chunks_across_its_compactions(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WRITER), str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

        def tell(line: str) -> None:
            child.stdin.write(line + "\n")
            child.stdin.flush()
            assert child.stdout.readline() == "ok\n"

        try:
            assert not store.has(address_of(b"one"))
            tell("one")
            assert store.get(address_of(b"one")) == b"one"  # a miss refreshes the index
            tell("compact")
            tell("two")
            assert store.get_many([address_of(b"one"), address_of(b"two")]) == [b"one", b"two"]
            assert store.stats()["journaled"] == 1
        finally:
            child.stdin.close()
            assert child.wait(timeout=60) == 0


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.lists(st.integers(0, 30), min_size=1, max_size=8)),
        st.tuples(st.just("delete"), st.lists(st.integers(0, 30), max_size=4)),
        st.tuples(st.just("compact"), st.just([])),
        st.tuples(st.just("reopen"), st.just([])),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(ops=OPS)
def test_store_with_journal_matches_a_set_model(tmp_path_factory, ops):
    path = tmp_path_factory.mktemp("journal")
    model: set[int] = set()
    saved = lmdb_journal.COMPACT_RECORDS
    lmdb_journal.COMPACT_RECORDS = 12  # compactions happen inside the run
    store = LmdbChunkStore(path)
    try:
        for op, items in ops:
            if op == "put":
                store.put_many([small(i) for i in items])
                model |= set(items)
            elif op == "delete":
                store.delete_many([address_of(small(i)) for i in items])
                model -= set(items)
            elif op == "compact":
                store.compact()
            else:
                store.close()
                store = LmdbChunkStore(path)
            everything = range(31)
            assert store.has_many([address_of(small(i)) for i in everything]) == [
                i in model for i in everything
            ]
            assert store.stats()["chunks"] == len(model)
        assert sorted(store.iter_addresses()) == sorted(address_of(small(i)) for i in model)
        assert store.get_many([address_of(small(i)) for i in sorted(model)]) == [
            small(i) for i in sorted(model)
        ]
    finally:
        store.close()
        lmdb_journal.COMPACT_RECORDS = saved


def test_a_write_between_snapshot_and_commit_is_not_stored_twice(tmp_path, monkeypatch):
    """A write plans its records on a snapshot and skips looking them up again only
    when no other write committed since; here one did, storing the same chunk."""
    with LmdbChunkStore(tmp_path) as store:
        (base,) = store.put_many([small(0) * 100])
        real = store._records
        racing = [small(1) * 100]

        def records_then_race(*args):
            planned = real(*args)
            if racing:
                store.put_many([racing.pop()])  # commits between the snapshot and our write
            return planned

        monkeypatch.setattr(store, "_records", records_then_race)
        store.put_many([small(1) * 100], bases=[base])
        assert store.stats()["chunks"] == 2
        assert store.get(address_of(small(1) * 100)) == small(1) * 100


def test_damaged_journal_state_refuses_the_write_and_changes_nothing(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        (a,) = store.put_many([small(1)])
    env = lmdb.open(str(tmp_path), max_dbs=4)
    with env.begin(write=True, db=env.open_db(b"meta")) as txn:
        txn.put(b"store/journal", b"short")
    env.close()
    with LmdbChunkStore(tmp_path) as store:
        with pytest.raises(StorageError, match="damaged journal state"):
            store.put_many([small(2)])
        assert store.has_many([a, address_of(small(2))]) == [True, False]


class _CountingTxn:
    """A read transaction whose journal cursors count the batch keys they step over."""

    def __init__(self, txn) -> None:
        self._txn = txn
        self.keys_read = 0

    def cursor(self, db):
        return _CountingCursor(self._txn.cursor(db=db), self)

    def __getattr__(self, name):
        return getattr(self._txn, name)


class _CountingCursor:
    def __init__(self, cursor, owner: _CountingTxn) -> None:
        self._cursor = cursor
        self._owner = owner

    def iternext(self, keys=True, values=True):
        for item in self._cursor.iternext(keys=keys, values=values):
            self._owner.keys_read += 1
            yield item

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def test_an_index_refresh_reads_only_the_batches_added_since_the_last(tmp_path):
    """A handle looks for an absent chunk by refreshing its journal index; with
    thousands of commits in the journal that must cost the new batches, not all of
    them (else every commit grows slower with the history)."""
    with LmdbChunkStore(tmp_path) as writer, LmdbChunkStore(tmp_path) as other:
        for i in range(200):
            writer.put_many([small(i)])
        absent = address_of(b"never stored")
        assert not other.has(absent)  # the first refresh of this handle reads every batch
        for i in range(200, 203):
            writer.put_many([small(i)])

        def look(txn):
            counting = _CountingTxn(txn)
            reader = lmdb_reader.SnapshotReader(other, counting)
            return reader(absent), bytes(reader(address_of(small(201)))), counting.keys_read

        missing, found, keys_read = other._read(look)
        assert missing is None and found
        assert keys_read <= 3
        assert all(other.get(address_of(small(i))) == small(i) for i in range(203))
