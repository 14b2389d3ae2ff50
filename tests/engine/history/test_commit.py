"""Commit codec: round trips, one encoding per commit, and refusal of bad bytes."""

from __future__ import annotations

import dataclasses
import struct
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.errors import CorruptChunk, FormatVersionError, InvalidAddress, InvalidInput
from arbordb.engine.hash import address_of
from arbordb.engine.history import (
    Commit,
    datetime_from_timestamp,
    decode_commit,
    encode_commit,
    timestamp_from_datetime,
)

ADDR = st.binary(min_size=20, max_size=20)
JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def commits(draw) -> Commit:
    parents = draw(st.lists(ADDR, max_size=3, unique=True))
    return Commit(
        root=draw(ADDR),
        parents=tuple(parents),
        author=draw(st.text()),
        email=draw(st.text()),
        timestamp=draw(st.integers(-(2**63), 2**63 - 1)),
        message=draw(st.text()),
        height=draw(st.integers(2, 2**64 - 1)) if parents else 1,
        metadata=draw(st.dictionaries(st.text(max_size=8), JSON, max_size=4)),
    )


def sample(**changes) -> Commit:
    fields = dict(
        root=b"r" * 20,
        parents=(b"p" * 20, b"q" * 20),
        author="Ada",
        email="ada@example.com",
        timestamp=1_700_000_000_000_000,
        message="add rows",
        height=5,
        metadata={"b": 1, "a": [1, 2]},
    )
    fields.update(changes)
    return Commit(**fields)


@given(commits())
def test_round_trip_and_reencode(c):
    data = encode_commit(c)
    back = decode_commit(data)
    assert back == c
    assert encode_commit(back) == data


def test_layout_matches_docstring():
    c = sample()
    data = encode_commit(c)
    assert data[:5] == b"ACMT\x01"
    assert struct.unpack(">Qq", data[5:21]) == (5, 1_700_000_000_000_000)
    assert data[21:41] == b"r" * 20 and data[41] == 2
    assert data[42:82] == b"p" * 20 + b"q" * 20
    assert data.endswith(b'\x00\x00\x00\x11{"a":[1,2],"b":1}')


def test_same_commit_same_address():
    a = sample(metadata={"b": 1, "a": (1, 2)})
    b = sample(metadata={"a": [1, 2], "b": 1})
    assert a == b
    assert encode_commit(a) == encode_commit(b)
    assert a.address == address_of(encode_commit(b))
    assert hash(a) == hash(b)


@pytest.mark.parametrize(
    "change",
    [
        {"root": b"s" * 20},
        {"parents": (b"q" * 20, b"p" * 20)},  # parent order is part of the commit
        {"parents": (b"p" * 20,)},
        {"author": "Bob"},
        {"email": "ada@example.org"},
        {"timestamp": 1_700_000_000_000_001},
        {"message": "add rows."},
        {"height": 6},
        {"metadata": {"b": 1, "a": [1, 2], "c": None}},
        {"metadata": {"b": 1.0, "a": [1, 2]}},  # 1.0 and 1 spell differently
    ],
)
def test_any_field_change_changes_address(change):
    assert sample(**change).address != sample().address


def test_metadata_is_normalised_copy():
    meta = {"k": (1, 2), "n": {"x": True}}
    c = sample(metadata=meta)
    assert c.metadata == {"k": [1, 2], "n": {"x": True}}
    meta["n"]["x"] = False
    assert c.metadata["n"]["x"] is True


def test_non_ascii_text_round_trips_unescaped():
    c = sample(message="données ✓", metadata={"é": "✓"})
    data = encode_commit(c)
    assert "données ✓".encode() in data and '{"é":"✓"}'.encode() in data
    assert decode_commit(data) == c


@pytest.mark.parametrize(
    "change, error, fragment",
    [
        ({"root": b"short"}, InvalidAddress, "commit root"),
        ({"root": "r" * 20}, InvalidAddress, "text"),
        ({"parents": b"p" * 20}, InvalidInput, "sequence"),
        ({"parents": (b"p" * 20, b"p" * 20)}, InvalidInput, "distinct"),
        (
            {"parents": tuple(bytes([i // 256, i % 256]) * 10 for i in range(256))},
            InvalidInput,
            "255",
        ),
        ({"author": None}, InvalidInput, "author"),
        ({"message": "\ud800"}, InvalidInput, "Unicode"),
        ({"timestamp": 1.5}, InvalidInput, "microseconds"),
        ({"timestamp": True}, InvalidInput, "microseconds"),
        ({"timestamp": 2**63}, InvalidInput, "64 bits"),
        ({"height": 1}, InvalidInput, "at least 2"),
        ({"parents": (), "height": 2}, InvalidInput, "height 1"),
        ({"height": 0}, InvalidInput, "height"),
        ({"metadata": [1]}, InvalidInput, "dict"),
        ({"metadata": {"x": {1, 2}}}, InvalidInput, "JSON"),
        ({"metadata": {"x": float("nan")}}, InvalidInput, "JSON"),
        ({"metadata": {1: "a", "b": 2}}, InvalidInput, "JSON"),
    ],
)
def test_constructor_refuses(change, error, fragment):
    with pytest.raises(error, match=fragment):
        sample(**change)


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample().message = "x"  # type: ignore[misc]


def _corrupt(data: bytes, match: str, offset: int | None = None) -> None:
    with pytest.raises(CorruptChunk, match=match) as info:
        decode_commit(data)
    assert info.value.address == address_of(data)
    if offset is not None:
        assert info.value.offset == offset


def test_decode_refuses_damage():
    good = encode_commit(sample())
    _corrupt(b"ATAG" + good[4:], "not a commit chunk", 0)
    _corrupt(good[:4] + b"\x00" + good[5:], "version 0", 4)
    _corrupt(good[:30], "truncated")
    _corrupt(good[:-1], "truncated")
    _corrupt(good + b"\x00", "unexpected bytes", len(good))
    # the height says "no parents" while parents follow
    _corrupt(good[:5] + struct.pack(">Q", 1) + good[13:], "height", 5)
    _corrupt(good[:62] + b"p" * 20 + good[82:], "same parent twice", 42)
    # the same object spelled non-canonically, a non-object, bad JSON, NaN
    meta_at = len(good) - 21
    for text in (b'{"a": [1,2],"b":1}', b'{"b":1,"a":[1,2]}', b"[1,2]", b"{bad", b'{"a":NaN}'):
        _corrupt(good[:meta_at] + struct.pack(">I", len(text)) + text, "canonical JSON", meta_at)
    bad_utf8 = encode_commit(sample(author="ab")).replace(
        b"\x00\x00\x00\x02ab", b"\x00\x00\x00\x02\xff\xfe"
    )
    _corrupt(bad_utf8, "author is not valid UTF-8")


def test_decode_refuses_newer_version():
    good = encode_commit(sample())
    with pytest.raises(FormatVersionError, match="version 2"):
        decode_commit(good[:4] + b"\x02" + good[5:])


def test_timestamps_convert_exactly():
    moment = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    ts = timestamp_from_datetime(moment)
    assert ts == 1772366400123456
    assert datetime_from_timestamp(ts) == moment
    assert timestamp_from_datetime(moment.replace(tzinfo=None)) == ts  # naive means UTC
    plus_one = timezone(timedelta(hours=1))
    assert timestamp_from_datetime(datetime(2026, 3, 1, 13, 0, 0, 123456, tzinfo=plus_one)) == ts
    assert timestamp_from_datetime(datetime(1969, 12, 31, 23, 59, 59)) == -1_000_000
