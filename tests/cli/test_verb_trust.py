"""The version verbs on the command line as a new user meets them: a merge resolved by
editing the conflicts table, reset --hard beside a fresh import, cherry-pick conflicts,
merges with nothing to do, and flags that contradict each other."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import arbor, ok, refused, snapshot


def sql(repo: Path, query: str) -> str:
    return ok(arbor(repo, "sql", "-r", "csv", "-q", query))


def diverge(repo: Path) -> None:
    """main and 'other' both relabel row 1 (a conflict); other also rescores row 2."""
    ok(arbor(repo, "branch", "other"))
    sql(repo, "UPDATE labels SET label = 'bird' WHERE id = 1")
    ok(arbor(repo, "commit", "-Am", "main: 1 is a bird"))
    ok(arbor(repo, "checkout", "other"))
    sql(
        repo,
        "UPDATE labels SET label = 'fish' WHERE id = 1; UPDATE labels SET score = 0.1 WHERE id = 2",
    )
    ok(arbor(repo, "commit", "-Am", "other: 1 is a fish"))
    ok(arbor(repo, "checkout", "main"))


def test_merge_resolved_in_the_conflicts_table_then_commit_keeps_theirs(labels):
    diverge(labels)
    assert arbor(labels, "merge", "other").code == 1
    sql(labels, "DELETE FROM dolt_conflicts_labels")
    ok(arbor(labels, "commit", "-m", "merge other"))
    rows = sql(labels, "SELECT id, label, score FROM labels AS OF 'HEAD' WHERE id IN (1, 2)")
    assert rows == "id,label,score\n1,bird,0.9\n2,dog,0.1\n"  # ours for 1, theirs' rescore of 2
    assert "nothing to commit" in ok(arbor(labels, "status"))


def test_merge_conflict_count_comes_from_the_conflicts(labels):
    diverge(labels)
    ran = arbor(labels, "merge", "other")
    assert ran.code == 1 and "Automatic merge failed; 1 conflict(s)" in ran.out


def test_reset_hard_keeps_a_fresh_import(labels):
    (labels / "more.csv").write_text("id,x\n1,a\n2,b\n")
    ok(arbor(labels, "table", "import", "--create", "--pk", "id", "more", str(labels / "more.csv")))
    sql(labels, "UPDATE labels SET label = 'x' WHERE id = 1")
    ok(arbor(labels, "reset", "--hard"))
    assert sql(labels, "SELECT count(*) AS n FROM more") == "n\n2\n"
    assert sql(labels, "SELECT label FROM labels WHERE id = 1") == "label\ncat\n"


def test_merge_of_an_ancestor_is_already_up_to_date(labels):
    ok(arbor(labels, "branch", "old"))
    sql(labels, "UPDATE labels SET label = 'x' WHERE id = 1")
    ok(arbor(labels, "commit", "-Am", "x"))
    before = snapshot(labels)
    assert ok(arbor(labels, "merge", "old")) == "Already up to date.\n"
    assert snapshot(labels) == before


def test_cherry_pick_conflicts_exit_nonzero_and_abort_restores(labels):
    diverge(labels)
    before = snapshot(labels)
    ran = arbor(labels, "cherry-pick", "other")
    assert ran.code == 1 and "conflict" in ran.out and "--abort" in ran.out
    assert "conflict:       labels" in ok(arbor(labels, "status"))
    assert ok(arbor(labels, "cherry-pick", "--abort")) == "Cherry-pick aborted.\n"
    assert snapshot(labels) == before
    refused(arbor(labels, "cherry-pick", "--abort"), "no cherry-pick to abort")
    refused(arbor(labels, "cherry-pick", "--abort", "other"), "not both", code=2)


def test_contradictory_flags_are_usage_errors(labels):
    diverge(labels)
    before = snapshot(labels)
    refused(arbor(labels, "merge", "--squash", "--no-ff", "other"), "contradict", code=2)
    refused(arbor(labels, "merge", "--abort", "--no-ff"), "--abort", code=2)
    refused(arbor(labels, "reset", "--soft", "--hard"), "one of", code=2)
    assert snapshot(labels) == before
    assert arbor(labels, "merge", "other").code == 1
    before = snapshot(labels)
    both = arbor(labels, "conflicts", "resolve", "--ours", "--theirs", "labels")
    refused(both, "exactly one", code=2)
    assert snapshot(labels) == before


def test_revert_with_conflicts_exits_nonzero(labels):
    sql(labels, "UPDATE labels SET label = 'x' WHERE id = 1")
    ok(arbor(labels, "commit", "-Am", "x"))
    sql(labels, "UPDATE labels SET label = 'y' WHERE id = 1")
    ok(arbor(labels, "commit", "-Am", "y"))
    ran = arbor(labels, "revert", "HEAD~1")  # x -> cat clashes with y
    assert ran.code == 1 and "Revert stopped with conflicts" in ran.out
    assert ok(arbor(labels, "merge", "--abort")) == "Merge aborted.\n"
    assert "nothing to commit" in ok(arbor(labels, "status"))


def test_branch_actions_that_contradict_are_usage_errors(labels):
    ok(arbor(labels, "branch", "side"))
    before = snapshot(labels)
    refused(arbor(labels, "branch", "-d", "-m", "side", "other"), "contradict", code=2)
    refused(arbor(labels, "branch", "-c", "-m", "side", "other"), "contradict", code=2)
    assert snapshot(labels) == before
