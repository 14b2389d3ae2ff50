"""Fuzzing the SQL surface (issue 10 item 16): thousands of mutated statements in every
dialect. Each one either runs, or fails with one ``arbordb.Error`` that is not an
``InternalError``, whose message shows no internal name, rewritten SQL, sqlglot class
or Python exception, and which changed nothing (the repository's state before and
after is compared). Deep nesting that DuckDB runs runs here too.

The mutations are seeded (``random.Random``), so a failure names its statement and can
be replayed; ``FUZZ_STATEMENTS`` sets how many run in the test suite.
"""

from __future__ import annotations

import random
import re
import threading
import time

import pytest
from sqlglot.tokens import Tokenizer

import arbordb

from .conftest import state

FUZZ_STATEMENTS = 6_000  # across the four dialects
STATEMENT_SECONDS = 2.0  # a statement running longer is interrupted (a slow mutation)

SETUP = [
    "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR, n INT DEFAULT 3, d DOUBLE)",
    "CREATE TABLE k (a INT, b VARCHAR)",
    "INSERT INTO t VALUES (1, 'one', 1, 1.5), (2, 'two', 2, 2.5), (3, NULL, NULL, NULL)",
    "INSERT INTO k VALUES (1, 'x'), (1, 'x'), (2, NULL)",
    "CREATE VIEW vw AS SELECT id, v FROM t WHERE id > 1",
    "CALL dolt_commit('-Am', 'first')",
    "CALL dolt_branch('feature')",
    "CALL dolt_tag('v1')",
    "UPDATE t SET v = 'uno' WHERE id = 1",
    "CALL dolt_commit('-am', 'second')",
]

SEEDS = [
    "SELECT * FROM t",
    "SELECT id, v FROM t WHERE id = 1",
    "SELECT id, v FROM t WHERE id IN (1, 2) AND n > 0 ORDER BY id DESC LIMIT 2",
    "SELECT n, count(*) AS c, sum(d) FROM t GROUP BY n HAVING count(*) > 0",
    "SELECT t.id, k.b FROM t JOIN k ON t.id = k.a",
    "SELECT * FROM t LEFT JOIN k ON t.id = k.a WHERE k.b IS NULL",
    "SELECT * FROM t AS OF 'main' WHERE id BETWEEN 1 AND 2",
    "SELECT * FROM t AS OF 'HEAD~1'",
    "SELECT * FROM t AS OF 'v1' AS old JOIN t ON old.id = t.id",
    "SELECT id FROM (SELECT id, n FROM t WHERE n IS NOT NULL) AS s WHERE s.n < 5",
    "WITH c AS (SELECT id FROM t) SELECT count(*) FROM c",
    "SELECT id FROM t UNION ALL SELECT a FROM k",
    "SELECT CASE WHEN n > 1 THEN 'big' ELSE 'small' END FROM t",
    "SELECT coalesce(v, 'none'), upper(v), length(v) FROM t",
    "SELECT CAST(n AS VARCHAR), CAST(v AS INT) FROM t WHERE id = 2",
    "SELECT id / 2, id % 2, -id, d * 2 FROM t",
    "SELECT * FROM vw",
    "SELECT active_branch(), dolt_hashof('HEAD'), dolt_merge_base('main', 'feature')",
    "SELECT * FROM dolt_log",
    "SELECT * FROM dolt_branches",
    "SELECT * FROM dolt_status",
    "SELECT * FROM dolt_diff_t",
    "SELECT * FROM dolt_history_t WHERE id = 1",
    "SELECT * FROM dolt_diff('HEAD~1', 'WORKING', 't')",
    "SELECT * FROM dolt_diff_summary('main', 'feature')",
    "SELECT * FROM dolt_patch('HEAD~1', 'HEAD')",
    "SELECT * FROM dolt_log('main', '--not', 'feature')",
    "SELECT * FROM dolt_schema_diff('HEAD~1', 'HEAD')",
    "SELECT '__arbor_slot_0', '$__arbor_p0' FROM t WHERE v <> '__arbor_fn_0'",
    "INSERT INTO t VALUES (4, 'four', 4, 4.5)",
    "INSERT INTO t (id, v) VALUES (5, 'five'), (6, DEFAULT)",
    "INSERT INTO t SELECT id + 10, v, n, d FROM t",
    "INSERT INTO k VALUES (3, 'y')",
    "INSERT INTO t VALUES (1, 'dup', 1, 1.0) ON CONFLICT (id) DO UPDATE SET v = excluded.v",
    "UPDATE t SET n = n + 1, v = upper(v) WHERE id > 1",
    "UPDATE t SET d = NULL WHERE v LIKE 't%'",
    "UPDATE k SET b = 'z' WHERE a = 1",
    "DELETE FROM t WHERE id = 3",
    "DELETE FROM k WHERE b IS NULL",
    "CREATE TABLE u (x INT PRIMARY KEY, y VARCHAR NOT NULL, CHECK (x > 0))",
    "CREATE TABLE u2 AS SELECT id, v FROM t",
    "CREATE INDEX ix ON t (v)",
    "CREATE VIEW vw2 AS SELECT count(*) AS c FROM k",
    "ALTER TABLE t ADD COLUMN z INT DEFAULT 7",
    "ALTER TABLE t RENAME COLUMN v TO w",
    "ALTER TABLE k RENAME TO k2",
    "DROP TABLE k",
    "DROP VIEW vw",
    "TRUNCATE TABLE k",
    "CALL dolt_add('t')",
    "CALL dolt_commit('-am', 'fuzz')",
    "CALL dolt_checkout('feature')",
    "CALL dolt_branch('b2', 'HEAD~1')",
    "CALL dolt_merge('feature')",
    "CALL dolt_reset('--hard')",
    "CALL dolt_tag('t2', 'HEAD')",
    "CALL dolt_diff('main')",
    "DESCRIBE t",
    "SHOW TABLES",
    "EXPLAIN SELECT * FROM t",
]

POOL = [
    "(", ")", ",", ";", "*", "=", "<>", "+", "-", "/", "||", ".", "?", "$1", ":x",
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "NULL", "AS", "OF", "AS OF", "JOIN",
    "ON", "GROUP BY", "ORDER BY", "LIMIT", "UNION", "VALUES", "SET", "INTO", "TABLE",
    "DEFAULT", "CALL", "CASE", "WHEN", "END", "IN", "IS", "BETWEEN", "LIKE", "EXISTS",
    "DISTINCT", "WITH", "OVER", "PARTITION BY", "CAST", "INTERVAL", "TIMESTAMP",
    "t", "k", "vw", "id", "v", "n", "d", "a", "b", "x", "dolt_log", "dolt_diff_t",
    "dolt_conflicts_t", "dolt_history_k", "dolt_status", "__arbor_t_00", "__arbor_tmp_0",
    "__arbor_slot_0", "__arbor_fn_0", "dolt_diff", "dolt_hashof", "active_branch()",
    "0", "1", "-1", "9223372036854775808", "1e308", "0.5", "'x'", "''", "'main'",
    "'HEAD~99'", "'WORKING'", "'STAGED'", "'feature'", "'nope'", "'2020-01-01'",
    "'__arbor_slot_0'", "'$__arbor_p0'", "TRUE", "NULL", "X'00'", "[1, 2]", "{'a': 1}",
    "'-am'", "'--hard'", "'-b'", "'-d'", "'--abort'", "'--theirs'",
]  # fmt: skip

_LEAKS = re.compile(
    r"\$?__arbor\w*|sqlglot|Traceback|<Token|LINE \d+:|\bexp\.|NoneType|object has no attribute|"
    r"\b(KeyError|IndexError|AttributeError|TypeError|AssertionError|RecursionError)\b|"
    r"\b(Anonymous|Identifier|Placeholder|TableHole|FunctionHole|ProcedureCall)\b"
)


def mutate(statement: str, rng: random.Random) -> str:
    """One to three token-level mutations of ``statement`` (tokens keep their text)."""
    try:
        tokens = Tokenizer().tokenize(statement)
        pieces = [statement[tok.start : tok.end + 1] for tok in tokens]
    except Exception:  # a seed the generic tokenizer does not read: words will do
        pieces = statement.split()
    for _ in range(rng.randint(1, 3)):
        if not pieces:
            pieces = [rng.choice(POOL)]
        i = rng.randrange(len(pieces))
        kind = rng.randrange(7)
        if kind == 0:
            del pieces[i]
        elif kind == 1:
            pieces.insert(i, pieces[i])
        elif kind == 2 and len(pieces) > 1:
            j = rng.randrange(len(pieces))
            pieces[i], pieces[j] = pieces[j], pieces[i]
        elif kind == 3:
            pieces[i] = rng.choice(POOL)
        elif kind == 4:
            pieces.insert(i, rng.choice(POOL))
        elif kind == 5:
            pieces = pieces[: i + 1]
        else:
            j = rng.randrange(i, len(pieces))
            pieces[i : j + 1] = ["(", *pieces[i : j + 1], ")"]
    return " ".join(pieces)


class _Watchdog:
    """Interrupts a statement that runs longer than STATEMENT_SECONDS."""

    def __init__(self, con) -> None:
        self.con = con
        self.deadline: float | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.05):
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.deadline = None
                self.con.interrupt()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def _check_error(error: BaseException, statement: str) -> None:
    where = f"statement {statement!r}"
    assert isinstance(error, arbordb.Error), f"{where} raised {type(error).__name__}: {error}"
    assert not isinstance(error, arbordb.InternalError), f"{where}: {error}"
    message = str(error)
    assert message.strip(), f"{where} raised {type(error).__name__} without a message"
    for leak in _LEAKS.finditer(message):  # the user's own words may be quoted
        text = leak.group(0)
        if text in statement or ("__arbor" in statement and "?" not in statement):
            continue  # quoted from the statement (adjacent literals are joined: 'a' 'b')
        raise AssertionError(f"{where}: message shows {text!r}: {message}")


def _fuzz(path, dialect: str, count: int, seed: int) -> int:
    """Run ``count`` mutated statements; returns how many failed (cleanly)."""
    con = arbordb.connect(path, dialect=dialect)
    for sql in SETUP:
        con.execute(sql)
    con.commit()
    cur = con.cursor()
    dog = _Watchdog(con)
    rng = random.Random(seed)
    failed = 0
    try:
        for _ in range(count):
            statement = mutate(rng.choice(SEEDS), rng)
            before = state(con)
            dog.deadline = time.monotonic() + STATEMENT_SECONDS
            try:
                cur.execute(statement)
                if cur.description is not None:
                    cur.fetchmany(100)
            except BaseException as error:
                failed += 1
                _check_error(error, statement)
                if ";" not in statement:  # the statements before a failing one stay done
                    assert state(con) == before, f"failed statement {statement!r} changed state"
            finally:
                dog.deadline = None
            con.rollback()  # keep the repository small: undo what the statement did
    finally:
        dog.close()
        con.close()
    return failed


@pytest.mark.parametrize("dialect", ["duckdb", "mysql", "postgres", "sqlite"])
def test_mutated_statements_fail_cleanly_and_change_nothing(tmp_path, dialect):
    seed = {"duckdb": 1, "mysql": 2, "postgres": 3, "sqlite": 4}[dialect]
    count = FUZZ_STATEMENTS // 4
    failed = _fuzz(str(tmp_path / "repo"), dialect, count, seed)
    assert 0 < failed < count  # the mutations reach both outcomes


@pytest.mark.parametrize("depth", [50, 200, 400])
def test_deep_nesting_that_duckdb_runs_runs(cur, depth):
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)")
    cur.execute("INSERT INTO t VALUES (1)")
    assert cur.execute("SELECT " + "(" * depth + "1" + ")" * depth).fetchall() == [(1,)]
    nested = "SELECT * FROM " + "(SELECT * FROM " * depth + "t" + ") AS x" * depth
    assert cur.execute(nested).fetchall() == [(1,)]
    where = "SELECT id FROM t WHERE " + "(" * depth + "id = 1" + ")" * depth
    assert cur.execute(where).fetchall() == [(1,)]
    scalar = "SELECT " + "(SELECT " * 100 + "1" + ")" * 100  # DuckDB's limit is near 150
    assert cur.execute(scalar).fetchall() == [(1,)]
