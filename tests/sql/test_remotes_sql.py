"""Dolt's remote procedures and system tables through SQL: result rows, remote-tracking
refs wherever a revision is taken, and refusals that change nothing."""

from __future__ import annotations

import pytest

import arbordb


def call(cur, sql, params=None) -> tuple[list[str], list[tuple]]:
    cur.execute(sql, params)
    return [d[0] for d in cur.description], cur.fetchall()


@pytest.fixture
def pair(tmp_path):
    """A repository pushed to a file:// remote, and a clone of it made by dolt_clone."""
    remote = (tmp_path / "remote").as_uri()
    a = arbordb.connect(tmp_path / "a", autocommit=True)
    cur = a.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR)")
    cur.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
    cur.execute("CALL dolt_commit('-Am', 'base')")
    assert call(cur, "CALL dolt_remote('add', 'origin', ?)", [remote]) == (["status"], [(0,)])
    assert call(cur, "CALL dolt_push('-u', 'origin', 'main')") == (
        ["status", "message"],
        [(0, "main -> main")],
    )
    assert call(cur, "CALL dolt_clone(?, ?)", [remote, str(tmp_path / "b")]) == (["status"], [(0,)])
    b = arbordb.connect(tmp_path / "b", autocommit=True)
    yield cur, b.cursor(), remote
    a.close()
    b.close()


def test_remote_tables_and_tracking_refs_as_revisions(pair):
    a, b, remote = pair
    assert call(b, "SELECT name, url, fetch_specs, params FROM dolt_remotes")[1] == [
        ("origin", remote, '["refs/heads/*:refs/remotes/origin/*"]', "{}")
    ]
    assert call(b, "SELECT name, remote, branch FROM dolt_branches")[1] == [
        ("main", "origin", "main")
    ]
    a.execute("INSERT INTO t VALUES (3, 'three')")
    a.execute("CALL dolt_commit('-am', 'three')")
    assert call(a, "CALL dolt_push()")[1] == [(0, "main -> main")]
    assert call(b, "CALL dolt_fetch()") == (["status"], [(0,)])
    names, rows = call(b, "SELECT name, latest_commit_message FROM dolt_remote_branches")
    assert names[0] == "name" and rows == [("remotes/origin/main", "three")]
    assert call(b, "SELECT count(*) FROM t AS OF 'origin/main'")[1] == [(3,)]
    assert call(b, "SELECT count(*) FROM t AS OF 'remotes/origin/main'")[1] == [(3,)]
    assert call(b, "SELECT count(*) FROM dolt_log('origin/main')")[1] == [(3,)]
    assert call(b, "SELECT diff_type FROM dolt_diff('main', 'origin/main', 't')")[1] == [("added",)]
    assert call(b, "SELECT count(*) FROM t")[1] == [(2,)]  # fetch does not touch main
    names, rows = call(b, "CALL dolt_merge('origin/main')")
    assert rows[0][1:3] == (1, 0)
    assert call(b, "SELECT count(*) FROM t")[1] == [(3,)]


def test_pull_rows_and_conflicts(pair):
    a, b, _ = pair
    a.execute("UPDATE t SET v = 'theirs' WHERE id = 1")
    a.execute("CALL dolt_commit('-am', 'theirs')")
    a.execute("CALL dolt_push()")
    b.execute("UPDATE t SET v = 'ours' WHERE id = 1")
    with pytest.raises(arbordb.OperationalError, match="uncommitted changes"):
        b.execute("CALL dolt_pull()")
    assert call(
        b, "SELECT count(*) FROM dolt_remote_branches WHERE latest_commit_message = 'theirs'"
    )[1] == [(0,)]
    b.execute("CALL dolt_commit('-am', 'ours')")
    names, rows = call(b, "CALL dolt_pull('origin', 'main')")
    assert names == ["fast_forward", "conflicts", "message"] and rows[0][:2] == (0, 1)
    assert call(b, "SELECT our_v, their_v FROM dolt_conflicts_t")[1] == [("ours", "theirs")]


def test_refusals_change_nothing(pair, tmp_path):
    a, b, remote = pair
    with pytest.raises(arbordb.ProgrammingError, match="remote 'nope' not found"):
        a.execute("CALL dolt_push('nope', 'main')")
    with pytest.raises(arbordb.ProgrammingError, match="branch 'nope' not found on remote"):
        b.execute("CALL dolt_fetch('origin', 'nope')")
    with pytest.raises(arbordb.ProgrammingError, match="dolt_remote"):
        a.execute("CALL dolt_remote('rename', 'origin')")
    with pytest.raises(arbordb.ProgrammingError, match="AWS_ACCESS_KEY_ID"):
        a.execute("CALL dolt_remote('add', 'x', 's3://key:secret@bucket/p')")
    with pytest.raises(arbordb.ProgrammingError, match="no ArborDB repository"):
        a.execute("CALL dolt_clone(?, ?)", [(tmp_path / "none").as_uri(), str(tmp_path / "c")])
    assert not (tmp_path / "c").exists()
    b.execute("INSERT INTO t VALUES (9, 'b')")
    b.execute("CALL dolt_commit('-am', 'b')")
    b.execute("CALL dolt_push()")
    a.execute("INSERT INTO t VALUES (8, 'a')")
    a.execute("CALL dolt_commit('-am', 'a')")
    with pytest.raises(arbordb.OperationalError, match="fetch first"):
        a.execute("CALL dolt_push()")
    assert call(a, "CALL dolt_push('--force')")[1] == [(0, "main -> main")]
    a.execute("CALL dolt_tag('v1')")
    assert call(a, "CALL dolt_push('origin', 'v1')")[1] == [(0, "v1 -> v1")]
    assert call(a, "CALL dolt_push('--tags')")[1] == [(0, "Everything up-to-date")]
    a.execute("CALL dolt_branch('feature')")
    assert call(a, "CALL dolt_push('--all')")[1] == [(0, "feature -> feature")]
    b.execute("CALL dolt_fetch()")
    assert call(b, "SELECT name FROM dolt_remote_branches ORDER BY name")[1] == [
        ("remotes/origin/feature",),
        ("remotes/origin/main",),
    ]
    assert call(a, "CALL dolt_push('origin', ':feature')")[1] == [(0, "- [deleted] feature")]
    b.execute("CALL dolt_fetch('--prune')")
    assert call(b, "SELECT name FROM dolt_remote_branches")[1] == [("remotes/origin/main",)]
    a.execute("CALL dolt_remote('remove', 'origin')")
    assert call(a, "SELECT count(*) FROM dolt_remotes")[1] == [(0,)]
