"""Commit graph: log order, ancestry, merge bases (incl. criss-cross), loader, heights."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.errors import CorruptChunk, MissingChunk
from arbordb.engine.hash import address_of
from arbordb.engine.history import (
    Commit,
    CommitLoader,
    ancestors,
    encode_commit,
    history,
    is_ancestor,
    load_commit,
    log,
    make_commit,
    merge_base,
    merge_bases,
)

from .conftest import History


def branchy(h: History) -> None:
    """a - b - c ------ m      (m = merge of c and f; f's branch made after c)
    \\- e - f -/"""
    h.chain("a", "b", "c")
    h.chain("e", "f", parent="b")
    h.commit("m", "c", "f")


def test_linear(h):
    h.chain("a", "b", "c", "d")
    d = h.addr["d"]
    assert h.names(e.address for e in log(h.store, d)) == ["d", "c", "b", "a"]
    assert h.names(e.address for e in log(h.store, d, first_parent=True)) == ["d", "c", "b", "a"]
    assert h.names(e.address for e in log(h.store, d, limit=2)) == ["d", "c"]
    assert log(h.store, d, limit=0) == []
    assert [e.commit.height for e in log(h.store, d)] == [4, 3, 2, 1]
    assert log(h.store, d)[1].commit.message == "c"
    assert is_ancestor(h.store, h.addr["a"], d)
    assert is_ancestor(h.store, d, d)
    assert not is_ancestor(h.store, d, h.addr["a"])
    assert h.name[merge_base(h.store, h.addr["b"], d)] == "b"
    assert h.name[merge_base(h.store, d, h.addr["b"])] == "b"
    assert merge_base(h.store, d, d) == d


def test_branchy_log_lists_merges_once_in_height_order(h):
    branchy(h)
    m = h.addr["m"]
    # heights: a1 b2 c3 e3 f4 m5; c and e tie at 3, e is newer
    assert h.names(e.address for e in log(h.store, m)) == ["m", "f", "e", "c", "b", "a"]
    assert h.names(e.address for e in log(h.store, m, first_parent=True)) == ["m", "c", "b", "a"]
    assert h.names(e.address for e in ancestors(h.store, h.addr["f"])) == ["f", "e", "b", "a"]


def test_equal_height_orders_newest_first(h):
    h.commit("a")
    h.commit("old", "a", ts=10**12)
    h.commit("new", "a", ts=2 * 10**12)
    h.commit("m", "old", "new")
    assert h.names(e.address for e in log(h.store, h.addr["m"])) == ["m", "new", "old", "a"]


def test_merge_base_shapes(h):
    branchy(h)
    a = h.addr
    assert h.name[merge_base(h.store, a["c"], a["f"])] == "b"
    assert h.name[merge_base(h.store, a["f"], a["c"])] == "b"
    assert h.name[merge_base(h.store, a["m"], a["f"])] == "f"
    assert h.name[merge_base(h.store, a["e"], a["m"])] == "e"
    assert h.name[merge_base(h.store, a["a"], a["f"])] == "a"
    # after the merge, new work on both sides meets at f (the merged-in tip), not b
    h.commit("m2", "m")
    h.commit("f2", "f")
    assert h.name[merge_base(h.store, a["m2"], a["f2"])] == "f"
    assert is_ancestor(h.store, a["e"], a["m2"])
    assert not is_ancestor(h.store, a["c"], a["f2"])


def test_merge_base_uneven_lengths(h):
    h.chain("base", *[f"main{i}" for i in range(30)])
    h.chain("feat0", "feat1", parent="base")
    assert h.name[merge_base(h.store, h.addr["main29"], h.addr["feat1"])] == "base"
    assert h.name[merge_base(h.store, h.addr["feat1"], h.addr["main29"])] == "base"


def test_no_common_history(h):
    h.chain("a", "b")
    h.chain("x", "y")
    assert merge_base(h.store, h.addr["b"], h.addr["y"]) is None
    assert merge_bases(h.store, h.addr["b"], h.addr["y"]) == []
    assert not is_ancestor(h.store, h.addr["a"], h.addr["y"])


def criss_cross(h: History, b_ts: int | None = None) -> None:
    """a -> b, c; d = merge(b, c); e = merge(c, b); then d2 on d and e2 on e."""
    h.commit("a")
    h.commit("b", "a", ts=b_ts)
    h.commit("c", "a")
    h.commit("d", "b", "c")
    h.commit("e", "c", "b")
    h.commit("d2", "d")
    h.commit("e2", "e")


def test_criss_cross_picks_the_newest_base_like_git(h):
    criss_cross(h)
    d2, e2 = h.addr["d2"], h.addr["e2"]
    assert h.names(merge_bases(h.store, d2, e2)) == ["c", "b"]
    assert h.name[merge_base(h.store, d2, e2)] == "c"
    assert h.name[merge_base(h.store, e2, d2)] == "c"


def test_criss_cross_timestamp_decides(h):
    criss_cross(h, b_ts=10**15)  # b is now the newest of the two
    assert h.names(merge_bases(h.store, h.addr["d2"], h.addr["e2"])) == ["b", "c"]


def test_merge_base_ignores_redundant_common_ancestors(h):
    """x is common to both and an ancestor of the best base y: only y is returned."""
    h.chain("x", "y")
    h.commit("p", "y")
    h.commit("q", "y", "x")  # also reaches x directly
    h.commit("r", "q")
    assert h.names(merge_bases(h.store, h.addr["p"], h.addr["r"])) == ["y"]


@st.composite
def dags(draw):
    n = draw(st.integers(2, 14))
    parents = [()]
    for i in range(1, n):
        if draw(st.integers(0, 9)) == 0:
            parents.append(())  # an extra root: disjoint histories happen
        else:
            k = draw(st.integers(1, min(3, i)))
            parents.append(
                tuple(draw(st.lists(st.integers(0, i - 1), min_size=k, max_size=k, unique=True)))
            )
    x = draw(st.integers(0, n - 1))
    y = draw(st.integers(0, n - 1))
    return parents, x, y


@settings(max_examples=150, deadline=None)
@given(dags())
def test_graph_matches_brute_force(case):
    parents, x, y = case
    h = History()
    for i, ps in enumerate(parents):
        h.commit(str(i), *(str(p) for p in ps))
    anc = []
    for ps in parents:
        anc.append({len(anc)}.union(*(anc[p] for p in ps)))
    common = anc[x] & anc[y]
    best = {c for c in common if not any(c in anc[d] and d != c for d in common)}
    got = merge_bases(h.loader, h.addr[str(x)], h.addr[str(y)])
    assert {int(n) for n in h.names(got)} == best
    assert len(got) == len(set(got))
    chosen = merge_base(h.loader, h.addr[str(x)], h.addr[str(y)])
    assert (chosen is None) == (not best)
    assert is_ancestor(h.loader, h.addr[str(y)], h.addr[str(x)]) == (y in anc[x])
    order = [int(n) for n in h.names(e.address for e in log(h.loader, h.addr[str(x)]))]
    assert sorted(order) == sorted(anc[x])  # every ancestor exactly once
    position = {c: i for i, c in enumerate(order)}
    assert all(position[c] < position[p] for c in order for p in parents[c])  # children first


def test_make_commit_computes_height(h):
    branchy(h)
    c = make_commit(
        h.store,
        root=b"r" * 20,
        parents=[h.addr["m"], h.addr["a"]],
        author="a",
        email="e",
        message="x",
        timestamp=5,
        metadata={"k": 1},
    )
    assert c.height == 6 and c.parents == (h.addr["m"], h.addr["a"]) and c.metadata == {"k": 1}
    before = time.time_ns() // 1000
    now = make_commit(h.store, root=b"r" * 20, parents=[], author="a", email="e", message="i")
    assert now.height == 1 and before <= now.timestamp <= time.time_ns() // 1000
    with pytest.raises(MissingChunk):
        make_commit(h.store, root=b"r" * 20, parents=[b"z" * 20], author="", email="", message="")


def test_broken_height_is_corruption(h):
    h.chain("a", "b", "c")
    liar = Commit(
        root=b"r" * 20,
        parents=(h.addr["c"],),
        author="",
        email="",
        timestamp=0,
        message="",
        height=2,
    )
    address = h.store.put(encode_commit(liar))
    with pytest.raises(CorruptChunk, match="not above its parent") as info:
        log(h.store, address)
    assert info.value.address == address
    with pytest.raises(CorruptChunk):
        merge_base(h.store, address, h.addr["a"])


def test_loader_caches_and_reports_missing(h):
    h.chain("a", "b")
    loader = CommitLoader(h.store, capacity=1)
    first = loader.load(h.addr["a"])
    assert loader.load(h.addr["a"]) is first
    loader.load(h.addr["b"])  # evicts a
    assert loader.load(h.addr["a"]) is not first
    assert load_commit(h.store, h.addr["b"]).message == "b"
    with pytest.raises(MissingChunk):
        loader.load(address_of(b"nothing"))
    with pytest.raises(MissingChunk):
        log(h.store, address_of(b"nothing"))
    not_a_commit = h.store.put(b"plain bytes")
    with pytest.raises(CorruptChunk, match="not a commit"):
        loader.load(not_a_commit)


@settings(max_examples=100, deadline=None)
@given(dags())
def test_history_index_matches_the_walk(case):
    """``history`` lists what ``ancestors`` walks, in its order, with positions; built
    in any order of heads (indexes extend their parent's), it gives the same answer."""
    parents, x, y = case
    h = History()
    for i, ps in enumerate(parents):
        h.commit(str(i), *(str(p) for p in ps))
        if i == y:
            history(h.loader, h.addr[str(i)])  # an index the later ones may extend
    for head in (h.addr[str(x)], h.addr[str(len(parents) - 1)]):
        walked = [e.address for e in ancestors(h.loader, head)]
        index = history(h.loader, head)
        assert [e.address for e in index.entries] == walked
        assert all(index.position(a) == i for i, a in enumerate(walked))
        outside = set(h.addr.values()) - set(walked)
        assert all(index.position(a) is None and index.entry(a) is None for a in outside)


def test_a_new_commit_extends_its_parents_index_with_one_read(h):
    h.chain(*[f"c{i}" for i in range(50)])
    history(h.loader, h.addr["c49"])
    h.commit("next", "c49")
    reads = []
    real = h.store.get
    h.loader._cache.clear()
    h.store.get = lambda address: reads.append(address) or real(address)
    index = history(h.loader, h.addr["next"])
    assert len(reads) == 2  # the new commit and its parent (whose height is checked)
    assert index.position(h.addr["c0"]) == 50 and len(index) == 51
