"""Dolt's dolt_column_diff: which columns each commit (and STAGED, WORKING) changed,
against a plain-Python model of the table's versions, plus the schema cases."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb

from .conftest import rows

COLUMNS = ("id", "a", "b")
VERSIONS = st.lists(
    st.dictionaries(
        st.integers(0, 6),
        st.tuples(st.sampled_from([None, "x", "y"]), st.sampled_from([None, 1, 2])),
        max_size=5,
    ),
    min_size=1,
    max_size=5,
)


def _model(before: dict, after: dict) -> set[str]:
    """Columns whose value differs in some row (an absent row holds only NULLs)."""
    changed = set()
    for key in before.keys() | after.keys():
        old = (key, *before[key]) if key in before else (None, None, None)
        new = (key, *after[key]) if key in after else (None, None, None)
        changed |= {c for c, o, n in zip(COLUMNS, old, new, strict=True) if o != n}
    return changed


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(versions=VERSIONS)
def test_each_commit_lists_the_columns_it_changed(tmp_path_factory, versions):
    with arbordb.connect(tmp_path_factory.mktemp("cd") / "r", autocommit=True) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, a TEXT, b INT)")
        cur.execute("CALL dolt_commit('-Am', 'create')")
        before, expected = {}, {}
        for n, version in enumerate(versions):
            cur.execute("DELETE FROM t")
            if version:
                cur.executemany(
                    "INSERT INTO t VALUES (?, ?, ?)", [(k, *v) for k, v in sorted(version.items())]
                )
            commit = rows(cur, "CALL dolt_commit('-am', ?, '--allow-empty')", [f"v{n}"])[0][0]
            expected[commit] = _model(before, version)
            before = version
        got: dict[str, set[str]] = {c: set() for c in expected}
        for commit, table, column, kind in rows(
            cur, "SELECT commit_hash, table_name, column_name, diff_type FROM dolt_column_diff"
        ):
            if commit in got:
                assert (table, kind) == ("t", "modified")
                got[commit].add(column)
        assert got == expected


def test_schema_changes_staged_and_working(cur):
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, a TEXT, b INT)")
    cur.execute("CALL dolt_commit('-Am', 'create')")
    assert rows(cur, "SELECT column_name, diff_type FROM dolt_column_diff") == [
        ("id", "added"),
        ("a", "added"),
        ("b", "added"),
    ]
    cur.execute("ALTER TABLE t ADD COLUMN c INT")
    cur.execute("ALTER TABLE t DROP COLUMN b")
    cur.execute("CALL dolt_add('t')")
    cur.execute("INSERT INTO t VALUES (1, NULL, 5)")
    cur.execute("CREATE TABLE u (k INT PRIMARY KEY)")
    got = rows(
        cur,
        "SELECT commit_hash, table_name, column_name, diff_type FROM dolt_column_diff "
        "WHERE commit_hash IN ('STAGED', 'WORKING') ORDER BY 1, 2, 3",
    )
    assert got == [
        ("STAGED", "t", "b", "removed"),
        ("STAGED", "t", "c", "added"),
        ("WORKING", "t", "c", "modified"),
        ("WORKING", "t", "id", "modified"),
        ("WORKING", "u", "k", "added"),
    ]
    cur.execute("DROP TABLE u")
    cur.execute("CALL dolt_commit('-Am', 'all')")
    cur.execute("DROP TABLE t")
    cur.execute("CALL dolt_commit('-Am', 'gone')")
    got = rows(cur, "SELECT column_name, diff_type FROM dolt_column_diff WHERE message = 'gone'")
    assert got == [("id", "removed"), ("a", "removed"), ("c", "removed")]
