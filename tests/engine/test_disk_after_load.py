"""Where a freshly loaded repository's bytes go (issue 12, "disk after load"): the
records themselves, LMDB's rounding of each large record up to whole pages, and
nothing else: no free pages left by moving records (a journal compaction), no
record stored twice, no leaf stored uncompressed.

Measured at 1M bench rows: 1,873 leaf records of 7.2 KiB on average (13.1 MiB,
about the Parquet file's size) take 4,317 overflow pages (16.9 MiB): each record
over ~2 KiB is one LMDB value in pages of its own, so each wastes half a page on
average. That rounding, not the records, is what puts data.mdb at ~1.3x Parquet.
"""

from __future__ import annotations

import lmdb
import numpy as np
import pyarrow as pa
import pytest

import arbordb
from arbordb.engine import repo as repo_module
from arbordb.engine.chunks import lmdb_journal
from arbordb.engine.chunks.column_frames import KIND_COLUMNS
from arbordb.engine.chunks.journal import parse_batch
from arbordb.engine.chunks.records import KIND_DELTA, KIND_ZSTD
from arbordb.engine.db import REPO_DIR

_PAGE_HEADER = 16  # bytes of an LMDB overflow run's header (64-bit builds, LMDB 0.9)


def _bench_rows(n: int, seed: int = 0) -> pa.Table:
    """The bench shape (``bench/storage.py``): ids, labels from 1,000 values, scores."""
    rng = np.random.default_rng(seed)
    labels = pa.array([f"lbl_{i:06d}" for i in range(1_000)], pa.string())
    return pa.table(
        {
            "id": pa.array(np.arange(n, dtype=np.int64)),
            "label": labels.take(pa.array(rng.integers(0, 1_000, n))),
            "score": pa.array(rng.random(n)),
        }
    )


def _stored(path) -> tuple[dict[bytes, bytes], dict[bytes, bytes], int, int, int]:
    """(chunks' records, journaled records, pages the sub-databases occupy, pages the
    file holds, page size) of the store at ``path``."""
    env = lmdb.open(str(path), max_dbs=4, readonly=True, lock=False)
    try:
        pages = 2 + 1  # the two meta pages and the main database's root
        with env.begin(buffers=False) as txn:
            dbs = {
                name: env.open_db(name, txn=txn, create=False)
                for name in (b"chunks", b"journal", b"refs", b"meta")
            }
            chunks = dict(txn.cursor(db=dbs[b"chunks"]))
            journaled: dict[bytes, bytes] = {}
            for batch in txn.cursor(db=dbs[b"journal"]).iternext(keys=False):
                addresses, offsets = parse_batch(batch)
                for a, start, end in zip(addresses, offsets[:-1], offsets[1:], strict=True):
                    journaled[a] = batch[start:end]
            for db in dbs.values():
                s = txn.stat(db)
                pages += s["branch_pages"] + s["leaf_pages"] + s["overflow_pages"]
        info, psize = env.info(), env.stat()["psize"]
        return chunks, journaled, pages, info["last_pgno"] + 1, psize
    finally:
        env.close()


@pytest.mark.parametrize("compact_bytes", [None, 256 << 10])
def test_a_fresh_load_takes_its_records_rounded_to_pages_and_nothing_more(
    tmp_path, monkeypatch, compact_bytes
):
    monkeypatch.setattr(repo_module, "LOAD_BATCH_ROWS", 20_000)
    if compact_bytes is not None:  # a journal that fills during the load moves its records
        monkeypatch.setattr(lmdb_journal, "COMPACT_BYTES", compact_bytes)
    data = _bench_rows(200_000)
    repo = arbordb.Repo(tmp_path / "r")
    repo.write("t", data, primary_key=["id"])
    repo.commit("load")
    repo.close()

    chunks, journaled, used, held, psize = _stored(tmp_path / "r" / REPO_DIR)
    assert not chunks.keys() & journaled.keys()  # no record stored twice
    records = [*chunks.values(), *journaled.values()]
    big = [r for r in records if len(r) > psize]
    assert big and all(r[0] in (KIND_COLUMNS, KIND_ZSTD, KIND_DELTA) for r in big)
    # the leaves' records, each rounded up to whole pages when it is one LMDB value
    rounded = sum(-(-(len(r) + _PAGE_HEADER) // psize) for r in chunks.values() if len(r) > psize)
    in_batches = sum(map(len, journaled.values())) // psize + 1
    # the file is the pages in use, plus the few a commit's copy-on-write frees
    assert held <= used + used // 50 + 16
    # and the pages in use are the records' pages, plus the B-trees' own
    assert used <= rounded + in_batches + len(records) // 20 + 32
    data_file = tmp_path / "r" / REPO_DIR / "data.mdb"
    assert data_file.stat().st_size <= (held + 1) * psize
