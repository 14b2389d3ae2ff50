"""Differential test: the same random tables in ArborDB and in plain DuckDB, the same
random SELECTs (filters, key lookups and ranges, aggregates, joins, subqueries, set
operations), identical results (STYLE G10's oracle)."""

from __future__ import annotations

import random

import duckdb
import pytest

import arbordb

TABLES = 3
ROWS = 120
QUERIES = 150
SEED = 20260301

SCHEMA = "(id BIGINT PRIMARY KEY, a INTEGER, b DOUBLE, s VARCHAR, k INTEGER)"


def _value(rng: random.Random, kind: str) -> object:
    if rng.random() < 0.15:
        return None
    if kind == "a":
        return rng.randint(-20, 20)
    if kind == "b":
        return round(rng.uniform(-100, 100), 2)
    if kind == "s":
        return rng.choice(["red", "green", "blue", "", "Red", "x y"])
    return rng.randint(0, 5)


def _rows(rng: random.Random) -> list[tuple]:
    ids = rng.sample(range(1, ROWS * 4), ROWS)
    return [
        (i, _value(rng, "a"), _value(rng, "b"), _value(rng, "s"), _value(rng, "k")) for i in ids
    ]


def _predicate(rng: random.Random, alias: str = "") -> str:
    p = f"{alias}." if alias else ""
    choices = [
        f"{p}id = {rng.randint(1, ROWS * 4)}",
        f"{p}id IN ({', '.join(str(rng.randint(1, ROWS * 4)) for _ in range(rng.randint(1, 6)))})",
        f"{p}id BETWEEN {rng.randint(1, 200)} AND {rng.randint(200, 480)}",
        f"{p}id > {rng.randint(1, 480)}",
        f"{p}id <= {rng.randint(1, 480)}",
        f"{p}a > {rng.randint(-20, 20)}",
        f"{p}a IS NULL",
        f"{p}b < {rng.uniform(-100, 100):.1f}",
        f"{p}s = '{rng.choice(['red', 'green', 'blue'])}'",
        f"{p}s LIKE '%e%'",
        f"({p}a + {p}k) % 3 = 0",
        f"{p}k IN (1, 2)",
        f"NOT ({p}a BETWEEN -5 AND 5)",
    ]
    parts = rng.sample(choices, rng.randint(1, 3))
    return (
        f" {rng.choice(['AND', 'OR'])} ".join(parts)
        if len(parts) > 1 and rng.random() < 0.3
        else " AND ".join(parts)
    )


def _query(rng: random.Random) -> str:
    t = f"t{rng.randrange(TABLES)}"
    u = f"t{rng.randrange(TABLES)}"
    shapes = [
        lambda: f"SELECT * FROM {t} WHERE {_predicate(rng)}",
        lambda: f"SELECT id, a * 2 + k, upper(s) FROM {t} WHERE {_predicate(rng)}",
        lambda: (
            f"SELECT k, count(*), sum(a), min(b), max(s) FROM {t} "
            f"WHERE {_predicate(rng)} GROUP BY k"
        ),
        lambda: f"SELECT s, count(DISTINCT a), avg(b) FROM {t} GROUP BY s HAVING count(*) > 2",
        lambda: (
            f"SELECT x.id, y.id, x.s FROM {t} x JOIN {u} y ON x.k = y.k "
            f"WHERE {_predicate(rng, 'x')} AND {_predicate(rng, 'y')}"
        ),
        lambda: (
            f"SELECT x.id, y.a FROM {t} x LEFT JOIN {u} y ON x.id = y.id "
            f"WHERE {_predicate(rng, 'x')}"
        ),
        lambda: f"SELECT id FROM {t} WHERE a IN (SELECT a FROM {u} WHERE {_predicate(rng)})",
        lambda: (
            f"SELECT id, (SELECT count(*) FROM {u} z WHERE z.k = {t}.k) FROM {t} "
            f"WHERE {_predicate(rng)}"
        ),
        lambda: (
            f"SELECT a FROM {t} WHERE {_predicate(rng)} "
            f"UNION SELECT a FROM {u} WHERE {_predicate(rng)}"
        ),
        lambda: f"SELECT k FROM {t} EXCEPT SELECT k FROM {u} WHERE {_predicate(rng)}",
        lambda: (
            f"WITH c AS (SELECT k, sum(b) AS total FROM {t} GROUP BY k) "
            "SELECT * FROM c WHERE total > 0"
        ),
        lambda: (
            f"SELECT id, row_number() OVER (PARTITION BY k ORDER BY id) FROM {t} "
            f"WHERE {_predicate(rng)}"
        ),
        lambda: f"SELECT * FROM {t} WHERE {_predicate(rng)} ORDER BY id DESC LIMIT 7",
    ]
    return rng.choice(shapes)()


def _canonical(rows: list[tuple]) -> list[tuple]:
    def key(row):
        return tuple((v is None, type(v).__name__, v if v is not None else 0) for v in row)

    return sorted(
        (tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in rows), key=key
    )


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    rng = random.Random(SEED)
    con = arbordb.connect(str(tmp_path_factory.mktemp("differential") / "repo"))
    duck = duckdb.connect(":memory:")
    cur = con.cursor()
    for i in range(TABLES):
        data = _rows(rng)
        cur.execute(f"CREATE TABLE t{i} {SCHEMA}")
        cur.executemany(f"INSERT INTO t{i} VALUES (?, ?, ?, ?, ?)", data)
        duck.execute(f"CREATE TABLE t{i} {SCHEMA}")
        duck.executemany(f"INSERT INTO t{i} VALUES (?, ?, ?, ?, ?)", data)
    con.commit()
    cur.execute("CALL dolt_commit('-Am', 'random tables')")
    yield cur, duck, rng
    con.close()
    duck.close()


def test_random_selects_match_duckdb(engines):
    cur, duck, rng = engines
    for _ in range(QUERIES):
        sql = _query(rng)
        expected = _canonical(duck.execute(sql).fetchall())
        assert _canonical(cur.execute(sql).fetchall()) == expected, sql
        as_of = sql.replace(" FROM t0", " FROM t0 AS OF 'HEAD'")
        assert _canonical(cur.execute(as_of).fetchall()) == expected, as_of


def test_random_point_lookups_match_duckdb(engines):
    cur, duck, rng = engines
    for _ in range(100):
        table, key = f"t{rng.randrange(TABLES)}", rng.randint(1, ROWS * 4)
        sql = f"SELECT * FROM {table} WHERE id = ?"
        assert cur.execute(sql, [key]).fetchall() == duck.execute(sql, [key]).fetchall()
