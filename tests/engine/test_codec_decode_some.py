"""``codec.leaf.decode_picked`` (the streamed read's decoder) of whole leaves' picked
buffers against decoding every leaf on its own with ``decode_leaves``: any columns,
with or without the keys, over leaves whose key widths differ (so their buffer counts
differ), NULLs, NaN, lists, and leaves that do not parse."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.chunks.column_frames import block_of_leaves, pick_from_leaves
from arbordb.engine.codec.columns import PreparedColumn
from arbordb.engine.codec.leaf import (
    PreparedKeys,
    buffer_pick,
    decode_leaves,
    decode_picked,
    encode_leaves,
)
from arbordb.engine.errors import FormatVersionError

TYPES = [pa.string(), pa.float64(), pa.bool_(), pa.int32(), pa.binary(), pa.list_(pa.int16())]
cells = st.tuples(
    st.one_of(st.none(), st.sampled_from(["", "a", "ab", "é", "x" * 40])),
    st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.5, math.nan, math.inf])),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.integers(-3, 3)),
    st.one_of(st.none(), st.sampled_from([b"", b"\0", b"xy"])),
    st.one_of(st.none(), st.lists(st.one_of(st.none(), st.integers(-5, 5)), max_size=3)),
)


@st.composite
def leaves(draw):
    n = draw(st.integers(1, 60))
    rows = draw(st.lists(cells, min_size=n, max_size=n))
    cuts = sorted(set(draw(st.lists(st.integers(1, n - 1), max_size=6)))) if n > 1 else []
    # keys of one width, or some leaves of varying width (two key buffers, not one)
    varying = draw(st.booleans())
    keys = [b"k%03d" % i + (b"!" * (i % 2) if varying else b"") for i in range(n)]
    columns = [pa.array([r[c] for r in rows], t) for c, t in enumerate(TYPES)]
    chunks = encode_leaves(
        PreparedKeys(pa.array(keys, pa.binary())),
        [PreparedColumn(c) for c in columns],
        [0, *cuts, n],
    )
    wanted = draw(st.lists(st.integers(0, len(TYPES) - 1), unique=True, max_size=len(TYPES)))
    return chunks, wanted, draw(st.booleans())


@settings(max_examples=200, deadline=None)
@given(leaves())
def test_decode_some_equals_decoding_each_leaf(case):
    chunks, wanted, with_keys = case
    keys, values = decode_some(chunks, TYPES, wanted, keys=with_keys)
    alone = [decode_leaves([c], TYPES) for c in chunks]
    assert set(values) == set(wanted)
    for i in wanted:
        expected = pa.concat_arrays([columns[i] for _, columns in alone])
        assert values[i].to_pylist() == expected.to_pylist() or _same_nan(values[i], expected)
    if with_keys:
        assert keys.to_pylist() == pa.concat_arrays([k for k, _ in alone]).to_pylist()
    else:
        assert keys is None


def decode_some(chunks, types, wanted, *, keys):
    """The wanted columns of whole leaves' bytes, as a scan of uncompressed records reads them."""
    pick = buffer_pick(types, wanted, keys=keys)
    block = block_of_leaves(pick_from_leaves(chunks, pick), keys)
    return decode_picked(block, types, wanted, keys=keys)


def _same_nan(a: pa.Array, b: pa.Array) -> bool:
    return [repr(x) for x in a.to_pylist()] == [repr(x) for x in b.to_pylist()]


def test_a_leaf_of_another_format_version_is_refused():
    keys = pa.array([b"a", b"b", b"c"], pa.binary())
    chunks = encode_leaves(
        PreparedKeys(keys), [PreparedColumn(pa.array([1, 2, 3], pa.int32()))], [0, 1, 3]
    )
    bad = b"\x09" + chunks[1][1:]
    with pytest.raises(FormatVersionError):
        decode_some([chunks[0], bad], [pa.int32()], [0], keys=False)
    with pytest.raises(ValueError, match="truncated"):
        decode_some([chunks[0], chunks[1][:-4]], [pa.int32()], [0], keys=False)
