"""Scenario tests of the version graph through the engine's Python API (``Repo``).

Each refusal is checked to leave the repository exactly as it was (same refs,
same working set).
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from arbordb.engine.errors import (
    AlreadyExists,
    BranchNotFound,
    DirtyWorkingSet,
    MergeInProgress,
    NoMergeInProgress,
    NothingToCommit,
    RevisionNotFound,
    TableNotFound,
    UnmergedBranch,
    UnresolvedConflicts,
)
from arbordb.engine.repo import Repo


def labels(ids, names, scores=None):
    scores = scores if scores is not None else [float(i) for i in ids]
    return pa.table(
        {"id": pa.array(ids, pa.int64()), "label": names, "score": pa.array(scores, pa.float64())}
    )


@pytest.fixture
def repo(tmp_path):
    r = Repo(tmp_path / "repo")
    r.write("labels", labels([1, 2, 3], ["cat", "dog", "bird"]), primary_key=["id"])
    r.commit("first labels")
    yield r
    r.close()


def refs_snapshot(repo: Repo) -> dict:
    return dict(repo.db.store.list_refs())


def rows(repo: Repo, as_of=None) -> dict:
    t = repo.table("labels", as_of)
    return {r["id"]: (r["label"], r["score"]) for r in t.to_pylist()}


def test_init_has_one_commit(tmp_path):
    r = Repo(tmp_path / "fresh")
    log = r.log()
    assert [e["message"] for e in log] == ["Initialize data repository"]
    assert r.branches == ["main"] and r.active_branch == "main"
    assert r.tables() == []


def test_commit_log_and_nothing_to_commit(repo):
    assert [e["message"] for e in repo.log()] == ["first labels", "Initialize data repository"]
    before = refs_snapshot(repo)
    with pytest.raises(NothingToCommit):
        repo.commit("again")
    assert refs_snapshot(repo) == before
    repo.commit("empty", allow_empty=True)
    assert repo.log()[0]["message"] == "empty"


def test_branch_checkout_keeps_uncommitted_changes_on_their_branch(repo):
    repo.branch("relabel")
    repo.checkout("relabel")
    repo.write("labels", labels([2], ["cat"]), mode="upsert")
    assert rows(repo)[2][0] == "cat"
    repo.checkout("main")
    assert rows(repo)[2][0] == "dog"
    repo.checkout("relabel")
    assert rows(repo)[2][0] == "cat"
    with pytest.raises(BranchNotFound):
        repo.checkout("nope")
    with pytest.raises(AlreadyExists):
        repo.branch("main")


def test_diff_and_as_of(repo):
    repo.write("labels", labels([1, 2, 4], ["cat", "fox", "owl"]), mode="replace")
    d = repo.diff("HEAD", "WORKING", "labels")
    got = {(r["to_id"] or r["from_id"]): r["diff_type"] for r in d.to_pylist()}
    assert got == {2: "modified", 3: "removed", 4: "added"}
    modified = [r for r in d.to_pylist() if r["diff_type"] == "modified"][0]
    assert (modified["from_label"], modified["to_label"]) == ("dog", "fox")
    repo.commit("second")
    repo.tag("v1", "HEAD~1", message="trained on this")
    assert rows(repo, "v1") == {1: ("cat", 1.0), 2: ("dog", 2.0), 3: ("bird", 3.0)}
    assert rows(repo, "HEAD~1") == rows(repo, "v1")
    assert set(rows(repo, "main")) == {1, 2, 4}
    with pytest.raises(RevisionNotFound):
        repo.table("labels", "no-such-rev")


def test_fast_forward_and_three_way_cell_merge(repo):
    repo.branch("feature")
    repo.checkout("feature")
    repo.write("labels", labels([2], ["wolf"], [2.0]), mode="upsert")
    repo.commit("feature relabels 2")
    repo.checkout("main")
    out = repo.merge("feature")
    assert out.fast_forward and rows(repo)[2] == ("wolf", 2.0)

    repo.branch("b2")
    repo.write("labels", labels([1], ["cat"], [10.0]), mode="upsert")  # main: score of 1
    repo.commit("main rescored 1")
    repo.checkout("b2")
    repo.write("labels", labels([1], ["lion"], [1.0]), mode="upsert")  # b2: label of 1
    repo.commit("b2 relabels 1")
    repo.checkout("main")
    out = repo.merge("b2")
    assert not out.fast_forward and out.conflicts == 0
    assert rows(repo)[1] == ("lion", 10.0)  # both cells merged
    head = repo.log()[0]
    assert len(head["parents"]) == 2 and head["message"].startswith("Merge branch 'b2'")


def make_conflict(repo):
    repo.branch("other")
    repo.write("labels", labels([3], ["sparrow"]), mode="upsert")
    repo.commit("main says sparrow")
    repo.checkout("other")
    repo.write("labels", labels([3], ["eagle"]), mode="upsert")
    repo.commit("other says eagle")
    repo.checkout("main")
    return repo.merge("other")


def test_conflict_is_stored_refuses_commit_and_resolves(repo):
    out = make_conflict(repo)
    assert out.conflicts == 1 and out.hash is None
    assert rows(repo)[3][0] == "sparrow"  # ours kept while in conflict
    assert ("labels", False, "conflict") in repo.status()
    before = refs_snapshot(repo)
    with pytest.raises(UnresolvedConflicts):
        repo.commit("too early")
    with pytest.raises(MergeInProgress):
        repo.merge("other")
    assert refs_snapshot(repo) == before
    repo.resolve("labels", "theirs")
    assert rows(repo)[3][0] == "eagle"
    repo.ws.commit("merged other")  # no -a: resolving staged the table
    assert len(repo.log()[0]["parents"]) == 2
    assert rows(repo, "HEAD")[3][0] == "eagle"


def test_merge_abort_restores_pre_merge_state(repo):
    before_rows = rows(repo)
    make_conflict(repo)
    repo.abort_merge()
    assert rows(repo)[3][0] == "sparrow" and set(rows(repo)) == set(before_rows)
    assert all(s[2] != "conflict" for s in repo.status())
    with pytest.raises(NoMergeInProgress):
        repo.abort_merge()


def test_delete_versus_modify_conflicts(repo):
    repo.branch("other")
    repo.write("labels", labels([1, 2], ["cat", "dog"]), mode="replace")  # main deletes 3
    repo.commit("drop bird")
    repo.checkout("other")
    repo.write("labels", labels([3], ["robin"]), mode="upsert")
    repo.commit("rename bird")
    repo.checkout("main")
    assert repo.merge("other").conflicts == 1


def test_merge_refuses_dirty_working_set_and_changes_nothing(repo):
    repo.branch("other")
    repo.write("labels", labels([9], ["new"]), mode="upsert")
    before = refs_snapshot(repo)
    with pytest.raises(DirtyWorkingSet):
        repo.merge("other")
    assert refs_snapshot(repo) == before
    assert 9 in rows(repo)


def test_merge_rules_resolve_and_are_recorded(repo):
    repo.branch("other")
    repo.write("labels", labels([2], ["dog"], [5.0]), mode="upsert")
    repo.commit("main 5")
    repo.checkout("other")
    repo.write("labels", labels([2], ["dog"], [7.0]), mode="upsert")
    repo.commit("other 7")
    repo.checkout("main")
    out = repo.merge("other", rules={"labels": {"score": "max"}})
    assert out.conflicts == 0 and rows(repo)[2] == ("dog", 7.0)
    meta = repo.db.commit(repo.ws.head).metadata
    assert meta["merge_resolutions"][0]["rule"] == "max"


def test_strict_row_mode_conflicts_on_different_columns(repo):
    repo.branch("other")
    repo.write("labels", labels([1], ["cat"], [99.0]), mode="upsert")
    repo.commit("main score")
    repo.checkout("other")
    repo.write("labels", labels([1], ["tiger"], [1.0]), mode="upsert")
    repo.commit("other label")
    repo.checkout("main")
    assert repo.merge("other", mode="row").conflicts == 1


def test_reset_revert_cherry_pick(repo):
    repo.write("labels", labels([4], ["owl"]), mode="upsert")
    repo.reset(hard=True)
    assert 4 not in rows(repo)
    repo.write("labels", labels([4], ["owl"]), mode="upsert")
    repo.commit("add owl")
    repo.ws.apply_commits([repo.ws.resolve_commit("HEAD")], revert=True)
    assert 4 not in rows(repo)
    assert repo.log()[0]["message"].startswith('Revert "add owl"')
    repo.branch("pick")
    repo.checkout("pick")
    owl = repo.ws.resolve_commit("HEAD~1")
    repo.ws.apply_commits([owl], revert=False)
    assert rows(repo)[4][0] == "owl" and repo.log()[0]["message"] == "add owl"


def test_delete_unmerged_branch_needs_force(repo):
    repo.branch("side")
    repo.checkout("side")
    repo.write("labels", labels([5], ["elk"]), mode="upsert")
    repo.commit("side work")
    repo.checkout("main")
    with pytest.raises(UnmergedBranch):
        repo.delete_branch("side")
    assert "side" in repo.branches
    repo.delete_branch("side", force=True)
    assert "side" not in repo.branches


def test_schema_changes_merge_by_tag(repo):
    from arbordb.engine.table import Column

    repo.branch("other")
    t = repo.ws.table("labels").add_column(Column("note", None, pa.string()))
    repo.ws.put_table("labels", t)
    repo.commit("main adds note")
    repo.checkout("other")
    t = repo.ws.table("labels").add_column(Column("weight", None, pa.float64()))
    repo.ws.put_table("labels", t)
    repo.commit("other adds weight")
    repo.checkout("main")
    out = repo.merge("other")
    assert out.conflicts == 0
    assert repo.table("labels").column_names == ["id", "label", "score", "note", "weight"]


def test_gc_and_fsck(repo):
    repo.write("labels", labels(list(range(100)), ["x"] * 100), mode="replace")
    repo.reset(hard=True)  # the rows written above are now garbage
    before = repo.db.store.stats()["chunks"]
    result = repo.db.gc()
    assert result["deleted"] > 0 and repo.db.store.stats()["chunks"] < before
    assert repo.db.fsck() == []
    assert rows(repo) == {1: ("cat", 1.0), 2: ("dog", 2.0), 3: ("bird", 3.0)}


def test_schema_conflict_names_table_and_column_and_resolves(repo):
    from arbordb.engine.table import Column

    repo.branch("other")
    t = repo.ws.table("labels").add_column(Column("note", None, pa.string()))
    repo.ws.put_table("labels", t)
    repo.commit("main adds note as string")
    repo.checkout("other")
    t = repo.ws.table("labels").add_column(Column("note", None, pa.int64()))
    repo.ws.put_table("labels", t)
    repo.commit("other adds note as int")
    repo.checkout("main")
    out = repo.merge("other")
    assert out.conflicts >= 1
    conflicts = repo.ws.schema_conflicts()
    assert conflicts and conflicts[0]["table"] == "labels"
    with pytest.raises(UnresolvedConflicts):
        repo.commit("not yet")
    repo.resolve("labels", "theirs")
    assert repo.ws.schema_conflicts() == []
    repo.commit("took theirs")
    assert repo.table("labels").schema.field("note").type == pa.int64()


def test_row_history_lists_each_change_of_one_row(repo):
    repo.write("labels", labels([2], ["wolf"]), mode="upsert")
    repo.commit("2 is a wolf")
    repo.write("labels", labels([3], ["owl"]), mode="upsert")  # another row only
    repo.commit("3 is an owl")
    repo.write("labels", labels([1, 3], ["cat", "owl"]), mode="replace")  # removes 2
    repo.commit("drop 2")
    history = repo.row_history("labels", [2])
    assert [h["message"] for h in history] == ["drop 2", "2 is a wolf", "first labels"]
    assert [h["row"] and h["row"]["label"] for h in history] == [None, "wolf", "dog"]
    assert repo.row_history("labels", [99]) == []
    with pytest.raises(TableNotFound):
        repo.row_history("nope", [1])


def test_row_history_costs_one_lookup_per_table_version(repo, monkeypatch):
    from arbordb.engine.table import Table

    for i in range(5):
        repo.commit(f"empty {i}", allow_empty=True)
    calls = []
    original = Table.get
    monkeypatch.setattr(Table, "get", lambda self, key: calls.append(key) or original(self, key))
    repo.row_history("labels", [1])
    assert len(calls) == 1  # six commits share one version of the table


def test_constraint_violations_only_the_merge_creates_are_recorded(repo):
    from arbordb.engine.table import Index
    from arbordb.engine.versioning.artifacts import Artifacts

    repo.ws.put_table(
        "labels", repo.ws.table("labels").add_index(Index("one_label", ("label",), unique=True))
    )
    repo.commit("labels are unique")
    repo.branch("other")
    repo.write("labels", labels([1], ["owl"]), mode="upsert")  # main: 1 -> owl
    repo.ws.put_table("labels", repo.ws.table("labels").set_nullable("score", False))
    repo.commit("main: owl, scores required")
    repo.checkout("other")
    repo.write(
        "labels", labels([2, 4], ["owl", "elk"], [2.0, None]), mode="upsert"
    )  # 2 -> owl, 4 has no score
    repo.commit("other: owl too, and a row without score")
    repo.checkout("main")
    before = refs_snapshot(repo)
    out = repo.merge("other")
    assert out.hash is None and out.message == "constraint violations found"
    table = repo.ws.table("labels")
    keys, (kinds, _) = Artifacts.load(repo.ws.nodes, table.artifacts).violations.scan()
    got = dict(
        zip(
            [int.from_bytes(k[1:], "big") - (1 << 63) for k in keys.to_pylist()],
            kinds.to_pylist(),
            strict=True,
        )
    )
    assert got == {1: "unique index", 2: "unique index", 4: "not null"}
    with pytest.raises(UnresolvedConflicts):
        repo.commit("not with violations")
    assert refs_snapshot(repo)["refs/heads/main"] == before["refs/heads/main"]
