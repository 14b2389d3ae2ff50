"""Arrow arrays from numpy arrays and Python bytes, and boolean arrays back, built
on their buffers.

``pa.array`` imports pandas on its first call in a process (pyarrow asks whether
the values are a pandas object, even for a numpy array), and so does ``to_numpy``
of an array it cannot hand over without a copy, booleans included: 0.3-1 s that
the first merge in a new process would pay for nothing. These helpers write and
read the buffers directly and never reach pandas; ``values_array`` does so for Python
values of the common scalar types (the rows a one-row UPDATE writes, the columns of the
system tables), ``scalar`` for the Python values a compute function is given (it
converts them the same way), ``empty`` for an empty array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa


def int64s(values: np.ndarray, nulls: np.ndarray | None = None) -> pa.Int64Array:
    """``values`` as an int64 array (take indices), NULL where ``nulls`` is True."""
    data = np.ascontiguousarray(values, dtype=np.int64)
    validity = None
    if nulls is not None and np.any(nulls):
        validity = pa.py_buffer(np.packbits(~np.asarray(nulls, bool), bitorder="little"))
    return pa.Array.from_buffers(pa.int64(), len(data), [validity, pa.py_buffer(data)])


def bools(values: np.ndarray) -> pa.BooleanArray:
    """A numpy bool array as an Arrow boolean array (a filter or ``if_else`` mask)."""
    flags = np.asarray(values, bool)
    bits = pa.py_buffer(np.packbits(flags, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(flags), [None, bits])


def numpy_bools(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow boolean array as numpy bools, NULL as False."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    n = len(array)
    if n == 0:
        return np.zeros(0, bool)
    validity, values = array.buffers()
    flags = _unpacked(values, array.offset, n)
    if array.null_count:
        flags &= _unpacked(validity, array.offset, n)
    return flags


def empty(kind: pa.DataType) -> pa.Array:
    """An empty array of ``kind`` (``pa.array([], kind)`` imports pandas)."""
    return pa.nulls(0, kind)


def numpy_numbers(array: pa.Array) -> np.ndarray:
    """A numeric Arrow array without NULLs as numpy, on its buffer (``to_numpy`` may import
    pandas)."""
    if array.null_count:
        raise ValueError("numpy_numbers: the array holds NULLs")
    dtype = _NUMPY_TYPES[array.type]
    data = np.frombuffer(array.buffers()[1], dtype)
    return data[array.offset : array.offset + len(array)]


def _unpacked(bitmap: pa.Buffer, offset: int, n: int) -> np.ndarray:
    """Bits ``offset`` .. ``offset + n`` of an Arrow bitmap as numpy bools."""
    bits = np.frombuffer(bitmap, np.uint8)
    return np.unpackbits(bits, count=offset + n, bitorder="little")[offset:].view(bool)


def scalar(value: object, kind: pa.DataType) -> pa.Scalar:
    """``value`` as an Arrow scalar of ``kind`` (``pa.scalar``, and a compute function
    given a Python value, import pandas)."""
    return values_array([value], kind)[0]


def binaries(values: Sequence[bytes], kind: pa.DataType | None = None) -> pa.Array:
    """Python bytes as a binary array (``kind`` pa.string() for UTF-8 text given as bytes)."""
    offsets = np.zeros(len(values) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, values), np.int64, len(values)), out=offsets[1:])
    data = pa.py_buffer(b"".join(values))
    return pa.Array.from_buffers(
        kind or pa.binary(), len(values), [None, pa.py_buffer(offsets), data]
    )


def texts(values: Sequence[str]) -> pa.StringArray:
    """Python strings as a string array."""
    return binaries([v.encode("utf-8") for v in values], pa.string())


_NUMPY_TYPES = {
    pa.int8(): np.int8,
    pa.int16(): np.int16,
    pa.int32(): np.int32,
    pa.int64(): np.int64,
    pa.uint8(): np.uint8,
    pa.uint16(): np.uint16,
    pa.uint32(): np.uint32,
    pa.uint64(): np.uint64,
    pa.float32(): np.float32,
    pa.float64(): np.float64,
}


def values_array(values: Sequence[object] | np.ndarray, kind: pa.DataType) -> pa.Array:
    """Python values (None for NULL), or a numpy array, as an array of ``kind``: integers,
    floats, booleans, text, bytes, and integers as timestamps, dates or durations, built
    on their buffers; any other type by ``pa.array`` (which may import pandas). Values of
    the wrong Python type raise as ``pa.array`` would."""
    if isinstance(values, np.ndarray):
        return _numpy_array(values, kind)
    n = len(values)
    if n == 0:
        return empty(kind)
    nulls = [v is None for v in values]
    validity = (
        pa.py_buffer(np.packbits(~np.asarray(nulls, bool), bitorder="little"))
        if any(nulls)
        else None
    )
    stored = _INTEGER_LAYOUTS.get(kind.id)  # timestamps, dates, times: integers stored
    if stored is not None and all(v is None or type(v) is int for v in values):
        data = np.array([0 if v is None else v for v in values], dtype=stored)
        return pa.Array.from_buffers(kind, n, [validity, pa.py_buffer(data)])
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        if not all(
            v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values
        ):
            return pa.array(list(values), kind)  # let pyarrow word the refusal
        dtype = _NUMPY_TYPES.get(kind)
        if dtype is None:
            return pa.array(list(values), kind)
        filled = [0 if v is None else v for v in values]
        try:
            data = np.array(filled, dtype=dtype)
        except (OverflowError, ValueError):
            return pa.array(list(values), kind)
        if pa.types.is_integer(kind) and any(
            int(d) != v for d, v in zip(data, filled, strict=True)
        ):
            return pa.array(list(values), kind)  # out of range or fractional
        return pa.Array.from_buffers(kind, n, [validity, pa.py_buffer(data)])
    if pa.types.is_boolean(kind) and all(v is None or isinstance(v, bool) for v in values):
        flags = np.fromiter((bool(v) for v in values), bool, n)
        bits = pa.py_buffer(np.packbits(flags, bitorder="little"))
        return pa.Array.from_buffers(kind, n, [validity, bits])
    texts_ok = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    bytes_ok = pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
    if (texts_ok and all(v is None or isinstance(v, str) for v in values)) or (
        bytes_ok and all(v is None or isinstance(v, bytes) for v in values)
    ):
        raw = [_as_bytes(v) for v in values]
        wide = pa.types.is_large_string(kind) or pa.types.is_large_binary(kind)
        offsets = np.zeros(n + 1, np.int64 if wide else np.int32)
        np.cumsum(np.fromiter(map(len, raw), np.int64, n), out=offsets[1:])
        buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(raw))]
        return pa.Array.from_buffers(kind, n, buffers)
    return pa.array(list(values), kind)


# Arrow types whose every integer of this width is a valid value (not date64 or times:
# they hold whole days or a time of day).
_INTEGER_LAYOUTS = {
    pa.timestamp("s").id: np.int64,
    pa.date32().id: np.int32,
    pa.duration("us").id: np.int64,
}


def _numpy_array(values: np.ndarray, kind: pa.DataType) -> pa.Array:
    """A numpy array without NULLs as an array of ``kind``: numbers and booleans on their
    buffers, anything else through Python values."""
    dtype = _NUMPY_TYPES.get(kind)
    if dtype is not None and values.dtype.kind in "iuf" and np.can_cast(values, dtype):
        data = np.ascontiguousarray(values, dtype=dtype)
        return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])
    if pa.types.is_boolean(kind) and values.dtype == np.bool_:
        return bools(values)
    return values_array(values.tolist(), kind)


def _as_bytes(value: object) -> bytes:
    """A checked text or bytes value as bytes (NULL as none)."""
    if isinstance(value, str):
        return value.encode("utf-8")
    return value if isinstance(value, bytes) else b""
