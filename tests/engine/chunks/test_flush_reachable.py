"""A workspace's write buffer flushes only the chunks its ref updates reach
(``BufferedChunkStore`` invariant (4)): a long transaction that rewrites the same
rows many times writes, at commit, what one rewrite to the final values writes."""

from __future__ import annotations

import pyarrow as pa

from arbordb.engine.chunks.buffered import BufferedChunkStore
from arbordb.engine.chunks.memory import MemoryChunkStore
from arbordb.engine.chunks.store import RefUpdate
from arbordb.engine.db import Database
from arbordb.engine.table import Column, Schema, Table
from arbordb.engine.versioning.reach import chunk_children

ROWS = 3000


def _database() -> Database:
    db = Database.memory()
    ws = db.workspace()
    schema = Schema((Column("id", None, pa.int64()), Column("v", None, pa.int64())), ("id",))
    rows = pa.table(
        {"id": pa.array(range(ROWS), pa.int64()), "v": pa.array([0] * ROWS, pa.int64())}
    )
    table = Table.create(ws.nodes, schema, rows)
    ws.create_table("t", table)
    ws.commit("rows", stage_all=True)
    return db


def _chunks_written_by(rewrites: int) -> tuple[int, dict]:
    """Chunks stored by one persist after ``rewrites`` rewrites of every row, ending
    with v = 100 for each; and the rows then stored."""
    db = _database()
    before = db.store.stats()["chunks"]
    ws = db.workspace()
    for step in range(rewrites):
        value = 100 if step == rewrites - 1 else step + 1
        ids = pa.array(range(0, ROWS, 3), pa.int64())
        batch = pa.table({"id": ids, "v": pa.array([value] * len(ids), pa.int64())})
        ws.put_table("t", ws.table("t").upsert(batch))
    ws.persist()
    stored = db.workspace().table("t").to_arrow().to_pydict()
    return db.store.stats()["chunks"] - before, stored


def test_superseded_versions_of_rewritten_rows_are_not_written():
    once, rows_once = _chunks_written_by(1)
    many, rows_many = _chunks_written_by(25)
    assert rows_many == rows_once
    assert many == once  # before the fix: about 25 times as many


def test_a_flush_writes_what_its_refs_reach_and_drops_the_rest():
    store = MemoryChunkStore()
    buffer = BufferedChunkStore(store, children=chunk_children)
    kept, dropped = buffer.put_many([b"ADEF kept", b"ADEF superseded"])
    assert buffer.flush([RefUpdate("refs/heads/x", None, kept)])
    assert store.has(kept) and not store.has(dropped)
    assert buffer.pending_count == 0


def test_a_lost_race_keeps_every_pending_chunk():
    store = MemoryChunkStore()
    buffer = BufferedChunkStore(store, children=chunk_children)
    kept, other = buffer.put_many([b"ADEF kept", b"ADEF other"])
    assert not buffer.flush([RefUpdate("refs/heads/x", kept, kept)])  # x is not at `kept`
    assert buffer.pending_count == 2


def test_an_unchecked_buffer_writes_every_pending_chunk():
    store = MemoryChunkStore()
    buffer = BufferedChunkStore(store)
    kept, loose = buffer.put_many([b"ADEF kept", b"ADEF loose"])
    assert buffer.flush([RefUpdate("refs/heads/x", None, kept)])
    assert store.has(loose)


def _sql_chunks_written(tmp_path, name: str, statements: list[str]) -> tuple[int, list]:
    import arbordb

    con = arbordb.connect(str(tmp_path / name))
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v BIGINT)")
    cur.executemany("INSERT INTO t VALUES (?, 0)", [(i,) for i in range(ROWS)])
    con.commit()
    store = con.session.db.store
    before = store.stats()["chunks"]
    for sql in statements:
        cur.execute(sql)
    con.commit()
    written = store.stats()["chunks"] - before
    rows = cur.execute("SELECT sum(v), count(*) FROM t").fetchall()
    con.close()
    return written, rows


def test_a_long_sql_transaction_writes_only_its_final_chunks(tmp_path):
    many, rows_many = _sql_chunks_written(
        tmp_path, "many", ["UPDATE t SET v = v + 1 WHERE id % 3 = 0"] * 20
    )
    once, rows_once = _sql_chunks_written(
        tmp_path, "once", ["UPDATE t SET v = v + 20 WHERE id % 3 = 0"]
    )
    assert rows_many == rows_once
    assert many == once  # before the fix: about 20 times as many
