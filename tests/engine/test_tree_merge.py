"""Three-way tree merge against a plain-Python cell-wise merge model.

Tiny chunking rules give trees of three or four levels from ~150 rows, and
small value domains make both sides hit the same keys and cells often.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.chunks.memory import MemoryChunkStore
from arbordb.engine.codec.key_batch import encode_keys
from arbordb.engine.errors import InvalidInput, UnsupportedType
from arbordb.engine.tree import ADDED, MODIFIED, REMOVED, NodeStore, ProllyTree
from arbordb.engine.tree.merge import merge, preview
from arbordb.engine.tree.splitter import ChunkRule

TINY_LEAF = ChunkRule(target=256, min_size=64, max_size=1024)
TINY_INTERNAL = ChunkRule(target=128, min_size=64, max_size=512)
TYPES = [pa.string(), pa.int64(), pa.float64()]
CELLS = [
    st.sampled_from(["a", "b", "c", None]),
    st.sampled_from([1, 2, 3, None]),
    st.sampled_from([0.5, 1.5, -2.0, None]),
]
ROWS = st.tuples(*CELLS)


def tiny_nodes() -> NodeStore:
    return NodeStore(MemoryChunkStore(), leaf_rule=TINY_LEAF, internal_rule=TINY_INTERNAL)


def keys_of(ids) -> pa.BinaryArray:
    return encode_keys([pa.array(list(ids), pa.int64())], [pa.int64()])


def id_of(key: bytes) -> int:
    return int.from_bytes(key[1:], "big") - (1 << 63)


def columns_of(rows: list[tuple]) -> list[pa.Array]:
    return [pa.array([r[c] for r in rows], t) for c, t in enumerate(TYPES)]


def build(nodes: NodeStore, model: dict[int, tuple]) -> ProllyTree:
    ids = sorted(model)
    return ProllyTree.build(nodes, keys_of(ids), columns_of([model[i] for i in ids]), TYPES)


def edit_to(tree: ProllyTree, old: dict[int, tuple], new: dict[int, tuple]) -> ProllyTree:
    """``tree`` (holding ``old``) edited into ``new`` with one batch."""
    ids = sorted(i for i in set(old) | set(new) if old.get(i) != new.get(i))
    rows = [new.get(i, (None, None, None)) for i in ids]
    return tree.edit(keys_of(ids), columns_of(rows), np.array([i not in new for i in ids], bool))


def contents(tree: ProllyTree) -> dict[int, tuple]:
    keys, columns = tree.scan()
    rows = zip(*(c.to_pylist() for c in columns), strict=True)
    return dict(zip(map(id_of, keys.to_pylist()), rows, strict=True))


def model_merge(base, ours, theirs, mode, side=None):
    """Expected merged rows and conflicting keys, cell by cell in pure Python.
    ``side`` ("ours" / "theirs"): the rule of every column, so nothing conflicts."""
    merged, conflicts = {}, set()
    for k in set(base) | set(ours) | set(theirs):
        b, o, t = base.get(k), ours.get(k), theirs.get(k)
        winner = o if side == "ours" else t
        if o == b:
            result = t
        elif t == b or o == t:
            result = o
        elif o is None or t is None or b is None or mode == "row":
            # delete vs modify, add/add of different rows, or row mode
            result = o if side is None else winner
            if side is None:
                conflicts.add(k)
        else:
            cells = []
            for bc, oc, tc, wc in zip(b, o, t, winner, strict=True):
                if oc != bc and tc != bc and oc != tc:
                    conflicts.add(k)
                    cells.append(wc)
                else:
                    cells.append(tc if tc != bc else oc)
            result = o if side is None and k in conflicts else tuple(cells)
            if side is not None:
                conflicts.discard(k)
        if result is not None:
            merged[k] = result
    return merged, conflicts


def one_cell_changed(draw, row: tuple, cells: list) -> tuple:
    """``row`` with one of its cells drawn anew from that column's ``cells``."""
    changed = list(row)
    c = draw(st.integers(0, len(cells) - 1))
    changed[c] = draw(cells[c])
    return tuple(changed)


@st.composite
def scenarios(draw):
    base = draw(st.dictionaries(st.integers(0, 400), ROWS, max_size=150))
    pool = sorted(base)
    hot = pool[:4]  # keys both sides are likely to edit

    def side() -> dict[int, tuple]:
        out = dict(base)
        for _ in range(draw(st.integers(0, 25))):
            kind = draw(st.sampled_from(["insert", "modify", "modify", "modify", "delete"]))
            if kind == "insert" or not pool:
                out[draw(st.integers(1000, 1012))] = draw(ROWS)
                continue
            k = draw(st.sampled_from(hot) if draw(st.booleans()) else st.sampled_from(pool))
            if kind == "delete":
                out.pop(k, None)
            elif k in out:
                out[k] = one_cell_changed(draw, out[k], CELLS)
        return out

    return base, side(), side()


@settings(max_examples=80)
@given(scenarios(), st.sampled_from(["cell", "row"]))
def test_merge_matches_model(case, mode):
    base, ours, theirs = case
    nodes = tiny_nodes()
    base_tree = build(nodes, base)
    ours_tree = edit_to(base_tree, base, ours)
    theirs_tree = build(nodes, theirs)  # a different route to a tree: same root as editing
    expected, expected_conflicts = model_merge(base, ours, theirs, mode)

    chunks_before = nodes.store.stats()["chunks"]
    seen = preview(base_tree, ours_tree, theirs_tree, mode=mode)
    assert nodes.store.stats()["chunks"] == chunks_before  # invariant (5)

    result = merge(base_tree, ours_tree, theirs_tree, mode=mode)
    assert contents(result.tree) == expected
    # invariant (2): whatever order the edits came in, the root is the model's rows' root
    assert result.tree.root == build(tiny_nodes(), expected).root
    result.tree.check()

    c = result.conflicts
    assert [id_of(k) for k in c.keys.to_pylist()] == sorted(expected_conflicts)
    assert seen.conflicts.keys.equals(c.keys) and seen.stats == result.stats
    assert result.stats.conflicts == len(expected_conflicts) and result.resolutions == []
    for i, k in enumerate(c.keys.to_pylist()):
        k = id_of(k)
        assert bool(c.base_present[i]) == (k in base)
        assert tuple(col[i].as_py() for col in c.base) == base.get(k, (None, None, None))
        assert tuple(col[i].as_py() for col in c.ours) == ours.get(k, (None, None, None))
        assert tuple(col[i].as_py() for col in c.theirs) == theirs.get(k, (None, None, None))
        assert c.our_kinds[i] == _kind(base, ours, k)
        assert c.their_kinds[i] == _kind(base, theirs, k)


@settings(max_examples=40)
@given(scenarios(), st.sampled_from(["cell", "row"]), st.sampled_from(["ours", "theirs"]))
def test_side_rules_resolve_everything_like_the_model(case, mode, side):
    base, ours, theirs = case
    nodes = tiny_nodes()
    trees = [build(nodes, m) for m in case]
    expected, _ = model_merge(base, ours, theirs, mode, side)
    result = merge(*trees, mode=mode, default_rule=side)
    assert len(result.conflicts) == 0
    assert contents(result.tree) == expected
    assert result.tree.root == build(tiny_nodes(), expected).root
    strict = preview(*trees, mode=mode)
    assert result.stats.resolved_rows == strict.stats.conflicts


def _kind(before, after, k):
    return ADDED if k not in before else REMOVED if k not in after else MODIFIED


# --- scenarios ----------------------------------------------------------------

BASE = {1: ("a", 10, 1.0), 2: ("b", 20, 2.0), 3: ("c", 30, 3.0)}


def three(ours_edits, theirs_edits, base=BASE):
    """(base, ours, theirs) trees; edits map key -> row, or None to delete."""
    nodes = tiny_nodes()
    ours = {**base, **ours_edits}
    theirs = {**base, **theirs_edits}
    ours = {k: v for k, v in ours.items() if v is not None}
    theirs = {k: v for k, v in theirs.items() if v is not None}
    return build(nodes, base), build(nodes, ours), build(nodes, theirs)


def test_one_sided_changes_apply_and_fast_forward():
    base, ours, theirs = three({3: None}, {1: ("a", 11, 1.0), 4: ("d", 40, 4.0), 2: None})
    result = merge(base, ours, theirs)
    assert contents(result.tree) == {1: ("a", 11, 1.0), 4: ("d", 40, 4.0)}
    s = result.stats
    assert (s.upserts, s.deletes, s.conflicts, s.both_changed) == (2, 1, 0, 0)
    assert merge(base, base, theirs).tree == theirs
    assert merge(base, ours, base).tree == ours
    assert merge(base, ours, ours).tree == ours


def test_identical_changes_and_delete_delete_are_clean():
    same = {1: ("z", 10, 1.0), 2: None, 5: ("new", 5, None)}
    base, ours, theirs = three(same, same)
    result = merge(base, ours, theirs)
    assert len(result.conflicts) == 0
    assert result.tree == ours
    assert (result.stats.both_changed, result.stats.upserts, result.stats.deletes) == (3, 0, 0)


def test_different_columns_merge_cell_by_cell_but_conflict_in_row_mode():
    base, ours, theirs = three({1: ("x", 10, 1.0)}, {1: ("a", 10, 9.0)})
    assert contents(merge(base, ours, theirs).tree)[1] == ("x", 10, 9.0)
    strict = merge(base, ours, theirs, mode="row")
    assert strict.tree == ours and len(strict.conflicts) == 1
    resolved = merge(base, ours, theirs, mode="row", default_rule="theirs")
    assert contents(resolved.tree)[1] == ("a", 10, 9.0)  # every changed cell from theirs
    assert sorted((c, v) for r in resolved.resolutions for _, c, _, v in r.items()) == [
        (0, "a"),
        (2, 9.0),
    ]


def test_delete_vs_modify_conflicts_both_ways():
    base, ours, theirs = three({1: None, 2: ("b", 21, 2.0)}, {1: ("a", 11, 1.0), 2: None})
    result = merge(base, ours, theirs)
    c = result.conflicts
    assert [id_of(k) for k in c.keys.to_pylist()] == [1, 2]
    assert c.our_kinds.tolist() == [REMOVED, MODIFIED]
    assert c.their_kinds.tolist() == [MODIFIED, REMOVED]
    assert c.base_present.tolist() == [True, True]
    assert [col.to_pylist() for col in c.base] == [["a", "b"], [10, 20], [1.0, 2.0]]
    assert [col.to_pylist() for col in c.ours] == [[None, "b"], [None, 21], [None, 2.0]]
    assert result.tree == ours  # invariant (3)
    # only a rule that names one side for EVERY column decides whole rows
    assert len(merge(base, ours, theirs, rules={0: "theirs", 1: "theirs"}).conflicts) == 2
    theirs_win = merge(base, ours, theirs, default_rule="theirs")
    assert contents(theirs_win.tree) == {1: ("a", 11, 1.0), 3: ("c", 30, 3.0)}
    (row_rule,) = theirs_win.resolutions
    assert row_rule.column is None and row_rule.rule == "theirs" and row_rule.values is None
    assert theirs_win.stats.resolved_rows == 2 and theirs_win.stats.resolved_cells == 0
    assert merge(base, ours, theirs, default_rule="ours").tree == ours


def test_add_add_conflicts_on_different_rows_only():
    base, ours, theirs = three({7: ("x", 1, None)}, {7: ("x", 2, None)})
    result = merge(base, ours, theirs)
    assert result.conflicts.base_present.tolist() == [False]
    assert [col.to_pylist() for col in result.conflicts.base] == [[None], [None], [None]]
    assert result.conflicts.our_kinds.tolist() == result.conflicts.their_kinds.tolist() == [ADDED]
    seen = []
    resolved = merge(base, ours, theirs, rules={1: lambda b, o, t: seen.append(b) or o + t})
    assert contents(resolved.tree)[7] == ("x", 3, None) and seen == [None]


@pytest.mark.parametrize(
    ("rule", "value"),
    [("ours", 25), ("theirs", 15), ("max", 25), ("min", 15), (lambda b, o, t: b + o + t, 60)],
)
def test_each_rule_decides_a_same_cell_conflict(rule, value):
    # both change cell 1 of row 2; ours also changes cell 0, theirs cell 2: those merge
    base, ours, theirs = three({2: ("B", 25, 2.0)}, {2: ("b", 15, 2.5)})
    assert len(merge(base, ours, theirs).conflicts) == 1
    result = merge(base, ours, theirs, rules={1: rule})
    assert len(result.conflicts) == 0
    assert contents(result.tree)[2] == ("B", value, 2.5)
    (resolution,) = result.resolutions
    name = rule if isinstance(rule, str) else "<lambda>"
    assert list(resolution.items()) == [(keys_of([2])[0].as_py(), 1, name, value)]
    s = result.stats
    assert (s.conflicts, s.resolved_rows, s.resolved_cells, s.upserts) == (0, 1, 1, 1)
    assert merge(base, ours, theirs, default_rule=rule).tree == result.tree


def test_a_row_stays_in_conflict_unless_every_conflicting_cell_has_a_rule():
    base, ours, theirs = three({1: ("x", 11, 1.0)}, {1: ("y", 12, 1.0)})
    partial = merge(base, ours, theirs, rules={1: "max"})
    assert len(partial.conflicts) == 1 and partial.resolutions == [] and partial.tree == ours
    both = merge(base, ours, theirs, rules={1: "max"}, default_rule="min")
    assert contents(both.tree)[1] == ("x", 12, 1.0)
    assert [r.column for r in both.resolutions] == [0, 1]


def test_max_min_vectorise_over_many_rows_and_types():
    n = 300
    base = {i: ("m", i, float(i)) for i in range(n)}
    ours = {i: (f"o{i % 10}", i + (i % 3), float(i) - 1) for i in range(n)}
    theirs = {i: (f"t{i % 7}", i + 1, float(i) + 1) for i in range(n)}
    nodes = tiny_nodes()
    trees = [build(nodes, m) for m in (base, ours, theirs)]
    result = merge(*trees, default_rule="max")
    want = {i: (max(ours[i][0], theirs[i][0]), i + max(i % 3, 1), float(i) + 1) for i in range(n)}
    assert contents(result.tree) == want
    assert result.stats.resolved_cells == 2 * n + sum(i % 3 == 2 for i in range(n))
    low = merge(*trees, default_rule="min")
    assert contents(low.tree)[5] == ("o5", 6, 4.0)


def test_max_on_booleans_and_nulls():
    types = [pa.bool_(), pa.int64()]
    nodes = tiny_nodes()

    def tree(flags, numbers):
        return ProllyTree.build(nodes, keys_of([1, 2]), [pa.array(flags), pa.array(numbers)], types)

    base = tree([False, True], [1, 1])
    ours, theirs = tree([True, False], [None, 5]), tree([False, None], [7, None])
    _, (flags, numbers) = merge(base, ours, theirs, default_rule="max").tree.scan()
    assert flags.to_pylist() == [True, False] and numbers.to_pylist() == [7, 5]


def test_rule_errors():
    base, ours, theirs = three({1: ("x", 11, 1.0)}, {1: ("y", 12, 1.0)})
    with pytest.raises(InvalidInput, match="unknown merge rule 'newest'"):
        merge(base, ours, theirs, default_rule="newest")
    with pytest.raises(InvalidInput, match="column 3"):
        merge(base, ours, theirs, rules={3: "ours"})
    with pytest.raises(InvalidInput, match="merge mode"):
        preview(base, ours, theirs, mode="strict")
    with pytest.raises(InvalidInput, match="not int64"):
        merge(base, ours, theirs, rules={0: "ours", 1: lambda b, o, t: "text"})
    nodes = tiny_nodes()
    lists = ProllyTree.empty(nodes, [pa.list_(pa.int64())])
    with pytest.raises(UnsupportedType, match="callable"):
        merge(lists, lists, lists, default_rule="max")
    with pytest.raises(InvalidInput, match="one value layout"):
        merge(base, ours, lists)


def test_cost_follows_the_changes_not_the_table(monkeypatch):
    nodes = tiny_nodes()
    base_rows = {i: ("r", i, float(i)) for i in range(20_000)}
    base = build(nodes, base_rows)
    assert base.height() >= 4
    ours = edit_to(base, base_rows, {**base_rows, 10: ("o", 10, 10.0), 15_000: ("o", 0, 0.0)})
    theirs = edit_to(base, base_rows, {**base_rows, 10: ("r", 10, 99.0), 19_999: ("t", 0, 0.0)})
    decoded = []
    real = nodes.decode_leaves
    monkeypatch.setattr(nodes, "decode_leaves", lambda a, t: decoded.append(len(a)) or real(a, t))
    result = merge(base, ours, theirs)
    assert sum(decoded) <= 16  # the leaves the two diffs and the edit touch, of ~2,200
    assert result.stats.upserts == 1  # the cell merge of key 10
    assert result.stats.leaves_taken == 1  # theirs' leaf of key 19,999, unread
    assert result.tree.get(keys_of([10])[0].as_py()) == ("o", 10, 99.0)
    assert result.tree.get(keys_of([19_999])[0].as_py()) == ("t", 0, 0.0)
    assert (
        result.tree.root
        == build(
            tiny_nodes(),
            {**base_rows, 10: ("o", 10, 99.0), 15_000: ("o", 0, 0.0), 19_999: ("t", 0, 0.0)},
        ).root
    )


def test_trees_without_value_columns_merge_as_key_sets():
    nodes = tiny_nodes()
    empty = ProllyTree.empty(nodes, [])
    ours = empty.edit(keys_of([1, 2]), [])
    theirs = empty.edit(keys_of([2, 3]), [])
    result = merge(empty, ours, theirs)
    assert result.tree.scan()[0].equals(keys_of([1, 2, 3]))
    assert len(result.conflicts) == 0 and result.stats.upserts == 1


VALUES = [
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([0.5, 1.5, -2.0]),
]


@st.composite
def value_edits(draw):
    """Both sides only change values, keeping every cell's size: the diff pairs
    leaves, and the merge takes theirs' leaf wherever ours never touched it."""
    base = draw(st.dictionaries(st.integers(0, 400), st.tuples(*VALUES), min_size=60, max_size=200))
    pool = sorted(base)

    def side() -> dict[int, tuple]:
        out = dict(base)
        for k in draw(st.lists(st.sampled_from(pool), max_size=8)):  # sparse: leaves pair up
            out[k] = one_cell_changed(draw, out[k], VALUES)
        return out

    return base, side(), side()


@settings(max_examples=80)
@given(value_edits())
def test_value_only_merges_take_theirs_leaves_and_match_the_model(case):
    base, ours, theirs = case
    nodes = tiny_nodes()
    base_tree = build(nodes, base)
    ours_tree, theirs_tree = edit_to(base_tree, base, ours), edit_to(base_tree, base, theirs)
    expected, expected_conflicts = model_merge(base, ours, theirs, "cell")
    result = merge(base_tree, ours_tree, theirs_tree)
    assert contents(result.tree) == expected
    assert {id_of(k) for k in result.conflicts.keys.to_pylist()} == expected_conflicts
    assert result.tree.root == build(tiny_nodes(), expected).root
    result.tree.check()
    # Values changed in place keep every leaf's bounds, so the three trees' leaves
    # pair by position; wherever theirs changed a base leaf that ours kept, the
    # merged tree holds theirs' leaf, taken whole.
    b, o, t = _leaves(base_tree), _leaves(ours_tree), _leaves(theirs_tree)
    assert len(b) == len(o) == len(t)
    taken = {t[i] for i in range(len(b)) if b[i] != t[i] and b[i] == o[i]}
    assert taken <= set(_leaves(result.tree))
    if ours_tree.root == base_tree.root:
        assert result.tree.root == theirs_tree.root  # nothing to merge into
    else:
        assert result.stats.leaves_taken == len(taken)


def _leaves(tree: ProllyTree) -> list[bytes]:
    from arbordb.engine.tree.cursor import leaf_entries

    return leaf_entries(tree.nodes, tree.root).addresses


def test_swaps_stay_when_the_batch_is_not_in_place(monkeypatch):
    """Theirs deletes a key in a leaf ours changed too (no in-place batch) and
    changes one far away that ours left alone: the far range still takes theirs'
    leaf whole, unread, and the batch then edits the swapped tree."""
    nodes = tiny_nodes()
    base_rows = {i: ("r", i, float(i)) for i in range(2_000)}
    base = build(nodes, base_rows)
    ours_rows = {**base_rows, 11: ("o", 11, 11.0)}
    theirs_rows = {**base_rows, 1_999: ("t", 0, 0.0)}
    del theirs_rows[10]
    ours, theirs = edit_to(base, base_rows, ours_rows), edit_to(base, base_rows, theirs_rows)
    far = _leaves(theirs)[-1]  # theirs' leaf of key 1,999
    assert far not in _leaves(base)
    decoded: list[bytes] = []
    real = nodes.decode_leaves
    monkeypatch.setattr(nodes, "decode_leaves", lambda a, t: decoded.extend(a) or real(a, t))
    result = merge(base, ours, theirs)
    assert far not in decoded  # taken whole, never read
    assert far in _leaves(result.tree)
    assert result.stats.leaves_taken >= 1
    expected, _ = model_merge(base_rows, ours_rows, theirs_rows, "cell")
    assert contents(result.tree) == expected
    assert result.tree.root == build(tiny_nodes(), expected).root


LABELS = st.sampled_from(["a", "bb", "ccc", "dddddd", None])


@st.composite
def sized_edits(draw):
    """Sparse edits on both sides of a base of many leaves that change cells' sizes,
    insert and delete: theirs' far ranges are swapped in while the batch elsewhere
    cannot be written in place."""
    ids = draw(st.lists(st.integers(0, 3_000), min_size=250, max_size=500, unique=True))
    base = {i: (draw(LABELS), i, float(i)) for i in ids}
    pool = sorted(base)

    def side() -> dict[int, tuple]:
        out = dict(base)
        for k in draw(st.lists(st.sampled_from(pool), max_size=12)):
            kind = draw(st.sampled_from(["label", "label", "delete", "insert"]))
            if kind == "delete":
                out.pop(k, None)
            elif kind == "insert":
                out[k * 2 + 5_001] = (draw(LABELS), 0, 0.0)
            elif k in out:
                out[k] = (draw(LABELS), *out[k][1:])
        return out

    return base, side(), side()


@settings(max_examples=40, deadline=None)
@given(sized_edits())
def test_swaps_beside_resized_rows_match_the_model(case):
    base, ours, theirs = case
    nodes = tiny_nodes()
    base_tree = build(nodes, base)
    ours_tree, theirs_tree = edit_to(base_tree, base, ours), edit_to(base_tree, base, theirs)
    expected, expected_conflicts = model_merge(base, ours, theirs, "cell")
    result = merge(base_tree, ours_tree, theirs_tree)
    assert contents(result.tree) == expected
    assert {id_of(k) for k in result.conflicts.keys.to_pylist()} == expected_conflicts
    assert result.tree.root == build(tiny_nodes(), expected).root
    result.tree.check()


def test_theirs_appending_a_leaf_past_every_base_key_merges_by_rows():
    """Theirs adds a key above every base key that lands in a leaf of its own: that
    range holds no base leaf, so there is nothing of ours to swap out (it was an
    empty run of ours' leaves, and an IndexError); its rows are merged as edits."""
    base = {k: ("a", 1, 0.5) for k in (0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 68, 393)}
    base[19] = ("c", 1, 0.5)
    ours, theirs = {**base, 0: ("b", 1, 0.5)}, {**base, 1000: ("a", 1, 0.5)}
    nodes = tiny_nodes()
    trees = [build(nodes, m) for m in (base, ours, theirs)]
    result = merge(*trees, mode="cell", default_rule="ours")
    expected = {**ours, 1000: ("a", 1, 0.5)}
    assert len(result.conflicts) == 0
    assert contents(result.tree) == expected
    assert result.tree.root == build(tiny_nodes(), expected).root
