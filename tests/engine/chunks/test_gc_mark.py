"""gc's mark reads record headers, not chunks, to learn that a leaf names nothing
(records invariant (5): only tree leaves are stored as deltas)."""

from __future__ import annotations

import random

from arbordb.engine.chunks import LmdbChunkStore
from arbordb.engine.chunks.records import KIND_DELTA, KIND_RAW
from arbordb.engine.chunks.store import RefUpdate


def _node(level: int, seed: int, size: int = 8192) -> bytes:
    rng = random.Random(seed)
    body = bytearray(rng.randbytes(size))
    return bytes([1, level]) + bytes(body)


def _edited(data: bytes, seed: int) -> bytes:
    out = bytearray(data)
    rng = random.Random(seed)
    for _ in range(4):
        out[rng.randrange(2, len(out))] ^= 0xFF
    return bytes(out)


def test_only_leaves_become_deltas(tmp_path):
    store = LmdbChunkStore(tmp_path / "s")
    leaf, internal = _node(0, 1), _node(1, 2)
    (leaf_address, internal_address) = store.put_many([leaf, internal])
    new_leaf, new_internal = _edited(leaf, 3), _edited(internal, 4)
    a, b = store.put_many([new_leaf, new_internal], bases=[leaf_address, internal_address])
    assert store.record_info(a).kind == KIND_DELTA
    assert store.record_info(b).kind == KIND_RAW  # an internal node is always stored whole
    store.close()


def test_mark_reads_a_delta_leaf_from_headers_without_rebuilding_it(tmp_path):
    store = LmdbChunkStore(tmp_path / "s", delta_cache_bytes=0)
    chain = [_node(0, 5)]
    (previous,) = store.put_many(chain)
    for step in range(6):
        chain.append(_edited(chain[-1], 10 + step))
        (previous,) = store.put_many([chain[-1]], bases=[previous])
    assert store.record_info(previous).kind == KIND_DELTA
    seen = []

    def mark(roots, read_many, known):
        seen.extend(read_many([previous]))
        return {previous}

    result = store.collect_garbage(mark)  # marks on a snapshot, then again as it sweeps
    assert set(seen) == {b"\x00\x00"}  # a leaf's stand-in: its bytes were never rebuilt
    assert result["kept"] == 1 and result["deleted"] == 6
    assert store.get(previous) == chain[-1]  # rebased onto nothing: stored whole
    store.close()


def test_gc_with_no_write_since_the_last_returns_without_marking(tmp_path):
    store = LmdbChunkStore(tmp_path / "s")
    kept = store.put(_node(0, 20))
    store.commit({}, [RefUpdate("refs/heads/main", None, kept)])
    store.put(_node(0, 21))  # garbage
    calls = []

    def mark(roots, read_many, known):
        calls.append(list(roots))
        return {a for a in roots if a not in known}

    assert store.collect_garbage(mark)["deleted"] == 1
    marked = len(calls)
    assert store.collect_garbage(mark) == {**store.collect_garbage(mark), "deleted": 0}
    assert len(calls) == marked  # nothing was written since: no mark at all
    assert store.collect_garbage(mark)["kept"] == 1
    store.put(_node(0, 22))  # a write: the next gc marks again and collects it
    assert store.collect_garbage(mark)["deleted"] == 1 and len(calls) > marked
    assert store.get(kept) == _node(0, 20)
    store.close()
