"""dolt_stash, dolt_stashes, dolt_reflog(), dolt_clean, dolt_commit('--amend'),
dolt_revert('--author') and dolt_checkout('--move' / '-f') through SQL: Dolt's result
rows, and each refusal leaving the repository as it was."""

from __future__ import annotations

import pytest

import arbordb

from .conftest import rows, state


@pytest.fixture
def repo(path):
    con = arbordb.connect(path, autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT)")
    cur.execute("INSERT INTO t VALUES (1, 1), (2, 2)")
    cur.execute("CALL dolt_commit('-Am', 'base')")
    yield con, cur
    con.close()


def test_stash_push_pop_and_the_stashes_table(repo):
    con, cur = repo
    cur.execute("INSERT INTO t VALUES (3, 3)")
    status, message = rows(cur, "CALL dolt_stash('push', 'mine')")[0]
    assert status == 0 and message.startswith("Saved working directory and index state WIP on ")
    assert rows(cur, "SELECT count(*) FROM t") == [(2,)]
    head = rows(cur, "SELECT dolt_hashof('HEAD')")[0][0]
    assert rows(cur, "SELECT * FROM dolt_stashes") == [("mine", "stash@{0}", "main", head, "base")]
    status, message = rows(cur, "CALL dolt_stash('pop', 'mine', 'stash@{0}')")[0]
    assert status == 0 and message.startswith("Dropped refs/stash@{0} (")
    assert rows(cur, "SELECT count(*) FROM t") == [(3,)]
    assert rows(cur, "SELECT count(*) FROM dolt_stashes") == [(0,)]


def test_stash_push_with_nothing_to_save_is_status_1(repo):
    con, cur = repo
    before = state(con)
    assert rows(cur, "CALL dolt_stash('push', 'mine')") == [(1, "No local changes to save")]
    assert state(con) == before


def test_stash_drop_and_clear_by_name(repo):
    con, cur = repo
    for i in (3, 4, 5):
        cur.execute(f"INSERT INTO t VALUES ({i}, {i})")
        cur.execute("CALL dolt_stash('push', 'a' )" if i < 5 else "CALL dolt_stash('push', 'b')")
    assert rows(cur, "SELECT name, stash_id FROM dolt_stashes") == [
        ("a", "stash@{0}"),
        ("a", "stash@{1}"),
        ("b", "stash@{0}"),
    ]
    cur.execute("CALL dolt_stash('drop', 'a', 'stash@{1}')")
    cur.execute("CALL dolt_stash('clear', 'b')")
    assert rows(cur, "SELECT name, stash_id FROM dolt_stashes") == [("a", "stash@{0}")]
    cur.execute("CALL dolt_stash('pop', 'a')")
    assert rows(cur, "SELECT id FROM t ORDER BY id") == [(1,), (2,), (4,)]


@pytest.mark.parametrize(
    "call, words",
    [
        ("CALL dolt_stash()", "subcommand"),
        ("CALL dolt_stash('save', 'x')", "subcommand"),
        ("CALL dolt_stash('push')", "needs a stash name"),
        ("CALL dolt_stash('pop', 'mine', 'stash@{7}')", "stash@{7} does not exist"),
        ("CALL dolt_stash('drop', 'mine', 'top')", "not a stash id"),
        ("CALL dolt_stash('pop', 'mine', '-u')", "apply to 'push' only"),
        ("CALL dolt_stash('push', 'a..b')", "invalid stash name"),
        ("CALL dolt_clean('t')", "'t' is tracked"),
        ("CALL dolt_clean('nope')", "nope"),
        ("CALL dolt_checkout('--move', 't')", "apply to switching branches"),
        ("CALL dolt_revert('--author', 'nobody', 'HEAD')", "Name <email>"),
        ("SELECT * FROM dolt_reflog('nope')", "no reflog entries"),
        ("SELECT * FROM dolt_reflog('--everything')", "unknown option"),
    ],
)
def test_refusals_change_nothing(repo, call, words):
    con, cur = repo
    cur.execute("INSERT INTO t VALUES (3, 3)")
    cur.execute("CALL dolt_stash('push', 'mine')")
    cur.execute("INSERT INTO t VALUES (4, 4)")
    before = state(con)
    with pytest.raises(arbordb.Error, match=words.replace("{", r"\{").replace("}", r"\}")):
        cur.execute(call)
    assert state(con) == before


def test_stash_pop_refuses_local_changes_to_its_tables(repo):
    con, cur = repo
    cur.execute("INSERT INTO t VALUES (3, 3)")
    cur.execute("CALL dolt_stash('push', 'mine')")
    cur.execute("INSERT INTO t VALUES (3, 30)")
    before = state(con)
    with pytest.raises(arbordb.OperationalError, match="would be overwritten by the stash: t"):
        cur.execute("CALL dolt_stash('pop', 'mine')")
    assert state(con) == before


def test_reflog_function_after_a_bad_reset(repo):
    con, cur = repo
    cur.execute("INSERT INTO t VALUES (3, 3)")
    (lost,) = rows(cur, "CALL dolt_commit('-am', 'three')")[0]
    cur.execute("CALL dolt_reset('--hard', 'HEAD~1')")
    cur.execute("CALL dolt_gc()")
    got = rows(cur, "SELECT ref, commit_hash, commit_message FROM dolt_reflog('main')")
    assert [r[2] for r in got] == ["base", "three", "base", "Initialize data repository"]
    assert got[1][1] == lost and {r[0] for r in got} == {"refs/heads/main"}
    assert rows(cur, "SELECT commit_hash FROM dolt_reflog('HEAD')") == [(r[1],) for r in got]
    cur.execute(f"CALL dolt_reset('--hard', '{lost}')")
    assert rows(cur, "SELECT count(*) FROM t") == [(3,)]
    names = [d[0] for d in cur.execute("SELECT * FROM dolt_reflog()").description]
    assert names == ["ref", "ref_timestamp", "commit_hash", "commit_message"]


def test_clean_and_dry_run(repo):
    con, cur = repo
    cur.execute("CREATE TABLE scratch (x INT PRIMARY KEY)")
    cur.execute("CREATE TABLE keep (x INT PRIMARY KEY)")
    cur.execute("CALL dolt_add('keep')")
    assert rows(cur, "CALL dolt_clean('--dry-run')") == [(0, "Would remove scratch")]
    assert rows(cur, "CALL dolt_clean()") == [(0, "Removed scratch")]
    assert sorted(r[0] for r in rows(cur, "SHOW TABLES")) == ["keep", "t"]


def test_commit_amend(repo):
    con, cur = repo
    parent = rows(cur, "SELECT dolt_hashof('HEAD~1')")[0][0]
    cur.execute("INSERT INTO t VALUES (3, 3)")
    cur.execute("CALL dolt_commit('-a', '--amend', '-m', 'base, amended')")
    assert rows(cur, "SELECT dolt_hashof('HEAD~1')") == [(parent,)]
    assert rows(cur, "SELECT message FROM dolt_log LIMIT 1") == [("base, amended",)]
    assert rows(cur, "SELECT count(*) FROM t AS OF 'HEAD'") == [(3,)]
    cur.execute("CALL dolt_commit('--amend')")  # keeps the message
    assert rows(cur, "SELECT message FROM dolt_log LIMIT 1") == [("base, amended",)]


def test_revert_author(repo):
    con, cur = repo
    cur.execute("CALL dolt_revert('--author', 'Ann <ann@x.org>', 'HEAD')")
    assert rows(cur, "SELECT committer, email, message FROM dolt_log LIMIT 1") == [
        ("Ann", "ann@x.org", 'Revert "base"')
    ]


def test_checkout_move_and_force(repo):
    con, cur = repo
    cur.execute("CALL dolt_branch('other')")
    cur.execute("INSERT INTO t VALUES (3, 3)")
    cur.execute("CALL dolt_checkout('--move', 'other')")
    assert rows(cur, "SELECT active_branch(), count(*) FROM t") == [("other", 3)]
    assert rows(cur, "SELECT count(*) FROM t AS OF 'main'") == [(2,)]
    cur.execute("CALL dolt_commit('-am', 'three on other')")
    cur.execute("INSERT INTO t VALUES (4, 4)")
    before = state(con)
    with pytest.raises(arbordb.OperationalError, match="overwritten by checkout: t"):
        cur.execute("CALL dolt_checkout('--move', 'main')")
    assert state(con) == before
    cur.execute("CALL dolt_checkout('-f', 'main')")
    assert rows(cur, "SELECT active_branch(), count(*) FROM t") == [("main", 2)]
    cur.execute("CALL dolt_checkout('-B', 'other', 'main')")  # moves other back to main
    assert rows(cur, "SELECT dolt_hashof('other') = dolt_hashof('main')") == [(True,)]


def test_checkout_b_move_during_a_merge_creates_no_branch(repo):
    con, cur = repo
    cur.execute("CALL dolt_checkout('-b', 'side')")
    cur.execute("UPDATE t SET a = 10 WHERE id = 1")
    cur.execute("CALL dolt_commit('-am', 'side')")
    cur.execute("CALL dolt_checkout('main')")
    cur.execute("UPDATE t SET a = 20 WHERE id = 1")
    cur.execute("CALL dolt_commit('-am', 'main')")
    cur.execute("CALL dolt_merge('side')")
    before = state(con)
    with pytest.raises(arbordb.OperationalError, match="during a merge"):
        cur.execute("CALL dolt_checkout('-b', 'x', '--move')")
    assert state(con) == before
    assert ("x",) not in rows(cur, "SELECT name FROM dolt_branches")


def test_repo_verbs_raise_arbordb_errors(tmp_path):
    repo = arbordb.Repo(tmp_path / "r")
    with pytest.raises(arbordb.ProgrammingError, match=r"stash@\{0\} does not exist"):
        repo.stash_pop()
    with pytest.raises(arbordb.OperationalError, match="No local changes to save"):
        repo.stash()
    with pytest.raises(arbordb.ProgrammingError, match="no reflog entries"):
        repo.reflog("nope")
    with pytest.raises(arbordb.ProgrammingError, match="needs a message"):
        repo.commit()
    assert repo.reflog()[0]["commit_message"] == "Initialize data repository"
    repo.close()
