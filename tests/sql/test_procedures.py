"""Dolt's procedures through CALL: result rows as Dolt documents them, and each refusal
leaving the repository as it was."""

from __future__ import annotations

import pytest

import arbordb
from arbordb.sql import call_procedure

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


def call(cur, sql) -> tuple[list[str], list[tuple]]:
    cur.execute(sql)
    return [d[0] for d in cur.description], cur.fetchall()


def messages(cur) -> list[str]:
    return [r[0] for r in rows(cur, "SELECT message FROM dolt_log")]


def test_add_and_commit(repo):
    con, cur = repo
    cur.execute("INSERT INTO t VALUES (4, 4, 4)")
    assert call(cur, "CALL dolt_add('t')") == (["status"], [(0,)])
    assert rows(cur, "SELECT table_name, staged FROM dolt_status") == [("t", True)]
    names, [(address,)] = call(cur, "CALL dolt_commit('-m', 'four')")
    assert names == ["hash"] and len(address) == 32
    assert rows(cur, "SELECT dolt_hashof('HEAD')") == [(address,)]
    assert messages(cur)[0] == "four"


def test_commit_flags(repo):
    con, cur = repo
    cur.execute("UPDATE t SET a = 9 WHERE id = 1")
    cur.execute("CREATE TABLE fresh (x INT)")
    cur.execute(
        "CALL dolt_commit('-a', '-m', 'modified only', '--author', 'Ada <ada@example.com>', "
        "'--date', '2026-03-01T12:00:00')"
    )
    assert rows(cur, "SELECT committer, email, date FROM dolt_log LIMIT 1")[0][:2] == (
        "Ada",
        "ada@example.com",
    )
    assert str(rows(cur, "SELECT date FROM dolt_log LIMIT 1")[0][0]).startswith("2026-03-01 12:00")
    assert rows(cur, "SELECT table_name FROM dolt_status") == [("fresh",)]  # -a skips new tables
    cur.execute("CALL dolt_commit('-Am', 'everything')")
    assert rows(cur, "SELECT count(*) FROM dolt_status") == [(0,)]
    cur.execute("CALL dolt_commit('--allow-empty', '-m', 'empty')")
    assert messages(cur)[:3] == ["empty", "everything", "modified only"]


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        ("CALL dolt_commit('-m', 'nothing')", "OperationalError", "nothing to commit"),
        ("CALL dolt_commit()", "ProgrammingError", "needs a message"),
        ("CALL dolt_commit('-x')", "ProgrammingError", "unknown option"),
        ("CALL dolt_commit('-m')", "ProgrammingError", "needs a value"),
        ("CALL dolt_commit('-Am', 'x', '--author', 'nobody')", "ProgrammingError", "Name <email>"),
        ("CALL dolt_commit('-Am', 'x', '--date', 'soon')", "ProgrammingError", "ISO 8601"),
        ("CALL dolt_branch('main')", "ProgrammingError", "already exists"),
        ("CALL dolt_branch('-d', 'main')", "OperationalError|ProgrammingError", "checked out"),
        ("CALL dolt_branch('-d', 'nope')", "ProgrammingError", "nope"),
        ("CALL dolt_checkout('nope')", "ProgrammingError", "neither a branch nor a table"),
        ("CALL dolt_merge('nope')", "ProgrammingError", "revision 'nope' not found"),
        ("CALL dolt_merge('--abort')", "OperationalError", "no merge"),
        ("CALL dolt_reset('--hard', 'nope')", "ProgrammingError", "nope"),
        ("CALL dolt_tag('v1', 'nope')", "ProgrammingError", "nope"),
        ("CALL dolt_tag('-d', 'nope')", "ProgrammingError", "tag 'nope' not found"),
        ("CALL dolt_conflicts_resolve('--ours', 'nope')", "ProgrammingError", "nope"),
        ("CALL dolt_conflicts_resolve('t')", "ProgrammingError", "--ours"),
        ("CALL dolt_revert('nope')", "ProgrammingError", "nope"),
        ("CALL dolt_cherry_pick()", "ProgrammingError", "one commit"),
        ("CALL dolt_push('origin')", "ProgrammingError", "remote 'origin' not found"),
        ("CALL dolt_nope()", "ProgrammingError", "procedure 'dolt_nope' not found"),
    ],
)
def test_refusals_change_nothing(repo, sql, error, message):
    con, cur = repo
    before = state(con)
    classes = tuple(getattr(arbordb, e) for e in error.split("|"))
    with pytest.raises(classes, match=message):
        cur.execute(sql)
    assert state(con) == before


def test_branch_verbs(repo):
    con, cur = repo
    assert call(cur, "CALL dolt_branch('dev')") == (["status"], [(0,)])
    cur.execute("CALL dolt_branch('-c', 'dev', 'dev2')")
    cur.execute("CALL dolt_branch('-m', 'dev2', 'dev3')")
    assert rows(cur, "SELECT name FROM dolt_branches ORDER BY name") == [
        ("dev",),
        ("dev3",),
        ("main",),
    ]
    cur.execute("CALL dolt_branch('-d', 'dev3')")
    cur.execute("CALL dolt_branch('-f', 'dev', 'HEAD')")
    assert rows(cur, "SELECT name FROM dolt_branches ORDER BY name") == [("dev",), ("main",)]


@pytest.mark.parametrize(
    "move", ["CALL dolt_branch('-f', 'dev', 'main')", "CALL dolt_branch('-c', '-f', 'main', 'dev')"]
)
def test_a_forced_branch_starts_clean_at_its_new_head(repo, move):
    """As Dolt's NewBranchAtCommit: the moved branch's old commits and uncommitted
    changes do not resurface as working changes."""
    con, cur = repo
    cur.execute("CALL dolt_checkout('-b', 'dev')")
    cur.execute("INSERT INTO t VALUES (4, 4, 4)")
    cur.execute("CALL dolt_commit('-am', 'dev work')")
    cur.execute("INSERT INTO t VALUES (5, 5, 5)")  # uncommitted, left on dev
    cur.execute("CALL dolt_checkout('main')")
    cur.execute(move)
    cur.execute("CALL dolt_checkout('dev')")
    assert rows(cur, "SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,)]
    assert rows(cur, "SELECT * FROM dolt_status") == []
    assert rows(cur, "SELECT hashof('dev') = hashof('main')") == [(True,)]


@pytest.mark.parametrize(
    "sql",
    ["CALL dolt_branch('-f', 'main', 'HEAD~1')", "CALL dolt_branch('-c', '-f', 'dev', 'main')"],
)
def test_the_checked_out_branch_is_never_force_moved(repo, sql):
    con, cur = repo
    cur.execute("CALL dolt_branch('dev')")
    cur.execute("INSERT INTO t VALUES (4, 4, 4)")
    cur.execute("CALL dolt_commit('-am', 'second')")
    cur.execute("INSERT INTO t VALUES (5, 5, 5)")
    before = state(con)
    with pytest.raises(arbordb.ProgrammingError, match="'main': it is checked out.*dolt_reset"):
        cur.execute(sql)
    assert state(con) == before
    assert rows(cur, "SELECT count(*) FROM t") == [(5,)]


def test_checkout_keeps_uncommitted_changes_on_their_branch(repo):
    con, cur = repo
    assert call(cur, "CALL dolt_checkout('-b', 'dev')") == (
        ["status", "message"],
        [(0, "Switched to branch 'dev'")],
    )
    assert con.branch == "dev" and rows(cur, "SELECT active_branch()") == [("dev",)]
    cur.execute("INSERT INTO t VALUES (10, 0, 0)")
    cur.execute("CALL dolt_checkout('main')")
    assert rows(cur, "SELECT count(*) FROM t") == [(3,)]
    cur.execute("CALL dolt_checkout('dev')")
    assert rows(cur, "SELECT count(*) FROM t") == [(4,)]
    cur.execute("CALL dolt_checkout('t')")  # discard the table's working changes
    assert rows(cur, "SELECT count(*) FROM t") == [(3,)]


def test_merge_fast_forward_and_no_ff(repo):
    con, cur = repo
    cur.execute("CALL dolt_checkout('-b', 'dev')")
    cur.execute("INSERT INTO t VALUES (4, 4, 4)")
    (dev_head,) = call(cur, "CALL dolt_commit('-am', 'dev work')")[1][0]
    cur.execute("CALL dolt_checkout('main')")
    names, result = call(cur, "CALL dolt_merge('dev')")
    assert names == ["hash", "fast_forward", "conflicts", "message"]
    assert result == [(dev_head, 1, 0, "merge successful")]
    cur.execute("CALL dolt_checkout('dev')")
    cur.execute("INSERT INTO t VALUES (5, 5, 5)")
    cur.execute("CALL dolt_commit('-am', 'more')")
    cur.execute("CALL dolt_checkout('main')")
    ((merge_hash, ff, conflicts, _),) = call(
        cur, "CALL dolt_merge('dev', '--no-ff', '-m', 'merge dev')"
    )[1]
    assert ff == 0 and conflicts == 0 and messages(cur)[0] == "merge dev"
    assert rows(
        cur, "SELECT count(*) FROM dolt_commit_ancestors WHERE commit_hash = ?", [merge_hash]
    ) == [(2,)]


@pytest.fixture
def conflicted(repo):
    con, cur = repo
    cur.execute("CALL dolt_branch('feature')")
    cur.execute("UPDATE t SET a = 10 WHERE id = 1")
    cur.execute("UPDATE t SET a = 20 WHERE id = 2")
    cur.execute("CALL dolt_commit('-am', 'ours')")
    cur.execute("CALL dolt_checkout('feature')")
    cur.execute("UPDATE t SET a = 11 WHERE id = 1")
    cur.execute("UPDATE t SET b = 22 WHERE id = 2")
    cur.execute("CALL dolt_commit('-am', 'theirs')")
    cur.execute("CALL dolt_checkout('main')")
    assert call(cur, "CALL dolt_merge('feature')")[1] == [("", 0, 1, "conflicts found")]
    return con, cur


def test_merge_conflicts_and_resolution_by_procedure(conflicted):
    con, cur = conflicted
    assert rows(cur, "SELECT * FROM dolt_conflicts") == [("t", 1)]
    assert rows(cur, "SELECT our_a, their_a FROM dolt_conflicts_t") == [(10, 11)]
    assert rows(cur, "SELECT a, b FROM t WHERE id = 2") == [(20, 22)]  # cell-level merge
    with pytest.raises(arbordb.OperationalError, match="unresolved merge conflicts"):
        cur.execute("CALL dolt_commit('-am', 'too early')")
    with pytest.raises(arbordb.OperationalError, match="in progress"):
        cur.execute("CALL dolt_merge('feature')")
    assert call(cur, "CALL dolt_conflicts_resolve('--theirs', 't')") == (["status"], [(0,)])
    assert rows(cur, "SELECT a FROM t WHERE id = 1") == [(11,)]
    cur.execute("CALL dolt_commit('-am', 'merged')")
    assert messages(cur)[0] == "merged"


def test_merge_abort_restores_the_pre_merge_state(conflicted):
    con, cur = conflicted
    cur.execute("CALL dolt_merge('--abort')")
    assert rows(cur, "SELECT a, b FROM t WHERE id IN (1, 2) ORDER BY id") == [(10, 1), (20, 2)]
    assert rows(cur, "SELECT count(*) FROM dolt_conflicts") == [(0,)]


def test_resolving_by_editing_the_conflicts_table(conflicted):
    con, cur = conflicted
    cur.execute("UPDATE dolt_conflicts_t SET our_a = 99 WHERE our_a = 10")
    assert cur.rowcount == 1
    assert rows(cur, "SELECT a FROM t WHERE id = 1") == [(99,)]
    assert rows(cur, "SELECT count(*) FROM dolt_conflicts_t") == [(1,)]  # still there
    with pytest.raises(arbordb.ProgrammingError, match="our_<column>"):
        cur.execute("UPDATE dolt_conflicts_t SET their_a = 1")
    cur.execute("DELETE FROM dolt_conflicts_t WHERE their_a = 11")
    assert cur.rowcount == 1
    assert rows(cur, "SELECT count(*) FROM dolt_conflicts_t") == [(0,)]
    cur.execute("CALL dolt_commit('-am', 'resolved by hand')")
    assert rows(cur, "SELECT a FROM t WHERE id = 1") == [(99,)]


def test_reset(repo):
    con, cur = repo
    cur.execute("INSERT INTO t VALUES (4, 4, 4)")
    cur.execute("CALL dolt_add('.')")
    assert call(cur, "CALL dolt_reset('t')") == (["status"], [(0,)])
    assert rows(cur, "SELECT staged FROM dolt_status") == [(False,)]
    cur.execute("CALL dolt_reset('--hard')")
    assert rows(cur, "SELECT count(*) FROM t") == [(3,)]
    cur.execute("INSERT INTO t VALUES (4, 4, 4)")
    cur.execute("CALL dolt_commit('-am', 'four')")
    cur.execute("CALL dolt_reset('--soft', 'HEAD~1')")
    assert messages(cur)[0] == "base"
    assert rows(cur, "SELECT count(*) FROM t") == [(4,)]
    cur.execute("CALL dolt_reset('--hard', 'HEAD')")
    assert rows(cur, "SELECT count(*) FROM t") == [(3,)]


def test_revert_and_cherry_pick(repo):
    con, cur = repo
    cur.execute("INSERT INTO t VALUES (4, 4, 4)")
    (four,) = call(cur, "CALL dolt_commit('-am', 'four')")[1][0]
    assert call(cur, f"CALL dolt_revert('{four}')") == (["status"], [(0,)])
    assert rows(cur, "SELECT count(*) FROM t") == [(3,)]
    assert messages(cur)[0].startswith('Revert "four"')
    cur.execute("CALL dolt_checkout('-b', 'other', 'HEAD~2')")
    names, [(address, data, schema, violations)] = call(cur, f"CALL dolt_cherry_pick('{four}')")
    assert names == ["hash", "data_conflicts", "schema_conflicts", "constraint_violations"]
    assert len(address) == 32 and (data, schema, violations) == (0, 0, 0)
    assert rows(cur, "SELECT count(*) FROM t") == [(4,)]


def test_tags(repo):
    con, cur = repo
    assert call(cur, "CALL dolt_tag('v1', '-m', 'first')") == (["status"], [(0,)])
    assert rows(cur, "SELECT tag_name, message FROM dolt_tags") == [("v1", "first")]
    cur.execute("CALL dolt_tag('-d', 'v1')")
    assert rows(cur, "SELECT count(*) FROM dolt_tags") == [(0,)]


def test_gc(repo):
    con, cur = repo
    assert call(cur, "CALL dolt_gc()") == (["status"], [(0,)])
    assert rows(cur, "SELECT count(*) FROM t") == [(3,)]


def test_call_procedure_is_public(repo):
    con, cur = repo
    result = call_procedure(con.session, "DOLT_BRANCH", ["api"])
    assert result.to_pylist() == [{"status": 0}]
    with pytest.raises(arbordb.ProgrammingError, match="procedure 'nope' not found"):
        call_procedure(con.session, "nope", [])


def test_procedure_arguments_may_be_parameters(repo):
    con, cur = repo
    cur.execute("CALL dolt_branch(?)", ["from_param"])
    assert rows(cur, "SELECT count(*) FROM dolt_branches WHERE name = 'from_param'") == [(1,)]


def _diverged(cur) -> None:
    cur.execute("CALL dolt_checkout('-b', 'dev')")
    cur.execute("INSERT INTO t VALUES (4, 4, 4)")
    cur.execute("CALL dolt_commit('-am', 'dev work')")
    cur.execute("CALL dolt_checkout('main')")
    cur.execute("INSERT INTO t VALUES (5, 5, 5)")
    cur.execute("CALL dolt_commit('-am', 'main work')")


def test_merge_no_commit_leaves_the_merge_to_commit(repo):
    con, cur = repo
    _diverged(cur)
    assert call(cur, "CALL dolt_merge('dev', '--no-commit')")[1] == [("", 0, 0, "merge successful")]
    assert messages(cur)[0] == "main work"
    assert rows(cur, "SELECT count(*) FROM t") == [(5,)]
    assert rows(cur, "SELECT is_merging FROM dolt_merge_status") == [(True,)]
    cur.execute("CALL dolt_commit('-m', 'merged by hand')")
    (head,) = rows(cur, "SELECT dolt_hashof('HEAD')")[0]
    assert rows(
        cur, "SELECT count(*) FROM dolt_commit_ancestors WHERE commit_hash = ?", [head]
    ) == [(2,)]


def test_merge_squash_makes_a_single_parent_commit(repo):
    con, cur = repo
    _diverged(cur)
    cur.execute("CALL dolt_merge('dev', '--squash')")
    assert rows(cur, "SELECT count(*) FROM t") == [(5,)]
    cur.execute("CALL dolt_commit('-am', 'squashed')")
    (head,) = rows(cur, "SELECT dolt_hashof('HEAD')")[0]
    assert rows(
        cur, "SELECT count(*) FROM dolt_commit_ancestors WHERE commit_hash = ?", [head]
    ) == [(1,)]


def test_conflicts_resolve_combine_and_dot(conflicted):
    con, cur = conflicted
    assert call(cur, "CALL dolt_conflicts_resolve('--ours', '.')") == (["status"], [(0,)])
    assert rows(cur, "SELECT a FROM t WHERE id = 1") == [(10,)]
    assert rows(cur, "SELECT count(*) FROM dolt_conflicts") == [(0,)]


@pytest.mark.parametrize(
    "args, kind",
    [
        ("'dev'", "merge commit"),
        ("'dev', '--no-commit'", "working set"),
        ("'dev', '--squash'", "working set"),
        ("'ff'", "fast-forward"),
        ("'ff', '--no-commit'", "fast-forward"),
        ("'main'", "up to date"),
    ],
)
def test_merge_writes_the_store_once_and_another_connection_sees_it(
    repo, path, monkeypatch, args, kind
):
    """dolt_merge writes its outcome in one store transaction (none when there is nothing
    to merge), not once in the merge and again in the procedure."""
    from arbordb.engine.chunks.lmdb_store import LmdbChunkStore

    con, cur = repo
    _diverged(cur)
    cur.execute("CALL dolt_checkout('-b', 'ff')")
    cur.execute("INSERT INTO t VALUES (6, 6, 6)")
    cur.execute("CALL dolt_commit('-am', 'ff work')")
    cur.execute("CALL dolt_checkout('main')")
    before = rows(cur, "SELECT count(*) FROM t")
    writes = []
    real = LmdbChunkStore.commit
    monkeypatch.setattr(
        LmdbChunkStore, "commit", lambda s, *a, **k: writes.append(1) or real(s, *a, **k)
    )
    (outcome,) = call(cur, f"CALL dolt_merge({args})")[1]
    assert outcome[1] == (kind == "fast-forward")
    assert len(writes) == (0 if kind == "up to date" else 1)
    other = arbordb.connect(path)
    seen = rows(other.cursor(), "SELECT count(*) FROM t")
    other.close()
    assert seen == rows(cur, "SELECT count(*) FROM t")
    assert (seen == before) == (kind == "up to date")
