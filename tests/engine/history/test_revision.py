"""Revision syntax: every form, every error, and AS OF TIMESTAMP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from arbordb.engine.chunks.store import RefUpdate
from arbordb.engine.errors import AmbiguousPrefix, InvalidInput, RevisionNotFound
from arbordb.engine.hash import format_address
from arbordb.engine.history import (
    Refs,
    Revision,
    RevisionKind,
    Tag,
    branch_ref,
    encode_tag,
    resolve_as_of_time,
    resolve_commit,
    resolve_revision,
    tag_ref,
    timestamp_from_datetime,
)

from .conftest import History


@pytest.fixture
def repo(h: History) -> History:
    """a - b - c - d - m - n   (main; m merges f into d)
    \\- e - f -/   (feature)     tag v1 -> b, tag v2 -> f"""
    h.chain("a", "b", "c", "d")
    h.chain("e", "f", parent="c")
    h.commit("m", "d", "f")
    h.commit("n", "m")
    refs = Refs(h.store)
    chunks, updates = {}, []
    for name, target in (("v1", "b"), ("v2", "f")):
        data = encode_tag(
            Tag(target=h.addr[target], name=name, tagger="t", email="e", timestamp=0, message="")
        )
        address = h.store.put(data)
        updates.append(RefUpdate(tag_ref(name), None, address))
    updates += [
        RefUpdate(branch_ref("main"), None, h.addr["n"]),
        RefUpdate(branch_ref("feature"), None, h.addr["f"]),
    ]
    refs.update(updates, chunks)
    return h


def name_of(repo: History, text: str, branch: str | None = "main") -> str:
    kind, address = resolve_revision(repo.loader, text, current_branch=branch)
    assert kind is RevisionKind.COMMIT
    return repo.name[address]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("main", "n"),
        ("feature", "f"),
        ("v1", "b"),
        ("v2", "f"),
        ("HEAD", "n"),
        ("head", "n"),
        ("HEAD~", "m"),
        ("HEAD~1", "m"),
        ("HEAD~0", "n"),
        ("HEAD~2", "d"),
        ("HEAD~5", "a"),
        ("main^", "m"),
        ("main^1", "m"),
        ("main^0", "n"),
        ("main^^", "d"),
        ("main~1^2", "f"),
        ("main~1^2~1", "e"),
        ("main~1^2^", "e"),
        ("main^^2~2", "c"),
        ("v2~2", "c"),
        ("feature~1^", "c"),
        ("main~10^0~0", None),
    ],
)
def test_forms(repo, text, expected):
    if expected is None:
        with pytest.raises(RevisionNotFound):
            name_of(repo, text)
    else:
        assert name_of(repo, text) == expected


def test_head_follows_current_branch(repo):
    assert name_of(repo, "HEAD", branch="feature") == "f"
    assert name_of(repo, "HEAD~2", branch="feature") == "c"


def test_hashes_and_prefixes(repo):
    c = repo.addr["c"]
    text = format_address(c)
    assert name_of(repo, text) == "c"
    assert name_of(repo, text.upper()) == "c"
    assert name_of(repo, text + "~1") == "b"
    assert name_of(repo, text[:8]) == "c"
    assert name_of(repo, text[:5] + "^") == "b"
    # a tag chunk's own hash peels to its commit
    tag_address = Refs(repo.store).tag("v1")
    assert name_of(repo, format_address(tag_address)) == "b"


def test_working_and_staged_are_markers(repo):
    for text, kind in (("WORKING", RevisionKind.WORKING), ("staged", RevisionKind.STAGED)):
        assert resolve_revision(repo.store, text, current_branch="main") == Revision(kind, None)
    assert resolve_revision(repo.store, "main", current_branch=None) == Revision(
        RevisionKind.COMMIT, repo.addr["n"]
    )
    assert resolve_commit(repo.store, "v1", current_branch=None) == repo.addr["b"]
    with pytest.raises(InvalidInput, match="a commit is needed"):
        resolve_commit(repo.store, "WORKING", current_branch="main")


def test_branch_wins_over_tag_and_prefix(repo):
    refs = Refs(repo.store)
    text = format_address(repo.addr["c"])[:6]
    refs.update(
        [
            RefUpdate(branch_ref("v1"), None, repo.addr["a"]),
            RefUpdate(branch_ref(text), None, repo.addr["a"]),
        ]
    )
    assert name_of(repo, "v1") == "a"
    assert name_of(repo, text) == "a"


@pytest.mark.parametrize(
    "text, branch, error, fragments",
    [
        ("", "main", InvalidInput, ["empty"]),
        ("~1", "main", InvalidInput, ["put a name before"]),
        ("main~x", "main", InvalidInput, ["cannot read '~x'", "~N", "^N"]),
        ("main^-1", "main", InvalidInput, ["cannot read"]),
        ("main~1 ", "main", InvalidInput, ["cannot read"]),
        ("WORKING~1", "main", InvalidInput, ["WORKING", "no parents"]),
        ("STAGED^", "main", InvalidInput, ["STAGED"]),
        ("HEAD", None, RevisionNotFound, ["HEAD needs a current branch"]),
        ("HEAD~1", "gone", RevisionNotFound, ["'gone'", "no longer exists"]),
        (
            "mian",
            "main",
            RevisionNotFound,
            [
                "'mian' not found",
                "did you mean 'main'",
                "branches: feature, main",
                "tags: v1, v2",
                "arbor log",
            ],
        ),
        ("mian~2", "main", RevisionNotFound, ["'mian~2' not found", "'mian' is no branch"]),
        ("abc", "main", RevisionNotFound, ["at least 4 characters"]),
        ("vvvvvvvv", "main", RevisionNotFound, ["no branch, tag or commit hash"]),
        ("v" * 32, "main", RevisionNotFound, ["no branch, tag or commit hash"]),
        ("HEAD~6", "main", RevisionNotFound, ["HEAD has only 5 first-parent ancestors", "~6"]),
        (
            "feature~1~9",
            "main",
            RevisionNotFound,
            ["feature~1 has only 3 first-parent ancestors", "~9"],
        ),
        ("main^2", "main", RevisionNotFound, ["main (", "only 1 parent,", "no ^2"]),
        ("main~1^3", "main", RevisionNotFound, ["main~1 (", "only 2 parents", "no ^3"]),
        ("HEAD~5^", "main", RevisionNotFound, ["HEAD~5", "only 0 parents"]),
    ],
)
def test_errors(repo, text, branch, error, fragments):
    with pytest.raises(error) as info:
        resolve_revision(repo.store, text, current_branch=branch)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_non_commit_hash_and_ambiguous_prefix(repo):
    blob = repo.store.put(b"a tree node, not a commit")
    with pytest.raises(RevisionNotFound, match="not a commit"):
        resolve_revision(repo.store, format_address(blob), current_branch="main")
    seen: set[str] = set()  # put chunks until two share a 4-character prefix (~1,300)
    i, shared = 0, None
    while shared is None:
        text = format_address(repo.store.put(b"filler %d" % i))[:4]
        shared = text if text in seen else None
        seen.add(text)
        i += 1
    with pytest.raises(AmbiguousPrefix, match=shared):
        resolve_revision(repo.store, shared, current_branch="main")


def test_as_of_time(h):
    def at(*args):
        return timestamp_from_datetime(datetime(2026, *args, tzinfo=UTC))

    h.commit("jan", ts=at(1, 1))
    h.commit("mar", "jan", ts=at(3, 1))
    h.commit("side", "jan", ts=at(2, 1))  # merged in: not on the first-parent path
    h.commit("apr", "mar", "side", ts=at(4, 1))
    h.commit("skew", "apr", ts=at(2, 15))  # a clock behind its parent
    head = h.addr["skew"]

    def resolve(*args):
        return h.name[resolve_as_of_time(h.store, head, datetime(2026, *args, tzinfo=UTC))]

    assert resolve(5, 1) == "skew"  # first commit walking back at or before t
    assert resolve(2, 15) == "skew"  # exactly at t counts
    assert resolve(2, 20) == "skew"
    assert resolve(2, 14) == "jan"  # skips apr and mar, and never sees side
    assert h.name[resolve_as_of_time(h.store, h.addr["apr"], datetime(2026, 2, 14))] == "jan"
    assert h.name[resolve_as_of_time(h.store, h.addr["apr"], datetime(2026, 3, 1))] == "mar"
    with pytest.raises(RevisionNotFound, match="first commit is from 2026-01-01") as info:
        resolve_as_of_time(h.store, head, datetime(2025, 12, 31, tzinfo=UTC))
    assert "2025-12-31" in str(info.value) and "arbor log" in str(info.value)
