"""executemany of UPDATE ... WHERE <pk> = ? runs as one batch, with the same result
as running the statements one by one."""

from __future__ import annotations

import random

import pytest

import arbordb
from arbordb.sql.write import dispatch


def fresh(path, n=200):
    con = arbordb.connect(path)
    cur = con.cursor()
    cur.execute(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE CHECK (score < 1000))"
    )
    cur.executemany(
        "INSERT INTO t VALUES (?, ?, ?)", [(i, f"l{i % 7}", float(i)) for i in range(n)]
    )
    con.commit()
    return con


STATEMENTS = [
    (
        "UPDATE t SET label = ?, score = score + ? WHERE id = ?",
        lambda r: (f"x{r.randint(0, 9)}", r.random(), r.randint(0, 260)),
    ),
    ("UPDATE t SET score = ? * 2 WHERE ? = id", lambda r: (r.random(), r.randint(0, 260))),
    ("UPDATE t SET label = upper(label) || ? WHERE id = ?", lambda r: ("!", r.randint(0, 260))),
]


@pytest.mark.parametrize("sql,make", STATEMENTS)
def test_batch_equals_one_by_one(tmp_path, sql, make):
    rng = random.Random(7)
    params = list({p[-1]: p for p in (make(rng) for _ in range(120))}.values())  # distinct keys
    one, many = fresh(tmp_path / "one"), fresh(tmp_path / "many")
    for p in params:
        one.cursor().execute(sql, p)
    cur = many.cursor()
    cur.executemany(sql, params)
    expected = sum(1 for p in params if p[-1] < 200)
    assert cur.rowcount == expected
    q = "SELECT * FROM t ORDER BY id"
    assert one.cursor().execute(q).fetchall() == many.cursor().execute(q).fetchall()


def test_batch_path_is_taken_and_repeated_keys_fall_back(tmp_path, monkeypatch):
    con = fresh(tmp_path / "r")
    calls = []
    original = dispatch.update_many
    monkeypatch.setattr(dispatch, "update_many", lambda *a: calls.append(original(*a)) or calls[-1])
    cur = con.cursor()
    cur.executemany("UPDATE t SET label = ? WHERE id = ?", [("a", 1), ("b", 2)])
    cur.executemany("UPDATE t SET score = score + ? WHERE id = ?", [(1.0, 3), (1.0, 3)])
    assert calls == [2, None]  # the second repeats a key: run in turn
    assert cur.execute("SELECT score FROM t WHERE id = 3").fetchone() == (5.0,)


def test_batch_check_violation_changes_nothing(tmp_path):
    con = fresh(tmp_path / "r")
    cur = con.cursor()
    before = cur.execute("SELECT * FROM t ORDER BY id").fetchall()
    with pytest.raises(arbordb.IntegrityError):
        cur.executemany("UPDATE t SET score = ? WHERE id = ?", [(1.0, 1), (5000.0, 2)])
    assert cur.execute("SELECT * FROM t ORDER BY id").fetchall() == before
