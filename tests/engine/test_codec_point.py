"""Reading one row of an encoded leaf with plain Python (codec/point.py), against
decoding the whole leaf with pyarrow."""

from __future__ import annotations

import math
import struct

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.codec.columns import PreparedColumn
from arbordb.engine.codec.key_batch import encode_keys
from arbordb.engine.codec.leaf import PreparedKeys, decode_leaves, encode_leaves
from arbordb.engine.codec.point import readable, row_of
from arbordb.engine.errors import FormatVersionError

TYPES = [pa.int8(), pa.uint64(), pa.float32(), pa.float64(), pa.bool_(), pa.string(), pa.binary()]
CELLS = [
    st.integers(-128, 127),
    st.integers(0, 2**64 - 1),
    st.sampled_from([0.5, -1.25, math.inf]),
    st.floats(allow_nan=True),
    st.booleans(),
    st.text(max_size=6),
    st.binary(max_size=6),
]
rows = st.tuples(*(st.one_of(st.none(), cell) for cell in CELLS))


def same(a, b) -> bool:
    return a == b or (
        isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    )


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(st.integers(-1000, 1000), rows, min_size=1, max_size=60),
    st.lists(st.integers(-1100, 1100), max_size=10),
    st.booleans(),
)
def test_row_of_reads_what_decoding_gives(model, probes, text_keys):
    ids = sorted(model)
    if text_keys:  # variable-width keys
        key_values = pa.array([f"k{i}" * (1 + i % 3) for i in ids])
        keys = encode_keys([key_values], [pa.string()])
        order = pa.compute.sort_indices(keys)
        keys, ids = keys.take(order), [ids[i] for i in order.to_pylist()]
        probe_keys = encode_keys(
            [pa.array([f"k{p}" * (1 + p % 3) for p in probes], pa.string())], [pa.string()]
        )
    else:
        keys = encode_keys([pa.array(ids, pa.int64())], [pa.int64()])
        probe_keys = encode_keys([pa.array(probes, pa.int64())], [pa.int64()])
    columns = [pa.array([model[i][c] for i in ids], t) for c, t in enumerate(TYPES)]
    (chunk,) = encode_leaves(
        PreparedKeys(keys), [PreparedColumn(c) for c in columns], [0, len(ids)]
    )
    _, decoded = decode_leaves([chunk], TYPES)
    stored = {k: r for r, k in enumerate(keys.to_pylist())}
    for key in [*keys.to_pylist(), *probe_keys.to_pylist()]:
        got = row_of(chunk, key, TYPES)
        if key not in stored:
            assert got is None
            continue
        want = tuple(c[stored[key]].as_py() for c in decoded)
        assert all(map(same, got, want)), (got, want)


def test_other_types_are_not_read_this_way():
    assert readable(TYPES)
    for t in (pa.decimal128(10, 2), pa.date32(), pa.timestamp("us"), pa.list_(pa.int64())):
        assert not readable([pa.int64(), t])


@pytest.mark.parametrize(
    "damage, error",
    [
        (lambda c: b"\x09" + c[1:], FormatVersionError),  # another format version
        (lambda c: c[:40], ValueError),  # buffers run past the end
        (lambda c: c[:10], struct.error),  # not even a header
    ],
)
def test_a_malformed_leaf_raises(damage, error):
    keys = encode_keys([pa.array([1, 2], pa.int64())], [pa.int64()])
    (chunk,) = encode_leaves(
        PreparedKeys(keys), [PreparedColumn(pa.array([3, 4], pa.int64()))], [0, 2]
    )
    with pytest.raises(error):
        row_of(damage(chunk), keys[0].as_py(), [pa.int64()])


def test_the_readers_of_a_types_tuple_are_found_by_identity(monkeypatch):
    """A tree passes the same types tuple on every lookup: its readers are found without
    hashing the pyarrow types again; a list (which may change) is looked at afresh."""
    from arbordb.engine.codec import point

    types = (pa.int8(), pa.string())
    assert readable(types)
    monkeypatch.setattr(point, "_readers", None)  # hashing the types would now fail
    assert readable(types)
    monkeypatch.undo()
    listed = [pa.int8()]
    assert readable(listed)
    listed.append(pa.list_(pa.int8()))
    assert not readable(listed)
