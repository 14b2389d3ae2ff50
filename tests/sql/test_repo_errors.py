"""``arbordb.Repo`` raises only ``arbordb.Error`` subclasses (issue 10 item 16), with the
original error as the cause, and a failed call changes nothing."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb


@pytest.fixture
def repo(tmp_path):
    r = arbordb.Repo(str(tmp_path / "repo"))
    r.write("labels", pa.table({"id": [1, 2], "label": ["cat", "dog"]}), primary_key=["id"])
    r.commit("first")
    yield r
    r.close()


def _signature(repo) -> tuple:
    return (
        repo.active_branch,
        tuple(repo.branches),
        tuple(e["commit_hash"] for e in repo.log()),
        tuple(repo.status()),
        repo.table("labels").to_pylist() if "labels" in repo.tables() else None,
    )


@pytest.mark.parametrize(
    ("call", "kind"),
    [
        (lambda r: r.table("missing"), arbordb.ProgrammingError),
        (lambda r: r.table("labels", as_of="nope"), arbordb.ProgrammingError),
        (lambda r: r.checkout("nope"), arbordb.ProgrammingError),
        (lambda r: r.log("HEAD~99"), arbordb.ProgrammingError),
        (lambda r: r.diff("HEAD", "nope", "labels"), arbordb.ProgrammingError),
        (lambda r: r.commit("nothing changed"), arbordb.Error),
        (lambda r: r.merge("nope"), arbordb.ProgrammingError),
        (lambda r: r.branch("main"), arbordb.ProgrammingError),
        (lambda r: r.delete_branch("main"), arbordb.Error),
        (lambda r: r.write("labels", pa.table({"id": [1]}), mode="bogus"), arbordb.Error),
        (lambda r: r.write("labels", pa.table({"id": [1], "label": ["x"]}), mode="insert"),
         arbordb.IntegrityError),
        (lambda r: r.write("labels", {"id": [1]}), arbordb.ProgrammingError),
        (lambda r: r.row_history("labels", [1], revision="nope"), arbordb.ProgrammingError),
        (lambda r: r.resolve("labels", "bogus"), arbordb.Error),
        (lambda r: r.reset("nope", hard=True), arbordb.ProgrammingError),
        (lambda r: r.config.set("not a key!!", "x"), arbordb.ProgrammingError),
    ],
)  # fmt: skip
def test_each_failure_is_an_arbordb_error(repo, call, kind):
    before = _signature(repo)
    with pytest.raises(kind) as caught:
        call(repo)
    assert not isinstance(caught.value, arbordb.InternalError), caught.value
    assert caught.value.__cause__ is not None
    assert _signature(repo) == before


def test_opening_a_missing_repository_without_create(tmp_path):
    with pytest.raises(arbordb.Error):
        arbordb.Repo(str(tmp_path / "nowhere"), create=False)
    (tmp_path / "file").write_text("not a repository")
    with pytest.raises(arbordb.Error):
        arbordb.Repo(str(tmp_path / "file"))


words = st.sampled_from(
    ["main", "HEAD", "HEAD~1", "HEAD~9", "WORKING", "STAGED", "labels", "nope", "", "^", "a..b"]
)
arguments = st.one_of(words, st.none(), st.integers(-2, 2), st.lists(words, max_size=2))
methods = st.sampled_from(
    ["table", "tables", "log", "diff", "row_history", "branch", "checkout", "tag", "merge",
     "resolve", "delete_branch", "delete_table", "reset", "commit"]
)  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(method=methods, args=st.lists(arguments, max_size=3))
def test_random_calls_raise_only_arbordb_errors(repo, method, args):
    try:
        getattr(repo, method)(*args)
    except arbordb.Error as error:
        assert not isinstance(error, arbordb.InternalError), (method, args, error)
