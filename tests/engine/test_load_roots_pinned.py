"""A load's trees are the ones ArborDB built before the chunker, key hashing and
leaf encoding were vectorised (roots recorded with the code of that time): the
chunking rule and leaf bytes are an on-disk format, so a faster path must give
the same root addresses, for a one-shot and a streamed load, short and long rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import arbordb

ROOTS = {
    "one shot": "aab5bf8128fbf8f5363e3bfd73bae9d6b4e8a1de",
    "streamed": "aab5bf8128fbf8f5363e3bfd73bae9d6b4e8a1de",
    "long rows": "f341e59d79cb314cbbc9faf733571e4972bea390",
}


def test_loads_build_the_trees_built_before(tmp_path):
    rng = np.random.default_rng(7)
    n = 300_000
    labels = pa.array(["cat", "dog", "bird", "a much longer label " * 3, ""])
    data = pa.table(
        {
            "id": pa.array(np.arange(n, dtype=np.int64) * 3),
            "label": labels.take(pa.array(rng.integers(0, 5, n))),
            "score": pa.array(rng.random(n)),
        }
    )
    batches = [data.slice(i, 70_001).to_batches()[0] for i in range(0, n, 70_001)]
    lengths = rng.integers(0, 3000, 20_000)
    text = pa.table(
        {
            "id": pa.array(np.arange(20_000, dtype=np.int64)),
            "text": pa.array(["x" * int(k) for k in lengths]),
        }
    )
    repo = arbordb.Repo(tmp_path / "r")
    try:
        repo.write("t", data, primary_key=["id"])
        repo.write("u", pa.RecordBatchReader.from_batches(data.schema, batches), primary_key=["id"])
        repo.write("w", text, primary_key=["id"])
        got = {
            name: repo.ws.table(table).rows.root.hex()
            for name, table in (("one shot", "t"), ("streamed", "u"), ("long rows", "w"))
        }
    finally:
        repo.close()
    assert got == ROOTS
