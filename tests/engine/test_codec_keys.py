"""engine/codec/keys.py: round trip, SQL order, canonical form, refusals.

The property tests check, for every key type and for composite keys of 1-3
fields with NULLs: the vectorised and scalar encoders agree byte for byte; both
decoders invert them; sorting keys bytewise sorts their tuples in SQL order
(NULL first, -0.0 == 0.0, NaN after +inf, strings by UTF-8 bytes); and equal
tuples have identical keys (invariants (1) and (2) of the module docstring).
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from decimal import Decimal
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.codec.key_batch import decode_keys, encode_keys
from arbordb.engine.codec.keys import decode_key, encode_key, key_encoder
from arbordb.engine.errors import InvalidInput, UnsupportedType

# --- value strategies and SQL order, per key type -----------------------------

_UTC = dt.UTC
_PLUS_ONE = dt.timezone(dt.timedelta(hours=1))


def _ints(bits: int, signed: bool) -> st.SearchStrategy:
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    return st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi, 0, 1, -1 if signed else 2]))


_FLOAT_SPECIALS = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 5e-324, -5e-324]
_FLOAT32_SPECIALS = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, float(np.float32(1e-45))]
_STRING_SPECIALS = ["", "a", "a\x00", "a\x01", "b", "\x00", "\x00\x00", "é", "\U0001f600"]
_BYTES_SPECIALS = [b"", b"\x00", b"\x00\xff", b"\xff", b"\x00\x00", b"a\x00b", b"\xff\x00"]


def _decimals(p: int, s: int) -> st.SearchStrategy:
    edge = 10**p - 1  # the unscaled bound; built from text so no context rounds it
    unscaled = st.one_of(st.integers(-edge, edge), st.sampled_from([-edge, edge, 0, 1]))
    return unscaled.map(lambda u: Decimal(f"{u}E-{s}"))


_DATETIMES = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))

KEY_TYPES: dict[str, tuple[pa.DataType, st.SearchStrategy]] = {
    "int8": (pa.int8(), _ints(8, True)),
    "int16": (pa.int16(), _ints(16, True)),
    "int32": (pa.int32(), _ints(32, True)),
    "int64": (pa.int64(), _ints(64, True)),
    "uint8": (pa.uint8(), _ints(8, False)),
    "uint16": (pa.uint16(), _ints(16, False)),
    "uint32": (pa.uint32(), _ints(32, False)),
    "uint64": (pa.uint64(), _ints(64, False)),
    "float32": (pa.float32(), st.one_of(st.floats(width=32), st.sampled_from(_FLOAT32_SPECIALS))),
    "float64": (pa.float64(), st.one_of(st.floats(), st.sampled_from(_FLOAT_SPECIALS))),
    "decimal(9,2)": (pa.decimal128(9, 2), _decimals(9, 2)),
    "decimal(38,10)": (pa.decimal128(38, 10), _decimals(38, 10)),
    "decimal(38,0)": (pa.decimal128(38, 0), _decimals(38, 0)),
    "bool": (pa.bool_(), st.booleans()),
    "date32": (pa.date32(), st.dates()),
    "timestamp": (pa.timestamp("us"), _DATETIMES),
    "timestamp_tz": (
        pa.timestamp("us", "UTC"),
        _DATETIMES.map(lambda d: d.replace(tzinfo=_UTC))
        | _DATETIMES.map(lambda d: d.replace(tzinfo=_PLUS_ONE)),
    ),
    "string": (pa.string(), st.one_of(st.text(max_size=8), st.sampled_from(_STRING_SPECIALS))),
    "binary": (pa.binary(), st.one_of(st.binary(max_size=8), st.sampled_from(_BYTES_SPECIALS))),
}


def _sql_order(v: object) -> tuple:
    """The SQL sort key of one field: NULL first, NaN after every number."""
    if v is None:
        return (0,)
    if isinstance(v, float) and math.isnan(v):
        return (1, 1)
    if isinstance(v, str):
        return (1, 0, v.encode("utf-8"))  # strings compare by their UTF-8 bytes
    return (1, 0, v)


def _same(decoded: object, original: object) -> bool:
    """Decoded equals the canonical form of the original (+0.0, any NaN, value-equal)."""
    if isinstance(original, float):
        if math.isnan(original):
            return isinstance(decoded, float) and math.isnan(decoded)
        if original == 0:
            return decoded == 0 and math.copysign(1.0, decoded) == 1.0
    return type(decoded) is type(original) and decoded == original


def check_keys(types: list[pa.DataType], rows: list[tuple]) -> None:
    """Every property of the module docstring on one batch of rows."""
    columns = [pa.array([r[i] for r in rows], type=t) for i, t in enumerate(types)]
    keys = encode_keys(columns, types)
    assert keys.type == pa.binary() and keys.null_count == 0 and len(keys) == len(rows)

    # The scalar encoder agrees byte for byte with the vectorised one.
    scalar = [encode_key(r, types) for r in rows]
    assert keys.to_pylist() == scalar
    encode = key_encoder(types)  # and so does the encoder made once for these types
    assert [encode(r) for r in rows] == scalar

    # Both decoders invert the encoding.
    decoded = decode_keys(keys, types)
    assert [a.type for a in decoded] == types
    for i, array in enumerate(decoded):
        for got, row in zip(array.to_pylist(), rows, strict=True):
            assert _same(got, row[i]), (got, row[i])
    for key, row in zip(scalar, rows, strict=True):
        got = decode_key(key, types)
        assert all(_same(g, v) for g, v in zip(got, row, strict=True)), (got, row)

    # Invariant (1) order and (2) canonical form: bytewise order is SQL order, and
    # keys are equal exactly when the tuples are.
    order = sorted(range(len(rows)), key=scalar.__getitem__)
    for a, b in pairwise(order):
        ka, kb = (tuple(map(_sql_order, rows[i])) for i in (a, b))
        assert ka <= kb, (rows[a], rows[b])
        assert (scalar[a] == scalar[b]) == (ka == kb), (rows[a], rows[b])


@pytest.mark.parametrize("name", KEY_TYPES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_single_field_keys(name: str, data: st.DataObject) -> None:
    t, values = KEY_TYPES[name]
    column = data.draw(st.lists(st.none() | values, max_size=12))
    check_keys([t], [(v,) for v in column])


@st.composite
def _composite(draw: st.DrawFn) -> tuple[list[pa.DataType], list[tuple]]:
    names = draw(st.lists(st.sampled_from(sorted(KEY_TYPES)), min_size=1, max_size=3))
    n = draw(st.integers(0, 12))
    columns = [
        draw(st.lists(st.none() | KEY_TYPES[name][1], min_size=n, max_size=n)) for name in names
    ]
    rows = list(zip(*columns, strict=True)) if n else []
    if rows and draw(st.booleans()):  # repeat rows so that equal tuples meet
        rows = rows + draw(st.lists(st.sampled_from(rows), max_size=4))
    return [KEY_TYPES[name][0] for name in names], rows


@settings(max_examples=300, deadline=None)
@given(_composite())
def test_composite_keys(case: tuple[list[pa.DataType], list[tuple]]) -> None:
    types, rows = case
    check_keys(types, rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=4), st.none() | st.integers(-3, 3)), max_size=10))
def test_string_then_int_keys_compare_field_by_field(rows: list[tuple]) -> None:
    check_keys([pa.string(), pa.int32()], rows)


@settings(max_examples=60, deadline=None)
@given(_composite(), st.data())
def test_leading_fields_are_a_byte_prefix(case: tuple, data: st.DataObject) -> None:
    types, rows = case  # invariant (4)
    k = data.draw(st.integers(1, len(types)))
    for row in rows:
        assert encode_key(row, types).startswith(encode_key(row[:k], types[:k]))


# --- the module docstring's worked examples ---------------------------------------

DOC_EXAMPLES = [
    ([5], [pa.int64()], "01 80 00 00 00 00 00 00 05"),
    ([-1], [pa.int64()], "01 7f ff ff ff ff ff ff ff"),
    ([None], [pa.int32()], "00"),
    ([1.5], [pa.float64()], "01 bf f8 00 00 00 00 00 00"),
    ([-1.5], [pa.float64()], "01 40 07 ff ff ff ff ff ff"),
    ([math.nan], [pa.float64()], "01 ff f8 00 00 00 00 00 00"),
    ([math.inf], [pa.float64()], "01 ff f0 00 00 00 00 00 00"),
    ([Decimal("1.25")], [pa.decimal128(9, 2)], "01 80" + " 00" * 14 + " 7d"),
    ([dt.date(2024, 1, 1)], [pa.date32()], "01 80 00 4d 0b"),
    ([""], [pa.string()], "01 00"),
    (["a"], [pa.string()], "01 61 00"),
    (["a\x00"], [pa.string()], "01 61 00 ff 00"),
    (["a\x01"], [pa.string()], "01 61 01 00"),
    (["b"], [pa.string()], "01 62 00"),
    (["a", 7], [pa.string(), pa.int32()], "01 61 00 01 80 00 00 07"),
]


@pytest.mark.parametrize(("values", "types", "expected"), DOC_EXAMPLES)
def test_worked_examples(values: list, types: list, expected: str) -> None:
    assert encode_key(values, types).hex(" ") == expected
    columns = [pa.array([v], type=t) for v, t in zip(values, types, strict=True)]
    assert encode_keys(columns, types)[0].as_py().hex(" ") == expected


def test_strings_order_around_zero_bytes() -> None:
    s = [pa.string()]
    assert encode_key(["a"], s) < encode_key(["a\x00"], s) < encode_key(["a\x01"], s)
    assert encode_key(["a\x01"], s) < encode_key(["b"], s)
    pair = [pa.string(), pa.int32()]
    high = encode_key(["a", 2**31 - 1], pair)
    assert encode_key(["a", None], pair) < high < encode_key(["a\x00", -(2**31)], pair)


# --- canonical form (invariant (2)) --------------------------------------------------


def _floats_from_bits(bits: list[int], width: int) -> pa.Array:
    raw = np.array(bits, dtype=f"u{width}").view(f"f{width}")
    return pa.array(raw, type=pa.float64() if width == 8 else pa.float32())


@pytest.mark.parametrize(
    ("width", "nans"),
    [
        (8, [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001, 0x7FFFFFFFFFFFFFFF]),
        (4, [0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FFFFFFF]),
    ],
)
def test_every_nan_and_zero_has_one_encoding(width: int, nans: list[int]) -> None:
    t = pa.float64() if width == 8 else pa.float32()
    keys = encode_keys([_floats_from_bits(nans, width)], [t]).to_pylist()
    assert len(set(keys)) == 1
    assert keys[0] == encode_key([math.nan], [t]) == encode_key([-math.nan], [t])
    assert keys[0] > encode_key([math.inf], [t])
    zeros = encode_keys([pa.array([0.0, -0.0], type=t)], [t]).to_pylist()
    assert zeros[0] == zeros[1] == encode_key([-0.0], [t]) == encode_key([0.0], [t])
    payload = struct.unpack(">d", struct.pack(">Q", 0x7FF0000000000001))[0]
    assert encode_key([payload], [t]) == keys[0]


def test_equal_decimals_of_different_exponents_have_one_encoding() -> None:
    t = [pa.decimal128(9, 2)]
    assert encode_key([Decimal("1.2")], t) == encode_key([Decimal("1.20")], t)
    assert encode_key([Decimal("1.2")], t) == encode_key([Decimal("0.0012E3")], t)
    assert encode_key([Decimal("-0")], t) == encode_key([0], t)
    assert encode_key([Decimal("0E-50")], t) == encode_key([Decimal("0E+50")], t)
    assert encode_key([Decimal("9999999.990000")], t) == encode_key([Decimal("9999999.99")], t)
    assert decode_key(encode_key([Decimal("1.2")], t), t)[0].as_tuple().exponent == -2


# --- vectorised paths -----------------------------------------------------------------


def test_a_large_int64_column_matches_the_scalar_encoder() -> None:
    rng = np.random.default_rng(1)
    values = rng.integers(-(2**63), 2**63 - 1, 200_000, dtype=np.int64, endpoint=True)
    keys = encode_keys([pa.array(values)], [pa.int64()])
    for i in rng.integers(0, len(values), 50):
        assert keys[int(i)].as_py() == encode_key([int(values[i])], [pa.int64()])
    order = np.argsort(values, kind="stable")
    assert keys.take(pa.array(order)).to_pylist() == sorted(keys.to_pylist())
    assert np.array_equal(decode_keys(keys, [pa.int64()])[0].to_numpy(), values)


@pytest.mark.parametrize(
    "strings",
    [
        ["id-0001", "id-0002", "id-0003"],  # one length: the matrix path
        ["a", "bb", "", "ccc"],
        ["a", None, "b\x00c", "\x00\x00", None],
        [None, None],
    ],
)
def test_string_paths(strings: list) -> None:
    check_keys([pa.string()], [(s,) for s in strings])
    check_keys(
        [pa.string(), pa.binary()], [(s, None if s is None else s.encode()) for s in strings]
    )


def test_sliced_chunked_and_cast_inputs() -> None:
    types = [pa.string(), pa.bool_(), pa.decimal128(5, 1), pa.int64()]
    rows = [
        ("x", True, Decimal("1.5"), 1),
        (None, None, None, None),
        ("y\x00", False, Decimal("-2.0"), -5),
        ("z", True, Decimal("0.1"), 7),
    ] * 3
    columns = [pa.array([r[i] for r in rows], type=t) for i, t in enumerate(types)]
    expected = encode_keys(columns, types)[5:11]
    sliced = [c[5:11] for c in columns]
    assert encode_keys(sliced, types).equals(expected)
    chunked = [pa.chunked_array([c[5:7], c[7:11]]) for c in columns]
    assert encode_keys(chunked, types).equals(expected)
    widened = [
        sliced[0].cast(pa.large_string()),
        sliced[1],
        sliced[2],
        sliced[3].cast(pa.int32()),
    ]
    assert encode_keys(widened, types).equals(expected)
    decoded = decode_keys(expected, types)
    assert [d.to_pylist() for d in decoded] == [c.to_pylist() for c in sliced]
    assert [d.to_pylist() for d in decode_keys(expected.cast(pa.large_binary()), types)] == [
        c.to_pylist() for c in sliced
    ]


def test_dictionary_column_is_decoded_first() -> None:
    column = pa.array(["b", "a", "b"]).dictionary_encode()
    keys = encode_keys([column], [pa.string()])
    assert keys.to_pylist() == [encode_key([s], [pa.string()]) for s in "bab"]


def test_empty_batches() -> None:
    assert len(encode_keys([pa.array([], pa.int64())], [pa.int64()])) == 0
    empty = pa.array([], type=pa.binary())
    assert [len(a) for a in decode_keys(empty, [pa.string(), pa.int8()])] == [0, 0]


# --- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "t", "match"),
    [
        (128, pa.int8(), r"does not fit int8 \(range -128..127\)"),
        (-1, pa.uint64(), "range 0..18446744073709551615"),
        (True, pa.int32(), "pass an int"),
        (1.5, pa.int64(), "pass an int"),
        ("1", pa.int64(), "pass an int"),
        (1e300, pa.float32(), "too large for float32"),
        (10**400, pa.float64(), "too large for float64"),
        (Decimal("1.234"), pa.decimal128(9, 2), "more than 2 decimals"),
        (Decimal("12345678"), pa.decimal128(9, 2), "more than 9 digits"),
        (Decimal("NaN"), pa.decimal128(9, 2), "not a finite number"),
        (Decimal("1E+999999999"), pa.decimal128(9, 2), "more than 9 digits"),
        (Decimal("1E-999999999"), pa.decimal128(9, 2), "more than 2 decimals"),
        (Decimal("0.001"), pa.decimal128(9, 2), "more than 2 decimals"),
        (Decimal("-9999999.995"), pa.decimal128(9, 2), "more than 2 decimals"),
        (Decimal("-10000000.00"), pa.decimal128(9, 2), "more than 9 digits"),
        (1.5, pa.decimal128(9, 2), r"Decimal\(str\(x\)\)"),
        (1, pa.bool_(), "True or False"),
        (dt.datetime(2020, 1, 1), pa.date32(), "datetime.date"),
        (dt.date(2020, 1, 1), pa.timestamp("us"), "datetime.datetime"),
        (b"a", pa.string(), "pass a str"),
        ("a", pa.binary(), "pass bytes"),
        ("\ud800", pa.string(), "not valid Unicode"),
    ],
)
def test_values_that_do_not_fit_their_type_are_refused(value: object, t, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        encode_key([value], [t])


def test_columns_that_do_not_fit_are_refused() -> None:
    with pytest.raises(InvalidInput, match="key column 0 holds int64 values that do not fit int8"):
        encode_keys([pa.array([1, 300])], [pa.int8()])
    with pytest.raises(InvalidInput, match="too large for float32"):
        encode_keys([pa.array([1e300])], [pa.float32()])
    with pytest.raises(InvalidInput, match="expected a pyarrow Array"):
        encode_keys([[1, 2]], [pa.int64()])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="differ in length"):
        encode_keys([pa.array([1]), pa.array([1, 2])], [pa.int64(), pa.int64()])
    with pytest.raises(InvalidInput, match="2 key columns for 1 key types"):
        encode_keys([pa.array([1]), pa.array([1])], [pa.int64()])
    with pytest.raises(InvalidInput, match="at least one field"):
        encode_keys([], [])
    with pytest.raises(InvalidInput, match="2 key values for 1 key types"):
        encode_key([1, 2], [pa.int64()])


@pytest.mark.parametrize("t", [pa.list_(pa.float32()), pa.large_string(), pa.float16()])
def test_unsupported_key_types_are_refused(t: pa.DataType) -> None:
    with pytest.raises(UnsupportedType):
        encode_keys([pa.array([], type=t)], [t])
    with pytest.raises(UnsupportedType):
        encode_key([None], [t])
    with pytest.raises(UnsupportedType):
        decode_key(b"\x00", [t])


MALFORMED = [
    (b"", [pa.int64()], "ends before this field"),
    (b"\x01\x80\x00", [pa.int64()], "ends inside this field"),
    (b"\x02", [pa.int64()], "marker byte"),
    (b"\x00\x00", [pa.int64()], "bytes after its last field"),
    (b"\x01" + bytes(9), [pa.int64()], "bytes after its last field"),
    (b"\x01\x7f\xff\xff\xff\xff\xff\xff\xff", [pa.float64()], "-0.0"),
    (b"\x01\x00\x00\x00\x00\x00\x00\x00\x00", [pa.float64()], "canonical quiet NaN"),
    (b"\x01\xff\xf8\x00\x00\x00\x00\x00\x01", [pa.float64()], "canonical quiet NaN"),
    (b"\x01\x7f\xff\xff\xff", [pa.float32()], "-0.0"),
    (b"\x01\x02", [pa.bool_()], "bool byte"),
    (b"\x01abc", [pa.string()], "no terminator"),
    (b"\x01a\x00\xff", [pa.string()], "no terminator"),
    (b"\x01\xff\xfe\x00", [pa.string()], "not valid UTF-8"),
    (b"\x01a\x00\x01", [pa.string()], "bytes after its last field"),
    (b"\x01" + (10**9).to_bytes(16, "big"), [pa.decimal128(9, 2)], "precision"),
    (b"\x01a\x00", [pa.string(), pa.int8()], "ends before this field"),
]


@pytest.mark.parametrize(("key", "types", "match"), MALFORMED)
def test_malformed_keys_are_refused(key: bytes, types: list, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        decode_key(key, types)
    with pytest.raises(InvalidInput, match=match):
        decode_keys(pa.array([encode_key([None] * len(types), types), key]), types)


def test_null_keys_and_wrong_arrays_are_refused() -> None:
    with pytest.raises(InvalidInput, match="NULL entries"):
        decode_keys(pa.array([b"\x00", None]), [pa.int8()])
    with pytest.raises(InvalidInput, match="must be a pa.binary"):
        decode_keys(pa.array(["\x00"]), [pa.int8()])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=12), st.sampled_from([["string", "int8"], ["binary"], ["int16"]]))
def test_decoding_arbitrary_bytes_raises_invalid_input_or_round_trips(
    key: bytes, names: list[str]
) -> None:
    types = [KEY_TYPES[n][0] for n in names]
    try:
        values = decode_key(key, types)
    except InvalidInput:
        with pytest.raises(InvalidInput):
            decode_keys(pa.array([key]), types)
        return
    assert encode_key(values, types) == key  # invariant (2): only canonical bytes decode
    assert [a[0].as_py() for a in decode_keys(pa.array([key]), types)] == list(values)


def test_tz_timestamps_decode_in_the_columns_zone() -> None:
    t = [pa.timestamp("us", "+01:00")]
    moment = dt.datetime(2024, 5, 1, 12, tzinfo=_UTC)
    (got,) = decode_key(encode_key([moment], t), t)
    assert got == moment and got.utcoffset() == dt.timedelta(hours=1)
    naive = [pa.timestamp("us")]
    assert encode_key([moment], naive) == encode_key([dt.datetime(2024, 5, 1, 12)], naive)
    arrays = decode_keys(encode_keys([pa.array([moment], t[0])], t), t)
    assert pc.equal(arrays[0], pa.array([moment], t[0]))[0].as_py()
