"""Tag and working-set codecs: round trips, canonical bytes, refusal of bad bytes; peel."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.chunks.memory import MemoryChunkStore
from arbordb.engine.errors import (
    CorruptChunk,
    FormatVersionError,
    InvalidAddress,
    InvalidInput,
    MissingChunk,
    RevisionNotFound,
)
from arbordb.engine.hash import address_of
from arbordb.engine.history import (
    MergeState,
    Tag,
    WorkingSet,
    decode_tag,
    decode_working_set,
    encode_commit,
    encode_tag,
    encode_working_set,
    make_commit,
    peel,
)

ADDR = st.binary(min_size=20, max_size=20)


@st.composite
def tags(draw) -> Tag:
    return Tag(
        target=draw(ADDR),
        name=draw(st.text()),
        tagger=draw(st.text()),
        email=draw(st.text()),
        timestamp=draw(st.integers(-(2**63), 2**63 - 1)),
        message=draw(st.text()),
    )


@st.composite
def working_sets(draw) -> WorkingSet:
    merge = None
    if draw(st.booleans()):
        merge = MergeState(
            theirs=draw(ADDR),
            ours=draw(ADDR),
            pre_merge_working=draw(ADDR),
            base_root=draw(st.none() | ADDR),
            theirs_label=draw(st.text(max_size=10)),
            squash=draw(st.booleans()),
            no_commit=draw(st.booleans()),
            details=draw(
                st.dictionaries(st.text(max_size=5), st.integers() | st.text(), max_size=3)
            ),
        )
    return WorkingSet(working=draw(ADDR), staged=draw(ADDR), merge=merge)


@given(tags())
def test_tag_round_trip(t):
    data = encode_tag(t)
    assert decode_tag(data) == t
    assert encode_tag(decode_tag(data)) == data


@given(working_sets())
def test_working_set_round_trip(ws):
    data = encode_working_set(ws)
    assert decode_working_set(data) == ws
    assert encode_working_set(decode_working_set(data)) == data


TAG = Tag(target=b"t" * 20, name="v1", tagger="Ada", email="a@x", timestamp=7, message="first")


def test_tag_layout_and_field_changes():
    data = encode_tag(TAG)
    assert data[:5] == b"ATAG\x01"
    assert struct.unpack(">q20s", data[5:33]) == (7, b"t" * 20)
    assert data[33:39] == b"\x00\x00\x00\x02v1"
    base = address_of(data)
    for change in (
        {"target": b"u" * 20},
        {"name": "v2"},
        {"tagger": "Bo"},
        {"email": "b@x"},
        {"timestamp": 8},
        {"message": ""},
    ):
        fields = {**TAG.__dict__, **change}
        assert address_of(encode_tag(Tag(**fields))) != base


def test_tag_refuses():
    with pytest.raises(InvalidAddress):
        Tag(target=b"x", name="v", tagger="", email="", timestamp=0, message="")
    with pytest.raises(InvalidInput, match="tag name"):
        Tag(target=b"t" * 20, name=3, tagger="", email="", timestamp=0, message="")
    data = encode_tag(TAG)
    with pytest.raises(CorruptChunk, match="not a tag chunk"):
        decode_tag(b"ACMT" + data[4:])
    with pytest.raises(CorruptChunk, match="unexpected bytes"):
        decode_tag(data + b"!")
    with pytest.raises(CorruptChunk, match="truncated"):
        decode_tag(data[:-1])
    with pytest.raises(FormatVersionError):
        decode_tag(data[:4] + b"\x09" + data[5:])


MERGE = MergeState(
    theirs=b"t" * 20,
    ours=b"o" * 20,
    pre_merge_working=b"w" * 20,
    base_root=b"b" * 20,
    theirs_label="feature",
    squash=True,
    details={"z": 1, "a": [2]},
)


def test_working_set_layout():
    clean = encode_working_set(WorkingSet(working=b"w" * 20, staged=b"s" * 20))
    assert clean == b"AWKS\x01" + b"w" * 20 + b"s" * 20 + b"\x00"
    data = encode_working_set(WorkingSet(working=b"w" * 20, staged=b"s" * 20, merge=MERGE))
    assert data[45] == 0b0111  # merging, base known, squash
    assert data[46:126] == b"t" * 20 + b"o" * 20 + b"w" * 20 + b"b" * 20
    assert data[126:137] == b"\x00\x00\x00\x07feature"
    assert data[137:] == b'\x00\x00\x00\x0f{"a":[2],"z":1}'
    no_base = MergeState(
        **{**MERGE.__dict__, "base_root": None, "squash": False, "no_commit": True}
    )
    data = encode_working_set(WorkingSet(working=b"w" * 20, staged=b"s" * 20, merge=no_base))
    assert data[45] == 0b1001
    assert decode_working_set(data).merge == no_base


def test_working_set_refuses():
    with pytest.raises(InvalidAddress, match="staged root"):
        WorkingSet(working=b"w" * 20, staged=b"s")
    with pytest.raises(InvalidInput, match="MergeState"):
        WorkingSet(working=b"w" * 20, staged=b"s" * 20, merge={"theirs": b"t" * 20})
    with pytest.raises(InvalidInput, match="squash"):
        MergeState(**{**MERGE.__dict__, "squash": 1})
    with pytest.raises(InvalidInput, match="details"):
        MergeState(**{**MERGE.__dict__, "details": {"x": object()}})
    clean = encode_working_set(WorkingSet(working=b"w" * 20, staged=b"s" * 20))
    for flags in (b"\x10", b"\x04", b"\x02"):  # unknown bit; squash / base without a merge
        with pytest.raises(CorruptChunk, match="flags") as info:
            decode_working_set(clean[:-1] + flags)
        assert info.value.offset == 45
    with pytest.raises(CorruptChunk, match="truncated"):
        decode_working_set(clean[:-1] + b"\x01")  # merge flag but no merge fields
    with pytest.raises(CorruptChunk, match="unexpected bytes"):
        decode_working_set(clean + b"\x00")


def test_peel():
    store = MemoryChunkStore()
    c = make_commit(
        store, root=b"r" * 20, parents=(), author="a", email="e", message="m", timestamp=0
    )
    commit = store.put(encode_commit(c))
    tag = store.put(
        encode_tag(Tag(target=commit, name="v1", tagger="", email="", timestamp=0, message=""))
    )
    assert peel(store, commit) == commit
    assert peel(store, tag) == commit
    other = store.put(b"some tree node")
    with pytest.raises(RevisionNotFound, match="not a commit"):
        peel(store, other)
    dangling = store.put(
        encode_tag(Tag(target=b"x" * 20, name="v", tagger="", email="", timestamp=0, message=""))
    )
    with pytest.raises(MissingChunk):
        peel(store, dangling)
