"""Reading one row of an encoded leaf with plain Python, for point lookups.

Decoding a whole leaf (``leaf.py``) builds Arrow arrays of all its ~500 rows;
a point lookup needs one row. ``row_of`` reads the header (``leaf.py``'s
layout), binary-searches the key bytes (fixed-width keys are compared as byte
strings, variable-width ones through their offsets) and slices the row's cells
out of the value buffers: a few microseconds, no numpy call.

It reads the column types whose Python values are plain to build, exactly as
``pyarrow`` gives them (``Array[i].as_py()``): signed and unsigned integers,
floats, bool, string (UTF-8) and binary. ``readable`` tells whether a row of
given types can be read this way; other types take the decoding path.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Sequence

import pyarrow as pa

from .columns import buffer_count
from .leaf import leaf_header

_TWO_U32 = struct.Struct("<II")
_FIXED = [
    (pa.types.is_int8, "b"), (pa.types.is_int16, "h"), (pa.types.is_int32, "i"),
    (pa.types.is_int64, "q"), (pa.types.is_uint8, "B"), (pa.types.is_uint16, "H"),
    (pa.types.is_uint32, "I"), (pa.types.is_uint64, "Q"), (pa.types.is_float32, "f"),
    (pa.types.is_float64, "d"),
]  # fmt: skip


def readable(types: Sequence[pa.DataType]) -> bool:
    """Whether ``row_of`` can read rows of these value column types."""
    return _readers_of(types) is not None


def row_of(
    chunk: bytes,
    key: bytes,
    types: Sequence[pa.DataType],
    header: tuple[int, int, list[int], tuple[int, ...]] | None = None,
) -> tuple | None:
    """The values of the row stored under ``key`` in the leaf ``chunk``, or None
    if it holds no such key. ``types`` must be ``readable``; ``header``: the chunk's
    ``leaf_header`` when the caller kept it (``NodeStore`` does, by address), or the
    header of a leaf's buffers laid out otherwise (``column_frames.PointLeaf``).

    Raises:
        FormatVersionError: the chunk is not a leaf of this format.
        ValueError, IndexError, struct.error: the chunk is malformed.
    """
    readers = _readers_of(types)
    assert readers is not None, "row_of needs readable types"
    return _row(readers, chunk, key, leaf_header(chunk) if header is None else header)


def row_reader(
    types: Sequence[pa.DataType],
) -> Callable[[bytes, bytes, tuple[int, int, list[int], tuple[int, ...]]], tuple | None] | None:
    """``row_of`` with its column readers bound, called as ``read(chunk, key, header)``
    (a prepared point reader looks them up once); None when ``types`` is not readable."""
    readers = _readers_of(types)
    return None if readers is None else functools.partial(_row, readers)


def _row(
    readers: list, chunk: bytes, key: bytes, header: tuple[int, int, list[int], tuple[int, ...]]
) -> tuple | None:
    n, w, starts, lengths = header
    if w:  # a binary search of the fixed-width keys, inline: it runs once per lookup
        at = starts[0]
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) >> 1
            p = at + mid * w
            if chunk[p : p + w] < key:
                lo = mid + 1
            else:
                hi = mid
        i = lo
        found = i < n and chunk[at + i * w : at + i * w + w] == key
        first_value = 1
    else:
        i = _search_offsets(chunk, starts[0], starts[1], n, key)
        found = i < n and _key_at(chunk, starts[0], starts[1], i) == key
        first_value = 2
    if not found:
        return None
    values: list[object] = []
    index = first_value
    for read, count in readers:
        if lengths[index] and not (chunk[starts[index] + i // 8] >> (i % 8)) & 1:
            values.append(None)
        else:
            values.append(read(chunk, starts, index, i))
        index += count
    return tuple(values)


def _search_offsets(chunk: bytes, offsets_at: int, data_at: int, n: int, key: bytes) -> int:
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if _key_at(chunk, offsets_at, data_at, mid) < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _key_at(chunk: bytes, offsets_at: int, data_at: int, i: int) -> bytes:
    start, end = _TWO_U32.unpack_from(chunk, offsets_at + 4 * i)
    return chunk[data_at + start : data_at + end]


# The readers of the types sequences seen, by identity: hashing pyarrow types costs ~1 us
# each, and a tree passes the same tuple on every lookup. An entry holds its sequence, so
# its id names no other object while it is kept.
_BY_IDENTITY: dict[int, tuple[tuple[pa.DataType, ...], object]] = {}
_BY_IDENTITY_SIZE = 1024


def _readers_of(types: Sequence[pa.DataType]):
    """``_readers(tuple(types))``, found by the identity of ``types`` when that tuple
    was seen (a list could change under the same identity)."""
    if type(types) is not tuple:
        return _readers(tuple(types))
    held = _BY_IDENTITY.get(id(types))
    if held is not None and held[0] is types:
        return held[1]
    readers = _readers(tuple(types))
    if len(_BY_IDENTITY) >= _BY_IDENTITY_SIZE:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[id(types)] = (types, readers)
    return readers


@functools.cache
def _readers(types: tuple[pa.DataType, ...]):
    """Per column: a function (chunk, buffer starts, first buffer, row) -> value, and
    how many buffers the column has; None if a type is not readable here."""
    readers: list[tuple[Callable[[bytes, list[int], int, int], object], int]] = []
    for t in types:
        if pa.types.is_boolean(t):
            readers.append((_read_bool, 2))
        elif pa.types.is_string(t):
            readers.append((_read_string, 3))
        elif pa.types.is_binary(t):
            readers.append((_read_binary, 3))
        else:
            fmt = next((f for test, f in _FIXED if test(t)), None)
            if fmt is None:
                return None
            readers.append((functools.partial(_read_fixed, struct.Struct("<" + fmt)), 2))
        assert readers[-1][1] == buffer_count(t)
    return readers


def _read_fixed(fmt: struct.Struct, chunk: bytes, starts: list[int], index: int, i: int):
    return fmt.unpack_from(chunk, starts[index + 1] + i * fmt.size)[0]


def _read_bool(chunk: bytes, starts: list[int], index: int, i: int) -> bool:
    return bool((chunk[starts[index + 1] + i // 8] >> (i % 8)) & 1)


def _read_binary(chunk: bytes, starts: list[int], index: int, i: int) -> bytes:
    start, end = _TWO_U32.unpack_from(chunk, starts[index + 1] + 4 * i)
    return chunk[starts[index + 2] + start : starts[index + 2] + end]


def _read_string(chunk: bytes, starts: list[int], index: int, i: int) -> str:
    return _read_binary(chunk, starts, index, i).decode("utf-8")
