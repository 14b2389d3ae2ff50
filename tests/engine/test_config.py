"""Settings (engine/config.py): scopes, precedence, the author they give, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from arbordb.engine.chunks.memory import MemoryChunkStore
from arbordb.engine.config import Config
from arbordb.engine.db import Database
from arbordb.engine.errors import InvalidInput, NotFound


@pytest.fixture(autouse=True)
def _no_author_environment(monkeypatch) -> None:
    monkeypatch.delenv("ARBOR_AUTHOR_NAME", raising=False)
    monkeypatch.delenv("ARBOR_AUTHOR_EMAIL", raising=False)


def test_local_wins_over_global_and_environment_over_both(monkeypatch) -> None:
    config = Config(MemoryChunkStore())
    config.set("user.name", "Global Name", "global")
    assert config.get("user.name") == "Global Name"
    config.set("user.name", "Local Name", "local")
    assert config.get("user.name") == "Local Name"
    assert Config(None).get("user.name") == "Global Name"  # outside a repository
    monkeypatch.setenv("ARBOR_AUTHOR_NAME", "From Env")
    assert config.get("user.name") == "From Env"


def test_author_falls_back_to_the_login() -> None:
    name, email = Config(MemoryChunkStore()).author()
    assert name and email == f"{name}@localhost"


def test_commits_are_authored_by_the_configured_user() -> None:
    db = Database.memory()
    db.config.set("user.name", "Ada Lovelace", "global")
    db.config.set("user.email", "ada@example.com", "local")
    ws = db.workspace()
    address = ws.commit("configured author", allow_empty=True)
    commit = db.loader.load(address)
    assert (commit.author, commit.email) == ("Ada Lovelace", "ada@example.com")


def test_unset_removes_all_or_nothing() -> None:
    config = Config(MemoryChunkStore())
    config.set("user.name", "A", "local")
    config.set("user.email", "a@x", "local")
    with pytest.raises(NotFound, match="user.nope"):
        config.unset(["user.name", "user.nope"], "local")
    assert config.items("local") == {"user.email": "a@x", "user.name": "A"}
    config.unset(["user.name"], "local")
    assert config.items("local") == {"user.email": "a@x"}


@pytest.mark.parametrize("name", ["User.Name", "user", "user..name", "", "user.name "])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="section.key"):
        Config(MemoryChunkStore()).set(name, "x", "local")


def test_empty_values_and_unknown_scopes_are_refused() -> None:
    config = Config(MemoryChunkStore())
    with pytest.raises(InvalidInput, match="non-empty"):
        config.set("user.name", "  ", "local")
    with pytest.raises(InvalidInput, match="scope"):
        config.set("user.name", "x", "system")
    with pytest.raises(InvalidInput, match="--global"):
        Config(None).set("user.name", "x", "local")


def test_a_damaged_global_file_is_named(tmp_path) -> None:
    path = tmp_path / "config_global.json"
    path.write_text("{not json")
    with pytest.raises(InvalidInput, match="config_global.json"):
        Config(None, global_path=path).get("user.name")


def test_author_reads_each_scope_once(monkeypatch, tmp_path) -> None:
    """user.name and user.email come from one read of the local settings and one of the
    global file (a tag or commit asks for both)."""
    store = MemoryChunkStore()
    config = Config(store, tmp_path / "config_global.json")
    config.set("user.email", "ada@example.com", "global")
    metas: list[str] = []
    real = store.get_meta
    monkeypatch.setattr(store, "get_meta", lambda key: metas.append(key) or real(key))
    files: list[str] = []
    read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda p: files.append(str(p)) or read_bytes(p))
    name, email = config.author()
    assert email == "ada@example.com" and name  # the login, for the unset name
    assert metas == ["config"]
    assert files == [str(tmp_path / "config_global.json")]
