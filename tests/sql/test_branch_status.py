"""Dolt's dolt_branch_status(base, rev, ...), has_ancestor(rev, ancestor) and
dolt_version(), checked against a model of the commit graph; and informational
functions' columns named as written, as in MySQL and Dolt."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arbordb

from .conftest import rows

# a history: each step commits on a branch, creates a branch at another, or merges
STEPS = st.lists(
    st.tuples(st.sampled_from(["commit", "branch", "merge"]), st.integers(0, 3), st.integers(0, 3)),
    min_size=1,
    max_size=12,
)


def _reach(parents: dict[str, list[str]], head: str) -> set[str]:
    seen, todo = set(), [head]
    while todo:
        c = todo.pop()
        if c not in seen:
            seen.add(c)
            todo += parents[c]
    return seen


@settings(max_examples=15)
@given(steps=STEPS)
def test_ahead_and_behind_match_a_model_of_the_graph(tmp_path_factory, steps):
    path = str(tmp_path_factory.mktemp("repo") / "r")
    with arbordb.connect(path, autocommit=True) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        root = rows(cur, "CALL dolt_commit('-Am', 'root')")[0][0]
        heads, parents, n = {"main": root}, {root: []}, 0
        for action, a, b in steps:
            names = sorted(heads)
            one, other = names[a % len(names)], names[b % len(names)]
            cur.execute("CALL dolt_checkout(?)", [one])
            if action == "branch":
                new = f"b{len(heads)}"
                cur.execute("CALL dolt_branch(?, ?)", [new, other])
                heads[new] = heads[other]
                continue
            n += 1
            if action == "merge" and one != other and heads[one] != heads[other]:
                if heads[other] in _reach(parents, heads[one]):
                    continue  # already merged: nothing to do
                cur.execute("INSERT INTO t VALUES (?)", [n])
                cur.execute("CALL dolt_commit('-am', 'before merge')")
                parents[rows(cur, "SELECT hashof('HEAD')")[0][0]] = [heads[one]]
                heads[one] = rows(cur, "SELECT hashof('HEAD')")[0][0]
                cur.execute("CALL dolt_merge(?, '--no-ff', '-m', 'merge')", [other])
                merged = rows(cur, "SELECT hashof('HEAD')")[0][0]
                parents[merged] = [heads[one], heads[other]]
                heads[one] = merged
            else:
                cur.execute("INSERT INTO t VALUES (?)", [n])
                commit = rows(cur, "CALL dolt_commit('-am', 'step')")[0][0]
                parents[commit] = [heads[one]]
                heads[one] = commit
        names = sorted(heads)
        got = rows(cur, f"SELECT * FROM dolt_branch_status({', '.join('?' * len(names))})", names)
        base = _reach(parents, heads[names[0]])
        expected = []
        for name in names[1:]:
            mine = _reach(parents, heads[name])
            expected.append((name, len(mine - base), len(base - mine)))
        assert got == expected
        for name in names:
            (flag,) = rows(cur, "SELECT has_ancestor(?, ?)", [name, names[0]])[0]
            assert flag == (heads[names[0]] in _reach(parents, heads[name]))


def test_branch_status_as_dolt_documents_it(cur):
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    cur.execute("CALL dolt_commit('-Am', 'initial')")
    cur.execute("CALL dolt_branch('original')")
    cur.execute("INSERT INTO t VALUES (4)")
    cur.execute("CALL dolt_commit('-am', 'second')")
    assert rows(cur, "SELECT * FROM DOLT_BRANCH_STATUS('main', 'original')") == [("original", 0, 1)]
    assert rows(cur, "SELECT * FROM dolt_branch_status('original', 'main')") == [("main", 1, 0)]
    assert [d[0] for d in cur.description] == ["branch", "commits_ahead", "commits_behind"]
    assert rows(cur, "SELECT * FROM dolt_branch_status('main')") == []


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        ("SELECT * FROM dolt_branch_status()", "ProgrammingError", "got 0 argument"),
        ("SELECT * FROM dolt_branch_status('main', 1)", "ProgrammingError", "must be text"),
        (
            "SELECT * FROM dolt_branch_status('main', 'nope')",
            "ProgrammingError",
            "'nope' not found",
        ),
        ("SELECT has_ancestor('main')", "ProgrammingError", "takes 2 text argument"),
        ("SELECT dolt_version('x')", "ProgrammingError", "takes 0 text argument"),
    ],
)
def test_refusals(cur, sql, error, message):
    with pytest.raises(getattr(arbordb, error), match=message):
        cur.execute(sql)


def test_functions_name_their_columns_as_written(cur):
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    cur.execute("CALL dolt_commit('-Am', 'initial')")
    got = rows(cur, "SELECT active_branch(), dolt_version(), has_ancestor('main', ?)", ["main"])
    assert got == [("main", version("arbordb"), True)]
    names = [d[0] for d in cur.description]
    assert names == ["active_branch()", "dolt_version()", "has_ancestor('main', ?)"]
    rows(cur, "SELECT hashof('main') AS head")
    assert [d[0] for d in cur.description] == ["head"]
