"""DDL a Dolt user types from MySQL: CREATE TABLE ... LIKE (both spellings), indexes
declared inside CREATE TABLE (INDEX/KEY, UNIQUE INDEX with its name), and SHOW CREATE
TABLE in the mysql dialect."""

from __future__ import annotations

import pytest

import arbordb

from .conftest import rows, state


@pytest.fixture
def labels(cur):
    cur.execute(
        "CREATE TABLE Labels (id INT PRIMARY KEY, label VARCHAR NOT NULL, score DOUBLE, "
        "CHECK (score >= 0), CONSTRAINT small CHECK (id < 1000), UNIQUE INDEX by_label (label), "
        "INDEX by_score (score))"
    )
    cur.execute("INSERT INTO labels VALUES (1, 'cat', 0.5), (2, 'dog', 0.7)")
    return cur


def _indexes(cur, table: str) -> list[tuple[str, tuple[str, ...], bool]]:
    schema = cur.connection.session.workspace.table(table).schema
    return [(i.name, i.columns, i.unique) for i in schema.indexes]


def _checks(cur, table: str) -> list[tuple[str, str]]:
    schema = cur.connection.session.workspace.table(table).schema
    return [(c.name, c.expression) for c in schema.checks]


@pytest.mark.parametrize(
    "spelling", ["CREATE TABLE twin LIKE labels", "CREATE TABLE twin (LIKE Labels)"]
)
def test_create_table_like_copies_the_definition_not_the_rows(labels, spelling):
    labels.execute(spelling)
    assert rows(labels, "SELECT count(*) FROM twin") == [(0,)]
    assert _indexes(labels, "twin") == _indexes(labels, "labels")
    assert _checks(labels, "twin") == [("small", "id < 1000"), ("twin_chk_1", "score >= 0")]
    described = rows(labels, "DESCRIBE twin")
    assert [r[:2] for r in described] == [r[:2] for r in rows(labels, "DESCRIBE labels")]
    labels.execute("INSERT INTO twin VALUES (1, 'cat', 0.5)")
    with pytest.raises(arbordb.IntegrityError, match="by_label"):
        labels.execute("INSERT INTO twin VALUES (2, 'cat', 0.5)")
    with pytest.raises(arbordb.IntegrityError, match="twin_chk_1"):
        labels.execute("INSERT INTO twin VALUES (3, 'owl', -1)")
    with pytest.raises(arbordb.IntegrityError, match="duplicate|already"):
        labels.execute("INSERT INTO twin VALUES (1, 'owl', 1)")
    labels.execute("CREATE TABLE IF NOT EXISTS twin LIKE labels")  # exists: nothing happens
    assert rows(labels, "SELECT * FROM twin") == [(1, "cat", 0.5)]


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        ("CREATE TABLE twin LIKE nosuch", "ProgrammingError", "table 'nosuch' not found"),
        ("CREATE TABLE twin LIKE shown", "NotSupportedError", "'shown' is a view"),
        ("CREATE TABLE twin (LIKE labels, extra INT)", "NotSupportedError", "cannot also"),
        ("CREATE TABLE labels LIKE labels", "ProgrammingError", "already exists"),
    ],
)
def test_create_table_like_refusals_change_nothing(con, labels, sql, error, message):
    labels.execute("CREATE VIEW shown AS SELECT id FROM labels")
    before = state(con)
    with pytest.raises(getattr(arbordb, error), match=message) as refused:
        labels.execute(sql)
    assert "LIMIT 0" not in str(refused.value) and "invariant" not in str(refused.value)
    assert state(con) == before


@pytest.mark.parametrize("dialect", ["duckdb", "mysql"])
def test_indexes_declared_inside_create_table(tmp_path, dialect):
    with arbordb.connect(str(tmp_path / "repo"), dialect=dialect) as con:
        cur = con.cursor()
        cur.execute(
            "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, c INT, UNIQUE INDEX ua (a), "
            "INDEX ib (b, c), KEY (c), UNIQUE KEY uk (b))"
        )
        assert sorted(_indexes(cur, "t")) == [
            ("c", ("c",), False),
            ("ib", ("b", "c"), False),
            ("ua", ("a",), True),
            ("uk", ("b",), True),
        ]
        cur.execute("INSERT INTO t VALUES (1, 1, 1, 1)")
        with pytest.raises(arbordb.IntegrityError, match="ua"):
            cur.execute("INSERT INTO t VALUES (2, 1, 2, 2)")
        with pytest.raises(arbordb.ProgrammingError, match="'nope'"):
            cur.execute("CREATE TABLE u (id INT PRIMARY KEY, INDEX i (nope))")


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "sqlite"])
def test_columns_named_key_and_index_stay_columns(tmp_path, dialect):
    with arbordb.connect(str(tmp_path / "repo"), dialect=dialect) as con:
        cur = con.cursor()
        cur.execute(
            "CREATE TABLE kv (key VARCHAR(10) PRIMARY KEY, index INTEGER, value TEXT, "
            "INDEX by_index (index))"
        )
        cur.execute("INSERT INTO kv VALUES ('a', 1, 'x')")
        assert rows(cur, "SELECT * FROM kv") == [("a", 1, "x")]
        assert _indexes(cur, "kv") == [("by_index", ("index",), False)]


def test_show_create_table_in_the_mysql_dialect(tmp_path):
    with arbordb.connect(str(tmp_path / "repo"), dialect="mysql") as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, label TEXT, KEY by_label (label))")
        ((name, text),) = rows(cur, "SHOW CREATE TABLE t")
        assert name == "t" and "PRIMARY KEY" in text and '"by_label"' in text
        with pytest.raises(arbordb.ProgrammingError, match="table 'nope' not found"):
            cur.execute("SHOW CREATE TABLE nope")
