"""The ``ChunkStore`` conformance suite, written once for every store and wrapper.

``test_chunk_stores.py`` subclasses ``ChunkStoreSuite`` and provides a ``store``
fixture per implementation. What only thread-safe stores promise (concurrent
compare-and-swap) is tested there, over those stores alone: a write buffer belongs
to one thread by contract.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbordb.engine.chunks.store import ChunkStore, RefUpdate
from arbordb.engine.errors import (
    AmbiguousPrefix,
    InvalidAddress,
    InvalidInput,
    MissingChunk,
)
from arbordb.engine.hash import (
    ADDRESS_LEN,
    address_of,
    addresses_of,
    format_address,
)

ABSENT = address_of(b"never stored in any test")


def blob(i: int, size: int = 48) -> bytes:
    """Distinct, deterministic chunk bytes."""
    return (f"chunk {i}:".encode() * size)[:size]


class ChunkStoreSuite:
    """Behaviour every ``ChunkStore`` must show. Needs a ``store`` fixture."""

    # --- chunks -------------------------------------------------------------------

    def test_satisfies_protocol(self, store):
        assert isinstance(store, ChunkStore)

    def test_put_get_round_trip(self, store):
        for data in (b"", b"x", blob(1), bytes(range(256)) * 400):
            address = store.put(data)
            assert address == address_of(data)
            got = store.get(address)
            assert got == data
            assert type(got) is bytes

    def test_put_copies_mutable_input(self, store):
        data = bytearray(b"mutable")
        address = store.put(data)
        data[0] = ord("M")
        assert store.get(address) == b"mutable"

    def test_put_many_returns_addresses_in_order(self, store):
        chunks = [blob(i) for i in range(20)] + [blob(3)]
        addresses = store.put_many(chunks)
        assert addresses == addresses_of(chunks)
        assert store.get_many(addresses) == chunks
        assert store.put_many([]) == []

    def test_get_many_keeps_request_order_and_repeats(self, store):
        a, b = store.put_many([blob(1), blob(2)])
        assert store.get_many([b, a, b]) == [blob(2), blob(1), blob(2)]
        assert store.get_many([]) == []

    def test_identical_chunks_are_stored_once(self, store):
        before = store.stats()["chunks"]
        first = store.put(blob(7))
        assert store.put(blob(7)) == first
        assert store.put_many([blob(7), blob(7)]) == [first, first]
        assert store.commit({first: blob(7)})
        assert store.stats()["chunks"] == before + 1

    def test_has_and_has_many(self, store):
        address = store.put(blob(1))
        assert store.has(address)
        assert not store.has(ABSENT)
        assert store.has_many([ABSENT, address, address]) == [False, True, True]
        assert store.has_many([]) == []

    def test_missing_chunk_raises_missing_chunk_naming_it(self, store):
        with pytest.raises(MissingChunk) as info:
            store.get(ABSENT)
        assert info.value.address == ABSENT
        assert format_address(ABSENT) in str(info.value)
        assert isinstance(info.value, KeyError)
        present = store.put(blob(1))
        with pytest.raises(MissingChunk) as info:
            store.get_many([present, ABSENT])
        assert info.value.address == ABSENT

    def test_malformed_address_raises_invalid_address(self, store):
        for bad in (b"short", b"x" * (ADDRESS_LEN + 1), format_address(ABSENT)):
            with pytest.raises(InvalidAddress):
                store.get(bad)
            with pytest.raises(InvalidAddress):
                store.has(bad)

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(chunks=st.lists(st.binary(max_size=300), max_size=8))
    def test_put_many_get_many_property(self, store, chunks):
        addresses = store.put_many(chunks)
        assert addresses == [address_of(c) for c in chunks]
        assert store.get_many(addresses) == chunks
        assert all(store.has_many(addresses))

    # --- commit and refs --------------------------------------------------------------

    def test_commit_creates_ref_with_its_chunks(self, store):
        data = blob(1)
        address = address_of(data)
        assert store.get_ref("refs/heads/main") is None
        assert store.commit({address: data}, [RefUpdate("refs/heads/main", None, address)])
        assert store.get_ref("refs/heads/main") == address
        assert store.get(address) == data

    def test_get_refs_reads_several_refs_like_get_ref(self, store):
        a, b = store.put_many([blob(1), blob(2)])
        assert store.get_refs([]) == []
        assert store.commit({}, [RefUpdate("x", None, a), RefUpdate("y", None, b)])
        assert store.get_refs(["y", "missing", "x", "y"]) == [b, None, a, b]
        assert store.get_refs(["x"]) == [store.get_ref("x")]

    def test_create_only_loses_when_ref_exists(self, store):
        a, b = store.put_many([blob(1), blob(2)])
        assert store.commit({}, [RefUpdate("r", None, a)])
        assert store.commit({}, [RefUpdate("r", None, b)]) is False
        assert store.get_ref("r") == a

    def test_compare_and_swap_moves_ref_from_expected_value(self, store):
        a, b, c = store.put_many([blob(1), blob(2), blob(3)])
        assert store.commit({}, [RefUpdate("r", None, a)])
        assert store.commit({}, [RefUpdate("r", a, b)])
        assert store.get_ref("r") == b
        assert store.commit({}, [RefUpdate("r", a, c)]) is False  # stale expected value
        assert store.get_ref("r") == b

    def test_lost_race_writes_nothing(self, store):
        a, b = store.put_many([blob(1), blob(2)])
        assert store.commit({}, [RefUpdate("x", None, a), RefUpdate("y", None, a)])
        new_data = blob(99)
        new = address_of(new_data)
        lost = store.commit(
            {new: new_data},
            [RefUpdate("x", a, new), RefUpdate("y", b, new), RefUpdate("z", None, new)],
        )
        assert lost is False
        assert store.list_refs() == {"x": a, "y": a}
        assert not store.has(new)  # the commit's chunks were not written either

    def test_delete_ref(self, store):
        a = store.put(blob(1))
        assert store.commit({}, [RefUpdate("r", None, a)])
        assert store.commit({}, [RefUpdate("r", ABSENT, None)]) is False
        assert store.commit({}, [RefUpdate("r", a, None)])
        assert store.get_ref("r") is None
        assert store.commit({}, [RefUpdate("r", a, None)]) is False  # already gone
        assert store.has(a)  # deleting a ref leaves its chunk

    def test_commit_updates_many_refs_atomically(self, store):
        a, b = store.put_many([blob(1), blob(2)])
        updates = [RefUpdate(f"refs/heads/b{i}", None, a) for i in range(5)]
        assert store.commit({}, updates)
        moves = [RefUpdate(f"refs/heads/b{i}", a, b) for i in range(5)]
        assert store.commit({}, moves)
        assert set(store.list_refs("refs/heads/").values()) == {b}

    def test_ref_to_unstored_chunk_is_refused(self, store):
        with pytest.raises(MissingChunk) as info:
            store.commit({}, [RefUpdate("r", None, ABSENT)])
        assert info.value.address == ABSENT
        assert store.get_ref("r") is None
        data = blob(5)
        with pytest.raises(MissingChunk):
            store.commit(
                {address_of(data): data},
                [RefUpdate("ok", None, address_of(data)), RefUpdate("bad", None, ABSENT)],
            )
        assert store.list_refs() == {}
        assert not store.has(address_of(data))

    def test_commit_refuses_bad_input(self, store):
        a = store.put(blob(1))
        with pytest.raises(InvalidInput):
            store.commit({}, [RefUpdate("r", None, a), RefUpdate("r", None, a)])
        with pytest.raises(InvalidInput):
            store.commit({}, [RefUpdate("", None, a)])
        with pytest.raises(InvalidInput):
            store.commit({}, [RefUpdate("n" * 600, None, a)])
        with pytest.raises(InvalidAddress):
            store.commit({}, [RefUpdate("r", None, a[:10])])
        with pytest.raises(InvalidInput):  # the store checks addresses in tests
            store.commit({ABSENT: blob(1)}, [])
        assert store.list_refs() == {}
        assert not store.has(ABSENT)

    def test_list_refs_sorted_and_filtered_by_prefix(self, store):
        a = store.put(blob(1))
        names = ["refs/tags/v1", "refs/heads/main", "refs/heads/dev", "refs/headsx", "HEAD", "é"]
        assert store.commit({}, [RefUpdate(n, None, a) for n in names])
        assert list(store.list_refs()) == sorted(names)
        assert list(store.list_refs("refs/heads/")) == ["refs/heads/dev", "refs/heads/main"]
        assert store.list_refs("nothing/") == {}
        assert store.list_refs("refs/heads/main") == {"refs/heads/main": a}

    # --- lookup, deletion, meta, integrity ------------------------------------------

    def test_resolve_prefix(self, store):
        addresses = store.put_many([blob(i) for i in range(40)])  # 40 > 32: a shared first char
        texts = sorted(format_address(a) for a in addresses)
        for text, address in zip(texts, sorted(addresses), strict=True):
            assert store.resolve_prefix(text) == address
            assert store.resolve_prefix(text.upper()) == address
            assert store.resolve_prefix(text[:12]) == address
        firsts = [t[0] for t in texts]
        shared = max(set(firsts), key=firsts.count)
        with pytest.raises(AmbiguousPrefix) as info:
            store.resolve_prefix(shared)
        assert info.value.count == firsts.count(shared)
        unused = next(
            p
            for p in (a + b for a in "0123456789" for b in "ab")
            if p not in {t[:2] for t in texts}
        )
        with pytest.raises(MissingChunk):
            store.resolve_prefix(unused)
        for bad in ("", "w", "x" * 33, "abc-"):
            with pytest.raises(InvalidAddress):
                store.resolve_prefix(bad)

    def test_iter_addresses_sorted(self, store):
        addresses = store.put_many([blob(i) for i in range(30)])
        assert list(store.iter_addresses()) == sorted(addresses)

    def test_delete_many(self, store):
        keep, drop1, drop2 = store.put_many([blob(1), blob(2), blob(3)])
        assert store.delete_many([drop1, drop2, ABSENT, drop1]) == 2
        assert store.has_many([keep, drop1, drop2]) == [True, False, False]
        with pytest.raises(MissingChunk):
            store.get(drop1)
        assert store.delete_many([]) == 0
        assert list(store.iter_addresses()) == [keep]
        assert store.stats()["chunks"] == 1

    def test_meta(self, store):
        assert store.get_meta("config/author") is None
        store.set_meta("config/author", b"ada")
        store.set_meta("config/author", b"grace")
        store.set_meta("empty", b"")
        assert store.get_meta("config/author") == b"grace"
        assert store.get_meta("empty") == b""
        with pytest.raises(InvalidInput):
            store.set_meta("", b"x")

    def test_verify(self, store):
        address = store.put(blob(1))
        store.verify(address)
        with pytest.raises(MissingChunk):
            store.verify(ABSENT)

    def test_stats(self, store):
        chunks = [blob(i, 100) for i in range(10)]
        store.put_many(chunks)
        stats = store.stats()
        assert stats["chunks"] == 10
        assert stats["stored_bytes"] >= sum(map(len, chunks))

    def test_close_is_idempotent(self, store):
        store.close()
        store.close()
