"""The engine's column types: a small, SQL-agnostic set of ``pyarrow`` DataTypes.

Supported types (what a column may hold):

    TYPE                  PYARROW                     FIXED WIDTH (bytes per value)
    int8 .. int64         pa.int8() .. pa.int64()     1, 2, 4, 8
    uint8 .. uint64       pa.uint8() .. pa.uint64()   1, 2, 4, 8
    float32, float64      pa.float32(), pa.float64()  4, 8
    decimal128(p,s)       pa.decimal128(p, s)         16   (1 <= p <= 38, 0 <= s <= p)
    bool                  pa.bool_()                  1    (key value part; Arrow packs bits)
    date32                pa.date32()                 4    (days since 1970-01-01)
    timestamp[us]         pa.timestamp("us")          8    (microseconds since the epoch)
    timestamp[us,tz=Z]    pa.timestamp("us", Z)       8    (UTC microseconds; Z is kept)
    string                pa.string()                 variable (UTF-8; JSON is stored as string)
    binary                pa.binary()                 variable
    list<T>               pa.list_(T)                 variable (T any supported non-list type)

Everything else is refused with ``UnsupportedType``, naming what to use instead.
Arrow spells some of these types several ways (``large_string``, ``string_view``,
``large_list``, ...); the engine keeps exactly one spelling per type so that a
schema has one encoding. ``normalize_type`` maps the other spellings to it.

Keys may hold every supported type except ``list<T>`` (``check_key_type``).

Text form (``type_to_text`` / ``type_from_text``). The text is part of the on-disk
format: schemas store it, so the strings below never change meaning. Adding a type
adds a string; changing one needs a format version bump where schemas are stored.

    int8 int16 int32 int64 uint8 uint16 uint32 uint64 float32 float64 bool
    date32 string binary decimal128(18,2) timestamp[us] timestamp[us,tz=UTC]
    list<float32> list<decimal128(9,3)>

Invariants:

(1) ``type_from_text(type_to_text(t)) == t`` for every supported ``t``, and
    ``type_to_text(type_from_text(s)) == s`` for every text that parses: exactly
    one text per type (no spaces, no aliases such as "double" or "utf8").
(2) ``fixed_width(t)`` is the byte width of ``t``'s value part in a key; it is
    ``None`` exactly for the variable-width types (string, binary, list).
"""

from __future__ import annotations

import re

import pyarrow as pa

from ..errors import UnsupportedType

__all__ = [
    "check_key_type",
    "check_value_type",
    "fixed_width",
    "normalize_type",
    "type_from_text",
    "type_to_text",
]

# name -> (type, fixed width); the names are on-disk text (see the module docstring).
_SIMPLE: dict[str, tuple[pa.DataType, int | None]] = {
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
}
_NAME_OF: dict[pa.DataType, str] = {t: name for name, (t, _) in _SIMPLE.items()}

_DECIMAL_WIDTH = 16
_TIMESTAMP_WIDTH = 8
_MAX_DECIMAL_PRECISION = 38
_TZ_CHARS = r"[A-Za-z0-9_+\-:/]+"  # IANA names ("Europe/Paris") and offsets ("+01:00")

_DECIMAL_RE = re.compile(r"decimal128\((\d+),(\d+)\)")
_TIMESTAMP_RE = re.compile(rf"timestamp\[us(?:,tz=({_TZ_CHARS}))?\]")
_LIST_RE = re.compile(r"list<(.+)>")


def _is_canonical_list(t: pa.DataType) -> bool:
    """A list spelled the engine's way: ``pa.list_(T)`` with a nullable item field."""
    return pa.types.is_list(t) and t.value_field.nullable


def check_value_type(t: pa.DataType) -> None:
    """Check that ``t`` is a type a column may hold.

    Args:
        t: a pyarrow DataType.

    Raises:
        UnsupportedType: ``t`` is not in the supported set; the message names the
            type to use instead.

    Example:
        >>> check_value_type(pa.list_(pa.float32()))
        >>> check_value_type(pa.large_string())
        Traceback (most recent call last):
        ...
        arbordb.engine.errors.UnsupportedType: column type large_string is not supported:
            use pa.string() (normalize_type(t) converts it)
    """
    if not isinstance(t, pa.DataType):
        raise UnsupportedType(f"{t!r} is not a pyarrow DataType (pass e.g. pa.int64())")
    problem = _problem(t)
    if problem is not None:
        raise UnsupportedType(f"column type {t} is not supported: {problem}")


def _problem(t: pa.DataType) -> str | None:
    """Why ``t`` is not supported and what to use instead; None if it is supported."""
    if t in _NAME_OF:
        return None
    if pa.types.is_decimal128(t):
        if not 1 <= t.precision <= _MAX_DECIMAL_PRECISION or not 0 <= t.scale <= t.precision:
            return "decimal128 needs 1 <= precision <= 38 and 0 <= scale <= precision"
        return None
    if pa.types.is_timestamp(t):
        if t.unit != "us":
            return 'use pa.timestamp("us") (microseconds); cast the values first'
        if t.tz is not None and not re.fullmatch(_TZ_CHARS, t.tz):
            return "the time zone must be an IANA name or an offset like +01:00"
        return None
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        item = t.value_type
        if pa.types.is_list(item) or pa.types.is_large_list(item):
            return "lists of lists are not supported; flatten them or use binary"
        item_problem = _problem(item)
        if item_problem is not None:
            return f"its item type {item} is not supported: {item_problem}"
        if not _is_canonical_list(t):
            return f"use list<{type_to_text(item)}>: pa.list_(item) (normalize_type(t) converts it)"
        return None
    return _instead(t)


def _instead(t: pa.DataType) -> str:
    """What to use instead of an unsupported type ``t`` (a message fragment)."""
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "use pa.string() (normalize_type(t) converts it)"
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return "use pa.binary() (normalize_type(t) converts it)"
    if pa.types.is_fixed_size_binary(t):
        return "use pa.binary()"
    if pa.types.is_fixed_size_list(t):
        if _problem(t.value_type) is None:
            return f"use list<{type_to_text(t.value_type)}>: pa.list_(item)"
        return "use pa.list_(item) of a supported item type"
    if pa.types.is_float16(t):
        return "use pa.float32()"
    if pa.types.is_decimal(t):
        return "use pa.decimal128(p, s) with p <= 38"
    if pa.types.is_date64(t):
        return "use pa.date32()"
    if pa.types.is_time(t) or pa.types.is_duration(t) or pa.types.is_interval(t):
        return "store it as int64 microseconds, or as a timestamp"
    if pa.types.is_dictionary(t):
        return f"use its value type {t.value_type} (normalize_type(t) converts it)"
    if pa.types.is_null(t):
        return "give the column a concrete type"
    return "use string (e.g. JSON text) or binary for nested or custom data"


def check_key_type(t: pa.DataType) -> None:
    """Check that ``t`` may be a field of a key (primary, composite or index key).

    Raises:
        UnsupportedType: ``t`` is not a supported column type, or is a list.

    Example:
        >>> check_key_type(pa.decimal128(18, 2))
        >>> check_key_type(pa.list_(pa.float32()))
        Traceback (most recent call last):
        ...
        arbordb.engine.errors.UnsupportedType: a key cannot hold list<float32>
            (lists have no key order); key on a scalar column instead
    """
    check_value_type(t)
    if pa.types.is_list(t):
        raise UnsupportedType(
            f"a key cannot hold {type_to_text(t)} (lists have no key order); "
            "key on a scalar column instead"
        )


def normalize_type(t: pa.DataType) -> pa.DataType:
    """Map Arrow's alternative spellings of a supported type to the engine's one.

    ``large_string``/``string_view`` -> string, ``large_binary``/``binary_view`` ->
    binary, ``large_list``/``list_view``/non-nullable items -> ``list_``,
    ``dictionary<V>`` -> ``V``; a supported type is returned unchanged.

    Raises:
        UnsupportedType: no supported type holds the same values.

    Example:
        >>> normalize_type(pa.large_list(pa.large_string()))
        ListType(list<item: string>)
    """
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_dictionary(t):
        return normalize_type(t.value_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        t = pa.list_(normalize_type(t.value_type))
    check_value_type(t)
    return t


def fixed_width(t: pa.DataType) -> int | None:
    """Bytes per value of ``t`` in a key's value part; ``None`` if variable width.

    Invariant (2). ``bool`` is 1 (one byte in a key), although Arrow's columnar
    layout packs it into bits.

    Example:
        >>> fixed_width(pa.int32()), fixed_width(pa.decimal128(9, 2)), fixed_width(pa.string())
        (4, 16, None)
    """
    check_value_type(t)
    if t in _NAME_OF:
        return _SIMPLE[_NAME_OF[t]][1]
    if pa.types.is_decimal128(t):
        return _DECIMAL_WIDTH
    if pa.types.is_timestamp(t):
        return _TIMESTAMP_WIDTH
    return None  # list


def type_to_text(t: pa.DataType) -> str:
    """The canonical text of a supported type (on-disk format; invariant (1)).

    Raises:
        UnsupportedType: ``t`` is not supported.

    Example:
        >>> type_to_text(pa.decimal128(18, 2)), type_to_text(pa.list_(pa.float32()))
        ('decimal128(18,2)', 'list<float32>')
    """
    check_value_type(t)
    if t in _NAME_OF:
        return _NAME_OF[t]
    if pa.types.is_decimal128(t):
        return f"decimal128({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "timestamp[us]" if t.tz is None else f"timestamp[us,tz={t.tz}]"
    return f"list<{type_to_text(t.value_type)}>"


def type_from_text(s: str) -> pa.DataType:
    """Parse the canonical text of a type (the inverse of ``type_to_text``).

    Raises:
        UnsupportedType: ``s`` is not the canonical text of a supported type
            (including aliases such as "double" and spacing such as
            "decimal128(18, 2)").

    Example:
        >>> type_from_text("timestamp[us,tz=UTC]")
        TimestampType(timestamp[us, tz=UTC])
    """
    t = _parse(s)
    if t is None or type_to_text(t) != s:  # invariant (1): one text per type
        raise UnsupportedType(
            f"type text {s!r} is not a supported type (expected e.g. 'int64', "
            "'decimal128(18,2)', 'timestamp[us]', 'list<float32>'; was the "
            "repository written by a newer ArborDB?)"
        )
    return t


def _parse(s: str) -> pa.DataType | None:
    if s in _SIMPLE:
        return _SIMPLE[s][0]
    if m := _DECIMAL_RE.fullmatch(s):
        precision, scale = int(m[1]), int(m[2])
        if not 1 <= precision <= _MAX_DECIMAL_PRECISION or not 0 <= scale <= precision:
            return None
        return pa.decimal128(precision, scale)
    if m := _TIMESTAMP_RE.fullmatch(s):
        return pa.timestamp("us", m[1])
    if m := _LIST_RE.fullmatch(s):
        item = _parse(m[1])
        if item is None or pa.types.is_list(item):
            return None
        return pa.list_(item)
    return None
