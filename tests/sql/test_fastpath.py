"""The fast paths (sql/session/fastpath.py) answer exactly as the general path does.

Two repositories get the same statements: one connection runs with fast paths, the
other with a fast-path cache that never learns (so every statement takes the general
path). Every outcome (rows, description, rowcount, or the error's class and message)
must be equal, through schema changes, branch switches, commits, rollbacks, temporary
views, autocommit and values of every type; a plain dict models the table's rows.
"""

from __future__ import annotations

import math
import tempfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.sql.session import fastpath

SELECTS = [
    "SELECT * FROM t WHERE id = ?",
    "SELECT label, id FROM t WHERE id = ?",
    "SELECT score AS s, T.label FROM t AS T WHERE T.id = ?",
    "SELECT * FROM t WHERE id = 3",
    "SELECT id, label FROM t WHERE id >= ? ORDER BY id",  # the general path: edits settle
]
UPDATES = [
    ("UPDATE t SET label = ? WHERE id = ?", 1),
    ("UPDATE t SET score = ?, label = ? WHERE id = ?", 2),
    ("UPDATE t SET label = 'c' WHERE ? = id", 0),
    ("UPDATE t AS x SET score = ? WHERE x.id = ?", 1),
]
OTHER = [
    "CALL dolt_commit('-am', 'c')",
    "CALL dolt_checkout('other')",
    "CALL dolt_checkout('main')",
    "ALTER TABLE t ADD COLUMN extra INTEGER",
    "ALTER TABLE t DROP COLUMN label",
    "DROP TABLE t; CREATE TABLE t (id VARCHAR PRIMARY KEY, label VARCHAR, score DOUBLE)",
    "CREATE TEMP VIEW t AS SELECT 1 AS id, 'v' AS label, 0.5 AS score",
    "ALTER TABLE t RENAME TO T",
    "BEGIN",
    "COMMIT",
    "CREATE UNIQUE INDEX by_label ON t (label)",
    "UPDATE t SET score = score + 1 WHERE id IN (1, 2, 7)",
]
# what a second connection runs and commits between two statements of the first
POKES = [
    "UPDATE t SET label = 'poked' WHERE id IN (1, 3)",
    "DELETE FROM t WHERE id = 2",
    "INSERT INTO t (id, label) VALUES (11, 'new')",
    "ALTER TABLE t ADD COLUMN other INTEGER",
    "DROP TABLE t",
]

values = st.one_of(
    st.integers(-2, 12),
    st.integers(min_value=2**63, max_value=2**64),
    st.text(max_size=3),
    st.floats(allow_nan=False, width=32),
    st.booleans(),
    st.none(),
    st.binary(max_size=2),
)
steps = st.one_of(
    st.tuples(st.just("select"), st.sampled_from(SELECTS), values),
    st.tuples(
        st.just("update"), st.sampled_from(UPDATES), st.lists(values, min_size=3, max_size=3)
    ),
    st.tuples(st.just("other"), st.sampled_from(OTHER), st.none()),
    st.tuples(st.just("rollback"), st.none(), st.none()),
    st.tuples(st.just("commit"), st.none(), st.none()),
    st.tuples(st.just("peek"), st.none(), st.none()),  # a second connection reads
    st.tuples(st.just("poke"), st.sampled_from(POKES), st.none()),  # and writes
    st.tuples(st.just("many"), st.sampled_from(UPDATES[:2]), st.lists(values, min_size=3)),
)


PATHS: dict[int, str] = {}  # connection -> its repository, for a second connection
# Hypothesis makes hundreds of repositories; they live under one folder removed at exit.
REPOSITORIES = tempfile.TemporaryDirectory(prefix="arbordb-fastpath-")


def fresh(*, learn: bool, autocommit: bool) -> arbordb.sql.Connection:
    path = tempfile.mkdtemp(dir=REPOSITORIES.name)
    con = arbordb.connect(path, autocommit=autocommit)
    PATHS[id(con)] = path
    if not learn:
        con.session._fast = fastpath.FastStatements(size=0)  # learns nothing: general path
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)")
    cur.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, f"l{i}", i / 4) for i in range(10)])
    cur.execute("CALL dolt_commit('-Am', 'first')")
    cur.execute("CALL dolt_branch('other')")
    cur.execute("UPDATE t SET label = 'main' WHERE id < 5")
    con.commit()
    return con


def outcome(con, kind, sql, args):
    """What a step answers, NaN as a marker (NaN != NaN would fail equal answers)."""
    return _nan_marked(_answer(con, kind, sql, args))


def _nan_marked(value):
    if isinstance(value, float) and math.isnan(value):
        return "<NaN>"
    if isinstance(value, list | tuple):
        return type(value)(_nan_marked(v) for v in value)
    return value


def _answer(con, kind, sql, args):
    cur = con.cursor()
    try:
        if kind == "rollback":
            con.rollback()
            return "rolled back"
        if kind == "commit":
            con.commit()
            return "committed"
        if kind == "peek":
            with arbordb.connect(PATHS[id(con)]) as other:
                return other.cursor().execute("SELECT * FROM t ORDER BY id").fetchall()
        if kind == "poke":
            with arbordb.connect(PATHS[id(con)]) as other:
                return other.cursor().execute(sql).rowcount
        if kind == "many":
            text, used = sql
            keys = range(len(args) // 3)
            cur.executemany(text, [[*args[3 * k : 3 * k + used], k] for k in keys])
            return cur.rowcount
        if kind == "select":
            cur.execute(sql, [args] if "?" in sql else [])
            return cur.description, cur.fetchall()
        if kind == "update":
            text, used = sql
            cur.execute(text, [*args[:used], args[2]] if "?" in text else [])
            return cur.rowcount
        cur.execute(sql)
        return cur.rowcount
    except arbordb.Error as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("autocommit", [False, True])
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(program=st.lists(steps, min_size=1, max_size=14))
@example(  # a batch writing NaN: both paths store it, and NaN answers equal NaN
    program=[
        ("rollback", None, None),
        ("many", ("UPDATE t SET score = ?, label = ? WHERE id = ?", 2), [None, 0, 0, "NaN", 0, 0]),
    ]
)
def test_fast_paths_answer_as_the_general_path(autocommit, program):
    fast, general = (
        fresh(learn=True, autocommit=autocommit),
        fresh(learn=False, autocommit=autocommit),
    )
    try:
        for kind, sql, args in [*program, *program]:  # twice: the second time, plans exist
            assert outcome(fast, kind, sql, args) == outcome(general, kind, sql, args), (
                kind,
                sql,
                args,
            )
        every = "SELECT * FROM t ORDER BY id"
        assert outcome(fast, "select", every, None) == outcome(general, "select", every, None)
    finally:
        fast.close()
        general.close()


@given(
    edits=st.lists(
        st.tuples(st.integers(0, 14), st.one_of(st.text(max_size=4), st.none())), max_size=30
    ),
    reads=st.lists(st.integers(-1, 14), max_size=20),
)
@settings(max_examples=20)
def test_point_select_and_update_follow_a_dict(edits, reads):
    con = fresh(learn=True, autocommit=False)
    model = {i: ("main" if i < 5 else f"l{i}", i / 4) for i in range(10)}
    try:
        cur = con.cursor()
        for key, label in edits:
            cur.execute("UPDATE t SET label = ? WHERE id = ?", [label, key])
            assert cur.rowcount == (1 if key in model else 0)
            if key in model:
                model[key] = (label, model[key][1])
        for key in reads:
            row = cur.execute("SELECT * FROM t WHERE id = ?", [key]).fetchone()
            assert row == ((key, *model[key]) if key in model else None)
        if reads:
            assert isinstance(
                con.session._fast.get("SELECT * FROM t WHERE id = ?"), fastpath.PointSelect
            )
    finally:
        con.close()


def test_plans_are_learned_and_taken(monkeypatch):
    con = fresh(learn=True, autocommit=False)
    cur = con.cursor()
    select, update = "SELECT * FROM t WHERE id = ?", "UPDATE t SET label = ? WHERE id = ?"
    cur.execute(select, [1]).fetchone()
    cur.execute(update, ["a", 1])
    assert isinstance(con.session._fast.get(select), fastpath.PointSelect)
    assert isinstance(con.session._fast.get(update), fastpath.PointUpdate)
    from arbordb.sql.read import reads

    monkeypatch.setattr(reads, "point_select", None)  # the general path would now fail
    monkeypatch.setattr(con.session, "_prepare", None)
    assert cur.execute(select, [1]).fetchone() == (1, "a", 0.25)
    cur.execute(update, ["b", 2])
    assert cur.rowcount == 1
    assert cur.execute(select, [2]).fetchone() == (2, "b", 0.5)
    con.close()


def test_the_first_update_of_a_text_is_fast(monkeypatch):
    con = fresh(learn=True, autocommit=False)
    monkeypatch.setattr(con.session, "_run", None)  # the general path would now fail
    cur = con.cursor()
    cur.execute("UPDATE t SET label = ? WHERE id = ?", ["first", 3])
    assert cur.rowcount == 1
    monkeypatch.undo()
    assert cur.execute("SELECT label FROM t WHERE id = 3").fetchone() == ("first",)
    con.close()


@pytest.mark.parametrize("autocommit", [False, True])
def test_a_plan_kept_across_transactions_writes_where_the_commit_flushes(tmp_path, autocommit):
    """A fast UPDATE learned in one transaction and run in a later one must write its
    chunks through that transaction's buffer: every committed edit reads back in a new
    connection."""
    path = tmp_path / "r"
    con = arbordb.connect(path, autocommit=autocommit)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)")
    cur.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, f"l{i}", i / 4) for i in range(10)])
    con.commit()
    for round_ in range(3):
        for key in (-1, 0, 3):  # a missing key, then rows (a new NULL rewrites the leaf)
            cur.execute("UPDATE t SET label = ? WHERE id = ?", [None if key else f"r{round_}", key])
            con.commit()
            con.rollback()  # nothing to undo; the next statement starts a new transaction
    con.close()
    with arbordb.connect(path) as again:
        rows = again.cursor().execute("SELECT id, label FROM t ORDER BY id").fetchall()
    assert rows[0] == (0, "r2") and rows[3] == (3, None)
    assert [r for r in rows if r[0] not in (0, 3)] == [
        (i, f"l{i}") for i in range(10) if i not in (0, 3)
    ]


def test_one_row_updates_of_a_transaction_are_applied_in_one_batch(monkeypatch):
    """Fast UPDATEs hold their rows (fastpath.PendingEdits): no tree edit per statement,
    one batch apply when another statement needs the table, at most PENDING_ROWS held."""
    from arbordb.engine.table import Table

    con = fresh(learn=True, autocommit=False)
    applied: list[int] = []
    real_apply = Table.apply

    def counting_apply(self, upserts=None, deletes=None, **kw):
        applied.append(0 if upserts is None else upserts.num_rows)
        return real_apply(self, upserts, deletes, **kw)

    cur = con.cursor()
    cur.execute("SELECT label FROM t WHERE id = ?", [2])  # learned: fast from now on
    monkeypatch.setattr(Table, "apply", counting_apply)
    for key in (1, 2, 3, 2):
        cur.execute("UPDATE t SET label = ? WHERE id = ?", [f"n{key}", key])
    assert applied == []  # held, not applied
    assert cur.execute("SELECT label FROM t WHERE id = ?", [2]).fetchone() == ("n2",)
    assert applied == []  # a fast read answers the pending row
    rows = cur.execute("SELECT id, label FROM t WHERE id <= 3 ORDER BY id").fetchall()
    assert applied == [3]  # one batch, one row per key
    assert rows == [(0, "main"), (1, "n1"), (2, "n2"), (3, "n3")]
    cur.execute("UPDATE t SET label = ? WHERE id = ?", ["x", 4])
    con.rollback()
    assert applied == [3]  # a rollback drops them unapplied
    assert cur.execute("SELECT label FROM t WHERE id = 4").fetchone() == ("main",)
    monkeypatch.setattr(fastpath, "PENDING_ROWS", 2)
    for key in (5, 6, 7):
        cur.execute("UPDATE t SET label = ? WHERE id = ?", ["y", key])
    assert applied == [3, 2]
    con.commit()
    assert applied == [3, 2, 1]
    con.close()


def test_a_cached_point_select_runs_no_parser_compiler_or_duckdb(tmp_path, monkeypatch):
    """Once learned, ``SELECT * FROM t WHERE id = ?`` is answered by the table's prepared
    point reader: no parsing, no compiling, no DuckDB; a leaf read for the first time is
    read from its record's frames (at most one per buffer of one leaf), never rebuilt,
    and a leaf read before is not read from the store again."""
    from arbordb.engine.chunks import column_frames, lmdb_store, records
    from arbordb.sql.read import reads

    path = tmp_path / "r"
    with arbordb.connect(path) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)")
        rows = [(i, f"label_{i % 97:04d}", i / 8) for i in range(20_000)]
        cur.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    con = arbordb.connect(path)  # a new process's view: no leaf cached
    try:
        cur = con.cursor()
        select = "SELECT * FROM t WHERE id = ?"
        assert cur.execute(select, (5,)).fetchone() == rows[5]  # the general path: learned
        frames: list[int] = []
        real = column_frames.decompress_frame

        def counting(frame, length, address, offset):
            frames.append(length)
            return real(frame, length, address, offset)

        reads_of_store: list[bytes] = []
        real_read = lmdb_store.LmdbChunkStore.get_point_leaf

        def counting_read(self, address):
            reads_of_store.append(address)
            return real_read(self, address)

        monkeypatch.setattr(column_frames, "decompress_frame", counting)
        monkeypatch.setattr(records, "decode_column_record", None)  # never rebuilt
        monkeypatch.setattr(lmdb_store.LmdbChunkStore, "get_point_leaf", counting_read)
        monkeypatch.setattr(reads, "compile_query", None)
        monkeypatch.setattr(reads, "point_select", None)
        monkeypatch.setattr(con.session, "_prepare", None)
        monkeypatch.setattr(con.session, "duck", None)
        assert cur.execute(select, (19_000,)).fetchone() == rows[19_000]  # another leaf
        # one leaf, at most a frame per buffer: keys, label offsets and bytes, scores
        assert len(reads_of_store) == 1 and 0 < len(frames) <= 4
        frames.clear()
        reads_of_store.clear()
        for key in (19_001, 18_999, 19_000, 5):
            assert cur.execute(select, (key,)).fetchone() == rows[key]
        assert reads_of_store == [] and frames == []  # both leaves cached
        assert cur.execute(select, (20_000,)).fetchone() is None
        assert cur.description[0][0] == "id"
    finally:
        monkeypatch.undo()
        con.close()


def test_a_table_the_fast_select_cannot_read_stays_on_the_general_path(tmp_path):
    """A table whose columns the fast path does not read (a time-zoned timestamp) is
    resolved once and every execution takes the general path, with the same rows."""
    con = arbordb.connect(tmp_path / "r")
    try:
        cur = con.cursor()
        cur.execute("CREATE TABLE z (id BIGINT PRIMARY KEY, at TIMESTAMPTZ)")
        cur.execute("INSERT INTO z VALUES (1, TIMESTAMPTZ '2026-12-06 10:00:00+00')")
        select = "SELECT * FROM z WHERE id = ?"
        first = cur.execute(select, (1,)).fetchall()
        for _ in range(3):
            assert cur.execute(select, (1,)).fetchall() == first
        assert cur.execute(select, (2,)).fetchall() == []
    finally:
        con.close()
