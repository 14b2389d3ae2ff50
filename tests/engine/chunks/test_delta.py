"""Delta-encoded chunks: the codec (``delta.py``), LMDB's kind-2 records (chains,
corruption, gc) and the hints that reach the store from the tree."""

from __future__ import annotations

import lmdb
import numpy as np
import pyarrow as pa
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.chunks import (
    BufferedChunkStore,
    LmdbChunkStore,
    MemoryChunkStore,
    delta,
    records,
)
from arbordb.engine.chunks.column_frames import KIND_COLUMNS
from arbordb.engine.chunks.delta import (
    MAX_FRACTION,
    METHOD_PATCH,
    METHOD_ZSTD,
    PATCH_BATCH_BYTES,
    apply_delta,
    encode_delta,
    encode_deltas,
)
from arbordb.engine.chunks.records import CHAIN_CAP, KIND_DELTA, KIND_RAW, KIND_ZSTD, chain_cap
from arbordb.engine.codec.key_batch import encode_keys
from arbordb.engine.errors import CorruptChunk, MissingChunk
from arbordb.engine.hash import address_of
from arbordb.engine.repo import Repo
from arbordb.engine.tree.cursor import leaf_entries
from arbordb.engine.tree.nodes import NodeStore
from arbordb.engine.tree.prolly import ProllyTree
from tests.engine.stored import replace_record, unpack_all

WHOLE = (KIND_RAW, KIND_ZSTD, KIND_COLUMNS)  # record kinds that store a chunk whole

NAME = address_of(b"the chunk being rebuilt")


def leafish(seed: int, size: int = 16_384) -> bytes:
    """Bytes with a leaf's texture: runs of small integers, text and random doubles."""
    rng = np.random.default_rng(seed)
    ids = np.arange(size // 32, dtype=">u8").tobytes()
    text = b"".join(b"lbl_%06d" % v for v in rng.integers(0, 1000, size // 32))
    return (ids + text + rng.random(size // 32).tobytes())[:size]


def edited(data: bytes, seed: int, edits: int = 5) -> bytes:
    rng = np.random.default_rng(seed)
    out = bytearray(data)
    for pos in rng.integers(0, len(out) - 8, edits):
        out[pos : pos + 8] = rng.bytes(8)
    return bytes(out)


# --- the codec ----------------------------------------------------------------------


def test_small_same_length_edit_is_a_patch():
    base = leafish(1)
    new = edited(base, 2)
    body = encode_delta(base, new)
    assert body is not None and body[0] == METHOD_PATCH
    assert len(body) < 100  # five 8-byte edits, a few bytes of op header each
    assert apply_delta(base, body, NAME) == new


def test_length_change_is_a_zstd_delta():
    base = leafish(1)
    new = base[:5000] + b"inserted row" + base[5000:-3]
    body = encode_delta(base, new)
    assert body is not None and body[0] == METHOD_ZSTD
    assert len(body) < 200
    assert apply_delta(base, body, NAME) == new


def test_unrelated_bytes_get_no_delta():
    assert encode_delta(leafish(1), leafish(2)) is None
    assert encode_delta(b"", b"x" * 100) is None  # no base to speak of


@settings(max_examples=150, deadline=None)
@given(
    base=st.binary(min_size=0, max_size=3000),
    edits=st.lists(
        st.tuples(st.integers(0, 3000), st.integers(0, 40), st.binary(max_size=40)), max_size=6
    ),
)
def test_round_trip_of_similar_bytes(base, edits):
    new = bytearray(base)
    for pos, cut, insert in edits:  # splice: cut some bytes, insert others
        pos = min(pos, len(new))
        new[pos : pos + cut] = insert
    same_length = bytes(new[: len(base)]) + bytes(base[len(new) :])
    for target in (bytes(new), same_length):
        body = encode_delta(base, target)
        if body is not None:
            assert len(body) * MAX_FRACTION <= len(target)
            assert apply_delta(base, body, NAME) == target


@settings(max_examples=100, deadline=None)
@given(pairs=st.lists(st.tuples(st.binary(max_size=600), st.binary(max_size=600)), max_size=8))
def test_batch_equals_one_by_one_and_round_trips(pairs):
    pairs += [(a, a) for a, _ in pairs]  # identical pairs too
    bodies = encode_deltas(pairs)
    assert bodies == [encode_delta(a, b) for a, b in pairs]
    for (base, new), body in zip(pairs, bodies, strict=True):
        if body is not None:
            assert apply_delta(base, body, NAME) == new


def test_batches_span_many_pairs():
    pairs = [(leafish(i), edited(leafish(i), i)) for i in range(160)]
    assert sum(len(new) for _, new in pairs) > PATCH_BATCH_BYTES  # more than one batch
    for (base, new), body in zip(pairs, encode_deltas(pairs), strict=True):
        assert body is not None and apply_delta(base, body, NAME) == new


BASE = leafish(7)
PATCH = encode_delta(BASE, edited(BASE, 8))
# over _NUMPY_OPS ops (as a PATCH: encode_delta finds plain ZSTD smaller here)
MANY = delta._patches([(BASE, edited(BASE, 9, edits=100))])[0]
ZSTD = encode_delta(BASE, BASE[:100] + b"xyz" + BASE[100:])
BAD_BODIES = {
    "empty": b"",
    "unknown method": b"\x07" + PATCH[1:],
    "op count cut short": b"\x00\x80",
    "op list cut short": PATCH[:4],
    "op past the end": b"\x00\x01\xff\xff\x01\x02ab",
    "literal cut short": b"\x00\x01\x00\x10abc",
    "zero-size op": b"\x00\x01\x05\x00",
    "bytes past the last op": PATCH + b"extra",
    "many ops, literals cut short": MANY[:-10],
    "many ops, count too high": MANY[:1] + b"\xff\x7f" + MANY[2:],
    "zstd garbage": b"\x01" + b"not a frame at all",
    "zstd body flipped": ZSTD[:-6] + bytes([ZSTD[-6] ^ 0xFF]) + ZSTD[-5:],
    "zstd claims too much": b"\x01"
    + zstandard.ZstdCompressor(write_content_size=True).compress(b"\0" * 200_000),
}


def test_many_op_patch_round_trips():
    assert MANY is not None and MANY[0] == METHOD_PATCH and MANY[1] > 56
    assert apply_delta(BASE, MANY, NAME) == edited(BASE, 9, edits=100)


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_malformed_body_raises_corrupt_chunk_naming_it(name):
    with pytest.raises(CorruptChunk) as info:
        result = apply_delta(BASE, BAD_BODIES[name], NAME)
        # a flipped zstd byte may still decode: then it must give other bytes
        if name == "zstd body flipped" and result != BASE[:100] + b"xyz" + BASE[100:]:
            raise CorruptChunk(NAME, "decoded to other bytes")
    assert info.value.address == NAME


# --- LMDB records -------------------------------------------------------------------


def write_versions(store, count: int, seed: int = 0) -> list[tuple[bytes, bytes]]:
    """``count`` successive versions of one chunk, each hinted on the one before."""
    data = leafish(seed)
    versions = [(store.put(data), data)]
    for i in range(1, count):
        data = edited(data, seed * 1000 + i)
        (address,) = store.put_many([data], bases=[versions[-1][0]])
        versions.append((address, data))
    return versions


def test_a_writer_remembers_chain_roots_and_stores_what_a_fresh_handle_would(tmp_path, monkeypatch):
    """Restarting at the chain's root needs the root: a handle remembers the roots
    of the deltas it wrote instead of walking their chains, with the same records
    as a handle that walks (opened anew for every write)."""
    walked = []
    real_root = records._chain_root
    monkeypatch.setattr(
        records, "_chain_root", lambda get, a: walked.append(a) or real_root(get, a)
    )
    with LmdbChunkStore(tmp_path / "kept") as store:
        kept = write_versions(store, 3 * CHAIN_CAP)
        kept_infos = [store.record_info(address) for address, _ in kept]
    assert walked == []
    fresh = []
    data = leafish(0)
    for i in range(3 * CHAIN_CAP):
        with LmdbChunkStore(tmp_path / "fresh") as store:
            if i:
                data = edited(data, i)
            (address,) = store.put_many([data], bases=[fresh[-1]] if fresh else None)
            fresh.append(address)
    with LmdbChunkStore(tmp_path / "fresh") as store:
        assert [store.record_info(a) for a in fresh] == kept_infos
    assert [a for a, _ in kept] == fresh and len(walked) >= 2


def test_chain_depth_is_capped_then_restarts_at_the_root(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        versions = write_versions(store, CHAIN_CAP + 6)
        infos = [store.record_info(address) for address, _ in versions]
    root = versions[0][0]
    assert infos[0].kind in WHOLE
    restarts = 0
    for i in range(1, len(versions)):
        address, info = versions[i][0], infos[i]
        assert info.kind == KIND_DELTA and info.depth <= chain_cap(address)
        if info.depth == infos[i - 1].depth + 1:
            assert info.base == versions[i - 1][0]
        else:  # the base was at this chunk's cap: a delta on the chain's raw root
            assert (info.base, info.depth, infos[i - 1].depth) == (root, 1, chain_cap(address))
            restarts += 1
    assert restarts >= 1
    with LmdbChunkStore(tmp_path, delta_cache_bytes=0) as store:  # every read walks its chain
        for address, data in versions:
            assert store.get(address) == data
            store.verify(address)
        assert store.get_many([a for a, _ in reversed(versions)]) == [
            d for _, d in reversed(versions)
        ]


def test_hints_never_change_reads(tmp_path):
    """A hint to an absent chunk, to itself, or to unrelated bytes stores the chunk whole."""
    stores = [
        MemoryChunkStore(),
        LmdbChunkStore(tmp_path / "a"),
        BufferedChunkStore(LmdbChunkStore(tmp_path / "b")),
    ]
    base, near, far = leafish(1), edited(leafish(1), 2), leafish(3)
    for store in stores:
        (b,) = store.put_many([base])
        absent = address_of(b"never stored")
        addresses = store.put_many([near, far, leafish(4)], bases=[b, b, absent])
        if isinstance(store, BufferedChunkStore):
            store.flush()
        assert store.get_many([b, *addresses]) == [base, near, far, leafish(4)]
        store.close()
    with LmdbChunkStore(tmp_path / "b") as store:
        kinds = [store.record_info(address_of(d)).kind for d in (near, far, leafish(4))]
        assert kinds[0] == KIND_DELTA and kinds[1] in WHOLE and kinds[2] in WHOLE


@pytest.mark.parametrize("base_kind", ["raw", "delta"])
def test_held_base_bytes_are_used_only_when_their_checksum_matches(
    tmp_path, base_kind, monkeypatch
):
    """A writer may hand over the bytes of a base it holds: right bytes spare the
    store reading (and rebuilding) the base; wrong ones are ignored, never stored."""
    rebuilt = []
    original = records._rebuild
    monkeypatch.setattr(records, "_rebuild", lambda *a: rebuilt.append(a[0]) or original(*a))
    with LmdbChunkStore(tmp_path, delta_cache_bytes=0) as store:
        base = leafish(1)
        (b,) = store.put_many([base])
        if base_kind == "delta":
            base = edited(base, 2)
            (b,) = store.put_many([base], bases=[b])
            assert store.record_info(b).kind == KIND_DELTA
        wrong, right = edited(base, 3), edited(base, 4)
        (w,) = store.put_many([wrong], bases=[b], base_chunks={b: leafish(9)})
        assert store.get(w) == wrong and store.record_info(w).kind == KIND_DELTA
        rebuilt.clear()
        (r,) = store.put_many([right], bases=[b], base_chunks={b: base})
        assert rebuilt == [] and store.record_info(r).base == b
        assert store.get(r) == right


def test_a_writers_delta_body_is_used_when_its_base_is_the_one_chosen(tmp_path, monkeypatch):
    compared, loaded = [], []
    real = records.encode_deltas
    monkeypatch.setattr(
        records, "encode_deltas", lambda pairs: compared.extend(pairs) or real(pairs)
    )
    real_load = records.load_chunks
    monkeypatch.setattr(
        records,
        "load_chunks",
        lambda get, addresses, *a: loaded.extend(addresses) or real_load(get, addresses, *a),
    )
    with LmdbChunkStore(tmp_path) as store:
        versions = write_versions(store, CHAIN_CAP + 1)
        compared.clear()
        fresh = BufferedChunkStore(store)
        branches = set()
        for seed, (base, data) in enumerate(versions, 100):
            new = edited(data, seed)
            (address,) = fresh.put_many([new], bases=[base], deltas=[encode_delta(data, new)])
            loaded.clear()
            assert fresh.flush()
            read_to_write = list(loaded)
            assert store.get(address) == new
            info = store.record_info(address)
            if info.base == base:  # under the cap: the writer's body, nothing compared,
                assert compared == [] and base not in read_to_write  # the base's bytes unread
            else:  # at the cap: a delta against the chain's root, compared by the store
                assert info.base == versions[0][0] and len(compared) == 1
            branches.add(info.base == base)
            compared.clear()
        assert branches == {True, False}


def test_buffered_store_carries_hints_to_commit_and_drops_them_on_discard(tmp_path):
    with LmdbChunkStore(tmp_path) as inner:
        buffered = BufferedChunkStore(inner)
        base = leafish(1)
        (b,) = buffered.put_many([base])
        buffered.flush()
        buffered.put_many([edited(base, 2)], bases=[b])
        buffered.discard()
        (kept,) = buffered.put_many([edited(base, 3)])  # no hint: stored whole
        (hinted,) = buffered.put_many([edited(base, 4)], bases=[b])
        assert buffered.commit({}, [], bases={kept: b}) is True
        assert inner.record_info(kept).kind == KIND_DELTA
        assert inner.record_info(hinted).base == b
        assert buffered.get(hinted) == edited(base, 4)


def test_chain_inside_one_commit(tmp_path):
    """Three versions written together: each may be a delta on the one before."""
    with LmdbChunkStore(tmp_path) as store:
        v0 = leafish(1)
        (a0,) = store.put_many([v0])
        v1, v2 = edited(v0, 2), edited(edited(v0, 2), 3)
        a1, a2 = address_of(v1), address_of(v2)
        assert store.commit({a2: v2, a1: v1}, [], bases={a1: a0, a2: a1})
        assert [store.record_info(a).depth for a in (a1, a2)] == [1, 2]
    with LmdbChunkStore(tmp_path, delta_cache_bytes=0) as store:
        assert store.get_many([a2, a1]) == [v2, v1]


def poke(path, address: bytes, change) -> None:
    """Replace (None: delete) the record of ``address`` with ``change(old record)``,
    once the journal's records are all in ``chunks``."""
    with LmdbChunkStore(path) as store:
        store.compact()
    replace_record(path, address, change)


DAMAGE = {
    "delta body byte flipped": lambda r: r[:-3] + bytes([r[-3] ^ 0x40]) + r[-2:],
    "checksum flipped": lambda r: r[:2] + bytes([r[2] ^ 1]) + r[3:],
    "depth zero": lambda r: r[:9] + b"\x00" + r[10:],
    "depth not above base": lambda r: r[:9] + b"\x01" + r[10:],
    "base renamed to an absent chunk": lambda r: r[:10] + address_of(b"gone") + r[30:],
    "truncated header": lambda r: r[:20],
    "method byte unknown": lambda r: r[:30] + b"\x09" + r[31:],
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_delta_record_raises_corrupt_chunk_naming_it(tmp_path, damage):
    with LmdbChunkStore(tmp_path) as store:
        versions = write_versions(store, 3)
        bad = versions[2][0]
        assert store.record_info(bad).depth == 2
    poke(tmp_path, bad, DAMAGE[damage])
    with LmdbChunkStore(tmp_path) as store:
        for read in (store.get, lambda a: store.get_many([versions[0][0], a]), store.verify):
            with pytest.raises(CorruptChunk) as info:
                read(bad)
            assert info.value.address == bad
        assert store.get(versions[1][0]) == versions[1][1]


def test_missing_base_is_corruption_of_the_dependent(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        versions = write_versions(store, 3)
    poke(tmp_path, versions[1][0], lambda r: None)  # delete behind the store's back
    with LmdbChunkStore(tmp_path) as store:
        with pytest.raises(CorruptChunk, match="delta base .* is missing") as info:
            store.get(versions[2][0])
        assert info.value.address == versions[2][0]
        with pytest.raises(MissingChunk):
            store.get(versions[1][0])


def test_damaged_base_makes_writes_store_whole(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        (a0, _), (a1, v1) = write_versions(store, 2)
    poke(tmp_path, a0, lambda r: r[:40] + bytes([r[40] ^ 1]) + r[41:])
    with LmdbChunkStore(tmp_path, delta_cache_bytes=0) as store:
        (a2,) = store.put_many([edited(v1, 9)], bases=[a1])
        assert store.record_info(a2).kind in WHOLE
        assert store.get(a2) == edited(v1, 9)


# --- garbage collection -------------------------------------------------------------


def test_deleting_bases_rebases_dependents(tmp_path):
    with LmdbChunkStore(tmp_path) as store:
        versions = write_versions(store, 5)  # depths 0 1 2 3 4
        addresses = [a for a, _ in versions]
        assert store.delete_many([addresses[1], addresses[2]]) == 2
        info = store.record_info(addresses[3])
        assert (info.base, info.depth) == (addresses[0], 1)  # the nearest survivor
        assert store.record_info(addresses[4]).base == addresses[3]
        assert store.delete_many([addresses[0]]) == 1  # the raw root itself
        assert store.record_info(addresses[3]).kind in WHOLE
    with LmdbChunkStore(tmp_path, delta_cache_bytes=0) as store:
        for address, data in versions[3:]:
            assert store.get(address) == data
            store.verify(address)
        assert not any(store.has_many(addresses[:3]))


def test_gc_keeps_chunks_rebuilt_from_collected_bases(tmp_path):
    """Each write persists a working set, so a leaf edited twice before a commit is a
    delta on a leaf that only the dropped working set named: gc must keep it readable."""
    ids = np.arange(20_000)
    table = pa.table({"id": ids, "label": [f"lbl_{i % 977:06d}" for i in ids]})
    with Repo(tmp_path) as repo:
        repo.write("t", table, primary_key=["id"])
        repo.commit("rows")
        repo.write("t", pa.table({"id": [5, 9_000], "label": ["a", "b"]}), mode="upsert")
        repo.write("t", pa.table({"id": [6, 9_001], "label": ["c", "d"]}), mode="upsert")
        repo.commit("edits")
        expected = repo.table("t").sort_by("id")
        store = repo.db.store
        deltas = [a for a in store.iter_addresses() if store.record_info(a).kind == KIND_DELTA]
        assert deltas  # the edited leaves are stored as deltas
        assert repo.db.gc()["deleted"] > 0
        assert repo.db.fsck() == []
    with Repo(tmp_path) as repo:
        assert repo.table("t").sort_by("id").equals(expected)
        assert repo.db.fsck() == []


# --- hints from the tree ------------------------------------------------------------


def test_tree_edit_writes_leaves_as_deltas_of_the_leaves_they_replace(tmp_path):
    rows = 50_000
    keys = encode_keys([pa.array(np.arange(rows))], [pa.int64()])
    labels = pa.array([f"lbl_{i % 1000:06d}" for i in range(rows)])
    scores = pa.array(np.random.default_rng(0).random(rows))
    with LmdbChunkStore(tmp_path) as inner:
        buffered = BufferedChunkStore(inner)
        tree = ProllyTree.build(NodeStore(buffered), keys, [labels, scores])
        buffered.flush()
        old_leaves = set(leaf_entries(tree.nodes, tree.root).addresses)
        changed = np.sort(np.random.default_rng(1).choice(rows, 500, replace=False))
        edit_keys = encode_keys([pa.array(changed)], [pa.int64()])
        new = tree.edit(edit_keys, [pa.array(["lbl_000001"] * 500), pa.array(np.zeros(500))])
        buffered.flush()
        new_leaves = [a for a in leaf_entries(new.nodes, new.root).addresses if a not in old_leaves]
        infos = [inner.record_info(a) for a in new_leaves]
        assert new_leaves and all(i.kind == KIND_DELTA and i.base in old_leaves for i in infos)
        assert sum(i.size for i in infos) * 20 < 16_384 * len(infos)
    with LmdbChunkStore(tmp_path, delta_cache_bytes=0) as store:
        fresh = ProllyTree(NodeStore(store), new.root, new.types)
        assert fresh.check() == rows
        got_keys, (got_labels, got_scores) = fresh.scan()
        expected_scores = scores.to_numpy().copy()
        expected_scores[changed] = 0.0
        assert got_keys.equals(keys)
        assert np.array_equal(got_scores.to_numpy(), expected_scores)


def test_writer_cap_is_policy_not_format(tmp_path, monkeypatch):
    """A store written with a deeper cap stays readable by a writer with a lower one."""
    monkeypatch.setattr(records, "CAP_SPREAD", 1)  # every chunk's cap is CHAIN_CAP
    monkeypatch.setattr(records, "CHAIN_CAP", CHAIN_CAP + 4)
    with LmdbChunkStore(tmp_path) as store:
        versions = write_versions(store, CHAIN_CAP + 5)
        assert store.record_info(versions[-1][0]).depth == CHAIN_CAP + 4
    monkeypatch.setattr(records, "CHAIN_CAP", CHAIN_CAP)
    with LmdbChunkStore(tmp_path, delta_cache_bytes=0) as store:
        assert store.get_many([a for a, _ in versions]) == [d for _, d in versions]
        (address,) = store.put_many([edited(versions[-1][1], 99)], bases=[versions[-1][0]])
        assert store.record_info(address)[1:3] == (1, versions[0][0])  # restarted at the root
        store.delete_many([a for a, _ in versions[2:-1]])
        assert store.get(address) == edited(versions[-1][1], 99)


@pytest.mark.parametrize("version", [b"1", b"2", b"3", b"4", b"5"])
def test_older_store_opens_and_is_marked_current(tmp_path, version):
    """Version 1 held raw records only, version 2 had no journal, version 3 no
    compressed records, version 4 no column records and version 5 no packs, all
    readable here; once those may be written the store says 6, which older code
    refuses to open."""
    with LmdbChunkStore(tmp_path) as store:
        address = store.put(b"written by an older version")
        store.compact()
    unpack_all(tmp_path)
    env = lmdb.open(str(tmp_path), max_dbs=5)
    with env.begin(write=True) as txn:
        txn.drop(env.open_db(b"journal", txn=txn), delete=True)
        txn.put(b"store/format_version", version, db=env.open_db(b"meta", txn=txn))
        txn.delete(b"store/journal", db=env.open_db(b"meta", txn=txn))
    env.close()
    with LmdbChunkStore(tmp_path, readonly=True) as store:
        assert store.get(address) == b"written by an older version"
        assert store.get_meta("store/format_version") == version
        assert list(store.iter_addresses()) == [address]
    with LmdbChunkStore(tmp_path) as store:
        assert store.get_meta("store/format_version") == b"6"
        newer = store.put(b"written by version 6")
    with LmdbChunkStore(tmp_path, readonly=True) as store:
        assert store.get_many([address, newer]) == [
            b"written by an older version",
            b"written by version 6",
        ]
