"""Run the chunk store conformance suite over every store and wrapper, and test the
wrappers' own behaviour (write buffering, injected faults)."""

from __future__ import annotations

import threading

import pytest

from arbordb.engine.chunks import BufferedChunkStore, LmdbChunkStore, MemoryChunkStore, RefUpdate
from arbordb.engine.hash import address_of
from tests.engine.conformance.chunk_store_suite import ChunkStoreSuite, blob
from tests.engine.faults import FaultyChunkStore

STORES = {
    "memory": lambda tmp_path: MemoryChunkStore(),
    "lmdb": lambda tmp_path: LmdbChunkStore(tmp_path / "store", check_addresses=True),
    "faulty-memory": lambda tmp_path: FaultyChunkStore(MemoryChunkStore()),
    "faulty-dropping-memory": lambda tmp_path: FaultyChunkStore(
        MemoryChunkStore(), drop_unflushed=True
    ),
    "buffered-memory": lambda tmp_path: BufferedChunkStore(MemoryChunkStore()),
    "buffered-lmdb": lambda tmp_path: BufferedChunkStore(
        LmdbChunkStore(tmp_path / "store", check_addresses=True)
    ),
}


@pytest.fixture(params=list(STORES))
def store(request, tmp_path):
    made = STORES[request.param](tmp_path)
    yield made
    made.close()


class TestChunkStores(ChunkStoreSuite):
    pass


# a write buffer (and a fault wrapper that drops unflushed puts) belongs to one thread
THREAD_SAFE = ["memory", "lmdb", "faulty-memory"]


@pytest.mark.parametrize("name", THREAD_SAFE)
def test_concurrent_compare_and_swap_loses_no_update(name, tmp_path):
    store = STORES[name](tmp_path)
    zero = store.put(b"0")
    assert store.commit({}, [RefUpdate("counter", None, zero)])

    def increment(times: int) -> None:
        for _ in range(times):
            while True:
                current = store.get_ref("counter")
                data = str(int(store.get(current)) + 1).encode()
                update = RefUpdate("counter", current, address_of(data))
                if store.commit({address_of(data): data}, [update]):
                    break

    threads = [threading.Thread(target=increment, args=(25,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get(store.get_ref("counter")) == b"100"
    store.close()


# --- BufferedChunkStore -------------------------------------------------------------


def test_buffered_puts_reach_inner_only_on_flush():
    inner = MemoryChunkStore()
    buffered = BufferedChunkStore(inner)
    a, b = buffered.put_many([blob(1), blob(2)])
    assert buffered.has(a) and buffered.get(b) == blob(2)
    assert not inner.has(a)
    assert (buffered.pending_count, buffered.pending_bytes) == (2, len(blob(1)) + len(blob(2)))
    assert buffered.flush([RefUpdate("r", None, a)])
    assert inner.get_many([a, b]) == [blob(1), blob(2)]
    assert inner.get_ref("r") == a
    assert buffered.pending_count == 0


def test_buffered_flush_is_one_inner_commit():
    inner = FaultyChunkStore(MemoryChunkStore())
    buffered = BufferedChunkStore(inner)
    for i in range(10):
        buffered.put(blob(i))
    assert buffered.flush()
    assert inner.write_calls == 1


def test_buffered_lost_race_keeps_pending_for_retry():
    inner = MemoryChunkStore()
    theirs = inner.put(b"theirs")
    assert inner.commit({}, [RefUpdate("r", None, theirs)])
    buffered = BufferedChunkStore(inner)
    mine = buffered.put(b"mine")
    assert buffered.flush([RefUpdate("r", None, mine)]) is False
    assert buffered.pending_count == 1 and not inner.has(mine)
    assert buffered.flush([RefUpdate("r", inner.get_ref("r"), mine)])  # re-read, retry
    assert inner.get_ref("r") == mine


def test_buffered_discard_and_close_drop_pending():
    inner = MemoryChunkStore()
    buffered = BufferedChunkStore(inner)
    address = buffered.put(blob(1))
    buffered.discard()
    assert not buffered.has(address)
    buffered.put(blob(2))
    buffered.close()
    assert inner.stats()["chunks"] == 0


def test_buffered_reads_merge_pending_and_inner():
    inner = MemoryChunkStore()
    stored = inner.put(blob(1))
    buffered = BufferedChunkStore(inner)
    pending = buffered.put(blob(2))
    assert buffered.get_many([pending, stored]) == [blob(2), blob(1)]
    assert buffered.has_many([stored, pending]) == [True, True]
    assert list(buffered.iter_addresses()) == sorted([stored, pending])
    buffered.put(blob(1))  # pending and stored at once: counted once
    assert buffered.stats()["chunks"] == 2
    assert list(buffered.iter_addresses()) == sorted([stored, pending])


# --- FaultyChunkStore ---------------------------------------------------------------


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_faulty_store_fails_the_nth_write_and_writes_nothing_of_it(fail_at):
    inner = MemoryChunkStore()
    faulty = FaultyChunkStore(inner, fail_at=fail_at)
    data = [blob(i) for i in range(3)]
    calls = [
        lambda: faulty.put(data[0]),
        lambda: faulty.put_many([data[1]]),
        lambda: faulty.commit(
            {address_of(data[2]): data[2]}, [RefUpdate("r", None, address_of(data[2]))]
        ),
    ]
    for number, call in enumerate(calls, start=1):
        if number == fail_at:
            with pytest.raises(OSError):
                call()
        else:
            call()
    present = inner.has_many([address_of(d) for d in data])
    assert present == [number != fail_at for number in (1, 2, 3)]
    assert (inner.get_ref("r") is None) == (fail_at == 3)
    assert faulty.write_calls == 3


def test_faulty_store_counts_every_kind_of_write():
    faulty = FaultyChunkStore(MemoryChunkStore(), fail_at=5)
    address = faulty.put(b"a")
    faulty.put_many([b"b"])
    faulty.commit({}, [RefUpdate("r", None, address)])
    faulty.set_meta("k", b"v")
    with pytest.raises(OSError):
        faulty.delete_many([address])
    assert faulty.has(address)
    faulty.get(address), faulty.list_refs(), faulty.get_meta("k")  # reads are not counted
    assert faulty.write_calls == 5


def test_faulty_store_crash_drops_unflushed_puts():
    inner = MemoryChunkStore()
    faulty = FaultyChunkStore(inner, drop_unflushed=True)
    kept = faulty.put(blob(1))
    assert faulty.commit({}, [RefUpdate("r", None, kept)])
    lost = faulty.put(blob(2))
    assert faulty.get(lost) == blob(2)  # visible to the writer before the crash
    assert not inner.has(lost)
    faulty.crash()
    assert not faulty.has(lost)
    assert faulty.get(kept) == blob(1) and faulty.get_ref("r") == kept


def test_faulty_store_crash_after_failed_commit_keeps_old_state():
    inner = MemoryChunkStore()
    faulty = FaultyChunkStore(inner, fail_at=4, drop_unflushed=True)
    old = faulty.put(blob(1))
    assert faulty.commit({}, [RefUpdate("r", None, old)])
    new = faulty.put(blob(2))
    with pytest.raises(OSError):
        faulty.commit({}, [RefUpdate("r", old, new)])
    faulty.crash()
    assert inner.get_ref("r") == old
    assert inner.has_many([old, new]) == [True, False]
