"""Version verbs that must not lose or resurrect data, and that refuse whole.

- ``dolt_reset('--hard')`` resets tracked tables; an untracked table stays (Dolt).
- A session on a branch another connection deletes cannot persist its edits; a branch
  later made under that name starts clean.
- A procedure that fails part-way changes nothing (validate everything, one write).
- Dolt's result rows and messages: ``conflicts`` is a 0/1 flag, ``Revert "<message>"``,
  cherry-pick conflicts and ``dolt_cherry_pick('--abort')``, contradictory flags refused.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time

import pytest

import arbordb

from .conftest import rows, state


@pytest.fixture
def repo(path):
    con = arbordb.connect(path, autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT)")
    cur.execute("INSERT INTO t VALUES (1, 1, 1), (2, 2, 2), (3, 3, 3)")
    cur.execute("CALL dolt_commit('-Am', 'base')")
    yield con, cur
    con.close()


def messages(cur) -> list[str]:
    return [r[0] for r in rows(cur, "SELECT message FROM dolt_log")]


# --- item 3: reset --hard keeps untracked tables ------------------------------------------------


def test_reset_hard_keeps_a_table_never_staged_or_committed(repo):
    con, cur = repo
    cur.execute("CREATE TABLE fresh (x INT)")
    cur.execute("INSERT INTO fresh VALUES (7)")
    cur.execute("UPDATE t SET a = 99 WHERE id = 1")
    cur.execute("CALL dolt_reset('--hard')")
    assert rows(cur, "SELECT x FROM fresh") == [(7,)]  # untracked: stays
    assert rows(cur, "SELECT a FROM t WHERE id = 1") == [(1,)]  # tracked: reset
    assert rows(cur, "SELECT table_name, staged, status FROM dolt_status") == [
        ("fresh", False, "new table")
    ]


def test_reset_hard_drops_a_staged_new_table_and_a_target_name_wins(repo):
    con, cur = repo
    cur.execute("CREATE TABLE staged_new (x INT)")
    cur.execute("CALL dolt_add('staged_new')")
    cur.execute("CALL dolt_reset('--hard')")  # staged: tracked, so reset away (as git/Dolt)
    assert rows(cur, "SELECT count(*) FROM dolt_status") == [(0,)]
    cur.execute("CALL dolt_checkout('-b', 'side')")
    cur.execute("CREATE TABLE later (x INT)")
    cur.execute("INSERT INTO later VALUES (1)")
    cur.execute("CALL dolt_commit('-Am', 'later')")
    cur.execute("CALL dolt_checkout('main')")
    cur.execute("CREATE TABLE later (y INT)")  # untracked on main ...
    cur.execute("CALL dolt_reset('--hard', 'side')")
    assert rows(cur, "SELECT x FROM later") == [(1,)]  # ... the target's table wins


# --- item 4: a deleted branch's working set never resurfaces -------------------------------------


def test_commit_on_a_branch_another_connection_deleted_fails_and_leaves_nothing(repo, path):
    con, cur = repo
    cur.execute("CALL dolt_branch('feat')")
    other = arbordb.connect(path, branch="feat")
    other.cursor().execute("INSERT INTO t VALUES (4, 4, 4)")
    cur.execute("CALL dolt_branch('-D', 'feat')")
    with pytest.raises(arbordb.Error, match="branch 'feat' was deleted"):
        other.commit()
    refs = con.session.db.store.list_refs()
    assert not [r for r in refs if r.endswith("/feat")]
    cur.execute("CALL dolt_branch('feat')")
    fresh = arbordb.connect(path, branch="feat")
    assert rows(fresh.cursor(), "SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,)]
    fresh.close()
    other.close()


def test_dolt_commit_on_a_deleted_branch_fails_cleanly(repo, path):
    con, cur = repo
    cur.execute("CALL dolt_branch('feat')")
    other = arbordb.connect(path, branch="feat")
    ocur = other.cursor()
    ocur.execute("INSERT INTO t VALUES (4, 4, 4)")
    cur.execute("CALL dolt_branch('-D', 'feat')")
    with pytest.raises(arbordb.Error, match="feat"):
        ocur.execute("CALL dolt_commit('-Am', 'lost')")
    with pytest.raises(arbordb.Error, match="feat"):
        other.commit()
    assert "workingSets/heads/feat" not in con.session.db.store.list_refs()
    other.close()


_WRITER = textwrap.dedent(
    """
    import sys, time, arbordb
    path, pause = sys.argv[1], float(sys.argv[2])
    try:
        con = arbordb.connect(path, branch="feat")
        con.cursor().execute("INSERT INTO t VALUES (100, 1, 1)")
        print("ready", flush=True)
        time.sleep(pause)
        con.commit()
        print("committed")
    except arbordb.Error as exc:
        print("refused:", exc)
    """
)


def test_deleting_a_branch_under_a_writer_process_never_leaves_its_rows(path):
    """Real processes, random timing: the writer holds uncommitted rows on 'feat' and
    commits after a random pause while this process deletes 'feat' after another. Either
    the commit lands first (the rows go with the branch) or it is refused naming the
    branch; a branch re-created under that name never shows the rows."""
    seed = random.Random(os.getpid())
    con = arbordb.connect(path, autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT)")
    cur.execute("CALL dolt_commit('-Am', 'base')")
    for _ in range(3):
        cur.execute("CALL dolt_branch('feat')")
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, path, str(seed.uniform(0.0, 0.3))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout.readline() == "ready\n"
        time.sleep(seed.uniform(0.0, 0.3))
        cur.execute("CALL dolt_branch('-D', 'feat')")
        out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        assert out.startswith(("committed", "refused: branch 'feat' was deleted")), out
        cur.execute("CALL dolt_branch('feat')")
        fresh = arbordb.connect(path, branch="feat")
        assert rows(fresh.cursor(), "SELECT count(*) FROM t") == [(0,)]
        fresh.close()
        cur.execute("CALL dolt_branch('-D', 'feat')")
    con.close()


# --- item 6: a procedure that fails part-way changes nothing ---------------------------------


def refused_whole(con, cur, sql, error=arbordb.Error):
    before = state(con)
    with pytest.raises(error):
        cur.execute(sql)
    assert state(con) == before


def test_branch_delete_with_a_missing_name_deletes_none(repo):
    con, cur = repo
    cur.execute("CALL dolt_branch('ok')")
    refused_whole(con, cur, "CALL dolt_branch('-d', 'ok', 'missing')", arbordb.ProgrammingError)
    assert "ok" in [r[0] for r in rows(cur, "SELECT name FROM dolt_branches")]


def test_checkout_b_with_a_bad_start_persists_nothing(path):
    con = arbordb.connect(path)  # not autocommit: an open transaction
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    con.commit()
    cur.execute("INSERT INTO t VALUES (1)")
    ws_before = con.session.db.store.list_refs()
    with pytest.raises(arbordb.Error, match="nosuch"):
        cur.execute("CALL dolt_checkout('-b', 'x', 'nosuch')")
    assert con.session.db.store.list_refs() == ws_before  # the open transaction not persisted
    con.rollback()
    assert rows(cur, "SELECT count(*) FROM t") == [(0,)]
    assert "x" not in [r[0] for r in rows(cur, "SELECT name FROM dolt_branches")]
    con.close()


def test_checkout_b_persists_the_transaction_with_the_new_branch(path):
    con = arbordb.connect(path)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    cur.execute("CALL dolt_checkout('-b', 'x')")
    assert rows(cur, "SELECT active_branch()") == [("x",)]
    main = arbordb.connect(path, branch="main")
    assert rows(main.cursor(), "SELECT table_name FROM dolt_status") == [("t",)]
    main.close()
    con.close()


def test_branch_rename_onto_an_existing_name_persists_nothing(path):
    con = arbordb.connect(path)
    cur = con.cursor()
    cur.execute("CALL dolt_branch('taken')")
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    refs = con.session.db.store.list_refs()
    with pytest.raises(arbordb.Error, match="taken"):
        cur.execute("CALL dolt_branch('-m', 'taken')")
    assert con.session.db.store.list_refs() == refs
    cur.execute("CALL dolt_branch('-m', 'renamed')")  # the open transaction moves with it
    assert rows(cur, "SELECT active_branch()") == [("renamed",)]
    assert rows(cur, "SELECT table_name FROM dolt_status") == [("t",)]
    con.close()


def test_tag_delete_with_a_missing_name_deletes_none(repo):
    con, cur = repo
    cur.execute("CALL dolt_tag('v1')")
    refused_whole(con, cur, "CALL dolt_tag('-d', 'v1', 'missing')")
    assert rows(cur, "SELECT tag_name FROM dolt_tags") == [("v1",)]


def test_revert_of_several_commits_is_one_write(repo):
    con, cur = repo
    cur.execute("UPDATE t SET a = 10 WHERE id = 1")
    cur.execute("CALL dolt_commit('-am', 'ten')")
    initial = rows(cur, "SELECT commit_hash FROM dolt_log ORDER BY date LIMIT 1")[0][0]
    refused_whole(con, cur, f"CALL dolt_revert('HEAD', '{initial}')")
    assert messages(cur)[0] == "ten"


def test_contradictory_flags_are_refused(repo):
    con, cur = repo
    cur.execute("CALL dolt_branch('other')")
    for sql in (
        "CALL dolt_conflicts_resolve('--ours', '--theirs', 't')",
        "CALL dolt_reset('--soft', '--hard')",
        "CALL dolt_merge('--squash', '--no-ff', 'other')",
        "CALL dolt_merge('--abort', '--no-ff')",
        "CALL dolt_branch('-c', '-d', 'other', 'x')",
        "CALL dolt_checkout('-b', '-B', 'x')",
        "CALL dolt_cherry_pick('--abort', 'other')",
    ):
        refused_whole(con, cur, sql, arbordb.ProgrammingError)


# --- item 15: Dolt's result rows and messages ------------------------------------------------


@pytest.fixture
def diverged(repo):
    """main and f changed row 1's column a differently, twice (two conflicting rows)."""
    con, cur = repo
    cur.execute("CALL dolt_checkout('-b', 'f')")
    cur.execute("UPDATE t SET a = a + 10 WHERE id IN (1, 2)")
    cur.execute("CALL dolt_commit('-am', 'f work')")
    cur.execute("CALL dolt_checkout('main')")
    cur.execute("UPDATE t SET a = a + 20 WHERE id IN (1, 2)")
    cur.execute("CALL dolt_commit('-am', 'main work')")
    return con, cur


def test_merge_conflicts_column_is_a_flag(diverged):
    con, cur = diverged
    [(hash_, ff, conflicts, message)] = rows(cur, "CALL dolt_merge('f')")
    assert (hash_, ff, conflicts, message) == ("", 0, 1, "conflicts found")
    assert rows(cur, "SELECT num_conflicts FROM dolt_conflicts") == [(2,)]


def test_merge_of_an_ancestor_is_up_to_date(diverged):
    con, cur = diverged
    [(_, ff, conflicts, message)] = rows(cur, "CALL dolt_merge('HEAD~1')")
    assert (ff, conflicts, message) == (0, 0, "Everything up-to-date")


def test_revert_message_is_dolts(repo):
    con, cur = repo
    cur.execute("UPDATE t SET a = 10 WHERE id = 1")
    cur.execute("CALL dolt_commit('-am', 'ten')")
    cur.execute("CALL dolt_revert('HEAD')")
    assert messages(cur)[0] == 'Revert "ten"'


def test_cherry_pick_conflicts_stop_and_abort_restores(diverged):
    con, cur = diverged
    head = rows(cur, "SELECT dolt_hashof('HEAD')")
    [(hash_, data_conflicts, _, _)] = rows(cur, "CALL dolt_cherry_pick('f')")
    assert (hash_, data_conflicts) == ("", 2)
    assert rows(cur, "SELECT num_conflicts FROM dolt_conflicts") == [(2,)]
    with pytest.raises(arbordb.OperationalError, match="unresolved merge conflicts"):
        cur.execute("CALL dolt_commit('-Am', 'half')")
    cur.execute("CALL dolt_cherry_pick('--abort')")
    assert rows(cur, "SELECT dolt_hashof('HEAD')") == head
    assert rows(cur, "SELECT count(*) FROM dolt_status") == [(0,)]
    assert rows(cur, "SELECT a FROM t ORDER BY id") == [(21,), (22,), (3,)]
    with pytest.raises(arbordb.OperationalError, match="no cherry-pick to abort"):
        cur.execute("CALL dolt_cherry_pick('--abort')")


def test_cherry_pick_conflicts_resolved_commit_with_one_parent(diverged):
    con, cur = diverged
    cur.execute("CALL dolt_cherry_pick('f')")
    cur.execute("CALL dolt_conflicts_resolve('--theirs', 't')")
    cur.execute("CALL dolt_commit('-m', 'picked f')")
    assert rows(cur, "SELECT a FROM t ORDER BY id") == [(11,), (12,), (3,)]
    assert rows(
        cur, "SELECT count(*) FROM dolt_commit_ancestors WHERE commit_hash = dolt_hashof('HEAD')"
    ) == [(1,)]


def test_a_session_on_a_deleted_branch_is_refused_until_it_checks_out_another(repo, path):
    con, cur = repo
    cur.execute("CALL dolt_branch('feat')")
    other = arbordb.connect(path, branch="feat")
    ocur = other.cursor()
    ocur.execute("INSERT INTO t VALUES (4, 4, 4)")
    cur.execute("CALL dolt_branch('-D', 'feat')")
    with pytest.raises(arbordb.ProgrammingError, match="branch 'feat' was deleted"):
        other.commit()
    with pytest.raises(arbordb.ProgrammingError, match="branch 'feat' was deleted"):
        ocur.execute("SELECT count(*) FROM t")
    other.rollback()
    ocur.execute("CALL dolt_checkout('main')")
    assert rows(ocur, "SELECT active_branch(), count(*) FROM t") == [("main", 3)]
    other.close()


def test_checkout_away_from_a_deleted_branch_mid_transaction(repo, path):
    con, cur = repo
    cur.execute("CALL dolt_branch('feat')")
    other = arbordb.connect(path, branch="feat")
    ocur = other.cursor()
    ocur.execute("INSERT INTO t VALUES (4, 4, 4)")
    cur.execute("CALL dolt_branch('-D', 'feat')")
    ocur.execute("CALL dolt_checkout('main')")  # the rows have nowhere to stay
    other.commit()
    assert rows(ocur, "SELECT active_branch(), count(*) FROM t") == [("main", 3)]
    assert not [r for r in con.session.db.store.list_refs() if r.endswith("/feat")]
    other.close()
