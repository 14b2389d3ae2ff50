"""Each ref procedure is one durable LMDB write transaction (one commit: LMDB's data
sync and meta-page sync), and switching branches in SQL writes nothing: the mechanism
behind the warm figures of ``bench.surfaces`` (issue 14)."""

from __future__ import annotations

import pytest

import arbordb
from arbordb.engine.chunks.lmdb_store import LmdbChunkStore


@pytest.fixture
def writes(monkeypatch):
    """The LMDB write transactions begun, as a list that grows."""
    begun: list[int] = []
    real = LmdbChunkStore._write

    def counting(self, fn, size=0, buffers=False):
        begun.append(1)
        return real(self, fn, size, buffers)

    monkeypatch.setattr(LmdbChunkStore, "_write", counting)
    return begun


@pytest.fixture
def cur(tmp_path):
    con = arbordb.connect(tmp_path, autocommit=True)
    cursor = con.cursor()
    cursor.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT)")
    cursor.execute("INSERT INTO t VALUES (1, 1)")
    cursor.execute("CALL dolt_commit('-Am', 'base')")
    cursor.execute("CALL dolt_branch('other')")
    yield cursor
    con.close()


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("CALL dolt_branch('fresh')", 1),  # the ref and its reflog entry, one transaction
        ("CALL dolt_branch('-f', 'other', 'HEAD')", 1),
        ("CALL dolt_branch('-c', 'other', 'copy')", 1),
        ("CALL dolt_branch('-d', 'other')", 1),
        ("CALL dolt_tag('v1')", 1),  # the tag chunk, the ref and its reflog entry
        ("CALL dolt_tag('v1', '-m', 'annotated')", 1),
        ("CALL dolt_checkout('other')", 0),  # the session moves; nothing is stored
    ],
)
def test_one_write_transaction_per_ref_procedure(cur, writes, statement, expected):
    cur.execute(statement)
    assert len(writes) == expected


def test_a_refused_ref_procedure_writes_nothing(cur, writes):
    with pytest.raises(arbordb.Error):
        cur.execute("CALL dolt_branch('other')")
    with pytest.raises(arbordb.Error):
        cur.execute("CALL dolt_tag('v1', 'nosuch')")
    assert writes == []
