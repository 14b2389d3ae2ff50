"""Stash, reflog, clean, commit --amend and carrying changes across checkout, on ``Repo``
(engine/stashes.py, engine/history/reflog.py, engine/clean.py, engine/checkout.py)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbordb.engine.errors import (
    CommitConflict,
    DirtyWorkingSet,
    InvalidInput,
    MergeInProgress,
    NotFound,
    TableNotFound,
)
from arbordb.engine.history.reflog import REFLOG_PREFIX, expire_updates, logged
from arbordb.engine.history.stash import StashEntry, decode_stash, encode_stash
from arbordb.engine.repo import Repo
from arbordb.engine.stashes import NothingToStash


def labels(ids, names):
    return pa.table({"id": pa.array(ids, pa.int64()), "label": names})


def rows(repo: Repo, table: str = "labels", as_of: str | None = None) -> dict:
    return {r["id"]: r["label"] for r in repo.table(table, as_of).to_pylist()}


@pytest.fixture
def repo(tmp_path):
    r = Repo(tmp_path / "repo")
    r.write("labels", labels([1, 2], ["cat", "dog"]), primary_key=["id"])
    r.commit("first labels")
    yield r
    r.close()


def refs(repo: Repo) -> dict:
    return dict(repo.db.store.list_refs())


# --- stash ---------------------------------------------------------------------------


def test_stash_saves_resets_and_pops_back(repo):
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    entry = repo.stash()
    assert entry["stash_id"] == "stash@{0}" and entry["commit_message"] == "first labels"
    assert entry["description"].startswith("WIP on refs/heads/main: ")
    assert rows(repo) == {1: "cat", 2: "dog"} and not repo.dirty
    assert [s["stash_id"] for s in repo.stash_list()] == ["stash@{0}"]
    repo.stash_pop()
    assert rows(repo) == {1: "cat", 2: "dog", 3: "owl"}
    assert repo.stash_list() == []


def test_stash_keeps_staged_tables_staged(repo):
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    repo.ws.add(["labels"])
    repo.ws.persist()
    repo.stash()
    assert repo.status() == []
    repo.stash_pop()
    assert ("labels", True, "modified") in repo.status()


def test_stashes_survive_reopening_and_gc(repo, tmp_path):
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    repo.stash()
    repo.write("labels", labels([1, 2], ["x", "y"]), mode="replace")
    repo.commit("rewrite")
    repo.reset("HEAD~1", hard=True)
    repo.close()
    again = Repo(tmp_path / "repo")
    again.db.gc()  # the stashed working root is reached only from the stash ref
    assert again.db.fsck() == []
    again.stash_pop()
    assert rows(again) == {1: "cat", 2: "dog", 3: "owl"}
    again.close()


def test_stash_list_is_newest_first_and_pop_takes_any_entry(repo):
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    repo.stash()
    repo.write("labels", labels([4], ["fox"]), mode="upsert")
    repo.stash()
    listed = repo.stash_list()
    assert [s["stash_id"] for s in listed] == ["stash@{0}", "stash@{1}"]
    repo.stash_pop("stash@{1}")
    assert rows(repo) == {1: "cat", 2: "dog", 3: "owl"}
    assert len(repo.stash_list()) == 1
    repo.stash_drop(0)
    assert repo.stash_list() == []


def test_stash_pop_on_another_branch_merges_against_its_base(repo):
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    repo.stash()
    repo.checkout("other", create=True)
    repo.write("labels", labels([1], ["lynx"]), mode="upsert")
    repo.commit("other relabels 1")
    repo.stash_pop()
    assert rows(repo) == {1: "lynx", 2: "dog", 3: "owl"}


def test_stash_pop_refuses_local_changes_to_its_tables_and_keeps_the_entry(repo):
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    repo.stash()
    repo.write("labels", labels([3], ["emu"]), mode="upsert")
    before = refs(repo), repo.ws.working.address
    with pytest.raises(DirtyWorkingSet, match="would be overwritten.*labels.*kept"):
        repo.stash_pop()
    assert (refs(repo), repo.ws.working.address) == before
    assert rows(repo)[3] == "emu" and len(repo.stash_list()) == 1


def test_stash_refusals_change_nothing(repo):
    before = refs(repo)
    with pytest.raises(NothingToStash, match="No local changes to save"):
        repo.stash()
    with pytest.raises(NotFound, match=r"stash@\{0\} does not exist"):
        repo.stash_pop()
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    repo.stash()
    before = refs(repo)
    with pytest.raises(InvalidInput, match="not a stash id"):
        repo.stash_drop("stash@1")
    with pytest.raises(NotFound, match=r"stash@\{5\} does not exist"):
        repo.stash_pop(5)
    with pytest.raises(InvalidInput, match="invalid stash name"):
        repo.stash(name="a..b")
    with pytest.raises(InvalidInput, match="at most 150 bytes"):
        repo.stash(name="s" * 151)
    assert refs(repo) == before


def test_stash_leaves_untracked_tables_unless_asked(repo):
    repo.write("scratch", labels([9], ["tmp"]), primary_key=["id"])
    with pytest.raises(NothingToStash):
        repo.stash()
    repo.stash(include_untracked=True)
    assert "scratch" not in repo.tables()
    repo.stash_pop()
    assert rows(repo, "scratch") == {9: "tmp"}


def test_stash_is_refused_during_a_merge(repo):
    repo.checkout("b", create=True)
    repo.write("labels", labels([1], ["b"]), mode="upsert")
    repo.commit("b")
    repo.checkout("main")
    repo.write("labels", labels([1], ["m"]), mode="upsert")
    repo.commit("m")
    assert repo.merge("b").conflicts
    with pytest.raises(MergeInProgress):
        repo.stash()


def test_stash_clear(repo):
    for i in (3, 4):
        repo.write("labels", labels([i], ["x"]), mode="upsert")
        repo.stash()
    assert repo.stash_clear() == 2 and repo.stash_list() == []


def test_stash_entry_round_trips_and_rejects_garbage():
    entry = StashEntry(
        timestamp=5,
        head=b"\1" * 20,
        working=b"\2" * 20,
        staged=b"\3" * 20,
        branch="x/y",
        message="m\nbody",
    )
    assert decode_stash(encode_stash(entry)) == entry
    from arbordb.engine.errors import CorruptChunk

    with pytest.raises(CorruptChunk):
        decode_stash(encode_stash(entry) + b"!")


# --- reflog ------------------------------------------------------------------------


def test_reflog_undoes_a_bad_reset_even_after_gc(repo):
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    lost = repo.commit("second")
    repo.reset("HEAD~1", hard=True)
    repo.db.gc()
    log = repo.reflog("main")
    assert [e["commit_message"] for e in log] == [
        "first labels",
        "second",
        "first labels",
        "Initialize data repository",
    ]
    assert log[1]["commit_hash"] == lost
    repo.reset(log[1]["commit_hash"], hard=True)
    assert rows(repo) == {1: "cat", 2: "dog", 3: "owl"}


def test_reflog_keeps_a_deleted_branch_and_lists_tags(repo):
    repo.branch("gone")
    repo.tag("v1")
    repo.delete_branch("gone", force=True)
    assert repo.reflog("gone")[0]["ref"] == "refs/heads/gone"
    assert repo.reflog("v1")[0]["commit_message"] == "first labels"
    assert {e["ref"] for e in repo.reflog()} == {
        "refs/heads/main",
        "refs/heads/gone",
        "refs/tags/v1",
    }
    with pytest.raises(NotFound, match="no reflog entries"):
        repo.reflog("never")


def test_reflog_records_moves_only():
    from arbordb.engine.chunks.store import RefUpdate

    a, b = b"\1" * 20, b"\2" * 20
    updates = [
        RefUpdate("refs/heads/main", a, a),  # unchanged
        RefUpdate("workingSets/heads/main", a, b),  # not logged
        RefUpdate("refs/heads/dev", a, None),  # deleted
        RefUpdate("refs/tags/v1", None, b),
    ]
    added = logged(updates)[len(updates) :]
    assert [(u.name.rpartition("/")[0], u.new) for u in added] == [
        (REFLOG_PREFIX + "refs/tags/v1", b)
    ]


def test_a_lost_race_writes_no_reflog_entry(repo, tmp_path):
    other = Repo(tmp_path / "repo")  # reads main's head now
    repo.commit("wins", allow_empty=True)
    before = refs(repo)
    with pytest.raises(CommitConflict):
        other.commit("loses", allow_empty=True)
    assert refs(repo) == before  # invariant (1): neither the move nor its entry
    assert [e["commit_message"] for e in repo.reflog("main")][:1] == ["wins"]
    other.close()


def test_gc_expires_old_reflog_entries_but_keeps_the_newest(repo):
    for i in range(4):
        repo.commit(f"empty {i}", allow_empty=True)
    store = repo.db.store
    doomed = expire_updates(store, keep=2)
    main_entries = [n for n in store.list_refs(REFLOG_PREFIX) if "/heads/main/" in n]
    assert sorted(u.name for u in doomed) == sorted(main_entries[:-2])
    assert store.commit({}, doomed)
    assert [e["commit_message"] for e in repo.reflog("main")] == ["empty 3", "empty 2"]


# --- amend, clean, checkout carrying changes ------------------------------------------


def test_commit_amend_replaces_head(repo):
    head = repo.hashof()
    parent = repo.hashof("HEAD~1")
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    amended = repo.commit("first labels, owl too", amend=True)
    assert repo.hashof("HEAD~1") == parent and amended != head
    assert repo.log()[0]["message"] == "first labels, owl too"
    assert rows(repo, as_of="HEAD")[3] == "owl"
    repo.commit(amend=True)  # no message: keep HEAD's
    assert repo.log()[0]["message"] == "first labels, owl too"
    assert head in [e["commit_hash"] for e in repo.reflog("main")]


def test_clean_removes_untracked_tables_only(repo):
    repo.write("scratch", labels([9], ["tmp"]), primary_key=["id"])
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    assert repo.clean(dry_run=True) == ["scratch"] and "scratch" in repo.tables()
    before = refs(repo)
    with pytest.raises(InvalidInput, match="'labels' is tracked"):
        repo.clean(["scratch", "labels"])
    with pytest.raises(TableNotFound):
        repo.clean(["nope"])
    assert refs(repo) == before and "scratch" in repo.tables()
    assert repo.clean() == ["scratch"]
    assert repo.tables() == ["labels"] and rows(repo)[3] == "owl"


def test_checkout_move_carries_changes_and_refuses_conflicts(repo):
    repo.branch("other")
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    repo.checkout("other", move=True)
    assert repo.active_branch == "other" and rows(repo)[3] == "owl"
    assert rows(repo, as_of="main") == {1: "cat", 2: "dog"}
    repo.commit("owl on other")
    repo.write("labels", labels([4], ["fox"]), mode="upsert")
    before = refs(repo), repo.ws.working.address
    with pytest.raises(DirtyWorkingSet, match="overwritten by checkout: labels"):
        repo.checkout("main", move=True)  # main's labels differ from other's HEAD
    assert (refs(repo), repo.ws.working.address) == before
    repo.checkout("main", force=True)  # -f discards them
    assert repo.active_branch == "main" and rows(repo) == {1: "cat", 2: "dog"}
    repo.checkout("other")
    assert 4 not in rows(repo)


def test_cherry_pick_abort_and_revert_author(repo):
    repo.checkout("b", create=True)
    repo.write("labels", labels([1], ["b"]), mode="upsert")
    repo.commit("b")
    repo.checkout("main")
    repo.write("labels", labels([1], ["m"]), mode="upsert")
    repo.commit("m")
    assert repo.cherry_pick("b").conflicts
    repo.abort_cherry_pick()
    assert rows(repo)[1] == "m" and not repo.dirty
    repo.revert("HEAD", author=("Ann", "ann@x.org"))
    assert (repo.log()[0]["committer"], repo.log()[0]["email"]) == ("Ann", "ann@x.org")


# --- stash and gc against a model -------------------------------------------------------

OPS = st.lists(
    st.sampled_from(["edit", "stash", "pop", "drop", "commit", "gc", "reset"]), max_size=12
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_stash_and_gc_never_lose_a_stashed_state(tmp_path_factory, ops):
    """Random edits, stashes, pops, commits, hard resets and gc against a model: a
    Python dict per working set and a list of stashed dicts."""
    r = Repo(tmp_path_factory.mktemp("model"))
    r.write("labels", labels([0], ["zero"]), primary_key=["id"])
    r.commit("base")
    committed, working, stack = {0: "zero"}, {0: "zero"}, []
    try:
        for step, op in enumerate(ops):
            if op == "edit":
                r.write("labels", labels([step + 1], [f"v{step}"]), mode="upsert")
                working[step + 1] = f"v{step}"
            elif op == "stash" and working != committed:
                r.stash()
                stack.insert(0, (dict(committed), dict(working)))
                working = dict(committed)
            elif op == "pop" and stack and working == committed:
                base, saved = stack.pop(0)
                r.stash_pop()
                working = {**committed, **{k: v for k, v in saved.items() if base.get(k) != v}}
            elif op == "drop" and stack:
                r.stash_drop()
                stack.pop(0)
            elif op == "commit" and working != committed:
                r.commit(f"c{step}")
                committed = dict(working)
            elif op == "gc":
                r.db.gc()
            elif op == "reset":
                r.reset(hard=True)
                working = dict(committed)
            assert rows(r) == working
            assert len(r.stash_list()) == len(stack)
        r.db.gc()
        assert r.db.fsck() == []
        while stack:  # every stash still pops to what it saved, onto its own base
            base, saved = stack.pop(0)
            r.reset(r.stash_list()[0]["hash"], hard=True)
            r.stash_pop()
            assert rows(r) == saved
            r.reset(hard=True)
    finally:
        r.close()


def test_merge_author(repo):
    repo.checkout("side", create=True)
    repo.write("labels", labels([3], ["owl"]), mode="upsert")
    repo.commit("owl")
    repo.checkout("main")
    repo.commit("main moves", allow_empty=True)
    repo.merge("side", author=("Ann", "ann@x.org"))
    head = repo.log()[0]
    assert (head["committer"], head["email"], len(head["parents"])) == ("Ann", "ann@x.org", 2)


def test_gc_drops_a_deleted_branchs_reflog_and_frees_its_data(repo):
    repo.checkout("scratch", create=True)
    repo.write("big", labels(list(range(5000)), ["x"] * 5000), primary_key=["id"])
    big = repo.commit("big")
    repo.checkout("main")
    repo.delete_branch("scratch", force=True)
    assert repo.reflog("scratch")[0]["commit_hash"] == big  # recoverable until gc
    assert repo.db.gc()["deleted"] > 0
    with pytest.raises(NotFound):
        repo.reflog("scratch")
    assert {e["ref"] for e in repo.reflog()} == {"refs/heads/main"}
