"""Kept tables (sql/read/kept.py): a whole table scanned a second time is copied into
DuckDB, later scans read the copy and decode no leaf, a changed table is read afresh,
and the copies and the column cache together stay within ``cache_bytes``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.engine.tree import stream

from .conftest import rows

N = 30_000
GROUP = "SELECT label, count(*), sum(score) FROM t GROUP BY label ORDER BY label"


def _data(n: int = N) -> pa.Table:
    ids = np.arange(n)
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "label": pa.array([f"label_{i % 37}" for i in range(n)], pa.string()),
            "score": pa.array((ids % 100) / 4.0, pa.float64()),
        }
    )


def _expected(data: pa.Table) -> list[tuple]:
    import duckdb

    plain = duckdb.connect()
    plain.register("t", data)
    return plain.execute(GROUP).fetchall()


@pytest.fixture
def repo_path(tmp_path):
    path = str(tmp_path / "repo")
    with arbordb.Repo(path) as repo:
        repo.write("t", _data(), primary_key=["id"])
        repo.commit("rows")
    return path


@pytest.fixture
def decoded(monkeypatch):
    """The number of leaves decoded so far (a list, appended to per decode)."""
    seen: list[int] = []
    original = stream.NodeStore.decode_some

    def spy(self, addresses, chunks, types, wanted, keys):
        seen.append(len(addresses))
        return original(self, addresses, chunks, types, wanted, keys)

    monkeypatch.setattr(stream.NodeStore, "decode_some", spy)
    return seen


def test_the_third_scan_of_a_table_decodes_no_leaf(repo_path, decoded):
    expected = _expected(_data())
    with arbordb.connect(repo_path) as con:
        cur = con.cursor()
        kept = con.session.relations.kept
        assert rows(cur, GROUP) == expected
        first = sum(decoded)
        assert first > 0 and kept.copies == 0  # a first scan keeps nothing
        assert len(con.session.relations.cache) == 0
        assert rows(cur, GROUP) == expected  # the second scan copies the table
        assert kept.copies == 1 and 0 < kept.kept_bytes <= con.session.relations.cache_bytes
        decoded.clear()
        for _ in range(2):
            assert rows(cur, GROUP) == expected
        assert decoded == [] and kept.copies == 1
        # another set of columns is another relation, scanned afresh
        assert rows(cur, "SELECT max(score) FROM t") == [(24.75,)]
        assert sum(decoded) == first


def test_a_changed_table_is_not_read_from_its_old_copy(repo_path):
    data = _data()
    with arbordb.connect(repo_path) as con:
        cur = con.cursor()
        for _ in range(3):
            assert rows(cur, GROUP) == _expected(data)
        assert con.session.relations.kept.copies == 1
        cur.execute("UPDATE t SET label = 'new', score = 1000 WHERE id < 5")
        changed = data.set_column(1, "label", pa.array(["new"] * 5 + data["label"].to_pylist()[5:]))
        changed = changed.set_column(
            2, "score", pa.array([1000.0] * 5 + data["score"].to_pylist()[5:])
        )
        for _ in range(3):
            assert rows(cur, GROUP) == _expected(changed)
        # AS OF the first commit still reads the first rows (its copy, at its address)
        assert rows(cur, GROUP.replace("FROM t", "FROM t AS OF 'HEAD'")) == _expected(data)


def test_copies_and_the_column_cache_share_the_budget(tmp_path):
    budget = 1280 << 10  # two copies of 512 KiB (two DuckDB blocks each)
    path = str(tmp_path / "repo")
    with arbordb.Repo(path) as repo:
        for name in ("a", "b", "c", "d"):
            repo.write(name, _data(60_000), primary_key=["id"])
        repo.commit("tables")
    with arbordb.connect(path, cache_bytes=budget) as con:
        cur = con.cursor()
        relations = con.session.relations
        for name in ("a", "b", "c", "d", "a", "b", "c", "d"):
            for _ in range(2):
                got = rows(cur, f"SELECT count(*), sum(score) FROM {name}")
                assert got == [(60_000, float(sum((i % 100) / 4.0 for i in range(60_000))))]
                got = rows(cur, f"SELECT count(*) FROM {name} WHERE id >= 100")
                assert got == [(59_900,)]
                kept = relations.kept.kept_bytes
                assert kept <= budget
                assert relations.cache.budget == budget - kept
                assert relations.cache.bytes <= budget - kept
        assert relations.kept.copies > len("abcd")  # some were evicted and copied again


def test_a_table_larger_than_the_budget_is_streamed_and_never_copied_again(repo_path, monkeypatch):
    from arbordb.sql.read.kept import KeptTables

    tries: list[int] = []
    original = KeptTables.keep

    def counted(self, *args, **kwargs):
        tries.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(KeptTables, "keep", counted)
    expected = _expected(_data())
    with arbordb.connect(repo_path, cache_bytes=64 << 10) as con:
        cur = con.cursor()
        relations = con.session.relations
        for _ in range(5):
            assert rows(cur, GROUP) == expected
            assert relations.kept.kept_bytes == 0 and relations.kept.copies == 0
            assert relations.cache.bytes == 0  # whole-table scans keep no columns either
    assert len(tries) == 1  # the second scan tried; the copy passed the budget


@settings(max_examples=8, deadline=None)
@given(
    n=st.integers(0, 6_000),
    first=st.integers(1, 3_000),
    most=st.integers(1, 5_000),
    piece_bytes=st.sampled_from([1, 10_000, 1 << 20]),
)
def test_a_copy_made_of_many_pieces_holds_exactly_the_rows(
    tmp_path_factory, n, first, most, piece_bytes
):
    """Pieces are runs of splits joined end to end (kept.py policy (2)): whatever the
    piece sizes, the copy holds every row once, in key order."""
    from arbordb.sql.read import kept

    data = _data(n)
    path = str(tmp_path_factory.mktemp("pieces") / "repo")
    with arbordb.Repo(path) as repo:
        repo.write("t", data, primary_key=["id"])
        repo.commit("rows")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kept, "FIRST_PIECE_ROWS", first)
        patch.setattr(kept, "MAX_PIECE_ROWS", most)
        patch.setattr(kept, "PIECE_BYTES", piece_bytes)
        with arbordb.connect(path) as con:
            cur = con.cursor()
            sql = "SELECT id, label, score FROM t"
            for _ in range(3):
                got = cur.execute(sql).fetch_arrow()
                assert got.sort_by("id").equals(data)
            assert con.session.relations.kept.copies == 1
            # in key order, as a stream gives them
            assert cur.execute(sql).fetch_arrow().column("id").to_pylist() == list(range(n))


def test_a_limit_that_stops_early_never_leads_to_a_copy(repo_path, decoded):
    with arbordb.connect(repo_path) as con:
        cur = con.cursor()
        kept = con.session.relations.kept
        for _ in range(3):
            decoded.clear()
            assert rows(cur, "SELECT * FROM t LIMIT 3") == [
                (0, "label_0", 0.0),
                (1, "label_1", 0.25),
                (2, "label_2", 0.5),
            ]
            assert kept.copies == 0 and sum(decoded) < N // 4  # a few leaves, each time
        for _ in range(2):
            assert rows(cur, "SELECT count(*) FROM (SELECT * FROM t)") == [(N,)]
        assert kept.copies == 1  # read whole twice: copied
