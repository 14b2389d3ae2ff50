"""Dolt's dolt_ignore through SQL and the CLI: patterns keep new tables out of
dolt_add -A / . and dolt_commit -A, dolt_status hides them (dolt_status_ignored shows
them), a named ignored table needs --force, disagreeing patterns refuse the staging
and change nothing; tables already staged or committed are not affected."""

from __future__ import annotations

import pytest

import arbordb
from tests.cli.helpers import arbor, ok, refused

from .conftest import rows, state


@pytest.fixture
def ignoring(con, cur):
    assert rows(cur, "SELECT * FROM dolt_ignore") == []  # readable before its first row
    cur.execute("INSERT INTO dolt_ignore VALUES ('generated_*', true), ('generated_keep', false)")
    for name in ("foo", "generated_foo", "generated_keep"):
        cur.execute(f"CREATE TABLE {name} (pk INT PRIMARY KEY)")
    return cur


def test_staging_everything_leaves_ignored_new_tables_out(ignoring):
    cur = ignoring
    assert rows(cur, "SELECT table_name FROM dolt_status") == [
        ("dolt_ignore",),
        ("foo",),
        ("generated_keep",),
    ]
    assert rows(cur, "SELECT table_name, ignored FROM dolt_status_ignored") == [
        ("dolt_ignore", False),
        ("foo", False),
        ("generated_foo", True),
        ("generated_keep", False),
    ]
    cur.execute("CALL dolt_add('.')")
    staged = rows(cur, "SELECT table_name FROM dolt_status WHERE staged")
    assert staged == [("dolt_ignore",), ("foo",), ("generated_keep",)]
    cur.execute("CALL dolt_commit('-Am', 'tables')")
    assert rows(cur, "SELECT * FROM dolt_status") == []
    committed = rows(cur, "SELECT to_table_name FROM dolt_diff_summary('HEAD~1', 'HEAD')")
    assert sorted(committed) == [("dolt_ignore",), ("foo",), ("generated_keep",)]
    assert rows(cur, "SELECT count(*) FROM generated_foo") == [(0,)]  # still in the working set


def test_a_named_ignored_table_needs_force(con, ignoring):
    cur = ignoring
    before = state(con)
    with pytest.raises(arbordb.ProgrammingError, match=r"'generated_foo' is ignored.*--force"):
        cur.execute("CALL dolt_add('foo', 'generated_foo')")
    assert state(con) == before  # foo was not staged either
    cur.execute("CALL dolt_add('--force', 'generated_foo')")
    assert rows(cur, "SELECT table_name FROM dolt_status WHERE staged") == [("generated_foo",)]


def test_tracked_tables_are_not_affected(ignoring):
    cur = ignoring
    cur.execute("CALL dolt_add('-f', 'generated_foo')")
    cur.execute("CALL dolt_commit('-m', 'tracked')")
    cur.execute("INSERT INTO generated_foo VALUES (1)")
    assert ("generated_foo", False, "modified") in rows(cur, "SELECT * FROM dolt_status")
    cur.execute("CALL dolt_commit('-Am', 'change')")
    assert rows(cur, "SELECT count(*) FROM generated_foo AS OF 'HEAD'") == [(1,)]


def test_disagreeing_patterns_refuse_staging_whole(con, ignoring):
    cur = ignoring
    cur.execute("INSERT INTO dolt_ignore VALUES ('*_foo', false)")  # generated_foo: a tie
    before = state(con)
    for sql in ("CALL dolt_add('-A')", "CALL dolt_commit('-Am', 'x')"):
        with pytest.raises(arbordb.ProgrammingError, match=r"'generated_foo' matches .* disagree"):
            cur.execute(sql)
        assert state(con) == before
    cur.execute("INSERT INTO dolt_ignore VALUES ('generated_foo', true)")  # the most specific
    cur.execute("CALL dolt_add('-A')")
    staged = [r[0] for r in rows(cur, "SELECT table_name FROM dolt_status WHERE staged")]
    assert "generated_foo" not in staged and "foo" in staged


def test_arbor_add_force_and_status(tmp_path):
    repo = tmp_path / "r"
    ok(arbor(repo, "init"))
    ok(arbor(repo, "sql", "-q", "INSERT INTO dolt_ignore VALUES ('tmp_%', true)"))
    ok(arbor(repo, "sql", "-q", "CREATE TABLE tmp_scores (id INT PRIMARY KEY)"))
    ok(arbor(repo, "commit", "-Am", "ignore scratch tables"))
    assert "nothing to commit" in ok(arbor(repo, "status"))
    refused(arbor(repo, "add", "tmp_scores"), "--force")
    ok(arbor(repo, "add", "-f", "tmp_scores"))
    assert "tmp_scores" in ok(arbor(repo, "status"))
