"""Streamed reads: a table reference reads only the columns the query names, only
the key range its primary-key conjuncts allow, stops at a LIMIT, and keeps decoded
columns within the connection's ``cache_bytes`` (sql/read/relations.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.engine.tree import stream

from .conftest import rows

N = 200_000


def _docs(n: int) -> pa.Table:
    ids = np.arange(n)
    return pa.table(
        {
            "id": ids,
            "body": [f"document {i} " + "lorem ipsum " * (i % 20) for i in range(n)],
            "lang": pa.array(np.where(ids % 3 == 0, "en", "de")),
            "quality": (ids % 100) / 100.0,
        }
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("corpus") / "repo")
    data = _docs(N)
    with arbordb.Repo(path) as repo:
        repo.write("docs", data, primary_key=["id"])
        repo.commit("corpus")
    return path, data


def _expected_body_bytes(data: pa.Table) -> int:
    return sum(len(s.encode()) for s in data.column("body").to_pylist())


def test_a_query_over_more_than_the_cache_budget_is_right_and_stays_in_budget(corpus):
    path, data = corpus
    budget = 2 << 20
    text_bytes = _expected_body_bytes(data)
    assert text_bytes > 10 * budget
    with arbordb.connect(path, cache_bytes=budget) as con:
        cur = con.cursor()
        relations = con.session.relations
        for _ in range(3):  # a first scan, a second that tries to keep it, a third
            got = rows(cur, "SELECT count(*), sum(strlen(body)), max(id) FROM docs")
            assert got == [(N, text_bytes, N - 1)]
            assert relations.kept.kept_bytes == 0  # the copy passed the budget: dropped
        assert relations.kept.copies == 0
        for _ in range(2):  # a key range goes through the cache of decoded columns
            got = rows(cur, "SELECT count(*), sum(strlen(body)) FROM docs WHERE id >= 10")
            assert got == [(N - 10, text_bytes - _expected_body_bytes(data.slice(0, 10)))]
        cache = relations.cache
        assert cache.peak <= budget and cache.bytes <= budget
        assert cache.misses > 0


def test_memory_of_a_scan_is_bounded_by_the_batch_not_the_table(corpus, tmp_path):
    """RSS sampled in a fresh process: reading every body (~26 MB of text) with a
    1 MiB read window and part and a 2 MiB cache grows the RSS by far less than the text."""
    path, data = corpus
    text_bytes = _expected_body_bytes(data)
    script = textwrap.dedent(
        f"""
        import json, os, threading
        import arbordb
        from arbordb.engine.tree import stream
        stream.MAX_BATCH_BYTES = stream.PART_BYTES = 1 << 20
        page = os.sysconf("SC_PAGE_SIZE")

        def rss():  # resident minus file-backed pages (the repository's mapped LMDB file)
            with open("/proc/self/statm") as f:
                fields = f.read().split()
            return (int(fields[1]) - int(fields[2])) * page

        con = arbordb.connect({path!r}, cache_bytes=2 << 20)
        cur = con.cursor()
        # warm the code and pyarrow's compute allocator (a fixed ~25 MB of arenas)
        cur.execute("SELECT count(DISTINCT lang) FROM docs WHERE id < 20000").fetchall()
        before = peak = rss()
        done = threading.Event()

        def sample():
            global peak
            while not done.wait(0.002):
                peak = max(peak, rss())

        sampler = threading.Thread(target=sample)
        sampler.start()
        got = cur.execute("SELECT sum(strlen(body)) FROM docs").fetchall()
        done.set()
        sampler.join()
        print(json.dumps({{"got": got[0][0], "grew": max(peak, rss()) - before}}))
        """
    )
    # glibc raises its mmap threshold each time a buffer above it is freed, after which
    # freed ~1 MB buffers stay resident in the heap: a fixed threshold measures what
    # the scan holds, not the allocator's retention (Python-level peaks: 7.3-7.7 MB)
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 << 10)}
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["got"] == text_bytes
    assert result["grew"] < text_bytes // 2, (result, text_bytes)


def test_only_the_named_columns_are_decoded(corpus, monkeypatch):
    path, data = corpus
    decoded: list[tuple[int, ...]] = []
    original = stream.NodeStore.decode_some

    def spy(self, addresses, chunks, types, wanted, keys):
        decoded.append((tuple(wanted), keys))
        return original(self, addresses, chunks, types, wanted, keys)

    monkeypatch.setattr(stream.NodeStore, "decode_some", spy)
    with arbordb.connect(path) as con:
        cur = con.cursor()
        got = rows(
            cur, "SELECT count(*), avg(quality) FROM docs WHERE lang = 'en' AND quality > 0.8"
        )
        mask = np.asarray(data.column("lang").to_pylist()) == "en"
        quality = data.column("quality").to_numpy()
        selected = quality[mask & (quality > 0.8)]
        assert got[0][0] == len(selected) and got[0][1] == pytest.approx(selected.mean())
    # value columns: body 0, lang 1, quality 2; the key is not needed
    assert decoded and all(set(w) == {1, 2} and not k for w, k in decoded)


def test_limit_stops_reading(corpus, monkeypatch):
    path, _ = corpus
    batches: list[int] = []
    original = stream.NodeStore.decode_some

    def spy(self, addresses, chunks, types, wanted, keys):
        batches.append(len(addresses))
        return original(self, addresses, chunks, types, wanted, keys)

    monkeypatch.setattr(stream.NodeStore, "decode_some", spy)
    with arbordb.connect(path) as con:
        got = rows(con.cursor(), "SELECT id, body FROM docs LIMIT 3")
    assert [r[0] for r in got] == [0, 1, 2]
    assert len(batches) <= 2  # DuckDB may ask for one batch ahead, never the table


def test_a_scan_opens_one_stream(corpus, monkeypatch):
    """DuckDB learns the schema from ``__arrow_c_schema__`` and scans the stream
    opened for it: one stream per scan, not three (two only to bind)."""
    from arbordb.sql.read import relations

    path, _ = corpus
    opened: list[int] = []
    real_batches = relations.Table.batches

    def counted(self, *args, **kwargs):
        opened.append(1)
        return real_batches(self, *args, **kwargs)

    monkeypatch.setattr(relations.Table, "batches", counted)
    with arbordb.connect(path) as con:
        cur = con.cursor()
        got = rows(cur, "SELECT lang, count(*) FROM docs GROUP BY lang ORDER BY lang")
        assert got == [("de", N - (N + 2) // 3), ("en", (N + 2) // 3)]
        assert len(opened) == 1
        opened.clear()
        got = rows(cur, "SELECT count(*) FROM docs a JOIN docs b USING (id) WHERE a.id < 10")
        assert got == [(10,)]
        assert len(opened) == 2  # two table references, one stream each


def test_a_key_range_reads_only_its_leaves(corpus, monkeypatch):
    path, data = corpus
    leaves: list[int] = []
    original = stream.NodeStore.decode_some

    def spy(self, addresses, chunks, types, wanted, keys):
        leaves.append(len(addresses))
        return original(self, addresses, chunks, types, wanted, keys)

    monkeypatch.setattr(stream.NodeStore, "decode_some", spy)
    with arbordb.connect(path) as con:
        got = rows(
            con.cursor(), "SELECT count(*), sum(quality) FROM docs WHERE id BETWEEN 1000 AND 1999"
        )
    assert got[0][0] == 1000
    assert got[0][1] == pytest.approx(sum(((i % 100) / 100.0) for i in range(1000, 2000)))
    assert sum(leaves) < 40  # of about a thousand leaves


QUERIES = [
    "SELECT * FROM t ORDER BY id",
    "SELECT t.* FROM t ORDER BY id",
    "SELECT id, b FROM t WHERE a > 3 ORDER BY id",
    "SELECT count(*) FROM t",
    "SELECT a, count(*) FROM t GROUP BY a ORDER BY a",
    "SELECT x.id FROM t AS x JOIN t AS y USING (id) WHERE y.a = 1 ORDER BY 1",
    "SELECT * FROM t NATURAL JOIN t AS u ORDER BY id",
    "WITH c AS (SELECT * FROM t) SELECT count(*) FROM c JOIN c AS d ON c.id = d.id",
    "SELECT id FROM t WHERE id >= 5 AND id < 40 ORDER BY id",
    "SELECT (SELECT max(b) FROM t AS i WHERE i.a = o.a) FROM t AS o ORDER BY o.id",
    "SELECT b FROM t WHERE id IN (1, 2, 3, 4, 5, 6) ORDER BY b",
    "SELECT t FROM t ORDER BY id",
]


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.text(max_size=8)), min_size=0, max_size=60),
    st.sampled_from([4096, 64 << 20]),
)
def test_streamed_queries_equal_duckdb_on_the_same_rows(tmp_path_factory, rows_, budget):
    import duckdb

    path = str(tmp_path_factory.mktemp("q") / "repo")
    data = pa.table(
        {
            "id": pa.array(range(len(rows_)), pa.int64()),
            "a": pa.array([r[0] for r in rows_], pa.int64()),
            "b": pa.array([r[1] for r in rows_], pa.string()),
        }
    )
    with arbordb.connect(path, cache_bytes=budget) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, a BIGINT, b VARCHAR)")
        if len(rows_):
            cur.executemany(
                "INSERT INTO t VALUES (?, ?, ?)", [tuple(r.values()) for r in data.to_pylist()]
            )
        plain = duckdb.connect()
        plain.register("t", data)
        for sql in QUERIES * 3:  # first scans, then kept tables where the budget allows
            assert cur.execute(sql).fetchall() == plain.execute(sql).fetchall(), sql
