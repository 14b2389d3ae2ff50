"""Byte-level diff of leaf pairs (codec/sparse.py) against a plain comparison of
the rows, and reading single rows out of encoded leaves."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.codec.columns import PreparedColumn
from arbordb.engine.codec.key_batch import encode_keys
from arbordb.engine.codec.layout import LeafLayouts
from arbordb.engine.codec.leaf import PreparedKeys, encode_leaves
from arbordb.engine.codec.sparse import _DENSE_WORDS, changed_rows, find_rows, take_rows

TYPES = [pa.string(), pa.float64(), pa.bool_(), pa.int32(), pa.binary()]
cells = st.tuples(
    st.one_of(st.none(), st.sampled_from(["", "a", "b", "ab", "ba", "abc", "é"])),
    st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.5, math.nan, math.inf])),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.integers(-3, 3)),
    st.one_of(st.none(), st.sampled_from([b"", b"\0", b"xy"])),
)


def encode(keys: pa.BinaryArray, rows: list[tuple], bounds: list[int]) -> list[bytes]:
    columns = [pa.array([r[c] for r in rows], t) for c, t in enumerate(TYPES)]
    return encode_leaves(PreparedKeys(keys), [PreparedColumn(c) for c in columns], bounds)


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and str(a) == str(b))
    return a == b


@st.composite
def leaf_pairs(draw):
    n = draw(st.integers(1, 40))
    old = draw(st.lists(cells, min_size=n, max_size=n))
    new = list(old)
    for i in draw(st.lists(st.integers(0, n - 1), max_size=n)):
        new[i] = draw(cells)
    cuts = sorted(set(draw(st.lists(st.integers(1, n - 1), max_size=4)))) if n > 1 else []
    wide = draw(st.booleans())  # variable-width keys in some leaves
    return old, new, [0, *cuts, n], wide


@settings(max_examples=300, deadline=None)
@given(leaf_pairs())
def test_changed_rows_cover_exactly_the_rows_that_differ(case):
    old_rows, new_rows, bounds, wide = case
    n = len(old_rows)
    if wide:
        keys = encode_keys([pa.array([f"k{i:03d}" * (1 + i % 2) for i in range(n)])], [pa.string()])
    else:
        keys = encode_keys([pa.array(range(n), pa.int64())], [pa.int64()])
    old = LeafLayouts(encode(keys, old_rows, bounds))
    new = LeafLayouts(encode(keys, new_rows, bounds))
    differ = {i for i in range(n) if not all(map(same, old_rows[i], new_rows[i]))}
    found = changed_rows(old, new, TYPES)
    if found is None:  # refused: laid out differently, or too dense for byte mapping
        alike = old.lengths.shape == new.lengths.shape and np.array_equal(old.lengths, new.lengths)
        if alike:
            words = np.count_nonzero(old.buffer.view(np.uint64) != new.buffer.view(np.uint64))
            assert words * _DENSE_WORDS > n
        return
    leaf, row, lengths_kept = found
    assert lengths_kept == all(
        len((o[0] or "").encode()) == len((n[0] or "").encode())
        and len(o[4] or b"") == len(n[4] or b"")
        for o, n in zip(old_rows, new_rows, strict=True)
    )
    candidates = set((np.asarray(bounds)[leaf] + row).tolist())
    assert differ <= candidates
    got_keys, before = take_rows(old, leaf, row, TYPES)
    _, after = take_rows(new, leaf, row, TYPES)
    index = sorted(candidates)
    assert got_keys.to_pylist() == keys.take(pa.array(index, pa.int64())).to_pylist()
    for c in range(len(TYPES)):
        for j, i in enumerate(index):
            assert same(before[c][j].as_py(), old_rows[i][c])
            assert same(after[c][j].as_py(), new_rows[i][c])


def test_a_value_only_update_is_found_without_refusal():
    keys = encode_keys([pa.array(range(100), pa.int64())], [pa.int64()])
    rows = [("abc", float(i), i % 2 == 0, i, b"xy") for i in range(100)]
    edited = list(rows)
    edited[7] = ("xyz", 7.0, False, 7, b"xy")
    edited[50] = ("abc", 50.0, True, 51, b"xy")
    old = LeafLayouts(encode(keys, rows, [0, 40, 100]))
    new = LeafLayouts(encode(keys, edited, [0, 40, 100]))
    leaf, row, lengths_kept = changed_rows(old, new, TYPES)
    assert list(zip(leaf.tolist(), row.tolist(), strict=True)) == [(0, 7), (1, 10)]
    assert lengths_kept


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-50, 50), unique=True, max_size=60).map(sorted),
    st.lists(st.integers(-60, 60), min_size=1, max_size=30),
    st.lists(st.integers(1, 59), max_size=4),
)
def test_find_rows_is_a_binary_search_in_each_leaf(stored, probes, cuts):
    """Each probe is searched in the leaf whose last key is the first >= it (the
    last leaf past the end), as a tree lookup places it."""
    n = len(stored)
    bounds = sorted({0, n, *(c for c in cuts if c < n)}) if n else [0, 0]  # [0, 0]: the empty leaf
    keys = encode_keys([pa.array(stored, pa.int64())], [pa.int64()])
    layouts = LeafLayouts(encode(keys, [("a", 1.0, True, 1, b"")] * n, bounds))
    lasts = [stored[b - 1] for b in bounds[1:]] if n else [0]
    leaf = np.minimum(np.searchsorted(lasts, probes, "left"), len(bounds) - 2)
    row, equal = find_rows(layouts, leaf, encode_keys([pa.array(probes, pa.int64())], [pa.int64()]))
    for p, at, r, e in zip(probes, leaf.tolist(), row.tolist(), equal.tolist(), strict=True):
        segment = stored[bounds[at] : bounds[at + 1]]
        assert r == int(np.searchsorted(segment, p, "left"))
        assert e == (p in segment)


def test_find_rows_refuses_keys_of_several_widths():
    keys = encode_keys([pa.array(["a", "bb", "ccc"])], [pa.string()])
    layouts = LeafLayouts(encode(keys, [("a", 1.0, True, 1, b"")] * 3, [0, 3]))
    assert find_rows(layouts, np.zeros(1, np.int64), keys.slice(0, 1)) is None
