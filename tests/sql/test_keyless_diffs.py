"""Keyless tables in diffs: one 'added' / 'removed' row per copy, as Dolt shows them
(issue 10, item 11), checked against a multiset model on every diff surface."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import arbordb
from tests.cli.helpers import arbor, ok

ROW = st.tuples(st.integers(0, 3), st.sampled_from(["x", "y", "it's", None]))
ROWS = st.lists(ROW, max_size=12)


def _model(before: list, after: list) -> tuple[Counter, Counter]:
    """(removed, added) copies: multiset differences."""
    old, new = Counter(before), Counter(after)
    return old - new, new - old


def _sides(rows: list[tuple]) -> tuple[Counter, Counter]:
    """(removed, added) multisets of (to_a, to_b, from_a, from_b, diff_type) rows."""
    removed, added = Counter(), Counter()
    for to_a, to_b, from_a, from_b, kind in rows:
        if kind == "removed":
            assert (to_a, to_b) == (None, None)
            removed[(from_a, from_b)] += 1
        else:
            assert kind == "added" and (from_a, from_b) == (None, None)
            added[(to_a, to_b)] += 1
    return removed, added


def _arrow_sides(table) -> tuple[Counter, Counter]:
    cols = ["to_a", "to_b", "from_a", "from_b", "diff_type"]
    return _sides([tuple(r[c] for c in cols) for r in table.to_pylist()])


def _replace(cur, rows: list) -> None:
    cur.execute("DELETE FROM t")
    if rows:
        cur.executemany("INSERT INTO t VALUES (?, ?)", rows)


@settings(max_examples=25)
@given(before=ROWS, after=ROWS)
def test_every_diff_surface_shows_one_row_per_copy(before, after):
    removed, added = _model(before, after)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "r")
        with arbordb.connect(path) as con:
            cur = con.cursor()
            cur.execute("CREATE TABLE t (a INT, b VARCHAR)")
            _replace(cur, before)
            cur.execute("CALL dolt_commit('-Am', 'before')")
            one = cur.execute("SELECT dolt_hashof('HEAD')").fetchone()[0]
            _replace(cur, after)
            cur.execute("CALL dolt_commit('-Am', 'after', '--allow-empty')")
            two = cur.execute("SELECT dolt_hashof('HEAD')").fetchone()[0]
            pick = "to_a, to_b, from_a, from_b, diff_type"

            got = cur.execute(f"SELECT {pick} FROM dolt_diff('{one}', '{two}', 't')").fetchall()
            assert _sides(got) == (removed, added)
            got = cur.execute(
                f"SELECT {pick} FROM dolt_diff_t WHERE to_commit = '{two}'"
            ).fetchall()
            assert _sides(got) == (removed, added)
            got = cur.execute(
                f"SELECT {pick} FROM dolt_commit_diff_t "
                f"WHERE from_commit = '{one}' AND to_commit = '{two}'"
            ).fetchall()
            assert _sides(got) == (removed, added)

            stat = cur.execute(
                f"SELECT rows_added, rows_deleted FROM dolt_diff_stat('{one}', '{two}', 't')"
            ).fetchall()
            changed = removed or added
            expected = [(sum(added.values()), sum(removed.values()))] if changed else []
            assert stat == expected
            summary = cur.execute(
                f"SELECT diff_type, data_change FROM dolt_diff_summary('{one}', '{two}', 't')"
            ).fetchall()
            assert summary == ([("modified", True)] if changed else [])

        repo = arbordb.Repo(path)
        assert _arrow_sides(repo.diff(one, two, "t")) == (removed, added)


def test_deleting_three_identical_copies_is_three_removed_rows(tmp_path):
    repo_dir = tmp_path / "r"
    ok(arbor(tmp_path, "init", str(repo_dir)))
    with arbordb.connect(str(repo_dir)) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (a INT, b VARCHAR)")
        cur.execute("INSERT INTO t VALUES (1, 'x'), (1, 'x'), (1, 'x'), (2, 'y')")
        cur.execute("CALL dolt_commit('-Am', 'four rows')")
        cur.execute("DELETE FROM t WHERE a = 1")
        cur.execute("INSERT INTO t VALUES (2, 'y')")
    out = ok(arbor(repo_dir, "diff", "-r", "csv")).splitlines()
    assert sum(line.endswith(",1,x,STAGED,,removed") for line in out) == 3, out
    assert sum(line.startswith("2,y,WORKING,") for line in out) == 1, out
    table = ok(arbor(repo_dir, "diff"))
    assert table.count("| - | 1 | x |") == 3 and table.count("| + | 2 | y |") == 1, table
    stat = ok(arbor(repo_dir, "diff", "--stat"))
    assert "1 Row Added" in stat and "3 Rows Deleted" in stat, stat
