"""Point reads of leaves stored buffer by buffer (``column_frames.point_leaf_of_record``):
the buffers laid end to end are the leaf's own, a row read from them is the row read
from the rebuilt leaf, every byte is checked, and a store's point read of a kind-3 leaf
decompresses its frames without rebuilding the leaf.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.chunks import column_frames, records
from arbordb.engine.chunks.column_frames import (
    KIND_COLUMNS,
    encode_column_records,
    point_leaf_of_chunk,
    point_leaf_of_record,
)
from arbordb.engine.chunks.lmdb_store import LmdbChunkStore
from arbordb.engine.codec import point
from arbordb.engine.codec.columns import PreparedColumn
from arbordb.engine.codec.leaf import PreparedKeys, encode_leaves, parse_leaf
from arbordb.engine.errors import CorruptChunk
from arbordb.engine.hash import address_of, checksum

TYPES = [pa.int64(), pa.string(), pa.float64(), pa.binary(), pa.bool_()]
cells = st.tuples(
    st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    st.one_of(st.none(), st.sampled_from(["", "é", "label_0001 " * 20, "x" * 3000])),
    st.one_of(st.none(), st.floats(allow_nan=False)),
    st.one_of(st.none(), st.sampled_from([b"", b"\0\1", bytes(300)])),
    st.one_of(st.none(), st.booleans()),
)


@st.composite
def leaves(draw):
    """A leaf of readable column types (NULLs, long compressible values; keys of one
    width or not) and its keys."""
    n = draw(st.integers(0, 120))
    rows = draw(st.lists(cells, min_size=n, max_size=n))
    varying = draw(st.booleans())
    keys = [b"k%05d" % (2 * i) + (b"!" * (i % 2) if varying else b"") for i in range(n)]
    columns = [PreparedColumn(pa.array([r[c] for r in rows], t)) for c, t in enumerate(TYPES)]
    (chunk,) = encode_leaves(PreparedKeys(pa.array(keys, pa.binary())), columns, [0, n])
    return chunk, keys


def _framed(chunk: bytes) -> bytes | None:
    (record,) = encode_column_records([chunk], [checksum(chunk)])
    return record


@settings(max_examples=100, deadline=None)
@given(leaves())
def test_a_point_leaf_reads_the_rows_of_the_rebuilt_leaf(case):
    chunk, keys = case
    record = _framed(chunk)
    address = address_of(chunk)
    data, header = (
        point_leaf_of_record(address, record) if record is not None else point_leaf_of_chunk(chunk)
    )
    n, w, buffers = parse_leaf(chunk)
    assert header[:2] == (n, w)
    assert [data[s : s + length] for s, length in zip(header[2], header[3], strict=True)] == [
        bytes(b) for b in buffers
    ]
    read = point.row_reader(TYPES)
    assert read is not None
    probes = [*keys, b"k", b"k00001", b"z"]
    for key in probes:
        assert read(data, key, header) == point.row_of(chunk, key, TYPES)


def test_a_damaged_head_or_frame_is_named():
    keys = [b"k%05d" % i for i in range(300)]
    labels = pa.array([f"label_{i % 7:04d}" * 3 for i in range(300)])
    columns = [PreparedColumn(labels)]
    (chunk,) = encode_leaves(PreparedKeys(pa.array(keys, pa.binary())), columns, [0, 300])
    record = _framed(chunk)
    assert record is not None and record[0] == KIND_COLUMNS
    address = address_of(chunk)
    assert point_leaf_of_record(address, record)[0]
    head = int.from_bytes(record[9:13], "little")
    for at in (40, head + 5, len(record) - 3):  # the tables, a raw buffer, the last frame
        damaged = bytearray(record)
        damaged[at] ^= 0xFF
        with pytest.raises(CorruptChunk) as info:
            point_leaf_of_record(address, bytes(damaged))
        assert info.value.address == address


def test_a_store_point_read_decompresses_frames_without_rebuilding(tmp_path, monkeypatch):
    keys = [b"k%05d" % i for i in range(400)]
    labels = pa.array([f"label_{i % 13:04d}" for i in range(400)])
    columns = [PreparedColumn(labels), PreparedColumn(pa.array(range(400), pa.int64()))]
    (chunk,) = encode_leaves(PreparedKeys(pa.array(keys, pa.binary())), columns, [0, 400])
    store = LmdbChunkStore(tmp_path / "store")
    try:
        address = store.put(chunk)
        assert store.record_info(address).kind == KIND_COLUMNS
        frames = []
        real = column_frames.decompress_frame

        def counting(frame, length, address, offset):
            frames.append(length)
            return real(frame, length, address, offset)

        monkeypatch.setattr(column_frames, "decompress_frame", counting)
        monkeypatch.setattr(column_frames, "decode_column_record", None)  # no rebuild
        monkeypatch.setattr(records, "decode_column_record", None)
        data, header = store.get_point_leaf(address)
        n, w, buffers = parse_leaf(chunk)
        framed = sum(len(b) >= column_frames.MIN_FRAME for b in buffers)
        assert 0 < len(frames) <= framed
        assert point.row_of(data, b"k00123", [pa.string(), pa.int64()], header) == (
            "label_0006",
            123,
        )
    finally:
        store.close()


@settings(max_examples=60, deadline=None)
@given(leaves(), st.integers(9), st.integers(1, 255))
def test_any_damage_past_the_leaf_checksum_is_refused(case, at, flip):
    """Bytes 1-8 (the whole leaf's xxh3) are checked by whole reads only; every other
    byte of a column record is covered by the head's xxh3 or its frame's."""
    chunk, _ = case
    record = _framed(chunk)
    if record is None:
        return
    at %= len(record)
    if at < 9:
        at = 9
    damaged = bytearray(record)
    damaged[at] ^= flip
    with pytest.raises(CorruptChunk):
        point_leaf_of_record(address_of(chunk), bytes(damaged))
