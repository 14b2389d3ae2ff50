"""Every way of resolving a merge's conflicts, checked against a plain-Python model of
the merged table: what the merge commit records must be exactly the model's rows.

The model merges cell by cell against the base (SPEC "Merge"): a row changed on one
side takes that side; a row both sides changed merges its cells, and a cell both
changed differently (or a delete against a modify) is a conflict that keeps our row
until it is resolved. Each resolution path then decides the conflicted rows:

    ours      dolt_conflicts_resolve('--ours') or DELETE FROM dolt_conflicts_t
    theirs    dolt_conflicts_resolve('--theirs')
    combine   dolt_conflicts_resolve('--combine'): their changed cells over ours,
              NULLs filled from the other side, deleted only when both deleted
    update    UPDATE dolt_conflicts_t SET our_<c> = their_<c> (rows both still have),
              then DELETE FROM dolt_conflicts_t
    mixed     DELETE some conflicts (ours), --theirs for the rest

then ``dolt_commit('-m')`` (nothing staged by hand) or ``arbor commit -m`` commits.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb
from tests.cli.helpers import arbor, ok

from .conftest import rows

KEYS = range(6)
VALUE = st.one_of(st.none(), st.integers(0, 3))
Row = tuple  # (a, b)


@st.composite
def sides(draw) -> tuple[dict, dict, dict]:
    """A base table and two edits of it (ours inserts keys 10.., theirs 20..)."""
    base = {k: (draw(VALUE), draw(VALUE)) for k in KEYS if draw(st.booleans())}

    def edit(first_new: int) -> dict:
        side = {}
        for k, (a, b) in base.items():
            action = draw(st.sampled_from(["keep", "keep", "delete", "a", "b", "both"]))
            if action == "delete":
                continue
            side[k] = (
                draw(VALUE) if action in ("a", "both") else a,
                draw(VALUE) if action in ("b", "both") else b,
            )
        for k in range(first_new, first_new + draw(st.integers(0, 2))):
            side[k] = (draw(VALUE), draw(VALUE))
        return side

    return base, edit(10), edit(20)


def model_merge(base: dict, ours: dict, theirs: dict) -> tuple[dict, dict]:
    """(merged rows, conflicts {key: (base, ours, theirs)}); a conflict keeps our row."""
    merged, conflicts = {}, {}
    for k in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(k), ours.get(k), theirs.get(k)
        if o == t or t == b:
            row = o
        elif o == b:
            row = t
        elif o is None or t is None or b is None:
            conflicts[k], row = (b, o, t), o
        else:
            cells = []
            for bc, oc, tc in zip(b, o, t, strict=True):
                cells.append(tc if oc == bc else oc if tc == bc or oc == tc else _CLASH)
            if _CLASH in cells:
                conflicts[k], row = (b, o, t), o
            else:
                row = tuple(cells)
        if row is not None:
            merged[k] = row
    return merged, conflicts


_CLASH = object()


def combine(b: Row | None, o: Row | None, t: Row | None) -> Row | None:
    if o is None and t is None:
        return None
    if o is None:
        return t
    cells = []
    for i, oc in enumerate(o):
        tc = t[i] if t is not None else None
        bc = b[i] if b is not None else None
        value = tc if tc != bc else oc
        cells.append(value if value is not None else (oc if oc is not None else tc))
    return tuple(cells)


def resolved(merged: dict, conflicts: dict, path: str, chosen: set) -> dict:
    """The model's table after resolving every conflict by ``path``."""
    out = dict(merged)
    for k, (b, o, t) in conflicts.items():
        if path == "theirs" or (path == "mixed" and k not in chosen):
            row = t
        elif path == "combine":
            row = combine(b, o, t)
        elif path == "update" and o is not None and t is not None:
            row = t
        else:  # ours, DELETE, mixed's chosen, an update that leaves a deleted row alone
            row = o
        out.pop(k, None)
        if row is not None:
            out[k] = row
    return out


def load(cur, table: str, data: dict) -> None:
    cur.execute(f"DELETE FROM {table}")
    if data:
        cur.executemany(
            f"INSERT INTO {table} VALUES (?, ?, ?)", [(k, a, b) for k, (a, b) in data.items()]
        )


def merge_into_main(path: str, base: dict, ours: dict, theirs: dict):
    """A repository whose main has just merged f: ``t`` as generated, ``u`` changed on f
    only (it merges cleanly). Returns the open autocommit connection."""
    con = arbordb.connect(path, autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT)")
    cur.execute("CREATE TABLE u (id INT PRIMARY KEY, v INT)")
    load(cur, "t", base)
    cur.execute("CALL dolt_commit('-Am', 'base')")
    cur.execute("CALL dolt_checkout('-b', 'f')")
    load(cur, "t", theirs)
    cur.execute("INSERT INTO u VALUES (1, 1)")
    cur.execute("CALL dolt_commit('-Am', 'theirs')")
    cur.execute("CALL dolt_checkout('main')")
    load(cur, "t", ours)
    cur.execute("CALL dolt_commit('--allow-empty', '-Am', 'ours')")
    cur.execute("CALL dolt_merge('f')")
    return con, cur


def table_at(cur, revision: str) -> dict:
    found = rows(cur, f"SELECT id, a, b FROM t AS OF '{revision}' ORDER BY id")
    return {k: (a, b) for k, a, b in found}


def assert_merged(cur, expected: dict) -> None:
    assert table_at(cur, "HEAD") == expected
    assert rows(cur, "SELECT id, v FROM u AS OF 'HEAD'") == [(1, 1)]  # the clean table too
    assert rows(cur, "SELECT count(*) FROM dolt_status") == [(0,)]
    assert rows(cur, "SELECT dolt_merge_base('main', 'f') = dolt_hashof('f')") == [(True,)]


RESOLVING_SQL = {
    "delete": ["DELETE FROM dolt_conflicts_t"],
    "update": [
        "UPDATE dolt_conflicts_t SET our_a = their_a, our_b = their_b "
        "WHERE their_diff_type <> 'removed'",
        "DELETE FROM dolt_conflicts_t",
    ],
}


def resolve_by(cur, path: str, chosen: set) -> None:
    if path in ("ours", "theirs", "combine"):
        cur.execute(f"CALL dolt_conflicts_resolve('--{path}', 't')")
    elif path in RESOLVING_SQL:
        for statement in RESOLVING_SQL[path]:
            cur.execute(statement)
    else:  # mixed
        keys = ", ".join(str(k) for k in sorted(chosen)) or "NULL"
        cur.execute(
            f"DELETE FROM dolt_conflicts_t WHERE coalesce(our_id, their_id, base_id) IN ({keys})"
        )
        cur.execute("CALL dolt_conflicts_resolve('--theirs', 't')")


PATHS = ["ours", "theirs", "combine", "delete", "update", "mixed"]


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sides(), st.sampled_from(PATHS), st.sets(st.sampled_from(list(KEYS))))
def test_every_resolution_path_commits_the_model(tmp_path_factory, data, path, chosen):
    base, ours, theirs = data
    merged, conflicts = model_merge(base, ours, theirs)
    con, cur = merge_into_main(str(tmp_path_factory.mktemp("r") / "repo"), base, ours, theirs)
    try:
        assert set(rows(cur, "SELECT our_id FROM dolt_conflicts_t WHERE our_id IS NOT NULL")) == {
            (k,) for k, (_, o, _) in conflicts.items() if o is not None
        }
        assert table_at(cur, "WORKING") == merged
        expected = resolved(merged, conflicts, "ours" if path == "delete" else path, chosen)
        resolve_by(cur, path, chosen)
        assert table_at(cur, "WORKING") == expected
        if conflicts:
            cur.execute("CALL dolt_commit('-m', 'merge f')")  # nothing staged by hand
        assert_merged(cur, expected)
    finally:
        con.close()


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sides(), st.sampled_from(["delete", "update", "theirs"]))
def test_resolving_then_arbor_commit_records_the_model(tmp_path_factory, data, path):
    base, ours, theirs = data
    merged, conflicts = model_merge(base, ours, theirs)
    repo = tmp_path_factory.mktemp("r") / "repo"
    con, cur = merge_into_main(str(repo), base, ours, theirs)
    con.close()
    expected = resolved(merged, conflicts, "ours" if path == "delete" else path, set())
    if conflicts:
        if path == "theirs":
            ok(arbor(repo, "conflicts", "resolve", "--theirs", "t"))
        else:
            ok(arbor(repo, "sql", "-q", ";".join(RESOLVING_SQL[path])))
        ok(arbor(repo, "commit", "-m", "merge f"))
    con = arbordb.connect(str(repo))
    try:
        assert_merged(con.cursor(), expected)
    finally:
        con.close()


# --- the cases the issue reported, spelled out ---------------------------------------------


@pytest.fixture
def conflicted(path):
    """main and f both changed t's row 1 column a; f also changed row 2 (clean)."""
    base = {1: (1, 1), 2: (2, 2), 3: (3, 3)}
    ours = {1: (11, 1), 2: (2, 2), 3: (3, 3)}
    theirs = {1: (10, 1), 2: (2, 20), 3: (3, 3)}
    con, cur = merge_into_main(path, base, ours, theirs)
    yield con, cur
    con.close()


def test_delete_from_conflicts_then_commit_keeps_theirs_clean_changes(conflicted):
    con, cur = conflicted
    cur.execute("DELETE FROM dolt_conflicts_t")
    assert rows(cur, "SELECT table_name, staged FROM dolt_status") == [("t", True), ("u", True)]
    cur.execute("CALL dolt_commit('-m', 'merge f')")
    assert table_at(cur, "HEAD") == {1: (11, 1), 2: (2, 20), 3: (3, 3)}


def test_update_our_columns_shows_in_the_conflicts_table_and_is_kept(conflicted):
    con, cur = conflicted
    cur.execute("UPDATE dolt_conflicts_t SET our_a = 42")
    assert rows(cur, "SELECT our_a, their_a, base_a FROM dolt_conflicts_t") == [(42, 10, 1)]
    assert rows(cur, "SELECT a FROM t WHERE id = 1") == [(42,)]
    cur.execute("CALL dolt_conflicts_resolve('--combine', 't')")  # ours now means 42
    assert rows(cur, "SELECT a FROM t WHERE id = 1") == [(10,)]  # theirs changed a: theirs
    cur.execute("CALL dolt_commit('-m', 'merge f')")
    assert table_at(cur, "HEAD") == {1: (10, 1), 2: (2, 20), 3: (3, 3)}


def test_a_merge_commit_never_leaves_unstaged_merge_results_out(conflicted):
    con, cur = conflicted
    cur.execute("DELETE FROM dolt_conflicts_t")
    cur.execute("CALL dolt_reset()")  # unstage everything the merge staged
    before = rows(cur, "SELECT dolt_hashof('HEAD')")
    with pytest.raises(arbordb.OperationalError, match=r"t, u hold merge results.*dolt_add"):
        cur.execute("CALL dolt_commit('-m', 'merge f')")
    assert rows(cur, "SELECT dolt_hashof('HEAD')") == before
    cur.execute("CALL dolt_add('.')")
    cur.execute("CALL dolt_commit('-m', 'merge f')")
    assert table_at(cur, "HEAD") == {1: (11, 1), 2: (2, 20), 3: (3, 3)}


def test_commit_is_refused_while_conflicts_remain(conflicted):
    con, cur = conflicted
    with pytest.raises(arbordb.OperationalError, match="unresolved merge conflicts"):
        cur.execute("CALL dolt_commit('-Am', 'merge f')")


def test_an_untracked_table_made_during_a_merge_does_not_block_its_commit(conflicted):
    con, cur = conflicted
    cur.execute("DELETE FROM dolt_conflicts_t")
    cur.execute("CREATE TABLE scratch (x INT)")
    cur.execute("CALL dolt_commit('-m', 'merge f')")
    assert table_at(cur, "HEAD") == {1: (11, 1), 2: (2, 20), 3: (3, 3)}
    assert rows(cur, "SELECT table_name, status FROM dolt_status") == [("scratch", "new table")]
