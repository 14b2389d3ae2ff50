"""Ref names, name rules and the CAS discipline of ``Refs``."""

from __future__ import annotations

import pytest

from arbordb.engine.chunks.memory import MemoryChunkStore
from arbordb.engine.chunks.store import RefUpdate
from arbordb.engine.errors import (
    BranchNotFound,
    CommitConflict,
    CorruptChunk,
    InvalidAddress,
    InvalidInput,
    MissingChunk,
    TagNotFound,
)
from arbordb.engine.hash import address_of
from arbordb.engine.history import (
    DEFAULT_BRANCH_REF,
    Refs,
    Tag,
    WorkingSet,
    branch_ref,
    check_branch_name,
    check_tag_name,
    encode_commit,
    encode_tag,
    encode_working_set,
    make_commit,
    tag_ref,
    working_set_ref,
)
from arbordb.engine.history.refs import decode_default_branch, encode_default_branch


def chunk_of(data: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    address = address_of(data)
    return address, {address: data}


def new_commit(store, message: str, *parents: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    c = make_commit(
        store, root=b"r" * 20, parents=parents, author="a", email="e", message=message, timestamp=1
    )
    return chunk_of(encode_commit(c))


@pytest.fixture
def refs() -> Refs:
    return Refs(MemoryChunkStore())


@pytest.mark.parametrize(
    "name", ["main", "feature/x-1", "v1.0", "a.b/c_d", "ünïcode", "x" * 200, "head2", "@a", "a@b"]
)
def test_valid_names(name):
    check_branch_name(name)
    check_tag_name(name)


@pytest.mark.parametrize(
    "name, rule",
    [
        ("", "(a)"),
        ("x" * 201, "(a)"),
        ("é" * 101, "(a)"),
        ("\ud800", "(a)"),
        ("my branch", "(b, c)"),
        ("tab\there", "(b, c)"),
        ("nul\x00", "(b, c)"),
        ("del\x7f", "(b, c)"),
        ("main~1", "(b, c)"),
        ("main^", "(b, c)"),
        ("a:b", "(b, c)"),
        ("a?", "(b, c)"),
        ("a*", "(b, c)"),
        ("a[b", "(b, c)"),
        ("a\\b", "(b, c)"),
        ("a..b", "(d)"),
        ("a@{b", "(d)"),
        ("@", "(d)"),
        ("-x", "(e)"),
        ("/x", "(f)"),
        ("x/", "(f)"),
        ("a//b", "(f)"),
        (".hidden", "(g)"),
        ("a/.b", "(g)"),
        ("x.lock", "(g)"),
        ("a.lock/b", "(g)"),
        ("x.", "(g)"),
        ("HEAD", "(h)"),
        ("head", "(h)"),
        ("Working", "(h)"),
        ("STAGED", "(h)"),
        ("0123456789abcdefghijklmnopqrstuv", "(i)"),
    ],
)
def test_invalid_names_name_the_rule(name, rule):
    for check, kind in ((check_branch_name, "branch"), (check_tag_name, "tag")):
        with pytest.raises(InvalidInput) as info:
            check(name)
        message = str(info.value)
        assert f"invalid {kind} name {name!r}" in message and rule in message


def test_ref_names():
    assert branch_ref("main") == "refs/heads/main"
    assert tag_ref("v1") == "refs/tags/v1"
    assert working_set_ref("main") == "workingSets/heads/main"
    with pytest.raises(InvalidInput):
        branch_ref("a..b")
    with pytest.raises(InvalidInput, match="must be a str"):
        check_branch_name(b"main")


def test_create_read_and_list(refs):
    store = refs.store
    c1, chunks = new_commit(store, "init")
    ws = encode_working_set(WorkingSet(working=b"r" * 20, staged=b"r" * 20))
    ws_addr, ws_chunks = chunk_of(ws)
    refs.update(
        [
            RefUpdate(branch_ref("main"), None, c1),
            RefUpdate(branch_ref("dev"), None, c1),
            RefUpdate(working_set_ref("main"), None, ws_addr),
        ],
        {**chunks, **ws_chunks},
    )
    assert refs.branches() == {"dev": c1, "main": c1}
    assert list(refs.branches()) == ["dev", "main"]
    assert refs.branch_head("main") == c1
    assert refs.working_set("main") == ws_addr
    assert refs.working_set("dev") is None
    assert refs.working_sets() == {"main": ws_addr}
    t_addr, t_chunks = chunk_of(
        encode_tag(Tag(target=c1, name="v1", tagger="a", email="e", timestamp=0, message=""))
    )
    refs.update([RefUpdate(tag_ref("v1"), None, t_addr)], t_chunks)
    assert refs.tags() == {"v1": t_addr}
    assert refs.tag("v1") == t_addr
    assert refs.branches() == {"dev": c1, "main": c1}  # tags are not branches


def test_not_found_lists_close_names(refs):
    c1, chunks = new_commit(refs.store, "init")
    refs.update([RefUpdate(branch_ref(n), None, c1) for n in ("main", "dev")], chunks)
    with pytest.raises(BranchNotFound) as info:
        refs.branch_head("mian")
    assert str(info.value) == "branch 'mian' not found (did you mean 'main'? branches: dev, main)"
    assert isinstance(info.value, KeyError)
    with pytest.raises(BranchNotFound, match=r"\(branches: dev, main\)"):
        refs.branch_head("zzz")
    with pytest.raises(TagNotFound, match=r"tag 'v1' not found \(tags: none\)"):
        refs.tag("v1")


def test_cas_moves_from_the_value_read(refs):
    """Invariant (1): a ref moves only from the value the writer read."""
    store = refs.store
    c1, chunks = new_commit(store, "init")
    refs.update([RefUpdate(branch_ref("main"), None, c1)], chunks)
    c2, chunks2 = new_commit(store, "two", c1)
    c3, chunks3 = new_commit(store, "three", c1)
    # two writers read c1; the first wins, the second conflicts and writes nothing
    refs.update([RefUpdate(branch_ref("main"), c1, c2)], chunks2)
    with pytest.raises(CommitConflict, match="'refs/heads/main' changed") as info:
        refs.update([RefUpdate(branch_ref("main"), c1, c3)], chunks3)
    assert info.value.retryable
    assert refs.branch_head("main") == c2
    assert not store.has(c3)  # nothing written
    # creating an existing ref conflicts too
    with pytest.raises(CommitConflict):
        refs.update([RefUpdate(branch_ref("main"), None, c1)])
    # a batch is all or nothing: dev would be new, but main moved
    with pytest.raises(CommitConflict, match="main") as info:
        refs.update(
            [RefUpdate(branch_ref("dev"), None, c1), RefUpdate(branch_ref("main"), c1, c3)], chunks3
        )
    assert "dev" not in str(info.value)
    assert "dev" not in refs.branches()
    # delete needs the current value
    with pytest.raises(CommitConflict):
        refs.update([RefUpdate(branch_ref("main"), c1, None)])
    refs.update([RefUpdate(branch_ref("main"), c2, None)])
    assert refs.branches() == {}


def test_new_value_must_exist(refs):
    """Invariant (2): a ref never names a chunk that is not stored."""
    c1, chunks = new_commit(refs.store, "init")
    with pytest.raises(MissingChunk, match="invariant \\(2\\)"):
        refs.update([RefUpdate(branch_ref("main"), None, c1)])
    assert refs.branches() == {}
    refs.store.put(chunks[c1])  # written before the ref: fine
    refs.update([RefUpdate(branch_ref("main"), None, c1)])


def test_value_kind_and_namespace_are_checked(refs):
    store = refs.store
    c1, chunks = new_commit(store, "init")
    refs.update([RefUpdate(branch_ref("main"), None, c1)], chunks)
    ws_addr, ws_chunks = chunk_of(encode_working_set(WorkingSet(working=c1, staged=c1)))
    with pytest.raises(InvalidInput, match="must name a commit"):
        refs.update([RefUpdate(branch_ref("dev"), None, ws_addr)], ws_chunks)
    with pytest.raises(InvalidInput, match="must name a tag"):
        refs.update([RefUpdate(tag_ref("v1"), None, c1)])
    with pytest.raises(InvalidInput, match="must name a working set"):
        refs.update([RefUpdate(working_set_ref("main"), None, c1)])
    with pytest.raises(InvalidInput, match="no known namespace"):
        refs.update([RefUpdate("refs/notes/main", None, c1)])
    with pytest.raises(InvalidInput, match="must name a commit"):  # remote-tracking refs
        refs.update([RefUpdate("refs/remotes/origin/main", None, ws_addr)], ws_chunks)
    refs.update([RefUpdate("refs/remotes/origin/main", None, c1)])
    assert refs.remote_branches() == {"origin/main": c1}
    with pytest.raises(InvalidInput, match="invalid branch name"):
        refs.update([RefUpdate("refs/heads/a..b", None, c1)])
    with pytest.raises(InvalidInput, match="twice"):
        refs.update([RefUpdate(branch_ref("x"), None, c1), RefUpdate(branch_ref("x"), None, c1)])
    with pytest.raises(InvalidAddress):
        refs.update([RefUpdate(branch_ref("x"), None, b"short")])
    assert refs.branches() == {"main": c1}


def test_default_branch(refs):
    assert refs.default_branch() is None
    c1, chunks = new_commit(refs.store, "init")
    extra, update = refs.default_branch_update("main")
    refs.update([RefUpdate(branch_ref("main"), None, c1), update], {**chunks, **extra})
    assert refs.default_branch() == "main"
    stale = refs.default_branch_update("dev")
    refs.update([refs.default_branch_update("trunk")[1]], refs.default_branch_update("trunk")[0])
    assert refs.default_branch() == "trunk"
    with pytest.raises(CommitConflict):
        refs.update([stale[1]], stale[0])
    with pytest.raises(InvalidInput, match="invalid branch name"):
        refs.default_branch_update("bad name")
    with pytest.raises(InvalidInput, match="default-branch chunk"):
        refs.update([RefUpdate(DEFAULT_BRANCH_REF, refs.store.get_ref(DEFAULT_BRANCH_REF), c1)])


def test_default_branch_chunk():
    data = encode_default_branch("main")
    assert data == b"ADEF\x01main"
    assert decode_default_branch(data) == "main"
    for bad in (b"ADEF\x02main", b"ACMT\x01main", b"ADEF\x01", b"ADEF\x01a..b", b"ADEF\x01\xff"):
        with pytest.raises(CorruptChunk):
            decode_default_branch(bad)


def test_not_found_listing_is_capped(refs):
    c1, chunks = new_commit(refs.store, "init")
    refs.update([RefUpdate(branch_ref(f"b{i:02}"), None, c1) for i in range(25)], chunks)
    with pytest.raises(BranchNotFound) as info:
        refs.branch_head("zzz")
    assert str(info.value).endswith("b07, b08, b09 and 15 more)")
