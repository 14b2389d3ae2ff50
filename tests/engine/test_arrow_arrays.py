"""The buffer-built arrays equal what ``pa.array`` builds, and booleans read back as
``to_numpy`` reads them (NULL as False)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.arrow_arrays import binaries, bools, int64s, numpy_bools, texts, values_array


@given(st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1), st.booleans()), max_size=40))
def test_int64s_with_nulls(items):
    values = np.array([v for v, _ in items], np.int64)
    nulls = np.array([n for _, n in items], bool)
    built = int64s(values, nulls)
    assert built.equals(pa.array(values, pa.int64(), mask=nulls))
    assert int64s(values).equals(pa.array(values, pa.int64()))


@given(st.lists(st.sampled_from([True, False, None]), max_size=40), st.integers(0, 9))
def test_booleans_both_ways(flags, start):
    array = pa.array(flags, pa.bool_())
    sliced = array.slice(min(start, len(flags)))
    expected = sliced.fill_null(False).to_numpy(zero_copy_only=False)
    assert np.array_equal(numpy_bools(sliced), expected)
    assert np.array_equal(
        numpy_bools(pa.chunked_array([sliced, sliced], pa.bool_())), [*expected] * 2
    )
    assert bools(expected).equals(pa.array(expected, pa.bool_()))


@given(st.lists(st.binary(max_size=6), max_size=20), st.lists(st.text(max_size=4), max_size=20))
def test_binaries_and_texts(blobs, words):
    assert binaries(blobs).equals(pa.array(blobs, pa.binary()))
    assert texts(words).equals(pa.array(words, pa.string()))


KINDS = {
    pa.int8(): st.integers(-(2**7), 2**7 - 1),
    pa.int32(): st.integers(-(2**31), 2**31 - 1),
    pa.int64(): st.integers(-(2**63), 2**63 - 1),
    pa.uint16(): st.integers(0, 2**16 - 1),
    pa.float32(): st.floats(width=32, allow_nan=False),
    pa.float64(): st.floats(allow_nan=False) | st.integers(-(2**53), 2**53),
    pa.bool_(): st.booleans(),
    pa.string(): st.text(),
    pa.large_string(): st.text(),
    pa.binary(): st.binary(),
    pa.date32(): st.dates(),  # any other type: pa.array
}


@given(
    st.sampled_from(sorted(KINDS, key=str)).flatmap(
        lambda kind: st.tuples(st.just(kind), st.lists(st.none() | KINDS[kind], max_size=30))
    )
)
def test_values_array_equals_pa_array(case):
    kind, values = case
    built = values_array(values, kind)
    built.validate(full=True)
    assert built.equals(pa.array(values, kind))


def test_values_array_refuses_what_pa_array_refuses():
    for values, kind in (([300], pa.int8()), (["x"], pa.int64()), ([2**70], pa.int64())):
        try:
            pa.array(values, kind)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as expected:
            with pytest.raises(type(expected)):
                values_array(values, kind)
