"""One repository opened twice in one process, as a notebook does: ``Repo`` twice,
``Repo`` beside ``connect``, re-opened after a close (issue 10 item 17). LMDB lets a
process open an environment once; every handle of a path shares it."""

from __future__ import annotations

import pyarrow as pa

import arbordb


def _rows(ids):
    return pa.table({"id": pa.array(ids, pa.int64()), "v": [f"v{i}" for i in ids]})


def test_repo_twice_write_in_one_read_in_the_other(tmp_path):
    first = arbordb.Repo(tmp_path)
    first.write("t", _rows([1, 2]), primary_key=["id"])
    first.commit("two rows")
    second = arbordb.Repo(tmp_path)  # the notebook cell runs again
    assert second.table("t", "HEAD").column("id").to_pylist() == [1, 2]
    second.write("t", _rows([3]), mode="upsert")
    second.commit("three")
    first.close()
    assert sorted(second.table("t", "HEAD").column("id").to_pylist()) == [1, 2, 3]
    second.close()
    again = arbordb.Repo(tmp_path)  # re-opened after every handle closed
    assert [e["message"] for e in again.log()][:2] == ["three", "two rows"]
    again.close()


def test_repo_beside_connect_both_ways(tmp_path):
    repo = arbordb.Repo(tmp_path)
    repo.write("t", _rows([1]), primary_key=["id"])
    repo.commit("one")
    with arbordb.connect(tmp_path) as con:
        cur = con.cursor()
        assert cur.execute("SELECT id FROM t").fetchall() == [(1,)]
        cur.execute("INSERT INTO t VALUES (2, 'v2')")
        cur.execute("CALL dolt_commit('-Am', 'two')")
        with arbordb.connect(tmp_path, read_only=True) as ro:
            assert ro.cursor().execute("SELECT count(*) FROM t").fetchall() == [(2,)]
    # the Repo's handle outlives the connections' (its branch moved under it: reload)
    assert [b.commit.message for b in repo.db.branches()] == ["two"]
    repo.ws.reload()
    repo.write("t", _rows([3]), mode="upsert")
    repo.commit("three")
    with arbordb.connect(tmp_path) as con:
        assert con.cursor().execute("SELECT count(*) FROM t").fetchall() == [(3,)]
    repo.close()
