"""Each ref procedure is one durable LMDB write transaction (one commit: LMDB's data
sync and meta-page sync), and switching branches in SQL writes nothing: the mechanism
behind the warm figures of ``bench.surfaces`` (issue 14).

Before its write, a ref procedure reads what it must and no more (the lean path of
``Database.create_branch``): the refs it moves in one snapshot, no re-resolution of the
start commit (the session's head is passed as an address, and its commit is already
loaded), no read of that commit's chunk to check its kind, and never a listing of
every branch."""

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
def reads(monkeypatch):
    """The LMDB read transactions begun (each a snapshot), as a list that grows."""
    begun: list[int] = []
    real = LmdbChunkStore._read

    def counting(self, fn, buffers=True):
        begun.append(1)
        return real(self, fn, buffers)

    monkeypatch.setattr(LmdbChunkStore, "_read", counting)
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


@pytest.fixture
def tx_cur(tmp_path):
    """A cursor in an open transaction (the DB-API default), its head commit loaded."""
    con = arbordb.connect(tmp_path)
    cursor = con.cursor()
    cursor.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT)")
    cursor.execute("INSERT INTO t VALUES (1, 1)")
    cursor.execute("CALL dolt_commit('-Am', 'base')")
    cursor.execute("CALL dolt_branch('other')")
    cursor.execute("SELECT * FROM t")
    yield cursor
    con.close()


@pytest.mark.parametrize(
    ("statement", "most_reads"),
    [
        # the new branch's ref and working set, in one snapshot; then the one write
        ("CALL dolt_branch('fresh')", 1),
        ("CALL dolt_branch('-f', 'other')", 1),
        # the tag's ref, the repository's config (the tagger); then the one write
        ("CALL dolt_tag('v1')", 2),
        # the branch named; then the new workspace: gc epoch, head and working set in
        # one snapshot, its root
        ("CALL dolt_checkout('other')", 4),
    ],
)
def test_ref_procedures_read_only_what_they_need(tx_cur, reads, statement, most_reads):
    tx_cur.execute(statement)
    assert len(reads) <= most_reads


def test_checkout_of_a_branch_lists_no_refs(tx_cur, monkeypatch):
    """Switching reads the one branch named, whatever the number of branches (the
    listing of every branch is made only for the message of a name that is none)."""
    listed: list[str] = []
    real = LmdbChunkStore.list_refs

    def counting(self, prefix=""):
        listed.append(prefix)
        return real(self, prefix)

    monkeypatch.setattr(LmdbChunkStore, "list_refs", counting)
    tx_cur.execute("CALL dolt_checkout('other')")
    tx_cur.execute("CALL dolt_checkout('main')")
    assert listed == []
    with pytest.raises(arbordb.Error, match="neither a branch nor a table"):
        tx_cur.execute("CALL dolt_checkout('nosuch')")


def test_a_new_branch_reads_no_chunk_of_its_start_commit(tx_cur, monkeypatch):
    """The start commit is the session's head, loaded already: the ref write neither
    resolves it again nor reads its chunk to check that it is a commit."""
    got: list[bytes] = []
    real = LmdbChunkStore.get

    def counting(self, address):
        got.append(address)
        return real(self, address)

    monkeypatch.setattr(LmdbChunkStore, "get", counting)
    tx_cur.execute("CALL dolt_branch('fresh')")
    tx_cur.execute("CALL dolt_branch('from_main', 'main')")
    assert got == []
    tx_cur.execute("SELECT count(*) FROM dolt_branches WHERE name IN ('fresh', 'from_main')")
    assert tx_cur.fetchone() == (2,)


@pytest.mark.parametrize("name", ["x" * 600, "a..b", "\ud800"])
def test_checkout_of_a_name_no_branch_can_have_says_so(tx_cur, name):
    with pytest.raises(arbordb.Error, match="neither a branch nor a table"):
        tx_cur.execute("CALL dolt_checkout(?)", [name])
