"""``arbor stash``, ``reflog``, ``clean``, ``commit --amend``, ``checkout -B / -f`` and
carrying changes, ``merge --no-edit --author``, ``revert --author`` and the status hint
after conflicts are fixed: Dolt's words, and refusals that change nothing."""

from __future__ import annotations

from tests.cli.helpers import arbor, arbor_process, ok, refused, snapshot


def sql(repo, query: str) -> str:
    return ok(arbor(repo, "sql", "-r", "csv", "-q", query))


def test_stash_push_list_pop(labels):
    sql(labels, "UPDATE labels SET label = 'fox' WHERE id = 4")
    saved = ok(arbor(labels, "stash"))
    assert saved.startswith("Saved working directory and index state WIP on refs/heads/main: ")
    assert saved.rstrip().endswith("import labels")
    assert "nothing to commit" in ok(arbor(labels, "status"))
    listed = ok(arbor(labels, "stash", "list")).splitlines()
    assert len(listed) == 1 and listed[0].startswith("stash@{0}: WIP on refs/heads/main: ")
    assert ok(arbor(labels, "stash", "pop")).startswith("Dropped refs/stash@{0} (")
    assert "fox" in sql(labels, "SELECT label FROM labels WHERE id = 4")
    assert ok(arbor(labels, "stash", "list")) == ""
    ok(arbor(labels, "reset", "--hard"))
    assert ok(arbor(labels, "stash")) == "No local changes to save\n"


def test_stash_pop_with_conflicting_local_changes_is_refused(labels):
    sql(labels, "UPDATE labels SET label = 'fox' WHERE id = 4")
    ok(arbor(labels, "stash"))
    sql(labels, "UPDATE labels SET label = 'emu' WHERE id = 4")
    before = snapshot(labels), ok(arbor(labels, "stash", "list"))
    refused(arbor(labels, "stash", "pop"), "would be overwritten", "labels", "kept")
    refused(arbor(labels, "stash", "drop", "stash@{3}"), "stash@{3} does not exist")
    refused(arbor(labels, "stash", "list", "-u"), code=2)
    assert (snapshot(labels), ok(arbor(labels, "stash", "list"))) == before


def test_stash_survives_processes_and_gc(labels):
    sql(labels, "UPDATE labels SET label = 'fox' WHERE id = 4")
    ok(arbor_process(labels, "stash", "-u"))
    ok(arbor_process(labels, "commit", "--allow-empty", "-m", "later"))
    ok(arbor_process(labels, "gc"))
    ok(arbor_process(labels, "fsck"))
    assert ok(arbor_process(labels, "stash", "pop")).startswith("Dropped refs/stash@{0}")
    assert "fox" in sql(labels, "SELECT label FROM labels WHERE id = 4")


def test_reflog_undoes_a_bad_reset(labels):
    sql(labels, "UPDATE labels SET label = 'fox' WHERE id = 4")
    ok(arbor(labels, "commit", "-am", "fox"))
    ok(arbor(labels, "reset", "--hard", "HEAD~1"))
    ok(arbor(labels, "gc"))
    lines = ok(arbor(labels, "reflog")).splitlines()
    assert lines[0].endswith("(HEAD -> main) import labels")
    lost = next(line.split()[0] for line in lines if line.endswith(" fox"))
    ok(arbor(labels, "reset", "--hard", lost))
    assert "fox" in sql(labels, "SELECT label FROM labels WHERE id = 4")
    assert ok(arbor(labels, "reflog", "main")).splitlines()[0].startswith(lost)
    refused(arbor(labels, "reflog", "nope"), "'nope' has no reflog entries")


def test_clean(labels):
    sql(labels, "CREATE TABLE scratch (x INT PRIMARY KEY)")
    assert ok(arbor(labels, "clean", "--dry-run")) == "Would remove scratch\n"
    before = snapshot(labels)
    refused(arbor(labels, "clean", "labels"), "'labels' is tracked", "checkout labels")
    assert snapshot(labels) == before
    assert ok(arbor(labels, "clean")) == "Removed scratch\n"
    assert "scratch" not in ok(arbor(labels, "ls"))


def test_commit_amend(labels):
    sql(labels, "UPDATE labels SET label = 'fox' WHERE id = 4")
    out = ok(arbor(labels, "commit", "-a", "--amend", "-m", "import labels, fox"))
    assert out.rstrip().endswith("import labels, fox")
    log = ok(arbor(labels, "log", "--oneline")).splitlines()
    assert len(log) == 2 and log[0].endswith("import labels, fox")
    assert ok(arbor(labels, "commit", "--amend")).rstrip().endswith("import labels, fox")
    refused(arbor(labels, "commit"), "needs a message", code=2)


def test_checkout_carries_changes_and_refuses_when_they_would_be_overwritten(labels):
    ok(arbor(labels, "branch", "other"))
    sql(labels, "UPDATE labels SET label = 'fox' WHERE id = 4")
    assert ok(arbor(labels, "checkout", "other")) == "Switched to branch 'other'\n"
    ok(arbor(labels, "commit", "-am", "fox on other"))
    sql(labels, "UPDATE labels SET label = 'emu' WHERE id = 4")
    before = snapshot(labels)
    refused(arbor(labels, "checkout", "main"), "overwritten by checkout: labels", "-f")
    assert snapshot(labels) == before
    ok(arbor(labels, "checkout", "-f", "main"))
    assert "bird" in sql(labels, "SELECT label FROM labels WHERE id = 4")
    assert ok(arbor(labels, "checkout", "-B", "other")) == "Switched to branch 'other'\n"
    assert "bird" in sql(labels, "SELECT label FROM labels AS OF 'other' WHERE id = 4")
    refused(arbor(labels, "checkout", "-b", "x", "-B", "y"), "contradict", code=2)


def test_merge_no_edit_author_and_revert_author(labels):
    ok(arbor(labels, "checkout", "-b", "side"))
    sql(labels, "UPDATE labels SET label = 'fox' WHERE id = 4")
    ok(arbor(labels, "commit", "-am", "fox"))
    ok(arbor(labels, "checkout", "main"))
    sql(labels, "UPDATE labels SET label = 'emu' WHERE id = 1")
    ok(arbor(labels, "commit", "-am", "emu"))
    ok(arbor(labels, "merge", "--no-edit", "--author", "Ann <ann@x.org>", "side"))
    got = sql(labels, "SELECT committer, email, message FROM dolt_log LIMIT 1")
    assert "Ann,ann@x.org,Merge branch 'side' into main" in got
    refused(arbor(labels, "merge", "--no-edit", "-m", "x", "side"), "--no-edit", code=2)
    ok(arbor(labels, "revert", "--author", "Bo <bo@x.org>", "HEAD~1"))
    assert "Bo,bo@x.org" in sql(labels, "SELECT committer, email FROM dolt_log LIMIT 1")


def test_status_says_arbor_add_once_conflicts_are_fixed_by_hand(labels):
    ok(arbor(labels, "checkout", "-b", "side"))
    sql(labels, "UPDATE labels SET label = 'fox' WHERE id = 4")
    ok(arbor(labels, "commit", "-am", "fox"))
    ok(arbor(labels, "checkout", "main"))
    sql(labels, "UPDATE labels SET label = 'emu' WHERE id = 4")
    ok(arbor(labels, "commit", "-am", "emu"))
    assert arbor(labels, "merge", "side").code == 1
    sql(labels, "DELETE FROM dolt_conflicts_labels")
    sql(labels, "UPDATE labels SET label = 'owl' WHERE id = 4")  # the resolution, by hand
    status = ok(arbor(labels, "status"))
    assert "All conflicts and constraint violations fixed but you are still merging." in status
    assert "`arbor add labels`" in status
    ok(arbor(labels, "add", "labels"))
    ok(arbor(labels, "commit", "-m", "merged"))
    assert "owl" in sql(labels, "SELECT label FROM labels WHERE id = 4")
