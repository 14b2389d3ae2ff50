"""UNIQUE violations a merge records (engine/versioning/unique_check.py, found from the
index entries the merge added) against a plain-Python model: every row whose indexed
value another merged row shares, NULLs never colliding; also when the merge brings the
UNIQUE index itself (their side added it), so ours' own rows may collide."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from arbordb.engine.repo import Repo
from arbordb.engine.table import Index, Table
from arbordb.engine.versioning.artifacts import Artifacts

VALUES = st.one_of(st.none(), st.integers(0, 5))


def _rows(pairs: dict[int, int | None]) -> pa.Table:
    ids = sorted(pairs)
    return pa.table(
        {"id": pa.array(ids, pa.int64()), "u": pa.array([pairs[i] for i in ids], pa.int64())}
    )


@st.composite
def histories(draw):
    """Base rows, then each side's changes on disjoint keys (ours even, theirs odd: no
    conflicts), and whether their side is the one that adds the UNIQUE index."""
    base = draw(st.dictionaries(st.integers(0, 20), VALUES, max_size=8))
    ours = draw(st.dictionaries(st.integers(0, 10).map(lambda i: 2 * i), VALUES, max_size=5))
    theirs = draw(st.dictionaries(st.integers(0, 10).map(lambda i: 2 * i + 1), VALUES, max_size=5))
    return base, ours, theirs, draw(st.booleans())


def _unique_on(repo: Repo) -> None:
    repo.ws.put_table("t", repo.ws.table("t").add_index(Index("one_u", ("u",), unique=True)))


def _distinct(values: dict[int, int | None]) -> bool:
    present = [v for v in values.values() if v is not None]
    return len(present) == len(set(present))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(histories())
def test_merge_records_exactly_the_rows_sharing_a_unique_value(tmp_path_factory, history):
    base, ours_changes, theirs_changes, theirs_adds_the_index = history
    ours, theirs = {**base, **ours_changes}, {**base, **theirs_changes}
    # each commit satisfies the UNIQUE index it has (the base too, when it has it)
    assume(_distinct(theirs) and (theirs_adds_the_index or _distinct(ours) and _distinct(base)))
    repo = Repo(tmp_path_factory.mktemp("unique") / "r")
    try:
        repo.write("t", _rows(base), primary_key=["id"])
        if not theirs_adds_the_index:
            _unique_on(repo)
        repo.commit("base")
        repo.branch("theirs")
        repo.write("t", _rows(ours), mode="replace")
        repo.commit("ours", allow_empty=True)
        repo.checkout("theirs")
        repo.write("t", _rows(theirs), mode="replace")
        if theirs_adds_the_index:
            _unique_on(repo)
        repo.commit("theirs", allow_empty=True)
        repo.checkout("main")
        repo.merge("theirs")
        merged = {**base, **ours_changes, **theirs_changes}
        counts = Counter(v for v in merged.values() if v is not None)
        expected = {k for k, v in merged.items() if v is not None and counts[v] > 1}
        table = repo.ws.table("t")
        got = set()
        if table.artifacts is not None:
            keys, (kinds, _) = Artifacts.load(repo.ws.nodes, table.artifacts).violations.scan()
            got = {int.from_bytes(k[1:], "big") - (1 << 63) for k in keys.to_pylist()}
            assert set(kinds.to_pylist()) <= {"unique index"}
        assert got == expected
        assert {k: v for k, v in zip(*table.to_arrow().to_pydict().values(), strict=True)} == merged
    finally:
        repo.close()


def test_a_merge_checks_unique_without_reading_the_whole_table(tmp_path, monkeypatch):
    n = 20_000
    repo = Repo(tmp_path / "r")
    try:
        repo.write("t", _rows(dict(enumerate(range(n)))), primary_key=["id"])
        _unique_on(repo)
        repo.commit("base")
        repo.branch("theirs")
        repo.write("t", _rows({0: n, 2: n + 2}), mode="upsert")
        repo.commit("ours")
        repo.checkout("theirs")
        repo.write("t", _rows({1: n, 3: n + 3}), mode="upsert")  # 1 takes ours' new value of 0
        repo.commit("theirs")
        repo.checkout("main")

        def whole_table(*_args, **_kwargs):
            raise AssertionError("the merge read the whole table")

        monkeypatch.setattr(Table, "to_arrow", whole_table)
        repo.merge("theirs")
        monkeypatch.undo()
        table = repo.ws.table("t")
        keys, _ = Artifacts.load(repo.ws.nodes, table.artifacts).violations.scan()
        assert {int.from_bytes(k[1:], "big") - (1 << 63) for k in keys.to_pylist()} == {0, 1}
    finally:
        repo.close()
