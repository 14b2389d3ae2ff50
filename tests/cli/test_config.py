"""``arbor config`` and ``arbor init --name --email -b``: the author a Dolt user expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import arbor, ok, refused


@pytest.fixture(autouse=True)
def _no_author_environment(monkeypatch) -> None:
    monkeypatch.delenv("ARBOR_AUTHOR_NAME", raising=False)
    monkeypatch.delenv("ARBOR_AUTHOR_EMAIL", raising=False)


def _last_author(repo: Path) -> str:
    log = ok(arbor(repo, "log", "-n", "1"))
    return next(line for line in log.splitlines() if line.startswith("Author:"))


def test_global_then_local_author_is_used_by_commits(tmp_path: Path) -> None:
    ok(arbor(tmp_path, "config", "--global", "--add", "user.name", "Ada Lovelace"))
    ok(arbor(tmp_path, "config", "--global", "--add", "user.email", "ada@example.com"))
    repo = tmp_path / "r"
    ok(arbor(tmp_path, "init", str(repo)))
    assert _last_author(repo) == "Author: Ada Lovelace <ada@example.com>"
    ok(arbor(repo, "config", "--add", "user.email", "ada@work.example"))  # local by default
    ok(arbor(repo, "sql", "-q", "CREATE TABLE t (id INT PRIMARY KEY)"))
    ok(arbor(repo, "commit", "-Am", "t"))
    assert _last_author(repo) == "Author: Ada Lovelace <ada@work.example>"
    listing = ok(arbor(repo, "config", "--list"))
    assert "user.email = ada@work.example" in listing and "user.name = Ada Lovelace" in listing
    assert ok(arbor(repo, "config", "--global", "--get", "user.email")) == "ada@example.com\n"
    assert ok(arbor(repo, "config", "--get", "user.email")) == "ada@work.example\n"


def test_init_takes_the_author_and_the_first_branch(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    ok(arbor(tmp_path, "init", str(repo), "--name", "Grace", "--email", "g@x", "-b", "trunk"))
    assert _last_author(repo) == "Author: Grace <g@x>"
    assert "trunk" in ok(arbor(repo, "branch"))
    ok(arbor(tmp_path, "config", "--global", "--add", "init.defaultbranch", "develop"))
    other = tmp_path / "o"
    ok(arbor(tmp_path, "init", str(other)))
    assert "develop" in ok(arbor(other, "status"))


def test_a_bad_first_branch_leaves_no_repository(tmp_path: Path) -> None:
    refused(arbor(tmp_path, "init", "r", "-b", "bad name"), "bad name")
    assert not (tmp_path / "r").exists()


def test_refusals(tmp_path: Path) -> None:
    refused(arbor(tmp_path, "config", "--add", "user.name", "x"), "--global", code=2)
    refused(arbor(tmp_path, "config", "--list", "--get", "user.name"), "exactly one", code=2)
    refused(arbor(tmp_path, "config", "--global", "--add", "Bad", "x"), "section.key")
    refused(arbor(tmp_path, "config", "--global", "--unset", "user.name"), "user.name")
    missing = arbor(tmp_path, "config", "--global", "--get", "user.name")
    assert missing.code == 1 and missing.out == ""
