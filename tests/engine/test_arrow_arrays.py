"""The buffer-built arrays equal what ``pa.array`` builds, and booleans read back as
``to_numpy`` reads them (NULL as False)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.arrow_arrays import binaries, bools, int64s, numpy_bools, texts


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
