"""Arrow arrays from numpy arrays and Python bytes, and boolean arrays back, built
on their buffers.

``pa.array`` imports pandas on its first call in a process (pyarrow asks whether
the values are a pandas object, even for a numpy array), and so does ``to_numpy``
of an array it cannot hand over without a copy, booleans included: 0.3-1 s that
the first merge in a new process would pay for nothing. These helpers write and
read the buffers directly and never reach pandas.
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
    if array.null_count:
        array = array.fill_null(False)
    n = len(array)
    if n == 0:
        return np.zeros(0, bool)
    bits = np.frombuffer(array.buffers()[1], np.uint8)
    return np.unpackbits(bits, count=array.offset + n, bitorder="little")[array.offset :].view(bool)


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
