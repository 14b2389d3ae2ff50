"""A key or indexed value too long to store is refused at once, with one clear error,
and changes nothing (issue 10 item 18); the longest allowed one is stored."""

from __future__ import annotations

import pyarrow as pa
import pytest

import arbordb
from arbordb.engine.codec.key_batch import MAX_KEY_BYTES


@pytest.fixture
def cur(tmp_path):
    con = arbordb.connect(tmp_path)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (k VARCHAR PRIMARY KEY, v VARCHAR)")
    cur.execute("CREATE INDEX t_v ON t (v)")
    cur.execute("INSERT INTO t VALUES ('a', 'x')")
    con.commit()
    yield cur
    con.close()


# the string's encoding adds a type byte and a terminator
LONGEST = "k" * (MAX_KEY_BYTES - 2)


def test_longest_key_and_indexed_value_are_stored(cur):
    cur.execute("INSERT INTO t VALUES (?, ?)", (LONGEST, LONGEST))
    assert cur.execute("SELECT length(k), length(v) FROM t WHERE k = ?", (LONGEST,)).fetchall() == [
        (len(LONGEST), len(LONGEST))
    ]


@pytest.mark.parametrize("size", [MAX_KEY_BYTES, 1 << 20])
def test_too_long_primary_key_is_refused(cur, size):
    with pytest.raises(arbordb.DataError, match=r"primary key \(k\) .* at most 3,072 bytes"):
        cur.execute("INSERT INTO t VALUES (?, 'y')", ("k" * size,))
    assert cur.execute("SELECT k FROM t").fetchall() == [("a",)]


def test_too_long_indexed_value_is_refused_on_insert_and_update(cur):
    with pytest.raises(arbordb.DataError, match=r"index 't_v' on \(v\)"):
        cur.execute("INSERT INTO t VALUES ('b', ?)", ("v" * (1 << 20),))
    with pytest.raises(arbordb.DataError, match=r"index 't_v' on \(v\)"):
        cur.execute("UPDATE t SET v = ? WHERE k = 'a'", ("v" * 5000,))
    assert cur.execute("SELECT k, v FROM t").fetchall() == [("a", "x")]


def test_repo_refuses_a_too_long_key(tmp_path):
    repo = arbordb.Repo(tmp_path)
    data = pa.table({"id": ["short", "x" * 10_000], "v": [1, 2]})
    with pytest.raises(arbordb.DataError, match="primary key"):
        repo.write("t", data, primary_key=["id"])
    assert repo.tables() == []
    repo.close()
