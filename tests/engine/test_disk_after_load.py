"""Where a freshly loaded repository's bytes go (issue 12, "disk after load"): the
records themselves, packed (``engine/chunks/packs.py``), and nearly nothing else: no
rounding of each record up to whole pages, no free pages left by moving records
(a journal compaction), no record stored twice, no leaf stored uncompressed.

Measured at 1M bench rows: 1,873 leaf records of 7.2 KiB on average (13.1 MiB,
about the Parquet file's size). Format 5 stored each as one LMDB value in overflow
pages of its own, 4,317 pages (16.9 MiB, data.mdb 1.31x the Parquet file): each
wasted half a page on average. Packed, they fill their bytes' pages plus half a
page per pack of up to 1 MiB, and ``chunks`` holds a 17-byte locator each.
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
from arbordb.engine.chunks.records import KIND_DELTA, KIND_ZSTD
from arbordb.engine.db import REPO_DIR
from tests.engine.stored import MAX_DBS, stored_records

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


def _pages(path) -> tuple[int, int, int, int]:
    """(pages the sub-databases occupy, pages the file holds, packs, page size) of the
    store at ``path``."""
    env = lmdb.open(str(path), max_dbs=MAX_DBS, readonly=True, lock=False)
    try:
        pages = 2 + 1  # the two meta pages and the main database's root
        with env.begin() as txn:
            dbs = {
                name: env.open_db(name, txn=txn, create=False)
                for name in (b"chunks", b"journal", b"refs", b"meta", b"packs")
            }
            for db in dbs.values():
                s = txn.stat(db)
                pages += s["branch_pages"] + s["leaf_pages"] + s["overflow_pages"]
            packs = txn.stat(dbs[b"packs"])["entries"]
        info, psize = env.info(), env.stat()["psize"]
        return pages, info["last_pgno"] + 1, packs, psize
    finally:
        env.close()


@pytest.mark.parametrize("compact_bytes", [None, 256 << 10])
def test_a_fresh_load_takes_its_records_bytes_and_nearly_nothing_more(
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

    path = tmp_path / "r" / REPO_DIR
    chunks, journaled = stored_records(path)
    used, held, packs, psize = _pages(path)
    assert not chunks.keys() & journaled.keys()  # no record stored twice
    records = [*chunks.values(), *journaled.values()]
    big = [r for r in records if len(r) > psize]
    assert big and all(r[0] in (KIND_COLUMNS, KIND_ZSTD, KIND_DELTA) for r in big)
    record_bytes = sum(map(len, records))
    # one LMDB value each, the big records alone would take ~1.29x their bytes
    rounded = sum(-(-(len(r) + _PAGE_HEADER) // psize) for r in big) * psize
    assert rounded > 1.2 * sum(map(len, big))
    # packed, they take their bytes' pages, a page per pack, and the B-trees' own:
    # ~45 bytes per locator in leaf pages
    assert packs < len(records) // 10
    assert used <= record_bytes // psize + packs + len(records) * 45 // psize + 32
    # the file is the pages in use, plus the few a commit's copy-on-write frees
    assert held <= used + used // 50 + 16
    data_file = path / "data.mdb"
    assert data_file.stat().st_size <= (held + 1) * psize
    assert data_file.stat().st_size <= 1.05 * record_bytes + 64 * psize
