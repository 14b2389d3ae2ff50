"""Dolt's dolt_query_diff: Dolt's own cases (query-diff.bats), refusals, and the row
matching against a model (by key for one table's key, else as multisets)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb

from .conftest import rows

SETUP = [
    "CREATE TABLE t (i INT PRIMARY KEY, j INT)",
    "INSERT INTO t VALUES (1, 1), (2, 2), (3, 3)",
    "CREATE TABLE tt (i INT PRIMARY KEY, j INT)",
    "INSERT INTO tt VALUES (1, 1), (2, 2), (3, 3)",
    "CALL dolt_commit('-Am', 'initial commit')",
    "CALL dolt_branch('other')",
    "UPDATE t SET j = 10 WHERE i = 2",
    "DELETE FROM t WHERE i = 3",
    "INSERT INTO t VALUES (4, 4)",
    "CALL dolt_commit('-Am', 'changes')",
]


@pytest.fixture
def dolts(cur):
    for sql in SETUP:
        cur.execute(sql)
    return cur


def test_dolts_cases(dolts):
    cur = dolts
    assert rows(cur, "SELECT * FROM dolt_query_diff('select * from t;', 'select * from t;')") == []
    got = rows(
        cur, "SELECT * FROM dolt_query_diff('select * from t as of other', 'select * from t')"
    )
    assert [d[0] for d in cur.description] == ["from_i", "from_j", "to_i", "to_j", "diff_type"]
    assert got == [
        (2, 2, 2, 10, "modified"),
        (3, 3, None, None, "deleted"),
        (None, None, 4, 4, "added"),
    ]
    got = rows(cur, "SELECT * FROM dolt_query_diff('select * from t', 'select * from tt')")
    assert got == [
        (1, 1, None, None, "deleted"),
        (2, 10, None, None, "deleted"),
        (4, 4, None, None, "deleted"),
        (None, None, 1, 1, "added"),
        (None, None, 2, 2, "added"),
        (None, None, 3, 3, "added"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("'select * from t'", "takes two queries"),
        ("'select 1', 'select 2', 'select 3'", "takes two queries"),
        ("'select 1', 2", "takes two queries"),
        ("'delete from t', 'select * from t'", "argument 1 must be one read-only query"),
        ("'select 1', 'select 1; select 2'", "argument 2 must be one read-only query"),
    ],
)
def test_refusals(dolts, args, message):
    with pytest.raises(arbordb.ProgrammingError, match=message):
        dolts.execute(f"SELECT * FROM dolt_query_diff({args})")
    assert rows(dolts, "SELECT count(*) FROM t") == [(3,)]  # nothing ran


TABLES = st.dictionaries(st.integers(0, 8), st.sampled_from([None, 0, 1, 2]), max_size=8)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(old=TABLES, new=TABLES)
def test_matching_follows_the_model(tmp_path_factory, old, new):
    with arbordb.connect(tmp_path_factory.mktemp("qd") / "r", autocommit=True) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (i INT PRIMARY KEY, j INT)")
        for version, message in ((old, "old"), (new, "new")):
            cur.execute("DELETE FROM t")
            if version:
                cur.executemany("INSERT INTO t VALUES (?, ?)", sorted(version.items()))
            cur.execute("CALL dolt_commit('-Am', ?, '--allow-empty')", [message])
        by_key = rows(
            cur,
            "SELECT * FROM dolt_query_diff('select * from t as of ''HEAD~1''', 'select * from t')",
        )
        expected = []
        for k in sorted(old.keys() | new.keys()):
            if k not in new:
                expected.append((k, old[k], None, None, "deleted"))
            elif k not in old:
                expected.append((None, None, k, new[k], "added"))
            elif old[k] != new[k]:
                expected.append((k, old[k], k, new[k], "modified"))
        assert by_key == expected
        by_row = rows(
            cur,
            "SELECT * FROM dolt_query_diff('select j from t as of ''HEAD~1''', 'select j from t')",
        )
        before, after = Counter(old.values()), Counter(new.values())
        assert Counter(r[0] for r in by_row if r[2] == "deleted") == before - after
        assert Counter(r[1] for r in by_row if r[2] == "added") == after - before
