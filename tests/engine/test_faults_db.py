"""Injected write faults and power loss during version verbs (G14).

The fault wrapper fails the Nth write call (or drops what was not committed);
after every fault the repository, reopened on the inner store, holds either the
old state or the new one, never a mix, and fsck finds nothing wrong.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from arbordb.engine.chunks.memory import MemoryChunkStore
from arbordb.engine.db import Database
from arbordb.engine.table import Column, Schema, Table
from tests.engine.faults import FaultyChunkStore

SCHEMA = Schema((Column("id", None, pa.int64()), Column("v", None, pa.string())), ("id",), name="t")


def signature(db: Database) -> tuple:
    """(head message, rows of t at HEAD) — the committed state a reader sees."""
    ws = db.workspace("main")
    message = db.commit(ws.head).message
    rows = ws.table("t", ws.head_root).to_arrow().to_pylist() if "t" in ws.head_root else []
    return message, rows


def prepared_store() -> MemoryChunkStore:
    inner = MemoryChunkStore()
    db = Database(inner)
    db.init()
    ws = db.workspace("main")
    ws.create_table(
        "t", Table.create(ws.nodes, SCHEMA).insert(pa.table({"id": [1, 2], "v": ["a", "b"]}))
    )
    ws.commit("first", stage_all=True)
    return inner


def edit_and_commit(db: Database) -> None:
    ws = db.workspace("main")
    table = ws.table("t").upsert(pa.table({"id": [2, 3], "v": ["B", "c"]}))
    ws.put_table("t", table)
    ws.persist()
    ws.commit("second", stage_all=True)
    db.create_branch("side")
    db.create_tag("v1", "side", message="tagged")


@pytest.mark.parametrize("fail_at", range(1, 8))
def test_a_failed_write_leaves_old_or_new_state(fail_at):
    inner = prepared_store()
    before = signature(Database(inner))
    faulty = FaultyChunkStore(inner, fail_at=fail_at)
    try:
        edit_and_commit(Database(faulty))
        failed = False
    except OSError:
        failed = True
    reopened = Database(inner)
    after = signature(reopened)
    new = ("second", [{"id": 1, "v": "a"}, {"id": 2, "v": "B"}, {"id": 3, "v": "c"}])
    assert after in (before, new)
    if not failed:
        assert after == new
    assert reopened.fsck() == []


def test_power_loss_drops_unflushed_writes_only():
    inner = prepared_store()
    before = signature(Database(inner))
    faulty = FaultyChunkStore(inner, drop_unflushed=True)
    db = Database(faulty)
    ws = db.workspace("main")
    ws.put_table("t", ws.table("t").upsert(pa.table({"id": [9], "v": ["z"]})))  # in memory only
    faulty.crash()
    reopened = Database(inner)
    assert signature(reopened) == before
    assert reopened.fsck() == []
