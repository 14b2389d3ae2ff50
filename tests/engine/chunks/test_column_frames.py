"""Leaves stored buffer by buffer (records kind 3, ``column_frames.py``), format
version 5: the record round-trips to the leaf's exact bytes, a read of some
buffers gives the same bytes as slicing the leaf, a scan of two columns reads and
decompresses only their buffers, damage is reported, and a version-4 store (whole
leaves compressed, kind 1) written by the old writer is read, committed to and
checked.
"""

from __future__ import annotations

import datetime
import decimal
import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.engine.chunks import column_frames, lmdb_format, records
from arbordb.engine.chunks.column_frames import (
    KIND_COLUMNS,
    BufferPick,
    JoinedBuffer,
    block_of_leaves,
    encode_column_records,
    pick_column_record,
    pick_column_records,
    pick_from_leaf,
    pick_from_leaves,
)
from arbordb.engine.chunks.lmdb_store import LmdbChunkStore
from arbordb.engine.chunks.records import KIND_ZSTD
from arbordb.engine.codec.columns import PreparedColumn
from arbordb.engine.codec.leaf import (
    PreparedKeys,
    buffer_pick,
    decode_leaves,
    decode_picked,
    encode_leaves,
    parse_leaf,
)
from arbordb.engine.errors import CorruptChunk
from arbordb.engine.hash import address_of, checksum
from tests.engine.stored import record_kinds

TYPES = [
    pa.int8(),
    pa.uint16(),
    pa.int64(),
    pa.float32(),
    pa.float64(),
    pa.bool_(),
    pa.decimal128(12, 3),
    pa.date32(),
    pa.timestamp("us"),
    pa.string(),
    pa.binary(),
    pa.list_(pa.int16()),
    pa.list_(pa.string()),
]
_BIG = "lorem ipsum dolor " * 400  # a huge value: 7,200 characters, compressible
cells = st.tuples(
    st.one_of(st.none(), st.integers(-128, 127)),
    st.one_of(st.none(), st.integers(0, 65535)),
    st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.just(7)),
    st.one_of(st.none(), st.sampled_from([0.0, -1.5, math.inf])),
    st.one_of(st.none(), st.sampled_from([0.0, -0.0, 2.5, math.nan])),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.sampled_from([decimal.Decimal("1.250"), decimal.Decimal("-3.000")])),
    st.one_of(st.none(), st.sampled_from([datetime.date(2026, 1, 2), datetime.date(1970, 1, 1)])),
    st.one_of(st.none(), st.sampled_from([datetime.datetime(2026, 12, 6, 9, 30)])),
    st.one_of(st.none(), st.sampled_from(["", "é", "label_0001 " * 20, _BIG])),
    st.one_of(st.none(), st.sampled_from([b"", b"\0\1", bytes(300)])),
    st.one_of(st.none(), st.lists(st.one_of(st.none(), st.integers(-5, 5)), max_size=40)),
    st.one_of(st.none(), st.lists(st.sampled_from(["ab", "ab" * 50]), max_size=5)),
)


@st.composite
def leaves(draw):
    """Leaves of every column type (NULLs, NaN, huge values; keys of one width or
    not), an empty leaf among them now and then."""
    n = draw(st.integers(0, 80))
    rows = draw(st.lists(cells, min_size=n, max_size=n))
    cuts = sorted(set(draw(st.lists(st.integers(1, n - 1), max_size=4)))) if n > 1 else []
    varying = draw(st.booleans())
    keys = [b"k%05d" % i + (b"!" * (i % 2) if varying else b"") for i in range(n)]
    columns = [PreparedColumn(pa.array([r[c] for r in rows], t)) for c, t in enumerate(TYPES)]
    chunks = encode_leaves(PreparedKeys(pa.array(keys, pa.binary())), columns, [0, *cuts, n])
    wanted = draw(st.lists(st.integers(0, len(TYPES) - 1), unique=True, max_size=len(TYPES)))
    return chunks, wanted, draw(st.booleans())


@settings(max_examples=150, deadline=None)
@given(leaves())
def test_a_column_record_round_trips_and_picks_the_same_bytes(case):
    chunks, wanted, with_keys = case
    made = encode_column_records(chunks, [checksum(c) for c in chunks])
    pick = buffer_pick(TYPES, wanted, keys=with_keys)
    picked = []
    for chunk, record in zip(chunks, made, strict=True):
        address = address_of(chunk)
        if record is None:  # nothing worth compressing: stored raw (or kind 1)
            record = records.encode_records({address: chunk})[address]
            assert record[0] != KIND_COLUMNS
        else:
            assert record[0] == KIND_COLUMNS and len(record) < len(chunk) + 21 + 16 * 40
            assert records.names_nothing(lambda a: None, address, record, {})  # a leaf
            one = pick_column_record(address, record, pick)
            plain = pick_from_leaf(chunk, pick)
            assert (one.rows, one.key_width) == (plain.rows, plain.key_width)
            assert [bytes(b) for b in one.buffers] == [bytes(b) for b in plain.buffers]
        assert records.decode_record(address, record) == chunk
        picked.append(pick_from_leaf(chunk, pick))
    framed = [(address_of(c), r) for c, r in zip(chunks, made, strict=True) if r is not None]
    many = pick_column_records([a for a, _ in framed], [r for _, r in framed], pick)
    whole = [c for c, r in zip(chunks, made, strict=True) if r is not None]
    assert [[bytes(b) for b in leaf.buffers] for leaf in many] == [
        [bytes(b) for b in leaf.buffers] for leaf in pick_from_leaves(whole, pick)
    ]
    assert [(p.rows, p.key_width) for p in pick_from_leaves(chunks, pick)] == [
        (p.rows, p.key_width) for p in picked
    ]
    block = block_of_leaves(picked, with_keys)
    keys, columns = decode_picked(block, TYPES, wanted, keys=with_keys)
    all_keys, all_columns = decode_leaves(chunks, TYPES)
    assert sorted(columns) == sorted(wanted)
    for i in wanted:
        assert _same(columns[i], all_columns[i])
    assert (keys is not None) == with_keys and (keys is None or keys.equals(all_keys))


def _same(a: pa.Array, b: pa.Array) -> bool:
    return [repr(x) for x in a.to_pylist()] == [repr(x) for x in b.to_pylist()]


def _text_leaf() -> bytes:
    rows = 60
    columns = [
        pa.array([_BIG[: 200 + 20 * i] for i in range(rows)]),  # the text, framed
        pa.array(["en", "de"] * (rows // 2)),
        pa.array(np.random.default_rng(0).random(rows)),  # incompressible: stored as is
    ]
    keys = pa.array([b"k%05d" % i for i in range(rows)], pa.binary())
    (chunk,) = encode_leaves(PreparedKeys(keys), [PreparedColumn(c) for c in columns], [0, rows])
    return chunk


def test_a_damaged_column_record_is_reported_and_an_untouched_frame_is_not_read():
    chunk = _text_leaf()
    address = address_of(chunk)
    (record,) = encode_column_records([chunk], [checksum(chunk)])
    assert record is not None and record[0] == KIND_COLUMNS
    types = [pa.string(), pa.string(), pa.float64()]
    narrow = buffer_pick(types, [1, 2], keys=False)
    text_frame = column_frames._parse(address, record).starts[3]  # keys, validity, offsets, data
    tail = bytearray(record)
    tail[text_frame + 5] ^= 0xFF  # inside the text's frame
    # a read of the narrow columns does not read the text's frame: no error
    got = pick_column_record(address, bytes(tail), narrow)
    assert [bytes(b) for b in got.buffers] == [
        bytes(b) for b in pick_from_leaf(chunk, narrow).buffers
    ]
    with pytest.raises(CorruptChunk, match="buffer 3.s frame"):
        pick_column_record(address, bytes(tail), buffer_pick(types, [0], keys=False))
    with pytest.raises(CorruptChunk):
        records.decode_record(address, bytes(tail))
    head = bytearray(record)
    head[40] ^= 0x01  # inside the head
    with pytest.raises(CorruptChunk, match="head"):
        pick_column_record(address, bytes(head), narrow)
    with pytest.raises(CorruptChunk):
        records.decode_record(address, bytes(head))
    with pytest.raises(CorruptChunk):
        pick_column_record(address, record[:30], narrow)
    wide = BufferPick(narrow.values, (narrow.values + 3,), False)
    with pytest.raises(CorruptChunk, match="buffers"):
        pick_column_record(address, record, wide)


def test_a_block_decompresses_each_picked_frame_once_buffer_by_buffer(monkeypatch):
    """A block of leaves whose float column is framed in some leaves and stored as it
    is in others (random floats save about MIN_GAIN's share, constant ones much more):
    each picked buffer's frames are checked and decompressed in one pass over the
    block, each frame once, never leaf by leaf; the buffers equal the leaves' own, and
    a damaged frame among them is still named by its leaf."""
    rng = np.random.default_rng(3)
    chunks = []
    for i in range(12):
        rows = 400
        floats = rng.random(rows) if i % 2 else np.full(rows, 0.25)
        columns = [
            pa.array([_BIG[: 100 + 10 * (j % 50)] for j in range(rows)]),  # framed text
            pa.array(floats),
        ]
        keys = pa.array([b"k%02d%05d" % (i, j) for j in range(rows)], pa.binary())
        (chunk,) = encode_leaves(
            PreparedKeys(keys), [PreparedColumn(c) for c in columns], [0, rows]
        )
        chunks.append(chunk)
    made = encode_column_records(chunks, [checksum(c) for c in chunks])
    assert all(r is not None for r in made)
    addresses = [address_of(c) for c in chunks]
    types = [pa.string(), pa.float64()]
    pick = buffer_pick(types, [0, 1], keys=False)
    parsed = [column_frames._parse(a, r) for a, r in zip(addresses, made, strict=True)]
    float_data = 5  # keys, then the text's validity, offsets, data, then the floats'
    framed_floats = [p.checks[float_data] >= 0 for p in parsed]
    assert any(framed_floats) and not all(framed_floats)  # framed in some leaves only
    indexes = pick.indexes(len(parsed[0].lengths))
    frames = [(i, j) for i, p in enumerate(parsed) for j in indexes if p.checks[j] >= 0]

    calls: list[list[int]] = []
    real_many = column_frames.decompress_frames

    def counting(pieces, lengths):
        calls.append(lengths.tolist())
        return real_many(pieces, lengths)

    def one_by_one(*args):
        raise AssertionError("a healthy block is not read leaf by leaf")

    monkeypatch.setattr(column_frames, "decompress_frames", counting)
    monkeypatch.setattr(column_frames, "decompress_frame", one_by_one)
    monkeypatch.setattr(column_frames, "pick_column_record", one_by_one)
    got = pick_column_records(addresses, made, pick)
    assert [[bytes(b) for b in leaf.buffers] for leaf in got] == [
        [bytes(b) for b in leaf.buffers] for leaf in pick_from_leaves(chunks, pick)
    ]
    framed_buffers = {j for _, j in frames}
    assert len(calls) == len(framed_buffers)  # one pass per framed buffer
    assert sorted(n for c in calls for n in c) == sorted(parsed[i].lengths[j] for i, j in frames)
    monkeypatch.undo()

    bad = 7 if framed_floats[7] else next(i for i, f in enumerate(framed_floats) if f)
    damaged = bytearray(made[bad])
    damaged[parsed[bad].starts[float_data] + 3] ^= 0xFF  # inside that leaf's float frame
    records_ = list(made)
    records_[bad] = bytes(damaged)
    with pytest.raises(CorruptChunk, match="frame") as info:
        pick_column_records(addresses, records_, pick)
    assert info.value.address == addresses[bad]


def _llm(rows: int) -> pa.Table:
    rng = np.random.default_rng(1)
    words = np.array("the of data model label text token corpus learn layer".split())
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "text": pa.array(
                [" ".join(words[rng.integers(0, 10, int(k))]) for k in rng.integers(40, 300, rows)]
            ),
            "lang": pa.array(np.where(rng.random(rows) < 0.6, "en", "de")),
            "quality": pa.array(rng.random(rows)),
        }
    )


def test_a_scan_of_two_columns_reads_only_their_bytes(tmp_path, monkeypatch):
    """The filter on ``lang`` and ``quality`` beside a long text: the scan takes
    those buffers out of each record and decompresses no frame (the text's stays
    unread); a scan of the text decompresses exactly its frames."""
    data = _llm(3_000)
    repo = arbordb.Repo(tmp_path / "r")
    repo.write("t", data, primary_key=["id"])
    repo.commit("load")
    repo.close()
    with LmdbChunkStore(tmp_path / "r" / ".arbor") as store:
        store.compact()
    kinds = _kinds(tmp_path / "r" / ".arbor")
    assert kinds.get(KIND_COLUMNS, 0) > 20, kinds  # the leaves are column records

    decompressed: list[int] = []
    copied: list[int] = []
    real_decompress, real_picks = column_frames.decompress_frame, column_frames.pick_column_records
    real_decompress_many = column_frames.decompress_frames

    def counting_decompress(frame, length, address, offset):
        decompressed.append(length)
        return real_decompress(frame, length, address, offset)

    def counting_decompress_many(frames, lengths):
        decompressed.extend(lengths.tolist())
        return real_decompress_many(frames, lengths)

    def counting_picks(addresses, found, pick):
        got = real_picks(addresses, found, pick)
        copied.extend(sum(map(len, leaf.buffers)) for leaf in got)
        return got

    real_block = column_frames.pick_records

    def counting_block(addresses, found, pick):
        got = real_block(addresses, found, pick)
        copied.extend(got.sizes.tolist() if got is not None else [])
        return got

    monkeypatch.setattr(column_frames, "decompress_frame", counting_decompress)
    monkeypatch.setattr(column_frames, "decompress_frames", counting_decompress_many)
    import arbordb.engine.chunks.lmdb_store as lmdb_store

    monkeypatch.setattr(lmdb_store, "pick_column_records", counting_picks)
    monkeypatch.setattr(lmdb_store, "pick_records", counting_block)

    def one_by_one(*args):
        raise AssertionError("healthy leaves of one shape are read in one batch, not one by one")

    monkeypatch.setattr(column_frames, "pick_column_record", one_by_one)
    monkeypatch.setattr(column_frames, "pick_from_leaf", one_by_one)
    with arbordb.connect(str(tmp_path / "r")) as con:
        _check_llm_filter(con, data)
        # lang's data and offsets, quality's values: nothing of the text or the keys
        lang_quality = 2 * len(data) + 8 * len(data) + 4 * (len(data) + kinds[KIND_COLUMNS])
        assert 0 < sum(copied) <= lang_quality
        assert decompressed == []  # their buffers are small: in the heads, no frame read
        copied.clear()
        text = con.execute("SELECT sum(length(text)) FROM t").fetchone()[0]
    assert text == sum(len(s) for s in data.column("text").to_pylist())
    assert sum(decompressed) <= sum(copied) and sum(decompressed) > text * 0.9


def _check_llm_filter(con, data: pa.Table) -> None:
    """The LLM filter query answers as computed from ``data`` directly."""
    got = con.execute(
        "SELECT count(*), avg(quality) FROM t WHERE lang = 'en' AND quality > 0.8"
    ).fetchone()
    mask = (np.asarray(data.column("lang").to_pylist()) == "en") & (
        data.column("quality").to_numpy() > 0.8
    )
    assert got[0] == int(mask.sum())
    assert got[1] == pytest.approx(data.column("quality").to_numpy()[mask].mean())


def test_a_scan_block_is_joined_with_no_object_per_leaf(tmp_path, monkeypatch):
    """A cold scan's block read hands its picked buffers on joined: no ``PickedLeaf``
    is made, each picked buffer comes as one ``JoinedBuffer`` over every leaf of the
    block (joined once, not leaf by leaf later), and the result equals a full scan's."""
    data = _llm(3_000)
    repo = arbordb.Repo(tmp_path / "r")
    repo.write("t", data, primary_key=["id"])
    repo.commit("load")
    repo.close()
    with LmdbChunkStore(tmp_path / "r" / ".arbor") as store:
        store.compact()
    blocks: list[int] = []
    real_block = column_frames.pick_records

    def checked_block(addresses, found, pick):
        got = real_block(addresses, found, pick)
        assert got is not None  # a healthy block never goes leaf by leaf
        # lang: validity, offsets, bytes; quality: validity, values
        assert len(got.values) == 5 and got.keys is None
        for joined in got.values:
            assert isinstance(joined, JoinedBuffer) and len(joined.lengths) == len(found)
            assert len(joined.data) == int(joined.lengths.sum())
        blocks.append(len(got))
        return got

    def no_leaf_objects(*args, **kwargs):
        raise AssertionError("a block read made a per-leaf object")

    import arbordb.engine.chunks.lmdb_store as lmdb_store

    monkeypatch.setattr(lmdb_store, "pick_records", checked_block)
    monkeypatch.setattr(column_frames, "PickedLeaf", no_leaf_objects)
    with arbordb.connect(str(tmp_path / "r")) as con:
        _check_llm_filter(con, data)
    assert blocks and sum(blocks) == _kinds(tmp_path / "r" / ".arbor")[KIND_COLUMNS]


def _kinds(path) -> dict[int, int]:
    """How many records of each kind the store at ``path`` holds outside the journal."""
    return record_kinds(path)


def test_a_version_4_repository_reads_upgrades_and_stays_readable(tmp_path, monkeypatch):
    """Version 4 as its writer wrote it: whole leaves compressed (kind 1), no column
    records; read, written to (new leaves are column records) and checked."""
    first = _llm(2_000)
    with monkeypatch.context() as old:
        old.setattr(records, "encode_column_records", lambda chunks, digests: [None] * len(chunks))
        old.setattr(lmdb_format, "FORMAT_VERSION", 4)
        old.setattr(lmdb_format, "UPGRADABLE_VERSIONS", (b"1", b"2", b"3"))
        repo = arbordb.Repo(tmp_path / "r")
        repo.write("t", first, primary_key=["id"])
        repo.commit("first")
        repo.close()
        with LmdbChunkStore(tmp_path / "r" / ".arbor") as store:
            store.compact()  # every record in ``chunks``, where ``_kinds`` counts them
    store_path = tmp_path / "r" / ".arbor"
    kinds = _kinds(store_path)
    assert kinds.get(KIND_ZSTD, 0) > 0 and kinds.get(KIND_COLUMNS, 0) == 0
    with LmdbChunkStore(store_path, readonly=True) as store:
        assert store.get_meta("store/format_version") == b"4"
    with arbordb.connect(str(tmp_path / "r"), read_only=True) as con:
        assert con.execute("SELECT count(*), sum(quality) FROM t WHERE lang = 'en'").fetchone()[
            0
        ] == sum(1 for v in first.column("lang").to_pylist() if v == "en")

    second = arbordb.Repo(tmp_path / "r")  # writable: marks the store current (6)
    assert second.table("t", as_of="HEAD").equals(first)
    more = _llm(4_000).slice(2_000)
    second.write("t", more, primary_key=["id"], mode="upsert")
    second.commit("second, in the current version")
    second.close()
    with LmdbChunkStore(store_path) as store:
        assert store.get_meta("store/format_version") == b"6"
        store.compact()
    kinds = _kinds(store_path)
    assert kinds.get(KIND_ZSTD, 0) > 0 and kinds.get(KIND_COLUMNS, 0) > 0  # both, read alike
    with arbordb.connect(str(tmp_path / "r")) as con:
        assert con.fsck() == []
        got = con.execute("SELECT count(*), sum(length(text)) FROM t").fetchone()
        old = con.execute("SELECT count(*) FROM t AS OF 'HEAD~1'").fetchone()
    texts = first.column("text").to_pylist() + more.column("text").to_pylist()
    assert got == (4_000, sum(map(len, texts))) and old == (2_000,)


def test_parse_leaf_agrees_with_the_column_record_layout():
    chunk = _text_leaf()
    n, w, buffers = parse_leaf(chunk)
    layout = column_frames.leaf_buffers(chunk)
    assert layout is not None and layout[:2] == (n, w)
    assert [bytes(chunk[s : s + m]) for s, m in zip(layout[2], layout[3], strict=True)] == [
        bytes(b) for b in buffers
    ]
    assert column_frames.leaf_buffers(chunk + b"\0") is None  # not canonical: kept whole


def test_a_slot_whose_first_buffers_do_not_compress_is_not_compressed_again(monkeypatch):
    """A spill's leaves of one table: the random floats' buffer of the first ``PROBE``
    leaves saves too little, so zstd never sees that column in the others; the
    label's and the keys' buffers are framed in every leaf; every record rebuilds
    its leaf byte for byte."""
    rng = np.random.default_rng(3)
    n, rows = 3 * column_frames.PROBE, 400
    ids = np.arange(n * rows, dtype=np.int64)
    keys = pa.array([b"k%08d" % i for i in ids], pa.binary())
    labels = pa.array([f"label_{v:04d}" for v in rng.integers(0, 50, n * rows)])
    scores = pa.array(rng.random(n * rows))
    cuts = [i * rows for i in range(n + 1)]
    chunks = encode_leaves(
        PreparedKeys(keys), [PreparedColumn(labels), PreparedColumn(scores)], cuts
    )
    seen: list[int] = []
    real = column_frames.compress_buffers
    monkeypatch.setattr(
        column_frames,
        "compress_buffers",
        lambda pieces: seen.extend(map(len, pieces)) or real(pieces),
    )
    made = encode_column_records(chunks, [checksum(c) for c in chunks])
    score_bytes = 8 * rows
    assert seen.count(score_bytes) == column_frames.PROBE  # the probes only
    for chunk, record in zip(chunks, made, strict=True):
        assert record is not None and record[0] == KIND_COLUMNS
        parsed = column_frames._parse(address_of(chunk), record)
        assert parsed.lengths[-1] == score_bytes and parsed.stored[-1] == score_bytes  # as is
        assert all(parsed.stored[j] < parsed.lengths[j] for j in (0, 2, 3))  # keys, label
        assert records.decode_record(address_of(chunk), record) == chunk
