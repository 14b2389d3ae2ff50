"""Prolly tree behaviour against a plain dict model.

Tiny chunking rules (hundreds of bytes) give trees of three or four levels from
a few hundred rows, so hypothesis explores multi-level edits quickly.
"""

from __future__ import annotations

import datetime
import decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.chunks.memory import MemoryChunkStore
from arbordb.engine.codec.key_batch import encode_keys
from arbordb.engine.codec.keys import encode_key
from arbordb.engine.errors import CorruptChunk, InvalidInput
from arbordb.engine.tree import ADDED, MODIFIED, REMOVED, NodeStore, ProllyTree
from arbordb.engine.tree.cursor import leaf_entries
from arbordb.engine.tree.lookup import lookup
from arbordb.engine.tree.splitter import ChunkRule

TINY_LEAF = ChunkRule(target=256, min_size=64, max_size=1024)
TINY_INTERNAL = ChunkRule(target=128, min_size=64, max_size=512)
TYPES = [pa.string(), pa.float64()]


def tiny_nodes() -> NodeStore:
    return NodeStore(MemoryChunkStore(), leaf_rule=TINY_LEAF, internal_rule=TINY_INTERNAL)


def keys_of(ids) -> pa.BinaryArray:
    return encode_keys([pa.array(list(ids), pa.int64())], [pa.int64()])


def build(nodes: NodeStore, model: dict[int, tuple]) -> ProllyTree:
    ids = sorted(model)
    labels = pa.array([model[i][0] for i in ids], pa.string())
    scores = pa.array([model[i][1] for i in ids], pa.float64())
    return ProllyTree.build(nodes, keys_of(ids), [labels, scores], TYPES)


def edit(tree: ProllyTree, upserts: dict[int, tuple], deletes: set[int]) -> ProllyTree:
    ids = sorted(set(upserts) | deletes)
    deleted = np.array([i in deletes and i not in upserts for i in ids], bool)
    labels = pa.array([upserts.get(i, (None, None))[0] for i in ids], pa.string())
    scores = pa.array([upserts.get(i, (None, None))[1] for i in ids], pa.float64())
    return tree.edit(keys_of(ids), [labels, scores], deleted)


def contents(tree: ProllyTree) -> dict[int, tuple]:
    keys, (labels, scores) = tree.scan()
    ids = [int.from_bytes(k[1:], "big") - (1 << 63) for k in keys.to_pylist()]
    return dict(zip(ids, zip(labels.to_pylist(), scores.to_pylist(), strict=True), strict=True))


rows = st.tuples(
    st.one_of(st.none(), st.text(max_size=12)),
    st.one_of(st.none(), st.floats(allow_nan=False, width=64)),
)
models = st.dictionaries(st.integers(-(2**40), 2**40), rows, max_size=300)


@st.composite
def edit_batches(draw):
    base = draw(models)
    batches = []
    for _ in range(draw(st.integers(1, 4))):
        pool = sorted(base) or [0]
        up_ids = draw(
            st.lists(st.one_of(st.sampled_from(pool), st.integers(-(2**40), 2**40)), max_size=60)
        )
        upserts = {i: draw(rows) for i in up_ids}
        deletes = set(draw(st.lists(st.sampled_from(pool), max_size=60))) - set(upserts)
        batches.append((upserts, deletes))
    return base, batches


@settings(max_examples=60, deadline=None)
@given(edit_batches())
def test_edits_match_model_and_are_history_independent(case):
    base, batches = case
    nodes = tiny_nodes()
    tree = build(nodes, base)
    model = dict(base)
    for upserts, deletes in batches:
        tree = edit(tree, upserts, deletes)
        for i in deletes:
            model.pop(i, None)
        model.update(upserts)
        assert contents(tree) == model
        assert tree.count() == len(model)
        tree.check()  # invariants (1)-(6), including: rebuilding gives the same root
    assert tree.root == build(tiny_nodes(), model).root


@settings(max_examples=40, deadline=None)
@given(models, models)
def test_diff_matches_model(a, b):
    nodes = tiny_nodes()
    ta, tb = build(nodes, a), build(nodes, b)
    d = ta.diff(tb)
    got = {}
    ids = [int.from_bytes(k[1:], "big") - (1 << 63) for k in d.keys.to_pylist()]
    for i, kind, fl, fs, tl, ts in zip(
        ids,
        d.kinds.tolist(),
        *(c.to_pylist() for c in d.from_columns),
        *(c.to_pylist() for c in d.to_columns),
        strict=True,
    ):
        got[i] = (kind, (fl, fs), (tl, ts))
    expected = {}
    for i in set(a) | set(b):
        if i not in b:
            expected[i] = (REMOVED, a[i], (None, None))
        elif i not in a:
            expected[i] = (ADDED, (None, None), b[i])
        elif a[i] != b[i]:
            expected[i] = (MODIFIED, a[i], b[i])
    assert got == expected
    assert ids == sorted(ids)


@settings(max_examples=40, deadline=None)
@given(models, st.integers(-(2**40), 2**40), st.integers(-(2**40), 2**40))
def test_get_and_range_scan(model, lo, hi):
    tree = build(tiny_nodes(), model)
    for i in list(model)[:20]:
        assert tree.get(encode_key([i], [pa.int64()])) == model[i]
    assert tree.get(encode_key([2**41], [pa.int64()])) is None
    lo, hi = min(lo, hi), max(lo, hi)
    keys, (labels, _) = tree.scan(encode_key([lo], [pa.int64()]), encode_key([hi], [pa.int64()]))
    expected = sorted(i for i in model if lo <= i <= hi)
    assert len(keys) == len(expected)
    assert labels.to_pylist() == [model[i][0] for i in expected]


def test_deep_tree_counts_and_shared_structure():
    nodes = tiny_nodes()
    model = {i: (f"label{i % 7}", i / 3) for i in range(5000)}
    tree = build(nodes, model)
    assert tree.height() >= 3
    assert tree.count() == 5000
    store = nodes.store
    before = store.stats()["chunks"]
    changed = edit(tree, {2500: ("changed", 0.0)}, set())
    written = store.stats()["chunks"] - before
    assert written <= 2 * changed.height() + 2  # one leaf (maybe two) and the path above it
    assert len(tree.diff(changed)) == 1


class _CountingStore:
    """A chunk store that records every address read from it."""

    def __init__(self, store: MemoryChunkStore) -> None:
        self._store = store
        self.read: list[bytes] = []

    def get(self, address: bytes) -> bytes:
        self.read.append(address)
        return self._store.get(address)

    def get_many(self, addresses):
        self.read.extend(addresses)
        return self._store.get_many(addresses)

    def __getattr__(self, name):
        return getattr(self._store, name)


@pytest.mark.parametrize("label", ["same", "longer label"])
def test_one_row_edit_reads_only_the_nodes_on_its_path(label):
    """An edit costs O(changed leaves x depth): with cold caches it reads the path
    to the leaf (plus a neighbour or two where cuts move), however big the tree."""
    store = MemoryChunkStore()
    nodes = NodeStore(store, leaf_rule=TINY_LEAF, internal_rule=TINY_INTERNAL)
    model = {i: ("same", float(i)) for i in range(20_000)}
    tree = build(nodes, model)
    counting = _CountingStore(store)
    cold = NodeStore(counting, leaf_rule=TINY_LEAF, internal_rule=TINY_INTERNAL)
    edited = edit(ProllyTree(cold, tree.root, TYPES), {12_345: (label, 0.5)}, set())
    internal = sum(1 for a in counting.read if nodes.level(a) > 0)
    leaves = len(counting.read) - internal
    assert tree.height() >= 4
    assert internal <= 3 * tree.height()  # all of them would be hundreds
    assert leaves <= 4
    model[12_345] = (label, 0.5)
    assert edited.root == build(tiny_nodes(), model).root


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 3000),
    st.lists(
        st.tuples(st.integers(0, 3000), st.integers(0, 3000), st.booleans()), min_size=1, max_size=4
    ),
)
def test_edits_that_change_the_height_match_a_fresh_build(size, ranges):
    """Deleting or inserting long key ranges shrinks or grows the tree by levels;
    the result is still the tree a fresh build of the same rows gives."""
    nodes = tiny_nodes()
    model = {i * 2: (f"v{i}", float(i)) for i in range(size)}
    tree = build(nodes, model)
    for a, b, insert in ranges:
        lo, hi = min(a, b) * 2, max(a, b) * 2
        if insert:
            upserts = {i: ("new" * (i % 3), -1.0) for i in range(lo + 1, hi + 2, 2)}
            tree = edit(tree, upserts, set())
            model.update(upserts)
        else:
            deletes = {i for i in model if lo <= i <= hi}
            tree = edit(tree, {}, deletes)
            for i in deletes:
                del model[i]
        assert tree.root == build(tiny_nodes(), model).root
        assert tree.count() == len(model)


def test_delete_everything_gives_the_empty_tree():
    nodes = tiny_nodes()
    tree = build(nodes, {i: ("x", 1.0) for i in range(500)})
    empty = edit(tree, {}, set(range(500)))
    assert empty.count() == 0
    assert empty.root == ProllyTree.empty(nodes, TYPES).root
    assert contents(empty) == {}


def test_unsorted_input_is_refused():
    nodes = tiny_nodes()
    with pytest.raises(InvalidInput, match="sorted"):
        ProllyTree.build(
            nodes, keys_of([2, 1]), [pa.array(["a", "b"]), pa.array([1.0, 2.0])], TYPES
        )


def test_all_column_types_round_trip():
    types = [
        pa.int8(),
        pa.uint32(),
        pa.int64(),
        pa.float32(),
        pa.decimal128(12, 3),
        pa.bool_(),
        pa.date32(),
        pa.timestamp("us"),
        pa.binary(),
        pa.string(),
        pa.list_(pa.float32()),
        pa.list_(pa.string()),
    ]
    n = 700
    rng = np.random.default_rng(0)

    def maybe(v, i):
        return None if i % 5 == 3 else v

    columns = [
        pa.array([maybe(int(x), i) for i, x in enumerate(rng.integers(-128, 127, n))], pa.int8()),
        pa.array([maybe(i * 7, i) for i in range(n)], pa.uint32()),
        pa.array([maybe(i * 2**40, i) for i in range(n)], pa.int64()),
        pa.array([maybe(float(i) / 4, i) for i in range(n)], pa.float32()),
        pa.array([maybe(decimal.Decimal(i) / 1000, i) for i in range(n)], pa.decimal128(12, 3)),
        pa.array([maybe(i % 3 == 0, i) for i in range(n)], pa.bool_()),
        pa.array(
            [maybe(datetime.date(2020, 1, 1) + datetime.timedelta(days=i), i) for i in range(n)]
        ),
        pa.array(
            [maybe(datetime.datetime(2026, 1, 1, 0, 0, i % 60), i) for i in range(n)],
            pa.timestamp("us"),
        ),
        pa.array([maybe(bytes([i % 256]) * (i % 9), i) for i in range(n)], pa.binary()),
        pa.array([maybe("é" * (i % 4), i) for i in range(n)], pa.string()),
        pa.array(
            [maybe([float(i), float(-i)][: i % 3], i) for i in range(n)], pa.list_(pa.float32())
        ),
        pa.array([maybe(["a", None, "bc"][: i % 4], i) for i in range(n)], pa.list_(pa.string())),
    ]
    nodes = tiny_nodes()
    tree = ProllyTree.build(nodes, keys_of(range(n)), columns, types)
    _, decoded = tree.scan()
    for got, want in zip(decoded, columns, strict=True):
        assert got.to_pylist() == want.to_pylist()
    tree.check()
    # editing keeps every type intact, and diff sees exactly the edited rows
    edited = tree.edit(keys_of([5, 6]), [c.take(pa.array([1, 2])) for c in columns])
    d = tree.diff(edited)
    assert sorted(d.keys.to_pylist()) == keys_of([5, 6]).to_pylist()


def test_nan_and_null_slots_are_canonical():
    nodes = tiny_nodes()
    import struct

    other_nan = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000001))[0]
    a = ProllyTree.build(
        nodes, keys_of([1, 2]), [pa.array(["x", None]), pa.array([float("nan"), 1.0])], TYPES
    )
    b = ProllyTree.build(
        nodes, keys_of([1, 2]), [pa.array(["x", None]), pa.array([other_nan, 1.0])], TYPES
    )
    assert a.root == b.root
    masked = pa.Array.from_buffers(
        pa.float64(), 2, [pa.py_buffer(bytes([0b01])), pa.py_buffer(struct.pack("<2d", 1.0, 99.0))]
    )
    c = ProllyTree.build(nodes, keys_of([1, 2]), [pa.array(["x", "y"]), masked], TYPES)
    d = ProllyTree.build(
        nodes, keys_of([1, 2]), [pa.array(["x", "y"]), pa.array([1.0, None])], TYPES
    )
    assert c.root == d.root


def test_editing_an_empty_tree_with_wide_fixed_keys():
    nodes = tiny_nodes()
    types = [pa.int64(), pa.int64()]
    keys = encode_keys([pa.array([1, 2]), pa.array([3, 4])], types)
    tree = ProllyTree.empty(nodes, [pa.string()]).edit(keys, [pa.array(["a", "b"])])
    assert tree.count() == 2 and tree.scan()[0].equals(keys)


def test_variable_width_keys_search_and_edit():
    nodes = tiny_nodes()
    words = sorted({f"w{i * 7919 % 1000}" * (1 + i % 3) for i in range(400)})
    keys = encode_keys([pa.array(words)], [pa.string()])
    tree = ProllyTree.build(nodes, keys, [pa.array(range(len(words)), pa.int64())], [pa.int64()])
    some = encode_keys([pa.array(words[::7])], [pa.string()])
    edited = tree.edit(some, [pa.array([-1] * len(some), pa.int64())])
    assert len(tree.diff(edited)) == len(some)
    assert edited.get(some[0].as_py()) == (-1,)
    edited.check()


@settings(max_examples=40, deadline=None)
@given(models, st.data())
def test_same_size_updates_keep_the_old_cuts_and_history_independence(model, data):
    """Updates that keep every row's size take the old leaf ends as cuts (mutate's
    shortcut); the result must still be the tree a fresh build gives."""
    if not model:
        return
    nodes = tiny_nodes()
    tree = build(nodes, model)
    ids = data.draw(st.lists(st.sampled_from(sorted(model)), min_size=1, unique=True))
    upserts = {i: (model[i][0], data.draw(st.floats(allow_nan=False, width=64))) for i in ids}
    edited = edit(tree, upserts, set())
    assert edited.root == build(tiny_nodes(), {**model, **upserts}).root
    edited.check()


@settings(max_examples=40, deadline=None)
@given(models, st.data())
def test_in_place_updates_build_the_same_tree(model, data):
    """Updates that keep every cell's byte size are written into the old leaves
    (codec/patch.py): the tree must be the one a fresh build gives, and the path
    must really be taken when no old or new value is NULL."""
    import arbordb.engine.tree.mutate as mutate

    if not model:
        return
    taken = []
    original = mutate.patch_leaves

    def spy(*args):
        result = original(*args)
        taken.append(result is not None)
        return result

    nodes = tiny_nodes()
    tree = build(nodes, model)
    ids = data.draw(st.lists(st.sampled_from(sorted(model)), min_size=1, unique=True))
    upserts = {}
    for i in ids:
        label, score = model[i]
        new_label = None if label is None else label[::-1]  # same bytes, other order
        upserts[i] = (new_label, data.draw(st.floats(width=64)))
    mutate.patch_leaves = spy
    try:
        edited = edit(tree, upserts, set())
    finally:
        mutate.patch_leaves = original
    # (NaN scores make a contents comparison useless; equal roots say more: the
    # NaN bit pattern is canonical in both trees)
    assert edited.root == build(tiny_nodes(), {**model, **upserts}).root
    if all(model[i][0] is not None and model[i][1] is not None for i in ids):
        assert taken == [True]
    edited.check()


def test_point_lookups_read_rows_from_leaf_bytes(monkeypatch):
    """A lookup reads its row from the leaf's bytes (codec/point.py) and decodes no
    leaf, unless a column type needs pyarrow to build its value."""
    nodes = tiny_nodes()
    tree = build(nodes, {i: (f"v{i}", float(i)) for i in range(200)})
    decoded = []
    real = nodes.decode_leaves
    monkeypatch.setattr(nodes, "decode_leaves", lambda a, t: decoded.append(len(a)) or real(a, t))
    for _ in range(3):
        assert tree.get(keys_of([42])[0].as_py()) == ("v42", 42.0)
    assert tree.get(keys_of([1000])[0].as_py()) is None
    assert decoded == []
    dates = ProllyTree.build(
        nodes, keys_of([1, 2]), [pa.array([datetime.date(2026, 1, 1), None])], [pa.date32()]
    )
    assert dates.get(keys_of([1])[0].as_py()) == (datetime.date(2026, 1, 1),)
    assert dates.get(keys_of([2])[0].as_py()) == (None,)
    assert decoded == [1]  # the leaf cache keeps it for the second lookup


@pytest.mark.parametrize("damage", ["version", "truncated"])
def test_a_damaged_leaf_is_named_on_every_byte_level_road(damage):
    """Point reads, bulk lookups, value-byte diffs and in-place updates parse leaf
    bytes themselves; a leaf that does not parse raises CorruptChunk naming it,
    and the update writes nothing."""
    nodes = tiny_nodes()
    model = {i: (f"v{i:03d}", float(i)) for i in range(300)}
    tree = build(nodes, model)
    edited = edit(tree, {7: ("w007", 1.5)}, set())  # same sizes: leaves pair up
    (bad,) = set(leaf_entries(nodes, edited.root).addresses) - set(
        leaf_entries(nodes, tree.root).addresses
    )
    store = nodes.store
    data = store._chunks[bad]
    store._chunks[bad] = b"\x09" + data[1:] if damage == "version" else data[:40]
    fresh = NodeStore(store, leaf_rule=TINY_LEAF, internal_rule=TINY_INTERNAL)
    damaged = ProllyTree(fresh, edited.root, TYPES)
    key = keys_of([7])
    for road in (
        lambda: damaged.get(key[0].as_py()),
        lambda: lookup(damaged, key),
        lambda: ProllyTree(fresh, tree.root, TYPES).diff(damaged),
    ):
        with pytest.raises(CorruptChunk) as info:
            road()
        assert info.value.address == bad
    chunks = store.stats()["chunks"]
    with pytest.raises(CorruptChunk) as info:
        edit(damaged, {7: ("x007", 2.5)}, set())
    assert info.value.address == bad and store.stats()["chunks"] == chunks


def test_point_lookups_parse_a_leaf_header_once(monkeypatch):
    """``NodeStore.row`` keeps each leaf's buffers and parsed header by address
    (``point_leaf``): lookups in a leaf already read parse nothing again, and still
    answer every key (present or not)."""
    from arbordb.engine.tree import nodes as nodes_module

    nodes = tiny_nodes()
    model = {i: (f"l{i}", i / 2) for i in range(0, 400, 2)}
    tree = build(nodes, model)
    parsed: list[bytes] = []
    real_chunk, real_read = nodes_module.point_leaf_of_chunk, nodes_module.read_point_leaf

    def counting_chunk(data):
        parsed.append(data)
        return real_chunk(data)

    def counting_read(store, address):
        parsed.append(address)
        return real_read(store, address)

    monkeypatch.setattr(nodes_module, "point_leaf_of_chunk", counting_chunk)
    monkeypatch.setattr(nodes_module, "read_point_leaf", counting_read)
    for _ in range(3):
        for i in range(-1, 402):
            assert tree.get(encode_key([i], [pa.int64()])) == model.get(i)
    leaves = len(leaf_entries(nodes, tree.root, None, None).addresses)
    assert len(parsed) == leaves > 1


@settings(max_examples=40, deadline=None)
@given(models, st.data())
def test_leaves_that_keep_their_bounds_leave_their_parents_uncut(model, data):
    """Labels that change length re-cut the edited leaves; where every leaf keeps its
    keys and row count, the internal nodes keep their cuts and are only written again
    with new addresses (relevel.py, no ``_recut``), and the tree is a fresh build's."""
    import arbordb.engine.tree.relevel as relevel

    if not model:
        return
    nodes = tiny_nodes()
    tree = build(nodes, model)
    ids = data.draw(st.lists(st.sampled_from(sorted(model)), min_size=1, unique=True))
    upserts = {i: ((model[i][0] or "") + "x", model[i][1]) for i in ids}
    recuts = []
    original = relevel._recut

    def spy(*args):
        recuts.append(1)
        return original(*args)

    relevel._recut = spy
    try:
        edited = edit(tree, upserts, set())
    finally:
        relevel._recut = original
    assert edited.root == build(tiny_nodes(), {**model, **upserts}).root
    edited.check()
    old, new = leaf_entries(nodes, tree.root), leaf_entries(nodes, edited.root)
    if (old.keys, list(old.counts)) == (new.keys, list(new.counts)):
        assert not recuts
