"""Key encoding, vectorised: whole key columns to and from ``pa.binary()`` key arrays.

The byte format, its worked examples and the invariants cited below as
``invariant (n)`` are in ``keys.py``; this module is the column path over the same
format (``keys.py`` holds the scalar path, ``encode_key``/``decode_key``, and the two
agree byte for byte). Every step works on whole numpy/Arrow buffers: no path loops
over rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.stride_tricks import sliding_window_view

from ..arrow_arrays import empty
from ..errors import InvalidInput, KeyTooLarge
from .keys import _DECIMAL_BYTES, _FLOAT_NAN, ESCAPE, TERMINATOR, VALUE, _Field, _field, _malformed

__all__ = ["MAX_KEY_BYTES", "decode_keys", "encode_keys", "refuse_long_keys"]

_MAX_OFFSET = 2**31 - 1  # pa.binary() has int32 offsets
# The longest encoded primary key or indexed value a table stores: Dolt's and
# MySQL's (InnoDB) limit. Keys are copied into internal nodes and compared byte
# by byte on every lookup, so one long key slows every read of its tree.
MAX_KEY_BYTES = 3072


def refuse_long_keys(keys: pa.Array | pa.ChunkedArray, what: str) -> None:
    """Raise ``KeyTooLarge`` if an encoded key in ``keys`` passes ``MAX_KEY_BYTES``;
    ``what`` names the key in the message ("the primary key (id)")."""
    if len(keys) == 0:
        return
    longest = pc.max(pc.binary_length(keys)).as_py() or 0
    if longest > MAX_KEY_BYTES:
        raise KeyTooLarge(
            f"{what} of a row is {longest:,} bytes long (encoded); a key holds at most "
            f"{MAX_KEY_BYTES:,} bytes, as in Dolt and MySQL: shorten the value, or key or "
            "index the table by another column"
        )


def _fields(types: Sequence[pa.DataType]) -> list[_Field]:
    if len(types) == 0:
        raise InvalidInput("a key needs at least one field type (types is empty)")
    return [_field(t) for t in types]


# --- vectorised fixed-width value parts ---------------------------------------


def _sign_flip(u: np.ndarray, bits: int) -> np.ndarray:
    return u ^ np.array(1 << (bits - 1), dtype=u.dtype)


def _big_endian_matrix(u: np.ndarray, width: int) -> np.ndarray:
    """Unsigned native values -> an (n, width) uint8 matrix, big-endian per row."""
    return u.astype(f">u{width}", copy=False).view(np.uint8).reshape(len(u), width)


def _from_big_endian(mat: np.ndarray, width: int) -> np.ndarray:
    """An (n, width) uint8 matrix -> unsigned native values (the inverse)."""
    return np.ascontiguousarray(mat).view(f">u{width}").ravel().astype(f"u{width}")


def _values_buffer(arr: pa.Array, f: _Field) -> np.ndarray:
    """The Arrow values buffer of ``arr`` as numpy, NULL slots included (any bytes)."""
    n = len(arr)
    buf = arr.buffers()[1]
    if f.kind == "decimal":
        flat = np.frombuffer(
            buf, np.uint8, count=n * _DECIMAL_BYTES, offset=arr.offset * _DECIMAL_BYTES
        )
        return flat.reshape(n, _DECIMAL_BYTES)
    assert f.storage is not None
    size = f.storage.itemsize
    return np.frombuffer(buf, f.storage, count=n, offset=arr.offset * size)


def _encode_fixed(arr: pa.Array, f: _Field) -> np.ndarray:
    """The value parts of every row of ``arr`` as an (n, width) uint8 matrix."""
    if f.kind == "bool":
        values = arr.fill_null(False).to_numpy(zero_copy_only=False)
        return values.view(np.uint8).reshape(-1, 1)
    raw = _values_buffer(arr, f)
    w = f.width
    assert w is not None
    if f.kind == "decimal":
        mat = raw[:, ::-1].copy()  # Arrow stores little-endian two's complement
        mat[:, 0] ^= 0x80
        return mat
    if f.kind == "uint":
        return _big_endian_matrix(raw, w)
    if f.kind == "float":
        bits = raw.copy()
        values = bits.view(f"f{w}")
        bits[values == 0] = 0  # invariant (2): -0.0 -> +0.0
        bits[np.isnan(values)] = _FLOAT_NAN[w]  # invariant (2): one NaN
        sign = bits >> (f.bits - 1)  # 1 for negative numbers
        low = np.array((1 << (f.bits - 1)) - 1, dtype=bits.dtype)
        bits ^= (sign * low) | np.array(1 << (f.bits - 1), dtype=bits.dtype)
        return _big_endian_matrix(bits, w)
    return _big_endian_matrix(_sign_flip(raw.view(f"u{w}"), f.bits), w)  # int, date, timestamp


def _decode_fixed(mat: np.ndarray, f: _Field) -> np.ndarray:
    """(m, width) uint8 value parts -> Arrow storage values (bool: uint8 0/1).

    Raises InvalidInput on bytes no value encodes to (invariant (2)).
    """
    w = f.width
    assert w is not None
    if f.kind == "bool":
        values = mat.ravel()
        if (values > 1).any():
            raise _malformed(f, "a bool byte is not 0x00 or 0x01")
        return values
    if f.kind == "decimal":
        flipped = mat.copy()
        flipped[:, 0] ^= 0x80
        return np.ascontiguousarray(flipped[:, ::-1])
    u = _from_big_endian(mat, w)
    if f.kind == "uint":
        return u
    if f.kind == "float":
        positive = u >> (f.bits - 1)  # encoded top bit 1 = originally non-negative
        low = np.array((1 << (f.bits - 1)) - 1, dtype=u.dtype)
        u ^= ((positive ^ 1) * low) | np.array(1 << (f.bits - 1), dtype=u.dtype)
        values = u.view(f"f{w}")
        if (u == np.array(1 << (f.bits - 1), dtype=u.dtype)).any():
            raise _malformed(f, "-0.0 is encoded as +0.0, never as itself")
        nan = np.isnan(values)
        if nan.any() and (u[nan] != _FLOAT_NAN[w]).any():
            raise _malformed(f, "a NaN is not the canonical quiet NaN")
        return u
    assert f.storage is not None  # int, date and timestamp fields have a storage dtype
    return _sign_flip(u, f.bits).view(f.storage)


# --- vectorised field encodings ---------------------------------------------------
#
# Each field yields its encodings for all rows, as an (n, k) uint8 matrix when every
# row takes k bytes, else as a pa.binary() array; keys are their row-wise concatenation.

_Piece: TypeAlias = "np.ndarray | pa.BinaryArray"


def _binary(offsets: np.ndarray, data: np.ndarray) -> pa.BinaryArray:
    """A pa.binary() array from offsets (any integer dtype) and bytes (no NULLs)."""
    if offsets[-1] > _MAX_OFFSET:
        raise InvalidInput(
            f"{len(offsets) - 1} keys take {int(offsets[-1])} bytes, more than a binary "
            "array holds (2 GiB); encode them in smaller batches"
        )
    offsets = offsets.astype(np.int32, copy=False)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    return pa.Array.from_buffers(pa.binary(), len(offsets) - 1, buffers, null_count=0)


def _fixed_block(parts: list[tuple[np.ndarray, np.ndarray | None]]) -> _Piece:
    """Adjacent fixed-width fields, from (value parts (n, w), validity or None) each.

    Without NULLs the block is one matrix; with NULLs, one boolean mask drops the
    value parts of the NULL fields from the matrix, row by row.
    """
    n = len(parts[0][0])
    width = sum(1 + values.shape[1] for values, _ in parts)
    if all(valid is None for _, valid in parts):
        # one packed record per row, each field's bytes copied as one item (a strided
        # copy of a (n, w) byte matrix moves a byte at a time: 4x slower)
        fields = []
        for k, (values, _) in enumerate(parts):
            fields += [(f"m{k}", "u1"), (f"v{k}", f"V{values.shape[1]}")]
        rows = np.empty(n, np.dtype(fields))
        for k, (values, _) in enumerate(parts):
            rows[f"m{k}"] = VALUE
            rows[f"v{k}"] = np.ascontiguousarray(values).view(f"V{values.shape[1]}").reshape(n)
        return rows.view(np.uint8).reshape(n, width)
    full = np.empty((n, width), dtype=np.uint8)
    keep = np.ones((n, width), dtype=bool)
    lengths = np.full(n, width, dtype=np.int64)
    pos = 0
    for values, valid in parts:
        w = values.shape[1]
        full[:, pos] = VALUE if valid is None else valid  # NULL marker 0x00
        full[:, pos + 1 : pos + 1 + w] = values
        if valid is not None:
            keep[:, pos + 1 : pos + 1 + w] = valid[:, None]
            lengths -= w * ~valid
        pos += 1 + w
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return _binary(offsets, full[keep])


def _bytes_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(int64 offsets from 0, data) of a string/binary array, NULL slots emptied."""
    if arr.null_count:
        arr = arr.fill_null(b"" if arr.type == pa.binary() else "")
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    start, stop = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(data_buf, np.uint8)[start:stop] if stop > start else np.empty(0, np.uint8)
    return offsets.astype(np.int64) - start, data


def _bytes_piece(arr: pa.Array, valid: np.ndarray | None) -> _Piece:
    """Marker, escaped bytes and terminator of each row: the bytes are copied with one
    boolean mask over the output, the few inserted bytes are scattered."""
    offsets, data = _bytes_buffers(arr)
    n = len(arr)
    lengths = np.diff(offsets)
    zeros = np.flatnonzero(data == 0)  # each is written 0x00 0xFF
    if valid is None and len(zeros) == 0 and lengths.min() == lengths.max():
        k = int(lengths[0])  # values of one length (ids, hashes): a matrix
        mat = np.empty((n, k + 2), dtype=np.uint8)
        mat[:, 0] = VALUE
        mat[:, 1:-1] = data.reshape(n, k)
        mat[:, -1] = TERMINATOR
        return mat
    row_of_zero = np.searchsorted(offsets, zeros, side="right") - 1
    zeros_per_row = np.bincount(row_of_zero, minlength=n)
    out_lengths = lengths + zeros_per_row + 2
    if valid is not None:
        out_lengths[~valid] = 1  # only the NULL marker
    out_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(out_lengths, out=out_offsets[1:])
    markers = out_offsets[:-1]
    terminators = out_offsets[1:] - 1
    if valid is not None:
        markers, terminators = markers[valid], terminators[valid]
    first_zero_of_row = np.concatenate(([0], np.cumsum(zeros_per_row)))[row_of_zero]
    escapes = (
        out_offsets[row_of_zero]
        + 1  # the row's first value byte
        + (zeros - offsets[row_of_zero])  # the zero's offset in its value
        + (np.arange(len(zeros)) - first_zero_of_row)  # escapes inserted before it
        + 1  # the 0xFF follows the zero
    )
    is_data = np.ones(int(out_offsets[-1]), dtype=bool)
    is_data[out_offsets[:-1]] = False
    is_data[terminators] = False
    is_data[escapes] = False
    out = np.zeros(len(is_data), dtype=np.uint8)  # terminators, NULL markers: 0x00
    out[is_data] = data
    out[markers] = VALUE
    out[escapes] = ESCAPE
    return _binary(out_offsets, out)


def _concat_rows(pieces: list[_Piece], n: int) -> pa.BinaryArray:
    """Each row's field encodings concatenated, in field order: the keys."""
    if all(isinstance(p, np.ndarray) for p in pieces):
        width = sum(p.shape[1] for p in pieces)
        data = pieces[0].ravel() if len(pieces) == 1 else np.hstack(pieces).ravel()
        return _binary(np.arange(n + 1, dtype=np.int64) * width, data)
    arrays = [
        _binary(np.arange(n + 1, dtype=np.int64) * p.shape[1], p.ravel())
        if isinstance(p, np.ndarray)
        else p
        for p in pieces
    ]
    if len(arrays) == 1:
        return arrays[0]
    total = sum(a.buffers()[2].size if a.buffers()[2] else 0 for a in arrays)
    if total > _MAX_OFFSET:
        raise InvalidInput(
            f"{n} keys take {total} bytes, more than a binary array holds (2 GiB); "
            "encode them in smaller batches"
        )
    return pc.binary_join_element_wise(*arrays, b"")


# --- vectorised API -------------------------------------------------------------


def _column(col: pa.Array | pa.ChunkedArray, f: _Field, i: int) -> pa.Array:
    """``col`` as one contiguous array of exactly type ``f.type``."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks else empty(col.type)
    if not isinstance(col, pa.Array):
        raise InvalidInput(
            f"key column {i} is a {type(col).__name__}, expected a pyarrow Array "
            "(wrap Python values with pa.array(values, type))"
        )
    if col.type == f.type:
        return col
    try:
        cast = pc.cast(col, f.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise InvalidInput(
            f"key column {i} holds {col.type} values that do not fit {f.text}: {e}"
        ) from None
    if f.kind == "float" and pa.types.is_floating(col.type):
        overflow = pc.and_(pc.is_inf(cast), pc.invert(pc.is_inf(col)))
        if pc.any(overflow).as_py():
            raise InvalidInput(f"key column {i} holds {col.type} values too large for {f.text}")
    return cast


def encode_keys(
    columns: Sequence[pa.Array | pa.ChunkedArray], types: Sequence[pa.DataType]
) -> pa.BinaryArray:
    """Encode one key per row from key columns, without a loop over rows.

    Args:
        columns: one array per key field, all the same length; an array of another
            type is cast (safely) to its field's type.
        types: the key's field types (``types.check_key_type`` must accept each).

    Returns:
        A ``pa.binary()`` array of the keys, in row order, with no NULL keys.

    Raises:
        UnsupportedType: a type cannot be a key field.
        InvalidInput: the columns and types disagree in number or length, a column
            does not fit its type, or the keys total 2 GiB or more.

    Example:
        >>> encode_keys([pa.array([5, None])], [pa.int64()]).to_pylist()
        [b'\\x01\\x80\\x00\\x00\\x00\\x00\\x00\\x00\\x05', b'\\x00']
    """
    fields = _fields(types)
    if len(columns) != len(fields):
        raise InvalidInput(f"got {len(columns)} key columns for {len(fields)} key types")
    arrays = [_column(c, f, i) for i, (c, f) in enumerate(zip(columns, fields, strict=True))]
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise InvalidInput(f"key columns differ in length: {[len(a) for a in arrays]}")
    if n == 0:
        return empty(pa.binary())
    pieces: list[_Piece] = []
    block: list[tuple[np.ndarray, np.ndarray | None]] = []  # adjacent fixed-width fields
    for a, f in zip(arrays, fields, strict=True):
        valid = a.is_valid().to_numpy(zero_copy_only=False) if a.null_count else None
        if f.kind != "bytes":
            block.append((_encode_fixed(a, f), valid))
            continue
        if block:
            pieces.append(_fixed_block(block))
            block = []
        pieces.append(_bytes_piece(a, valid))
    if block:
        pieces.append(_fixed_block(block))
    return _concat_rows(pieces, n)


def _key_buffers(keys: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(offsets from 0, int32 if they fit, else int64; data) of an array of keys."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks() if keys.num_chunks else empty(keys.type)
    if not isinstance(keys, pa.Array) or keys.type not in (pa.binary(), pa.large_binary()):
        raise InvalidInput(f"keys must be a pa.binary() array, got {type(keys).__name__}")
    if keys.null_count:
        raise InvalidInput(f"keys hold {keys.null_count} NULL entries; a key is never NULL")
    n = len(keys)
    if n == 0:
        return np.zeros(1, np.int64), np.empty(0, np.uint8)
    dtype = np.dtype(np.int32 if keys.type == pa.binary() else np.int64)
    _, off_buf, data_buf = keys.buffers()
    offsets = np.frombuffer(off_buf, dtype, count=n + 1, offset=keys.offset * dtype.itemsize)
    start, stop = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(data_buf, np.uint8)[start:stop] if stop > start else np.empty(0, np.uint8)
    positions = np.int32 if stop - start <= _MAX_OFFSET else np.int64  # halves the traffic
    return (offsets - start).astype(positions), data


def _validity(valid: np.ndarray) -> pa.Buffer | None:
    return None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))


def _fixed_array(f: _Field, valid: np.ndarray, values: np.ndarray) -> pa.Array:
    """An array of type ``f.type`` from its validity and storage values (all rows)."""
    if f.kind == "bool":
        values = np.packbits(values.view(bool), bitorder="little")
    arr = pa.Array.from_buffers(f.type, len(valid), [_validity(valid), pa.py_buffer(values)])
    if f.kind == "decimal":
        try:
            arr.validate(full=True)
        except pa.ArrowInvalid:
            raise _malformed(f, "a value exceeds the decimal's precision") from None
    return arr


def decode_keys(keys: pa.BinaryArray, types: Sequence[pa.DataType]) -> list[pa.Array]:
    """Decode keys into one array per key field (the inverse of ``encode_keys``).

    Keys made only of fixed-width fields with no NULL decode as an (n, width)
    matrix; other keys are walked field by field with a vector of per-row
    positions, so no path loops over rows in Python.

    Args:
        keys: a ``pa.binary()`` (or ``large_binary``) array of keys.
        types: the key's field types, as given to ``encode_keys``.

    Returns:
        One array per field, of exactly that field's type.

    Raises:
        InvalidInput: a key is not the encoding of a tuple of these types (wrong
            types, truncated, trailing bytes, or a non-canonical value).

    Example:
        >>> k = encode_keys([pa.array(["a", None]), pa.array([1, 2])], [pa.string(), pa.int8()])
        >>> [a.to_pylist() for a in decode_keys(k, [pa.string(), pa.int8()])]
        [['a', None], [1, 2]]
    """
    fields = _fields(types)
    offsets, data = _key_buffers(keys)
    n = len(offsets) - 1
    if all(f.kind != "bytes" for f in fields):
        width = sum(1 + f.size for f in fields)
        if len(data) == n * width and (np.diff(offsets) == width).all():
            return _decode_matrix(data.reshape(n, width), fields)
    return _decode_walk(offsets, data, fields)


def _decode_matrix(mat: np.ndarray, fields: list[_Field]) -> list[pa.Array]:
    """Fixed-width keys without NULLs: each field is a block of the matrix's columns."""
    out, pos = [], 0
    all_valid = np.ones(len(mat), dtype=bool)
    for f in fields:
        if (mat[:, pos] != VALUE).any():
            raise _malformed(f, "a marker byte is not 0x01 in a key of full width")
        values = _decode_fixed(mat[:, pos + 1 : pos + 1 + f.size], f)
        out.append(_fixed_array(f, all_valid, values))
        pos += 1 + f.size
    return out


def _decode_walk(offsets: np.ndarray, data: np.ndarray, fields: list[_Field]) -> list[pa.Array]:
    """Any keys: advance one position per row through the fields, all rows at once."""
    ends = offsets[1:]
    pos = offsets[:-1].copy()  # each row's next unread byte
    out = []
    for f in fields:
        if (pos >= ends).any():
            raise _malformed(f, "a key ends before this field")
        marker = data[pos]
        if (marker > VALUE).any():
            raise _malformed(f, "a marker byte is not 0x00 or 0x01")
        valid = marker == VALUE
        start = pos + 1
        nulls = not valid.all()
        if f.kind == "bytes":
            if nulls:
                stop = start.copy()
                stop[valid], escaped = _terminators(data, start[valid], ends[valid], f)
            else:
                stop, escaped = _terminators(data, start, ends, f)
            out.append(_bytes_array(f, data, start, stop, valid, escaped))
            pos = stop + valid  # past the terminator, or past a NULL marker
        else:
            w = f.size
            at = start[valid] if nulls else start
            if (at + w > (ends[valid] if nulls else ends)).any():
                raise _malformed(f, "a key ends inside this field")
            part = sliding_window_view(data, w)[at] if len(at) else np.empty((0, w), np.uint8)
            values = _decode_fixed(part, f)
            if nulls:
                values, part = np.zeros((len(pos), *values.shape[1:]), values.dtype), values
                values[valid] = part
            out.append(_fixed_array(f, valid, values))
            pos = start + w * valid if nulls else start + w
    if (pos != ends).any():
        raise _malformed(fields[-1], "a key has bytes after its last field")
    return out


def _ranges(data: np.ndarray, start: np.ndarray, stop: np.ndarray) -> pa.BinaryArray:
    """A zero-copy binary array over ``data`` whose odd rows are ``data[start:stop]``
    (even rows are the gaps); needs start[i] <= stop[i] <= start[i + 1]."""
    offsets = np.empty(2 * len(start) + 2, dtype=start.dtype)
    offsets[0], offsets[-1] = 0, len(data)
    offsets[1:-1:2], offsets[2:-1:2] = start, stop
    return _binary(offsets, data)


def _terminators(
    data: np.ndarray, start: np.ndarray, end: np.ndarray, f: _Field
) -> tuple[np.ndarray, bool]:
    """Each string's terminator position (invariant (3): the first 0x00 at or after
    ``start`` not followed by 0xFF) and whether any string held an escaped 0x00."""
    stop = start.copy()
    rows: np.ndarray | slice = slice(None)  # the rows still searching
    escaped = False
    while True:  # one round per escaped 0x00 in the longest run of them
        found = pc.find_substring(_ranges(data, start, end[rows]), b"\x00")
        first = np.frombuffer(found.buffers()[1], np.int32, count=len(found))[1::2]
        if (first < 0).any():
            raise _malformed(f, "a string has no terminator")
        zero = start + first
        stop[rows] = zero
        after = np.minimum(zero + 1, len(data) - 1)
        is_escape = (data[after] == ESCAPE) & (zero + 1 < end[rows])
        if not is_escape.any():
            return stop, escaped
        escaped = True
        rows = np.flatnonzero(is_escape) if isinstance(rows, slice) else rows[is_escape]
        start = zero[is_escape] + 2


def _bytes_array(
    f: _Field,
    data: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    valid: np.ndarray,
    escaped: bool,
) -> pa.Array:
    """The string/binary values held escaped in ``data[start:stop]``, one per row."""
    n = len(valid)
    picks = np.arange(1, 2 * n, 2, dtype=np.int64)  # the odd rows of _ranges
    picked = pa.Array.from_buffers(pa.int64(), n, [_validity(valid), pa.py_buffer(picks)])
    values = pc.take(_ranges(data, start, stop), picked)
    if escaped:
        values = pc.replace_substring(values, b"\x00\xff", b"\x00")
    if f.type == pa.binary():
        return values
    try:
        return values.cast(pa.string())
    except pa.ArrowInvalid:
        raise _malformed(f, "a string is not valid UTF-8") from None
