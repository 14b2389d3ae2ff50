"""LMDB-specific behaviour of ``LmdbChunkStore``: what the conformance suite cannot
show with one in-process handle (persistence, corrupt records, map growth, several
processes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import lmdb
import numpy as np
import pytest

from arbordb.engine.chunks import LmdbChunkStore, RefUpdate
from arbordb.engine.chunks.lmdb_format import FORMAT_VERSION
from arbordb.engine.chunks.records import encode_record
from arbordb.engine.errors import CorruptChunk, FormatVersionError, MissingChunk, StorageError
from arbordb.engine.hash import address_of
from tests.engine.stored import replace_record

TINY_MAP = 256 << 10  # a few dozen 16 KiB chunks fill it


def chunk16k(i: int) -> bytes:
    return i.to_bytes(4, "little") * 4096


def poke(path, db: bytes, key: bytes, change) -> None:
    """Replace the raw LMDB value under ``key`` with ``change(old value)``, once the
    journal's records are all in ``chunks`` (a chunk's record, packed or not, becomes
    an unpacked one)."""
    with LmdbChunkStore(path) as store:
        store.compact()
    if db == b"chunks":
        replace_record(path, key, change)
        return
    env = lmdb.open(str(path), max_dbs=5)
    try:
        handle = env.open_db(db)
        with env.begin(write=True, db=handle) as txn:
            txn.put(key, change(txn.get(key)))
    finally:
        env.close()


def spawn(script: str, *args: object) -> subprocess.Popen[str]:
    """A Python child running ``script`` with ``args`` as argv[1:], line-buffered text pipes."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def finish(child: subprocess.Popen[str]) -> str:
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0, out
    return out


# --- persistence and opening -------------------------------------------------------


def test_reopen_keeps_chunks_refs_and_meta(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        addresses = store.put_many([b"one", b"two"])
        assert store.commit({}, [RefUpdate("refs/heads/main", None, addresses[0])])
        store.set_meta("config", b"x")
    with LmdbChunkStore(tmp_path) as store:
        assert store.get_many(addresses) == [b"one", b"two"]
        assert store.list_refs() == {"refs/heads/main": addresses[0]}
        assert store.get_meta("config") == b"x"
        assert store.get_meta("store/format_version") == str(FORMAT_VERSION).encode()


def test_readonly_handle_reads_and_refuses_writes(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        address = store.put(b"data")
    with LmdbChunkStore(tmp_path, readonly=True) as store:
        assert store.get(address) == b"data"
        with pytest.raises(StorageError, match="read-only"):
            store.put(b"more")
    with pytest.raises(StorageError, match="cannot open"):
        LmdbChunkStore(tmp_path / "absent", readonly=True)


def test_other_format_version_refuses_to_open(tmp_path):
    LmdbChunkStore(tmp_path).close()
    poke(tmp_path, b"meta", b"store/format_version", lambda old: b"99")
    with pytest.raises(FormatVersionError) as info:
        LmdbChunkStore(tmp_path)
    assert (info.value.found, info.value.supported) == (99, FORMAT_VERSION)


@pytest.mark.parametrize("damaged", [b"7\x00", b"", b"6 ", b"\xb6"])
def test_a_format_version_that_is_no_number_is_damage_not_a_newer_store(tmp_path, damaged):
    LmdbChunkStore(tmp_path).close()
    poke(tmp_path, b"meta", b"store/format_version", lambda old: damaged)  # a flipped bit
    with pytest.raises(StorageError) as info:
        LmdbChunkStore(tmp_path)
    assert not isinstance(info.value, FormatVersionError)
    assert "damaged" in str(info.value) and "restore the repository" in str(info.value)
    env = lmdb.open(str(tmp_path), max_dbs=5, readonly=True)
    try:  # the refusal wrote nothing: the damaged value is still there
        with env.begin(db=env.open_db(b"meta", create=False)) as txn:
            assert txn.get(b"store/format_version") == damaged
    finally:
        env.close()


def test_store_meta_keys_are_reserved(tmp_path):
    with LmdbChunkStore(tmp_path) as store, pytest.raises(StorageError, match="reserved"):
        store.set_meta("store/format_version", b"2")


def test_closed_store_raises_storage_error(tmp_path):
    store = LmdbChunkStore(tmp_path)
    store.close()
    with pytest.raises(StorageError):
        store.get(address_of(b"x"))


# --- corrupt records ----------------------------------------------------------------

DAMAGE = {
    "body byte flipped": lambda r: r[:20] + bytes([r[20] ^ 0x01]) + r[21:],
    "checksum byte flipped": lambda r: r[:3] + bytes([r[3] ^ 0x80]) + r[4:],
    "reserved zstd kind": lambda r: b"\x01" + r[1:],
    "unknown kind": lambda r: b"\x07" + r[1:],
    "truncated header": lambda r: r[:5],
    "empty record": lambda r: b"",
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_record_raises_corrupt_chunk_naming_it(tmp_path, damage):
    with LmdbChunkStore(tmp_path) as store:
        bad, good = store.put_many([bytes(range(200)), b"intact"])
    poke(tmp_path, b"chunks", bad, DAMAGE[damage])
    with LmdbChunkStore(tmp_path) as store:
        for read in (store.get, lambda a: store.get_many([good, a]), store.verify):
            with pytest.raises(CorruptChunk) as info:
                read(bad)
            assert info.value.address == bad
        assert store.get(good) == b"intact"
        assert store.has(bad)  # present, but unreadable: fsck reports it


def test_verify_catches_bytes_filed_under_another_address(tmp_path):
    # A well-formed record with a valid checksum, but for other bytes: only BLAKE3 sees it.
    with LmdbChunkStore(tmp_path) as store:
        address = store.put(b"original")
    poke(tmp_path, b"chunks", address, lambda old: encode_record(b"imposter"))
    with LmdbChunkStore(tmp_path) as store, pytest.raises(CorruptChunk, match="BLAKE3"):
        store.verify(address)


# --- map growth -------------------------------------------------------------------


def test_writes_larger_than_the_map_grow_it(tmp_path):
    chunks = [chunk16k(i) for i in range(120)]  # ~2 MiB, 8x the initial map
    with LmdbChunkStore(tmp_path, map_size=TINY_MAP) as store:
        addresses = store.put_many(chunks[:80])
        last = {address_of(c): c for c in chunks[80:119]}
        assert store.commit(last, [RefUpdate("r", None, address_of(chunks[118]))])
        addresses += list(last) + [store.put(chunks[119])]
        assert store.stats()["map_size"] > TINY_MAP
        assert store.get_many(addresses) == chunks
    with LmdbChunkStore(tmp_path, map_size=TINY_MAP) as store:  # reopen: file > asked map
        assert store.get_many(addresses) == chunks


def test_growth_while_threads_read(tmp_path):
    with LmdbChunkStore(tmp_path, map_size=TINY_MAP) as store:
        seed = store.put_many([chunk16k(i) for i in range(4)])
        errors: list[BaseException] = []
        done = threading.Event()

        def reader() -> None:
            try:
                while not done.is_set():
                    assert store.get_many(seed) == [chunk16k(i) for i in range(4)]
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(3)]
        for thread in threads:
            thread.start()
        for i in range(4, 160, 8):  # ~2.5 MiB in small writes: several doublings
            store.put_many([chunk16k(j) for j in range(i, i + 8)])
        done.set()
        for thread in threads:
            thread.join()
        assert not errors
        assert store.stats()["chunks"] == 164


GROW_SCRIPT = """
    import sys
    from arbordb.engine.chunks import LmdbChunkStore
    store = LmdbChunkStore(sys.argv[1], map_size=int(sys.argv[2]))
    store.put_many([i.to_bytes(4, "little") * 4096 for i in range(1000, 1150)])
    print(store.stats()["map_size"])
"""


def test_map_grown_by_another_process_is_adopted(tmp_path):
    with LmdbChunkStore(tmp_path, map_size=TINY_MAP) as store:
        mine = store.put(chunk16k(1))
        grown = int(finish(spawn(GROW_SCRIPT, tmp_path, TINY_MAP)))
        assert grown > TINY_MAP
        theirs = address_of(chunk16k(1149))
        assert store.get(theirs) == chunk16k(1149)  # LMDB: MapResizedError, then adopted
        assert store.put(chunk16k(2)) and store.get(mine) == chunk16k(1)
        assert store.stats()["chunks"] == 152


# --- several processes ---------------------------------------------------------------

CAS_SCRIPT = """
    import sys
    from arbordb.engine.chunks import LmdbChunkStore, RefUpdate
    from arbordb.engine.hash import address_of
    store = LmdbChunkStore(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()  # start together with the other process
    lost = 0
    for _ in range(int(sys.argv[2])):
        while True:
            current = store.get_ref("counter")
            data = str(int(store.get(current)) + 1).encode()
            if store.commit(
                {address_of(data): data}, [RefUpdate("counter", current, address_of(data))]
            ):
                break
            lost += 1
    print(lost)
"""


def test_two_processes_compare_and_swap_lose_no_update(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        zero = store.put(b"0")
        assert store.commit({}, [RefUpdate("counter", None, zero)])
        children = [spawn(CAS_SCRIPT, tmp_path, 50) for _ in range(2)]
        for child in children:
            assert child.stdout.readline() == "ready\n"
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            int(finish(child).strip())  # lost races, retried
        assert store.get(store.get_ref("counter")) == b"100"


WRITER_SCRIPT = """
    import sys
    from arbordb.engine.chunks import LmdbChunkStore, RefUpdate
    from arbordb.engine.hash import address_of
    store = LmdbChunkStore(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(1, int(sys.argv[2]) + 1):
        old, new = str(i - 1).encode() * 1000, str(i).encode() * 1000
        updates = [RefUpdate(name, address_of(old), address_of(new)) for name in ("a", "b")]
        assert store.commit({address_of(new): new}, updates)
"""


def test_reader_sees_consistent_states_while_another_process_writes(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        first = store.put(b"0" * 1000)
        assert store.commit({}, [RefUpdate("a", None, first), RefUpdate("b", None, first)])
        writer = spawn(WRITER_SCRIPT, tmp_path, 150)
        assert writer.stdout.readline() == "ready\n"
        writer.stdin.write("go\n")
        writer.stdin.flush()
        seen = set()
        while writer.poll() is None:
            refs = store.list_refs()
            assert refs["a"] == refs["b"]  # both refs move in one transaction
            data = store.get(refs["a"])  # the chunk landed with the refs
            seen.add(int(data[: len(data) // 1000]))
        finish(writer)
        assert store.get(store.get_ref("a")) == b"150" * 1000
        assert len(seen) > 1  # the reader ran while the writer committed


def test_missing_chunk_after_delete_many(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        address = store.put(b"gone soon")
        assert store.delete_many([address]) == 1
    with LmdbChunkStore(tmp_path) as store, pytest.raises(MissingChunk):
        store.get(address)


def test_map_full_inside_a_write_aborts_grows_and_retries(tmp_path, monkeypatch):
    with LmdbChunkStore(tmp_path, map_size=TINY_MAP) as store:
        monkeypatch.setattr(store, "_make_room", lambda size: None)  # force invariant (4)'s path
        rng = np.random.default_rng(0)  # incompressible: the records fill the map
        chunks = [rng.bytes(16_384) for _ in range(40)]
        addresses = store.put_many(chunks)
        assert store.commit({address_of(b"x"): b"x"}, [RefUpdate("r", None, addresses[-1])])
        assert store.get_many(addresses) == chunks
        assert store.stats()["map_size"] >= 4 * TINY_MAP


def test_lost_races_do_not_stall_behind_busy_readers(tmp_path):
    # py-lmdb 3 makes an abort wait for in-flight reads; the store drains them first.
    with LmdbChunkStore(tmp_path) as store:
        seed = store.put_many([chunk16k(i) for i in range(4)])
        assert store.commit({}, [RefUpdate("r", None, seed[0])])
        done = threading.Event()

        def reader() -> None:
            while not done.is_set():
                store.get_many(seed)

        threads = [threading.Thread(target=reader) for _ in range(3)]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        try:
            for _ in range(20):
                assert store.commit({}, [RefUpdate("r", seed[1], seed[2])]) is False
        finally:
            done.set()
            for thread in threads:
                thread.join()
        assert time.monotonic() - started < 10  # undrained, each abort stalls for seconds
