"""``arbor remote|clone|fetch|push|pull`` and ``branch -r/-a``, as a user runs them."""

from __future__ import annotations

from tests.cli.helpers import LABELS_CSV, arbor, ok, refused


def make_repo(root):
    repo = root / "a"
    repo.mkdir()
    (root / "labels.csv").write_text(LABELS_CSV)
    ok(arbor(repo, "init"))
    ok(arbor(repo, "table", "import", "--create", "--pk", "id", "labels", str(root / "labels.csv")))
    ok(arbor(repo, "commit", "-Am", "first labels"))
    return repo


def test_push_clone_pull_round_trip(tmp_path, monkeypatch):
    a = make_repo(tmp_path)
    remote = (tmp_path / "remote").as_uri()
    ok(arbor(a, "remote", "add", "origin", remote))
    assert ok(arbor(a, "remote", "-v")) == f"origin\t{remote}\n"
    assert ok(arbor(a, "push", "-u", "origin", "main")) == "main -> main\n"
    monkeypatch.chdir(tmp_path)
    assert "Cloned" in ok(arbor(tmp_path, "clone", remote, "b"))
    b = tmp_path / "b"
    assert ok(arbor(b, "branch", "-a")) == "* main\n  remotes/origin/main\n"
    assert ok(arbor(b, "branch", "-r")) == "  remotes/origin/main\n"
    ok(arbor(a, "sql", "-q", "UPDATE labels SET label = 'lynx' WHERE id = 3"))
    ok(arbor(a, "commit", "-am", "lynx"))
    ok(arbor(a, "push"))
    ok(arbor(b, "fetch"))
    assert "lynx" in ok(
        arbor(b, "sql", "-q", "SELECT label FROM labels AS OF 'origin/main' WHERE id = 3")
    )
    assert ok(arbor(b, "pull")) == "Fast-forward\n"
    assert ok(arbor(b, "push")) == "Everything up-to-date\n"


def test_refusals_are_one_line(tmp_path, monkeypatch):
    a = make_repo(tmp_path)
    remote = (tmp_path / "remote").as_uri()
    refused(arbor(a, "push", "origin", "main"), "remote 'origin' not found")
    ok(arbor(a, "remote", "add", "origin", remote))
    refused(arbor(a, "remote", "add", "origin", remote), "already exists")
    ok(arbor(a, "push", "-u", "origin", "main"))
    monkeypatch.chdir(tmp_path)
    refused(arbor(tmp_path, "clone", (tmp_path / "none").as_uri(), "x"), "no ArborDB repository")
    assert not (tmp_path / "x").exists()
    ok(arbor(tmp_path, "clone", remote, "b"))
    b = tmp_path / "b"
    ok(arbor(b, "sql", "-q", "UPDATE labels SET label = 'theirs' WHERE id = 1"))
    ok(arbor(b, "commit", "-am", "theirs"))
    ok(arbor(b, "push"))
    ok(arbor(a, "sql", "-q", "UPDATE labels SET label = 'ours' WHERE id = 1"))
    ok(arbor(a, "commit", "-am", "ours"))
    refused(arbor(a, "push"), "fetch first")
    pulled = arbor(a, "pull")
    assert pulled.code == 1 and "CONFLICT (content): Merge conflict in labels" in pulled.out
    ok(arbor(a, "conflicts", "resolve", "--ours", "labels"))
    ok(arbor(a, "commit", "-m", "merge origin"))
    ok(arbor(a, "push"))
    ok(arbor(a, "sql", "-q", "UPDATE labels SET label = 'dirty' WHERE id = 2"))
    refused(arbor(a, "pull"), "uncommitted changes")
    assert ok(arbor(a, "remote", "gc", "origin")) == "deleted 0 leftover pack(s)\n"
    refused(arbor(a, "remote", "gc", "nope"), "remote 'nope' not found")
    ok(arbor(a, "remote", "remove", "origin"))
    assert ok(arbor(a, "branch", "-r")) == ""
