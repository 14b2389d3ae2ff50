"""Every revision form resolves the same way through every surface that reads one
(issue 11: one resolver, ``Workspace.revision``): the engine's ``Workspace`` and
``Database.resolve``, ``Repo``, and SQL's ``AS OF``, ``dolt_hashof`` and ``dolt_log``.

The repository: main = init -> c1 (row 1) -> c2 (row 2), tag v1 and branch dev at c1,
remote-tracking origin/main at c1; row 3 inserted and staged, row 4 only in the working
set."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

import arbordb
from arbordb.engine.chunks.store import RefUpdate
from arbordb.engine.errors import RevisionNotFound
from arbordb.engine.hash import format_address
from arbordb.engine.history.commit import datetime_from_timestamp
from arbordb.engine.repo import Repo

COMMIT_FORMS = [
    "main",
    "v1",
    "dev",
    "origin/main",
    "remotes/origin/main",
    "HASH",
    "PREFIX",
    "HEAD",
    "HEAD~1",
    "HEAD^",
    "main~2",
    "c2^1~1",
]


@pytest.fixture(scope="module")
def repo_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("resolver") / "repo")
    con = arbordb.connect(path)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)")
    cur.execute("INSERT INTO t VALUES (1)")
    cur.execute("CALL dolt_commit('-Am', 'c1')")
    c1 = cur.execute("SELECT dolt_hashof('HEAD')").fetchone()[0]
    cur.execute("CALL dolt_tag('v1')")
    cur.execute("CALL dolt_branch('dev')")
    time.sleep(0.01)  # c2 is later than c1 (AS OF TIMESTAMP below)
    cur.execute("INSERT INTO t VALUES (2)")
    cur.execute("CALL dolt_commit('-am', 'c2')")
    c2 = cur.execute("SELECT dolt_hashof('HEAD')").fetchone()[0]
    cur.execute("INSERT INTO t VALUES (3)")
    cur.execute("CALL dolt_add('t')")
    cur.execute("INSERT INTO t VALUES (4)")
    con.commit()
    db = con.session.db
    db.refs.update([RefUpdate("refs/remotes/origin/main", None, db.resolve(c1))])
    con.close()
    return path, c1, c2


def _expected(form: str, c1: str, c2: str) -> tuple[str, str]:
    """(the text to resolve, the commit hash it names)."""
    text = {"HASH": c2, "PREFIX": c2[:8], "c2^1~1": c2 + "^1~1"}.get(form, form)
    target = {"main": c2, "HASH": c2, "PREFIX": c2, "HEAD": c2}.get(form, c1)
    if form in ("main~2", "c2^1~1"):
        target = "INIT"
    return text, target


@pytest.fixture(scope="module")
def con(repo_path):
    connection = arbordb.connect(repo_path[0])
    yield connection
    connection.close()


def _init_hash(cur) -> str:
    return cur.execute("SELECT commit_hash FROM dolt_log ORDER BY date LIMIT 1").fetchone()[0]


@pytest.mark.parametrize("form", COMMIT_FORMS)
def test_commit_forms_agree_on_every_surface(repo_path, con, form):
    path, c1, c2 = repo_path
    cur = con.cursor()
    text, target = _expected(form, c1, c2)
    if target == "INIT":
        target = _init_hash(cur)
    ws = con.session.workspace
    assert format_address(ws.revision(text).address) == target
    assert format_address(con.session.db.resolve(text)) == target
    assert cur.execute("SELECT dolt_hashof(?)", [text]).fetchone()[0] == target
    assert cur.execute("SELECT commit_hash FROM dolt_log(?) LIMIT 1", [text]).fetchone()[0] == (
        target
    )
    rows_at = {c1: [(1,)], c2: [(1,), (2,)]}.get(target)
    if rows_at is not None:
        assert cur.execute(f"SELECT id FROM t AS OF '{text}' ORDER BY id").fetchall() == rows_at
        repo = Repo(path)
        try:
            assert repo.hashof(text) == target
            assert repo.table("t", as_of=text).column("id").to_pylist() == [r[0] for r in rows_at]
        finally:
            repo.close()


@pytest.mark.parametrize(
    "word, ids",
    [
        ("WORKING", [1, 2, 3, 4]),
        ("STAGED", [1, 2, 3]),
        ("working", [1, 2, 3, 4]),
        ("staged", [1, 2, 3]),
    ],
)
def test_working_and_staged_on_every_surface(repo_path, con, word, ids):
    path, *_ = repo_path
    cur = con.cursor()
    ws = con.session.workspace
    expected_root = ws.working if word.upper() == "WORKING" else ws.staged
    assert ws.root_at(word).address == expected_root.address
    assert con.session.db.resolve(word) == expected_root.address
    got = cur.execute(f"SELECT id FROM t AS OF '{word}' ORDER BY id").fetchall()
    assert [r[0] for r in got] == ids
    repo = Repo(path)
    try:
        assert repo.table("t", as_of=word).column("id").to_pylist() == ids
    finally:
        repo.close()
    with pytest.raises(arbordb.ProgrammingError, match="commit"):
        cur.execute("SELECT dolt_hashof(?)", [word])


def test_timestamps_resolve_through_the_workspace_and_as_of(repo_path, con):
    _, c1, c2 = repo_path
    cur = con.cursor()
    ws = con.session.workspace
    c1_time = datetime_from_timestamp(ws.loader.load(con.session.db.resolve(c1)).timestamp)
    moment = c1_time.replace(tzinfo=None)
    assert format_address(ws.revision(moment, times=True).address) == c1
    assert format_address(ws.revision(moment.isoformat(), times=True).address) == c1
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    assert format_address(ws.revision(later, times=True).address) == c2
    with pytest.raises(RevisionNotFound):
        ws.revision(moment.isoformat())  # a time is a revision only where AS OF takes one
    got = cur.execute(f"SELECT id FROM t AS OF TIMESTAMP '{moment.isoformat()}'").fetchall()
    assert got == [(1,)]
    got = cur.execute(f"SELECT id FROM t AS OF '{moment.isoformat()}' ORDER BY id").fetchall()
    assert got == [(1,)]
    got = cur.execute("SELECT id FROM t AS OF ? ORDER BY id", [later]).fetchall()
    assert got == [(1,), (2,)]
