"""Queries of one system table answered without DuckDB (sql/read/system_select.py):
the same rows, names and types as the DuckDB path, for every system table it covers,
and the mechanisms that make Dolt's systab workload cheap (no relation registered
with DuckDB, no walk of the history for a pinned commit)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.engine.history import graph
from arbordb.sql.read import system_select

TABLES = [
    "dolt_log",
    "dolt_commits",
    "dolt_commit_ancestors",
    "dolt_diff",
    "dolt_diff_t",
    "dolt_history_t",
    "dolt_branches",
    "dolt_tags",
    "dolt_status",
]
SUBQUERY = "(SELECT commit_hash FROM dolt_log LIMIT 1 OFFSET {n})"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """Commits on main and on a branch, a merge of the two, a tag, working changes."""
    con = arbordb.connect(tmp_path_factory.mktemp("systab") / "r", autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR, n DOUBLE)")
    for i in range(4):
        cur.execute("INSERT INTO t VALUES (?, ?, ?)", [i, f"v{i}", None if i % 2 else i / 2])
        cur.execute("CALL dolt_commit('-Am', ?)", [f"c{i}"])
    cur.execute("CALL dolt_branch('feature')")
    cur.execute("CALL dolt_tag('v1')")
    cur.execute("CALL dolt_checkout('feature')")
    cur.execute("UPDATE t SET v = 'feature' WHERE id = 1")
    cur.execute("CALL dolt_commit('-am', 'on feature')")
    cur.execute("CALL dolt_checkout('main')")
    cur.execute("DELETE FROM t WHERE id = 3")
    cur.execute("CALL dolt_commit('-am', 'on main')")
    cur.execute("CALL dolt_merge('feature')")
    cur.execute("INSERT INTO t VALUES (9, 'working', 1.5)")  # not committed: WORKING rows
    yield con
    con.close()


def _duck(cur, sql: str, params: list) -> tuple[list, list]:
    """The query's (description, rows) through DuckDB (the general path)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(system_select, "answer", lambda *_: None)
        cur.execute(sql, params)
        return [d[:2] for d in cur.description], cur.fetchall()


def _direct(cur, sql: str, params: list) -> tuple[list, list, bool]:
    """The query's (description, rows) and whether the path without DuckDB answered."""
    answered = []
    real = system_select.answer

    def spy(*args):
        found = real(*args)
        answered.append(found is not None)
        return found

    with pytest.MonkeyPatch.context() as m:
        m.setattr(system_select, "answer", spy)
        cur.execute(sql, params)
        return [d[:2] for d in cur.description], cur.fetchall(), any(answered)


def _rows_of(cur, table: str) -> tuple[list[str], list[tuple]]:
    rows = _duck(cur, f"SELECT * FROM {table}", [])
    return [d[0] for d in rows[0]], rows[1]


@st.composite
def queries(draw, cur):
    """A query of the shape system_select answers, over one system table, with the
    values its filters compare drawn from the table itself."""
    table = draw(st.sampled_from(TABLES))
    columns, rows = _rows_of(cur, table)
    params: list = []
    where = []
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.sampled_from(range(len(columns))))
        pool = [r[i] for r in rows if r[i] is not None]
        if not pool:
            continue
        column = columns[i]
        op = draw(st.sampled_from(["=", "IN", "<", ">=", "BETWEEN", "sub"]))
        if op == "sub" and column in ("commit_hash", "to_commit", "from_commit"):
            where.append(f"{column} = " + SUBQUERY.format(n=draw(st.integers(0, 8))))
            continue
        values = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=3))

        def spell(value):  # a float literal is DECIMAL to DuckDB: it takes the general path
            if isinstance(value, datetime.datetime | float) or draw(st.booleans()):
                params.append(value)
                return "?"
            if isinstance(value, str):
                return "'" + value.replace("'", "''") + "'"
            return repr(value).lower() if isinstance(value, bool) else repr(value)

        if op == "IN":
            where.append(f"{column} IN ({', '.join(spell(v) for v in values)})")
        elif op == "BETWEEN":
            low, high = values[:2]
            where.append(f"{column} BETWEEN {spell(low)} AND {spell(high)}")
        else:
            where.append(f"{column} {'=' if op == 'sub' else op} {spell(values[0])}")
    shape = draw(st.sampled_from(["star", "columns", "count"]))
    if shape == "star":
        select = "*"
    elif shape == "count":
        select = draw(st.sampled_from(["count(*)", "count(*) AS n"]))
    else:
        picked = draw(st.lists(st.sampled_from(columns), min_size=1, max_size=3, unique=True))
        select = ", ".join(f"{c} AS a_{c}" if draw(st.booleans()) else c for c in picked)
    sql = f"SELECT {select} FROM {table}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if shape != "count" and draw(st.booleans()):  # every column: a total order
        keys = draw(st.permutations(columns))
        directions = [draw(st.sampled_from(["ASC", "DESC"])) for _ in keys]
        sql += " ORDER BY " + ", ".join(f"{k} {d}" for k, d in zip(keys, directions, strict=True))
    limited = draw(st.booleans())
    if limited:
        sql += f" LIMIT {draw(st.integers(0, 4))}"
        if draw(st.booleans()):
            sql += f" OFFSET {draw(st.integers(0, 3))}"
    # DuckDB decides the order of NULL sort keys, and streams a whole dolt_history_t
    answered = "ORDER BY" not in sql and (table != "dolt_history_t" or limited or shape == "count")
    return sql, params, answered


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_answers_equal_the_duckdb_path(repo, data):
    cur = repo.cursor()
    sql, params, covered = data.draw(queries(cur))
    expected = _duck(cur, sql, params)
    names, rows, answered = _direct(cur, sql, params)
    assert (names, rows) == expected, sql
    assert answered or not covered, sql


@pytest.mark.parametrize("table", TABLES)
def test_every_covered_table_is_answered_without_duckdb(repo, table, monkeypatch):
    """No relation is registered with DuckDB, and the answer equals DuckDB's."""
    cur = repo.cursor()
    sql = f"SELECT * FROM {table} LIMIT 3"
    expected = _duck(cur, sql, [])

    def refuse(*_args, **_kwargs):
        raise AssertionError("a relation was registered with DuckDB")

    monkeypatch.setattr(repo.session.relations, "scratch", refuse)
    cur.execute(sql)
    assert ([d[:2] for d in cur.description], cur.fetchall()) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM dolt_log l JOIN dolt_commits c ON l.commit_hash = c.commit_hash",
        "SELECT commit_hash, count(*) FROM dolt_diff GROUP BY commit_hash",
        "SELECT * FROM dolt_log WHERE message LIKE 'c%'",
        "SELECT * FROM dolt_log WHERE date > '2000-01-01'",  # DuckDB casts the text
        "SELECT upper(message) FROM dolt_log",
        "SELECT * FROM dolt_log WHERE commit_hash = (SELECT max(commit_hash) FROM dolt_log)",
    ],
)
def test_other_shapes_take_the_duckdb_path(repo, sql):
    cur = repo.cursor()
    names, rows = _duck(cur, sql, [])
    got_names, got_rows, answered = _direct(cur, sql, [])
    assert not answered and got_names == names
    assert sorted(got_rows, key=repr) == sorted(rows, key=repr)  # GROUP BY: any order


def test_an_empty_select_list_takes_the_duckdb_path(repo):
    cur = repo.cursor()
    outcomes = []
    for run in (_duck, lambda c, q, p: _direct(c, q, p)[:2]):
        try:
            outcomes.append(run(cur, "SELECT FROM dolt_diff_summary('main', 'feature')", []))
        except arbordb.Error as error:
            assert not isinstance(error, arbordb.InternalError)
            outcomes.append(type(error))
    assert outcomes[0] == outcomes[1]


def test_a_user_table_or_view_named_like_a_system_table_is_not_answered(repo):
    cur = repo.cursor()
    cur.execute("CREATE TEMPORARY VIEW dolt_log AS SELECT 1 AS one")
    try:
        names, rows, answered = _direct(cur, "SELECT * FROM dolt_log", [])
        assert not answered and rows == [(1,)]
    finally:
        cur.execute("DROP VIEW dolt_log")


SYSTAB = [  # Dolt's systab workload
    "SELECT count(*) FROM dolt_history_t WHERE commit_hash = {sub}",
    "SELECT * FROM dolt_diff_t WHERE to_commit = {sub}",
    "SELECT * FROM dolt_diff WHERE commit_hash = {sub}",
    "SELECT * FROM dolt_log WHERE commit_hash = {sub}",
    "SELECT * FROM dolt_commits WHERE commit_hash = {sub}",
    "SELECT * FROM dolt_commit_ancestors WHERE commit_hash = {sub}",
]


@pytest.mark.parametrize("query", SYSTAB)
def test_a_pinned_commit_is_found_without_walking_the_history(repo, monkeypatch, query):
    """Once HEAD's history index is built, a query filtered by one commit reads that
    commit through the index: no walk of the history (``ancestors``) runs."""
    cur = repo.cursor()
    sql = query.format(sub=SUBQUERY.format(n=3))
    expected = _duck(cur, sql, [])
    cur.execute(sql)  # builds the indexes
    walks = []
    real = graph.ancestors

    def counted(*args, **kwargs):
        walks.append(args)
        return real(*args, **kwargs)

    for module in ("arbordb.sql.system.history", "arbordb.sql.system.log"):
        monkeypatch.setattr(f"{module}.ancestors", counted)
    monkeypatch.setattr(graph, "ancestors", counted)
    names, rows, answered = _direct(cur, sql, [])
    assert answered and (names, rows) == expected and rows
    assert walks == []


def test_what_a_commit_changed_is_computed_once(repo, monkeypatch):
    """dolt_diff remembers each commit's changed tables by its roots' addresses: a
    second read of the same commits diffs no roots."""
    from arbordb.sql.system import history

    cur = repo.cursor()
    sql = "SELECT * FROM dolt_diff WHERE commit_hash = " + SUBQUERY.format(n=2)
    cur.execute(sql)
    first = cur.fetchall()
    calls = []
    real = history.table_deltas
    monkeypatch.setattr(history, "table_deltas", lambda *a: calls.append(a) or real(*a))
    cur.execute(sql)
    assert cur.fetchall() == first and first and calls == []


def test_counting_history_rows_decodes_no_version(repo, monkeypatch):
    """count(*) over dolt_history_t reads no table column: each version is counted
    (Table.count) instead of decoded."""
    from arbordb.sql.system import history

    cur = repo.cursor()
    queries = [
        "SELECT count(*) FROM dolt_history_t",
        "SELECT count(*) FROM dolt_history_t WHERE commit_hash = " + SUBQUERY.format(n=1),
        "SELECT commit_hash, committer FROM dolt_history_t LIMIT 4",
    ]
    expected = [_duck(cur, sql, []) for sql in queries]

    def refuse(*_args):
        raise AssertionError("a version was decoded")

    monkeypatch.setattr(history, "_aligned", refuse)
    for sql, wanted in zip(queries, expected, strict=True):
        names, rows, answered = _direct(cur, sql, [])
        assert answered and (names, rows) == wanted and rows


def test_columns_duckdb_hands_over_differently_take_the_duckdb_path(tmp_path):
    con = arbordb.connect(tmp_path / "r", autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE u (id BIGINT PRIMARY KEY, at TIMESTAMPTZ)")
    cur.execute("INSERT INTO u VALUES (1, TIMESTAMPTZ '2024-01-02 03:04:05+00')")
    cur.execute("CALL dolt_commit('-Am', 'u')")
    for sql in ["SELECT * FROM dolt_history_u LIMIT 5", "SELECT to_at FROM dolt_diff_u"]:
        expected = _duck(cur, sql, [])
        names, rows, answered = _direct(cur, sql, [])
        assert not answered and (names, rows) == expected and rows
    names, rows, answered = _direct(cur, "SELECT id FROM dolt_history_u LIMIT 5", [])
    assert answered and rows == [(1,)]
    con.close()
