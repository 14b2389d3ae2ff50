"""engine/codec/types.py: the supported set, the canonical text form, widths."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.codec.types import (
    check_key_type,
    check_value_type,
    fixed_width,
    normalize_type,
    type_from_text,
    type_to_text,
)
from arbordb.engine.errors import InvalidInput, UnsupportedType

SCALARS = {
    "int8": (pa.int8(), 1),
    "int16": (pa.int16(), 2),
    "int32": (pa.int32(), 4),
    "int64": (pa.int64(), 8),
    "uint8": (pa.uint8(), 1),
    "uint16": (pa.uint16(), 2),
    "uint32": (pa.uint32(), 4),
    "uint64": (pa.uint64(), 8),
    "float32": (pa.float32(), 4),
    "float64": (pa.float64(), 8),
    "bool": (pa.bool_(), 1),
    "date32": (pa.date32(), 4),
    "string": (pa.string(), None),
    "binary": (pa.binary(), None),
    "decimal128(18,2)": (pa.decimal128(18, 2), 16),
    "decimal128(1,0)": (pa.decimal128(1, 0), 16),
    "decimal128(38,38)": (pa.decimal128(38, 38), 16),
    "timestamp[us]": (pa.timestamp("us"), 8),
    "timestamp[us,tz=UTC]": (pa.timestamp("us", "UTC"), 8),
    "timestamp[us,tz=Europe/Paris]": (pa.timestamp("us", "Europe/Paris"), 8),
    "timestamp[us,tz=+01:00]": (pa.timestamp("us", "+01:00"), 8),
}
LISTS = {f"list<{text}>": (pa.list_(t), None) for text, (t, _) in SCALARS.items()}
SUPPORTED = {**SCALARS, **LISTS}


@pytest.mark.parametrize("text", SUPPORTED)
def test_text_round_trip(text: str) -> None:
    t, _ = SUPPORTED[text]
    check_value_type(t)
    assert type_to_text(t) == text
    assert type_from_text(text) == t
    assert type_to_text(type_from_text(text)) == text


@pytest.mark.parametrize("text", SUPPORTED)
def test_fixed_width(text: str) -> None:
    t, width = SUPPORTED[text]
    assert fixed_width(t) == width


@pytest.mark.parametrize("text", SCALARS)
def test_every_scalar_type_may_be_a_key(text: str) -> None:
    check_key_type(SCALARS[text][0])


@pytest.mark.parametrize("text", LISTS)
def test_lists_are_refused_in_keys(text: str) -> None:
    with pytest.raises(UnsupportedType, match="a key cannot hold list<.*scalar column"):
        check_key_type(LISTS[text][0])


@given(st.integers(1, 38).flatmap(lambda p: st.tuples(st.just(p), st.integers(0, p))))
def test_every_decimal_round_trips(ps: tuple[int, int]) -> None:
    t = pa.decimal128(*ps)
    assert type_from_text(type_to_text(t)) == t


@pytest.mark.parametrize(
    ("t", "hint"),
    [
        (pa.large_string(), r"pa\.string\(\)"),
        (pa.string_view(), r"pa\.string\(\)"),
        (pa.large_binary(), r"pa\.binary\(\)"),
        (pa.binary(16), r"pa\.binary\(\)"),
        (pa.float16(), r"pa\.float32\(\)"),
        (pa.timestamp("ns"), r'pa\.timestamp\("us"\)'),
        (pa.timestamp("s", "UTC"), r'pa\.timestamp\("us"\)'),
        (pa.date64(), r"pa\.date32\(\)"),
        (pa.time64("us"), "int64 microseconds"),
        (pa.duration("us"), "int64 microseconds"),
        (pa.decimal256(50, 2), r"decimal128\(p, s\)"),
        (pa.decimal128(10, 12), "scale <= precision"),
        (pa.dictionary(pa.int32(), pa.string()), "value type string"),
        (pa.struct([("a", pa.int8())]), "string .*JSON"),
        (pa.map_(pa.string(), pa.int8()), "string .*JSON"),
        (pa.null(), "concrete type"),
        (pa.large_list(pa.float32()), "use list<float32>: pa.list_"),
        (pa.list_(pa.field("item", pa.float32(), nullable=False)), "use list<float32>: pa.list_"),
        (pa.list_(pa.float32(), 4), "use list<float32>: pa.list_"),
        (pa.list_(pa.list_(pa.int8())), "lists of lists"),
        (pa.list_(pa.large_string()), r"pa\.string\(\)"),
        (pa.timestamp("us", "Europe Paris"), "time zone"),
    ],
)
def test_unsupported_types_are_refused_with_what_to_use(t: pa.DataType, hint: str) -> None:
    with pytest.raises(UnsupportedType, match=hint) as err:
        check_value_type(t)
    assert str(t) in str(err.value)
    with pytest.raises(UnsupportedType):
        type_to_text(t)
    with pytest.raises(UnsupportedType):
        check_key_type(t)


def test_a_non_type_is_refused() -> None:
    with pytest.raises(UnsupportedType, match="not a pyarrow DataType"):
        check_value_type("int64")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "int",
        "double",
        "utf8",
        "Int64",
        " int64",
        "int64 ",
        "decimal128(18, 2)",
        "decimal128(39,0)",
        "decimal128(0,0)",
        "decimal128(5,6)",
        "decimal128(05,2)",
        "timestamp[ns]",
        "timestamp[us, tz=UTC]",
        "timestamp[us,tz=]",
        "list<double>",
        "list<list<int8>>",
        "list<>",
        "large_string",
    ],
)
def test_non_canonical_text_is_refused(text: str) -> None:
    with pytest.raises(UnsupportedType, match="not a supported type"):
        type_from_text(text)


@given(st.text(max_size=30))
def test_type_from_text_accepts_only_what_it_prints(text: str) -> None:
    try:
        t = type_from_text(text)
    except UnsupportedType as e:
        assert isinstance(e, InvalidInput)
    else:
        assert type_to_text(t) == text


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (pa.large_string(), pa.string()),
        (pa.string_view(), pa.string()),
        (pa.large_binary(), pa.binary()),
        (pa.binary_view(), pa.binary()),
        (pa.dictionary(pa.int8(), pa.large_string()), pa.string()),
        (pa.large_list(pa.large_string()), pa.list_(pa.string())),
        (pa.list_(pa.field("element", pa.float32(), nullable=False)), pa.list_(pa.float32())),
        (pa.int64(), pa.int64()),
        (pa.decimal128(9, 3), pa.decimal128(9, 3)),
    ],
)
def test_normalize_type(t: pa.DataType, expected: pa.DataType) -> None:
    normal = normalize_type(t)
    assert normal == expected
    check_value_type(normal)
    assert type_from_text(type_to_text(normal)) == normal


@pytest.mark.parametrize("t", [pa.float16(), pa.timestamp("ns"), pa.struct([("a", pa.int8())])])
def test_normalize_type_refuses_what_no_supported_type_holds(t: pa.DataType) -> None:
    with pytest.raises(UnsupportedType):
        normalize_type(t)
