"""Compressed records (records kind 1, ``compression.py``) and format versions 4-5.

The old-format repository is built by the old code path: the writer of version 3
is today's writer with compression off (every whole chunk a raw record) and the
version it marks set back to 3, which is what version 3 wrote.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import arbordb
from arbordb.engine.chunks import lmdb_format, records
from arbordb.engine.chunks.column_frames import KIND_COLUMNS
from arbordb.engine.chunks.lmdb_store import LmdbChunkStore
from arbordb.engine.chunks.records import KIND_DELTA, KIND_RAW, KIND_ZSTD, encode_records
from arbordb.engine.errors import CorruptChunk
from arbordb.engine.hash import address_of
from tests.engine.chunks.sample import label_rows
from tests.engine.stored import record_kinds


def _kinds(path) -> dict[int, int]:
    """How many records of each kind the store at ``path`` holds outside the journal."""
    return record_kinds(path)


def _write_version_3(monkeypatch, path, first: pa.Table, second: pa.Table) -> None:
    """A repository as version 3 wrote it: two commits, raw and delta records only."""
    with monkeypatch.context() as old:
        old.setattr(records, "compress_many", lambda chunks: [None] * len(chunks))
        old.setattr(records, "encode_column_records", lambda chunks, digests: [None] * len(chunks))
        old.setattr(lmdb_format, "FORMAT_VERSION", 3)
        old.setattr(lmdb_format, "UPGRADABLE_VERSIONS", (b"1", b"2"))
        repo = arbordb.Repo(path)
        repo.write("t", first, primary_key=["id"])
        repo.commit("first")
        repo.write("t", second, primary_key=["id"], mode="upsert")
        repo.commit("second")
        repo.close()
        with LmdbChunkStore(path / ".arbor") as store:
            store.compact()  # every record in ``chunks``, where ``_kinds`` counts them


def test_a_version_3_repository_reads_upgrades_and_stays_readable(tmp_path, monkeypatch):
    first = label_rows(20_000, 0)
    changed = first.slice(5_000, 40).set_column(2, "score", pa.array(np.zeros(40)))
    _write_version_3(monkeypatch, tmp_path / "r", first, changed)
    store_path = tmp_path / "r" / ".arbor"
    kinds = _kinds(store_path)
    assert kinds.get(KIND_ZSTD, 0) == 0 and kinds.get(KIND_DELTA, 0) > 0
    with LmdbChunkStore(store_path, readonly=True) as store:
        assert store.get_meta("store/format_version") == b"3"

    second = arbordb.Repo(tmp_path / "r")  # writable: marks the store current (6)
    expected = second.table("t", as_of="HEAD")
    assert second.table("t", as_of="HEAD~1").equals(first)
    assert expected.column("score")[5_000].as_py() == 0.0
    third = expected.slice(0, 1000).set_column(1, "label", pa.array(["x" * 12] * 1000))
    second.write("t", third, primary_key=["id"], mode="upsert")
    second.commit("third, in the current version")
    assert second.table("t", as_of="HEAD~1").equals(expected)
    second.close()
    with LmdbChunkStore(store_path, readonly=True) as store:
        assert store.get_meta("store/format_version") == b"6"
    with LmdbChunkStore(store_path) as store:
        store.compact()
    kinds = _kinds(store_path)
    assert kinds.get(KIND_ZSTD, 0) + kinds.get(KIND_COLUMNS, 0) > 0  # new chunks compressed
    with arbordb.connect(str(tmp_path / "r")) as con:
        assert con.fsck() == []
        rows = con.execute("SELECT count(*), sum(length(label)) FROM t").fetchone()
    assert rows == (20_000, 19_000 * 10 + 1000 * 12)


def test_a_compressed_record_is_checked_like_a_raw_one():
    leaf = b"\x01\x00" + b"lbl_000001 0.5 " * 200
    address = address_of(leaf)
    record = encode_records({address: leaf})[address]
    assert record[0] == KIND_ZSTD and record[9] == 0 and len(record) < len(leaf) // 4
    assert records.decode_record(address, record) == leaf
    small = b"\x01\x00tiny"
    assert encode_records({address_of(small): small})[address_of(small)][0] == KIND_RAW
    for damaged, why in [
        (record[:9] + b"\x01" + record[10:], "level byte"),  # level byte says internal node
        (record[:-3], "zstd frame"),  # truncated frame
        (record[:1] + bytes([record[1] ^ 1]) + record[2:], "xxh3"),  # wrong checksum
    ]:
        with pytest.raises(CorruptChunk, match=why):
            records.decode_record(address, damaged)
