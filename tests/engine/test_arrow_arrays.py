"""The buffer-built arrays equal what ``pa.array`` builds, and booleans read back as
``to_numpy`` reads them (NULL as False)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.arrow_arrays import (
    binaries,
    bools,
    int64s,
    numpy_bools,
    numpy_numbers,
    scalar,
    texts,
    values_array,
)


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
    pa.timestamp("us"): st.integers(-(2**62), 2**62),  # integers: stored as they are
    pa.timestamp("s", tz="UTC"): st.integers(-(2**40), 2**40),
    pa.duration("ms"): st.integers(-(2**62), 2**62),
    pa.list_(pa.int64()): st.lists(st.integers(-5, 5), max_size=3),
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


NUMPY_KINDS = [
    (np.int64, pa.int64()),
    (np.int32, pa.int64()),
    (np.int64, pa.int32()),  # narrowing: checked value by value, as pa.array does
    (np.uint8, pa.uint16()),
    (np.float64, pa.float64()),
    (np.bool_, pa.bool_()),
    (np.int64, pa.string()),  # no numeric layout: through Python values
]


@given(st.lists(st.integers(0, 100), min_size=1, max_size=30), st.sampled_from(NUMPY_KINDS))
def test_values_array_of_a_numpy_array(values, kinds):
    dtype, kind = kinds
    data = np.array(values, dtype)
    if kind == pa.string():
        with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
            pa.array(data.tolist(), kind)
        with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
            values_array(data, kind)
        return
    built = values_array(data, kind)
    built.validate(full=True)
    assert built.equals(pa.array(data.tolist(), kind))


def test_empty_values_of_any_type():
    for kind in (pa.binary(), pa.struct([("a", pa.int8())]), pa.decimal128(5, 2), pa.int16()):
        assert values_array([], kind).equals(pa.array([], kind))


@given(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=30), st.integers(0, 9))
def test_numpy_numbers_read_the_buffer(values, start):
    array = pa.array(values, pa.int32()).slice(min(start, len(values)))
    assert numpy_numbers(array).tolist() == array.to_pylist()
    with pytest.raises(ValueError, match="NULL"):
        numpy_numbers(pa.array([1, None], pa.int32()))


def test_scalar_equals_pa_scalar():
    for value, kind in (
        ("x", pa.string()),
        (False, pa.bool_()),
        (0, pa.int32()),
        (None, pa.int8()),
    ):
        assert scalar(value, kind).equals(pa.scalar(value, kind))
