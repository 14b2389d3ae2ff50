"""Key encoding: tuples of column values as byte strings whose memcmp order is SQL order.

Primary keys, composite keys and secondary-index keys are byte strings. Comparing
two keys bytewise (``bytes`` comparison, LMDB, ``memcmp``) gives the same answer as
comparing their tuples in SQL order, field by field. The tree layer therefore
needs no typed comparator: it orders opaque bytes.

This module holds the format and the scalar path (``encode_key``, ``decode_key``:
one key from Python values, for point lookups); ``key_batch.py`` is the column
path (``encode_keys``, ``decode_keys``) over the same bytes.

Byte format. A key is the concatenation of its fields' encodings, in key order;
nothing precedes or follows them (no header, no field count). Multi-byte numbers
are big-endian. Each field is:

    OFFSET  SIZE  DESCRIPTION
    0       1     marker: 0x00 = NULL (the field ends here), 0x01 = a value follows
    1       w     value part, for a fixed-width type of width w (types.fixed_width)
    1       var   value part, for string and binary: escaped bytes + terminator

Value parts, by type (w bytes, big-endian):

    int8..int64, date32 (days),       two's complement with the sign bit flipped
      timestamp[us] (microseconds)
    uint8..uint64                     the plain unsigned value
    float32, float64                  IEEE 754 bits; negative (sign bit set): all
                                      bits flipped; otherwise the sign bit flipped
    decimal128(p, s)                  the unscaled 128-bit integer (value * 10**s),
                                      sign bit flipped; s is fixed by the type
    bool                              0x00 false, 0x01 true
    string (UTF-8), binary            each 0x00 byte written as 0x00 0xFF, then a
                                      single 0x00 terminator

Worked examples (field encodings, hex):

    int64 5                 01 80 00 00 00 00 00 00 05
    int64 -1                01 7f ff ff ff ff ff ff ff
    NULL (any type)         00
    float64 1.5             01 bf f8 00 00 00 00 00 00
    float64 -1.5            01 40 07 ff ff ff ff ff ff
    float64 NaN             01 ff f8 00 00 00 00 00 00   (after +inf: 01 ff f0 00 ..)
    decimal128(9,2) 1.25    01 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 7d
    date32 2024-01-01       01 80 00 4d 0b
    string ""               01 00
    string "a"              01 61 00
    string "a\\x00"          01 61 00 ff 00
    string "a\\x01"          01 61 01 00
    string "b"              01 62 00
    ("a", int32 7)          01 61 00 01 80 00 00 07

So "a" < "a\\x00" < "a\\x01" < "b": a proper prefix ends in the terminator 0x00,
which is below every byte that can continue a string (an escaped 0x00 continues
with 0x00 0xFF, any other byte is >= 0x01). The terminator is one byte, not two:
it only has to differ from an escaped 0x00, and the byte after it is the next
field's marker (0x00 or 0x01) or the end of the key, never 0xFF (invariant (3)).
In ("a", x) against ("a\\x00", y) the first difference is that marker against
0xFF, so string fields compare field by field whatever follows them.

Invariants:

(1) Order: for keys of the same types, ``a < b`` bytewise iff tuple(a) < tuple(b)
    in SQL order, field by field: NULL before every value; numbers by value, with
    -0.0 == 0.0 and NaN after +inf (DuckDB's order); strings and binary by their
    bytes (for strings: UTF-8 byte order, which is code point order).
(2) Canonical: one logical value has exactly one encoding. Integers have a fixed
    width; -0.0 is written as +0.0; every NaN is written as the quiet NaN
    0x7ff8000000000000 (float32: 0x7fc00000); a decimal is its unscaled integer
    (1.2 and 1.20 are one value); strings are never re-normalised (NFC and NFD
    spellings are different values, as in SQL). Decoding refuses bytes no value
    encodes to (a -0.0, another NaN, a bool byte > 1, a bad marker, trailing bytes).
(3) Every field encoding starts with 0x00 or 0x01, so the byte after a string
    terminator is never 0xFF: the terminator is the first 0x00 in a string that
    is not followed by 0xFF.
(4) Prefixes: the encoding of the leading fields of a key is a byte prefix of the
    key's encoding, so a scan over leading fields is a byte-range scan.

Version note: keys carry no version byte (it would cost a byte per key). The
structures that store keys record ``KEY_FORMAT_VERSION``; any change to the rules
above changes the order or bytes of stored keys and must bump it.
"""

from __future__ import annotations

import datetime as _dt
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from numbers import Integral, Real

import numpy as np
import pyarrow as pa

from ..errors import InvalidInput
from .types import check_key_type, fixed_width, type_to_text

__all__ = ["KEY_FORMAT_VERSION", "decode_key", "encode_key", "key_encoder"]

KEY_FORMAT_VERSION = 1  # on-disk format: bump on any change to the module docstring's rules

NULL = 0x00  # marker of a NULL field
VALUE = 0x01  # marker of a non-NULL field
ESCAPE = 0xFF  # follows an escaped 0x00 inside a string or binary value part
TERMINATOR = 0x00  # ends a string or binary value part

_FLOAT_NAN = {4: 0x7FC00000, 8: 0x7FF8000000000000}  # invariant (2): the canonical NaN
_DECIMAL_BYTES = 16
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_MICROS_PER_DAY = 86_400_000_000

assert struct.calcsize(">d") == 8 and struct.calcsize(">f") == 4


# --- per-type description ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    """How one key type is encoded: its kind, widths and Arrow storage dtype."""

    type: pa.DataType
    text: str  # type_to_text(type), for messages
    kind: str  # "int" | "uint" | "float" | "decimal" | "bool" | "date" | "timestamp" | "bytes"
    width: int | None  # value-part bytes; None for string/binary
    storage: np.dtype | None  # dtype of the Arrow values buffer (floats: unsigned bits)

    @property
    def size(self) -> int:
        """The value-part width of a fixed-width field (never asked of string/binary)."""
        assert self.width is not None
        return self.width

    @property
    def bits(self) -> int:
        return 8 * self.size


_FIELDS: dict[pa.DataType, _Field] = {}


def _field(t: pa.DataType) -> _Field:
    f = _FIELDS.get(t) if isinstance(t, pa.DataType) else None
    if f is None:
        check_key_type(t)
        w = fixed_width(t)
        if pa.types.is_signed_integer(t):
            kind, storage = "int", np.dtype(f"i{w}")
        elif pa.types.is_unsigned_integer(t):
            kind, storage = "uint", np.dtype(f"u{w}")
        elif pa.types.is_floating(t):
            kind, storage = "float", np.dtype(f"u{w}")
        elif pa.types.is_decimal(t):
            kind, storage = "decimal", np.dtype(np.uint8)
        elif pa.types.is_boolean(t):
            kind, storage = "bool", None
        elif pa.types.is_date32(t):
            kind, storage = "date", np.dtype(np.int32)
        elif pa.types.is_timestamp(t):
            kind, storage = "timestamp", np.dtype(np.int64)
        else:
            kind, storage = "bytes", None
        f = _FIELDS[t] = _Field(t, type_to_text(t), kind, w, storage)
    return f


def _malformed(f: _Field, why: str) -> InvalidInput:
    return InvalidInput(
        f"key bytes do not decode as {f.text}: {why} (the key was not written by "
        "encode_keys with these types, or is corrupt)"
    )


# --- scalar API (point lookups) -------------------------------------------------

_Encoder = Callable[[object], bytes]  # a Python value -> marker + value part
_Decoder = Callable[[bytes, int], tuple[object, int]]  # (key, value offset) -> (value, next)


def _wrong(f: _Field, v: object, expected: str) -> InvalidInput:
    return InvalidInput(
        f"key value {v!r} ({type(v).__name__}) does not fit {f.text} (pass {expected})"
    )


def _int_codec(f: _Field, signed: bool) -> tuple[_Encoder, Callable[[bytes, int], tuple[int, int]]]:
    w, bits = f.size, f.bits
    bias = 1 << (bits - 1) if signed else 0
    lo, hi = -bias, (1 << bits) - 1 - bias

    def encode(v: object) -> bytes:
        if type(v) is not int and (not isinstance(v, Integral) or isinstance(v, bool)):
            raise _wrong(f, v, "an int")
        i = int(v)
        if not lo <= i <= hi:
            raise InvalidInput(f"key value {i} does not fit {f.text} (range {lo}..{hi})")
        return b"\x01" + (i + bias).to_bytes(w, "big")

    def decode(key: bytes, pos: int) -> tuple[int, int]:
        return int.from_bytes(_take(key, pos, w, f), "big") - bias, pos + w

    return encode, decode


def _float_codec(f: _Field) -> tuple[_Encoder, _Decoder]:
    w, bits = f.size, f.bits
    fmt, ufmt = (">d", ">Q") if w == 8 else (">f", ">I")
    sign, every = 1 << (bits - 1), (1 << bits) - 1

    def encode(v: object) -> bytes:
        if not isinstance(v, Real) or isinstance(v, bool):
            raise _wrong(f, v, "a float")
        try:
            x = float(v)
            u = struct.unpack(ufmt, struct.pack(fmt, x))[0]
        except (OverflowError, struct.error):
            raise InvalidInput(f"key value {v!r} is too large for {f.text}") from None
        if x != x:
            u = _FLOAT_NAN[w]  # invariant (2)
        elif x == 0:
            u = 0  # invariant (2): -0.0 -> +0.0
        u ^= every if u & sign else sign
        return b"\x01" + u.to_bytes(w, "big")

    def decode(key: bytes, pos: int) -> tuple[object, int]:
        u = int.from_bytes(_take(key, pos, w, f), "big")
        u ^= sign if u & sign else every
        x = struct.unpack(fmt, struct.pack(ufmt, u))[0]
        if u == sign:
            raise _malformed(f, "-0.0 is encoded as +0.0, never as itself")
        if x != x and u != _FLOAT_NAN[w]:
            raise _malformed(f, "a NaN is not the canonical quiet NaN")
        return x, pos + w

    return encode, decode


def _decimal_codec(f: _Field) -> tuple[_Encoder, _Decoder]:
    precision, scale = f.type.precision, f.type.scale
    limit, bias = 10**precision, 1 << 127

    def encode(v: object) -> bytes:
        if isinstance(v, bool) or not isinstance(v, Decimal | Integral):
            raise _wrong(f, v, "a decimal.Decimal or an int; for a float use Decimal(str(x))")
        d = Decimal(int(v)) if isinstance(v, Integral) else v
        if not d.is_finite():
            raise InvalidInput(f"key value {v!r} does not fit {f.text} (not a finite number)")
        # Bound the magnitude before exact arithmetic (1E+999999999 would not end).
        if not d.is_zero() and d.adjusted() >= precision - scale:
            raise InvalidInput(f"key value {v} has more than {precision} digits for {f.text}")
        if not d.is_zero() and d.adjusted() < -scale:
            raise InvalidInput(f"key value {v} has more than {scale} decimals for {f.text}")
        numerator, denominator = d.as_integer_ratio()  # exact: 1.2 and 1.20 agree
        unscaled, rest = divmod(numerator * 10**scale, denominator)
        if rest:
            raise InvalidInput(f"key value {v} has more than {scale} decimals for {f.text}")
        return b"\x01" + (unscaled + bias).to_bytes(_DECIMAL_BYTES, "big")

    def decode(key: bytes, pos: int) -> tuple[object, int]:
        unscaled = int.from_bytes(_take(key, pos, _DECIMAL_BYTES, f), "big") - bias
        if abs(unscaled) >= limit:
            raise _malformed(f, "a value exceeds the decimal's precision")
        digits = tuple(map(int, str(abs(unscaled))))
        return Decimal((int(unscaled < 0), digits, -scale)), pos + _DECIMAL_BYTES

    return encode, decode


def _bool_codec(f: _Field) -> tuple[_Encoder, _Decoder]:
    def encode(v: object) -> bytes:
        if not isinstance(v, bool | np.bool_):
            raise _wrong(f, v, "True or False")
        return b"\x01\x01" if v else b"\x01\x00"

    def decode(key: bytes, pos: int) -> tuple[object, int]:
        b = _take(key, pos, 1, f)[0]
        if b > 1:
            raise _malformed(f, "a bool byte is not 0x00 or 0x01")
        return b == 1, pos + 1

    return encode, decode


def _date_codec(f: _Field) -> tuple[_Encoder, _Decoder]:
    encode_int, decode_int = _int_codec(f, signed=True)

    def encode(v: object) -> bytes:
        if not isinstance(v, _dt.date) or isinstance(v, _dt.datetime):
            raise _wrong(f, v, "a datetime.date")
        return encode_int(v.toordinal() - _EPOCH_ORDINAL)

    def decode(key: bytes, pos: int) -> tuple[object, int]:
        days, pos = decode_int(key, pos)
        try:
            return _dt.date.fromordinal(days + _EPOCH_ORDINAL), pos
        except (ValueError, OverflowError):
            raise InvalidInput(f"{f.text} day {days} is outside Python's date range") from None

    return encode, decode


def _timestamp_codec(f: _Field) -> tuple[_Encoder, _Decoder]:
    encode_int, decode_int = _int_codec(f, signed=True)

    def encode(v: object) -> bytes:
        if not isinstance(v, _dt.datetime):
            raise _wrong(f, v, "a datetime.datetime")
        # As pyarrow does: an aware datetime counts in UTC, a naive one as given.
        delta = v - (_EPOCH if v.utcoffset() is None else _EPOCH_UTC)
        return encode_int(
            delta.days * _MICROS_PER_DAY + delta.seconds * 1_000_000 + delta.microseconds
        )

    def decode(key: bytes, pos: int) -> tuple[object, int]:
        micros, pos = decode_int(key, pos)
        if f.type.tz is not None:
            return pa.scalar(micros, f.type).as_py(), pos  # aware, in the column's zone
        try:
            return _EPOCH + _dt.timedelta(microseconds=micros), pos
        except OverflowError:
            raise InvalidInput(f"{f.text} {micros} is outside Python's datetime range") from None

    return encode, decode


def _bytes_codec(f: _Field) -> tuple[_Encoder, _Decoder]:
    is_text = f.type == pa.string()

    def encode(v: object) -> bytes:
        if is_text:
            if not isinstance(v, str):
                raise _wrong(f, v, "a str")
            try:
                b = v.encode("utf-8")
            except UnicodeEncodeError as e:
                raise InvalidInput(f"key value {v!r} is not valid Unicode: {e}") from None
        elif isinstance(v, bytes | bytearray | memoryview):
            b = bytes(v)
        else:
            raise _wrong(f, v, "bytes")
        return b"\x01" + b.replace(b"\x00", b"\x00\xff") + b"\x00"

    def decode(key: bytes, pos: int) -> tuple[object, int]:
        stop = key.find(b"\x00", pos)
        while stop >= 0 and key[stop + 1 : stop + 2] == b"\xff":  # invariant (3)
            stop = key.find(b"\x00", stop + 2)
        if stop < 0:
            raise _malformed(f, "a string has no terminator")
        b = key[pos:stop].replace(b"\x00\xff", b"\x00")
        if not is_text:
            return b, stop + 1
        try:
            return b.decode("utf-8"), stop + 1
        except UnicodeDecodeError:
            raise _malformed(f, "a string is not valid UTF-8") from None

    return encode, decode


def _take(key: bytes, pos: int, size: int, f: _Field) -> bytes:
    if pos + size > len(key):
        raise _malformed(f, "a key ends inside this field")
    return key[pos : pos + size]


_CODEC_BUILDERS: dict[str, Callable[[_Field], tuple[_Encoder, _Decoder]]] = {
    "int": lambda f: _int_codec(f, signed=True),
    "uint": lambda f: _int_codec(f, signed=False),
    "float": _float_codec,
    "decimal": _decimal_codec,
    "bool": _bool_codec,
    "date": _date_codec,
    "timestamp": _timestamp_codec,
    "bytes": _bytes_codec,
}
_CODECS: dict[pa.DataType, tuple[_Encoder, _Decoder]] = {}


def _codec(t: pa.DataType) -> tuple[_Encoder, _Decoder]:
    c = _CODECS.get(t) if isinstance(t, pa.DataType) else None
    if c is None:
        f = _field(t)
        c = _CODECS[t] = _CODEC_BUILDERS[f.kind](f)
    return c


def encode_key(values: Sequence[object], types: Sequence[pa.DataType]) -> bytes:
    """Encode one key from Python values (the scalar twin of ``encode_keys``).

    Args:
        values: one value per field: int, float, decimal.Decimal, str, bytes, bool,
            datetime.date, datetime.datetime, or None for NULL.
        types: the key's field types.

    Returns:
        The key bytes; equal to ``encode_keys`` of the same values, row for row.

    Raises:
        UnsupportedType: a type cannot be a key field.
        InvalidInput: the counts differ, or a value does not fit its type.

    Example:
        >>> encode_key(["a", 7], [pa.string(), pa.int32()]).hex(" ")
        '01 61 00 01 80 00 00 07'
        >>> f = [pa.float64()]
        >>> encode_key([None], f) < encode_key([float("-inf")], f) < encode_key([float("nan")], f)
        True
    """
    if len(values) != len(types):
        raise InvalidInput(f"got {len(values)} key values for {len(types)} key types")
    if len(types) == 0:
        raise InvalidInput("a key needs at least one field type (types is empty)")
    encoders = [_codec(t)[0] for t in types]  # checks every type, NULL or not
    return b"".join(
        b"\x00" if v is None else encode(v) for v, encode in zip(values, encoders, strict=True)
    )


def key_encoder(types: Sequence[pa.DataType]) -> Callable[[Sequence[object]], bytes]:
    """``encode_key`` for one list of types, checked once: for keys encoded in a loop.
    The returned function takes exactly ``len(types)`` values.

    Raises:
        UnsupportedType: a type cannot be a key field.
        InvalidInput: ``types`` is empty.

    Example:
        >>> key_encoder([pa.string(), pa.int32()])(["a", 7]) == encode_key(
        ...     ["a", 7], [pa.string(), pa.int32()]
        ... )
        True
    """
    if len(types) == 0:
        raise InvalidInput("a key needs at least one field type (types is empty)")
    encoders = [_codec(t)[0] for t in types]
    if len(encoders) == 1:
        (encode,) = encoders
        return lambda values: b"\x00" if values[0] is None else encode(values[0])
    return lambda values: b"".join(
        b"\x00" if v is None else encode(v) for v, encode in zip(values, encoders, strict=True)
    )


def decode_key(key: bytes, types: Sequence[pa.DataType]) -> tuple:
    """Decode one key into Python values (the inverse of ``encode_key``).

    Raises:
        InvalidInput: ``key`` is not the encoding of a tuple of these types.

    Example:
        >>> decode_key(bytes.fromhex("01 61 00 00"), [pa.string(), pa.int32()])
        ('a', None)
    """
    if len(types) == 0:
        raise InvalidInput("a key needs at least one field type (types is empty)")
    key = bytes(key)
    pos, out = 0, list[object]()
    for t in types:
        decode = _codec(t)[1]
        if pos >= len(key):
            raise _malformed(_field(t), "a key ends before this field")
        marker = key[pos]
        if marker == NULL:
            out.append(None)
            pos += 1
        elif marker == VALUE:
            value, pos = decode(key, pos + 1)
            out.append(value)
        else:
            raise _malformed(_field(t), "a marker byte is not 0x00 or 0x01")
    if pos != len(key):
        raise _malformed(_field(types[-1]), "a key has bytes after its last field")
    return tuple(out)
